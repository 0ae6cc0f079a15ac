"""Configured sources for tests, built from option keys as a ``[sources.NAME]``
section would write them: ``source_config("gh", "github", api_url=url, timeout_s=5)``.

Cheap to import (no pandas): source, HTTP and secrets tests use it.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from scorecard.config import Config, SourceConfig, TeamConfig
from scorecard.options import HttpOptions, SourceOptions
from scorecard.sources.registry import known_kinds, options_class


def source_config(name: str, kind: str, **keys: Any) -> SourceConfig:
    """A source of ``kind`` with these option keys (``options={...}`` adds more).

    Keys the kind's Options lack but HttpOptions has (a ``token`` on a files
    source, to prove a token is never shown) give it HttpOptions' fields too; an
    unknown kind gets the options every kind takes."""
    extra = keys.pop("options", {})
    keys = {**keys, **extra}
    cls = options_class(kind) if kind in known_kinds() else SourceOptions
    if not set(keys) <= {f.name for f in dataclasses.fields(cls)}:
        cls = _with_http_fields(cls)
    return SourceConfig(name=name, kind=kind, options=cls(**keys))


@functools.cache
def _with_http_fields(cls: type[SourceOptions]) -> type[SourceOptions]:
    if issubclass(cls, HttpOptions):
        return cls
    made: type[SourceOptions] = dataclasses.make_dataclass(
        f"{cls.__name__}WithToken", [], bases=(cls, HttpOptions), frozen=True
    )
    return made


def payments_and_search(source: SourceConfig) -> Config:
    """The two-team org most source tests sync: Payments owns ``acme/payments-api``,
    Search ``acme/search``; ``source`` is the only source."""
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=("acme/payments-api",)),
            TeamConfig(name="Search", repos=("acme/search",)),
        ),
        sources=(source,),
    )
