"""GitHub over GraphQL (SPEC §14): the documents the GitHub source sends validate
against GitHub's public schema (npm ``@octokit/graphql-schema``; the tests that
need it skip when it is missing and fail under ``CI=true``), the fake endpoint
runs them with GitHub's point costs and limits, and their answers read as the
very records the REST path produces from the same data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.sources import github_graphql as gql
from scorecard.sources.github_records import change_record, deployment_record, first_commit_time
from scorecard.sources.records import matches_any
from tests.fakes.github_graphql import (
    FakeGitHubGraphQL,
    FakeGraphRepo,
    QueryRejected,
    query_cost,
    require_schema,
)

UTC = timezone.utc
T0 = datetime(2026, 3, 1, tzinfo=UTC)
API = "https://api.github.com"
FIXTURES = Path(__file__).parent / "fixtures" / "graphql"
ROLLBACK = [re.compile(r"(?i)^revert\b"), re.compile(r"(?i)\brollback\b")]
PROD = {"production", "canary"}


def at(days: float = 0, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


DOCUMENTS = {
    "deployments": gql.DEPLOYMENTS_QUERY,
    "pulls": gql.PULLS_QUERY,
    "rate limit": gql.RATE_LIMIT_QUERY,
    "deployments x1": gql.deployments_query(1),
    "deployments x20": gql.deployments_query(gql.MAX_REPOS_PER_QUERY),
    "pulls x1": gql.pulls_query(1),
    "pulls x20": gql.pulls_query(gql.MAX_REPOS_PER_QUERY),
    "counts x3": gql.counts_query(3),
    "counts x3 dry run": gql.counts_query(3, dry_run=True),
    "counts x3 since": gql.counts_query(3, since=True),
}


@pytest.fixture()
def fake() -> FakeGitHubGraphQL:
    require_schema()
    return FakeGitHubGraphQL()


def ask(fake: FakeGitHubGraphQL, query: str, variables: dict[str, Any]) -> gql.Answer:
    reply = fake.post(query, variables)
    assert reply.status == 200, reply.body
    return gql.read_answer(reply.body)


def single(repo: str, *, with_files: bool | None = None, **kw: Any) -> dict[str, Any]:
    return gql.repo_variables([gql.RepoRef(repo, **kw)], single=True, with_files=with_files)


# --- REST's records from the same REST-shaped data -----------------------------------------


def rest_deployments(repo: FakeGraphRepo, team: str, source: str) -> dict[str, dict[str, Any]]:
    """What the REST path records for each relevant deployment (see github.py)."""
    out = {}
    for item in repo.deployments:
        if item["environment"] not in PROD:
            continue
        rest = {**item, "url": f"{API}/repos/{repo.name}/deployments/{item['id']}"}
        record = deployment_record(
            rest, repo.statuses[item["id"]], repo=repo.name, team=team, source=source
        )
        assert record is not None
        record["is_rollback"] = any(
            matches_any(item.get(k), ROLLBACK) for k in ("description", "ref", "task")
        )
        out[record["id"]] = record
    return out


def rest_changes(
    repo: FakeGraphRepo, team: str, source: str, *, paths: bool
) -> dict[str, dict[str, Any]]:
    out = {}
    for pr in repo.pulls:
        if not pr.get("merged_at"):
            continue
        record = change_record(pr, repo=repo.name, team=team, source=source)
        assert record is not None
        record["first_commit_at"] = first_commit_time(repo.commits[pr["number"]])
        if paths:
            record["paths"] = [
                f[k]
                for f in repo.files[pr["number"]]
                for k in ("filename", "previous_filename")
                if isinstance(f.get(k), str)
            ]
        out[record["id"]] = record
    return out


def all_deployments(
    fake: FakeGitHubGraphQL, name: str, *, first: int = 100, since: datetime | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Every page of one repo's deployments; (records, pages)."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        answer = ask(fake, gql.DEPLOYMENTS_QUERY, single(name, first=first, after=cursor))
        assert answer.ok
        page = gql.deployment_page(
            answer.data["repository"] if answer.data else None,
            repo=name,
            team="payments",
            source="gh",
            api_url=API,
            since=since,
            relevant=lambda env: env in PROD,
            rollback_patterns=ROLLBACK,
        )
        pages += 1
        records.extend(page.records)
        cursor = page.cursor
        if cursor is None:
            return records, pages


def all_pulls(
    fake: FakeGitHubGraphQL,
    name: str,
    *,
    with_files: bool,
    first: int = 100,
    since: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[gql.PullPage]]:
    records: list[dict[str, Any]] = []
    pages: list[gql.PullPage] = []
    cursor: str | None = None
    while True:
        variables = single(name, first=first, after=cursor, with_files=with_files)
        answer = ask(fake, gql.PULLS_QUERY, variables)
        assert answer.ok
        page = gql.pull_page(
            answer.data["repository"] if answer.data else None,
            repo=name,
            team="payments",
            source="gh",
            since=since,
            with_files=with_files,
        )
        pages.append(page)
        records.extend(page.records)
        cursor = page.cursor
        if cursor is None:
            return records, pages


# --- the documents --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_validates_against_githubs_schema(name: str) -> None:
    from graphql import parse, validate

    schema = require_schema()
    assert validate(schema, parse(DOCUMENTS[name])) == []


def test_validation_is_real() -> None:
    from graphql import parse, validate

    schema = require_schema()
    broken = gql.DEPLOYMENTS_QUERY.replace("commitOid", "commitSha")
    assert validate(schema, parse(broken))


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_asks_the_rate_limit(name: str) -> None:
    assert re.search(
        r"rateLimit(\(dryRun: true\))? \{ cost remaining resetAt limit", DOCUMENTS[name]
    )


def test_batches_hold_between_one_and_the_maximum_of_repos() -> None:
    for build in (gql.deployments_query, gql.pulls_query, gql.counts_query):
        with pytest.raises(ValueError):
            build(0)
        with pytest.raises(ValueError):
            build(gql.MAX_REPOS_PER_QUERY + 1)
    with pytest.raises(ValueError):
        gql.repo_variables([gql.RepoRef("a/b"), gql.RepoRef("a/c")], single=True)


@pytest.mark.parametrize(
    ("api_url", "endpoint"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://api.github.com/", "https://api.github.com/graphql"),
        ("https://github.acme.com/api/v3", "https://github.acme.com/api/graphql"),
        ("https://github.acme.com/api/v3/", "https://github.acme.com/api/graphql"),
        ("https://github.acme.com:8443/API/V3", "https://github.acme.com:8443/API/graphql"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/graphql"),
        ("https://proxy.acme.com/github", "https://proxy.acme.com/github/graphql"),
    ],
)
def test_graphql_endpoint_beside_the_rest_api(api_url: str, endpoint: str) -> None:
    assert gql.graphql_url(api_url) == endpoint


# --- answers read without the schema (hand-made GitHub answers) -------------------------------


def test_a_deployments_answer_reads_as_deployment_records() -> None:
    body = json.loads((FIXTURES / "deployments_answer.json").read_text())
    answer = gql.read_answer(body)
    assert answer.ok and not answer.partial and not answer.rate_limited
    assert answer.rate_limit == gql.RateLimit(
        cost=1,
        remaining=4321,
        limit=5000,
        reset_at=datetime(2024, 3, 10, 13, tzinfo=UTC),
        used=679,
    )
    page = gql.deployment_page(
        answer.data["repository"] if answer.data else None,
        repo="acme/api",
        team="payments",
        source="gh",
        api_url="https://github.acme.com/api/v3",
        rollback_patterns=ROLLBACK,
    )
    failed, live = page.records
    assert failed["id"] == "acme/api/deployments/502"
    assert failed["status"] == "failure"  # the latest status decides
    assert failed["finished_at"] == datetime(2024, 3, 10, 12, 9, tzinfo=UTC)
    assert failed["is_rollback"] is True  # by its description
    assert failed["url"] == "https://github.acme.com/api/v3/repos/acme/api/deployments/502"
    assert page.items[0]["ref"] is None
    # Statuses out of order in the answer; inactive (superseded) is looked through.
    assert live["status"] == "success"
    assert live["finished_at"] == datetime(2024, 3, 9, 8, 4, tzinfo=UTC)
    assert live["commit_sha"] == "a1" * 20
    assert page.cursor == "Y3Vyc29yOnYyOjE="
    assert page.oldest == datetime(2024, 3, 9, 8, tzinfo=UTC)


def test_a_deployments_answer_stops_at_since() -> None:
    body = json.loads((FIXTURES / "deployments_answer.json").read_text())
    page = gql.deployment_page(
        body["data"]["repository"],
        repo="acme/api",
        team=None,
        source="gh",
        api_url=API,
        since=datetime(2024, 3, 10, tzinfo=UTC),
    )
    assert [r["id"] for r in page.records] == ["acme/api/deployments/502"]
    assert page.cursor is None  # the page reached past since: the listing is done


def test_a_partial_pulls_answer_reads_what_came_and_names_what_failed() -> None:
    body = json.loads((FIXTURES / "pulls_answer.json").read_text())
    answer = gql.read_answer(body)
    assert answer.partial and not answer.failed and not answer.rate_limited
    assert answer.failed_aliases() == {"r1"}
    assert answer.error_types() == {"NOT_FOUND"}
    assert "acme/gone" in answer.message()
    assert answer.data is not None and answer.data["r1"] is None
    page = gql.pull_page(
        answer.data["r0"], repo="acme/api", team="payments", source="gh", with_files=True
    )
    first, moved = page.records
    assert first == {
        "id": "acme/api/pull/42",
        "source": "gh",
        "team": "payments",
        "repo": "acme/api",
        "title": "Add retry budget to the payments client",
        "first_commit_at": datetime(2024, 3, 7, 16, 20, tzinfo=UTC),
        "merged_at": datetime(2024, 3, 10, 9, 30, tzinfo=UTC),
        "merge_sha": "c3" * 20,
        "deployment_id": None,
        "labels": ["feature", "payments"],
        "paths": ["payments/client.py", "payments/retry.py"],
    }
    assert moved["paths"] == ["ledger/core.py"]
    assert page.files_elsewhere == [41]  # renamed, and more than one page of files
    assert page.cursor is None
    empty = gql.pull_page(None, repo="acme/gone", team=None, source="gh")
    assert empty.records == [] and empty.cursor is None


@pytest.mark.parametrize(
    ("body", "rate_limited", "failed"),
    [
        ({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}, True, True),
        ({"errors": [{"type": "RATE_LIMIT", "code": "graphql_rate_limit"}]}, True, True),
        ({"data": None, "errors": [{"message": "Something went wrong"}]}, False, True),
        ("<html>502</html>", False, True),
        ({"message": "Bad credentials"}, False, True),
        ({"data": {"rateLimit": None}}, False, False),
    ],
)
def test_reading_answers(body: Any, rate_limited: bool, failed: bool) -> None:
    answer = gql.read_answer(body)
    assert answer.rate_limited is rate_limited
    assert answer.failed is failed
    assert answer.rate_limit is None


# --- executed by the fake: the same records as the REST path ----------------------------------


def payments_repo(fake: FakeGitHubGraphQL) -> FakeGraphRepo:
    repo = fake.repo("acme/payments")
    # Latest status decides.
    repo.deploy(1, "a" * 40, "production", at(1), [("in_progress", at(1)), ("success", at(1, 7))])
    repo.deploy(2, "b" * 40, "production", at(2), [("pending", at(2)), ("failure", at(2, 3))])
    repo.deploy(3, "c" * 40, "production", at(3), [("queued", at(3)), ("error", at(3, 1))])
    # Superseded: inactive looked through; inactive only: it was live once.
    repo.deploy(4, "d" * 40, "production", at(4), [("success", at(4, 5)), ("inactive", at(5))])
    repo.deploy(5, "e" * 40, "production", at(5), [("inactive", at(6))])
    # Still running; no status at all.
    repo.deploy(6, "f" * 40, "production", at(6), [("in_progress", at(6))])
    repo.deploy(7, "0" * 40, "production", at(6, 30), [])
    # A canary first, a rollback by description, staging left out.
    repo.deploy(8, "1" * 40, "canary", at(7), [("success", at(7, 2))])
    repo.deploy(9, "1" * 40, "production", at(7, 60), [("success", at(7, 70))])
    repo.deploy(
        10, "2" * 40, "production", at(8), [("success", at(8, 3))], description="Rollback 1.2"
    )
    repo.deploy(11, "3" * 40, "staging", at(8), [("success", at(8, 1))])
    repo.deploy(12, "4" * 40, "production", at(9), [("success", at(9, 4))], ref=None)
    # Merged pull requests (and one closed unmerged).
    repo.pull(1, at(2), at(0), labels=("bug", "payments"), files=("pay/a.py", "pay/b.py"))
    repo.pull(2, at(3), at(1), title="Revert fee change", commits=1)
    repo.pull(3, None, at(1))
    repo.pull(4, at(4), at(2), renamed={"ledger/new.py": "ledger/old.py"}, base="release/2")
    return repo


def test_deployments_read_as_the_rest_path_records_them(fake: FakeGitHubGraphQL) -> None:
    repo = payments_repo(fake)
    records, pages = all_deployments(fake, repo.name)
    got = {r["id"]: r for r in records}
    assert got == rest_deployments(repo, "payments", "gh")
    assert pages == 1
    status = {int(k.rsplit("/", 1)[-1]): v["status"] for k, v in got.items()}
    assert status == {
        1: "success",
        2: "failure",
        3: "failure",
        4: "success",
        5: "success",
        6: "in_progress",
        7: "in_progress",
        8: "success",
        9: "success",
        10: "success",
        12: "success",
    }
    assert got["acme/payments/deployments/4"]["finished_at"] == at(4, 5)
    assert got["acme/payments/deployments/6"]["finished_at"] is None
    assert got["acme/payments/deployments/10"]["is_rollback"] is True
    assert got["acme/payments/deployments/8"]["environment"] == "canary"


def test_merged_pulls_read_as_the_rest_path_records_them(fake: FakeGitHubGraphQL) -> None:
    repo = payments_repo(fake)
    without, _ = all_pulls(fake, repo.name, with_files=False)
    assert {r["id"]: r for r in without} == rest_changes(repo, "payments", "gh", paths=False)
    assert all(r["paths"] == [] for r in without)
    first = {r["id"]: r for r in without}
    assert first["acme/payments/pull/1"]["first_commit_at"] == at(0)
    assert first["acme/payments/pull/1"]["labels"] == ["bug", "payments"]
    assert "acme/payments/pull/3" not in first  # closed without merging

    with_files, pages = all_pulls(fake, repo.name, with_files=True)
    rest = rest_changes(repo, "payments", "gh", paths=True)
    got = {r["id"]: r for r in with_files}
    assert got["acme/payments/pull/1"]["paths"] == ["pay/a.py", "pay/b.py"]
    # GraphQL has no previous path of a move: that pull request's files come from REST.
    assert pages[0].files_elsewhere == [4]
    for ident in got:
        if ident != "acme/payments/pull/4":
            assert got[ident] == rest[ident]
    assert got["acme/payments/pull/4"]["paths"] == ["src/app.py", "ledger/new.py"]


def test_files_cost_a_point_only_when_asked(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    all_pulls(fake, "acme/payments", with_files=False)
    all_pulls(fake, "acme/payments", with_files=True)
    assert [s.points for s in fake.log] == [2, 3]
    assert "files" not in json.dumps(fake.log[0].variables)
    assert '"files"' not in json.dumps(
        fake.post(gql.PULLS_QUERY, single("acme/payments", with_files=False)).body
    )


def test_pagination_to_the_end_newest_first(fake: FakeGitHubGraphQL) -> None:
    repo = fake.repo("acme/big")
    for i in range(250):
        repo.deploy(i + 1, f"{i:040x}", "production", at(i / 10), [("success", at(i / 10, 5))])
        repo.pull(i + 1, at(i / 10, 30), at(i / 10))
    records, pages = all_deployments(fake, repo.name)
    assert pages == 3 and len(records) == 250
    assert [r["started_at"] for r in records] == sorted(
        (r["started_at"] for r in records), reverse=True
    )
    changes, pull_pages = all_pulls(fake, repo.name, with_files=False)
    assert len(pull_pages) == 3 and len(changes) == 250
    # 250 deployments with their statuses: 3 points; 250 pull requests with labels and
    # first commit: 6 points (REST: 1 + 250 requests and 3 + 250 requests).
    assert [s.points for s in fake.log] == [1, 1, 1, 2, 2, 2]
    assert fake.points == 9 == gql.plan_points(250, 250)
    assert fake.remaining == 5000 - 9


def test_since_ends_the_listing_early(fake: FakeGitHubGraphQL) -> None:
    repo = fake.repo("acme/big")
    for i in range(250):
        repo.deploy(i + 1, f"{i:040x}", "production", at(i / 10), [("success", at(i / 10, 5))])
        repo.pull(i + 1, at(i / 10, 30), at(i / 10))
    since = at(20)
    records, pages = all_deployments(fake, repo.name, first=50, since=since)
    assert pages == 2  # the 50 since then, and the page that reaches past it
    assert {r["started_at"] for r in records} == {
        at(i / 10) for i in range(250) if at(i / 10) >= since
    }
    changes, pull_pages = all_pulls(fake, repo.name, with_files=False, first=30, since=since)
    assert len(pull_pages) == 2
    assert len(changes) == sum(1 for i in range(250) if at(i / 10, 30) >= since)


def test_several_repos_per_query(fake: FakeGitHubGraphQL) -> None:
    names = [f"acme/svc{i}" for i in range(5)]
    for n, name in enumerate(names):
        repo = fake.repo(name)
        for i in range(n + 1):
            repo.deploy(i + 1, f"{i:040x}", "production", at(i), [("success", at(i, 2))])
            repo.pull(i + 1, at(i, 1), at(i))
    refs = [gql.RepoRef(name, first=10) for name in names]
    answer = ask(fake, gql.deployments_query(5), gql.repo_variables(refs))
    assert answer.ok and answer.data is not None
    counts = []
    for i, name in enumerate(names):
        page = gql.deployment_page(
            answer.data[gql.repo_alias(i)], repo=name, team=None, source="gh", api_url=API
        )
        counts.append(len(page.records))
        assert all(r["repo"] == name for r in page.records)
    assert counts == [1, 2, 3, 4, 5]
    # 5 repos x (1 deployments listing + 10 status listings) = 55 requests: 1 point.
    assert answer.rate_limit is not None and answer.rate_limit.cost == 1
    pulls = ask(fake, gql.pulls_query(5), gql.repo_variables(refs, with_files=False))
    assert pulls.data is not None
    assert [
        len(gql.pull_page(pulls.data[f"r{i}"], repo=n, team=None, source="gh").records)
        for i, n in enumerate(names)
    ] == [1, 2, 3, 4, 5]
    assert pulls.rate_limit is not None and pulls.rate_limit.cost == 1  # 5 x (1 + 10 + 10)


def test_counts_for_a_plan_and_dry_runs_are_free(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    repos = ["acme/payments", "acme/gone"]
    variables = gql.counts_variables(repos, since=at(3))
    assert (
        variables["merged0"] == "repo:acme/payments is:pr is:merged updated:>=2026-03-04T00:00:00Z"
    )
    answer = ask(fake, gql.counts_query(2, since=True, dry_run=True), variables)
    assert answer.partial and answer.failed_aliases() == {"r1"}
    counts = gql.read_counts(answer.data, repos)
    assert counts["acme/payments"].deployments == 12
    assert (counts["acme/payments"].merged, counts["acme/payments"].merged_since) == (3, 2)
    assert counts["acme/payments"].oldest_deployment is not None
    assert counts["acme/gone"] == gql.RepoCounts(None, None, 0)
    assert fake.points == 0
    ask(fake, gql.counts_query(2), gql.counts_variables(repos))
    assert fake.points == 1


@pytest.mark.parametrize("first", [1, 10, 49, 50, 100])
@pytest.mark.parametrize("with_files", [False, True])
def test_page_points_are_what_github_charges(
    fake: FakeGitHubGraphQL, first: int, with_files: bool
) -> None:
    payments_repo(fake)
    deployments = ask(fake, gql.DEPLOYMENTS_QUERY, single("acme/payments", first=first))
    pulls = ask(fake, gql.PULLS_QUERY, single("acme/payments", first=first, with_files=with_files))
    assert deployments.rate_limit is not None and pulls.rate_limit is not None
    assert deployments.rate_limit.cost == gql.page_points("deployments", first=first)
    assert pulls.rate_limit.cost == gql.page_points("pulls", first=first, with_files=with_files)
    # The realistic profile of issue 14: 250 production deploys and 300 merged PRs.
    assert gql.plan_points(250, 300) == 3 + 6
    assert gql.plan_points(0, 0, with_files=True) == 1 + 3


# --- cost, limits and failures -----------------------------------------------------------------


@dataclass
class _Post:
    body: bytes
    method: str = "POST"


def test_cost_follows_githubs_documented_examples() -> None:
    from graphql import parse

    schema = require_schema()
    rate_example = """query { viewer { login repositories(first: 100) { edges { node { id
        issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } }
        } } } } } } } }"""
    cost = query_cost(schema, parse(rate_example))
    assert (cost.requests, cost.points) == (5101, 51)
    simple = """query { viewer { repositories(first: 50) { edges { repository: node { name
        issues(first: 10) { totalCount edges { node { title bodyHTML } } } } } } } }"""
    assert query_cost(schema, parse(simple)).nodes == 550
    complex_ = """query { viewer { repositories(first: 50) { edges { repository: node { name
        pullRequests(first: 20) { edges { pullRequest: node { title
          comments(first: 10) { edges { comment: node { bodyHTML } } } } } }
        issues(first: 20) { totalCount edges { issue: node { title bodyHTML
          comments(first: 10) { edges { comment: node { bodyHTML } } } } } } } } }
      followers(first: 10) { edges { follower: node { login } } } } }"""
    assert query_cost(schema, parse(complex_)).nodes == 22_060
    assert query_cost(schema, parse(gql.RATE_LIMIT_QUERY)).points == 1


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("query { viewer { repositories { nodes { name } } } }", "MISSING_PAGINATION_BOUNDARIES"),
        ("query { viewer { repositories(first: 101) { totalCount } } }", "EXCESSIVE_PAGINATION"),
        (
            "query { viewer { repositories(first: 100) { nodes { issues(first: 100) { nodes {"
            " comments(first: 100) { totalCount } } } } } } }",
            "MAX_NODE_LIMIT_EXCEEDED",
        ),
    ],
)
def test_queries_github_refuses(fake: FakeGitHubGraphQL, query: str, kind: str) -> None:
    from graphql import parse

    with pytest.raises(QueryRejected):
        query_cost(require_schema(), parse(query))
    answer = ask(fake, query, {})
    assert answer.failed and answer.error_types() == {kind}
    assert fake.points == 0


def test_rate_limited_when_the_points_are_spent() -> None:
    require_schema()
    fake = FakeGitHubGraphQL(limit=4)
    payments_repo(fake)
    variables = single("acme/payments", with_files=True)
    first = fake.post(gql.PULLS_QUERY, variables)
    assert gql.read_answer(first.body).ok and fake.remaining == 1
    spent = fake.post(gql.PULLS_QUERY, variables)
    assert spent.status == 200  # GitHub says it in the body
    answer = gql.read_answer(spent.body)
    assert answer.rate_limited and answer.failed
    assert spent.headers["x-ratelimit-remaining"] == "1"
    assert spent.headers["x-ratelimit-resource"] == "graphql"
    assert int(spent.headers["x-ratelimit-reset"]) == int(fake.reset_at.timestamp())
    # A query that still fits is answered.
    ok = gql.read_answer(fake.post(gql.DEPLOYMENTS_QUERY, single("acme/payments")).body)
    assert ok.ok and ok.rate_limit is not None and ok.rate_limit.remaining == 0


def test_partial_errors_leave_the_other_repos_readable(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    fake.repo("acme/locked")
    fake.break_repo("acme/locked", "FORBIDDEN", "Resource not accessible by integration")
    refs = [gql.RepoRef("acme/payments"), gql.RepoRef("acme/locked"), gql.RepoRef("acme/gone")]
    answer = ask(fake, gql.deployments_query(3), gql.repo_variables(refs))
    assert answer.partial and not answer.rate_limited
    assert answer.failed_aliases() == {"r1", "r2"}
    assert answer.error_types() == {"FORBIDDEN", "NOT_FOUND"}
    assert answer.data is not None and answer.data["r1"] is None and answer.data["r2"] is None
    page = gql.deployment_page(
        answer.data["r0"], repo="acme/payments", team=None, source="gh", api_url=API
    )
    assert len(page.records) == 12
    assert answer.rate_limit is not None and answer.rate_limit.cost == 3


def test_502_then_the_answer(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    fake.fail_next(502, 502)
    request = _Post(
        json.dumps({"query": gql.DEPLOYMENTS_QUERY, "variables": single("acme/payments")}).encode()
    )
    assert [fake.graphql_reply(request).status for _ in range(2)] == [502, 502]
    reply = fake.graphql_reply(request)
    assert reply.status == 200 and gql.read_answer(reply.body).ok
    assert fake.points == 1  # the 502s cost nothing
    assert [s.status for s in fake.log] == [502, 502, 200]
    assert fake.graphql_reply(_Post(b"{not json")).status == 400
    assert fake.graphql_reply(_Post(b"{}", method="GET")).status == 404


def test_environments_are_filtered_by_github_when_asked(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    answer = ask(
        fake,
        gql.DEPLOYMENTS_QUERY,
        single("acme/payments", environments=("canary", "staging")),
    )
    assert answer.data is not None
    page = gql.deployment_page(
        answer.data["repository"], repo="acme/payments", team=None, source="gh", api_url=API
    )
    assert sorted(r["environment"] for r in page.records) == ["canary", "staging"]


def test_unreadable_items_are_named_not_recorded() -> None:
    repository = {
        "deployments": {
            "pageInfo": {"hasNextPage": False},
            "nodes": [{"databaseId": 7, "createdAt": None}, "junk"],
        },
        "pullRequests": {"nodes": [{"number": None, "mergedAt": "2024-03-01T00:00:00Z"}]},
    }
    deployments = gql.deployment_page(repository, repo="a/b", team=None, source="gh", api_url=API)
    assert deployments.records == [] and deployments.bad == ["a/b deployment 7"]
    pulls = gql.pull_page(repository, repo="a/b", team=None, source="gh")
    assert pulls.records == [] and pulls.bad == ["a/b pull None"]


def test_the_module_imports_light() -> None:
    code = (
        "import sys, scorecard.sources.github_graphql; "
        "print(sorted(m for m in ('httpx', 'pandas', 'graphql') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_schema_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tests.fakes.github_graphql as fake_module

    monkeypatch.setattr(fake_module, "SCHEMA_FILE", tmp_path / "schema.graphql")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm pack @octokit/graphql-schema"):
        fake_module.require_schema()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        fake_module.require_schema()


def test_the_largest_batches_stay_within_githubs_node_limit(fake: FakeGitHubGraphQL) -> None:
    payments_repo(fake)
    refs = [gql.RepoRef("acme/payments")] * gql.MAX_REPOS_PER_QUERY
    deployments = ask(
        fake, gql.deployments_query(gql.MAX_REPOS_PER_QUERY), gql.repo_variables(refs)
    )
    pulls = ask(
        fake, gql.pulls_query(gql.MAX_REPOS_PER_QUERY), gql.repo_variables(refs, with_files=True)
    )
    assert deployments.ok and pulls.ok
    assert deployments.rate_limit is not None and deployments.rate_limit.cost == 20
    assert pulls.rate_limit is not None and pulls.rate_limit.cost == 60


def test_the_rest_fakes_repos_serve_graphql_too() -> None:
    """The GraphQL fake reads the REST fake's repos as they are: both paths can run over
    one data set (the REST and GraphQL records of it are the same)."""
    from tests.fakes.github import FakeGitHub
    from tests.fakes.server import FakeServer

    require_schema()
    rest = FakeGitHub(FakeServer())
    repo = rest.repo("acme/shop")
    repo.deploy(7, "a" * 40, "production", at(1), [("in_progress", at(1)), ("success", at(1, 4))])
    repo.deploy(8, "b" * 40, "production", at(2), [("success", at(2, 3)), ("inactive", at(3))])
    repo.deploy(9, "c" * 40, "staging", at(2), [("failure", at(2, 1))], description="Rollback")
    repo.pull(5, at(2), at(1), labels=("bug",), files=("shop/cart.py",))
    repo.pull(6, None, at(1))
    fake = FakeGitHubGraphQL(rest.repos)
    answer = ask(fake, gql.DEPLOYMENTS_QUERY, single("acme/shop"))
    assert answer.data is not None
    page = gql.deployment_page(
        answer.data["repository"],
        repo="acme/shop",
        team="shop",
        source="gh",
        api_url="https://api.github.example",
        rollback_patterns=ROLLBACK,
    )
    expected = {}
    for item in repo.deployments:
        record = deployment_record(
            item, repo.statuses[item["id"]], repo="acme/shop", team="shop", source="gh"
        )
        assert record is not None
        record["is_rollback"] = matches_any(item["description"], ROLLBACK)
        expected[record["id"]] = record
    assert {r["id"]: r for r in page.records} == expected
    pulls = ask(fake, gql.PULLS_QUERY, single("acme/shop", with_files=True))
    assert pulls.data is not None
    changes = gql.pull_page(
        pulls.data["repository"], repo="acme/shop", team="shop", source="gh", with_files=True
    ).records
    merged = change_record(repo.pulls[0], repo="acme/shop", team="shop", source="gh")
    assert merged is not None
    merged["first_commit_at"] = first_commit_time(repo.commits[5])
    merged["paths"] = ["shop/cart.py"]
    assert changes == [merged]
