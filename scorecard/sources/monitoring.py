"""What Prometheus and Alertmanager share: their options (``url``, bearer or
basic auth, extra headers, how alert labels map to teams and severities).

Cheap to import: the config checker reads these classes through the registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from scorecard.options import HttpOptions, OptionProblem, option

__all__ = ["AlertmanagerOptions", "MonitoringOptions", "PrometheusOptions"]

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


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
