"""`kind = "incidentio"`: incidents from incident.io's API (v2 incidents, v1 severities).

- **Listing**: ``GET /v2/incidents`` with ``page_size`` and the ``after`` cursor
  from ``pagination_meta.after``, filtered to the sync range by ``created_at``.
- **Severity by rank**: ``GET /v1/severities`` gives every severity's ``rank``
  (higher is more severe); the highest rank is ``sev1``, the next ``sev2``, and
  so on (the fifth and lower all ``sev5``). ``severity_map`` maps severity names
  directly and wins over the rank.
- **Status**: by ``incident_status.category``: ``triage``, ``live`` and
  ``paused`` are open; ``learning`` and ``closed`` are resolved; ``declined``,
  ``merged`` and ``canceled`` incidents are left out (counted), as are test and
  tutorial incidents (``mode``). Unknown categories are counted and skipped.
  ``resolved_at`` is the incident's "Resolved at" timestamp (else "Closed at",
  else ``updated_at``); ``started_at`` its "Impact started" timestamp, when set
  (how late an incident was found: the detection time).
- **Team and service** from the custom fields named by ``team_field`` and
  ``service_field`` (select options, catalog entries or text). A team value
  maps to the team whose ``incidentio_teams`` lists it, or whose name it is.
- **Explicit deployment links**: the ``deployment_field`` custom field (the
  whole value, or what ``deployment_link_pattern`` finds in it), else
  ``deployment_link_pattern`` over the name, summary and custom field values.

Incremental like the other incident sources. Auth is ``Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.sources.incidents import (
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    page_items,
    team_lookup,
)
from scorecard.sources.paginate import paginate_cursor
from scorecard.sources.records import Collected, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from datetime import datetime

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

PAGE_SIZE: int = 250

CATEGORIES: Final = {
    "triage": "open",
    "live": "open",
    "paused": "open",
    "learning": "resolved",
    "closed": "resolved",
    "declined": "excluded",
    "merged": "excluded",
    "canceled": "excluded",
    "cancelled": "excluded",
}
EXCLUDED_MODES: Final = frozenset({"test", "tutorial"})
SEVERITY_LEVELS: Final = ("sev1", "sev2", "sev3", "sev4", "sev5")


def rank_table(ranks: dict[str, int]) -> dict[str, str]:
    """Severity name -> ``sevN`` by rank: the highest rank is ``sev1``."""
    ordered = sorted(set(ranks.values()), reverse=True)
    level = {
        rank: SEVERITY_LEVELS[min(i, len(SEVERITY_LEVELS) - 1)] for i, rank in enumerate(ordered)
    }
    return {name: level[rank] for name, rank in ranks.items()}


def field_values(item: dict[str, Any], name: str | None) -> list[str]:
    """The values of the custom field called ``name`` (case-insensitive), as text."""
    if not name:
        return []
    wanted = name.casefold()
    out: list[str] = []
    for entry in item.get("custom_field_entries") or []:
        if not isinstance(entry, dict):
            continue
        field = entry.get("custom_field")
        if not isinstance(field, dict) or str(field.get("name", "")).casefold() != wanted:
            continue
        for value in entry.get("values") or []:
            text = _value_text(value)
            if text:
                out.append(text)
    return out


def _value_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    option = value.get("value_option")
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return str(option["value"])
    entry = value.get("value_catalog_entry")
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return str(entry["name"])
    for key in ("value_text", "value_link"):
        if isinstance(value.get(key), str) and value[key]:
            return str(value[key])
    numeric = value.get("value_numeric")
    return str(numeric) if numeric not in (None, "") else None


def _all_field_texts(item: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for entry in item.get("custom_field_entries") or []:
        if isinstance(entry, dict):
            out.extend(t for t in (_value_text(v) for v in entry.get("values") or []) if t)
    return out


def _timestamp(item: dict[str, Any], word: str) -> datetime | None:
    for entry in item.get("incident_timestamp_values") or []:
        if not isinstance(entry, dict):
            continue
        stamp = entry.get("incident_timestamp")
        name = stamp.get("name") if isinstance(stamp, dict) else None
        if not isinstance(name, str) or word not in name.casefold():
            continue
        value = entry.get("value")
        at = parse_time(value.get("value") if isinstance(value, dict) else None)
        if at is not None:
            return at
    return None


@dataclass(frozen=True)
class IncidentIoOptions(IncidentOptions):
    """Options of a `kind = "incidentio"` source."""

    default_api_url: ClassVar[str | None] = "https://api.incident.io"

    team_field: str | None = None
    """The custom field holding the owning team."""
    service_field: str | None = None
    """The custom field holding the service."""
    deployment_field: str | None = None
    """The custom field naming the deployment an incident was caused by."""


@register
class IncidentIoSource(IncidentSource[IncidentIoOptions]):
    """incident.io incidents with severity by rank and team/service from custom fields."""

    kind = "incidentio"
    Options = IncidentIoOptions

    def setup(self, config: Config | None) -> None:
        self.severity_map: dict[str, str] = dict(self.options.severity_map)
        teams = config.teams if config is not None else ()
        self.teams = team_lookup(
            [(t.name, t.incidentio_teams) for t in teams] + [(t.name, [t.name]) for t in teams],
            fold=True,
        )
        self.statuses = Vocabulary("incident.io status category", CATEGORIES)
        self.severities = Vocabulary("incident.io severity", {})

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.statuses, self.severities)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: severities and one incident page."""
        client = self.client()
        async with client:
            page = await client.get("v1/severities", conditional=False)
            await client.get("v2/incidents", {"page_size": 1}, conditional=False)
        data = page.data if isinstance(page.data, dict) else {}
        return f"incidents readable, {len(data.get('severities') or [])} severities"

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        items: list[dict[str, Any]] = []
        ranks: dict[str, int] = {}
        await self.guarded(self._list(client, ctx, lower, items, ranks, collected), collected)
        self.severities = Vocabulary(
            "incident.io severity", {**rank_table(ranks), **self.severity_map}
        )
        for item in items:
            created = parse_time(item.get("created_at"))
            if created is not None and created < lower:
                continue
            outcome = self.record(item)
            where = f"incident {item.get('reference') or item.get('id') or '?'}"
            if outcome is None:
                collected.excluded += 1
            elif isinstance(outcome, str):
                collected.bad(where, outcome)
            else:
                collected.add("incidents", outcome, where)

    async def _list(
        self,
        client: HttpClient,
        ctx: FetchContext,
        lower: datetime,
        items: list[dict[str, Any]],
        ranks: dict[str, int],
        collected: Collected,
    ) -> None:
        """Severity ranks, then every incident listed from ``lower``'s day on."""
        ranks.update(await self._ranks(client, collected))
        params = {"page_size": PAGE_SIZE, "created_at[gte]": lower.date().isoformat()}
        pages = 0
        async for page in paginate_cursor(
            client, "v2/incidents", params, cursor_path=("pagination_meta", "after")
        ):
            pages += 1
            ctx.progress(f"incidents page {pages}")
            batch = page_items(page, "incidents", collected, f"incidents page {pages}")
            if batch is None:
                return
            for item in batch:
                if not isinstance(item, dict):
                    collected.bad("incident", "not an object")
                    continue
                items.append(item)
                _note_rank(item, ranks)
            if not batch:
                return

    async def _ranks(self, client: HttpClient, collected: Collected) -> dict[str, int]:
        """Severity name -> rank from ``/v1/severities`` (empty if unavailable)."""
        try:
            page = await client.get("v1/severities", conditional=False)
        except (RateLimitExhausted, FatalSourceError):
            raise
        except SourceError as exc:
            collected.problem(f"severities unavailable ({exc}); ranking the ones seen")
            return {}
        data = page.data if isinstance(page.data, dict) else {}
        out: dict[str, int] = {}
        for sev in data.get("severities") or []:
            if isinstance(sev, dict) and isinstance(sev.get("name"), str):
                rank = sev.get("rank")
                if isinstance(rank, int) and not isinstance(rank, bool):
                    out[sev["name"]] = rank
        return out

    def record(self, item: dict[str, Any]) -> dict[str, Any] | str | None:
        """A normalized incident; None when left out on purpose; a reason when skipped."""
        ident = item.get("id")
        if not isinstance(ident, str) or not ident:
            return "missing id"
        if str(item.get("mode") or "standard").casefold() in EXCLUDED_MODES:
            return None
        status_obj = item.get("incident_status")
        category = status_obj.get("category") if isinstance(status_obj, dict) else None
        status = self.statuses.get(category)
        if status is None:
            return f"unknown status category {category!r}"
        if status == "excluded":
            return None
        created = parse_time(item.get("created_at"))
        if created is None:
            return "missing or bad created_at"
        sev = item.get("severity")
        sev_name = sev.get("name") if isinstance(sev, dict) else None
        if not sev_name:
            return "no severity"
        severity = self.severities.get(sev_name)
        if severity is None:
            return f"unknown severity {sev_name!r}"
        resolved = None
        if status == "resolved":
            resolved = (
                _timestamp(item, "resolved")
                or _timestamp(item, "closed")
                or parse_time(item.get("updated_at"))
            )
            if resolved is not None and resolved < created:
                resolved = created
        team, service, deployment = self._attribution(item)
        title = item.get("name")
        url = item.get("permalink")
        return {
            "id": ident,
            "source": self.name,
            "team": team,
            "service": service,
            "title": title if isinstance(title, str) else None,
            "severity": severity,
            "created_at": created,
            "resolved_at": resolved,
            "deployment_id": deployment,
            "url": url if isinstance(url, str) else None,
            "started_at": _timestamp(item, "impact start"),
        }

    def _attribution(self, item: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """The incident's team, service and explicitly linked deployment."""
        team_values = field_values(item, self.options.team_field)
        team = next(
            (self.teams[v.casefold()] for v in team_values if v.casefold() in self.teams), None
        )
        services = field_values(item, self.options.service_field)
        deployment = None
        if self.options.deployment_field:
            values = field_values(item, self.options.deployment_field)
            if values:
                deployment = self.linker.find(*values) if self.linker else values[0]
        if deployment is None and self.linker:
            deployment = self.linker.find(
                item.get("name"), item.get("summary"), _all_field_texts(item)
            )
        return team, services[0] if services else None, deployment


def _note_rank(item: dict[str, Any], ranks: dict[str, int]) -> None:
    """Remember the rank of the incident's severity (the first rank seen wins)."""
    sev = item.get("severity")
    if isinstance(sev, dict) and isinstance(sev.get("name"), str):
        rank = sev.get("rank")
        if isinstance(rank, int) and not isinstance(rank, bool):
            ranks.setdefault(sev["name"], rank)
