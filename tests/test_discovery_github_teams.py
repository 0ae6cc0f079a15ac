"""GitHub org teams as teams: repos they hold admin or maintain on (SPEC §12);
GitHub's own payloads for the answers discovery reads (teams, repos, contents)."""

from __future__ import annotations

import base64
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
from scorecard.discovery.monorepo import decode_content, fetch_codeowners, is_file

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


def example(path: str, name: str = "default") -> Any:
    ref = ok_content(path)["examples"][name]["$ref"].rsplit("/", 1)[-1]
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


# --- CODEOWNERS through the contents API -----------------------------------------------------

CONTENTS_PATH = "/repos/{owner}/{repo}/contents/{path}"


def test_official_contents_examples_decode() -> None:
    file_answer = example(CONTENTS_PATH, "response-if-content-is-a-file")
    assert is_file(file_answer) and file_answer["encoding"] == "base64"
    # The example spells the API's line breaks in the base64 as a literal "\\n".
    content = file_answer["content"].replace("\\n", "\n")
    answer = {**file_answer, "content": content}
    text = decode_content(answer)
    assert text is not None and text.startswith("# Yoga Bo")
    assert text == base64.b64decode(content).decode("utf-8", errors="replace")
    folder_answer = example(CONTENTS_PATH, "response-if-content-is-a-directory")
    assert not is_file(folder_answer)
    symlink_answer = example(CONTENTS_PATH, "response-if-content-is-a-symlink")
    assert not is_file(symlink_answer)


async def test_codeowners_too_large_to_inline_is_found_and_reported() -> None:
    async def get_json(path: str, params: Any) -> Any:
        if path.endswith("/contents/.github/CODEOWNERS"):
            return {"type": "file", "encoding": "none", "content": "", "size": 2_000_000}
        raise AssertionError(f"looked further than the first file found: {path}")

    found = await fetch_codeowners(get_json, "acme/monorepo")
    assert found is not None and found.location == ".github/CODEOWNERS" and found.rules == ()
    (problem,) = found.problems
    assert "local copy" in problem.what and problem.subject == "acme/monorepo:.github/CODEOWNERS"
