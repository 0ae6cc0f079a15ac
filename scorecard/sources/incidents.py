"""Helpers shared by the incident sources (PagerDuty, incident.io, Opsgenie).

- :class:`Vocabulary`: a vendor's status or severity words mapped to ours, where
  every unknown word is counted (per field and value) and reported once, never a
  crash.
- :class:`DeploymentLinker`: the configurable ``deployment_link_pattern`` that
  finds an explicit deployment id in an incident's title, body or fields.
- :func:`incident_range`: where an incremental incident sync starts (the last
  sync minus an overlap, or earlier while cached incidents are still open).
- :func:`mapping_problems`: the config check of a ``team_map`` or ``status_map``.
- :func:`named_teams`: a vendor's team names (any case) -> the config's teams.
- :class:`IncidentSource`: the fetch every incident source runs (range, client,
  partial on a spent rate limit) and its result (merged incidents, unknown-value
  counts, the range bookmark).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

from scorecard.errors import PaginationLoop, RateLimitExhausted
from scorecard.options import HttpOptions, OptionProblem, option
from scorecard.sources.api import ApiSource
from scorecard.sources.records import Collected, iso, merge_frames, parse_time

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page

OVERLAP: Final = timedelta(days=1)
"""Incremental syncs re-read this much before the last sync (late updates, clock skew)."""
OPEN_LOOKBACK: Final = timedelta(days=30)
"""Open incidents younger than this are re-read on every sync until they resolve."""

DEFAULT_PRIORITIES: Final[Mapping[str, str]] = {
    "P1": "sev1",
    "P2": "sev2",
    "P3": "sev3",
    "P4": "sev4",
    "P5": "sev5",
}


@dataclass(frozen=True)
class IncidentOptions(HttpOptions):
    """Options every incident source (PagerDuty, incident.io, Opsgenie) takes."""

    severity_map: Mapping[str, str] = option(default_factory=dict, check="severity_map")
    """The vendor's severity or priority words -> `sev1`..`sev5`, over the built-in
    table (e.g. `P1 = "sev1"`, `high = "sev2"`)."""
    deployment_link_pattern: str | None = option(None, check="regex")
    """A regex searched in the incident's title, description and fields for an explicit
    deployment id: its group named `deployment`, else its first group, else the whole
    match."""


def named_teams(config: Config | None, team_map: Mapping[str, str]) -> dict[str, str]:
    """Casefolded name -> team: every configured team by its own name, then the
    source's ``team_map`` (a vendor's team name -> a configured team) over them."""
    names = [t.name for t in (config.teams if config is not None else ())]
    lookup = {name.casefold(): name for name in names}
    lookup.update({k.casefold(): v for k, v in team_map.items()})
    return lookup


STATUS_WORDS: Final = ("open", "resolved", "excluded")
"""What a ``status_map`` may map a vendor's status to (``excluded``: left out, counted)."""


def mapping_problems(
    key: str, mapping: Mapping[str, str], allowed: Sequence[str], what: str
) -> Iterator[OptionProblem]:
    """A problem for every value of the option ``key`` that is not one of ``allowed``
    (a ``team_map`` naming no team, a ``status_map`` naming no status)."""
    known = {a.casefold() for a in allowed}
    for name, value in mapping.items():
        if value.casefold() not in known:
            hint = "known: " + ", ".join(sorted(allowed)) if allowed else None
            yield OptionProblem(f"{key}.{name}", f"no {what} `{value}`", hint)


@dataclass
class Vocabulary:
    """One vendor field's words mapped to ours; unknown words are counted, not fatal."""

    name: str
    """What the field is called in messages (``PagerDuty urgency``)."""
    table: Mapping[str, str]
    case_sensitive: bool = False
    unknown: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if not self.case_sensitive:
            self.table = {k.casefold(): v for k, v in self.table.items()}

    def get(self, value: Any, *, count: bool = True) -> str | None:
        """Our word for ``value``; None (and counted when ``count``) when unknown."""
        if value is None or value == "":
            return None
        key = str(value) if self.case_sensitive else str(value).casefold()
        mapped = self.table.get(key)
        if mapped is None and count:
            self.unknown[str(value)] += 1
        return mapped

    def report(self, collected: Collected, stats: dict[str, int]) -> None:
        """Say which unknown values were seen and how often (problems and stats)."""
        for value, n in sorted(self.unknown.items()):
            collected.problem(f"unknown {self.name} {value!r} on {n} record{'s' if n != 1 else ''}")
        if self.unknown:
            key = re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")
            stats[f"unknown.{key}"] = sum(self.unknown.values())


def severity_table(
    defaults: Mapping[str, str], overrides: Mapping[str, str] | None
) -> dict[str, str]:
    """The vendor-to-``sevN`` table: the defaults, with the config's ``severity_map`` on top."""
    return {**defaults, **dict(overrides or {})}


class DeploymentLinker:
    """Finds an explicit deployment id in an incident with ``deployment_link_pattern``.

    The id is the pattern's group named ``deployment`` when it has one, else its
    first group, else the whole match. Texts are tried in the order given (title
    first), so the most specific place wins. Without a pattern, nothing links and
    SPEC §2's time rule applies.
    """

    def __init__(self, pattern: str | None) -> None:
        self.pattern = re.compile(pattern) if pattern else None

    def __bool__(self) -> bool:
        return self.pattern is not None

    def find(self, *texts: Any) -> str | None:
        if self.pattern is None:
            return None
        for text in _flatten(texts):
            match = self.pattern.search(text)
            if match is None:
                continue
            if "deployment" in self.pattern.groupindex:
                found = match.group("deployment")
            elif self.pattern.groups:
                found = next((g for g in match.groups() if g), None)
            else:
                found = match.group(0)
            if found:
                return str(found).strip() or None
        return None


def _flatten(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if value is None:
            continue
        if isinstance(value, str):
            if value:
                yield value
        elif isinstance(value, Mapping):
            yield from _flatten(value.values())
        elif isinstance(value, (list, tuple)):
            yield from _flatten(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield str(value)


@dataclass(frozen=True)
class RangeBookmark:
    """What an incident source keeps between syncs: the range its cache covers
    (saved as ``history_from`` / ``synced_until`` beside the state's ``version``)."""

    history_from: datetime | None = None
    """The oldest moment the cached incidents cover."""
    synced_until: datetime | None = None
    """The end of the last complete sync."""

    @classmethod
    def read(cls, state: Mapping[str, Any]) -> RangeBookmark:
        return cls(parse_time(state.get("history_from")), parse_time(state.get("synced_until")))

    def after(self, ctx: FetchContext) -> RangeBookmark:
        """The bookmark after a complete sync of ``[ctx.since, ctx.until)``."""
        kept = self.history_from if not ctx.full else None
        start = ctx.since if kept is None else min(kept, ctx.since)
        return RangeBookmark(start, ctx.until)

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.history_from is not None:
            out["history_from"] = iso(self.history_from)
        if self.synced_until is not None:
            out["synced_until"] = iso(self.synced_until)
        return out


def incident_range(
    ctx: FetchContext, state: Mapping[str, Any], previous: Mapping[str, pd.DataFrame]
) -> datetime:
    """Where this sync starts reading incidents.

    The first sync (or ``--full``, or older history than cached) reads from
    ``ctx.since``. Later syncs read from the last sync minus :data:`OVERLAP`, and
    earlier when a cached incident created after ``ctx.since`` (and at most
    :data:`OPEN_LOOKBACK` before the last sync) is still open, so its resolution
    is picked up.
    """
    if ctx.full:
        return ctx.since
    bookmark = RangeBookmark.read(state)
    last, history_from = bookmark.synced_until, bookmark.history_from
    frame = previous.get("incidents")
    if last is None or history_from is None or history_from > ctx.since or frame is None:
        return ctx.since
    lower = last - OVERLAP
    if len(frame):
        open_ = frame[frame["resolved_at"].isna() & frame["created_at"].notna()]
        if len(open_):
            oldest_open = open_["created_at"].min().to_pydatetime()
            lower = min(lower, max(oldest_open, last - OPEN_LOOKBACK))
    return max(ctx.since, min(lower, ctx.until))


def team_lookup(
    pairs: Iterable[tuple[str, Iterable[str]]], *, fold: bool = False
) -> dict[str, str]:
    """``vendor id or name -> team`` from ``(team, ids)`` pairs; the first team wins."""
    out: dict[str, str] = {}
    for team, ids in pairs:
        for ident in ids:
            out.setdefault(ident.casefold() if fold else ident, team)
    return out


def incident_basics(
    item: Mapping[str, Any], statuses: Vocabulary, created_key: str
) -> tuple[str, datetime, str] | str:
    """An incident's id, creation time and our status word, or why it is skipped."""
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        return "missing id"
    created = parse_time(item.get(created_key))
    if created is None:
        return f"missing or bad {created_key}"
    status = statuses.get(item.get("status"))
    if status is None:
        return f"unknown status {item.get('status')!r}"
    return ident, created, status


def page_items(page: Page, key: str, collected: Collected, where: str) -> list[Any] | None:
    """The list under ``key`` in the page's body; None when the answer is malformed
    (counted, and the result is partial: the listing cannot go on)."""
    data = page.data if isinstance(page.data, dict) else None
    items = data.get(key) if data is not None else None
    if page.malformed or not isinstance(items, list):
        collected.bad(where, "malformed answer")
        collected.complete = False
        return None
    return items


IncidentOptionsT = TypeVar("IncidentOptionsT", bound=IncidentOptions)


class IncidentSource(ApiSource[IncidentOptionsT]):
    """An incident tool: one incremental range per sync, incidents merged into the cache."""

    @functools.cached_property
    def linker(self) -> DeploymentLinker:
        """Finds explicit deployment ids with ``deployment_link_pattern``."""
        return DeploymentLinker(self.options.deployment_link_pattern)

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        """Read the incidents created from ``lower`` on into ``collected``."""
        raise NotImplementedError

    def severity_vocabulary(
        self, name: str, defaults: Mapping[str, str] = DEFAULT_PRIORITIES
    ) -> Vocabulary:
        """The vendor's severity words (``name``): ``defaults`` (``P1``..``P5``) with
        ``severity_map`` on top."""
        return Vocabulary(name, severity_table(defaults, self.options.severity_map))

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        """The vendor words this source maps (their unknown values are reported)."""
        return ()

    @staticmethod
    async def guarded(work: Awaitable[None], collected: Collected) -> None:
        """Run ``work``; a spent rate limit or a pagination loop ends it early and
        leaves a partial result."""
        try:
            await work
        except (RateLimitExhausted, PaginationLoop) as exc:
            collected.complete = False
            collected.problem(str(exc))

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous, state = self.start(ctx)
        lower = incident_range(ctx, state, previous)
        client = self.client()
        collected = Collected()
        async with client:
            await self.guarded(self.read(client, ctx, lower, collected), collected)
        return self.incident_result(ctx, state, collected, previous, client)

    def incident_result(
        self,
        ctx: FetchContext,
        state: Mapping[str, Any],
        collected: Collected,
        previous: Mapping[str, pd.DataFrame],
        client: HttpClient,
    ) -> SourceResult:
        """Merged incidents, unknown-value counts and the range bookmark (kept as it was
        when the fetch stopped early); no HTTP validators."""
        extra: dict[str, int] = {}
        for vocabulary in self.vocabularies():
            vocabulary.report(collected, extra)
        if collected.excluded:
            extra["excluded"] = collected.excluded
        new_state: dict[str, Any] = {"version": self.state_version}
        if collected.complete:
            new_state.update(RangeBookmark.read(state).after(ctx).to_json())
        else:
            new_state.update({k: v for k, v in state.items() if k != "http"})
        client.stats.count("incidents", len(collected.records.get("incidents", [])))
        frames = merge_frames(previous, collected.frames())
        return self.result(collected, client, frames=frames, state=new_state, extra=extra)
