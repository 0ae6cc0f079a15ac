"""Where a key sits in the config text: its line, for file:line:key errors.

``tomllib`` reports no key positions, so :class:`KeyLocator` scans the text
itself: table headers, arrays of tables, dotted and quoted keys, multi-line
values. It is best effort and never raises, so a scanning bug can only cost a
line number, never hide the real error.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from typing import Final

__all__ = ["KeyLocator", "KeyPath", "dotted", "parse_key", "quote_part"]

KeyPath = tuple[str | int, ...]
"""A key as a path: ``("sources", "gh", "timeout_s")``, ``("teams", 0, "name")``."""

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def quote_part(part: str | int) -> str:
    """One part of a dotted key as TOML writes it (``[0]``, ``gh``, ``"my source"``)."""
    if isinstance(part, int):
        return f"[{part}]"
    return part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)


def dotted(key: KeyPath) -> str:
    """The key as shown in messages: ``teams[1].repos``, ``sources."my source"``."""
    out = ""
    for part in key:
        text = quote_part(part)
        if isinstance(part, int):
            out += text
        else:
            out += ("." if out else "") + text
    return out


def parse_key(s: str, i: int) -> tuple[list[str], int] | None:
    """Parse a (possibly dotted, possibly quoted) TOML key at ``s[i:]``."""
    parts: list[str] = []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None
        c = s[i]
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                return None
            raw = s[i + 1 : j]
            try:
                part = str(json.loads(f'"{raw}"'))
            except ValueError:
                part = raw
            i = j + 1
        elif c == "'":
            j = s.find("'", i + 1)
            if j < 0:
                return None
            part = s[i + 1 : j]
            i = j + 1
        else:
            m = _BARE_KEY.match(s, i)
            if not m:
                return None
            part = m.group()
            i = m.end()
        parts.append(part)
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        return parts, i


def scan_value(s: str, i: int, depth: int) -> tuple[int, str | None]:
    """Track bracket depth and open multi-line strings through a value."""
    n = len(s)
    while i < n:
        c = s[i]
        if c == "#":
            break
        if s.startswith('"""', i) or s.startswith("'''", i):
            delim = s[i : i + 3]
            j = s.find(delim, i + 3)
            if j < 0:
                return depth, delim
            i = j + 3
            continue
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            i = j + 1
            continue
        if c == "'":
            j = s.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return depth, None


class KeyLocator:
    """Best-effort map from key paths to line numbers, by scanning the text.

    Tracks the current ``[table]`` / ``[[array]]`` header (and which element
    of each array of tables we are in), then records the line of every
    ``key =``. Never raises, even on invalid TOML.
    """

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        self.key_at: dict[int, KeyPath] = {}
        self.table_at: dict[int, KeyPath] = {}
        self.n_lines = max(1, len(text.splitlines()))
        self._arrays: dict[KeyPath, int] = {}
        # Positions are a nicety: a scanning bug must never hide the real error.
        with contextlib.suppress(Exception):
            self._scan(text)

    def _resolve(self, parts: Sequence[str], is_array: bool) -> KeyPath:
        resolved: list[str | int] = []
        for i, part in enumerate(parts):
            resolved.append(part)
            here = tuple(resolved)
            if is_array and i == len(parts) - 1:
                count = self._arrays.get(here, 0)
                self._arrays[here] = count + 1
                resolved.append(count)
            elif here in self._arrays:
                resolved.append(self._arrays[here] - 1)
        return tuple(resolved)

    def _scan(self, text: str) -> None:
        table: KeyPath = ()
        depth = 0
        open_string: str | None = None
        for lineno, line in enumerate(text.splitlines(), 1):
            if open_string is not None:
                j = line.find(open_string)
                if j < 0:
                    self.table_at[lineno] = table
                    continue
                open_string = None
                depth, open_string = scan_value(line, j + 3, depth)
                self.table_at[lineno] = table
                continue
            if depth > 0:
                depth, open_string = scan_value(line, 0, depth)
                self.table_at[lineno] = table
                continue
            s = line.strip()
            if s.startswith("["):
                is_array = s.startswith("[[")
                parsed = parse_key(s, 2 if is_array else 1)
                if parsed and s.startswith("]]" if is_array else "]", parsed[1]):
                    table = self._resolve(parsed[0], is_array)
                    self.lines.setdefault(table, lineno)
                    self.key_at[lineno] = table
                self.table_at[lineno] = table
                continue
            self.table_at[lineno] = table
            if not s or s.startswith("#"):
                continue
            parsed = parse_key(s, 0)
            if parsed is None or not s.startswith("=", parsed[1]):
                continue
            path = table + tuple(parsed[0])
            for k in range(len(table) + 1, len(path) + 1):
                self.lines.setdefault(path[:k], lineno)
            self.key_at[lineno] = path
            depth, open_string = scan_value(s, parsed[1] + 1, 0)

    def line_for(self, key: KeyPath) -> int:
        """Line of ``key``; else of its nearest enclosing table; else 1."""
        for k in range(len(key), 0, -1):
            line = self.lines.get(key[:k])
            if line is not None:
                return line
        return 1

    def key_on_line(self, line: int) -> KeyPath:
        """The key written on ``line``, else the table it is in."""
        return self.key_at.get(line) or self.table_at.get(line, ())
