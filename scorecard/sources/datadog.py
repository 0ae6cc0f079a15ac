"""`kind = "datadog"`: incidents, monitor alerts and deployments from Datadog's API.

Teams moving their incident process to Datadog would otherwise lose their
incidents; monitors that fire before anyone declares an incident are where
quiet failures show first.

- **Incidents**: ``GET /api/v2/incidents/search`` with ``incident_query``, newest
  first (``sort=-created``), paged with ``page[offset]`` from
  ``meta.pagination.next_offset`` and stopped at the sync's lower bound. Test
  incidents are left out (counted).
- **Severity**: ``SEV-0``/``SEV-1`` -> ``sev1``, ``SEV-2`` -> ``sev2`` ...
  ``SEV-5`` -> ``sev5`` (the attribute, else the ``severity`` field);
  ``UNKNOWN`` and other words are counted and skipped unless ``severity_map``
  names them.
- **Status**: ``active`` and ``stable`` are open, ``resolved`` (and
  ``completed``) resolved at ``resolved`` (else ``customer_impact_end``);
  ``status_map`` overrides; unknown states are counted and skipped. An answer
  without a state is resolved when it has a ``resolved`` time, else open.
- **Impact start**: ``customer_impact_start`` (SPEC §13 ``started_at``).
- **Team and service**: the ``teams`` and ``services`` fields; a team maps
  through ``team_map`` (else the scorecard team of that name).
- **Explicit deployment links**: the field named ``deployment_field``, else
  ``deployment_link_pattern`` over the title, impact scope and field values.
- **Monitor alerts** (``monitor_query``): ``GET /api/v2/events`` for the query,
  cursor-paged (``meta.page.after``), replayed into incidents
  (:mod:`scorecard.sources.datadog_events`).
- **Deployments** (``deployments``): ``"dora"`` lists Datadog's DORA deployment
  events (``POST /api/v2/dora/deployments``, newest first, the window narrowed
  to the oldest finish read while a page comes back full); ``"events"`` reads
  v2 events matching ``deploy_query`` as deploys.

Incremental like the other incident sources. Auth: the ``DD-API-KEY`` header
(the token) and ``DD-APPLICATION-KEY`` (from ``app_key_env``, or the token
written as ``<api key>:<application key>``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from scorecard.errors import FatalSourceError
from scorecard.options import OptionProblem, option
from scorecard.sources.datadog_events import (
    MONITOR_SEVERITIES,
    AlertReplay,
    deploy_event_record,
    dora_record,
)
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
from scorecard.sources.paginate import paginate_cursor
from scorecard.sources.records import Collected, iso, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page

PAGE_SIZE: int = 100
EVENTS_LIMIT: int = 1000
DORA_LIMIT: int = 1000
MAX_DORA_PAGES: Final = 1000
SEARCH: Final = "api/v2/incidents/search"
EVENTS: Final = "api/v2/events"
DORA: Final = "api/v2/dora/deployments"

SEVERITIES: Final = {
    "SEV-0": "sev1",
    "SEV-1": "sev1",
    "SEV-2": "sev2",
    "SEV-3": "sev3",
    "SEV-4": "sev4",
    "SEV-5": "sev5",
}
STATES: Final = {
    "active": "open",
    "stable": "open",
    "resolved": "resolved",
    "completed": "resolved",
}


@dataclass(frozen=True)
class DatadogOptions(IncidentOptions):
    """Options of a `kind = "datadog"` source."""

    site: str = "datadoghq.com"
    """The Datadog site (`datadoghq.com`, `datadoghq.eu`, `us3.datadoghq.com`, ...);
    sets the default `api_url` (`https://api.<site>`)."""
    app_key_env: str | None = option(None, check="env_name")
    """The environment variable holding the application key (else write the token as
    `<api key>:<application key>`)."""
    incidents: bool = True
    """Read incidents (Incident Management)."""
    incident_query: str = "state:(active OR stable OR resolved)"
    """The incident search query, e.g. `state:(active OR stable OR resolved) AND team:payments`."""
    team_map: Mapping[str, str] = option(default_factory=dict)
    """Datadog team (or `team:` tag) -> scorecard team (default: the team of the same name)."""
    status_map: Mapping[str, str] = option(default_factory=dict)
    """Incident state -> `open`, `resolved` or `excluded`, over the built-in table."""
    deployment_field: str | None = None
    """The incident field naming the deployment that caused it."""
    monitor_query: str | None = None
    """An event query for monitors' alert history as incidents, e.g.
    `source:alert team:payments` (default: none read)."""
    deployments: Literal["none", "dora", "events"] = "none"
    """Deployments from `"dora"` (DORA Metrics deployment events) or `"events"`
    (events matching `deploy_query`)."""
    deploy_query: str = ""
    """The query of the deployments read, e.g. `env:production` (DORA) or
    `source:deploy` (events)."""

    @property
    def base_url(self) -> str | None:
        """``api_url``, else ``https://api.<site>``."""
        return self.api_url or f"https://api.{self.site.strip().strip('/')}"

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        yield from mapping_problems("team_map", self.team_map, team_names, "team")
        yield from mapping_problems("status_map", self.status_map, STATUS_WORDS, "status")
        if self.deployments == "events" and not self.deploy_query.strip():
            yield OptionProblem(
                "deploy_query", "deployments from events need a query", '"source:deploy"'
            )


def field_value(fields: Any, name: str | None) -> list[str]:
    """A user-defined field's value(s) as text (``{"type", "value"}``)."""
    if not name or not isinstance(fields, dict):
        return []
    entry = fields.get(name)
    raw = entry.get("value") if isinstance(entry, dict) else None
    if isinstance(raw, str) and raw:
        return [raw]
    if isinstance(raw, list):
        return [str(v) for v in raw if isinstance(v, str) and v]
    return []


def search_items(page: Page, collected: Collected, where: str) -> list[Any] | None:
    """The incidents of a search answer (``data.attributes.incidents``); None when the
    answer is malformed (counted, and the result is partial)."""
    data = page.data.get("data") if isinstance(page.data, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    items = attributes.get("incidents") if isinstance(attributes, dict) else None
    if page.malformed or not isinstance(items, list):
        collected.bad(where, "malformed answer")
        collected.complete = False
        return None
    return items


@register
class DatadogSource(IncidentSource[DatadogOptions]):
    """Datadog incidents, monitor alerts and deployment events."""

    kind = "datadog"
    Options = DatadogOptions

    def setup(self, config: Config | None) -> None:
        self.teams = named_teams(config, self.options.team_map)
        self.severities = self.severity_vocabulary("Datadog severity", SEVERITIES)
        self.states = Vocabulary("Datadog state", {**STATES, **self.options.status_map})
        self.monitor_severities = self.severity_vocabulary(
            "Datadog monitor status", MONITOR_SEVERITIES
        )

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """``DD-API-KEY`` and ``DD-APPLICATION-KEY``; both are redacted from messages."""
        api_key, _, app_key = (token or "").partition(":")
        env = self.options.app_key_env
        app_key = (os.environ.get(env) if env else None) or app_key
        if not api_key or not app_key:
            missing = "API key (the token)" if not api_key else "application key"
            raise FatalSourceError(
                f"source '{self.name}': no Datadog {missing}; set `app_key_env`, or store "
                f"the token as <api key>:<application key> (`scorecard auth set {self.name}`)"
            )
        headers = {"DD-API-KEY": api_key, "DD-APPLICATION-KEY": app_key}
        return headers, [s for s in (token, api_key, app_key) if s]

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.states, self.severities, self.monitor_severities)

    def team_of(self, names: Iterable[str]) -> str | None:
        """The scorecard team of the first Datadog team name that maps to one."""
        return next((self.teams[n.casefold()] for n in names if n.casefold() in self.teams), None)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: one incident search answered."""
        client = self.client()
        async with client:
            await client.get(SEARCH, {"query": self.options.incident_query, "page[size]": 1})
        return "incidents readable"

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        if self.options.incidents:
            await self.incidents(client, ctx, lower, collected)
        if self.options.monitor_query:
            await self.monitor_alerts(client, ctx, lower, collected)
        before = len(collected.records.get("deployments", []))
        if self.options.deployments == "dora":
            await self.dora(client, ctx, lower, collected)
        elif self.options.deployments == "events":
            await self.deploy_events(client, ctx, lower, collected)
        fresh = len(collected.records.get("deployments", [])) - before
        if fresh:
            client.stats.count("deployments", fresh)

    # --- incidents ------------------------------------------------------------------------

    async def incidents(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        """Incidents created from ``lower`` on, newest first."""
        params = {"query": self.options.incident_query, "sort": "-created", "page[size]": PAGE_SIZE}
        pages = 0
        async for page in paginate_cursor(
            client,
            SEARCH,
            params,
            cursor_path=("meta", "pagination", "next_offset"),
            cursor_param="page[offset]",
        ):
            pages += 1
            ctx.progress(f"incidents page {pages}")
            items = search_items(page, collected, f"incidents page {pages}")
            if items is None:
                return
            if self.add_incidents(items, lower, collected) or len(items) < PAGE_SIZE:
                return

    def add_incidents(self, items: list[Any], lower: datetime, collected: Collected) -> bool:
        """Keep the page's incidents; True once one older than ``lower`` was seen."""
        older = False
        for wrapped in items:
            item = wrapped.get("data") if isinstance(wrapped, dict) else None
            if not isinstance(item, dict):
                collected.bad("incident", "not an object")
                continue
            created = parse_time((item.get("attributes") or {}).get("created"))
            if created is not None and created < lower:
                older = True
                continue
            record = self.incident_record(item)
            where = f"incident {item.get('id') or '?'}"
            if record is None:
                collected.excluded += 1
            elif isinstance(record, str):
                collected.bad(where, record)
            else:
                collected.add("incidents", record, where)
        return older

    def incident_record(self, item: Mapping[str, Any]) -> dict[str, Any] | str | None:
        """A normalized incident; None when left out (test or excluded); else why skipped."""
        attrs = item.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else {}
        if attrs.get("is_test") is True:
            return None
        raw_fields = attrs.get("fields")
        fields: Mapping[str, Any] = raw_fields if isinstance(raw_fields, dict) else {}
        state = attrs.get("state") or next(iter(field_value(fields, "state")), None)
        if state is None:  # older answers carry no state: the resolution time tells
            state = "resolved" if attrs.get("resolved") else "active"
        flat = {"id": item.get("id"), "status": state, "created": attrs.get("created")}
        basics = incident_basics(flat, self.states, "created")
        if isinstance(basics, str):
            return basics
        ident, created, status = basics
        if status == "excluded":
            return None
        word = attrs.get("severity") or next(iter(field_value(fields, "severity")), None)
        severity = self.severities.get(word)
        if severity is None:
            return f"unknown severity {word!r}"
        resolved = None
        if status == "resolved":
            resolved = parse_time(attrs.get("resolved")) or parse_time(
                attrs.get("customer_impact_end")
            )
        services = field_value(fields, "services")
        title = attrs.get("title")
        return {
            "id": ident,
            "source": self.name,
            "team": self.team_of(field_value(fields, "teams")),
            "service": services[0] if services else None,
            "title": title if isinstance(title, str) else None,
            "severity": severity,
            "created_at": created,
            "started_at": parse_time(attrs.get("customer_impact_start")),
            "resolved_at": max(resolved, created) if resolved is not None else None,
            "deployment_id": self.deployment_of(attrs, fields),
            "url": self.incident_url(attrs.get("public_id")),
        }

    def deployment_of(self, attrs: Mapping[str, Any], fields: Mapping[str, Any]) -> str | None:
        """The ``deployment_field``'s value (through the pattern, when set), else what the
        pattern finds in the title, impact scope and fields."""
        named = field_value(fields, self.options.deployment_field)
        if named:
            return (self.linker.find(*named) if self.linker else None) or named[0]
        texts = [field_value(fields, name) for name in fields]
        return self.linker.find(attrs.get("title"), attrs.get("customer_impact_scope"), texts)

    def incident_url(self, public_id: Any) -> str | None:
        """The incident's page in the Datadog app."""
        if isinstance(public_id, bool) or not isinstance(public_id, int):
            return None
        site = self.options.site.strip().strip("/")
        app = f"app.{site}" if site.count(".") == 1 else site
        return f"https://{app}/incidents/{public_id}"

    # --- events ---------------------------------------------------------------------------

    async def events(
        self,
        client: HttpClient,
        ctx: FetchContext,
        lower: datetime,
        collected: Collected,
        *,
        query: str,
        what: str,
    ) -> list[dict[str, Any]]:
        """Every v2 event matching ``query`` in ``[lower, ctx.until]``."""
        params = {
            "filter[query]": query,
            "filter[from]": iso(lower),
            "filter[to]": iso(ctx.until),
            "sort": "timestamp",
            "page[limit]": EVENTS_LIMIT,
        }
        out: list[dict[str, Any]] = []
        pages = 0
        async for page in paginate_cursor(
            client,
            EVENTS,
            params,
            cursor_path=("meta", "page", "after"),
            cursor_param="page[cursor]",
        ):
            pages += 1
            ctx.progress(f"{what} page {pages}")
            items = page_items(page, "data", collected, f"{what} page {pages}")
            if items is None:
                break
            out.extend(i for i in items if isinstance(i, dict))
        return out

    async def monitor_alerts(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        """Monitors' alert history from ``lower`` on, replayed into incidents."""
        query = self.options.monitor_query or ""
        events = await self.events(
            client, ctx, lower, collected, query=query, what="monitor events"
        )
        replay = AlertReplay(self.name, self.monitor_severities, self.team_of)
        for problem in replay.replay(events):
            collected.skipped += 1
            collected.problem(problem)
        for record in replay.incidents:
            collected.add("incidents", record, str(record["id"]))

    async def deploy_events(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        """Events matching ``deploy_query`` as deployments."""
        events = await self.events(
            client, ctx, lower, collected, query=self.options.deploy_query, what="deploy events"
        )
        for event in events:
            record = deploy_event_record(event, self.name, self.team_of)
            where = f"deploy event {event.get('id') or '?'}"
            if isinstance(record, str):
                collected.bad(where, record)
            else:
                collected.add("deployments", record, where)

    async def dora(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        """DORA deployment events finished in ``[lower, ctx.until]``, newest first; a full
        page narrows the window to the oldest finish read."""
        to = ctx.until
        seen: set[str] = set()
        for pages in range(1, MAX_DORA_PAGES + 1):
            ctx.progress(f"DORA deployments page {pages}")
            attributes = {"from": iso(lower), "to": iso(to), "limit": DORA_LIMIT}
            if self.options.deploy_query:
                attributes["query"] = self.options.deploy_query
            attributes["sort"] = "-finished_at"
            body = {"data": {"attributes": attributes, "type": "dora_deployments_list_request"}}
            page = await client.post_json(DORA, body)
            items = page_items(page, "data", collected, f"DORA deployments page {pages}")
            if items is None:
                return
            oldest = to
            for item in items:
                if not isinstance(item, dict):
                    collected.bad("DORA deployment", "not an object")
                    continue
                record = dora_record(item, self.name, self.team_of)
                where = f"DORA deployment {item.get('id') or '?'}"
                if isinstance(record, str):
                    collected.bad(where, record)
                    continue
                oldest = min(oldest, record["finished_at"])
                if record["id"] not in seen:  # the narrowed window re-reads its edge
                    seen.add(record["id"])
                    collected.add("deployments", record, where)
            if len(items) < DORA_LIMIT:
                return
            if oldest >= to:
                collected.complete = False
                collected.problem(f"more than {DORA_LIMIT} DORA deployments finished at {iso(to)}")
                return
            to = oldest
        collected.complete = False
        collected.problem("DORA deployments: too many pages; stopped")
