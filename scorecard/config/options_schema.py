"""A kind's ``Options`` dataclass read as the schema of its ``[sources.NAME]`` section.

Each field is a config key (``api_url`` is written under the class's
``url_key``); its type says how the value is checked (``str``, ``int``,
``float``, ``bool``, ``Path``, each optionally ``| None``; ``tuple[str, ...]``
a list of strings; ``Mapping[str, str]`` a table of strings; ``Literal[...]``
one of the choices) and its :class:`~scorecard.options.OptionSpec` adds ranges,
checks (``url``, ``regex``, ``regex_list``, ``env_name``, ``severity_map``,
``path``) and whether the key is required or sensitive. Adding an option to a
source needs no change here.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Union

from scorecard.config.checker import Checker
from scorecard.config.toml_lines import KeyPath
from scorecard.model import SEVERITIES
from scorecard.options import HttpOptions, OptionSpec, SourceOptions, option_spec

__all__ = ["OptionField", "check_order", "option_fields", "read_options", "read_value"]

Shape = Literal["str", "int", "float", "bool", "path", "list", "table"]


@dataclass(frozen=True)
class OptionField:
    """One field of an Options class as a config key: how to read and check it."""

    name: str
    """The dataclass field."""
    key: str
    """The key the config writes it under (``url`` for ``api_url`` on some kinds)."""
    shape: Shape
    choices: tuple[str, ...] | None
    spec: OptionSpec
    default: Any
    """The field's default (``dataclasses.MISSING`` when it has none)."""

    @property
    def sensitive(self) -> bool:
        """Never echo the value: a token, a header, or what may be a pasted token."""
        return self.spec.sensitive or self.spec.check == "env_name"

    @property
    def example(self) -> str:
        """How a value is written in a hint."""
        if self.spec.example is not None:
            return self.spec.example
        if isinstance(self.default, (int, float)) and not isinstance(self.default, bool):
            return str(self.default)
        return '"..."'


_FIELDS: dict[type[SourceOptions], tuple[OptionField, ...]] = {}


def option_fields(cls: type[SourceOptions]) -> tuple[OptionField, ...]:
    """The config keys of ``cls``, in declaration order."""
    if cls not in _FIELDS:
        _FIELDS[cls] = _option_fields(cls)
    return _FIELDS[cls]


def _option_fields(cls: type[SourceOptions]) -> tuple[OptionField, ...]:
    hints = typing.get_type_hints(cls)
    url_key = cls.url_key if issubclass(cls, HttpOptions) else "api_url"
    out: list[OptionField] = []
    for field in dataclasses.fields(cls):
        shape, choices = _shape_of(cls, field.name, hints[field.name])
        if field.default is not dataclasses.MISSING:
            default: Any = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = dataclasses.MISSING
        key = url_key if field.name == "api_url" else field.name
        out.append(OptionField(field.name, key, shape, choices, option_spec(field), default))
    return tuple(out)


_SCALARS: dict[object, Shape] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    Path: "path",
}


def _shape_of(cls: type, name: str, hint: Any) -> tuple[Shape, tuple[str, ...] | None]:
    """How a field's type is read from TOML, and its choices for a ``Literal``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _shape_of(cls, name, rest[0])
    if hint in _SCALARS:
        return _SCALARS[hint], None
    if origin is Literal and all(isinstance(a, str) for a in args):
        return "str", tuple(args)
    if origin is tuple and args in ((str, ...),):
        return "list", None
    if origin in (Mapping, dict, typing.Mapping) and args == (str, str):
        return "table", None
    raise TypeError(
        f"{cls.__qualname__}.{name}: the config cannot read a {hint!r} option; use str, int, "
        "float, bool, Path (each optionally | None), tuple[str, ...], Mapping[str, str] "
        "or a Literal of strings"
    )


_FIRST: Final = ("refresh_minutes", "allow_insecure", "api_url", "token", "token_env")
"""Checked first, in this order: how to reach the source (``allow_insecure`` before
the URL it allows)."""
_LAST: Final = ("max_wait_s",)
"""Checked last. In between: the other common fields in declaration order, then the
kind's own fields by key; so a config with several mistakes reports the same one
first as before the Options classes were the schema."""


def check_order(cls: type[SourceOptions]) -> tuple[list[OptionField], list[OptionField]]:
    """The fields of ``cls`` in the order they are checked: the connection, then the rest."""
    fields = option_fields(cls)
    by_name = {f.name: f for f in fields}
    common = {f.name for f in dataclasses.fields(HttpOptions)}
    first = [by_name[n] for n in _FIRST if n in by_name]
    last = [by_name[n] for n in _LAST if n in by_name]
    shared = [f for f in fields if f.name in common and f not in first and f not in last]
    own = sorted((f for f in fields if f.name not in common), key=lambda f: f.key)
    return first, [*shared, *own, *last]


def read_options(
    ck: Checker,
    section: KeyPath,
    kind: str,
    cls: type[SourceOptions],
    body: Mapping[str, Any],
    *,
    connection_read: Callable[[Mapping[str, Any]], None] | None = None,
) -> SourceOptions:
    """``body`` checked against ``cls``: unknown keys, required keys, each value's
    type, range and check. ``connection_read`` sees the connection's values
    (``token``, ``token_env``, …) before the rest is checked. Cross-field checks
    are the caller's (see :meth:`SourceOptions.problems`)."""
    ck.keys(body, section, [f.key for f in option_fields(cls)] + ["kind"])
    first, rest = check_order(cls)
    values: dict[str, Any] = {}
    _read_fields(ck, section, kind, first, body, values)
    if connection_read is not None:
        connection_read(values)
    _read_fields(ck, section, kind, rest, body, values)
    return cls(**values)


def _read_fields(
    ck: Checker,
    section: KeyPath,
    kind: str,
    fields: Sequence[OptionField],
    body: Mapping[str, Any],
    values: dict[str, Any],
) -> None:
    """Check ``fields`` in order into ``values`` (a URL sees ``allow_insecure``)."""
    for f in fields:
        if f.key in body:
            insecure = bool(values.get("allow_insecure", False))
            values[f.name] = read_value(ck, (*section, f.key), f, body, insecure)
        elif f.spec.required or f.default is dataclasses.MISSING:
            ck.fail((*section, f.key), f"a {kind} source needs `{f.key}`", _needs_hint(f))


def _needs_hint(f: OptionField) -> str:
    hint = f"add e.g. `{f.key} = {f.example}`"
    if f.spec.check == "path":
        hint += " (relative to this config file's folder)"
    return hint


def read_value(
    ck: Checker, key: KeyPath, f: OptionField, body: Mapping[str, Any], allow_insecure: bool
) -> Any:
    """The value of one key, checked by its field's shape and spec."""
    check, spec = f.spec.check, f.spec
    if check == "url":
        return ck.url(body, key, allow_insecure)
    if check == "regex":
        return ck.regex(body, key)
    if f.shape == "str":
        return ck.string(body, key, choices=f.choices, sensitive=f.sensitive)
    if f.shape == "path":
        return _path(ck, key, body)
    if f.shape == "bool":
        return ck.boolean(body, key, bool(f.default))
    if f.shape == "int":
        low = None if spec.low is None else int(spec.low)
        high = None if spec.high is None else int(spec.high)
        whole = f.default if isinstance(f.default, int) else 0
        return ck.integer(body, key, whole, low=low, high=high)
    if f.shape == "float":
        default = f.default if isinstance(f.default, (int, float)) else 0.0
        return ck.number(
            body, key, default, low=spec.low, high=spec.high, low_exclusive=spec.low_exclusive
        )
    if f.shape == "list":
        return ck.str_list(body, key, regex=check == "regex_list")
    choices = SEVERITIES if check == "severity_map" else None
    return ck.str_table(body, key, choices=choices, sensitive=f.sensitive)


def _path(ck: Checker, key: KeyPath, body: Mapping[str, Any]) -> Path:
    """A path, resolved against the config file's folder when relative."""
    raw = ck.string(body, key) or ""
    base = ck.path.parent if ck.path is not None else Path.cwd()
    resolved = Path(raw).expanduser()
    if not resolved.is_absolute():
        resolved = Path(os.path.normpath(base.absolute() / resolved))
    return resolved
