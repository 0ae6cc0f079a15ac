"""Sources: connections that turn external systems into normalized events.

Only the light-weight contract and the registry are imported here; each kind's
module (and its heavy dependencies) loads when a source of that kind is first
built or its options are asked for.
"""

from scorecard.sources.contract import (
    FatalSourceError,
    FetchContext,
    Source,
    SourceError,
    SourceResult,
)
from scorecard.sources.registry import (
    KNOWN_KINDS,
    build_source,
    known_kinds,
    options_class,
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
    "known_kinds",
    "options_class",
    "register",
    "registered_kinds",
]
