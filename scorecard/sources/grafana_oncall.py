"""`kind = "grafana-oncall"`: alert groups from Grafana OnCall (Grafana IRM) as incidents.

Teams paged through Grafana OnCall often have no other incident record: the
alert groups are where their failures show.

- **Listing**: ``GET /api/v1/alert_groups/`` filtered to the sync range with
  ``started_at=<from>_<to>``, paged by following the body's ``next`` URL (the
  API's page-number pagination). ``integrations`` limits the listing to those
  integrations (by name; ``integration_id`` per request).
- **Lookups**: ``GET /api/v1/teams/`` and ``GET /api/v1/integrations/`` name the
  alert group's team and integration.
- **Severity**: the alert group's label named ``severity_label`` (default
  ``severity``): ``critical`` -> ``sev1``, ``high`` -> ``sev2``, ``warning`` ->
  ``sev3``, ``low`` -> ``sev4``, ``info`` -> ``sev5`` (and ``P1``..``P5``,
  ``sev1``..``sev5``); ``severity_map`` overrides. A group without the label
  takes ``default_severity``; an unknown label value is counted and the group
  skipped (``"skip"``: unlabelled groups are skipped too).
- **Status**: ``new`` and ``acknowledged`` are open, ``resolved`` is resolved at
  ``resolved_at``; ``silenced`` groups are left out (counted). ``status_map``
  overrides; unknown states are counted and skipped.
- **Team**: the OnCall team's name through ``team_map`` (else the scorecard team
  of that name). **Service**: the ``service`` label, else the integration's name.
- **Explicit deployment links**: the label named ``deployment_label``, else
  ``deployment_link_pattern`` over the title and labels.

Grafana Incident's API (RPC over POST) is not read. Incremental like the other
incident sources. Auth is ``Authorization: <token>`` (an OnCall API key, or a
Grafana service account token with ``grafana_url`` sent as ``X-Grafana-Url``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import (
    STATUS_WORDS,
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    incident_basics,
    mapping_problems,
    named_teams,
    page_items,
)
from scorecard.sources.paginate import paginate_body_next
from scorecard.sources.records import Collected, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

ALERT_GROUPS: Final = "api/v1/alert_groups/"
STATES: Final = {
    "new": "open",
    "acknowledged": "open",
    "resolved": "resolved",
    "silenced": "excluded",
}
SEVERITIES: Final = {
    **{f"sev{n}": f"sev{n}" for n in range(1, 6)},
    **{f"p{n}": f"sev{n}" for n in range(1, 6)},
    "critical": "sev1",
    "high": "sev2",
    "major": "sev2",
    "error": "sev2",
    "warning": "sev3",
    "medium": "sev3",
    "minor": "sev4",
    "low": "sev4",
    "info": "sev5",
}


@dataclass(frozen=True)
class GrafanaOnCallOptions(IncidentOptions):
    """Options of a `kind = "grafana-oncall"` source."""

    api_url: str | None = option(
        None,
        check="url",
        required=True,
        example='"https://oncall-prod-us-central-0.grafana.net/oncall"',
    )
    """The OnCall API URL (Grafana: OnCall > Settings > API URL), without `/api/v1`."""
    grafana_url: str | None = option(None, check="url")
    """The Grafana stack's URL, sent as `X-Grafana-Url` (needed with a Grafana service
    account token)."""
    integrations: tuple[str, ...] = ()
    """Only alert groups of these integrations (names; default: all)."""
    team_map: Mapping[str, str] = option(default_factory=dict)
    """OnCall team name -> scorecard team (default: the team of the same name)."""
    status_map: Mapping[str, str] = option(default_factory=dict)
    """Alert group state -> `open`, `resolved` or `excluded`, over the built-in table."""
    severity_label: str = "severity"
    """The alert group label whose value is the severity."""
    default_severity: Literal["sev1", "sev2", "sev3", "sev4", "sev5", "skip"] = "sev3"
    """The severity of alert groups without `severity_label`; `"skip"` leaves them out
    (counted as skipped)."""
    deployment_label: str | None = None
    """The alert group label naming the deployment that caused it."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        yield from mapping_problems("team_map", self.team_map, team_names, "team")
        yield from mapping_problems("status_map", self.status_map, STATUS_WORDS, "status")


def labels_of(item: Mapping[str, Any]) -> dict[str, str]:
    """An alert group's labels as ``name -> value`` (keys casefolded)."""
    out: dict[str, str] = {}
    for label in item.get("labels") or []:
        if not isinstance(label, dict):
            continue
        key, val = label.get("key"), label.get("value")
        name = key.get("name") if isinstance(key, dict) else key
        text = val.get("name") if isinstance(val, dict) else val
        if isinstance(name, str) and isinstance(text, str) and text:
            out[name.casefold()] = text
    return out


@register
class GrafanaOnCallSource(IncidentSource[GrafanaOnCallOptions]):
    """Grafana OnCall alert groups with their integrations, teams and labels."""

    kind = "grafana-oncall"
    Options = GrafanaOnCallOptions

    def setup(self, config: Config | None) -> None:
        self.teams = named_teams(config, self.options.team_map)
        self.states = Vocabulary("Grafana OnCall state", {**STATES, **self.options.status_map})
        self.severities = self.severity_vocabulary("Grafana OnCall severity", SEVERITIES)
        self.team_names: dict[str, str] = {}
        """OnCall team id -> name."""
        self.integration_names: dict[str, str] = {}
        """Integration id -> name."""

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """The token as it is (OnCall takes no scheme), and the Grafana stack's URL."""
        headers = {"Authorization": token} if token else {}
        if self.options.grafana_url:
            headers["X-Grafana-Url"] = self.options.grafana_url
        return headers, [token] if token else []

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.states, self.severities)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: integrations and alert groups read."""
        client = self.client()
        async with client:
            page = await client.get("api/v1/integrations/", conditional=False)
            await client.get(ALERT_GROUPS, conditional=False)
        data = page.data if isinstance(page.data, dict) else {}
        return f"alert groups readable, {data.get('count', '?')} integrations"

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        self.team_names = await self.names(client, "api/v1/teams/", collected)
        self.integration_names = await self.names(client, "api/v1/integrations/", collected)
        span = f"{lower:%Y-%m-%dT%H:%M:%S}_{ctx.until:%Y-%m-%dT%H:%M:%S}"
        integrations: list[str | None] = [*self.integration_ids(collected)] or [None]
        for integration in integrations:
            params = {"started_at": span}
            if integration is not None:
                params["integration_id"] = integration
            await self.listing(client, ctx, params, collected)

    def integration_ids(self, collected: Collected) -> list[str]:
        """The ids of the configured ``integrations`` (each unknown name is a problem)."""
        by_name = {name.casefold(): ident for ident, name in self.integration_names.items()}
        out = []
        for name in self.options.integrations:
            ident = by_name.get(name.casefold())
            if ident is None:
                collected.problem(f"no Grafana OnCall integration named {name!r}")
            else:
                out.append(ident)
        if self.options.integrations and not out:
            collected.complete = False
        return out

    async def names(self, client: HttpClient, path: str, collected: Collected) -> dict[str, str]:
        """``id -> name`` of a lookup listing (empty, with a problem, if unavailable)."""
        out: dict[str, str] = {}
        try:
            async for page in paginate_body_next(client, path):
                for item in page_items(page, "results", collected, path) or []:
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        out[item["id"]] = str(item.get("name") or "")
        except (RateLimitExhausted, FatalSourceError):
            raise
        except SourceError as exc:
            collected.problem(f"{path} unavailable ({exc}); ids are used as they are")
        return out

    async def listing(
        self, client: HttpClient, ctx: FetchContext, params: dict[str, str], collected: Collected
    ) -> None:
        pages = 0
        async for page in paginate_body_next(client, ALERT_GROUPS, params):
            pages += 1
            ctx.progress(f"alert groups page {pages}")
            items = page_items(page, "results", collected, f"alert groups page {pages}")
            if items is None:
                return
            for item in items:
                where = f"alert group {item.get('id', '?') if isinstance(item, dict) else '?'}"
                record = self.record(item) if isinstance(item, dict) else "not an object"
                if record is None:
                    collected.excluded += 1
                elif isinstance(record, str):
                    collected.bad(where, record)
                else:
                    collected.add("incidents", record, where)

    def severity(self, labels: Mapping[str, str]) -> str | None:
        """The severity label's ``sevN`` (None when unknown), else ``default_severity``."""
        word = labels.get(self.options.severity_label.casefold())
        if word:
            return self.severities.get(word)
        default = self.options.default_severity
        return None if default == "skip" else default

    def record(self, item: Mapping[str, Any]) -> dict[str, Any] | str | None:
        """A normalized incident; None when left out (silenced); a reason when skipped."""
        basics = incident_basics({**item, "status": item.get("state")}, self.states, "created_at")
        if isinstance(basics, str):
            return basics
        ident, created, status = basics
        if status == "excluded":
            return None
        labels = labels_of(item)
        severity = self.severity(labels)
        if severity is None:
            word = labels.get(self.options.severity_label.casefold())
            return f"unknown severity {word!r}" if word else "no severity label"
        resolved = parse_time(item.get("resolved_at")) if status == "resolved" else None
        team_name = self.team_names.get(str(item.get("team_id")), str(item.get("team_id")))
        integration = self.integration_names.get(str(item.get("integration_id") or ""))
        links = item.get("permalinks")
        url = links.get("web") if isinstance(links, dict) else None
        title = item.get("title")
        return {
            "id": ident,
            "source": self.name,
            "team": self.teams.get(team_name.casefold()),
            "service": labels.get("service") or integration,
            "title": title if isinstance(title, str) else None,
            "severity": severity,
            "created_at": created,
            "resolved_at": max(resolved, created) if resolved is not None else None,
            "deployment_id": self.deployment_of(item, labels),
            "url": url if isinstance(url, str) else None,
        }

    def deployment_of(self, item: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
        """The ``deployment_label``'s value (through the pattern, when set), else what
        ``deployment_link_pattern`` finds in the title and labels."""
        label = self.options.deployment_label
        named = labels.get(label.casefold()) if label else None
        if named:
            return (self.linker.find(named) if self.linker else None) or named
        return self.linker.find(item.get("title"), dict(labels))
