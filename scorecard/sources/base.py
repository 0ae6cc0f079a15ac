"""Where the source contract, the HTTP layer and the record helpers used to live.

Kept only so code written against the old single module goes on working while
it moves to the single-purpose modules: :mod:`.contract` (``FetchContext``,
``SourceResult``, ``Source``), :mod:`.registry` (kinds, ``build_source``),
:mod:`.http` (``HttpClient``), :mod:`.paginate` and :mod:`.records`. Setting the
timing knobs here (``sleep``, ``clock``, ``BACKOFF_*``, as tests do) sets them on
:mod:`.http`. Remove this module once nothing imports it.
"""

from __future__ import annotations

import sys
import types
from typing import Any, Final

from scorecard.errors import FatalSourceError, PaginationLoop, RateLimitExhausted, SourceError
from scorecard.sources import http
from scorecard.sources.contract import FetchContext, Source, SourceResult
from scorecard.sources.http import (
    BACKOFF_INITIAL_S,
    BACKOFF_MAX_S,
    RETRY_ATTEMPTS,
    HttpClient,
    Page,
    request_key,
)
from scorecard.sources.paginate import (
    link_next,
    paginate_cursor,
    paginate_link,
    paginate_offset,
    paginate_pages,
)
from scorecard.sources.records import Collected, iso, merge_frames, parse_time
from scorecard.sources.registry import KNOWN_KINDS, build_source, register, registered_kinds

__all__ = [
    "BACKOFF_INITIAL_S",
    "BACKOFF_MAX_S",
    "KNOWN_KINDS",
    "RETRY_ATTEMPTS",
    "Collected",
    "FatalSourceError",
    "FetchContext",
    "HttpClient",
    "Page",
    "PaginationLoop",
    "RateLimitExhausted",
    "Source",
    "SourceError",
    "SourceResult",
    "build_source",
    "iso",
    "link_next",
    "merge_frames",
    "paginate_cursor",
    "paginate_link",
    "paginate_offset",
    "paginate_pages",
    "parse_time",
    "register",
    "registered_kinds",
    "request_key",
]

_FORWARDED: Final = frozenset({"sleep", "clock", "BACKOFF_INITIAL_S", "BACKOFF_MAX_S"})


class _ForwardingModule(types.ModuleType):
    """Setting a timing knob on this module sets it where the HTTP client reads it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FORWARDED:
            setattr(http, name, value)
        super().__setattr__(name, value)


sleep = http.sleep
clock = http.clock
sys.modules[__name__].__class__ = _ForwardingModule
