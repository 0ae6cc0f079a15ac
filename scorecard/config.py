"""Loading and validating the scorecard TOML config (SPEC §5).

Every command starts here, so this module stays cheap to import: no pandas, no
textual, no keyring. Mistakes in the config are the most common failure a new
user hits, so each one becomes a single :class:`ConfigError` naming the file,
the line, the dotted key and what to do about it. ``tomllib`` reports no key
positions, so :class:`_KeyLocator` scans the text to find the line of a key.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from scorecard import bands
from scorecard.model import SEVERITIES, UNASSIGNED

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_API_URLS",
    "HTTP_KINDS",
    "KNOWN_KINDS",
    "ChangeClassConfig",
    "Config",
    "ConfigError",
    "SourceConfig",
    "TeamConfig",
    "default_config_path",
    "find_config_path",
    "load_config",
    "parse_config",
    "starter_config_text",
    "write_starter_config",
]

KeyPath = tuple[str | int, ...]


class ConfigError(Exception):
    """One clear message: file, line, key, what to do."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = " ".join(message.split())
        self.path = path
        self.line = line
        self.key = key
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self._render())

    def _render(self) -> str:
        parts: list[str] = []
        if self.path is not None or self.line is not None:
            location = str(self.path) if self.path is not None else "<config>"
            if self.line is not None:
                location += f":{self.line}"
            parts.append(location + ":")
        if self.key:
            parts.append(self.key + ":")
        text = self.message
        if self.hint:
            if not text.endswith((".", "?", "!")):
                text += "."
            text += f" Fix: {self.hint}"
        parts.append(text)
        return " ".join(parts)

    def __str__(self) -> str:
        return self._render()


# --------------------------------------------------------------------------
# Config objects


@dataclass(frozen=True)
class TeamConfig:
    """A team and everything that attributes events to it."""

    name: str
    repos: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    pagerduty_services: tuple[str, ...] = ()
    coverage_repos: tuple[str, ...] = ()
    opsgenie_teams: tuple[str, ...] = ()
    incidentio_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceConfig:
    """One configured connection; kind-specific keys live in ``options``."""

    name: str
    kind: str
    api_url: str | None = None
    token: str | None = None
    token_env: str | None = None
    timeout_s: float = 30.0
    max_concurrency: int = 4
    allow_insecure: bool = False
    refresh_minutes: float = 60.0
    path: Path | None = None
    strict: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def needs_token(self) -> bool:
        """Whether this kind talks to an API that may take a token."""
        return self.kind in HTTP_KINDS

    @property
    def has_plaintext_token(self) -> bool:
        return self.token is not None and self.token != KEYRING_MARKER


@dataclass(frozen=True)
class ChangeClassConfig:
    """A class of risky change (e.g. ``ai``), see SPEC §3."""

    name: str
    repos: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    title_patterns: tuple[str, ...] = ()
    required_workflow: str | None = None
    gated_floor: float = 0.9


@dataclass(frozen=True)
class Config:
    """The validated config file."""

    path: Path | None
    org: str = "scorecard"
    window_days: int = 30
    benchmarks: str = "dora-2023"
    incident_link_hours: float = 24.0
    production_environments: tuple[str, ...] = ("production", "prod", "live")
    read_only: bool = False
    history_days: int = 180
    service_aliases: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    teams: tuple[TeamConfig, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    change_classes: tuple[ChangeClassConfig, ...] = ()
    warnings: tuple[str, ...] = ()

    def bench(self) -> bands.Benchmarks:
        """The benchmark preset with the ``[thresholds]`` overrides applied."""
        return bands.benchmarks_for(self.benchmarks, self.thresholds)

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; ConfigError naming the known ones otherwise."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        close = difflib.get_close_matches(name, [s.name for s in self.sources], n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known sources: {known}"
        raise ConfigError(
            f"no source named `{name}` in the config",
            path=self.path,
            key=f"sources.{_quote_part(name)}",
            hint=hint,
        )

    def team(self, name: str) -> TeamConfig | None:
        """The team called ``name`` (case-insensitive), or None."""
        folded = name.casefold()
        for team in self.teams:
            if team.name.casefold() == folded:
                return team
        return None


# --------------------------------------------------------------------------
# Vocabulary

KEYRING_MARKER: Final = "keyring"

KNOWN_KINDS: Final[tuple[str, ...]] = (
    "github",
    "gitlab",
    "pagerduty",
    "incidentio",
    "opsgenie",
    "codecov",
    "prometheus",
    "alertmanager",
    "files",
    "demo",
)
HTTP_KINDS: Final[frozenset[str]] = frozenset(KNOWN_KINDS) - {"files", "demo"}
URL_KINDS: Final[frozenset[str]] = frozenset({"prometheus", "alertmanager"})

DEFAULT_API_URLS: Final[Mapping[str, str]] = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "pagerduty": "https://api.pagerduty.com",
    "incidentio": "https://api.incident.io",
    "opsgenie": "https://api.opsgenie.com",
    "codecov": "https://api.codecov.io",
}
OPSGENIE_EU_URL: Final = "https://api.eu.opsgenie.com"

_HTTP_COMMON: Final = frozenset(
    {
        "api_url",
        "token",
        "token_env",
        "timeout_s",
        "max_concurrency",
        "allow_insecure",
        "refresh_minutes",
        "max_wait_s",
    }
)
_MONITORING: Final = (_HTTP_COMMON - {"api_url"}) | {
    "url",
    "auth",
    "username",
    "headers",
    "queries",
    "alert_severity_label",
    "alert_min_minutes",
    "alert_incidents",
    "alert_teams",
    "alert_service_label",
    "severity_map",
}
SOURCE_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "github": _HTTP_COMMON | {"deploy_workflows", "canary_environments", "rollback_patterns"},
    "gitlab": _HTTP_COMMON | {"deploy_jobs", "canary_environments", "rollback_patterns"},
    "pagerduty": _HTTP_COMMON | {"severity_map", "team_ids", "deployment_link_pattern"},
    "incidentio": _HTTP_COMMON
    | {
        "team_field",
        "service_field",
        "severity_map",
        "deployment_link_pattern",
        "deployment_field",
    },
    "opsgenie": _HTTP_COMMON
    | {"region", "use_alerts", "severity_map", "deployment_link_pattern", "deployment_field"},
    "codecov": _HTTP_COMMON | {"service", "owner", "branch"},
    "prometheus": _MONITORING,
    "alertmanager": _MONITORING,
    "files": frozenset({"path", "strict", "refresh_minutes"}),
    "demo": frozenset({"seed", "refresh_minutes"}),
}

CODECOV_SERVICES: Final = (
    "github",
    "gitlab",
    "bitbucket",
    "github_enterprise",
    "gitlab_enterprise",
    "bitbucket_server",
)

# Kind-specific keys that end up in SourceConfig.options, by value shape.
_LIST_OPTIONS: Final = frozenset(
    {"deploy_workflows", "canary_environments", "deploy_jobs", "team_ids", "alert_teams"}
)
_REGEX_LIST_OPTIONS: Final = frozenset({"rollback_patterns"})
_STR_OPTIONS: Final = frozenset(
    {
        "team_field",
        "service_field",
        "owner",
        "username",
        "alert_severity_label",
        "alert_service_label",
        "deployment_field",
        "branch",
    }
)
_REGEX_OPTIONS: Final = frozenset({"deployment_link_pattern"})
_CHOICE_OPTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "region": ("us", "eu"),
    "auth": ("bearer", "basic"),
    "service": CODECOV_SERVICES,
}
_TABLE_OPTIONS: Final = frozenset({"severity_map", "headers", "queries"})
_OPTION_DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "codecov": {"service": "github"},
    "opsgenie": {"region": "us", "use_alerts": False},
    "prometheus": {"auth": "bearer"},
    "alertmanager": {"auth": "bearer"},
}

TOP_KEYS: Final = (
    "scorecard",
    "thresholds",
    "service_aliases",
    "sources",
    "teams",
    "change_classes",
)
SCORECARD_KEYS: Final = (
    "org",
    "window_days",
    "benchmarks",
    "incident_link_hours",
    "production_environments",
    "read_only",
    "history_days",
)
TEAM_KEYS: Final = (
    "name",
    "repos",
    "services",
    "pagerduty_services",
    "coverage_repos",
    "opsgenie_teams",
    "incidentio_teams",
)
CHANGE_CLASS_KEYS: Final = (
    "repos",
    "services",
    "labels",
    "paths",
    "title_patterns",
    "required_workflow",
    "gated_floor",
)

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")
_ENV_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN_LOOKALIKE: Final = re.compile(r"^(ghp_|gho_|ghs_|github_pat_|glpat-|u\+)")
_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_SENSITIVE_KEYS: Final = frozenset({"token", "token_env", "headers"})


# --------------------------------------------------------------------------
# Finding the line of a key

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def _quote_part(part: str | int) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    return part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)


def _dotted(key: KeyPath) -> str:
    out = ""
    for part in key:
        text = _quote_part(part)
        if isinstance(part, int):
            out += text
        else:
            out += ("." if out else "") + text
    return out


def _parse_key(s: str, i: int) -> tuple[list[str], int] | None:
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


def _scan_value(s: str, i: int, depth: int) -> tuple[int, str | None]:
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


class _KeyLocator:
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
                depth, open_string = _scan_value(line, j + 3, depth)
                self.table_at[lineno] = table
                continue
            if depth > 0:
                depth, open_string = _scan_value(line, 0, depth)
                self.table_at[lineno] = table
                continue
            s = line.strip()
            if s.startswith("["):
                is_array = s.startswith("[[")
                parsed = _parse_key(s, 2 if is_array else 1)
                if parsed and s.startswith("]]" if is_array else "]", parsed[1]):
                    table = self._resolve(parsed[0], is_array)
                    self.lines.setdefault(table, lineno)
                    self.key_at[lineno] = table
                self.table_at[lineno] = table
                continue
            self.table_at[lineno] = table
            if not s or s.startswith("#"):
                continue
            parsed = _parse_key(s, 0)
            if parsed is None or not s.startswith("=", parsed[1]):
                continue
            path = table + tuple(parsed[0])
            for k in range(len(table) + 1, len(path) + 1):
                self.lines.setdefault(path[:k], lineno)
            self.key_at[lineno] = path
            depth, open_string = _scan_value(s, parsed[1] + 1, 0)

    def line_for(self, key: KeyPath) -> int:
        """Line of ``key``; else of its nearest enclosing table; else 1."""
        for k in range(len(key), 0, -1):
            line = self.lines.get(key[:k])
            if line is not None:
                return line
        return 1

    def key_on_line(self, line: int) -> KeyPath:
        return self.key_at.get(line) or self.table_at.get(line, ())


# --------------------------------------------------------------------------
# Validation


def _describe(value: object, sensitive: bool = False) -> str:
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


def _closest_hint(word: str, known: Collection[str], what: str = "keys") -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"known {what}: " + ", ".join(sorted(known))


def _choice_hint(word: str, choices: Sequence[str]) -> str:
    listed = "use one of: " + ", ".join(choices)
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`? ({listed})" if close else listed


class _Checker:
    """Type and range checks that raise ConfigError with file, line and key."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text = text
        self.path = path
        self.locator = _KeyLocator(text)

    def fail(self, key: KeyPath, message: str, hint: str | None = None) -> NoReturn:
        raise ConfigError(
            message,
            path=self.path,
            line=self.locator.line_for(key),
            key=_dotted(key) or None,
            hint=hint,
        )

    def parse_toml(self) -> dict[str, Any]:
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
                key=_dotted(key) or None,
                hint="check quotes, brackets and `key = value` syntax on that line "
                "(strings need double quotes, lists need [ ])",
            ) from None

    def keys(self, table: Mapping[str, Any], key: KeyPath, allowed: Collection[str]) -> None:
        for name in table:
            if name not in allowed:
                self.fail((*key, name), "unknown key", _closest_hint(name, allowed))

    def table(self, data: Mapping[str, Any], key: KeyPath) -> dict[str, Any]:
        value = data.get(str(key[-1]))
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(
                key,
                f"expected a table, got {_describe(value)}",
                f"write it as a [{_dotted(key)}] section with `key = value` lines",
            )
        return value

    def string(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        default: str | None = None,
        *,
        choices: Sequence[str] | None = None,
    ) -> str | None:
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        sensitive = name in _SENSITIVE_KEYS
        if not isinstance(value, str):
            self.fail(
                key,
                f"expected a string, got {_describe(value, sensitive)}",
                f'write text in double quotes, e.g. `{name} = "..."`',
            )
        if not value.strip():
            self.fail(key, "must not be empty", "remove the line or give it a value")
        if choices is not None and value not in choices:
            self.fail(
                key,
                f"unknown value {_describe(value, sensitive)}",
                _choice_hint(value, choices),
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
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(
                key,
                f"expected a number, got {_describe(value)}",
                f"write a number without quotes, e.g. `{name} = {_fmt(default)}`",
            )
        number = float(value)
        self._range(key, number, low, high, low_exclusive)
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
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                key,
                f"expected a whole number, got {_describe(value)}",
                f"write a whole number without quotes, e.g. `{name} = {default}`",
            )
        self._range(key, float(value), low, high, False)
        return value

    def _range(
        self,
        key: KeyPath,
        number: float,
        low: float | None,
        high: float | None,
        low_exclusive: bool,
    ) -> None:
        if not math.isfinite(number):
            self.fail(key, f"expected a finite number, got {number}", "use an ordinary number")
        too_low = low is not None and (number <= low if low_exclusive else number < low)
        too_high = high is not None and number > high
        if too_low or too_high:
            if low is not None and high is not None:
                wanted = f"between {_fmt(low)} and {_fmt(high)}"
            elif low is not None:
                wanted = f"greater than {_fmt(low)}" if low_exclusive else f"at least {_fmt(low)}"
            else:
                wanted = f"at most {_fmt(high or 0)}"
            self.fail(key, f"{_fmt(number)} is out of range", f"use a value {wanted}")

    def boolean(self, table: Mapping[str, Any], key: KeyPath, default: bool) -> bool:
        name = str(key[-1])
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, bool):
            self.fail(
                key,
                f"expected true or false, got {_describe(value)}",
                f"write `{name} = true` or `{name} = false` (no quotes)",
            )
        return value

    def str_list(
        self, table: Mapping[str, Any], key: KeyPath, *, regex: bool = False
    ) -> tuple[str, ...]:
        name = str(key[-1])
        if name not in table:
            return ()
        value = table[name]
        example = f'`{name} = ["a", "b"]`'
        if isinstance(value, str):
            self.fail(
                key,
                f"expected a list of strings, got a single string {_describe(value)}",
                f"wrap it in brackets: `{name} = [{json.dumps(value, ensure_ascii=False)}]`",
            )
        if not isinstance(value, list):
            self.fail(
                key,
                f"expected a list of strings, got {_describe(value)}",
                f"write a list of quoted strings, e.g. {example}",
            )
        for item in value:
            if not isinstance(item, str):
                self.fail(
                    key,
                    f"expected a list of strings, but an item is {_describe(item)}",
                    f"quote every item, e.g. {example}",
                )
            if not item.strip():
                self.fail(key, "has an empty string in the list", "remove the empty item")
            if regex:
                try:
                    re.compile(item)
                except re.error as exc:
                    self.fail(
                        key,
                        f"{_describe(item)} is not a valid regular expression ({exc})",
                        "fix the pattern; escape special characters with a backslash",
                    )
        return tuple(value)

    def regex(self, table: Mapping[str, Any], key: KeyPath) -> str | None:
        value = self.string(table, key)
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            self.fail(
                key,
                f"{_describe(value)} is not a valid regular expression ({exc})",
                "fix the pattern; escape special characters with a backslash",
            )
        return value

    def str_table(
        self,
        table: Mapping[str, Any],
        key: KeyPath,
        *,
        choices: Sequence[str] | None = None,
    ) -> dict[str, str]:
        sub = self.table(table, key)
        sensitive = str(key[-1]) in _SENSITIVE_KEYS
        out: dict[str, str] = {}
        for name, value in sub.items():
            item_key = (*key, name)
            if not isinstance(value, str):
                self.fail(
                    item_key,
                    f"expected a string, got {_describe(value, sensitive)}",
                    f'write `"{name}" = "..."`',
                )
            if choices is not None and value not in choices:
                self.fail(
                    item_key,
                    f"unknown value {_describe(value)}",
                    _choice_hint(value, choices),
                )
            out[name] = value
        return out

    def url(self, table: Mapping[str, Any], key: KeyPath, allow_insecure: bool) -> str | None:
        value = self.string(table, key)
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(
                key,
                f"{_describe(value)} is not an http(s) URL",
                'write a full URL, e.g. "https://api.example.com"',
            )
        if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS and not allow_insecure:
            self.fail(
                key,
                "plain http would send tokens and data unencrypted",
                "use https://, or set `allow_insecure = true` in this source if you really mean it",
            )
        return value.strip().rstrip("/")


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# --------------------------------------------------------------------------
# Parsing


def parse_config(text: str, path: Path | None = None) -> Config:
    """Validate config ``text`` (read from ``path``, used in messages and for
    resolving relative paths). Raises ConfigError on the first problem."""
    ck = _Checker(text, path)
    data = ck.parse_toml()
    ck.keys(data, (), TOP_KEYS)
    warnings: list[str] = []

    sc = ck.table(data, ("scorecard",))
    ck.keys(sc, ("scorecard",), SCORECARD_KEYS)
    k = ("scorecard",)
    org = ck.string(sc, (*k, "org"), "scorecard") or "scorecard"
    window_days = ck.integer(sc, (*k, "window_days"), 30, low=1, high=3650)
    benchmarks = ck.string(sc, (*k, "benchmarks"), "dora-2023") or "dora-2023"
    if benchmarks not in bands.PRESETS:
        ck.fail(
            (*k, "benchmarks"),
            f"unknown benchmarks preset {_describe(benchmarks)}",
            "use one of: " + ", ".join(bands.PRESETS),
        )
    incident_link_hours = ck.number(
        sc, (*k, "incident_link_hours"), 24.0, low=0, low_exclusive=True
    )
    prod_envs: tuple[str, ...] = ("production", "prod", "live")
    if "production_environments" in sc:
        prod_envs = ck.str_list(sc, (*k, "production_environments"))
        if not prod_envs:
            ck.fail(
                (*k, "production_environments"),
                "must name at least one environment",
                'e.g. `production_environments = ["production"]`, or remove the line '
                "for the default",
            )
    read_only = ck.boolean(sc, (*k, "read_only"), False)
    history_days = ck.integer(sc, (*k, "history_days"), 180, low=1, high=3650)

    thresholds = _parse_thresholds(ck, data)
    aliases = ck.str_table(data, ("service_aliases",))
    for alias_name, target in aliases.items():
        if not target.strip():
            ck.fail(("service_aliases", alias_name), "must not be empty", "name a service")

    sources = _parse_sources(ck, data, path, warnings)
    teams = _parse_teams(ck, data)
    _check_alert_teams(ck, sources, teams)
    classes = _parse_change_classes(ck, data)

    return Config(
        path=path,
        org=org,
        window_days=window_days,
        benchmarks=benchmarks,
        incident_link_hours=incident_link_hours,
        production_environments=prod_envs,
        read_only=read_only,
        history_days=history_days,
        service_aliases=aliases,
        thresholds=thresholds,
        teams=teams,
        sources=sources,
        change_classes=classes,
        warnings=tuple(warnings),
    )


def _parse_thresholds(ck: _Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    raw = ck.table(data, ("thresholds",))
    out: dict[str, Any] = {}
    for name, value in raw.items():
        key: KeyPath = ("thresholds", name)
        if name not in bands.THRESHOLD_KEYS:
            ck.fail(key, "unknown threshold", _closest_hint(name, bands.THRESHOLD_KEYS))
        if name in bands.TRIPLE_KEYS:
            if (
                not isinstance(value, list)
                or len(value) != 3
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
            ):
                ck.fail(
                    key,
                    "expected a list of 3 numbers (elite, high, medium), got "
                    + (f"{len(value)} items" if isinstance(value, list) else _describe(value)),
                    f"e.g. `{name} = {list(getattr(bands.PRESETS['dora-2023'], name))}`",
                )
            triple = tuple(float(v) for v in value)
            for v in triple:
                ck._range(key, v, None, None, False)
            descending = name.endswith("_min")
            ordered = (
                triple[0] >= triple[1] >= triple[2]
                if descending
                else triple[0] <= triple[1] <= triple[2]
            )
            if not ordered:
                order = "highest first" if descending else "lowest first"
                ck.fail(
                    key,
                    "thresholds must run elite, high, medium in order",
                    f"list them {order}",
                )
            out[name] = triple
        else:
            default = float(getattr(bands.PRESETS["dora-2023"], name))
            out[name] = ck.number(raw, key, default, low=0)
    try:
        bands.benchmarks_for("dora-2023", out)
    except (TypeError, ValueError) as exc:  # pragma: no cover - checked above
        ck.fail(("thresholds",), str(exc))
    return out


def _parse_sources(
    ck: _Checker, data: Mapping[str, Any], path: Path | None, warnings: list[str]
) -> tuple[SourceConfig, ...]:
    raw = ck.table(data, ("sources",))
    out: list[SourceConfig] = []
    for name, body in raw.items():
        key: KeyPath = ("sources", name)
        if not _NAME_RE.match(name):
            ck.fail(
                key,
                "source names may only use letters, digits, `_` and `-`",
                "rename it, e.g. [sources.gh-main]",
            )
        if not isinstance(body, dict):
            ck.fail(
                key,
                f"expected a table, got {_describe(body)}",
                f'write it as a [sources.{name}] section with `kind = "..."`',
            )
        out.append(_parse_source(ck, name, body, path, warnings))
    if not out:
        warnings.append(
            "no [sources.*] are configured, so there is no data to show; "
            "add one (see config.example.toml) or try `scorecard demo`"
        )
    return tuple(out)


def _parse_source(
    ck: _Checker,
    name: str,
    body: Mapping[str, Any],
    path: Path | None,
    warnings: list[str],
) -> SourceConfig:
    key: KeyPath = ("sources", name)
    if "kind" not in body:
        ck.fail(
            (*key, "kind"),
            "missing `kind`",
            'add e.g. `kind = "github"`; known kinds: ' + ", ".join(KNOWN_KINDS),
        )
    kind = ck.string(body, (*key, "kind")) or ""
    if kind not in KNOWN_KINDS:
        ck.fail(
            (*key, "kind"),
            f"unknown kind {_describe(kind)}",
            _closest_hint(kind, KNOWN_KINDS, "kinds"),
        )
    allowed = SOURCE_KEYS[kind] | {"kind"}
    ck.keys(body, key, allowed)

    refresh_minutes = ck.number(body, (*key, "refresh_minutes"), 60.0, low=0, low_exclusive=True)

    if kind == "files":
        if "path" not in body:
            ck.fail(
                (*key, "path"),
                "a files source needs `path`",
                'add e.g. `path = "exports/"` (relative to this config file\'s folder)',
            )
        raw_path = ck.string(body, (*key, "path")) or ""
        base = path.parent if path is not None else Path.cwd()
        resolved = Path(raw_path).expanduser()
        if not resolved.is_absolute():
            resolved = Path(os.path.normpath(base.absolute() / resolved))
        return SourceConfig(
            name=name,
            kind=kind,
            refresh_minutes=refresh_minutes,
            path=resolved,
            strict=ck.boolean(body, (*key, "strict"), False),
        )
    if kind == "demo":
        options: dict[str, Any] = {}
        if "seed" in body:
            options["seed"] = ck.integer(body, (*key, "seed"), 0)
        return SourceConfig(name=name, kind=kind, refresh_minutes=refresh_minutes, options=options)

    allow_insecure = ck.boolean(body, (*key, "allow_insecure"), False)
    url_key = "url" if kind in URL_KINDS else "api_url"
    api_url = ck.url(body, (*key, url_key), allow_insecure)

    token = ck.string(body, (*key, "token"))
    token_env = ck.string(body, (*key, "token_env"))
    if token is not None and token_env is not None:
        ck.fail(
            (*key, "token_env"),
            "both `token` and `token_env` are set",
            "keep only one: `token_env` (an environment variable) or "
            '`token = "keyring"` (the OS keyring)',
        )
    if token_env is not None and (
        not _ENV_RE.match(token_env) or _TOKEN_LOOKALIKE.match(token_env)
    ):
        ck.fail(
            (*key, "token_env"),
            "expected the NAME of an environment variable (letters, digits, `_`)",
            'e.g. `token_env = "GITHUB_TOKEN"`; put the token itself in that variable '
            f"or in the keyring with `scorecard auth set {name}`",
        )
    if token is not None and token != KEYRING_MARKER:
        where = f" in {ck.path}" if ck.path is not None else ""
        warnings.append(
            f"sources.{name}.token is written in plain text{where}; store it in the OS "
            f'keyring with `scorecard auth set {name}` and write `token = "keyring"` '
            "(or use token_env)"
        )

    timeout_s = ck.number(body, (*key, "timeout_s"), 30.0, low=0, low_exclusive=True)
    max_concurrency = ck.integer(body, (*key, "max_concurrency"), 4, low=1, high=256)

    options = dict(_OPTION_DEFAULTS.get(kind, {}))
    for opt in sorted(SOURCE_KEYS[kind] - _HTTP_COMMON - {"url"}):
        if opt not in body:
            continue
        okey = (*key, opt)
        if opt in _LIST_OPTIONS:
            options[opt] = ck.str_list(body, okey)
        elif opt in _REGEX_LIST_OPTIONS:
            options[opt] = ck.str_list(body, okey, regex=True)
        elif opt in _STR_OPTIONS:
            options[opt] = ck.string(body, okey)
        elif opt in _REGEX_OPTIONS:
            options[opt] = ck.regex(body, okey)
        elif opt in _CHOICE_OPTIONS:
            options[opt] = ck.string(body, okey, choices=_CHOICE_OPTIONS[opt])
        elif opt in ("use_alerts", "alert_incidents"):
            options[opt] = ck.boolean(body, okey, False)
        elif opt == "alert_min_minutes":
            options[opt] = ck.number(body, okey, 0.0, low=0)
        elif opt == "severity_map":
            options[opt] = ck.str_table(body, okey, choices=SEVERITIES)
        elif opt in _TABLE_OPTIONS:
            options[opt] = ck.str_table(body, okey)
            if opt == "queries":
                _check_queries(ck, okey, options[opt])
    if "max_wait_s" in body:
        options["max_wait_s"] = ck.number(body, (*key, "max_wait_s"), 60.0, low=0)

    if kind in URL_KINDS and api_url is None:
        ck.fail(
            (*key, "url"),
            f"a {kind} source needs `url`",
            f'add e.g. `url = "https://{kind}.example.com"`',
        )
    if options.get("auth") == "basic" and "username" not in options:
        ck.fail(
            (*key, "username"),
            '`auth = "basic"` needs `username`',
            'add `username = "..."`; the password is the source\'s token',
        )
    if api_url is None:
        if kind == "opsgenie" and options.get("region") == "eu":
            api_url = OPSGENIE_EU_URL
        else:
            api_url = DEFAULT_API_URLS.get(kind)

    return SourceConfig(
        name=name,
        kind=kind,
        api_url=api_url,
        token=token,
        token_env=token_env,
        timeout_s=timeout_s,
        max_concurrency=max_concurrency,
        allow_insecure=allow_insecure,
        refresh_minutes=refresh_minutes,
        options=options,
    )


def _check_queries(ck: _Checker, key: KeyPath, queries: Mapping[str, str]) -> None:
    """Team queries (Prometheus): a name and a non-empty PromQL expression each."""
    for name, promql in queries.items():
        if not name.strip():
            ck.fail(key, "a query needs a name", 'write `"error budget burn" = "..."`')
        if not promql.strip():
            ck.fail((*key, name), "the PromQL expression is empty", "write the query, or remove it")


def _check_alert_teams(
    ck: _Checker, sources: Sequence[SourceConfig], teams: Sequence[TeamConfig]
) -> None:
    """``alert_teams`` must name configured teams (case-insensitive)."""
    known = {t.name.casefold() for t in teams}
    for source in sources:
        for name in source.options.get("alert_teams") or ():
            if name.casefold() not in known:
                ck.fail(
                    ("sources", source.name, "alert_teams"),
                    f"no team named `{name}`",
                    _closest_hint(name, [t.name for t in teams], "teams"),
                )


def _parse_teams(ck: _Checker, data: Mapping[str, Any]) -> tuple[TeamConfig, ...]:
    raw = data.get("teams")
    hint = (
        'add a section per team: a `[[teams]]` line, then `name = "Payments"` and '
        '`repos = ["acme/payments"]` below it'
    )
    if raw is None:
        ck.fail(("teams",), "no [[teams]] defined; a scorecard needs at least one team", hint)
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        ck.fail(
            ("teams",),
            f"expected [[teams]] sections (an array of tables), got {_describe(raw)}",
            hint,
        )
    if not raw:
        ck.fail(("teams",), "no teams defined; a scorecard needs at least one team", hint)

    teams: list[TeamConfig] = []
    seen_names: dict[str, str] = {}
    claims: dict[str, dict[str, str]] = {}
    for index, body in enumerate(raw):
        key: KeyPath = ("teams", index)
        ck.keys(body, key, TEAM_KEYS)
        if "name" not in body:
            ck.fail((*key, "name"), "this [[teams]] entry has no `name`", 'add `name = "..."`')
        name = (ck.string(body, (*key, "name")) or "").strip()
        folded = name.casefold()
        if folded == UNASSIGNED:
            ck.fail(
                (*key, "name"),
                f"`{UNASSIGNED}` is reserved for events no team owns",
                "pick another name",
            )
        if folded in seen_names:
            ck.fail(
                (*key, "name"),
                f"duplicate team name `{name}` (also used by an earlier team)",
                "give every team a distinct name, or merge the two entries",
            )
        seen_names[folded] = name
        values: dict[str, tuple[str, ...]] = {}
        for field_name in TEAM_KEYS[1:]:
            items = ck.str_list(body, (*key, field_name))
            values[field_name] = items
            kind_claims = claims.setdefault(field_name, {})
            for item in items:
                norm = item.casefold() if field_name.endswith("repos") else item
                owner = kind_claims.get(norm)
                if owner is not None and owner != name:
                    thing = field_name.rstrip("s").replace("_", " ")
                    ck.fail(
                        (*key, field_name),
                        f"{thing} `{item}` is claimed by teams `{owner}` and `{name}`",
                        "every event must belong to exactly one team; remove it from one of them",
                    )
                kind_claims[norm] = name
        teams.append(
            TeamConfig(
                name=name,
                repos=values["repos"],
                services=values["services"],
                pagerduty_services=values["pagerduty_services"],
                coverage_repos=values["coverage_repos"],
                opsgenie_teams=values["opsgenie_teams"],
                incidentio_teams=values["incidentio_teams"],
            )
        )
    return tuple(teams)


def _parse_change_classes(ck: _Checker, data: Mapping[str, Any]) -> tuple[ChangeClassConfig, ...]:
    raw = ck.table(data, ("change_classes",))
    out: list[ChangeClassConfig] = []
    for name, body in raw.items():
        key: KeyPath = ("change_classes", name)
        if not isinstance(body, dict):
            ck.fail(
                key,
                f"expected a table, got {_describe(body)}",
                f"write it as a [change_classes.{_quote_part(name)}] section",
            )
        ck.keys(body, key, CHANGE_CLASS_KEYS)
        cls = ChangeClassConfig(
            name=name,
            repos=ck.str_list(body, (*key, "repos")),
            services=ck.str_list(body, (*key, "services")),
            labels=ck.str_list(body, (*key, "labels")),
            paths=ck.str_list(body, (*key, "paths")),
            title_patterns=ck.str_list(body, (*key, "title_patterns"), regex=True),
            required_workflow=ck.string(body, (*key, "required_workflow")),
            gated_floor=ck.number(body, (*key, "gated_floor"), 0.9, low=0, high=1),
        )
        if not (cls.repos or cls.services or cls.labels or cls.paths or cls.title_patterns):
            ck.fail(
                key,
                f"change class `{name}` matches nothing",
                "give it at least one of repos, services, labels, paths or title_patterns",
            )
        out.append(cls)
    return tuple(out)


# --------------------------------------------------------------------------
# Files


def load_config(path: Path) -> Config:
    """Read and validate the config file at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            path=path,
            hint=f"write one with `scorecard init {path}`, or try `scorecard demo`",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            "is a folder, not a config file", path=path, hint="point to the .toml file"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file ({exc.strerror or exc})",
            path=path,
            hint="check the path and its permissions",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            "the file is not valid UTF-8 text",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None
    return parse_config(text, path)


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/scorecard/config.toml`` (platformdirs)."""
    import platformdirs

    return platformdirs.user_config_path("scorecard") / "config.toml"


def find_config_path(explicit: str | Path | None) -> Path:
    """The config to use: ``--config``, then ``$SCORECARD_CONFIG``, then the
    default location. ConfigError when the chosen file does not exist."""
    if explicit is not None and str(explicit) != "":
        path, origin = Path(explicit).expanduser(), "--config"
    elif os.environ.get("SCORECARD_CONFIG"):
        path, origin = Path(os.environ["SCORECARD_CONFIG"]).expanduser(), "$SCORECARD_CONFIG"
    else:
        path, origin = default_config_path(), "the default location"
    if path.is_dir():
        raise ConfigError(
            f"is a folder, not a config file (from {origin})",
            path=path,
            hint="point to the .toml file",
        )
    if not path.exists():
        init = "scorecard init" if origin == "the default location" else f"scorecard init {path}"
        raise ConfigError(
            f"config file not found (from {origin})",
            path=path,
            hint=f"write a starter config with `{init}`, or try the built-in demo org "
            "with `scorecard demo`",
        )
    return path


_STARTER = """\
# scorecard config: per-team engineering scorecards in your terminal.
# Written by `scorecard init`. Every option is described in config.example.toml.
# Check it with `scorecard config check`.

[scorecard]
org = "My org"                  # shown in the header
window_days = 30                # the period a scorecard covers
benchmarks = "dora-2023"        # or "dora-2024"
# incident_link_hours = 24      # link an incident to a deploy this many hours before it
# production_environments = ["production", "prod", "live"]
# read_only = false

# One section per system to pull data from. Keep tokens out of this file:
# run `scorecard auth set gh` to store the token in the OS keyring, or use
# token_env = "GITHUB_TOKEN" to read it from an environment variable.
[sources.gh]
kind = "github"
token = "keyring"
# api_url = "https://github.example.com/api/v3"   # GitHub Enterprise Server
# deploy_workflows = ["deploy"]

# CSV / JSONL exports from anything else (see the README for the columns).
# [sources.local]
# kind = "files"
# path = "exports/"             # relative to this file's folder

# One [[teams]] section per team. Every repo or service belongs to one team.
[[teams]]
name = "Payments"
repos = ["your-org/payments-api"]
services = ["payments-api"]

# [[teams]]
# name = "Search"
# repos = ["your-org/search"]

# Risky classes of change (e.g. AI model and prompt changes) and the gate they
# should pass before deploying.
# [change_classes.ai]
# repos = ["your-org/ranker"]
# paths = ["prompts/**", "models/**"]
# required_workflow = "evals"
"""


def starter_config_text() -> str:
    """A short, commented, valid config for `scorecard init`."""
    return _STARTER


def write_starter_config(path: Path, force: bool = False) -> Path:
    """Write the starter config atomically; never overwrite without ``force``."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(
            "is a folder, not a file", path=path, hint="give a file name, e.g. config.toml"
        )
    if path.exists() and not force:
        raise ConfigError(
            "a config file already exists here; not overwriting it",
            path=path,
            hint="edit it, choose another path, or pass `--force` to replace it",
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(starter_config_text())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write the config file ({exc.strerror or exc})",
            path=path,
            hint="check that the folder is writable",
        ) from None
    return path
