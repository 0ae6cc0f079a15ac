"""Sources: connections that turn external systems into normalized events.

Only the light-weight contract is imported here; each kind's module (and its
heavy dependencies) loads when a source of that kind is first built.
"""

from scorecard.sources.base import (
    KNOWN_KINDS,
    FatalSourceError,
    FetchContext,
    Source,
    SourceError,
    SourceResult,
    build_source,
    register,
    registered_kinds,
)

__all__ = [
    "KNOWN_KINDS",
    "FatalSourceError",
    "FetchContext",
    "Source",
    "SourceError",
    "SourceResult",
    "build_source",
    "register",
    "registered_kinds",
]
