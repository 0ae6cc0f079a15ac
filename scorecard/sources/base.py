"""The contract between sync and every source, and the registry of source kinds.

A source turns one configured system (a CI vendor, a pager, a directory of
exports) into the normalized event tables of :mod:`scorecard.model`. Sync only
ever talks to this protocol, so a new vendor is one module that registers its
kind; nothing else changes. Source modules are imported on first use, not at
startup, because most runs (the TUI reading the cache) never fetch anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scorecard.config import KNOWN_KINDS as KNOWN_KINDS

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import SourceConfig

# Every kind the config accepts (SPEC §5) is config.KNOWN_KINDS. A kind is
# "supported" once a module ``scorecard.sources.<kind>`` exists and registers
# itself with ``@register``.


class SourceError(Exception):
    """A source could not deliver its data; the message is shown to the user.

    ``retriable`` says whether trying again later may help (network trouble,
    rate limits) as opposed to a problem the user has to fix.
    """

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class FatalSourceError(SourceError):
    """Bad configuration, credentials or input: retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=False)


def _no_progress(text: str) -> None:
    """Default progress callback: say nothing."""


@dataclass
class FetchContext:
    """What one fetch is asked to do."""

    since: datetime
    """Fetch events from here on (timezone-aware UTC)."""
    until: datetime
    """The end of the range, usually now."""
    full: bool = False
    """Ignore bookmarks (cursors, ETags) and fetch the whole range again."""
    state: dict[str, Any] = field(default_factory=dict)
    """This source's previous sync state; a mutable copy the source may change."""
    progress: Callable[[str], None] = _no_progress
    """Report short status text ("page 3 of acme/api")."""


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
    """False when the source stopped early (budget spent) and the data is partial."""

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


class SourceFactory(Protocol):
    """Builds a source from its config (a source class is a factory)."""

    def __call__(self, cfg: SourceConfig, *, strict: bool = False) -> Source: ...


_F = TypeVar("_F", bound=SourceFactory)

_REGISTRY: dict[str, SourceFactory] = {}


def register(kind: str) -> Callable[[_F], _F]:
    """Class decorator: make ``kind`` build sources with the decorated factory."""

    def decorate(factory: _F) -> _F:
        _REGISTRY[kind] = factory
        return factory

    return decorate


def registered_kinds() -> tuple[str, ...]:
    """Kinds whose modules have been imported and registered, sorted."""
    return tuple(sorted(_REGISTRY))


def _factory_for(name: str, kind: str) -> SourceFactory:
    factory = _REGISTRY.get(kind)
    if factory is not None:
        return factory
    if kind not in KNOWN_KINDS:
        known = ", ".join(KNOWN_KINDS)
        raise FatalSourceError(f"source '{name}': unknown kind '{kind}' (known kinds: {known})")
    module = f"scorecard.sources.{kind}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    factory = _REGISTRY.get(kind)
    if factory is None:
        raise FatalSourceError(
            f"source '{name}': kind '{kind}' is not supported yet in this version"
        )
    return factory


def build_source(cfg: SourceConfig, *, strict: bool = False) -> Source:
    """A ready-to-fetch source for ``cfg``.

    ``strict`` (the ``--strict`` flag) makes bad input fatal on top of the
    source's own ``strict`` setting. Unknown or not-yet-implemented kinds raise
    :class:`FatalSourceError`.
    """
    factory = _factory_for(cfg.name, cfg.kind)
    return factory(cfg, strict=strict)
