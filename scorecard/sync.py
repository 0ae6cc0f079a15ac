"""Sync: fetch every configured source concurrently, into the cache or into memory.

Sources are independent, so they run side by side and each is fenced off: an
exception in one becomes that source's error (a one-line message, tokens
redacted) while the others finish. :func:`fetch_all` is that fetch, shared by
``scorecard sync`` (which writes each result into the cache as it arrives) and
``scorecard standup --live`` (which keeps them in memory). A failed source
keeps its last good data in the cache, so its teams show as stale rather than
empty (SPEC §10). Each source's attempt is a :class:`SourceStatus`; a sync's
statuses make the summary the CLI prints and the TUI shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

from scorecard.errors import SourceError
from scorecard.request import ScoreRequest
from scorecard.status import RequestStats, SourceStatus, Tick
from scorecard.store import result_stats
from scorecard.text import printable, redact_tokens

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config, SourceConfig
    from scorecard.sources import FetchContext, SourceResult
    from scorecard.sources.plan import SourcePlan
    from scorecard.store import Store

__all__ = [
    "Fetched",
    "Meter",
    "Progress",
    "SyncSummary",
    "blocking",
    "error_message",
    "fetch_all",
    "stats_text",
    "status_text",
    "sync",
    "sync_blocking",
]

P = ParamSpec("P")
T = TypeVar("T")

Progress = Callable[[str, str], None]
Meter = Callable[[str, Tick], None]
"""Receives each source's progress ticks (a progress bar)."""
"""``progress(source_name, text)``: short status text while a sync runs."""

MAX_PROBLEMS_SHOWN: Final = 10
"""Bad-row and other problem messages printed per source under the summary table."""

NUMERIC_COLUMNS: Final = frozenset({2, 3, 5})
"""Summary table columns aligned right (items, skipped, time)."""


def status_text(status: SourceStatus) -> str:
    """One short word or phrase for tables: ``ok``, ``partial …`` or ``error: …``."""
    if status.last_error is not None:
        return f"error: {status.last_error}"
    if not status.complete:
        return "partial (stopped early)"
    if status.skipped:
        return f"ok ({status.skipped:,} bad rows skipped)"
    return "ok"


def stats_text(stats: RequestStats) -> str:
    """Requests, 304s, retries, rate limit left and items per stream, in one line
    (empty for a source that made no requests)."""
    if stats.empty:
        return ""
    parts = [
        f"{stats.requests:,} requests",
        f"{stats.not_modified:,} not modified (304)",
        f"{stats.retries:,} retries",
    ]
    if stats.malformed:
        parts.append(f"{stats.malformed:,} malformed answers skipped")
    if stats.rate_limit_remaining is not None:
        parts.append(f"rate limit {stats.rate_limit_remaining:,} left")
    if stats.queries:
        left = f", {stats.points_remaining:,} left" if stats.points_remaining is not None else ""
        parts.append(f"{stats.queries:,} GraphQL queries ({stats.points:,} points{left})")
    streams = [f"{stream} {n:,}" for stream, n in sorted(stats.items.items())]
    text = ", ".join(parts)
    return text + ("; " + ", ".join(streams) if streams else "")


@dataclass
class SyncSummary:
    """How each source's attempt went in one sync run."""

    outcomes: list[SourceStatus] = field(default_factory=list)
    """This run's attempt per source, in config order."""
    notices: list[str] = field(default_factory=list)
    """What the cache had to say (e.g. rebuilt because of another schema version)."""

    @property
    def all_failed(self) -> bool:
        """True only when there were sources and every one of them failed."""
        sources = [o for o in self.outcomes if not o.name.startswith("discovery.")]
        return bool(sources) and all(o.last_error is not None for o in sources)

    @property
    def failed(self) -> list[SourceStatus]:
        return [o for o in self.outcomes if o.last_error is not None]

    @property
    def items(self) -> int:
        return sum(o.items for o in self.outcomes)

    def table(self) -> str:
        """A plain, aligned text table (source, kind, items, skipped, status, time),
        then each source's request line and its first problems."""
        notes = [f"cache: {printable(notice)}" for notice in self.notices]
        if not self.outcomes:
            return "\n".join([*notes, "no sources to sync"])
        return "\n".join([*notes, *aligned(list(map(table_row, self.outcomes))), *self.details()])

    def details(self) -> list[str]:
        """The lines under the table: request counters, then problems per source."""
        lines = [f"{o.name}: {text}" for o in self.outcomes if (text := stats_text(o.stats))]
        lines.extend(f"{o.name}: {note}" for o in self.outcomes if (note := o.history_note()))
        for o in self.outcomes:
            shown = o.problems[:MAX_PROBLEMS_SHOWN]
            lines.extend(f"{printable(o.name)}: {printable(p)}" for p in shown)
            if len(o.problems) > len(shown):
                more = len(o.problems) - len(shown)
                lines.append(f"{printable(o.name)}: ... {more:,} more problem(s) not shown")
        return lines


def table_row(status: SourceStatus) -> tuple[str, ...]:
    """One source's cells in the summary table."""
    return (
        printable(status.name),
        printable(status.kind),
        f"{status.items:,}",
        f"{status.skipped:,}",
        printable(status_text(status)),
        f"{status.duration_s:.1f}s",
    )


def aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """The header and ``rows`` as lines whose columns line up."""
    header = ("source", "kind", "items", "skipped", "status", "time")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in NUMERIC_COLUMNS else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), *map(line, rows)]


def error_message(exc: BaseException) -> str:
    """A one-line message for ``exc``, without traceback text."""
    message = " ".join(str(exc).split())
    if isinstance(exc, SourceError):
        return message or type(exc).__name__
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"timed out{': ' + message if message else ''}"
    if isinstance(exc, OSError):
        return message or type(exc).__name__
    return f"unexpected error ({type(exc).__name__}){': ' + message if message else ''}"


def failed_stats(exc: BaseException) -> RequestStats:
    """The request counters the failing source's HTTP client attached to ``exc``."""
    stats = exc.stats if isinstance(exc, SourceError) else None
    return stats if stats is not None else RequestStats()


def scrub_state(value: object, secrets: Sequence[str]) -> object:
    """A copy of a sync state with any token value removed from its strings."""
    if isinstance(value, str):
        return redact_tokens(value, secrets) if secrets else value
    if isinstance(value, dict):
        return {str(k): scrub_state(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_state(v, secrets) for v in value]
    return value


@dataclass
class Fetched:
    """One source's attempt: its status and, when kept in memory, its events."""

    status: SourceStatus
    result: SourceResult | None = None
    """The fetched events (None when the fetch failed or went into the cache)."""


@dataclass(frozen=True)
class FetchPlan:
    """What :func:`fetch_all` asks of every source."""

    config: Config
    request: ScoreRequest
    since: datetime
    store: Store | None = None
    """The cache to read bookmarks and previous events from and write into; None
    keeps every result in memory and touches no cache."""
    full: bool = False
    strict: bool = False
    progress: Progress | None = None
    meter: Meter | None = None


async def fetch_all(
    config: Config,
    request: ScoreRequest,
    *,
    only: str | None = None,
    store: Store | None = None,
    full: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    meter: Meter | None = None,
) -> list[Fetched]:
    """Fetch every configured source (or just ``only``) side by side, for ``request``.

    History covers :meth:`ScoreRequest.history_start` (``history_days`` back, and
    two full windows before the request's as-of) up to the request's now. With ``store``,
    each source starts from its bookmarks (unless ``full``) and its result
    replaces its cached data as soon as it arrives; without, results stay in
    memory. One source failing never stops the others: it becomes a status with
    its (redacted) error. Raises ``ConfigError`` when ``only`` names no source."""
    sources = [config.source(only)] if only is not None else list(config.sources)
    plan = FetchPlan(
        config=config,
        request=request,
        since=request.history_start(config.history_days),
        store=store,
        full=full,
        strict=strict,
        progress=progress,
        meter=meter,
    )
    return list(await asyncio.gather(*(fetch_one(cfg, plan) for cfg in sources)))


class Attempt:
    """One source's fetch in progress: its secrets, clock and progress line."""

    def __init__(self, cfg: SourceConfig, plan: FetchPlan) -> None:
        from scorecard.secrets import token_values

        self.cfg = cfg
        self.plan = plan
        self.secrets = token_values(cfg)
        self.started = time.monotonic()

    def tick(self, tick: Tick) -> None:
        """Report a progress tick; a broken progress bar must not fail the sync."""
        if self.plan.meter is not None:
            with contextlib.suppress(Exception):
                self.plan.meter(self.cfg.name, tick)

    def say(self, text: str) -> None:
        """Report progress; a broken progress display must not fail the sync."""
        if self.plan.progress is not None:
            with contextlib.suppress(Exception):
                self.plan.progress(self.cfg.name, redact_tokens(text, self.secrets))

    def redacted(self, text: str) -> str:
        return redact_tokens(text, self.secrets)

    def context(self) -> FetchContext:
        """What the source is asked: the range, and its bookmarks when incremental."""
        from scorecard.sources import FetchContext

        store, plan, name = self.plan.store, self.plan, self.cfg.name
        if store is None or plan.full:
            return FetchContext(
                since=plan.since,
                until=plan.request.now,
                full=plan.full,
                recent_since=plan.request.previous_start,
                progress=self.say,
                tick=self.tick,
            )

        def previous() -> dict[str, pd.DataFrame]:
            return store.load(sources=[name])

        return FetchContext(
            since=plan.since,
            until=plan.request.now,
            recent_since=plan.request.previous_start,
            state=store.state(name),
            progress=self.say,
            tick=self.tick,
            load_previous=previous,
        )

    def status(self, **fields: Any) -> SourceStatus:
        """This attempt's status (at the request's now, timed until this call)."""
        return SourceStatus(
            name=self.cfg.name,
            kind=self.cfg.kind,
            last_attempt_at=self.plan.request.now,
            duration_s=time.monotonic() - self.started,
            **fields,
        )


async def fetch_one(cfg: SourceConfig, plan: FetchPlan) -> Fetched:
    """Fetch one source for ``plan``, fenced: any failure becomes its status."""
    from scorecard.sources import build_source

    attempt = Attempt(cfg, plan)
    attempt.say("starting")
    try:
        source = build_source(cfg, strict=plan.strict, config=plan.config)
        result = await source.fetch(attempt.context())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one source failing never hides the others
        return await failed(attempt, attempt.redacted(error_message(exc)), stats=failed_stats(exc))
    result.problems = [attempt.redacted(p) for p in result.problems]
    stats = result_stats(result)
    if plan.store is not None:
        state = scrub_state(result.state, attempt.secrets)
        result.state = state if isinstance(state, dict) else {}
        try:
            await asyncio.to_thread(
                plan.store.write_source,
                cfg.name,
                cfg.kind,
                result,
                attempted_at=plan.request.now,
                stats=stats,
            )
        except Exception as exc:
            error = attempt.redacted(f"could not write the cache: {error_message(exc)}")
            return await failed(attempt, error, problems=result.problems, stats=stats)
    skipped = f", {result.skipped:,} skipped" if result.skipped else ""
    attempt.say(f"done: {result.items:,} items{skipped}")
    status = attempt.status(
        last_success_at=plan.request.now,
        items=result.items,
        skipped=result.skipped,
        problems=list(result.problems),
        complete=result.complete,
        complete_since=dict(result.complete_since),
        stats=stats,
    )
    return Fetched(status=status, result=result if plan.store is None else None)


async def failed(
    attempt: Attempt, error: str, *, problems: Sequence[str] = (), stats: RequestStats
) -> Fetched:
    """The attempt failed with ``error``: record it in the cache (the last good data
    stays) and report it."""
    store, cfg = attempt.plan.store, attempt.cfg
    if store is not None:
        try:
            when = attempt.plan.request.now
            await asyncio.to_thread(
                store.record_failure, cfg.name, cfg.kind, error, attempted_at=when
            )
        except Exception as exc:
            error += f" (and the failure could not be recorded: {error_message(exc)})"
    attempt.say(f"failed: {error}")
    status = attempt.status(last_error=error, problems=list(problems), complete=False, stats=stats)
    return Fetched(status=status)


async def sync(
    config: Config,
    store: Store,
    request: ScoreRequest,
    *,
    only: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    strict: bool = False,
    meter: Meter | None = None,
) -> SyncSummary:
    """Fetch all configured sources (or just ``only``) concurrently into ``store``.

    ``request`` says what the history must cover (two full windows before its
    as-of) and its now is recorded as each source's attempt time. Raises
    ``ConfigError`` when ``only`` names no configured source and ``StoreError``
    for a read-only store.
    """
    from scorecard.errors import StoreError

    if store.read_only:
        raise StoreError("cannot sync into a read-only cache")
    config, teams_found = await discovered_teams(config, store, request, refresh=only is None)
    fetched = await fetch_all(
        config,
        request,
        only=only,
        store=store,
        full=full,
        strict=strict,
        progress=progress,
        meter=meter,
    )
    outcomes = [*teams_found, *(f.status for f in fetched)]
    return SyncSummary(outcomes=outcomes, notices=list(store.notices))


async def discovered_teams(
    config: Config, store: Store, request: ScoreRequest, *, refresh: bool
) -> tuple[Config, list[SourceStatus]]:
    """The config with the teams of its ``[discovery.*]`` sections (SPEC §12), so the
    sources fetch what discovered teams own: refreshed into the cache (each section's
    status), or as last cached when only one source syncs."""
    from scorecard.discovery import cache

    if not config.discovery:
        return config, []
    if not refresh:
        return cache.cached_resolution(config, store).config, []
    refreshed = await cache.refresh(config, store, request.now)
    return refreshed.resolved.config, list(refreshed.statuses)


async def plan(
    config: Config, store: Store, request: ScoreRequest, *, only: str | None = None
) -> list[SourcePlan]:
    """What syncing every source (or just ``only``) would cost now (``sync --plan``):
    each source's own estimate where it has one, else what its last sync cost.
    Reads bookmarks and statuses; writes nothing."""
    sources = [config.source(only)] if only is not None else list(config.sources)
    since = request.history_start(config.history_days)
    statuses = store.statuses()
    return list(
        await asyncio.gather(
            *(
                plan_one(cfg, config, store, since, request, statuses.get(cfg.name))
                for cfg in sources
            )
        )
    )


async def plan_one(
    cfg: SourceConfig,
    config: Config,
    store: Store,
    since: datetime,
    request: ScoreRequest,
    status: SourceStatus | None,
) -> SourcePlan:
    """One source's estimate, fenced: a failure is the plan's error."""
    from scorecard.secrets import token_values
    from scorecard.sources import FetchContext, build_source
    from scorecard.sources.plan import SourcePlan

    try:
        source = build_source(cfg, config=config)
        estimate = getattr(source, "plan", None)
        if estimate is not None:
            ctx = FetchContext(since=since, until=request.now, state=store.state(cfg.name))
            found: SourcePlan = await estimate(ctx)
            return found
    except Exception as exc:
        error = redact_tokens(error_message(exc), token_values(cfg))
        return SourcePlan(cfg.name, cfg.kind, error=error)
    if status is None or status.last_success_at is None:
        return SourcePlan(cfg.name, cfg.kind, basis="no estimate before its first sync")
    return SourcePlan(
        cfg.name,
        cfg.kind,
        requests=status.stats.spent,
        points=0,
        basis=f"what its last sync cost ({status.stats.spent:,} requests)",
    )


def blocking(run: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """``run`` for callers without an event loop: each call runs it to the end."""

    @functools.wraps(run)
    def blocked(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(run(*args, **kwargs))

    return blocked


sync_blocking = blocking(sync)
""":func:`sync` for callers without an event loop (the CLI)."""
plan_blocking = blocking(plan)
""":func:`plan` for callers without an event loop (the CLI)."""
