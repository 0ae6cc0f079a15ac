"""Teams in a shared repo: CODEOWNERS owners mapped to configured teams.

In a monorepo one repo holds many teams' code, so the repo alone cannot say
whose a change is. SPEC §12: a change belongs to the team owning most of its
changed paths (ties: the earlier team in the config); deployments and CI runs
to the team whose ``services`` list their service, else the owner of the repo's
root. An owner ``@org/slug`` is the team with ``github_team = "slug"``, else the
team named ``slug``; anything else is a :class:`Problem`, never a guess.

The CODEOWNERS text comes from local copies (:func:`read_local_codeowners`) or
from GitHub through an injected ``get_json`` (:func:`fetch_codeowners`), so the
sync can run it on the project's HTTP client.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scorecard.discovery.codeowners import (
    CODEOWNERS_LOCATIONS,
    CodeOwners,
    find_codeowners,
    owner_kind,
    parse_codeowners,
)
from scorecard.discovery.model import DiscoveredTeam, Discovery, OwnedPath, Problem

__all__ = [
    "GetJson",
    "RepoOwners",
    "discover_codeowners",
    "fetch_codeowners",
    "read_local_codeowners",
    "run_owner",
]

GetJson = Callable[[str, Mapping[str, Any]], Awaitable[Any]]
"""``await get_json(path, params)``: the decoded JSON body, None for a 404."""


@dataclass(frozen=True)
class RepoOwners:
    """One repo's CODEOWNERS with its owners mapped to team names.

    ``team_of`` maps an owner as written (casefolded) to a team; ``order`` is the
    config's team order, which breaks ties."""

    codeowners: CodeOwners
    team_of: Mapping[str, str]
    order: tuple[str, ...]

    def teams_of(self, path: str) -> tuple[str, ...]:
        """The teams owning ``path`` (two when its rule names two teams)."""
        return self.teams(self.codeowners.owners_of(path))

    def teams(self, owners: Iterable[str]) -> tuple[str, ...]:
        found = (self.team_of.get(owner.casefold()) for owner in owners)
        return tuple(dict.fromkeys(team for team in found if team))

    def root_owner(self) -> str | None:
        """The team owning the repo's root (the last ``*`` rule), the earliest in
        the config when that rule names several."""
        return self.first(self.teams(self.codeowners.root_owners()))

    def change_owner(self, paths: Iterable[str]) -> str | None:
        """The team owning most of a change's paths; ties go to the earlier team
        in the config. A path its rule gives to two teams counts for both. With
        no owned path (or no paths known), the root owner."""
        counts = Counter(team for path in paths for team in self.teams_of(path))
        if not counts:
            return self.root_owner()
        best = max(counts.values())
        return self.first(team for team, count in counts.items() if count == best)

    def first(self, teams: Iterable[str]) -> str | None:
        """The earliest of ``teams`` in the config order."""
        rank = {name: index for index, name in enumerate(self.order)}
        ranked = sorted(teams, key=lambda team: rank.get(team, len(rank)))
        return ranked[0] if ranked else None


def run_owner(
    service: str | None, services_of: Mapping[str, Sequence[str]], root: str | None
) -> str | None:
    """Whose a deployment or CI run in a monorepo is: the first team (in
    ``services_of``'s order, the config's) listing its service, else ``root``."""
    if service:
        for team, services in services_of.items():
            if service in services:
                return team
    return root


def slug_map(teams: Sequence[str], github_team_of: Mapping[str, str]) -> dict[str, str]:
    """GitHub team slug (casefolded) → team: ``github_team`` first, then the name."""
    mapped = {name.casefold(): name for name in teams}
    for name, slug in github_team_of.items():
        mapped[slug.casefold()] = name
    return mapped


def map_owners(
    codeowners: CodeOwners,
    teams: Sequence[str],
    github_team_of: Mapping[str, str],
    section: str,
) -> tuple[RepoOwners, list[Problem]]:
    """``codeowners`` with its owners mapped to ``teams``; owners that are no
    team (a slug without a team, a user, an email) become problems, once each."""
    slugs = slug_map(teams, github_team_of)
    team_of: dict[str, str] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for rule in codeowners.rules:
        for owner in rule.owners:
            key = owner.casefold()
            if key in seen:
                continue
            seen.add(key)
            team = slugs.get(key.rpartition("/")[2]) if owner_kind(owner) == "team" else None
            if team:
                team_of[key] = team
                continue
            problems.append(
                Problem(section, unmapped(owner), f"{codeowners.subject(rule.line)} {owner}")
            )
    return RepoOwners(codeowners, team_of, tuple(teams)), problems


def unmapped(owner: str) -> str:
    """Why an owner counts for no team, and what to do."""
    kind = owner_kind(owner)
    if kind == "team":
        slug = owner.rpartition("/")[2]
        return (
            f'GitHub team `{slug}` is no configured team: add `github_team = "{slug}"` '
            "to its [[teams]] entry; its paths count for no team until then"
        )
    what = "an email address" if kind == "email" else "a user"
    return f"owner {owner} is {what}, not a team: the paths only it owns count for no team"


def discover_codeowners(
    files: Iterable[CodeOwners],
    teams: Sequence[str],
    *,
    github_team_of: Mapping[str, str] | None = None,
    section: str = "discovery.owners",
) -> tuple[Discovery, dict[str, RepoOwners]]:
    """Each team's CODEOWNERS paths (and the repos whose root it owns), plus the
    per-repo owner maps the sync uses to attribute changes.

    ``teams`` are the configured team names in config order (the ties rule);
    CODEOWNERS never invents a team."""
    paths: dict[str, list[OwnedPath]] = {}
    repos: dict[str, list[str]] = {}
    problems: list[Problem] = []
    by_repo: dict[str, RepoOwners] = {}
    for codeowners in files:
        owners, unplaced = map_owners(codeowners, teams, github_team_of or {}, section)
        by_repo[codeowners.repo] = owners
        problems.extend(codeowners.problems)
        problems.extend(unplaced)
        for rule in codeowners.rules:
            for team in owners.teams(rule.owners):
                paths.setdefault(team, []).append(OwnedPath(codeowners.repo, rule.pattern))
        root = owners.root_owner()
        if root:
            repos.setdefault(root, []).append(codeowners.repo)
    found = tuple(
        DiscoveredTeam(name, repos=tuple(repos.get(name, ())), paths=tuple(paths.get(name, ())))
        for name in teams
        if name in paths or name in repos
    )
    return Discovery(section, found, tuple(problems)), by_repo


def read_local_codeowners(
    files: Mapping[str, Path], *, section: str = "discovery.owners"
) -> tuple[list[CodeOwners], list[Problem]]:
    """``files = { "owner/repo" = "path" }``: each path is a CODEOWNERS file, or a
    checkout whose CODEOWNERS is found in GitHub's order."""
    found: list[CodeOwners] = []
    problems: list[Problem] = []
    for repo, path in files.items():
        located = locate_local(path)
        if located is None:
            where = ", ".join(CODEOWNERS_LOCATIONS) if path.is_dir() else "the file"
            problems.append(Problem(section, f"no CODEOWNERS at {path} ({where})", repo))
            continue
        location, text = located
        found.append(parse_codeowners(text, repo=repo, location=location, section=section))
    return found, problems


def locate_local(path: Path) -> tuple[str, str] | None:
    """``(location, text)`` of a local CODEOWNERS: the file itself, or in a
    checkout the first of GitHub's locations; None when there is none."""
    if path.is_dir():
        return find_codeowners(lambda relative: read_text(path / relative))
    text = read_text(path)
    return (path.name, text) if text is not None else None


def read_text(path: Path) -> str | None:
    """The file's text (UTF-8, undecodable bytes replaced), or None when it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


async def fetch_codeowners(
    get_json: GetJson, repo: str, *, section: str = "discovery.owners"
) -> CodeOwners | None:
    """The CODEOWNERS GitHub uses for ``repo``, read through the contents API
    (``GET /repos/{owner}/{repo}/contents/{path}``) in GitHub's lookup order;
    None when the repo has none. A file the API will not inline (over 1 MB)
    is found but unread: a problem that says to use a local copy."""
    for location in CODEOWNERS_LOCATIONS:
        body = await get_json(f"/repos/{repo}/contents/{location}", {})
        if not is_file(body):
            continue
        text = decode_content(body)
        if text is not None:
            return parse_codeowners(text, repo=repo, location=location, section=section)
        what = (
            "GitHub's contents API does not inline this file (over 1 MB): "
            f'read it from a local copy, files = {{ "{repo}" = "path/to/CODEOWNERS" }}'
        )
        return CodeOwners(repo, location, (), (Problem(section, what, f"{repo}:{location}"),))
    return None


def is_file(body: Any) -> bool:
    """A contents-API answer for a file (not a 404's None, not a folder listing)."""
    return isinstance(body, dict) and body.get("type", "file") == "file"


def decode_content(body: Any) -> str | None:
    """The text of a contents-API file answer (base64 ``content``), or None when
    it carries none (``encoding: none`` for large files, undecodable content)."""
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, str) or not content or body.get("encoding") != "base64":
        return None
    try:
        raw = base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="replace")
