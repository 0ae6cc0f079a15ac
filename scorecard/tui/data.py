"""Where the TUI's scorecards come from: the demo, the cache, or a sync.

A *loader* builds a scorecard for a window (``None``: the configured one); a
*refresher* does the same after refreshing the data, reporting progress as
``(source, message)``. Both run in worker threads. Tests inject their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.service import Scorecard

Progress = Callable[[str, str], None]
Loader = Callable[[int | None], "Scorecard"]
Refresher = Callable[[int | None, Progress], "Scorecard"]


class NoConfigError(Exception):
    """The TUI was started without a config and without ``--demo``."""


@dataclass(frozen=True)
class Sources:
    loader: Loader
    refresher: Refresher | None  # None: refresh is not bound (read-only)
    refresh_writes: bool
    refresh_label: str


def sources_for(
    *,
    config: Config | None,
    demo: bool,
    read_only: bool,
    offline: bool,
    as_of: datetime | None,
    store_root: Path | None,
    now: Callable[[], datetime],
) -> Sources:
    """Loader and refresher for the options the TUI was started with."""
    if demo:

        def demo_load(window: int | None) -> Scorecard:
            from scorecard import service

            return service.demo_scorecard(as_of, window_days=window)

        def demo_refresh(window: int | None, progress: Progress) -> Scorecard:
            progress("demo", "regenerating the demo org")
            return demo_load(window)

        return Sources(demo_load, demo_refresh, refresh_writes=False, refresh_label="Regenerate")

    if config is None:

        def missing(window: int | None) -> Scorecard:
            raise NoConfigError(
                "no config file found: run `scorecard init` to write one, "
                "or `scorecard demo` to explore the demo org"
            )

        return Sources(missing, None, refresh_writes=False, refresh_label="Reload")

    cfg = config

    def store() -> Any:
        from scorecard.store import Store

        return Store(store_root, read_only=read_only)

    def cached(window: int | None) -> Scorecard:
        from scorecard import service

        return service.cached_scorecard(cfg, store(), as_of=as_of, window_days=window, now=now())

    if offline or read_only:

        def reread(window: int | None, progress: Progress) -> Scorecard:
            progress("cache", "re-reading the cache")
            return cached(window)

        # re-reading writes nothing, but read-only sessions bind no refresh at all
        return Sources(
            cached, None if read_only else reread, refresh_writes=False, refresh_label="Reload"
        )

    def synced(window: int | None, progress: Progress) -> Scorecard:
        from scorecard import service

        summary, scorecard = service.sync_and_score(
            cfg, store(), as_of=as_of, window_days=window, progress=progress
        )
        del summary
        return scorecard

    return Sources(cached, synced, refresh_writes=True, refresh_label="Refresh")
