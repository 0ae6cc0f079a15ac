"""``[[teams]]`` and ``[change_classes.NAME]``: who owns what, and risky changes.

Every repo, service and incident-tool team belongs to exactly one team, so a
claim by two teams is an error naming both; a change class must match
something.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from scorecard.config.checker import Checker, describe
from scorecard.config.model import ChangeClassConfig, TeamConfig
from scorecard.config.toml_lines import KeyPath, quote_part
from scorecard.model import UNASSIGNED

__all__ = ["CHANGE_CLASS_KEYS", "TEAM_KEYS", "parse_change_classes", "parse_teams"]

TEAM_KEYS: Final = tuple(f.name for f in dataclasses.fields(TeamConfig))
"""The keys of a ``[[teams]]`` entry: the fields of :class:`TeamConfig`."""
CHANGE_CLASS_KEYS: Final = tuple(
    f.name for f in dataclasses.fields(ChangeClassConfig) if f.name != "name"
)
"""The keys of a ``[change_classes.NAME]`` section (the name is the section's)."""
_TEAMS_HINT: Final = (
    'add a section per team: a `[[teams]]` line, then `name = "Payments"` and '
    '`repos = ["acme/payments"]` below it'
)

Claims = dict[str, dict[str, str]]
"""Per team key (``repos``, ``services``, …): each item's owning team."""


LIST_KEYS: Final = tuple(
    f.name for f in dataclasses.fields(TeamConfig) if f.name not in ("name", "github_team")
)
"""The keys of a ``[[teams]]`` entry that list what it owns."""


def parse_teams(
    ck: Checker, data: Mapping[str, Any], *, discovered: bool = False
) -> tuple[TeamConfig, ...]:
    """The ``[[teams]]`` sections; at least one (none needed when ``discovered``: the
    ``[discovery.*]`` sections bring the teams), names distinct, nothing claimed twice."""
    raw = data.get("teams")
    if raw is None and discovered:
        return ()
    if raw is None:
        ck.fail(
            ("teams",), "no [[teams]] defined; a scorecard needs at least one team", _TEAMS_HINT
        )
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        ck.fail(
            ("teams",),
            f"expected [[teams]] sections (an array of tables), got {describe(raw)}",
            _TEAMS_HINT,
        )
    if not raw:
        ck.fail(("teams",), "no teams defined; a scorecard needs at least one team", _TEAMS_HINT)
    teams: list[TeamConfig] = []
    seen_names: dict[str, str] = {}
    claims: Claims = {}
    for index, body in enumerate(raw):
        teams.append(_team(ck, ("teams", index), body, seen_names, claims))
    _check_github_teams(ck, teams)
    return tuple(teams)


def _check_github_teams(ck: Checker, teams: list[TeamConfig]) -> None:
    """An org team slug (``github_team``) stands for one team only."""
    seen: dict[str, str] = {}
    for index, team in enumerate(teams):
        if team.github_team is None:
            continue
        slug = team.github_team.casefold()
        if slug in seen:
            ck.fail(
                ("teams", index, "github_team"),
                f"github_team `{team.github_team}` is claimed by teams `{seen[slug]}` "
                f"and `{team.name}`",
                "an org team slug maps to one team; remove it from one of them",
            )
        seen[slug] = team.name


def _team(
    ck: Checker, key: KeyPath, body: Mapping[str, Any], seen_names: dict[str, str], claims: Claims
) -> TeamConfig:
    ck.keys(body, key, TEAM_KEYS)
    name = _team_name(ck, key, body, seen_names)
    values: dict[str, tuple[str, ...]] = {}
    for field_name in LIST_KEYS:
        values[field_name] = ck.str_list(body, (*key, field_name))
        _claim(ck, (*key, field_name), name, values[field_name], claims.setdefault(field_name, {}))
    github_team = ck.string(body, (*key, "github_team"))
    if github_team is not None:
        github_team = github_team.strip().removeprefix("@").rpartition("/")[2]
    return TeamConfig(
        name=name,
        repos=values["repos"],
        services=values["services"],
        pagerduty_services=values["pagerduty_services"],
        coverage_repos=values["coverage_repos"],
        opsgenie_teams=values["opsgenie_teams"],
        incidentio_teams=values["incidentio_teams"],
        github_team=github_team,
    )


def _team_name(
    ck: Checker, key: KeyPath, body: Mapping[str, Any], seen_names: dict[str, str]
) -> str:
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
    return name


def _claim(
    ck: Checker, key: KeyPath, team: str, items: tuple[str, ...], owners: dict[str, str]
) -> None:
    field_name = str(key[-1])
    for item in items:
        norm = item.casefold() if field_name.endswith("repos") else item
        owner = owners.get(norm)
        if owner is not None and owner != team:
            thing = field_name.rstrip("s").replace("_", " ")
            ck.fail(
                key,
                f"{thing} `{item}` is claimed by teams `{owner}` and `{team}`",
                "every event must belong to exactly one team; remove it from one of them",
            )
        owners[norm] = team


def parse_change_classes(ck: Checker, data: Mapping[str, Any]) -> tuple[ChangeClassConfig, ...]:
    """The ``[change_classes.NAME]`` sections; each must match something."""
    raw = ck.table(data, ("change_classes",))
    return tuple(_change_class(ck, name, body) for name, body in raw.items())


def _change_class(ck: Checker, name: str, body: object) -> ChangeClassConfig:
    key: KeyPath = ("change_classes", name)
    if not isinstance(body, dict):
        ck.fail(
            key,
            f"expected a table, got {describe(body)}",
            f"write it as a [change_classes.{quote_part(name)}] section",
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
    return cls
