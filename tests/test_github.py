"""The github source over REST (`graphql = false`): parsing (GitHub's own OpenAPI examples) and
syncs against a fake GitHub. The GraphQL path is in test_github_sync_graphql.py."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import github
from scorecard.store import Store
from scorecard.sync import status_text, sync
from tests.fakes.github import FakeGitHub
from tests.fakes.server import FakeServer, Reply, Request
from tests.source_config import payments_and_search, source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
TOKEN = "ghp_SENTINEL0123456789abcdefghij"
OPENAPI = Path(__file__).parent / ".octokit" / "package" / "generated" / "api.github.com.json"


# --- parsing against GitHub's OpenAPI examples -----------------------------------------------


@cache
def _openapi() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text(encoding="utf-8"))


def example(path: str, code: str = "200") -> Any:
    """The official example payload of ``GET path`` from @octokit/openapi."""
    if not OPENAPI.is_file():
        reason = f"{OPENAPI} is missing; `make test` fetches it (npm pack @octokit/openapi)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    spec = _openapi()
    content = spec["paths"][path]["get"]["responses"][code]["content"]["application/json"]
    ref = content["examples"]["default"]["$ref"].rsplit("/", 1)[-1]
    return spec["components"]["examples"][ref]["value"]


def test_workflow_runs_example_parses() -> None:
    body = example("/repos/{owner}/{repo}/actions/runs")
    run = body["workflow_runs"][0]
    record = github.run_record(run, repo="octo-org/octo-repo", team="T", source="gh")
    assert record is not None
    assert record["id"] == f"octo-org/octo-repo/actions/runs/{run['id']}"
    assert record["workflow"] == run["name"]
    assert record["branch"] == run["head_branch"]
    assert record["commit_sha"] == run["head_sha"]
    assert record["started_at"] == datetime.fromisoformat(run["run_started_at"])
    assert record["attempt"] == run["run_attempt"]
    # The example run is still queued: not a finished CI run yet.
    assert run["status"] != "completed" and record["pending"] and record["finished_at"] is None
    done = {**run, "status": "completed", "conclusion": "timed_out"}
    finished = github.run_record(done, repo="octo-org/octo-repo", team="T", source="gh")
    assert finished is not None and finished["conclusion"] == "failure"
    assert finished["finished_at"] == datetime.fromisoformat(run["updated_at"])


def test_deployments_and_statuses_examples_parse() -> None:
    deployment = example("/repos/{owner}/{repo}/deployments")[0]
    statuses = example("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses")
    record = github.deployment_record(
        deployment, statuses, repo="octocat/example", team="T", source="gh"
    )
    assert record is not None
    assert record["status"] == "success"  # the latest status decides
    assert record["environment"] == deployment["environment"] == "production"
    assert record["commit_sha"] == deployment["sha"]
    assert record["started_at"] == datetime.fromisoformat(deployment["created_at"])
    assert record["finished_at"] == datetime.fromisoformat(statuses[0]["created_at"])
    assert record["strategy"] == "unknown"
    pending = github.deployment_record(deployment, [], repo="o/r", team=None, source="gh")
    assert pending is not None and pending["status"] == "in_progress"
    assert pending["finished_at"] is None


def test_pull_request_and_commits_examples_parse() -> None:
    pr = example("/repos/{owner}/{repo}/pulls")[0]
    record = github.change_record(pr, repo="octocat/Hello-World", team="T", source="gh")
    assert record is not None
    assert record["id"] == f"octocat/Hello-World/pull/{pr['number']}"
    assert record["merged_at"] == datetime.fromisoformat(pr["merged_at"])
    assert record["merge_sha"] == pr["merge_commit_sha"]
    assert record["title"] == pr["title"]
    assert record["labels"] == [label["name"] for label in pr["labels"]]
    commits = example("/repos/{owner}/{repo}/pulls/{pull_number}/commits")
    first = github.first_commit_time(commits)
    assert first == datetime.fromisoformat(commits[0]["commit"]["author"]["date"])
    assert github.first_commit_time([]) is None


# --- a fake GitHub ---------------------------------------------------------------------


def build_org(server: FakeServer) -> FakeGitHub:
    """Two teams: Payments (Deployments API, canaries, many runs), Search (deploy workflow)."""
    fake = FakeGitHub(server)
    pay = fake.repo("acme/payments-api")
    day = timedelta(days=1)
    # A canary then production for sha aaa: canary strategy.
    pay.deploy(1, "a" * 40, "canary", NOW - 5 * day, [("success", NOW - 5 * day)])
    t = NOW - 5 * day + timedelta(hours=1)
    pay.deploy(
        2, "a" * 40, "production", t, [("in_progress", t), ("success", t + timedelta(minutes=10))]
    )
    # Production without canary, later superseded (inactive): still a success.
    t = NOW - 3 * day
    pay.deploy(
        3, "b" * 40, "production", t, [("success", t + timedelta(minutes=5)), ("inactive", t + day)]
    )
    pay.deploy(4, "c" * 40, "staging", NOW - 2 * day, [("success", NOW - 2 * day)])  # ignored
    t = NOW - 2 * day
    pay.deploy(5, "d" * 40, "production", t, [("failure", t + timedelta(minutes=3))])
    # Ships the merge commit of a revert PR: a rollback.
    t = NOW - day
    pay.deploy(6, "e" * 40, "production", t, [("success", t + timedelta(minutes=4))])
    # Merged PRs (one is a revert), one closed without merging.
    pay.pull(10, NOW - 6 * day, NOW - 8 * day)
    pay.pull(11, NOW - 4 * day, NOW - 4 * day - timedelta(hours=30), labels=("ai",))
    pay.pull(
        12,
        NOW - day - timedelta(hours=2),
        NOW - 2 * day,
        merge_sha="e" * 40,
        title='Revert "risky"',
    )
    pay.pull(13, None, NOW - 3 * day)
    # 2,300 default-branch runs over ~150 days (more than the 1,000 cap), a few elsewhere.
    for i in range(2300):
        created = NOW - timedelta(hours=1) - timedelta(minutes=94 * i)
        pay.run(1000 + i, created, conclusion="failure" if i % 10 == 0 else "success")
    for i in range(3):
        pay.run(9000 + i, NOW - day, branch="feature")
    pay.run(9100, NOW - timedelta(minutes=5), conclusion=None)  # still running
    t = NOW - timedelta(hours=2)
    pay.deploy(8, "9" * 40, "production", t, [("in_progress", t)])  # still deploying

    search = fake.repo("acme/search", default_branch="trunk")
    for i in range(4):
        t = NOW - (i + 1) * day
        search.run(500 + i, t, name="Deploy", path=".github/workflows/deploy.yml", minutes=12)
        search.run(600 + i, t, name="CI")
    search.pull(1, NOW - 2 * day, NOW - 3 * day)
    return fake


def org_config(url: str, **options: Any) -> Config:
    source = source_config(
        name="gh",
        kind="github",
        api_url=url,
        token_env="GH_TEST_TOKEN",
        timeout_s=5,
        max_concurrency=4,
        options={"deploy_workflows": ["deploy*"], "graphql": False, **options},
    )
    return payments_and_search(source)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GH_TEST_TOKEN", TOKEN)
    return TOKEN


def request_keys(server: FakeServer) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(r.path, tuple(sorted(r.query.items()))) for r in server.log]


async def test_full_sync_reads_everything_once(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake_server.url), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    keys = request_keys(fake_server)
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in fake_server.log)

    frames = store.load()
    deployments = frames["deployments"].set_index("id")
    pay = deployments[deployments["repo"] == "acme/payments-api"]
    assert sorted(pay.index) == [f"acme/payments-api/deployments/{i}" for i in (1, 2, 3, 5, 6, 8)]
    assert pay.loc["acme/payments-api/deployments/8", "status"] == "in_progress"
    assert pay.loc["acme/payments-api/deployments/2", "strategy"] == "canary"
    assert pay.loc["acme/payments-api/deployments/3", "strategy"] == "unknown"
    assert pay.loc["acme/payments-api/deployments/3", "status"] == "success"
    assert pay.loc["acme/payments-api/deployments/5", "status"] == "failure"
    assert bool(pay.loc["acme/payments-api/deployments/6", "is_rollback"])
    assert not pay["is_rollback"].drop("acme/payments-api/deployments/6").any()
    d2 = pay.loc["acme/payments-api/deployments/2"]
    assert d2["finished_at"] == NOW - timedelta(days=5) + timedelta(hours=1, minutes=10)
    assert set(pay["team"].astype(str)) == {"Payments"}

    # Search deploys from Actions: its Deploy runs are production deployments, not CI.
    search = deployments[deployments["repo"] == "acme/search"]
    assert len(search) == 4 and set(search["environment"].astype(str)) == {"production"}
    assert set(search["status"].astype(str)) == {"success"}

    runs = frames["ci_runs"]
    pay_runs = runs[runs["repo"] == "acme/payments-api"]
    assert len(pay_runs) == 2300  # all of them, past the 1,000 cap; none from other branches
    assert pay_runs["is_default_branch"].all()
    assert (pay_runs["conclusion"] == "failure").sum() == 230
    capped = [
        r for r in fake_server.log if r.path.endswith("/actions/runs") and "created" in r.query
    ]
    assert capped, "the range past the cap was fetched by date"
    search_runs = runs[runs["repo"] == "acme/search"]
    assert set(search_runs["workflow"].astype(str)) == {"CI"} and len(search_runs) == 4

    changes = frames["changes"].set_index("id")
    assert sorted(changes.index) == [
        "acme/payments-api/pull/10",
        "acme/payments-api/pull/11",
        "acme/payments-api/pull/12",
        "acme/search/pull/1",
    ]
    assert changes.loc["acme/payments-api/pull/10", "first_commit_at"] == NOW - timedelta(days=8)
    assert changes.loc["acme/payments-api/pull/11", "labels"] == ["ai"]

    status = store.statuses()["gh"]
    assert status.stats.requests == len(fake_server.log)
    assert status.stats.items["ci_runs"] >= 2300
    assert status.stats.not_modified == 0
    assert "requests" in summary.table() and "ci_runs" in summary.table()
    # The token is nowhere in the cache.
    for path in (tmp_path / "cache").rglob("*.json"):
        assert token not in path.read_text(encoding="utf-8")


async def test_unchanged_resync_sends_only_conditional_requests(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake_server.url)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    before = store.load()
    fake_server.log.clear()

    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)))
    assert summary.outcomes[0].last_error is None and summary.outcomes[0].complete
    assert fake_server.log, "something was asked"
    assert all(r.conditional for r in fake_server.log), [
        r.path for r in fake_server.log if not r.conditional
    ]
    assert all(r.status == 304 for r in fake_server.log)
    # Per repo: the repo, the first page of each listing; plus the running deployment.
    assert len(fake_server.log) == 2 * 4 + 1
    after = store.load()
    for kind in ("deployments", "changes", "ci_runs"):
        assert sorted(after[kind]["id"]) == sorted(before[kind]["id"]), kind
    stats = store.statuses()["gh"].stats
    assert stats.not_modified == stats.requests == len(fake_server.log)


async def test_incremental_sync_merges_new_events(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake_server.url)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    later = NOW + timedelta(hours=6)
    pay = fake.repos["acme/payments-api"]
    t = NOW + timedelta(hours=2)
    pay.deploy(7, "f" * 40, "production", t, [("success", t + timedelta(minutes=6))])
    pay.pull(14, NOW + timedelta(hours=1), NOW - timedelta(days=1))
    pay.run(9200, NOW + timedelta(hours=1))
    pay.statuses[8].insert(0, {"id": 801, "state": "success", "created_at": "2024-03-10T12:30:00Z"})
    fake_server.log.clear()

    summary = await sync(config, store, ScoreRequest.resolve(now=later))
    assert summary.outcomes[0].last_error is None
    frames = store.load()
    assert "acme/payments-api/deployments/7" in set(frames["deployments"]["id"])
    d8 = frames["deployments"].set_index("id").loc["acme/payments-api/deployments/8"]
    assert d8["status"] == "success" and d8["finished_at"] == NOW + timedelta(minutes=30)
    assert len(frames["deployments"]) == 11
    assert "acme/payments-api/pull/14" in set(frames["changes"]["id"])
    assert len(frames["changes"]) == 5
    assert len(frames["ci_runs"]) == 2300 + 4 + 1
    # Only the changed first pages and the new items were read again.
    assert len(fake_server.log) < 20
    assert not any("created" in r.query for r in fake_server.log)

    # --full ignores bookmarks and validators: everything is fetched again.
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=later), full=True)
    assert not any(r.conditional for r in fake_server.log)
    assert len(store.load()["ci_runs"]) == 2305


async def test_rate_limits_are_waited_out(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    build_org(fake_server)
    reset = str(int(datetime.now(UTC).timestamp()) + 1)
    fake_server.fault(
        "/repos/acme/search/pulls",
        Reply(
            403,
            {"message": "API rate limit exceeded"},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        ),
    )
    fake_server.fault("/repos/acme/search", Reply(429, {}, {"Retry-After": "1"}))
    fake_server.fault("/repos/acme/payments-api/deployments", Reply(502), Reply(503), Reply(500))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake_server.url), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.stats.retries == 5
    assert 1.0 in waits and any(0 < w <= 3 for w in waits)
    assert len(store.load()["changes"]) == 4


async def test_a_too_long_rate_limit_wait_stops_with_partial_data(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    build_org(fake_server)
    fake_server.fault("/repos/acme/search/pulls", Reply(429, {}, {"Retry-After": "7200"}))
    store = Store(tmp_path / "cache")
    summary = await sync(
        org_config(fake_server.url, max_wait_s=30), store, ScoreRequest.resolve(now=NOW)
    )
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert "partial" in status_text(outcome)
    assert any("max_wait_s" in p for p in outcome.problems)
    assert waits == []
    assert not store.statuses()["gh"].complete


async def test_malformed_pages_and_loops_are_counted_and_skipped(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build_org(fake_server)
    fake_server.fault("/repos/acme/payments-api/pulls", Reply(200, b'[{"number": 1, "merged_'))

    def looping(request: Request, server: FakeServer) -> Reply:
        link = f'<{server.url}/repos/acme/search/deployments?per_page=100>; rel="next"'
        return Reply(200, [], {"Link": link})

    fake_server.routes.insert(0, (lambda p: p == "/repos/acme/search/deployments", looping))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake_server.url), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None
    assert outcome.skipped >= 1 and outcome.stats.malformed == 1
    assert any("malformed" in p for p in outcome.problems)
    assert any("loop" in p for p in outcome.problems)
    assert not outcome.complete
    frames = store.load()
    assert len(frames["ci_runs"]) == 2304  # everything else arrived


async def test_unknown_repo_and_bad_token(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build_org(fake_server)
    config = org_config(fake_server.url)
    config = Config(
        path=None,
        teams=(*config.teams, TeamConfig(name="Ghost", repos=("acme/nope",))),
        sources=config.sources,
    )
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert any("acme/nope" in p and "404" in p for p in outcome.problems)

    fake_server.routes.insert(
        0, (lambda p: True, lambda r, s: Reply(401, {"message": "Bad credentials"}))
    )
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=1)))
    error = summary.outcomes[0].last_error
    assert error is not None and "401" in error and token not in error
    assert store.statuses()["gh"].last_success_at == NOW  # the last good data stays


# --- end to end: config -> `scorecard sync` -> `scorecard export` ------------------------


def test_sync_then_export_end_to_end(
    fake_server: FakeServer,
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scorecard import cli

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    now = datetime.now(UTC).replace(microsecond=0)
    day, hour, ten = timedelta(days=1), timedelta(hours=1), timedelta(minutes=10)
    fake = FakeGitHub(fake_server)
    pay = fake.repo("acme/payments-api")
    for n, ago in enumerate((7, 5, 3, 1), start=1):
        t = now - ago * day
        pay.deploy(n, f"{n:040x}", "production", t, [("success", t + ten)])
    pay.deploy(9, f"{1:040x}", "canary", now - 7 * day - hour, [("success", now - 7 * day - hour)])
    pay.pull(21, now - 7 * day - 2 * hour, now - 7 * day - 12 * hour)  # lead 12h10m
    pay.pull(22, now - 3 * day - hour, now - 3 * day - 25 * hour)  # lead 25h10m
    for i in range(10):
        pay.run(300 + i, now - (i + 1) * hour, conclusion="failure" if i < 2 else "success")
    search = fake.repo("acme/search")
    for i in range(2):
        search.run(700 + i, now - (i + 2) * day, name="Deploy", path=".github/workflows/deploy.yml")
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[scorecard]
org = "Acme"

[sources.gh]
kind = "github"
api_url = "{fake_server.url}"
token_env = "GH_TEST_TOKEN"
deploy_workflows = ["deploy*"]

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]

[[teams]]
name = "Search"
repos = ["acme/search"]
""",
        encoding="utf-8",
    )
    assert cli.main(["sync", "--config", str(config)]) == 0
    _out, err = capsys.readouterr()
    assert "gh: " in err and "requests" in err and token not in err
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {row["team"]: row for row in json.loads(out)["rows"]}
    payments, search_row = rows["Payments"], rows["Search"]
    assert payments["deploys"] == 4
    assert payments["canary_share"] == pytest.approx(0.25)
    assert payments["ci_success_rate"] == pytest.approx(0.8)
    assert payments["lead_time_p50_hours"] == pytest.approx((12 + 25) / 2 + 1 / 6, abs=0.01)
    assert search_row["deploys"] == 2
    assert token not in out


async def test_pull_request_paths_for_path_change_classes(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    from scorecard.config import ChangeClassConfig

    fake = build_org(fake_server)
    fake.repos["acme/payments-api"].files[11] = [
        {"filename": "prompts/rank.txt", "status": "modified"},
        {"filename": "models/v2.json", "previous_filename": "models/v1.json", "status": "renamed"},
    ]
    store = Store(tmp_path / "cache")
    plain = org_config(fake_server.url)
    await sync(plain, store, ScoreRequest.resolve(now=NOW))
    # Without a path-matching change class, no pull request's files are asked for.
    assert not [r for r in fake_server.log if r.path.endswith("/files")]

    ai = ChangeClassConfig(name="ai", paths=("prompts/**", "models/**"))
    config = replace(plain, change_classes=(ai,))
    store = Store(tmp_path / "cache2")
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    files_requests = [r.path for r in fake_server.log if r.path.endswith("/files")]
    assert len(files_requests) == 4  # one per merged pull request
    changes = store.load()["changes"].set_index("id")
    assert changes.loc["acme/payments-api/pull/11", "paths"] == [
        "prompts/rank.txt",
        "models/v2.json",
        "models/v1.json",
    ]
    assert changes.loc["acme/payments-api/pull/10", "paths"] == ["src/app.py"]

    # A merged pull request's files never change: a later sync does not ask again.
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)), full=False)
    assert not [r for r in fake_server.log if r.path.endswith("/files")]
    assert store.load()["changes"].set_index("id").loc["acme/payments-api/pull/11", "paths"] == [
        "prompts/rank.txt",
        "models/v2.json",
        "models/v1.json",
    ]
