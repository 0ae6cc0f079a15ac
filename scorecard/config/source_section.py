"""A ``[sources.NAME]`` section as a :class:`SourceConfig`.

The section's ``kind`` picks its schema, the kind's ``Options`` class, from
:mod:`scorecard.sources.registry`; this module names no kind. After the
generic checks of :mod:`.options_schema` come the rules every HTTP source
shares (one of ``token`` / ``token_env``, ``token_env`` names a variable, a
plain-text token warns) and, once the teams are known, the Options' own
:meth:`~scorecard.options.SourceOptions.problems`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from scorecard.config.checker import Checker, closest_hint, describe
from scorecard.config.model import KEYRING_MARKER, SourceConfig
from scorecard.config.options_schema import option_fields, read_options
from scorecard.config.toml_lines import KeyPath, parse_key
from scorecard.options import HttpOptions, OptionProblem
from scorecard.sources.registry import known_kinds, options_class

__all__ = ["check_problems", "check_token", "parse_source"]

_ENV_RE: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN_LOOKALIKE: Final = re.compile(r"^(ghp_|gho_|ghs_|github_pat_|glpat-|u\+)")


def parse_source(
    ck: Checker, name: str, body: Mapping[str, Any], warnings: list[str]
) -> SourceConfig:
    """One ``[sources.NAME]`` section, checked against its kind's Options."""
    key: KeyPath = ("sources", name)
    kind = _kind(ck, key, body)
    cls = options_class(kind)

    def connection_read(values: Mapping[str, Any]) -> None:
        if issubclass(cls, HttpOptions):
            token, token_env = values.get("token"), values.get("token_env")
            check_token(ck, ("sources", name), token, token_env, warnings)

    options = read_options(ck, key, kind, cls, body, connection_read=connection_read)
    return SourceConfig(name=name, kind=kind, options=options)


def _kind(ck: Checker, key: KeyPath, body: Mapping[str, Any]) -> str:
    kinds = known_kinds()
    if "kind" not in body:
        ck.fail(
            (*key, "kind"),
            "missing `kind`",
            f'add e.g. `kind = "{kinds[0]}"`; known kinds: ' + ", ".join(kinds),
        )
    kind = ck.string(body, (*key, "kind")) or ""
    if kind not in kinds:
        ck.fail(
            (*key, "kind"),
            f"unknown kind {describe(kind)}",
            closest_hint(kind, kinds, "kinds"),
        )
    return kind


def check_token(
    ck: Checker,
    section: KeyPath,
    token: str | None,
    token_env: str | None,
    warnings: list[str],
) -> None:
    """One of ``token`` and ``token_env``; a variable's name; warn on a plain token.
    ``section`` is the table holding them (``("sources", "gh")``)."""
    table = ".".join(str(part) for part in section)
    name = str(section[1]) if section[0] == "sources" else table
    key: KeyPath = (*section, "token_env")
    if token is not None and token_env is not None:
        ck.fail(
            key,
            "both `token` and `token_env` are set",
            "keep only one: `token_env` (an environment variable) or "
            f'`token = "{KEYRING_MARKER}"` (the OS keyring)',
        )
    if token_env is not None and (
        not _ENV_RE.match(token_env) or _TOKEN_LOOKALIKE.match(token_env)
    ):
        ck.fail(
            key,
            "expected the NAME of an environment variable (letters, digits, `_`)",
            'e.g. `token_env = "GITHUB_TOKEN"`; put the token itself in that variable '
            f"or in the keyring with `scorecard auth set {name}`",
        )
    if token is not None and token != KEYRING_MARKER:
        where = f" in {ck.path}" if ck.path is not None else ""
        warnings.append(
            f"{table}.token is written in plain text{where}; store it in the OS "
            f'keyring with `scorecard auth set {name}` and write `token = "{KEYRING_MARKER}"` '
            "(or use token_env)"
        )


def check_problems(ck: Checker, sources: Sequence[SourceConfig], team_names: Sequence[str]) -> None:
    """Each source's own cross-field checks (:meth:`SourceOptions.problems`), which
    may need the configured team names; fails on the first problem."""
    for source in sources:
        for problem in source.options.problems(team_names):
            ck.fail(_problem_key(source, problem), problem.message, problem.hint)


def _problem_key(source: SourceConfig, problem: OptionProblem) -> KeyPath:
    """The problem's key (a field or config key, possibly dotted) under the section."""
    parsed = parse_key(problem.key, 0)
    parts: list[str] = parsed[0] if parsed is not None else [problem.key]
    keys = {f.name: f.key for f in option_fields(type(source.options))}
    return ("sources", source.name, keys.get(parts[0], parts[0]), *parts[1:])
