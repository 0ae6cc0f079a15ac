"""What Prometheus and Alertmanager share: their options (``url``, bearer or
basic auth, extra headers, how alert labels map to teams and severities), the
base source that sends those credentials, and matching labels to teams,
severities and stable ids.

Cheap to import: the config checker reads the options through the registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Final, Literal, TypeVar

from scorecard.options import HttpOptions, OptionProblem, option
from scorecard.sources.api import ApiSource

if TYPE_CHECKING:
    from scorecard.config.model import Config

__all__ = [
    "DEFAULT_SEVERITIES",
    "DEFAULT_SEVERITY",
    "AlertmanagerOptions",
    "MonitoringOptions",
    "MonitoringSource",
    "PrometheusOptions",
    "TeamMatcher",
    "fingerprint",
    "severity_of",
]

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")

DEFAULT_SEVERITIES: Final[Mapping[str, str]] = {
    "page": "sev1",
    "p1": "sev1",
    "critical": "sev2",
    "p2": "sev2",
    "error": "sev3",
    "high": "sev3",
    "major": "sev3",
    "p3": "sev3",
    "warning": "sev4",
    "warn": "sev4",
    "medium": "sev4",
    "p4": "sev4",
    "info": "sev5",
    "low": "sev5",
    "minor": "sev5",
    "none": "sev5",
    "p5": "sev5",
}
DEFAULT_SEVERITY: Final = "sev3"
_SEV_RE: Final = re.compile(r"^sev([1-5])$")


def _key_part(name: str) -> str:
    """A TOML key part: bare when it can be, else quoted."""
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


@dataclass(frozen=True)
class MonitoringOptions(HttpOptions):
    """Options of a Prometheus-compatible API or an Alertmanager."""

    url_key: ClassVar[str] = "url"
    kind_name: ClassVar[str] = "monitoring"
    """The kind, as the error for a missing ``url`` names it."""

    auth: Literal["bearer", "basic"] = "bearer"
    """How the token is sent: `"bearer"` (default) or `"basic"` (with `username`;
    the token is the password)."""
    username: str | None = None
    """The user name for `auth = "basic"`."""
    headers: Mapping[str, str] = option(default_factory=dict, sensitive=True)
    """Extra request headers for hosted APIs, e.g. `X-Scope-OrgID = "acme"`."""
    queries: Mapping[str, str] = option(default_factory=dict)
    """Team queries: name = PromQL, run as instant queries at the end of each sync;
    `$services` (a regex of the team's services) or `$team` runs one per team."""
    alert_incidents: bool = False
    """Count every continuous firing period of an alert (`ALERTS`) as an incident."""
    alert_teams: tuple[str, ...] = ()
    """Only these teams' alerts (default: every team)."""
    alert_severity_label: str = "severity"
    """The alert label mapped to `sev1`..`sev5` through `severity_map`."""
    alert_service_label: str = "service"
    """The alert label naming the service."""
    alert_min_minutes: float = option(0.0, low=0)
    """Alerts firing for less than this many minutes are left out."""
    severity_map: Mapping[str, str] = option(default_factory=dict, check="severity_map")
    """Severity label value -> `sev1`..`sev5` (defaults: page sev1, critical sev2,
    error sev3, warning sev4, info sev5, others sev3)."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """``url`` is written; basic auth has a user; queries have names and PromQL;
        ``alert_teams`` name configured teams."""
        if self.api_url is None:
            yield OptionProblem(
                "url",
                f"a {self.kind_name} source needs `url`",
                f'add e.g. `url = "https://{self.kind_name}.example.com"`',
            )
        if self.auth == "basic" and self.username is None:
            yield OptionProblem(
                "username",
                '`auth = "basic"` needs `username`',
                'add `username = "..."`; the password is the source\'s token',
            )
        yield from self._query_problems()
        yield from self._team_problems(team_names)

    def _query_problems(self) -> Iterator[OptionProblem]:
        for name, promql in self.queries.items():
            if not name.strip():
                yield OptionProblem(
                    "queries", "a query needs a name", 'write `"error budget burn" = "..."`'
                )
            if not promql.strip():
                yield OptionProblem(
                    f"queries.{_key_part(name)}",
                    "the PromQL expression is empty",
                    "write the query, or remove it",
                )

    def _team_problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        import difflib

        known = {t.casefold() for t in team_names}
        for name in self.alert_teams:
            if name.casefold() in known:
                continue
            close = difflib.get_close_matches(name, list(team_names), n=1, cutoff=0.6)
            hint = (
                f"did you mean `{close[0]}`?"
                if close
                else "known teams: " + ", ".join(sorted(team_names))
            )
            yield OptionProblem("alert_teams", f"no team named `{name}`", hint)


@dataclass(frozen=True)
class PrometheusOptions(MonitoringOptions):
    """Options of a `kind = "prometheus"` source (any Prometheus-compatible
    `/api/v1`: Mimir, Thanos, Grafana Cloud, ...)."""

    kind_name: ClassVar[str] = "prometheus"


@dataclass(frozen=True)
class AlertmanagerOptions(MonitoringOptions):
    """Options of a `kind = "alertmanager"` source (API v2)."""

    kind_name: ClassVar[str] = "alertmanager"


# --- labels -> teams, severities, ids -------------------------------------------------------


@dataclass(frozen=True)
class TeamMatcher:
    """Finds the team of a rollout, an alert or a query result by its labels."""

    teams: tuple[str, ...] = ()
    by_name: Mapping[str, str] = field(default_factory=dict)
    """casefolded team name -> team name"""
    by_service: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """casefolded ``name`` or ``namespace/name`` -> (team, the services entry as written)"""
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """team -> its services entries"""

    @classmethod
    def from_config(cls, config: Config | None) -> TeamMatcher:
        by_name: dict[str, str] = {}
        by_service: dict[str, tuple[str, str]] = {}
        services: dict[str, tuple[str, ...]] = {}
        teams: list[str] = []
        for team in config.teams if config is not None else ():
            teams.append(team.name)
            by_name[team.name.casefold()] = team.name
            services[team.name] = tuple(team.services)
            for entry in team.services:
                by_service.setdefault(entry.casefold(), (team.name, entry))
        return cls(tuple(teams), by_name, by_service, services)

    def workload(self, namespace: str | None, name: str | None) -> tuple[str, str] | None:
        """(team, service entry) for a workload, by ``namespace/name`` first, then ``name``."""
        if not name:
            return None
        if namespace:
            found = self.by_service.get(f"{namespace}/{name}".casefold())
            if found is not None:
                return found
        return self.by_service.get(name.casefold())

    def labels(
        self, labels: Mapping[str, str], service_label: str = "service"
    ) -> tuple[str | None, str | None]:
        """(team, service) of a labelled series: its ``team`` label naming a configured
        team wins, then its service label (with ``namespace``) owned by a team. The
        service is the matching ``services`` entry, else the label's value."""
        raw_service = labels.get(service_label) or None
        found = self.workload(labels.get("namespace"), raw_service)
        team = self.by_name.get((labels.get("team") or "").casefold())
        if team is not None:
            return team, found[1] if found is not None and found[0] == team else raw_service
        if found is not None:
            return found
        return None, raw_service


def severity_of(value: str | None, overrides: Mapping[str, str] | None = None) -> str:
    """``sev1..sev5`` for an alert's severity label value."""
    text = (value or "").strip().casefold()
    for key, sev in (overrides or {}).items():
        if key.casefold() == text:
            return sev
    if _SEV_RE.match(text):
        return text
    return DEFAULT_SEVERITIES.get(text, DEFAULT_SEVERITY)


def fingerprint(labels: Mapping[str, str]) -> str:
    """A short stable id for a label set."""
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# --- the source ---------------------------------------------------------------------------

MonitoringOptionsT = TypeVar("MonitoringOptionsT", bound=MonitoringOptions)


class MonitoringSource(ApiSource[MonitoringOptionsT]):
    """A Prometheus-compatible API or an Alertmanager: bearer or basic auth plus
    configured headers, and alert labels read the configured way."""

    def setup(self, config: Config | None) -> None:
        self.matcher = TeamMatcher.from_config(config)
        self.severity_label = self.options.alert_severity_label or "severity"
        self.service_label = self.options.alert_service_label or "service"
        self.min_minutes = float(self.options.alert_min_minutes)
        self.severity_map: dict[str, str] = dict(self.options.severity_map)
        self.alert_teams = {t.casefold() for t in self.options.alert_teams}

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """``auth`` bearer|basic with the token, plus the configured ``headers``; every
        secret value (the basic pair, long header values) is redacted from messages."""
        headers: dict[str, str] = {}
        secrets: list[str] = []
        if token:
            secrets.append(token)
            if self.options.auth == "basic":
                user = self.options.username or ""
                pair = base64.b64encode(f"{user}:{token}".encode()).decode()
                headers["Authorization"] = f"Basic {pair}"
                secrets.append(pair)
            else:
                headers["Authorization"] = f"Bearer {token}"
        for name, value in self.options.headers.items():
            headers[str(name)] = str(value)
            if len(str(value)) >= 6:
                secrets.append(str(value))
        return headers, secrets

    def team_wanted(self, team: str | None) -> bool:
        """Whether alerts of ``team`` count (``alert_teams``, when set, limits them)."""
        return not self.alert_teams or (team or "").casefold() in self.alert_teams
