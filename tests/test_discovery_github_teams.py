"""GitHub org teams as teams: repos they hold admin or maintain on (SPEC §12)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scorecard.discovery.github_teams import (
    DEFAULT_PERMISSIONS,
    discover_github_teams,
    fetch_github_teams,
    team_parents,
    team_repos,
)

OPENAPI = Path(__file__).parent / ".octokit" / "package" / "generated" / "api.github.com.json"
TEAMS_PATH = "/orgs/{org}/teams"
REPOS_PATH = "/orgs/{org}/teams/{team_slug}/repos"


@cache
def openapi() -> dict[str, Any]:
    if not OPENAPI.is_file():
        reason = f"{OPENAPI} is missing; `make test` fetches it (npm pack @octokit/openapi)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    loaded: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return loaded


def ok_content(path: str) -> dict[str, Any]:
    content: dict[str, Any] = openapi()["paths"][path]["get"]["responses"]["200"]["content"]
    return content["application/json"]


def example(path: str) -> Any:
    ref = ok_content(path)["examples"]["default"]["$ref"].rsplit("/", 1)[-1]
    return openapi()["components"]["examples"][ref]["value"]


def item_schema(path: str) -> dict[str, Any]:
    ref = ok_content(path)["schema"]["items"]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = openapi()["components"]["schemas"][ref]
    return schema


def repo(full_name: str, **held: bool) -> dict[str, Any]:
    return {
        "full_name": full_name,
        "permissions": {
            name: held.get(name, False) for name in ("admin", "maintain", "push", "triage", "pull")
        },
    }


# --- against GitHub's own description ------------------------------------------------------


def test_fields_read_are_in_githubs_schemas() -> None:
    team = item_schema(TEAMS_PATH)
    assert {"slug", "parent"} <= set(team["properties"]) and "slug" in team["required"]
    repository = item_schema(REPOS_PATH)
    assert "full_name" in repository["required"]
    held = repository["properties"]["permissions"]["properties"]
    assert set(held) == {"admin", "maintain", "push", "triage", "pull"}


def test_official_team_list_example_parses() -> None:
    teams = example(TEAMS_PATH)
    assert team_parents(teams) == {"justice-league": None}


def test_official_team_repos_example_parses_and_filters_by_permission() -> None:
    repos = example(REPOS_PATH)
    # The example repo is held with pull only: not the team's by default.
    assert repos[0]["permissions"]["pull"] is True and repos[0]["permissions"]["admin"] is False
    assert team_repos(repos) == ()
    assert team_repos(repos, ["read"]) == ("octocat/Hello-World",)


# --- permissions ---------------------------------------------------------------------------


def test_default_permissions_are_admin_and_maintain() -> None:
    assert DEFAULT_PERMISSIONS == ("admin", "maintain")
    items = [
        repo("acme/a", admin=True, maintain=True, push=True, pull=True),
        repo("acme/m", maintain=True, push=True, pull=True),
        repo("acme/w", push=True, pull=True),
        repo("acme/r", pull=True),
        {"full_name": "acme/no-permissions"},
        "not a repo",
    ]
    assert team_repos(items) == ("acme/a", "acme/m")
    assert team_repos(items, ["write"]) == ("acme/a", "acme/m", "acme/w")
    assert team_repos(items, ["push", "triage"]) == ("acme/a", "acme/m", "acme/w")


def test_unknown_permission_is_refused() -> None:
    with pytest.raises(ValueError, match="owner"):
        team_repos([], ["owner"])


# --- teams ---------------------------------------------------------------------------------


def test_teams_are_named_by_slug_and_carry_it() -> None:
    found = discover_github_teams(
        {"payments": None, "search": None, "idle": None},
        {"payments": ("acme/pay",), "search": ("acme/search",), "idle": ()},
        section="discovery.gh",
    )
    assert found.section == "discovery.gh"
    assert [(t.name, t.repos, t.github_team) for t in found.teams] == [
        ("payments", ("acme/pay",), "payments"),
        ("search", ("acme/search",), "search"),
    ]  # a team holding no repo is no team


def test_repo_a_child_inherits_from_its_parent_stays_with_the_parent() -> None:
    # GitHub lists a parent's repos among its child teams' repos (inherited access).
    parents = {"platform": None, "payments": "platform", "payments-oncall": "payments"}
    found = discover_github_teams(
        parents,
        {
            "platform": ("acme/infra",),
            "payments": ("acme/infra", "acme/pay"),
            "payments-oncall": ("acme/infra", "acme/pay", "acme/pager"),
        },
    )
    assert [(t.name, t.repos) for t in found.teams] == [
        ("platform", ("acme/infra",)),
        ("payments", ("acme/pay",)),
        ("payments-oncall", ("acme/pager",)),
    ]
    assert found.problems == ()


async def test_fetch_lists_teams_then_each_teams_repos() -> None:
    answers = {
        "/orgs/acme/teams": [{"slug": "payments", "parent": None}],
        "/orgs/acme/teams/payments/repos": [
            repo("acme/pay", admin=True),
            repo("acme/x", pull=True),
        ],
    }
    asked: list[tuple[str, dict[str, Any]]] = []

    async def list_all(path: str, params: Any) -> list[Any]:
        asked.append((path, dict(params)))
        return answers[path]

    found = await fetch_github_teams(list_all, "acme", section="discovery.gh")
    assert [path for path, _ in asked] == ["/orgs/acme/teams", "/orgs/acme/teams/payments/repos"]
    assert all(params == {"per_page": 100} for _, params in asked)
    assert [(t.name, t.repos) for t in found.teams] == [("payments", ("acme/pay",))]
