"""The contract between the sync and every source: what a fetch is asked to do
(:class:`FetchContext`), what it delivers (:class:`SourceResult`) and the
:class:`Source` protocol itself.

A source turns one configured system (a CI vendor, a pager, a directory of
exports) into the normalized event tables of :mod:`scorecard.model`. The sync
only ever talks to this protocol, so a new vendor is one module that registers
its kind (see :mod:`scorecard.sources.registry`). Cheap to import: no pandas,
no httpx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scorecard.errors import FatalSourceError, SourceError
from scorecard.options import HttpOptions, SourceOptions
from scorecard.status import RequestStats, Tick

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import SourceConfig

__all__ = [
    "FatalSourceError",
    "FetchContext",
    "Source",
    "SourceError",
    "SourceResult",
    "http_options",
    "typed_options",
]

OptionsT = TypeVar("OptionsT", bound=SourceOptions)


def _no_progress(text: str) -> None:
    """Default progress callback: say nothing."""


def _no_tick(tick: Tick) -> None:
    """Default progress-bar callback: show nothing."""


def _no_previous() -> dict[str, pd.DataFrame]:
    return {}


@dataclass
class FetchContext:
    """What one fetch is asked to do."""

    since: datetime
    """Fetch events from here on (timezone-aware UTC)."""
    until: datetime
    """The end of the range, usually now."""
    full: bool = False
    """Ignore bookmarks (cursors, ETags) and fetch the whole range again."""
    recent_since: datetime | None = None
    """Where the current and previous windows begin: sources that backfill newest first
    read ``[recent_since, until)`` for every repo before any older history, so a sync
    stopped by a rate limit still scores the present."""
    state: dict[str, Any] = field(default_factory=dict)
    """This source's previous sync state; a mutable copy the source may change."""
    progress: Callable[[str], None] = _no_progress
    """Report short status text ("page 3 of acme/api")."""
    tick: Callable[[Tick], None] = _no_tick
    """Report how far the fetch has got (parts done, cost, budget left) for a bar."""
    load_previous: Callable[[], dict[str, pd.DataFrame]] = _no_previous
    """This source's cached events from its last success (empty on ``full``).

    Incremental sources merge their fresh events into these, because the store
    replaces a source's data with each result."""


@dataclass
class SourceResult:
    """What one fetch delivered."""

    frames: dict[str, pd.DataFrame]
    """Event kind -> typed frame (``model.coerce``'d); kinds not produced are absent."""
    skipped: int = 0
    """Bad rows or records that were skipped (and counted, never silently dropped)."""
    problems: list[str] = field(default_factory=list)
    """Human-readable messages, e.g. ``deployments.csv:14: finished_at: not a timestamp``."""
    state: dict[str, Any] = field(default_factory=dict)
    """New sync state to persist (cursors, ETags). Never credentials."""
    rate_limit_remaining: int | None = None
    """Requests left in the vendor's rate-limit budget, when known."""
    complete: bool = True
    complete_since: dict[str, datetime] = field(default_factory=dict)
    """Repo -> how far back its events are complete, where that is short of the range
    asked for (older history still to backfill); empty when everything is."""
    """False when the source stopped early (budget spent) and the data is partial."""
    stats: RequestStats = field(default_factory=RequestStats)
    """What the source's HTTP client did (requests, 304s, retries, records per stream),
    for the sync summary and the Sources screen; empty for sources without one."""

    @property
    def items(self) -> int:
        """Total number of events across all kinds."""
        return sum(len(frame) for frame in self.frames.values())


class Source(Protocol):
    """One configured connection that yields normalized events."""

    name: str
    kind: str

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        """Fetch events for ``ctx``; raise :class:`SourceError` on failure."""
        ...


def typed_options(cls: type[OptionsT], cfg: SourceConfig) -> OptionsT:
    """``cfg.options`` as ``cls``; a config whose options are of another kind is a
    programming error, reported as a fatal source error naming the source."""
    options: Any = cfg.options
    if not isinstance(options, cls):
        raise FatalSourceError(
            f"source '{cfg.name}': kind '{cfg.kind}' needs {cls.__name__}, "
            f"got {type(options).__name__}"
        )
    return options


def http_options(cfg: SourceConfig) -> HttpOptions:
    """The HTTP settings of ``cfg`` (its own typed options when it has them)."""
    return typed_options(HttpOptions, cfg)
