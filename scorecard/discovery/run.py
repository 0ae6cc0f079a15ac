"""Running the ``[discovery.NAME]`` sections, and their answers as cacheable JSON.

Local sections (a catalog folder, CODEOWNERS copies) are read wherever a team
map is needed: reading files is cheap and always current. Remote ones (the
catalog API, GitHub's org teams, CODEOWNERS through a github source) are
fetched by a sync only, and what they found is kept as plain JSON with the
sources' state (:mod:`scorecard.discovery.cache`), so offline and read-only
commands resolve the same map without the network.

:func:`resolve_found` then applies SPEC §12 in one place: the explicit
``[[teams]]`` with the Backstage and GitHub-teams discoveries first (they name
teams), then CODEOWNERS, whose owners map onto those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scorecard.config.model import Config, DiscoveryConfig, SourceConfig
from scorecard.discovery.backstage import discover_backstage, load_entities
from scorecard.discovery.codeowners import CodeOwners, parse_codeowners
from scorecard.discovery.model import DiscoveredTeam, Discovery, Problem, Resolution
from scorecard.discovery.monorepo import RepoOwners, discover_codeowners, read_local_codeowners

if TYPE_CHECKING:
    from scorecard.sources.http import HttpClient

__all__ = [
    "STATE_VERSION",
    "Found",
    "Resolved",
    "fetch_state",
    "found_from_state",
    "is_remote",
    "local_found",
    "resolve_found",
]

STATE_VERSION: Final = 1
"""Bumped when the cached JSON's shape changes (an older one is ignored)."""


@dataclass(frozen=True)
class Found:
    """What one section delivered: teams (Backstage, GitHub teams) or CODEOWNERS files."""

    section: DiscoveryConfig
    teams: tuple[DiscoveredTeam, ...] = ()
    files: tuple[CodeOwners, ...] = ()
    problems: tuple[Problem, ...] = ()

    def plus(self, other: Found) -> Found:
        """Both parts of a section (its local files and its remote answer)."""
        return Found(
            self.section,
            self.teams + other.teams,
            self.files + other.files,
            self.problems + other.problems,
        )


@dataclass(frozen=True)
class Resolved:
    """The team map in force: the config with discovered teams, and how it came about.

    ``config.teams`` are the resolved teams (explicit first, then discovered);
    ``owners`` holds each CODEOWNERS repo's rules (casefolded repo → rules), by
    which a monorepo's events find their team."""

    config: Config
    resolution: Resolution
    owners: Mapping[str, RepoOwners] = field(default_factory=dict)


def is_remote(section: DiscoveryConfig) -> bool:
    """Whether a section needs the network (and so a sync, and the cache)."""
    options: Any = section.options
    if section.kind == "backstage":
        return options.path is None
    if section.kind == "codeowners":
        return bool(options.repos)
    return True


def local_found(section: DiscoveryConfig, config: Config) -> Found:
    """What a section's local part says: a catalog folder, or CODEOWNERS copies."""
    options: Any = section.options
    if section.kind == "backstage" and options.path is not None:
        entities, problems = load_entities(options.path, section=section.section)
        found = discover_backstage(entities, section=section.section)
        return Found(section, found.teams, (), tuple(problems) + found.problems)
    if section.kind == "codeowners" and options.files:
        base = config.path.parent if config.path is not None else Path.cwd()
        paths = {repo: base / Path(path).expanduser() for repo, path in options.files.items()}
        files, problems = read_local_codeowners(paths, section=section.section)
        return Found(section, (), tuple(files), tuple(problems))
    return Found(section)


# --------------------------------------------------------------------------- the network


async def fetch_state(section: DiscoveryConfig, config: Config) -> dict[str, Any]:
    """A remote section's answer, as the JSON the cache keeps (raises on failure)."""
    options: Any = section.options
    if section.kind == "backstage":
        from scorecard.discovery.backstage import entities_from_pages, fetch_entities

        async with catalog_client(section) as client:
            pages = await fetch_entities(lambda path, params: get_data(client, path, params))
        found = discover_backstage(entities_from_pages(pages), section=section.section)
        return state_of(found.teams, found.problems)
    async with github_client(config.source(options.source), config) as client:
        if section.kind == "github-teams":
            from scorecard.discovery.github_teams import fetch_github_teams

            teams = await fetch_github_teams(
                lambda path, params: list_all(client, path, params),
                options.org,
                permissions=options.permissions,
                section=section.section,
            )
            return state_of(teams.teams, teams.problems)
        return await codeowners_state(client, section)


async def codeowners_state(client: HttpClient, section: DiscoveryConfig) -> dict[str, Any]:
    """Each listed repo's CODEOWNERS text (as GitHub finds it), or why there is none."""
    from scorecard.discovery.monorepo import fetch_codeowners

    options: Any = section.options
    files: list[dict[str, str]] = []
    problems: list[Problem] = []
    for repo in options.repos:
        found = await fetch_codeowners(
            lambda path, params: get_data(client, path, params, missing_ok=True),
            repo,
            section=section.section,
        )
        if found is None:
            problems.append(Problem(section.section, "no CODEOWNERS file in the repo", repo))
            continue
        problems.extend(found.problems)
        files.append({"repo": repo, "location": found.location, "text": found_text(found)})
    return {**state_of((), problems), "files": files}


def found_text(found: CodeOwners) -> str:
    """The text to keep for a parsed file: its usable lines, each on its own line
    number (the skipped ones are kept as problems)."""
    lines: dict[int, str] = {}
    for rule in found.rules:
        lines[rule.line] = " ".join([rule.pattern, *rule.owners])
    last = max(lines, default=0)
    return "\n".join(lines.get(number, "") for number in range(1, last + 1))


def catalog_client(section: DiscoveryConfig) -> HttpClient:
    """The catalog API's client, with the section's token (bearer) if it has one."""
    from scorecard.sources.api import auth_token
    from scorecard.sources.http import HttpClient

    cfg = section.as_source()
    token = auth_token(cfg)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpClient(cfg, auth_headers=headers, secrets=[token] if token else [])


def github_client(cfg: SourceConfig, config: Config) -> HttpClient:
    """The github source's own client: its URL, token and headers."""
    from scorecard.errors import FatalSourceError
    from scorecard.sources.api import ApiSource
    from scorecard.sources.registry import build_source

    source = build_source(cfg, config=config)
    if not isinstance(source, ApiSource):
        raise FatalSourceError(f"source '{cfg.name}' is not an API source")
    return source.client()


async def get_data(
    client: HttpClient, path: str, params: Mapping[str, Any], *, missing_ok: bool = False
) -> Any:
    """The JSON of ``GET path`` (None for a 404 when ``missing_ok``)."""
    from scorecard.errors import SourceError

    try:
        page = await client.get(path, params, conditional=False)
    except SourceError as exc:
        if missing_ok and str(exc).endswith("HTTP 404"):
            return None
        raise
    return page.data


async def list_all(client: HttpClient, path: str, params: Mapping[str, Any]) -> list[Any]:
    """Every item of a GitHub list, following its ``Link`` pages."""
    from scorecard.sources.paginate import paginate_link

    items: list[Any] = []
    async for page in paginate_link(client, path, params, conditional=False):
        if isinstance(page.data, list):
            items.extend(page.data)
    return items


# --------------------------------------------------------------------------- JSON


def state_of(teams: Sequence[DiscoveredTeam], problems: Sequence[Problem]) -> dict[str, Any]:
    """Teams and problems as the JSON the cache keeps."""
    return {
        "version": STATE_VERSION,
        "teams": [
            {
                "name": team.name,
                "repos": list(team.repos),
                "services": list(team.services),
                "pagerduty_services": list(team.pagerduty_services),
                "github_team": team.github_team,
            }
            for team in teams
        ],
        "problems": [
            {"section": p.section, "what": p.what, "subject": p.subject} for p in problems
        ],
    }


def found_from_state(section: DiscoveryConfig, state: Mapping[str, Any]) -> Found:
    """A remote section's cached answer (empty when there is none or it is of
    another version)."""
    if state.get("version") != STATE_VERSION:
        return Found(section)
    teams = tuple(
        DiscoveredTeam(
            str(t["name"]),
            repos=tuple(t.get("repos") or ()),
            services=tuple(t.get("services") or ()),
            pagerduty_services=tuple(t.get("pagerduty_services") or ()),
            github_team=t.get("github_team"),
        )
        for t in state.get("teams") or ()
    )
    problems = tuple(
        Problem(str(p["section"]), str(p["what"]), str(p["subject"]))
        for p in state.get("problems") or ()
    )
    files = tuple(
        parse_codeowners(f["text"], repo=f["repo"], location=f["location"], section=section.section)
        for f in state.get("files") or ()
    )
    return Found(section, teams, files, problems)


# --------------------------------------------------------------------------- resolving


def resolve_found(config: Config, founds: Sequence[Found]) -> Resolved:
    """The team map SPEC §12 describes, from what each section found."""
    from scorecard.discovery.model import resolve

    named = [Discovery(f.section.section, f.teams, f.problems) for f in founds if f.teams]
    first = resolve(config.teams, named, github_team_of=config.github_team_of)
    names = [team.name for team in first.teams]
    discoveries: list[Discovery] = []
    owners: dict[str, RepoOwners] = {}
    for found in founds:
        if found.section.kind != "codeowners":
            discoveries.append(Discovery(found.section.section, found.teams, found.problems))
            continue
        discovery, by_repo = discover_codeowners(
            found.files, names, github_team_of=config.github_team_of, section=found.section.section
        )
        discoveries.append(replace(discovery, problems=found.problems + discovery.problems))
        owners.update({repo.casefold(): rules for repo, rules in by_repo.items()})
    resolution = resolve(config.teams, discoveries, github_team_of=config.github_team_of)
    teams = resolution.teams if config.discovery else config.teams
    return Resolved(replace(config, teams=teams), resolution, owners)
