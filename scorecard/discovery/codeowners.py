"""CODEOWNERS files read the way GitHub reads them.

A monorepo's owners live in its CODEOWNERS file, and scorecard attributes
changes by it, so a pattern must own exactly the files GitHub says it owns.
GitHub documents its rules (``about-code-owners``): the first file found of
``.github/CODEOWNERS``, ``CODEOWNERS``, ``docs/CODEOWNERS``; gitignore-style
patterns, case-sensitive, the last matching pattern wins; a pattern without
owners leaves its files unowned; ``docs/*`` owns only the files directly in
``docs``; a ``#`` after whitespace starts a comment. Three gitignore features do
not work there: ``!`` negation, ``[ ]`` character ranges and ``\\#`` escaping a
leading ``#``. GitHub skips a line it cannot read, so this module skips it too
and reports it as a :class:`~scorecard.discovery.model.Problem`, never
matching something GitHub would not.

Matching is pathspec's gitignore pattern as documented
(:class:`GitIgnoreBasicPattern`), which agrees with GitHub on every example of
its docs (``docs/*``, ``apps/``, ``/build/logs/``, ``**/logs``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

from scorecard.discovery.model import Problem
from scorecard.text import printable

__all__ = [
    "CODEOWNERS_LOCATIONS",
    "MAX_CODEOWNERS_BYTES",
    "CodeOwners",
    "Rule",
    "find_codeowners",
    "owner_kind",
    "parse_codeowners",
]

CODEOWNERS_LOCATIONS: Final = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
"""Where GitHub looks, in order; the first file found is the one used."""

MAX_CODEOWNERS_BYTES: Final = 3 * 1024 * 1024
"""GitHub ignores a CODEOWNERS file of 3 MB or more."""

TEAM_OWNER: Final = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+$")
USER_OWNER: Final = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9_-]*$")  # `_`: managed users
EMAIL_OWNER: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROOT_PATTERNS: Final = frozenset({"*", "/*", "**", "/**", "**/*", "/**/*"})
"""Patterns that own every file at the repo's root: their owner is the root owner."""


def owner_kind(owner: str) -> str | None:
    """``team`` (``@org/slug``), ``user`` (``@login``), ``email``, or None when
    GitHub would not accept it as an owner."""
    if TEAM_OWNER.match(owner):
        return "team"
    if USER_OWNER.match(owner):
        return "user"
    if EMAIL_OWNER.match(owner):
        return "email"
    return None


@dataclass(frozen=True)
class Rule:
    """One usable line: its pattern, its owners (maybe none) and where it was."""

    line: int
    pattern: str
    owners: tuple[str, ...]
    matcher: GitIgnoreBasicPattern = field(compare=False, repr=False)

    def matches(self, path: str) -> bool:
        """Whether this line's pattern covers ``path`` (a file path from the repo root)."""
        return self.matcher.match_file(path.lstrip("/")) is not None


WILDCARDS: Final = frozenset("*?[\\")


def literal_prefix(pattern: str) -> tuple[str, ...]:
    """The leading path segments every match of ``pattern`` starts with; empty
    for a pattern that may match anywhere (``*.js``, ``apps/``, ``**/logs``).

    gitignore anchors a pattern to the root when it has a ``/`` at its start or
    in its middle, so ``/services/payments/`` and ``docs/*`` only match below
    ``services/payments`` and ``docs``."""
    body = pattern[1:] if pattern.startswith("/") else pattern
    trimmed = body.rstrip("/")
    if not (pattern.startswith("/") or "/" in trimmed):
        return ()
    prefix: list[str] = []
    for segment in trimmed.split("/"):
        if not segment or WILDCARDS.intersection(segment):
            break
        prefix.append(segment)
    return tuple(prefix)


@dataclass(frozen=True)
class RuleIndex:
    """Which rules can match a path, so a lookup tests a few rules, not all.

    Rules are positions in the file; ``anchored`` files each rule under its
    literal prefix, ``floating`` holds those that may match anywhere."""

    floating: tuple[int, ...]
    anchored: Mapping[tuple[str, ...], tuple[int, ...]]

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> RuleIndex:
        floating: list[int] = []
        anchored: dict[tuple[str, ...], list[int]] = {}
        for position, rule in enumerate(rules):
            prefix = literal_prefix(rule.pattern)
            if prefix:
                anchored.setdefault(prefix, []).append(position)
            else:
                floating.append(position)
        return cls(tuple(floating), {k: tuple(v) for k, v in anchored.items()})

    def candidates(self, path: str) -> list[int]:
        """Positions of the rules that may match ``path``, last rule first."""
        segments = tuple(path.strip("/").split("/"))
        found = list(self.floating)
        for depth in range(1, len(segments) + 1):
            found.extend(self.anchored.get(segments[:depth], ()))
        return sorted(found, reverse=True)


@dataclass(frozen=True)
class CodeOwners:
    """A repo's CODEOWNERS file: its usable rules in file order and the lines skipped."""

    repo: str
    location: str
    rules: tuple[Rule, ...]
    problems: tuple[Problem, ...] = ()
    index: RuleIndex = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", RuleIndex.of(self.rules))

    def rule_for(self, path: str) -> Rule | None:
        """The rule GitHub applies to ``path``: the last one that matches."""
        for position in self.index.candidates(path):
            if self.rules[position].matches(path):
                return self.rules[position]
        return None

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The owners of ``path`` as written (``@org/slug``, ``@user``, emails);
        empty when no rule matches or the last match has no owners."""
        rule = self.rule_for(path)
        return rule.owners if rule else ()

    def root_owners(self) -> tuple[str, ...]:
        """The owners of the repo as a whole: the last catch-all rule's (``*``)."""
        for rule in reversed(self.rules):
            if rule.pattern in ROOT_PATTERNS:
                return rule.owners
        return ()

    def subject(self, line: int) -> str:
        """How a problem names a line of this file."""
        return f"{self.repo}:{self.location}:{line}"


def find_codeowners(read: Callable[[str], str | None]) -> tuple[str, str] | None:
    """The CODEOWNERS file GitHub would use: ``(location, text)`` of the first of
    :data:`CODEOWNERS_LOCATIONS` that ``read`` finds (``read`` returns None for a
    missing file), or None."""
    for location in CODEOWNERS_LOCATIONS:
        text = read(location)
        if text is not None:
            return location, text
    return None


def parse_codeowners(
    text: str, *, repo: str, location: str = "CODEOWNERS", section: str = "discovery.owners"
) -> CodeOwners:
    """A CODEOWNERS file's rules; lines GitHub would skip become problems."""
    empty = CodeOwners(repo, location, ())
    if len(text.encode("utf-8")) >= MAX_CODEOWNERS_BYTES:
        problem = Problem(section, "3 MB or larger: GitHub does not load it", empty.subject(0))
        return CodeOwners(repo, location, (), (problem,))
    rules: list[Rule] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        parsed = parse_line(line)
        if parsed is None:
            continue
        pattern, owners = parsed
        why = unsupported(pattern, owners)
        matcher = None if why else compile_pattern(pattern)
        if matcher is None:
            what = why or f"pattern `{printable(pattern)}` is not valid; GitHub skips the line"
            problems.append(Problem(section, what, empty.subject(number)))
            continue
        rules.append(Rule(number, pattern, owners, matcher))
    return CodeOwners(repo, location, tuple(rules), tuple(problems))


def parse_line(line: str) -> tuple[str, tuple[str, ...]] | None:
    """``(pattern, owners)`` of a line, or None for a blank or comment line.

    A ``#`` at the start of the line or after whitespace starts a comment
    (GitHub reads trailing comments since 2022); a backslash keeps the next
    character in the pattern, so ``a\\ b`` is one pattern with a space."""
    tokens: list[str] = []
    current = ""
    chars = iter(line.strip())
    for char in chars:
        if char == "\\":
            current += char + next(chars, "")
        elif char.isspace():
            if current:
                tokens.append(current)
            current = ""
        elif char == "#" and not current:
            break
        else:
            current += char
    if current:
        tokens.append(current)
    if not tokens:
        return None
    return tokens[0], tuple(tokens[1:])


def unsupported(pattern: str, owners: tuple[str, ...]) -> str | None:
    """Why GitHub would skip this line, or None when it reads it."""
    if pattern.startswith("!"):
        return f"`{printable(pattern)}`: negation (!) does not work in CODEOWNERS; line skipped"
    if pattern.startswith("\\#"):
        return f"`{printable(pattern)}`: escaping a leading # is not supported; line skipped"
    if "[" in pattern.replace("\\[", ""):
        return f"`{printable(pattern)}`: [ ] ranges do not work in CODEOWNERS; line skipped"
    bad = [owner for owner in owners if owner_kind(owner) is None]
    if bad:
        shown = ", ".join(f"`{printable(owner)}`" for owner in bad)
        return f"{shown} is not an owner (@user, @org/team or an email); line skipped"
    return None


def compile_pattern(pattern: str) -> GitIgnoreBasicPattern | None:
    """pathspec's gitignore pattern for ``pattern``, or None when it matches nothing."""
    try:
        compiled = GitIgnoreBasicPattern(pattern)
    except (GitIgnorePatternError, ValueError):
        return None
    return compiled if compiled.include is not None else None
