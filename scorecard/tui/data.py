"""Where the TUI's scorecards come from: the demo, the cache, or a sync.

Every load starts from one :class:`~scorecard.request.ScoreRequest` (as-of,
window, now), built by :attr:`Sources.request` for the window asked for
(``None``: the configured one) at the moment of the load. A *loader* builds the
scorecard for a request; a *refresher* does the same after refreshing the data,
reporting progress as ``(source, message)``. All three run in worker threads
(the config's default window may import the demo's config). Tests inject their
own loaders and refreshers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scorecard.errors import UsageError
from scorecard.request import DEFAULT_WINDOW_DAYS, ScoreRequest

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.service import Scorecard
    from scorecard.store import Store

Progress = Callable[[str, str], None]
Loader = Callable[[ScoreRequest], "Scorecard"]
Refresher = Callable[[ScoreRequest, Progress], "Scorecard"]
Requester = Callable[[int | None], ScoreRequest]

NO_CONFIG = (
    "no config file found: run `scorecard init` to write one, "
    "or `scorecard demo` to explore the demo org"
)


@dataclass
class TuiOptions:
    """How the command line started the TUI."""

    config: Config | None = None
    demo: bool = False
    read_only: bool = False
    offline: bool = False
    as_of: datetime | None = None
    window_days: int | None = None
    store_root: Path | None = None


@dataclass(frozen=True)
class Sources:
    request: Requester
    """The request for a window (None: the configured one), made now."""
    loader: Loader
    refresher: Refresher | None  # None: refresh is not bound (read-only)
    refresh_writes: bool
    refresh_label: str


def requester(
    default_window: Callable[[], int],
    *,
    as_of: datetime | None,
    offline: bool,
    now: Callable[[], datetime],
) -> Requester:
    """Requests pinned to ``as_of`` (when given) and made at ``now()``."""

    def request(window: int | None) -> ScoreRequest:
        return ScoreRequest.resolve(
            as_of=as_of,
            window_days=window,
            now=now(),
            default_window_days=default_window(),
            offline=offline,
        )

    return request


def demo_sources(as_of: datetime | None, now: Callable[[], datetime]) -> Sources:
    """The built-in demo org; refreshing regenerates it."""

    def demo_window() -> int:
        from scorecard.demo import demo_config

        return demo_config().window_days

    def load(request: ScoreRequest) -> Scorecard:
        from scorecard import service

        return service.demo_scorecard(request=request)

    def regenerate(request: ScoreRequest, progress: Progress) -> Scorecard:
        progress("demo", "regenerating the demo org")
        return load(request)

    request = requester(demo_window, as_of=as_of, offline=False, now=now)
    return Sources(request, load, regenerate, refresh_writes=False, refresh_label="Regenerate")


def missing_config(now: Callable[[], datetime]) -> Sources:
    """No config and no demo: every load says what to run."""

    def missing(request: ScoreRequest) -> Scorecard:
        raise UsageError(NO_CONFIG)

    request = requester(lambda: DEFAULT_WINDOW_DAYS, as_of=None, offline=True, now=now)
    return Sources(request, missing, None, refresh_writes=False, refresh_label="Reload")


def config_sources(config: Config, options: TuiOptions, now: Callable[[], datetime]) -> Sources:
    """The cache of ``config``'s sources; refreshing syncs them first (re-reads the
    cache when offline; nothing when read-only)."""
    read_only, offline = options.read_only, options.offline

    def store() -> Store:
        from scorecard.store import Store

        return Store(options.store_root, read_only=read_only)

    def cached(request: ScoreRequest) -> Scorecard:
        from scorecard import service

        return service.cached_scorecard(config, store(), request=request)

    def reread(request: ScoreRequest, progress: Progress) -> Scorecard:
        progress("cache", "re-reading the cache")
        return cached(request)

    def synced(request: ScoreRequest, progress: Progress) -> Scorecard:
        from scorecard import service

        _, scorecard = service.sync_and_score(config, store(), request, progress=progress)
        return scorecard

    request = requester(lambda: config.window_days, as_of=options.as_of, offline=offline, now=now)
    if offline or read_only:
        # re-reading writes nothing, but read-only sessions bind no refresh at all
        refresher = None if read_only else reread
        return Sources(request, cached, refresher, refresh_writes=False, refresh_label="Reload")
    return Sources(request, cached, synced, refresh_writes=True, refresh_label="Refresh")


def sources_for(options: TuiOptions, now: Callable[[], datetime]) -> Sources:
    """Requests, loader and refresher for the options the TUI was started with."""
    if options.demo:
        return demo_sources(options.as_of, now)
    if options.config is None:
        return missing_config(now)
    return config_sources(options.config, options, now)
