"""The discovered ownership map, and how it meets the hand-written ``[[teams]]``.

Each discovery section (a Backstage catalog, GitHub's org teams, CODEOWNERS
files) yields a :class:`Discovery`: teams with the repos, services, PagerDuty
services and CODEOWNERS paths it found, each entry remembering its origin, plus
the :class:`Problem` entries it could not place. :func:`resolve` then applies
SPEC §12's precedence once, for every caller: explicit ``[[teams]]`` win and
extend, a value a person listed belongs to that person's team, and a value two
discovered teams claim is reported instead of guessed. The result is plain
:class:`~scorecard.config.model.TeamConfig` objects (what sync and metrics read
today) and one row per ``team, kind, value, origin`` for ``scorecard teams``.

Pure: no I/O, cheap to import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from scorecard.config.model import TeamConfig

__all__ = [
    "EXPLICIT_ORIGIN",
    "DiscoveredTeam",
    "Discovery",
    "Kind",
    "OwnedPath",
    "Problem",
    "Resolution",
    "Row",
    "resolve",
]

Kind = Literal["repo", "service", "pagerduty_service", "path"]
"""What a row attributes to a team (SPEC §12, ``scorecard teams``)."""

EXPLICIT_ORIGIN: Final = "teams"
"""The origin of everything written in ``[[teams]]``."""


@dataclass(frozen=True)
class OwnedPath:
    """A CODEOWNERS pattern that names a team, in one repo."""

    repo: str
    pattern: str

    def __str__(self) -> str:
        return f"{self.repo}:{self.pattern}"


@dataclass(frozen=True)
class Problem:
    """Something a discovery section found but could not place, listed for a person.

    ``section`` is the discovery section (``discovery.catalog``), ``what`` says
    what is wrong in words, ``subject`` names the thing (``component:default/searcher``,
    ``acme/monorepo:CODEOWNERS:7``, ``repo acme/api``)."""

    section: str
    what: str
    subject: str

    def __str__(self) -> str:
        return f"{self.section}: {self.subject}: {self.what}"


@dataclass(frozen=True)
class DiscoveredTeam:
    """One team as one discovery section sees it.

    ``github_team`` is the GitHub team slug it stands for, when it came from
    GitHub (a ``[[teams]]`` entry with ``github_team = "slug"`` takes it over)."""

    name: str
    repos: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    pagerduty_services: tuple[str, ...] = ()
    paths: tuple[OwnedPath, ...] = ()
    github_team: str | None = None

    def entries(self) -> Iterator[tuple[Kind, str]]:
        """Every owned repo, service and PagerDuty service with its kind, in row
        order (the CODEOWNERS ``paths`` are apart: they may be shared)."""
        for repo in self.repos:
            yield "repo", repo
        for service in self.services:
            yield "service", service
        for pd_service in self.pagerduty_services:
            yield "pagerduty_service", pd_service


@dataclass(frozen=True)
class Discovery:
    """What one discovery section found: its teams (in its own order) and problems."""

    section: str
    teams: tuple[DiscoveredTeam, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Row:
    """One line of ``scorecard teams``: who owns what, and who said so."""

    team: str
    kind: Kind
    value: str
    origin: str


@dataclass(frozen=True)
class Resolution:
    """The resolved team map: teams (config order, then discovered ones), rows, problems.

    ``paths`` holds each team's CODEOWNERS paths, which a ``TeamConfig`` has no
    field for."""

    teams: tuple[TeamConfig, ...]
    rows: tuple[Row, ...]
    problems: tuple[Problem, ...]
    paths: Mapping[str, tuple[OwnedPath, ...]] = field(default_factory=dict)


def value_key(kind: Kind, value: str) -> tuple[Kind, str]:
    """How two values are compared: repos case-insensitively (GitHub and GitLab
    paths are), services and ids exactly."""
    return (kind, value.casefold() if kind == "repo" else value)


@dataclass
class Draft:
    """A team being resolved: what it owns so far, in order, with origins."""

    name: str
    base: TeamConfig | None = None
    owned: dict[tuple[Kind, str], Row] = field(default_factory=dict)
    paths: dict[OwnedPath, Row] = field(default_factory=dict)

    def add(self, kind: Kind, value: str, origin: str) -> None:
        self.owned.setdefault(value_key(kind, value), Row(self.name, kind, value, origin))

    def add_path(self, path: OwnedPath, origin: str) -> None:
        self.paths.setdefault(path, Row(self.name, "path", str(path), origin))

    def values(self, kind: Kind) -> tuple[str, ...]:
        return tuple(row.value for row in self.owned.values() if row.kind == kind)

    def rows(self) -> list[Row]:
        order: tuple[Kind, ...] = ("repo", "service", "pagerduty_service")
        owned = sorted(self.owned.values(), key=lambda row: order.index(row.kind))
        return [*owned, *self.paths.values()]

    def team(self) -> TeamConfig:
        base = self.base or TeamConfig(name=self.name)
        return TeamConfig(
            name=base.name,
            repos=self.values("repo"),
            services=self.values("service"),
            pagerduty_services=self.values("pagerduty_service"),
            coverage_repos=base.coverage_repos,
            opsgenie_teams=base.opsgenie_teams,
            incidentio_teams=base.incidentio_teams,
            github_team=base.github_team,
        )


class Namer:
    """Which resolved team a discovered team is: the ``[[teams]]`` entry holding
    its GitHub slug, else the team of the same name (case-insensitive), else a
    new team under the discovered name."""

    def __init__(self, explicit: Sequence[TeamConfig], github_team_of: Mapping[str, str]) -> None:
        self.by_name = {team.name.casefold(): team.name for team in explicit}
        self.by_slug = {
            slug.casefold(): self.by_name.get(name.casefold(), name)
            for name, slug in github_team_of.items()
        }

    def __call__(self, team: DiscoveredTeam) -> str:
        if team.github_team and team.github_team.casefold() in self.by_slug:
            return self.by_slug[team.github_team.casefold()]
        return self.by_name.setdefault(team.name.casefold(), team.name)


def resolve(
    explicit: Sequence[TeamConfig],
    discoveries: Iterable[Discovery],
    *,
    github_team_of: Mapping[str, str] | None = None,
) -> Resolution:
    """The team map SPEC §12 describes.

    ``explicit`` are the ``[[teams]]`` entries in config order; ``github_team_of``
    maps a ``[[teams]]`` name to its ``github_team`` slug. Explicit teams keep
    their order and gain what discovery found for them (same name, or their
    GitHub slug); a repo, service or PagerDuty service written in ``[[teams]]``
    belongs to that team whatever discovery says; one that two discovered teams
    claim goes to neither and becomes a :class:`Problem`. CODEOWNERS paths may
    be shared (a pattern can name two teams) and are never a conflict."""
    drafts: dict[str, Draft] = {}
    explicit_owner: dict[tuple[Kind, str], str] = {}
    for team in explicit:
        draft = drafts.setdefault(team.name, Draft(team.name, base=team))
        for kind, value in explicit_entries(team):
            draft.add(kind, value, EXPLICIT_ORIGIN)
            explicit_owner.setdefault(value_key(kind, value), team.name)
    namer = Namer(explicit, github_team_of or {})
    claims: dict[tuple[Kind, str], list[Row]] = {}
    problems: list[Problem] = []
    for discovery in discoveries:
        problems.extend(discovery.problems)
        for found in discovery.teams:
            name = namer(found)
            draft = drafts.setdefault(name, Draft(name))
            for path in found.paths:
                draft.add_path(path, discovery.section)
            for kind, value in found.entries():
                key = value_key(kind, value)
                if key not in explicit_owner:
                    claims.setdefault(key, []).append(Row(name, kind, value, discovery.section))
    problems.extend(settle_claims(claims, drafts))
    return Resolution(
        teams=tuple(draft.team() for draft in drafts.values()),
        rows=tuple(row for draft in drafts.values() for row in draft.rows()),
        problems=tuple(problems),
        paths={name: tuple(draft.paths) for name, draft in drafts.items() if draft.paths},
    )


def explicit_entries(team: TeamConfig) -> Iterator[tuple[Kind, str]]:
    """What a ``[[teams]]`` entry lists, as kinds and values."""
    yield from DiscoveredTeam(
        team.name,
        repos=team.repos,
        services=team.services,
        pagerduty_services=team.pagerduty_services,
    ).entries()


def settle_claims(
    claims: Mapping[tuple[Kind, str], list[Row]], drafts: Mapping[str, Draft]
) -> Iterator[Problem]:
    """Give each discovered value to its one claimant; report values with two or more."""
    for rows in claims.values():
        teams = list(dict.fromkeys(row.team for row in rows))
        if len(teams) == 1:
            first = rows[0]
            drafts[first.team].add(first.kind, first.value, first.origin)
            continue
        claimants = {row.team: row for row in reversed(rows)}  # first claim per team wins
        said = ", ".join(f"{team} ({claimants[team].origin})" for team in teams)
        yield Problem(
            section=rows[-1].origin,
            what=f"claimed by {len(teams)} teams: {said}; left to no team until one claim goes",
            subject=f"{rows[0].kind.replace('_', ' ')} {rows[0].value}",
        )
