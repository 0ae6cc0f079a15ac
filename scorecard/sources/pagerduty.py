"""`kind = "pagerduty"`: incidents from PagerDuty's REST API v2.

Reads ``GET /incidents`` for the services the teams list (``pagerduty_services``)
and the source's ``team_ids``; with neither, every incident of the account.

- **Range chunking**: PagerDuty's classic pagination refuses ``offset + limit``
  beyond 10,000, and ``since``/``until`` may span at most six months. The range
  is cut into pieces of at most :data:`MAX_RANGE`; the first page of each asks
  for the ``total``, and a piece holding more than the cap is halved until every
  piece fits. Without a total (or if the count grew meanwhile) the listing goes
  on from the newest ``created_at`` read so far (it is sorted by creation).
- **Severity**: the incident's priority (``P1``..``P5`` -> ``sev1``..``sev5``)
  when it has one, else its urgency (``high`` -> ``sev2``, ``low`` -> ``sev4``);
  ``severity_map`` overrides or extends both tables (e.g. ``"SEV-0" = "sev1"``).
- **Status**: ``triggered`` and ``acknowledged`` are open, ``resolved`` is
  resolved (``resolved_at``, else ``last_status_change_at``). Incidents resolved
  by merging into another are left out (the surviving one counts). Unknown
  statuses, priorities and urgencies are counted and reported.
- **Team**: the team whose ``pagerduty_services`` lists the incident's service
  id; otherwise left to the service name (``service.summary``) and the teams'
  ``services``.
- **Explicit deployment links**: ``deployment_link_pattern`` over the title,
  description and incident key.

Incremental: later syncs re-read from the last sync (minus a day), and further
back while cached incidents are still open. Auth is ``Token token=<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scorecard.sources.incidents import (
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    incident_basics,
    page_items,
    team_lookup,
)
from scorecard.sources.records import Collected, iso, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient
    from scorecard.sources.incidents import DeploymentLinker

PAGE_LIMIT: int = 100
"""Incidents per page (PagerDuty's maximum)."""
OFFSET_CAP: int = 10_000
"""PagerDuty refuses ``offset + limit`` above this."""
MAX_RANGE: Final = timedelta(days=179)
"""``since``..``until`` may span at most six months."""
MIN_RANGE: Final = timedelta(minutes=1)
"""Below this a range is not split further (the rest is reported as partial)."""
ACCEPT: Final = "application/vnd.pagerduty+json;version=2"

STATUSES: Final = {"triggered": "open", "acknowledged": "open", "resolved": "resolved"}
URGENCIES: Final = {"high": "sev2", "low": "sev4"}


@dataclass
class _Piece:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PagerDutyOptions(IncidentOptions):
    """Options of a `kind = "pagerduty"` source."""

    default_api_url: ClassVar[str | None] = "https://api.pagerduty.com"

    team_ids: tuple[str, ...] = ()
    """Also read the incidents of these PagerDuty teams (ids)."""


@register
class PagerDutySource(IncidentSource[PagerDutyOptions]):
    """PagerDuty incidents of the configured services (or teams, or the whole account)."""

    kind = "pagerduty"
    Options = PagerDutyOptions
    client_headers: ClassVar[Mapping[str, str]] = {"Accept": ACCEPT}

    def setup(self, config: Config | None) -> None:
        teams = config.teams if config is not None else ()
        self.service_teams = team_lookup((t.name, t.pagerduty_services) for t in teams)
        self.priorities = self.severity_vocabulary("PagerDuty priority")
        self.urgencies = self.severity_vocabulary("PagerDuty urgency", URGENCIES)
        self.statuses = Vocabulary("PagerDuty status", STATUSES)

    def auth(self, token: str) -> Mapping[str, str]:
        return {"Authorization": f"Token token={token}"}

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.statuses, self.priorities, self.urgencies)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: one incident listing answered."""
        client = self.client()
        params: dict[str, Any] = {"limit": 1}
        if self.service_teams:
            params["service_ids[]"] = sorted(self.service_teams)
        async with client:
            await client.get("incidents", params, conditional=False)
        detail = f"incidents readable for {len(self.service_teams) or 'all'} services"
        if client.stats.rate_limit_remaining is not None:
            detail += f", rate limit {client.stats.rate_limit_remaining:,} left"
        return detail

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        pieces = _split_range(lower, ctx.until)
        while pieces:
            piece = pieces.pop(0)
            ctx.progress(f"incidents {piece.start:%Y-%m-%d}..{piece.end:%Y-%m-%d}")
            more, dropped = await self._piece(client, piece, collected)
            collected.excluded += dropped
            pieces[:0] = more

    def _params(self, piece: _Piece) -> dict[str, Any]:
        params: dict[str, Any] = {
            "since": iso(piece.start),
            "until": iso(piece.end),
            "time_zone": "UTC",
            "sort_by": "created_at:asc",
        }
        services = sorted(self.service_teams)
        if services:
            params["service_ids[]"] = services
        if self.options.team_ids:
            params["team_ids[]"] = list(self.options.team_ids)
        return params

    async def _piece(
        self, client: HttpClient, piece: _Piece, collected: Collected
    ) -> tuple[list[_Piece], int]:
        """Read one range piece; returns the pieces still to read instead of it."""
        base = self._params(piece)
        offset = 0
        excluded = 0
        newest: datetime | None = None
        while True:
            query = {**base, "offset": offset, "limit": PAGE_LIMIT}
            if offset == 0:
                query["total"] = "true"
            page = await client.get("incidents", query, conditional=False)
            where = f"incidents {iso(piece.start)}..{iso(piece.end)} offset {offset}"
            items = page_items(page, "incidents", collected, where)
            if items is None:
                return [], excluded
            data = page.data
            total = data.get("total")
            too_many = isinstance(total, int) and total + PAGE_LIMIT > OFFSET_CAP
            if offset == 0 and too_many and piece.end - piece.start > MIN_RANGE:
                middle = piece.start + (piece.end - piece.start) / 2
                return [_Piece(piece.start, middle), _Piece(middle, piece.end)], excluded
            for item in items:
                kept = self._add(item, collected)
                if kept is False:
                    excluded += 1
                created = parse_time(item.get("created_at")) if isinstance(item, dict) else None
                if created is not None and (newest is None or created > newest):
                    newest = created
            if not data.get("more") or not items:
                return [], excluded
            offset += len(items)
            if offset + PAGE_LIMIT > OFFSET_CAP:
                # The cap would refuse the next page: continue from the newest incident
                # read (sorted by creation; duplicates collapse by id).
                if newest is not None and newest > piece.start:
                    return [_Piece(newest, piece.end)], excluded
                collected.complete = False
                collected.problem(
                    f"more than {OFFSET_CAP:,} incidents created at {iso(piece.start)}; "
                    "the rest of them were not read"
                )
                return [], excluded

    def _add(self, item: Any, collected: Collected) -> bool | None:
        """Add one incident; False when deliberately left out, None when skipped as bad."""
        if not isinstance(item, dict):
            collected.bad("incident", "not an object")
            return None
        ident = item.get("id")
        where = f"incident {ident or '?'}"
        resolve_reason = item.get("resolve_reason")
        if (
            isinstance(resolve_reason, dict)
            and resolve_reason.get("type") == "merge_resolve_reason"
        ):
            return False
        record = incident_record(
            item,
            source=self.name,
            service_teams=self.service_teams,
            statuses=self.statuses,
            priorities=self.priorities,
            urgencies=self.urgencies,
            linker=self.linker,
        )
        if isinstance(record, str):
            collected.bad(where, record)
            return None
        return True if collected.add("incidents", record, where) else None


def _split_range(start: datetime, end: datetime) -> list[_Piece]:
    pieces: list[_Piece] = []
    at = start
    while at < end:
        stop = min(end, at + MAX_RANGE)
        pieces.append(_Piece(at, stop))
        at = stop
    return pieces


def incident_record(
    item: dict[str, Any],
    *,
    source: str,
    service_teams: dict[str, str],
    statuses: Vocabulary,
    priorities: Vocabulary,
    urgencies: Vocabulary,
    linker: DeploymentLinker,
) -> dict[str, Any] | str:
    """A normalized incident from one PagerDuty incident object, or why it was skipped."""
    basics = incident_basics(item, statuses, "created_at")
    if isinstance(basics, str):
        return basics
    ident, created, status = basics
    resolved = None
    if status == "resolved":
        resolved = (
            parse_time(item.get("resolved_at"))
            or parse_time(item.get("last_status_change_at"))
            or parse_time(item.get("updated_at"))
        )
    priority = item.get("priority")
    priority_name = None
    if isinstance(priority, dict):
        priority_name = priority.get("summary") or priority.get("name")
    severity = priorities.get(priority_name) if priority_name else None
    if severity is None:
        severity = urgencies.get(item.get("urgency"))
    if severity is None:
        return f"no known priority or urgency ({priority_name!r}, {item.get('urgency')!r})"
    raw_service = item.get("service")
    service: dict[str, Any] = raw_service if isinstance(raw_service, dict) else {}
    service_id = service.get("id")
    title = item.get("title") or item.get("summary")
    return {
        "id": ident,
        "source": source,
        "team": service_teams.get(service_id) if isinstance(service_id, str) else None,
        "service": service.get("summary") or None,
        "title": title if isinstance(title, str) else None,
        "severity": severity,
        "created_at": created,
        "resolved_at": resolved if resolved is None or resolved >= created else created,
        "deployment_id": linker.find(title, item.get("description"), item.get("incident_key")),
        "url": item.get("html_url") if isinstance(item.get("html_url"), str) else None,
    }
