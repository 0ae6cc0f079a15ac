"""Typed options: each source kind's ``Options`` dataclass is its config schema.

A source module declares its settings once, as a frozen dataclass whose fields
carry the type, the default, the allowed values (``Literal``) and a docstring
right under each field (posting-style). The config checker validates a
``[sources.NAME]`` section against the kind's class (types, choices, ranges,
unknown keys with "did you mean", file:line:key errors), ``scorecard init`` and
``config.example.toml`` are checked against the same fields, and the source
reads typed attributes instead of ``options.get("…")`` with a second default.

Field types the checker understands: ``str``, ``int``, ``float``, ``bool``,
``Path``, each optionally ``| None``; ``tuple[str, ...]`` (a TOML list of
strings); ``Mapping[str, str]`` (a TOML table of strings); ``Literal[...]``
(one of the choices). :func:`option` adds what a type cannot say: a range, a
check (``url``, ``regex``, ``env_name``, ``severity``), that a key is required
or sensitive. Checks that span fields or need the rest of the config (a team
name that must exist) go in :meth:`SourceOptions.problems`.

Cheap to import (no pandas, no httpx): config loading imports it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

__all__ = [
    "DEFAULT_MAX_WAIT_S",
    "KEYRING_MARKER",
    "Check",
    "HttpOptions",
    "OptionProblem",
    "OptionSpec",
    "SourceOptions",
    "field_docs",
    "option",
    "option_spec",
]

Check = Literal["url", "regex", "regex_list", "env_name", "severity_map", "path"]
"""Checks beyond the type: ``url`` (http(s) URL; plain http only to localhost or
with ``allow_insecure``), ``regex`` / ``regex_list`` (compiles), ``env_name`` (an
environment variable's name, not a token), ``severity_map`` (values are
``sev1``..``sev5``), ``path`` (resolved against the config file's folder)."""

KEYRING_MARKER: Final = "keyring"
"""``token = "keyring"``: read the source's token from the OS keyring."""

DEFAULT_MAX_WAIT_S: Final = 60.0
"""Longest wait for a vendor's rate limit before a sync stops with partial data."""


@dataclass(frozen=True)
class OptionSpec:
    """What a field's type cannot say about a config key."""

    check: Check | None = None
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    required: bool = False
    """The key must be written (the source cannot work without it)."""
    sensitive: bool = False
    """Never echo the value in an error message (tokens, headers)."""
    example: str | None = None
    """How the value is written in an example (``'"https://prometheus.acme.com"'``)."""


_NO_SPEC: Final = OptionSpec()


def option(
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    check: Check | None = None,
    low: float | None = None,
    high: float | None = None,
    low_exclusive: bool = False,
    required: bool = False,
    sensitive: bool = False,
    example: str | None = None,
) -> Any:
    """A dataclass field with an :class:`OptionSpec` in its metadata."""
    spec = OptionSpec(check, low, high, low_exclusive, required, sensitive, example)
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={"option": spec})
    return dataclasses.field(default=default, metadata={"option": spec})


def option_spec(field: dataclasses.Field[Any]) -> OptionSpec:
    """The field's :class:`OptionSpec` (an empty one for a plain field)."""
    spec = field.metadata.get("option")
    return spec if isinstance(spec, OptionSpec) else _NO_SPEC


@dataclass(frozen=True)
class OptionProblem:
    """A problem :meth:`SourceOptions.problems` found: the key, what, how to fix."""

    key: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class SourceOptions:
    """Options every source kind takes."""

    refresh_minutes: float = option(60.0, low=0, low_exclusive=True)
    """Minutes after which this source's data counts as stale (the `stale` flag)."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """Checks that span fields or need the config's team names; none by default."""
        return iter(())


@dataclass(frozen=True)
class HttpOptions(SourceOptions):
    """Options every source that talks to an HTTP API takes (SPEC §5)."""

    default_api_url: ClassVar[str | None] = None
    """The vendor's public API, used when ``api_url`` is not written."""
    url_key: ClassVar[str] = "api_url"
    """The key the config writes the URL under (Prometheus and Alertmanager: ``url``)."""

    api_url: str | None = option(None, check="url")
    """The API's base URL; the vendor's public API when left out (EU and self-hosted
    endpoints are just another URL)."""
    token: str | None = option(None, sensitive=True)
    """`"keyring"` to read the token from the OS keyring (`scorecard auth set NAME`);
    a token written here in plain text works but warns on every run."""
    token_env: str | None = option(None, check="env_name")
    """The name of an environment variable that holds the token."""
    timeout_s: float = option(30.0, low=0, low_exclusive=True)
    """Seconds before a request without an answer is retried."""
    max_concurrency: int = option(4, low=1, high=256)
    """Requests in flight at once for this source."""
    allow_insecure: bool = False
    """Allow plain `http://` to hosts other than localhost."""
    max_wait_s: float = option(DEFAULT_MAX_WAIT_S, low=0)
    """Longest wait for the vendor's rate limit before the sync stops with partial data."""

    @property
    def base_url(self) -> str | None:
        """``api_url``, else the vendor's default."""
        return self.api_url or self.default_api_url


def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal right under it), over the class
    and its bases; the nearest class wins."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0]
        if not isinstance(body, ast.ClassDef):
            continue
        docs.update(_docs_in(body.body))
    return docs


def _docs_in(statements: Sequence[ast.stmt]) -> Iterator[tuple[str, str]]:
    for before, after in itertools.pairwise(statements):
        if (
            isinstance(before, ast.AnnAssign)
            and isinstance(before.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            yield before.target.id, " ".join(after.value.value.split())
