"""The buildkite source against a fake Buildkite (Link pages, RateLimit-* headers, 401s).

Buildkite publishes no OpenAPI description of its REST API (``api-specs/buildkite/
NOTICE.md``: it is documented only as prose and markdown in buildkite/docs), so no
schema check is possible: the fake and the parsing tests follow the response
examples and the state lists of its REST docs (`builds.md`, `jobs.md`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config
from scorecard.request import ScoreRequest
from scorecard.sources import buildkite
from scorecard.store import Store
from scorecard.sync import plan, sync
from tests.fakes.buildkite import FakeBuildkite, rate_limit
from tests.fakes.server import FakeServer, Reply
from tests.source_config import payments_and_search, source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
TOKEN = "bkua_SENTINEL0123456789abcdef0123456789"
API_BUILDS = "/v2/organizations/acme/pipelines/payments-api/builds"

# A build from the "List all builds" response example of Buildkite's REST docs (trimmed).
DOCS_BUILD: dict[str, Any] = {
    "id": "f62a1b4d-10f9-4790-bc1c-e2c3a0c80983",
    "url": "https://api.buildkite.com/v2/organizations/my-great-org/pipelines/my-pipeline/builds/1",
    "web_url": "https://buildkite.com/my-great-org/my-pipeline/builds/1",
    "number": 1,
    "state": "passed",
    "blocked": False,
    "message": "Bumping to version 0.2-beta.6",
    "commit": "abcd0b72a1e580e90712cdd9eb26d3fb41cd09c8",
    "branch": "main",
    "env": {},
    "source": "webhook",
    "creator": {"id": "3d3c3bf0-7d58-4afe-8fe7-b3017d5504de", "name": "Keith Pitt"},
    "jobs": [
        {
            "id": "b63254c0-3271-4a98-8270-7cfbd6c2f14e",
            "type": "script",
            "name": ":package:",
            "step_key": "package",
            "state": "passed",
            "web_url": "https://buildkite.com/my-great-org/my-pipeline/builds/1#b63254c0",
            "command": "scripts/build.sh",
            "exit_status": 0,
            "created_at": "2015-05-09T21:05:59.874Z",
            "scheduled_at": "2015-05-09T21:05:59.874Z",
            "started_at": "2015-05-09T21:05:59.874Z",
            "finished_at": "2015-05-09T21:05:59.874Z",
        }
    ],
    "created_at": "2015-05-09T21:05:59.874Z",
    "scheduled_at": "2015-05-09T21:05:59.874Z",
    "started_at": "2015-05-09T21:05:59.874Z",
    "finished_at": "2015-05-09T21:05:59.874Z",
    "meta_data": {},
    "pull_request": {},
    "pipeline": {"slug": "my-pipeline", "repository": "git@github.com:my-great-org/my-repo.git"},
}
DOCS_BUILD_STATES = (
    "creating scheduled running passed failing failed blocked canceling canceled skipped not_run"
)
DOCS_JOB_STATES = (
    "pending waiting waiting_failed blocked blocked_failed unblocked unblocked_failed limiting "
    "limited scheduled assigned accepted running passed failed canceling canceled timing_out "
    "timed_out skipped broken expired"
)


def test_every_documented_state_has_a_meaning() -> None:
    assert set(DOCS_BUILD_STATES.split()) <= set(buildkite.BUILD_STATES)
    assert set(DOCS_JOB_STATES.split()) <= set(buildkite.JOB_STATES)


def test_repository_urls_name_repos() -> None:
    assert buildkite.repo_from_url("git@github.com:acme/api.git") == "acme/api"
    assert buildkite.repo_from_url("https://github.com/acme/api.git") == "acme/api"
    assert buildkite.repo_from_url("ssh://git@gitlab.acme.com:2222/grp/sub/api") == "grp/sub/api"
    assert buildkite.repo_from_url("https://bitbucket.org/acme/api") == "acme/api"
    assert buildkite.repo_from_url("not a url") is None
    assert buildkite.repo_from_url(None) is None


def test_the_docs_build_parses() -> None:
    ref = buildkite.PipelineRef("my-great-org", "my-pipeline", "my-great-org/my-repo", "T", "bk")
    run = buildkite.build_run(DOCS_BUILD, ref, conclusion="success")
    assert run is not None and run["id"] == "my-great-org/my-pipeline/builds/1"
    assert run["commit_sha"] == DOCS_BUILD["commit"] and run["branch"] == "main"
    assert run["finished_at"] == datetime(2015, 5, 9, 21, 5, 59, 874000, tzinfo=UTC)
    deploy = buildkite.step_deployment(
        DOCS_BUILD["jobs"][0], DOCS_BUILD, ref, status="success", environment="production"
    )
    assert deploy is not None and deploy["id"].endswith(
        "/builds/1/jobs/" + DOCS_BUILD["jobs"][0]["id"]
    )
    assert deploy["url"] == DOCS_BUILD["jobs"][0]["web_url"]
    assert (
        buildkite.build_run({**DOCS_BUILD, "commit": "HEAD"}, ref, conclusion="success")[
            "commit_sha"
        ]
        is None
    )
    assert buildkite.build_run({"state": "passed"}, ref, conclusion="success") is None


def test_organization_and_pipelines_are_required() -> None:
    problems = list(buildkite.BuildkiteOptions().problems([]))
    assert [p.key for p in problems] == ["organization", "pipelines"]


# --- syncs against the fake -----------------------------------------------------------------


def build_org(server: FakeServer) -> FakeBuildkite:
    fake = FakeBuildkite(server, TOKEN)
    api = fake.pipeline("payments-api", "git@github.com:acme/payments-api.git")
    steps = [("deploy-canary", "passed"), ("deploy-production", "passed")]
    for i in reversed(range(150)):  # two pages of 100
        state = "failed" if i % 10 == 0 else "passed"
        fake.build(api, NOW - HOUR - i * 4 * HOUR, state, jobs=steps if i % 5 == 0 else None)
    fake.build(api, NOW - 2 * DAY, "failed", branch="feature/x")
    fake.build(api, NOW - HOUR / 2, "running")
    deploy = fake.pipeline("payments-deploy", "https://github.com/acme/payments-api.git")
    for k, state in enumerate(("passed", "failed", "passed", "passed")):
        fake.build(deploy, NOW - (k + 1) * DAY, state)
    search = fake.pipeline("search", "git@gitlab.com:acme/search-engine.git", "trunk")
    for k in range(5):
        fake.build(search, NOW - (k + 1) * DAY)
    fake.pipeline("sandbox", "git@github.com:acme/sandbox.git")
    return fake


def org_config(fake: FakeBuildkite, **options: Any) -> Config:
    source = source_config(
        name="bk",
        kind="buildkite",
        api_url=fake.url,
        token_env="BK_TEST_TOKEN",
        timeout_s=5,
        options={
            "organization": "acme",
            "pipelines": ("payments-api", "payments-deploy", "search", "sandbox"),
            "pipeline_repos": {"search": "acme/search"},
            "deploy_pipelines": ("*-deploy",),
            "deploy_steps": ("deploy-*",),
            **options,
        },
    )
    return payments_and_search(source)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BK_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete  # the sandbox is not read
    assert any(
        "pipeline sandbox: no team lists its repo 'acme/sandbox'" in p for p in outcome.problems
    )
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in fake_server.log)
    listings = fake_server.requests(API_BUILDS)
    assert len(listings) == 2 and listings[1].query["page"] == "2"  # followed rel="next"
    assert listings[0].query["per_page"] == "100" and listings[0].query["branch"] == "main"

    frames = store.load()
    runs = frames["ci_runs"]
    pay = runs[runs["repo"] == "acme/payments-api"]
    assert len(pay) == 150 and (pay["conclusion"] == "failure").sum() == 15
    assert set(pay["team"]) == {"Payments"} and set(pay["workflow"]) == {"payments-api"}
    assert set(runs[runs["repo"] == "acme/search"]["team"]) == {"Search"}
    deployments = frames["deployments"].set_index("id")
    production = deployments[deployments["environment"] == "production"]
    assert len(production) == 34 and (production["status"] == "failure").sum() == 1
    steps = production[production.index.str.contains("/jobs/")]
    assert len(steps) == 30 and set(steps["strategy"]) == {"canary"}
    assert (deployments["environment"] == "deploy-canary").sum() == 30
    assert outcome.stats.rate_limit_remaining == 199


async def test_resync_asks_only_for_builds_since_the_bookmark(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    api = fake.pipelines["payments-api"]
    api.builds[-1].update(state="passed", finished_at=api.builds[-1]["started_at"])
    fake.build(api, NOW + HOUR)
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + 2 * HOUR))
    listing = fake_server.requests(API_BUILDS)
    assert len(listing) == 1 and listing[0].query["created_from"] == "2024-03-09T12:00:00Z"
    runs = store.load()["ci_runs"]
    assert len(runs[runs["repo"] == "acme/payments-api"]) == 152  # kept, finished and new


async def test_rate_limits_and_5xx_are_retried(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    limited = Reply(429, {"message": "Too Many Requests"}, rate_limit(remaining=0, reset=5))
    fake_server.fault(API_BUILDS, limited, Reply(503, b"upstream unavailable"))
    fake_server.fault("/v2/organizations/acme/pipelines/search/builds", Reply(200, b"[{"))
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None
    assert outcome.stats.retries == 2 and waits[0] == 5.0
    assert outcome.stats.malformed == 1 and outcome.skipped >= 1
    assert outcome.stats.items["ci_runs"] == 150


async def test_unknown_states_are_counted_and_named(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    fake.build(fake.pipelines["search"], NOW - 3 * HOUR, "vanished")
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert any("unknown Buildkite build state 'vanished' on 1" in p for p in outcome.problems)
    assert outcome.skipped == 1 and outcome.stats.items["unknown_state"] == 1


async def test_missing_or_rejected_token_is_a_clear_error(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = build_org(fake_server)
    monkeypatch.delenv("BK_TEST_TOKEN", raising=False)
    summary = await sync(org_config(fake), Store(tmp_path / "a"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "no Buildkite API token" in error and "auth set bk" in error
    wrong = "bkua_WRONG_9876543210"
    monkeypatch.setenv("BK_TEST_TOKEN", wrong)
    summary = await sync(org_config(fake), Store(tmp_path / "b"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "401" in error and wrong not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build_org(fake_server)
    config = org_config(fake)
    source: Any = build_source(config.sources[0], config=config)
    assert await source.probe() == "4 pipelines reachable, rate limit 199 left"


def test_config_sync_export_end_to_end(
    fake_server: FakeServer,
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scorecard import cli

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    fake = build_org(fake_server)
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.bk]
kind = "buildkite"
api_url = "{fake.url}"
token_env = "BK_TEST_TOKEN"
organization = "acme"
pipelines = ["payments-api", "payments-deploy", "search"]
deploy_pipelines = ["*-deploy"]
deploy_steps = ["deploy-*"]

[sources.bk.pipeline_repos]
search = "acme/search"

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]

[[teams]]
name = "Search"
repos = ["acme/search"]
""",
        encoding="utf-8",
    )
    as_of = ["--as-of", NOW.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert cli.main(["sync", "--config", str(config), *as_of]) == 0
    _out, err = capsys.readouterr()
    assert TOKEN not in err
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json", *as_of])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {row["team"]: row for row in json.loads(out)["rows"]}
    pay, search = rows["Payments"], rows["Search"]
    assert pay["deploys"] == 33 and pay["canary_share"] == pytest.approx(30 / 33)
    assert pay["ci_success_rate"] == pytest.approx(135 / 150)
    assert search["ci_success_rate"] == pytest.approx(1.0) and search["deploys"] == 0
    assert TOKEN not in out


async def test_plan_before_a_first_sync_is_within_a_fifth_of_what_it_spends(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    config = org_config(fake)
    request = ScoreRequest.resolve(now=NOW)
    cache = tmp_path / "cache"
    [estimate] = await plan(config, Store(cache, read_only=True), request, only="bk")
    assert estimate.error is None and estimate.requests is not None, estimate
    assert not cache.exists(), "a plan writes nothing"
    assert estimate.spent == 4 + 3  # each pipeline, and one build of each owned one
    assert [r.query["per_page"] for r in fake_server.log if r.path.endswith("/builds")] == ["1"] * 3
    assert estimate.rest is not None and estimate.rest.remaining == 199
    assert estimate.rest.limit == 200 * 60  # a minute's 200, counted per hour
    assert estimate.rest.reset_at == NOW + timedelta(seconds=42)
    assert "Buildkite allows 200 a minute" in estimate.basis
    store = Store(cache)
    await sync(config, store, request)
    spent = store.statuses()["bk"].stats.spent
    assert abs(estimate.requests - spent) <= 0.2 * spent, (estimate.requests, spent)
    assert estimate.requests == spent  # the page counts are exact here
    # Link rel="last" of a one-build page counts them: payments-api's main branch has 151
    assert "~160 builds" in estimate.basis, estimate.basis
