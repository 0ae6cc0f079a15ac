"""Teams from a GitHub organization's teams and the repos they hold.

An org that grants repo access by team already says who owns what: a team
with ``admin`` or ``maintain`` permission on a repo is the team that runs it
(SPEC §12; ``permissions`` in the section overrides that set). Each org team
becomes a team named by its slug, which a ``[[teams]]`` entry takes over with
``github_team = "slug"``.

Parsing reads GitHub's answers to ``GET /orgs/{org}/teams`` and
``GET /orgs/{org}/teams/{team_slug}/repos`` (field names as in GitHub's OpenAPI
description: ``slug``, ``parent``, ``full_name``, ``permissions``); fetching
runs on an injected ``list_all`` that follows GitHub's ``Link`` pages, so the
sync can use the project's HTTP client.

A child team inherits its parent's access, and GitHub lists inherited repos
among the child's, so a repo a team and one of its ancestors both hold is the
ancestor's grant: it stays with the ancestor instead of becoming a conflict
with every child team (a narrower ``permissions``, or ``[[teams]]``, moves it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from scorecard.discovery.model import DiscoveredTeam, Discovery

__all__ = [
    "DEFAULT_PERMISSIONS",
    "PERMISSIONS",
    "ListAll",
    "discover_github_teams",
    "fetch_github_teams",
    "team_parents",
    "team_repos",
]

ListAll = Callable[[str, Mapping[str, Any]], Awaitable[list[Any]]]
"""``await list_all(path, params)``: every item of a paginated GitHub list."""

PERMISSIONS: Final = ("admin", "maintain", "push", "triage", "pull")
"""GitHub's repository permissions, strongest first (``write`` is ``push``,
``read`` is ``pull`` in the API)."""

ALIASES: Final = {"write": "push", "read": "pull"}
DEFAULT_PERMISSIONS: Final = ("admin", "maintain")


def normalize_permissions(permissions: Iterable[str]) -> tuple[str, ...]:
    """The API names of ``permissions`` (``write`` → ``push``, ``read`` → ``pull``);
    ValueError naming the known ones for anything else."""
    names = []
    for permission in permissions:
        name = ALIASES.get(permission.lower(), permission.lower())
        if name not in PERMISSIONS:
            known = ", ".join((*PERMISSIONS, *ALIASES))
            raise ValueError(f"unknown GitHub permission `{permission}`; known: {known}")
        names.append(name)
    return tuple(dict.fromkeys(names))


def team_parents(teams: Iterable[Any]) -> dict[str, str | None]:
    """Slug → parent slug (None for a top-level team), from ``GET /orgs/{org}/teams``
    items, in GitHub's order; items without a slug are skipped."""
    parents: dict[str, str | None] = {}
    for team in teams:
        if not isinstance(team, dict) or not isinstance(team.get("slug"), str):
            continue
        parent = team.get("parent")
        slug = parent.get("slug") if isinstance(parent, dict) else None
        parents[team["slug"]] = slug if isinstance(slug, str) else None
    return parents


def team_repos(
    repos: Iterable[Any], permissions: Sequence[str] = DEFAULT_PERMISSIONS
) -> tuple[str, ...]:
    """``owner/repo`` of each repo a team holds one of ``permissions`` on, from
    ``GET /orgs/{org}/teams/{team_slug}/repos`` items."""
    wanted = normalize_permissions(permissions)
    found: list[str] = []
    for repo in repos:
        if not isinstance(repo, dict) or not isinstance(repo.get("full_name"), str):
            continue
        held = repo.get("permissions")
        if isinstance(held, dict) and any(held.get(name) is True for name in wanted):
            found.append(repo["full_name"])
    return tuple(dict.fromkeys(found))


def ancestors(slug: str, parents: Mapping[str, str | None]) -> list[str]:
    """The parent, grandparent, … of a team (stops at a cycle)."""
    chain: list[str] = []
    parent = parents.get(slug)
    while parent and parent not in chain and parent != slug:
        chain.append(parent)
        parent = parents.get(parent)
    return chain


def discover_github_teams(
    parents: Mapping[str, str | None],
    repos_of: Mapping[str, Sequence[str]],
    *,
    section: str = "discovery.gh",
) -> Discovery:
    """One team per org team holding at least one repo, named by its slug.

    ``repos_of`` maps a slug to the repos it holds (:func:`team_repos`); a repo
    an ancestor team holds too is the ancestor's (inherited access)."""
    teams: list[DiscoveredTeam] = []
    for slug in [*parents, *(s for s in repos_of if s not in parents)]:
        inherited = {
            repo.casefold()
            for parent in ancestors(slug, parents)
            for repo in repos_of.get(parent, ())
        }
        kept = tuple(repo for repo in repos_of.get(slug, ()) if repo.casefold() not in inherited)
        if kept:
            teams.append(DiscoveredTeam(slug, repos=kept, github_team=slug))
    return Discovery(section, tuple(teams))


async def fetch_github_teams(
    list_all: ListAll,
    org: str,
    *,
    permissions: Sequence[str] = DEFAULT_PERMISSIONS,
    section: str = "discovery.gh",
) -> Discovery:
    """The org's teams and their repos, read through ``list_all`` (one request
    list for the teams, one per team for its repos)."""
    wanted = normalize_permissions(permissions)
    org_path = f"/orgs/{quote(org, safe='')}"
    parents = team_parents(await list_all(f"{org_path}/teams", {"per_page": 100}))
    repos_of: dict[str, tuple[str, ...]] = {}
    for slug in parents:
        items = await list_all(f"{org_path}/teams/{quote(slug, safe='')}/repos", {"per_page": 100})
        repos_of[slug] = team_repos(items, wanted)
    return discover_github_teams(parents, repos_of, section=section)
