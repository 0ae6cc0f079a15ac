"""A ``[sources.NAME]`` section as a :class:`SourceConfig`.

The kind picks the keys a section may have and their types; every mistake is
one ConfigError naming the key. A token written in plain text works but warns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from scorecard.config.checker import Checker, closest_hint, describe
from scorecard.config.kinds import (
    CHOICE_OPTIONS,
    DEFAULT_API_URLS,
    HTTP_COMMON,
    KNOWN_KINDS,
    LIST_OPTIONS,
    OPSGENIE_EU_URL,
    OPTION_DEFAULTS,
    REGEX_LIST_OPTIONS,
    REGEX_OPTIONS,
    SOURCE_KEYS,
    STR_OPTIONS,
    URL_KINDS,
)
from scorecard.config.model import SourceConfig, TeamConfig
from scorecard.config.toml_lines import KeyPath
from scorecard.model import SEVERITIES

_SENSITIVE_KEYS: Final = frozenset({"token", "token_env", "headers"})


def parse_source(
    ck: Checker,
    name: str,
    body: Mapping[str, Any],
    path: Path | None,
    warnings: list[str],
) -> SourceConfig:
    """One ``[sources.NAME]`` section as a SourceConfig."""
    key: KeyPath = ("sources", name)
    kind = _kind(ck, key, body)
    ck.keys(body, key, SOURCE_KEYS[kind] | {"kind"})
    refresh_minutes = ck.number(body, (*key, "refresh_minutes"), 60.0, low=0, low_exclusive=True)
    if kind == "files":
        return _files_source(ck, name, body, path, refresh_minutes)
    if kind == "demo":
        options: dict[str, Any] = {}
        if "seed" in body:
            options["seed"] = ck.integer(body, (*key, "seed"), 0)
        return SourceConfig(name=name, kind=kind, refresh_minutes=refresh_minutes, options=options)
    return _http_source(ck, name, kind, body, warnings, refresh_minutes)


def _kind(ck: Checker, key: KeyPath, body: Mapping[str, Any]) -> str:
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
            f"unknown kind {describe(kind)}",
            closest_hint(kind, KNOWN_KINDS, "kinds"),
        )
    return kind


def _files_source(
    ck: Checker, name: str, body: Mapping[str, Any], path: Path | None, refresh_minutes: float
) -> SourceConfig:
    key: KeyPath = ("sources", name)
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
        kind="files",
        refresh_minutes=refresh_minutes,
        path=resolved,
        strict=ck.boolean(body, (*key, "strict"), False),
    )


def _http_source(
    ck: Checker,
    name: str,
    kind: str,
    body: Mapping[str, Any],
    warnings: list[str],
    refresh_minutes: float,
) -> SourceConfig:
    key: KeyPath = ("sources", name)
    allow_insecure = ck.boolean(body, (*key, "allow_insecure"), False)
    url_key = "url" if kind in URL_KINDS else "api_url"
    api_url = ck.url(body, (*key, url_key), allow_insecure)
    token, token_env = _tokens(ck, name, body, warnings)
    timeout_s = ck.number(body, (*key, "timeout_s"), 30.0, low=0, low_exclusive=True)
    max_concurrency = ck.integer(body, (*key, "max_concurrency"), 4, low=1, high=256)
    options = _kind_options(ck, key, kind, body)
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


_ENV_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN_LOOKALIKE: Final = re.compile(r"^(ghp_|gho_|ghs_|github_pat_|glpat-|u\+)")


def _tokens(
    ck: Checker, name: str, body: Mapping[str, Any], warnings: list[str]
) -> tuple[str | None, str | None]:
    key: KeyPath = ("sources", name)
    token = ck.string(body, (*key, "token"), sensitive=True)
    token_env = ck.string(body, (*key, "token_env"), sensitive=True)
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
    if token is not None and token != "keyring":
        where = f" in {ck.path}" if ck.path is not None else ""
        warnings.append(
            f"sources.{name}.token is written in plain text{where}; store it in the OS "
            f'keyring with `scorecard auth set {name}` and write `token = "keyring"` '
            "(or use token_env)"
        )
    return token, token_env


def _kind_options(ck: Checker, key: KeyPath, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    options = dict(OPTION_DEFAULTS.get(kind, {}))
    for opt in sorted(SOURCE_KEYS[kind] - HTTP_COMMON - {"url"}):
        if opt in body:
            options[opt] = _kind_option(ck, (*key, opt), opt, body)
    if "max_wait_s" in body:
        options["max_wait_s"] = ck.number(body, (*key, "max_wait_s"), 60.0, low=0)
    return options


def _kind_option(ck: Checker, okey: KeyPath, opt: str, body: Mapping[str, Any]) -> Any:
    if opt in LIST_OPTIONS:
        return ck.str_list(body, okey)
    if opt in REGEX_LIST_OPTIONS:
        return ck.str_list(body, okey, regex=True)
    if opt in STR_OPTIONS:
        return ck.string(body, okey)
    if opt in REGEX_OPTIONS:
        return ck.regex(body, okey)
    if opt in CHOICE_OPTIONS:
        return ck.string(body, okey, choices=CHOICE_OPTIONS[opt])
    if opt in ("use_alerts", "alert_incidents"):
        return ck.boolean(body, okey, False)
    if opt == "alert_min_minutes":
        return ck.number(body, okey, 0.0, low=0)
    if opt == "severity_map":
        return ck.str_table(body, okey, choices=SEVERITIES)
    table = ck.str_table(body, okey, sensitive=opt in _SENSITIVE_KEYS)
    if opt == "queries":
        check_queries(ck, okey, table)
    return table


def check_queries(ck: Checker, key: KeyPath, queries: Mapping[str, str]) -> None:
    """Team queries (Prometheus): a name and a non-empty PromQL expression each."""
    for name, promql in queries.items():
        if not name.strip():
            ck.fail(key, "a query needs a name", 'write `"error budget burn" = "..."`')
        if not promql.strip():
            ck.fail((*key, name), "the PromQL expression is empty", "write the query, or remove it")


def check_alert_teams(
    ck: Checker, sources: Sequence[SourceConfig], teams: Sequence[TeamConfig]
) -> None:
    """``alert_teams`` must name configured teams (case-insensitive)."""
    known = {t.name.casefold() for t in teams}
    for source in sources:
        for name in source.options.get("alert_teams") or ():
            if name.casefold() not in known:
                ck.fail(
                    ("sources", source.name, "alert_teams"),
                    f"no team named `{name}`",
                    closest_hint(name, [t.name for t in teams], "teams"),
                )
