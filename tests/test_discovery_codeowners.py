"""CODEOWNERS read as GitHub reads it, and whose a monorepo change is (SPEC §12)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecard.discovery.codeowners import (
    CODEOWNERS_LOCATIONS,
    MAX_CODEOWNERS_BYTES,
    find_codeowners,
    owner_kind,
    parse_codeowners,
)
from scorecard.discovery.monorepo import (
    discover_codeowners,
    fetch_codeowners,
    read_local_codeowners,
    run_owner,
)

MONOREPO = Path(__file__).parent / "fixtures" / "discovery" / "monorepo"
TEAMS = ("Payments", "search", "Platform")  # config order: breaks ties
GITHUB_TEAM_OF = {"Payments": "payments", "Platform": "platform-team"}


def owners(text: str, path: str) -> tuple[str, ...]:
    return parse_codeowners(text, repo="acme/r").owners_of(path)


# --- syntax ---------------------------------------------------------------------------------


def test_comments_blank_lines_and_trailing_comments() -> None:
    parsed = parse_codeowners("# a comment\n\n   \n*.js @acme/web # who to ask\n", repo="a/b")
    assert [(r.line, r.pattern, r.owners) for r in parsed.rules] == [(4, "*.js", ("@acme/web",))]
    assert parsed.problems == ()


def test_owner_kinds() -> None:
    assert owner_kind("@acme/payments") == "team"
    assert owner_kind("@octocat") == "user"
    assert owner_kind("@alice_acme") == "user"  # an Enterprise Managed User
    assert owner_kind("docs@example.com") == "email"
    assert owner_kind("payments") is None


def test_line_with_an_invalid_owner_is_skipped_and_reported() -> None:
    parsed = parse_codeowners("* @acme/a\n/x/ payments\n", repo="a/b")
    assert [r.pattern for r in parsed.rules] == ["*"]
    assert len(parsed.problems) == 1 and parsed.problems[0].subject == "a/b:CODEOWNERS:2"


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("!/src/generated/ @acme/a", "negation"),
        ("/src/[ab]*.py @acme/a", "ranges"),
        ("\\#notes @acme/a", "escaping"),
    ],
)
def test_gitignore_syntax_github_does_not_support_is_a_problem(line: str, word: str) -> None:
    parsed = parse_codeowners(f"* @acme/root\n{line}\n", repo="a/b", section="discovery.owners")
    assert [r.pattern for r in parsed.rules] == ["*"]  # the line is ignored
    (problem,) = parsed.problems
    assert word in problem.what and problem.subject == "a/b:CODEOWNERS:2"
    assert problem.section == "discovery.owners"


def test_file_of_3_mb_is_not_loaded() -> None:
    text = "* @acme/a\n" + "#" * MAX_CODEOWNERS_BYTES
    parsed = parse_codeowners(text, repo="a/b")
    assert parsed.rules == () and "3 MB" in parsed.problems[0].what


# --- matching: GitHub's documented examples -------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "owned", "not_owned"),
    [
        ("*.js", ["a.js", "src/deep/b.js"], ["a.jsx", "js/readme"]),
        ("/build/logs/", ["build/logs/a.txt", "build/logs/x/y.txt"], ["x/build/logs/a.txt"]),
        ("docs/*", ["docs/getting-started.md"], ["docs/build-app/troubleshooting.md"]),
        ("apps/", ["apps/a.js", "x/apps/b/c.js"], ["myapps/a.js"]),
        ("/docs/", ["docs/a.md", "docs/x/b.md"], ["x/docs/a.md"]),
        ("**/logs", ["build/logs/a", "deeply/nested/logs/b"], ["logsx/a"]),
        ("/scripts/deploy.sh", ["scripts/deploy.sh"], ["x/scripts/deploy.sh"]),
    ],
)
def test_patterns_match_as_github_documents(
    pattern: str, owned: list[str], not_owned: list[str]
) -> None:
    text = f"{pattern} @acme/t\n"
    assert [owners(text, p) for p in owned] == [("@acme/t",)] * len(owned)
    assert [owners(text, p) for p in not_owned] == [()] * len(not_owned)


def test_patterns_are_case_sensitive() -> None:
    assert owners("/Docs/ @acme/t\n", "docs/a.md") == ()


def test_last_matching_pattern_wins() -> None:
    text = "* @acme/root\n/apps/ @acme/apps\n*.md @acme/writers\n"
    assert owners(text, "apps/main.go") == ("@acme/apps",)
    assert owners(text, "apps/README.md") == ("@acme/writers",)  # later line, overlapping
    assert owners(text, "main.go") == ("@acme/root",)


def test_pattern_without_owners_unowns() -> None:
    text = "/apps/ @octocat\n/apps/github\n"
    parsed = parse_codeowners(text, repo="a/b")
    assert parsed.owners_of("apps/main/index.js") == ("@octocat",)
    assert parsed.owners_of("apps/github/index.js") == ()
    rule = parsed.rule_for("apps/github/index.js")
    assert rule is not None and rule.line == 2  # matched, deliberately unowned
    assert parsed.rule_for("README.md") is None  # no rule at all


def test_root_owner_is_the_last_catch_all() -> None:
    text = "* @acme/first\n/src/ @acme/src\n* @acme/second\n/lib/ @acme/lib\n"
    assert parse_codeowners(text, repo="a/b").root_owners() == ("@acme/second",)
    assert parse_codeowners("/src/ @acme/src\n", repo="a/b").root_owners() == ()


# --- where GitHub looks ---------------------------------------------------------------------


def test_locations_in_githubs_order_first_found_wins() -> None:
    assert CODEOWNERS_LOCATIONS == (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
    files = {"CODEOWNERS": "root", "docs/CODEOWNERS": "docs"}
    assert find_codeowners(files.get) == ("CODEOWNERS", "root")
    assert find_codeowners({"docs/CODEOWNERS": "docs"}.get) == ("docs/CODEOWNERS", "docs")
    assert find_codeowners({}.get) is None


def test_local_checkout_uses_dot_github_before_root(tmp_path: Path) -> None:
    found, problems = read_local_codeowners(
        {"acme/monorepo": MONOREPO, "acme/none": tmp_path, "acme/file": MONOREPO / "CODEOWNERS"}
    )
    assert [(f.repo, f.location) for f in found] == [
        ("acme/monorepo", ".github/CODEOWNERS"),
        ("acme/file", "CODEOWNERS"),
    ]
    assert found[1].owners_of("x") == ("@acme/search",)
    assert [p.subject for p in problems] == ["acme/none"]


async def test_fetch_through_the_contents_api_in_lookup_order() -> None:
    text = "* @acme/payments\n"
    asked: list[str] = []

    async def get_json(path: str, params: Any) -> Any:
        asked.append(path)
        if path.endswith("/contents/CODEOWNERS"):
            content = base64.b64encode(text.encode()).decode()
            return {"type": "file", "encoding": "base64", "content": content}
        return None  # 404

    found = await fetch_codeowners(get_json, "acme/monorepo")
    assert asked == [
        "/repos/acme/monorepo/contents/.github/CODEOWNERS",
        "/repos/acme/monorepo/contents/CODEOWNERS",
    ]
    assert found is not None and found.location == "CODEOWNERS"
    assert found.owners_of("a.py") == ("@acme/payments",)


# --- the monorepo fixture: owners to teams, whose change ----------------------------------


@pytest.fixture
def monorepo() -> Any:
    files, problems = read_local_codeowners({"acme/monorepo": MONOREPO})
    assert problems == []
    discovery, by_repo = discover_codeowners(
        files, TEAMS, github_team_of=GITHUB_TEAM_OF, section="discovery.owners"
    )
    return discovery, by_repo["acme/monorepo"]


def test_fixture_unsupported_lines_are_reported(monorepo: Any) -> None:
    discovery, _ = monorepo
    lines = {p.subject for p in discovery.problems if "CODEOWNERS:" in p.subject}
    assert {"acme/monorepo:.github/CODEOWNERS:10", "acme/monorepo:.github/CODEOWNERS:11"} <= lines
    assert "acme/monorepo:.github/CODEOWNERS:12" in lines  # \#notes


def test_github_team_maps_to_configured_team(monorepo: Any) -> None:
    _, owners_ = monorepo
    assert owners_.teams_of("services/payments/api.py") == ("Payments",)  # github_team
    assert owners_.teams_of("services/search/index.py") == ("search",)  # same name
    assert owners_.teams_of("tools/build.sh") == ("Platform",)  # github_team, root rule
    assert owners_.root_owner() == "Platform"


def test_negated_line_is_ignored_not_applied(monorepo: Any) -> None:
    _, owners_ = monorepo
    # `!/services/search/generated/ @acme/payments` is skipped: search keeps it.
    assert owners_.teams_of("services/search/generated/a.py") == ("search",)
    # `/services/[ab]*/ @acme/search` is skipped too: no range matching.
    assert owners_.teams_of("services/billing/a.py") == ("Platform",)


def test_slug_without_team_user_and_email_owners_are_problems(monorepo: Any) -> None:
    discovery, owners_ = monorepo
    whats = " | ".join(p.what for p in discovery.problems)
    assert "GitHub team `ghosts` is no configured team" in whats
    assert "owner @alice is a user" in whats
    assert "owner docs@acme.example is an email address" in whats
    assert owners_.teams_of("libs/ghosts/a.py") == ()
    assert owners_.teams_of("services/payments/README.md") == ()  # *.md @alice came later


def test_discovered_paths_and_root_repo(monorepo: Any) -> None:
    discovery, _ = monorepo
    teams = {team.name: team for team in discovery.teams}
    assert [str(p) for p in teams["Payments"].paths] == [
        "acme/monorepo:/services/payments/",
        "acme/monorepo:/services/shared/",
    ]
    assert teams["Platform"].repos == ("acme/monorepo",)
    assert teams["search"].repos == ()


def test_change_goes_to_the_team_owning_most_paths(monorepo: Any) -> None:
    _, owners_ = monorepo
    change = ["services/search/a.py", "services/search/b.py", "services/payments/c.py"]
    assert owners_.change_owner(change) == "search"


def test_change_tie_goes_to_the_earlier_team_in_the_config(monorepo: Any) -> None:
    _, owners_ = monorepo
    assert owners_.change_owner(["services/search/a.py", "services/payments/b.py"]) == "Payments"
    assert owners_.change_owner(["services/payments/b.py", "services/search/a.py"]) == "Payments"


def test_path_owned_by_two_teams_counts_for_both(monorepo: Any) -> None:
    _, owners_ = monorepo
    assert owners_.teams_of("services/shared/lib.py") == ("Payments", "search")
    # shared (both) + search: search 2, Payments 1.
    assert owners_.change_owner(["services/shared/lib.py", "services/search/a.py"]) == "search"
    # shared alone: a tie, the earlier team in the config.
    assert owners_.change_owner(["services/shared/lib.py"]) == "Payments"


def test_change_with_no_owned_path_goes_to_the_root_owner(monorepo: Any) -> None:
    _, owners_ = monorepo
    assert owners_.change_owner([]) == "Platform"
    assert owners_.change_owner(["services/payments/vendored/x.c"]) == "Platform"


def test_deployments_go_to_the_team_listing_the_service_else_root() -> None:
    services_of = {"Payments": ["payments-api"], "search": ["search-api", "payments-api"]}
    assert run_owner("payments-api", services_of, "Platform") == "Payments"
    assert run_owner("search-api", services_of, "Platform") == "search"
    assert run_owner("unknown", services_of, "Platform") == "Platform"
    assert run_owner(None, services_of, "Platform") == "Platform"


def test_rule_index_agrees_with_trying_every_rule() -> None:
    patterns = [
        "*",
        "*.md",
        "/services/",
        "services/payments/",
        "/services/payments/api/*",
        "docs/*",
        "apps/",
        "**/logs",
        "/a/**/b",
        "/a/b*/c",
        "/services/payments/README.md",
        "/*",
        "src/x",
        "/services/payments/api/",
    ]
    text = "".join(f"{pattern} @acme/t{n}\n" for n, pattern in enumerate(patterns))
    parsed = parse_codeowners(text, repo="a/b")
    paths = [
        "README.md",
        "services/payments/api/x.py",
        "services/payments/api/deep/x.py",
        "services/payments/README.md",
        "services/search/a.md",
        "docs/a.md",
        "docs/b/c.txt",
        "x/apps/y",
        "build/logs/z",
        "a/b",
        "a/q/r/b/c",
        "a/bx/c/d",
        "src/x/y",
        "other/src/x",
        "/services/payments/api/lead.py",
    ]
    for path in paths:
        brute = next((rule for rule in reversed(parsed.rules) if rule.matches(path)), None)
        assert parsed.rule_for(path) == brute, path


SEGMENTS = st.sampled_from(["a", "b", "c.md", "logs", "*", "**", "b*", "*.md"])
PATTERNS = st.builds(
    lambda lead, segments, trail: lead + "/".join(segments) + trail,
    st.sampled_from(["", "/"]),
    st.lists(SEGMENTS, min_size=1, max_size=4),
    st.sampled_from(["", "/"]),
)
PATHS = st.lists(st.sampled_from(["a", "b", "c.md", "logs", "bx"]), min_size=1, max_size=5).map(
    "/".join
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(PATTERNS, min_size=1, max_size=8), st.lists(PATHS, min_size=1, max_size=8))
def test_rule_index_never_changes_the_answer(patterns: list[str], paths: list[str]) -> None:
    text = "".join(f"{pattern} @acme/t{n}\n" for n, pattern in enumerate(patterns))
    parsed = parse_codeowners(text, repo="a/b")
    for path in paths:
        brute = next((rule for rule in reversed(parsed.rules) if rule.matches(path)), None)
        assert parsed.rule_for(path) == brute


def test_byte_order_mark_and_windows_line_ends_are_read() -> None:
    parsed = parse_codeowners("\ufeff* @acme/root\r\n/src/ @acme/src\r\n", repo="a/b")
    assert [(r.pattern, r.owners) for r in parsed.rules] == [
        ("*", ("@acme/root",)),
        ("/src/", ("@acme/src",)),
    ]
