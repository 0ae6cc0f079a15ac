"""`kind = "opsgenie"`: incidents (or alerts) from Opsgenie's REST API.

``region = "eu"`` points the default ``api_url`` at ``api.eu.opsgenie.com``.

- **Incidents** (default): ``GET /v1/incidents``; **alerts** with
  ``use_alerts = true``: ``GET /v2/alerts``. Both are searched with
  ``query=createdAt>=<ms>``, ``sort=createdAt``, ``order=asc`` and paged by
  ``offset``/``limit`` while ``paging.next`` is present; before ``offset +
  limit`` would pass Opsgenie's cap the search starts again from the newest
  ``createdAt`` read.
- **Severity**: ``priority`` ``P1``..``P5`` -> ``sev1``..``sev5``;
  ``severity_map`` overrides. Unknown priorities are counted and skipped.
- **Status**: incidents ``open`` (open), ``resolved``/``closed`` (resolved at
  ``impactEndDate``, else ``updatedAt``; the impact began at ``impactStartDate``,
  the incident's ``started_at``); alerts ``open``/``closed`` (closed at
  ``createdAt`` + ``report.closeTime``, else ``updatedAt``). Unknown statuses
  are counted and skipped.
- **Team**: the owner team (``ownerTeam``/``ownerTeamId``, else the first team
  responder or, for incidents, the impacted service's team) mapped to the
  scorecard team whose ``opsgenie_teams`` lists its id or name. ``GET
  /v2/teams`` names the ids.
- **Service** (incidents): the first impacted service's name (``GET
  /v1/services``).
- **Explicit deployment links**: ``deployment_field`` names an
  ``extraProperties`` key; else ``deployment_link_pattern`` over the message,
  description, tags and extra properties.

Incremental like the other incident sources. Auth is ``GenieKey <key>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.sources.incidents import (
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    incident_basics,
    page_items,
)
from scorecard.sources.records import Collected, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

PAGE_LIMIT: int = 100
OFFSET_CAP: int = 20_000
"""Opsgenie refuses ``offset + limit`` above this."""
MAX_RESTARTS: Final = 1000

INCIDENT_STATUSES: Final = {"open": "open", "resolved": "resolved", "closed": "resolved"}
ALERT_STATUSES: Final = {"open": "open", "closed": "resolved"}


_Fields = Callable[
    [dict[str, Any], datetime, str],
    tuple["str | None", "str | None", "datetime | None", "str | None"],
]
"""Team, service, end and link of one Opsgenie record (incidents and alerts differ)."""


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


OPSGENIE_EU_URL: Final = "https://api.eu.opsgenie.com"
"""The API of Opsgenie's EU instance (``region = "eu"``)."""


@dataclass(frozen=True)
class OpsgenieOptions(IncidentOptions):
    """Options of a `kind = "opsgenie"` source."""

    default_api_url: ClassVar[str | None] = "https://api.opsgenie.com"

    region: Literal["us", "eu"] = "us"
    """`"us"` (default) or `"eu"`; sets the default `api_url`."""
    use_alerts: bool = False
    """Count alerts instead of incidents."""
    deployment_field: str | None = None
    """The `extraProperties` key naming the deployment."""

    @property
    def base_url(self) -> str | None:
        """``api_url``, else the region's public API."""
        if self.api_url:
            return self.api_url
        return OPSGENIE_EU_URL if self.region == "eu" else self.default_api_url


@register
class OpsgenieSource(IncidentSource[OpsgenieOptions]):
    """Opsgenie incidents (or alerts) with P1-P5 severity and owner-team mapping."""

    kind = "opsgenie"
    Options = OpsgenieOptions

    def setup(self, config: Config | None) -> None:
        self.use_alerts = self.options.use_alerts
        self.priorities = self.severity_vocabulary("Opsgenie priority")
        self.statuses = Vocabulary(
            "Opsgenie status", ALERT_STATUSES if self.use_alerts else INCIDENT_STATUSES
        )
        self.config_teams: list[tuple[str, tuple[str, ...]]] = [
            (t.name, t.opsgenie_teams) for t in (config.teams if config is not None else ())
        ]
        self.team_of: dict[str, str] = {}
        """Opsgenie team id -> scorecard team (filled once the team names are known)."""
        self.services: dict[str, tuple[str | None, str | None]] = {}
        """Service id -> (name, team id)."""

    def auth(self, token: str) -> Mapping[str, str]:
        return {"Authorization": f"GenieKey {token}"}

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.statuses, self.priorities)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: one listing page answered."""
        client = self.client()
        path = "v2/alerts" if self.use_alerts else "v1/incidents"
        async with client:
            await client.get(path, {"query": "createdAt>=0", "limit": 1}, conditional=False)
        return f"{'alerts' if self.use_alerts else 'incidents'} readable"

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        await self._teams(client, collected)
        if not self.use_alerts:
            await self._services(client, collected)
        await self._listing(client, ctx, lower, collected)

    # --- lookups ------------------------------------------------------------------------

    async def _optional(self, client: HttpClient, path: str, collected: Collected) -> Any:
        try:
            page = await client.get(path, {"limit": PAGE_LIMIT} if "services" in path else None)
        except (RateLimitExhausted, FatalSourceError):
            raise
        except SourceError as exc:
            collected.problem(f"{path} unavailable ({exc}); ids are used as they are")
            return None
        return page.data if isinstance(page.data, dict) else None

    async def _teams(self, client: HttpClient, collected: Collected) -> None:
        names: dict[str, str] = {}
        data = await self._optional(client, "v2/teams", collected)
        for team in (data or {}).get("data") or []:
            if isinstance(team, dict) and isinstance(team.get("id"), str):
                names[team["id"]] = str(team.get("name") or "")
        wanted: dict[str, str] = {}
        for team, idents in self.config_teams:
            for ident in idents:
                wanted.setdefault(ident.casefold(), team)
        for team_id, name in names.items():
            owner = wanted.get(team_id.casefold()) or wanted.get(name.casefold())
            if owner is not None:
                self.team_of[team_id] = owner
        for ident, team in wanted.items():
            self.team_of.setdefault(ident, team)  # ids (or names) used without a lookup

    async def _services(self, client: HttpClient, collected: Collected) -> None:
        offset = 0
        while True:
            try:
                page = await client.get(
                    "v1/services", {"limit": PAGE_LIMIT, "offset": offset}, conditional=False
                )
            except (RateLimitExhausted, FatalSourceError):
                raise
            except SourceError as exc:
                collected.problem(f"services unavailable ({exc}); incidents keep no service")
                return
            data = page.data if isinstance(page.data, dict) else {}
            items = data.get("data")
            if not isinstance(items, list):
                return
            for svc in items:
                if isinstance(svc, dict) and isinstance(svc.get("id"), str):
                    self.services[svc["id"]] = (svc.get("name"), svc.get("teamId"))
            paging = data.get("paging")
            if not items or not (isinstance(paging, dict) and paging.get("next")):
                return
            offset += len(items)
            if offset >= OFFSET_CAP:
                return

    # --- the listing --------------------------------------------------------------------

    async def _listing(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        path = "v2/alerts" if self.use_alerts else "v1/incidents"
        start = lower
        for _restart in range(MAX_RESTARTS):
            offset = 0
            newest: datetime | None = None
            while True:
                query = {
                    "query": f"createdAt>={_ms(start)}",
                    "offset": offset,
                    "limit": PAGE_LIMIT,
                    "sort": "createdAt",
                    "order": "asc",
                }
                ctx.progress(f"{path} from {start:%Y-%m-%d} offset {offset}")
                page = await client.get(path, query, conditional=False)
                items = page_items(page, "data", collected, f"{path} offset {offset}")
                if items is None:
                    return
                for item in items:
                    at = self._add(item, lower, ctx.until, collected)
                    if at is not None and (newest is None or at > newest):
                        newest = at
                paging = page.data.get("paging")
                if not items or not (isinstance(paging, dict) and paging.get("next")):
                    return
                offset += len(items)
                if offset + PAGE_LIMIT > OFFSET_CAP:
                    break
            if newest is None or newest <= start:
                collected.complete = False
                collected.problem(
                    f"more than {OFFSET_CAP:,} {path} records created at {start}; "
                    "the rest were not read"
                )
                return
            start = newest
        collected.complete = False
        collected.problem(f"{path}: too many restarts; stopped")

    def _add(
        self, item: Any, lower: datetime, until: datetime, collected: Collected
    ) -> datetime | None:
        if not isinstance(item, dict):
            collected.bad("record", "not an object")
            return None
        record = self.alert_record(item) if self.use_alerts else self.incident_record(item)
        what = "alert" if self.use_alerts else "incident"
        where = f"{what} {item.get('tinyId') or item.get('id') or '?'}"
        created = parse_time(item.get("createdAt"))
        if isinstance(record, str):
            collected.bad(where, record)
        elif lower <= record["created_at"] <= until:
            collected.add("incidents", record, where)
        return created

    # --- records ------------------------------------------------------------------------

    def _common(self, item: dict[str, Any]) -> tuple[str, datetime, str, str] | str:
        basics = incident_basics(item, self.statuses, "createdAt")
        if isinstance(basics, str):
            return basics
        severity = self.priorities.get(item.get("priority"))
        if severity is None:
            return f"unknown priority {item.get('priority')!r}"
        return (*basics, severity)

    def _team(self, *team_ids: Any) -> str | None:
        for team_id in team_ids:
            if isinstance(team_id, str) and team_id:
                team = self.team_of.get(team_id) or self.team_of.get(team_id.casefold())
                if team is not None:
                    return team
        return None

    def _deployment(self, item: dict[str, Any]) -> str | None:
        extra = item.get("extraProperties") or item.get("details")
        extra = extra if isinstance(extra, dict) else {}
        if self.options.deployment_field:
            value = extra.get(self.options.deployment_field)
            if isinstance(value, str) and value.strip():
                return self.linker.find(value) if self.linker else value.strip()
        return self.linker.find(
            item.get("message"), item.get("description"), item.get("tags"), extra
        )

    def incident_record(self, item: dict[str, Any]) -> dict[str, Any] | str:
        """A normalized incident from an Opsgenie incident, or why it was skipped."""
        return self._record(item, self._incident_fields)

    def alert_record(self, item: dict[str, Any]) -> dict[str, Any] | str:
        """A normalized incident from an Opsgenie alert, or why it was skipped."""
        return self._record(item, self._alert_fields)

    def _record(self, item: dict[str, Any], fields: _Fields) -> dict[str, Any] | str:
        common = self._common(item)
        if isinstance(common, str):
            return common
        ident, created, status, severity = common
        team, service, resolved, url = fields(item, created, status)
        return {
            "id": ident,
            "source": self.name,
            "team": team,
            "service": service,
            "title": item.get("message") if isinstance(item.get("message"), str) else None,
            "severity": severity,
            "created_at": created,
            "resolved_at": max(resolved, created) if resolved is not None else None,
            "deployment_id": self._deployment(item),
            "url": url,
            "started_at": parse_time(item.get("impactStartDate")),
        }

    def _incident_fields(
        self, item: dict[str, Any], created: datetime, status: str
    ) -> tuple[str | None, str | None, datetime | None, str | None]:
        """An incident's team, service (its first impacted one), end and link."""
        resolved = None
        if status == "resolved":
            resolved = parse_time(item.get("impactEndDate")) or parse_time(item.get("updatedAt"))
        services = [s for s in item.get("impactedServices") or [] if isinstance(s, str)]
        service_name, service_team = (
            self.services.get(services[0], (None, None)) if services else (None, None)
        )
        raw_links = item.get("links")
        links: dict[str, Any] = raw_links if isinstance(raw_links, dict) else {}
        url = links.get("web") if isinstance(links.get("web"), str) else None
        return self._team(item.get("ownerTeam"), service_team), service_name, resolved, url

    def _alert_fields(
        self, item: dict[str, Any], created: datetime, status: str
    ) -> tuple[str | None, str | None, datetime | None, str | None]:
        """An alert's team (owner, then team responders), no service, its close time."""
        resolved = None
        if status == "resolved":
            raw_report = item.get("report")
            report: dict[str, Any] = raw_report if isinstance(raw_report, dict) else {}
            close_ms = report.get("closeTime")
            if (
                isinstance(close_ms, (int, float))
                and not isinstance(close_ms, bool)
                and close_ms >= 0
            ):
                resolved = created + timedelta(milliseconds=close_ms)
            else:
                resolved = parse_time(item.get("updatedAt"))
        teams = [t.get("id") for t in item.get("teams") or [] if isinstance(t, dict)]
        responders = [
            r.get("id")
            for r in item.get("responders") or []
            if isinstance(r, dict) and r.get("type") == "team"
        ]
        return self._team(item.get("ownerTeamId"), *teams, *responders), None, resolved, None
