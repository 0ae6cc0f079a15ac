"""Typed checks of config values that fail with file, line, key and a fix.

:class:`Checker` holds the config text and its :class:`KeyLocator`; each check
(string, number, list, table, URL, regular expression) returns the value or
raises one :class:`ConfigError` naming where the value is and what to write
instead. Sensitive values (tokens, headers) are described, never echoed.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from scorecard.config.toml_lines import KeyLocator, KeyPath, dotted
from scorecard.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Checker", "choice_hint", "closest_hint", "describe", "fmt"]

_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def describe(value: object, sensitive: bool = False) -> str:
    """How a wrong value is shown in an error (never the value when sensitive)."""
    if isinstance(value, bool):
        return "true (a boolean)" if value else "false (a boolean)"
    if isinstance(value, str):
        if sensitive:
            return "a string"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return "a number" if sensitive else repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def closest_hint(word: str, known: Collection[str], what: str = "keys") -> str:
    """``did you mean `x`?`` for a near miss, else every known name."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"known {what}: " + ", ".join(sorted(known))


def choice_hint(word: str, choices: Sequence[str]) -> str:
    """The allowed values, led by ``did you mean `x`?`` for a near miss."""
    listed = "use one of: " + ", ".join(choices)
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`? ({listed})" if close else listed


class Checker:
    """Type and range checks that raise ConfigError with file, line and key."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text = text
        self.path = path
        self.locator = KeyLocator(text)

    def fail(self, key: KeyPath, message: str, hint: str | None = None) -> NoReturn:
        """Raise the ConfigError for ``key``: file, its line, the dotted key, the fix."""
        raise ConfigError(
            message,
            path=self.path,
            line=self.locator.line_for(key),
            key=dotted(key) or None,
            hint=hint,
        )

    def parse_toml(self) -> dict[str, Any]:
        """The parsed TOML; a syntax error names its line, column and the key there."""
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raw = str(exc)
            line: int | None = None
            m = re.search(r"\(at line (\d+), column (\d+)\)", raw)
            detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", raw)
            if m:
                line = int(m.group(1))
                detail += f" (column {m.group(2)})"
            elif "end of document" in raw:
                line = self.locator.n_lines
            key = self.locator.key_on_line(line) if line is not None else ()
            detail = detail[:1].lower() + detail[1:]
            raise ConfigError(
                f"TOML syntax error: {detail}",
                path=self.path,
                line=line,
                key=dotted(key) or None,
                hint="check quotes, brackets and `key = value` syntax on that line "
                "(strings need double quotes, lists need [ ])",
            ) from None

    def keys(self, table: Mapping[str, Any], key: KeyPath, allowed: Collection[str]) -> None:
        """Fail on the first key of ``table`` not in ``allowed`` (with a "did you mean")."""
        for name in table:
            if name not in allowed:
                self.fail((*key, name), "unknown key", closest_hint(name, allowed))

    def table(self, data: Mapping[str, Any], key: KeyPath) -> dict[str, Any]:
        """The table under ``key`` (empty when absent)."""
        value = data.get(str(key[-1]))
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(
                key,
                f"expected a table, got {describe(value)}",
                f"write it as a [{dotted(key)}] section with `key = value` lines",
            )
        return value

    def string(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        default: str | None = None,
        *,
        choices: Sequence[str] | None = None,
        sensitive: bool = False,
    ) -> str | None:
        """A non-empty string (one of ``choices``); ``sensitive``: never echoed."""
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, str):
            self.fail(
                key,
                f"expected a string, got {describe(value, sensitive)}",
                f'write text in double quotes, e.g. `{name} = "..."`',
            )
        if not value.strip():
            self.fail(key, "must not be empty", "remove the line or give it a value")
        if choices is not None and value not in choices:
            self.fail(
                key,
                f"unknown value {describe(value, sensitive)}",
                choice_hint(value, choices),
            )
        return value

    def number(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        default: float,
        *,
        low: float | None = None,
        high: float | None = None,
        low_exclusive: bool = False,
    ) -> float:
        """A finite number within the range (an int is read as a float)."""
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(
                key,
                f"expected a number, got {describe(value)}",
                f"write a number without quotes, e.g. `{name} = {fmt(default)}`",
            )
        number = float(value)
        self.in_range(key, number, low, high, low_exclusive)
        return number

    def integer(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        default: int,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int:
        """A whole number within the range (``7.0`` counts as 7)."""
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                key,
                f"expected a whole number, got {describe(value)}",
                f"write a whole number without quotes, e.g. `{name} = {default}`",
            )
        self.in_range(key, float(value), low, high, False)
        return value

    def in_range(
        self,
        key: KeyPath,
        number: float,
        low: float | None,
        high: float | None,
        low_exclusive: bool,
    ) -> None:
        """Fail unless ``number`` is finite and within ``low``..``high``."""
        if not math.isfinite(number):
            self.fail(key, f"expected a finite number, got {number}", "use an ordinary number")
        too_low = low is not None and (number <= low if low_exclusive else number < low)
        too_high = high is not None and number > high
        if too_low or too_high:
            if low is not None and high is not None:
                wanted = f"between {fmt(low)} and {fmt(high)}"
            elif low is not None:
                wanted = f"greater than {fmt(low)}" if low_exclusive else f"at least {fmt(low)}"
            else:
                wanted = f"at most {fmt(high or 0)}"
            self.fail(key, f"{fmt(number)} is out of range", f"use a value {wanted}")

    def boolean(self, table: Mapping[str, Any], key: KeyPath, default: bool) -> bool:
        """``true`` or ``false``."""
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, bool):
            self.fail(
                key,
                f"expected true or false, got {describe(value)}",
                f"write `{name} = true` or `{name} = false` (no quotes)",
            )
        return value

    def str_list(
        self, table: Mapping[str, Any], key: KeyPath, *, regex: bool = False
    ) -> tuple[str, ...]:
        """A list of non-empty strings (each a valid regular expression with ``regex``)."""
        name = str(key[-1])
        if name not in table:
            return ()
        value = table[name]
        example = f'`{name} = ["a", "b"]`'
        if isinstance(value, str):
            self.fail(
                key,
                f"expected a list of strings, got a single string {describe(value)}",
                f"wrap it in brackets: `{name} = [{json.dumps(value, ensure_ascii=False)}]`",
            )
        if not isinstance(value, list):
            self.fail(
                key,
                f"expected a list of strings, got {describe(value)}",
                f"write a list of quoted strings, e.g. {example}",
            )
        for item in value:
            if not isinstance(item, str):
                self.fail(
                    key,
                    f"expected a list of strings, but an item is {describe(item)}",
                    f"quote every item, e.g. {example}",
                )
            if not item.strip():
                self.fail(key, "has an empty string in the list", "remove the empty item")
            if regex:
                self.compiles(key, item)
        return tuple(value)

    def regex(self, table: Mapping[str, Any], key: KeyPath) -> str | None:
        """A string that compiles as a regular expression."""
        value = self.string(table, key)
        if value is not None:
            self.compiles(key, value)
        return value

    def compiles(self, key: KeyPath, pattern: str) -> None:
        """Fail unless ``pattern`` is a valid regular expression."""
        try:
            re.compile(pattern)
        except re.error as exc:
            self.fail(
                key,
                f"{describe(pattern)} is not a valid regular expression ({exc})",
                "fix the pattern; escape special characters with a backslash",
            )

    def str_table(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        *,
        choices: Sequence[str] | None = None,
        sensitive: bool = False,
    ) -> dict[str, str]:
        """A table of strings (each one of ``choices``); ``sensitive``: never echoed."""
        sub = self.table(table, key)
        out: dict[str, str] = {}
        for name, value in sub.items():
            item_key = (*key, name)
            if not isinstance(value, str):
                self.fail(
                    item_key,
                    f"expected a string, got {describe(value, sensitive)}",
                    f'write `"{name}" = "..."`',
                )
            if choices is not None and value not in choices:
                self.fail(
                    item_key,
                    f"unknown value {describe(value)}",
                    choice_hint(value, choices),
                )
            out[name] = value
        return out

    def url(self, table: Mapping[str, Any], key: KeyPath, allow_insecure: bool) -> str | None:
        """An http(s) URL without its trailing slash; plain http only to this machine
        or with ``allow_insecure``."""
        value = self.string(table, key)
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(
                key,
                f"{describe(value)} is not an http(s) URL",
                'write a full URL, e.g. "https://api.example.com"',
            )
        if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS and not allow_insecure:
            self.fail(
                key,
                "plain http would send tokens and data unencrypted",
                "use https://, or set `allow_insecure = true` in this source if you really mean it",
            )
        return value.strip().rstrip("/")


def fmt(number: float) -> str:
    """A number as written in a message: ``30``, not ``30.0``."""
    return str(int(number)) if float(number).is_integer() else str(number)
