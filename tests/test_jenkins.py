"""The jenkins source against a fake Jenkins controller (tree ranges, Basic auth, 5xx).

Jenkins publishes no OpenAPI description or schema of its JSON API
(``api-specs/jenkins/NOTICE.md``: the shape is each model class's ``@Exported``
fields and the installed plugins), so no schema check is possible: the fake and
the parsing tests follow the documented ``…/api/json?tree=…`` answers (a
``WorkflowRun`` with ``result``, ``building``, ``timestamp``/``duration`` in
milliseconds and the git plugin's ``BuildData``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config
from scorecard.request import ScoreRequest
from scorecard.sources import jenkins
from scorecard.store import Store
from scorecard.sync import plan, sync
from tests.fakes.jenkins import FakeJenkins
from tests.fakes.server import FakeServer, Reply
from tests.source_config import payments_and_search, source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
USER = "scorecard-bot"
TOKEN = "11SENTINEL0123456789abcdef0123456789"
API_JOB = "/job/payments/job/api/job/main/api/json"

# A build as `…/api/json?tree=allBuilds[…]` answers it (a Pipeline run with git data).
DOCS_BUILD: dict[str, Any] = {
    "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
    "actions": [
        {"_class": "hudson.model.CauseAction"},
        {
            "_class": "hudson.plugins.git.util.BuildData",
            "lastBuiltRevision": {"SHA1": "5f1e8b5ed2a9a7b8c1f1b2c3d4e5f60718293a4b"},
        },
    ],
    "building": False,
    "description": None,
    "displayName": "#42",
    "duration": 183_000,
    "number": 42,
    "result": "UNSTABLE",
    "timestamp": 1_709_985_600_000,
    "url": "https://ci.acme.com/job/payments/job/api/job/main/42/",
}


def test_tree_and_paths() -> None:
    assert jenkins.job_path("payments/api/main") == "job/payments/job/api/job/main"
    assert jenkins.job_path("a b") == "job/a%20b"
    tree = jenkins.builds_tree(100, 200)
    assert tree.startswith("allBuilds[number,") and tree.endswith("]{100,200}")


def test_a_documented_build_parses() -> None:
    run = jenkins.build_run(
        DOCS_BUILD, conclusion="failure", job="payments/api/main", repo="a/b", team="T", source="j"
    )
    assert run is not None and run["id"] == "payments/api/main/builds/42"
    assert run["started_at"] == datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    assert run["finished_at"] == datetime(2024, 3, 9, 12, 3, 3, tzinfo=UTC)
    assert run["commit_sha"] == "5f1e8b5ed2a9a7b8c1f1b2c3d4e5f60718293a4b"
    building = {**DOCS_BUILD, "building": True, "result": None}
    deploy = jenkins.build_deployment(
        building,
        status="in_progress",
        environment="production",
        job="d",
        repo="a/b",
        team="T",
        source="j",
    )
    assert deploy is not None and deploy["finished_at"] is None
    assert deploy["url"] == DOCS_BUILD["url"]
    assert (
        jenkins.build_run(
            {"number": 1}, conclusion="success", job="j", repo="r", team=None, source="j"
        )
        is None
    )
    assert set(jenkins.RESULTS) == {"SUCCESS", "FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"}


def test_url_and_jobs_are_required() -> None:
    problems = list(jenkins.JenkinsOptions().problems([]))
    assert [p.key for p in problems] == ["api_url", "jobs"]


# --- syncs against the fake -----------------------------------------------------------------


def build_org(server: FakeServer) -> FakeJenkins:
    fake = FakeJenkins(server, USER, TOKEN)
    fake.job("payments/api/main")
    for i in reversed(range(130)):  # two ranges of 100
        result = "FAILURE" if i % 10 == 0 else "UNSTABLE" if i % 10 == 5 else "SUCCESS"
        fake.build("payments/api/main", NOW - HOUR - i * 4 * HOUR, result)
    fake.build("payments/api/main", NOW - HOUR / 2, None)  # still building
    fake.job("payments/deploy-canary")
    fake.job("payments/deploy-production")
    for k in range(5, 0, -1):
        sha = f"{k:040x}"
        fake.build("payments/deploy-canary", NOW - k * DAY, sha=sha)
        result = "FAILURE" if k == 3 else "SUCCESS"
        fake.build("payments/deploy-production", NOW - k * DAY + HOUR, result, sha=sha)
    fake.job("search/main")
    for k in range(5):
        fake.build("search/main", NOW - (k + 1) * DAY, "ABORTED" if k == 2 else "SUCCESS")
    fake.job("sandbox/main")
    return fake


JOBS = {
    "payments/api/main": "acme/payments-api",
    "payments/deploy-canary": "acme/payments-api",
    "payments/deploy-production": "acme/payments-api",
    "search/main": "acme/search",
    "sandbox/main": "acme/sandbox",
}


def org_config(fake: FakeJenkins, **options: Any) -> Config:
    source = source_config(
        name="ci",
        kind="jenkins",
        api_url=fake.url,
        token_env="JENKINS_TEST_TOKEN",
        timeout_s=5,
        options={"user": USER, "jobs": JOBS, "deploy_jobs": ("*/deploy-*",), **options},
    )
    return payments_and_search(source)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JENKINS_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None, outcome
    assert outcome.problems[0] == "job sandbox/main: no team lists repo acme/sandbox; not read"
    assert not fake_server.requests("/job/sandbox/job/main/api/json")
    ranges = [r.query["tree"].rsplit("{", 1)[1] for r in fake_server.requests(API_JOB)]
    assert ranges == ["0,100}", "100,200}"]
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake_server.log)

    frames = store.load()
    runs = frames["ci_runs"]
    pay = runs[runs["repo"] == "acme/payments-api"]
    assert len(pay) == 130 and (pay["conclusion"] == "failure").sum() == 26
    assert set(pay["team"]) == {"Payments"} and set(pay["workflow"]) == {"payments/api/main"}
    search = runs[runs["repo"] == "acme/search"]
    assert sorted(search["conclusion"]) == ["cancelled"] + ["success"] * 4
    deployments = frames["deployments"].set_index("id")
    production = deployments[deployments["environment"] == "production"]
    assert len(production) == 5 and (production["status"] == "failure").sum() == 1
    assert set(production.loc[production["status"] == "success", "strategy"]) == {"canary"}
    assert (deployments["environment"] == "payments/deploy-canary").sum() == 5


async def test_resync_stops_at_the_bookmark(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    running = fake.jobs["payments/api/main"][-1]
    running.update(result="SUCCESS", building=False, duration=60_000)
    fake.build("payments/api/main", NOW + HOUR)
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + 2 * HOUR))
    assert len(fake_server.requests(API_JOB)) == 1  # the first range reaches past it
    runs = store.load()["ci_runs"]
    assert len(runs[runs["repo"] == "acme/payments-api"]) == 132


async def test_5xx_is_retried_and_bad_json_counted(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    fake_server.fault(API_JOB, Reply(503, b"<html>Jenkins is restarting</html>"), Reply(502))
    fake_server.fault("/job/search/job/main/api/json", Reply(200, b'{"allBuilds": ['))
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.retries == 2 and len(waits) == 2
    assert outcome.stats.malformed == 1 and outcome.skipped >= 1
    assert outcome.stats.items["ci_runs"] == 130


async def test_unknown_results_are_counted_and_named(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    fake.build("search/main", NOW - 3 * HOUR, "EXPLODED")
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert any("unknown Jenkins build result 'EXPLODED' on 1" in p for p in outcome.problems)
    assert outcome.skipped == 1 and outcome.stats.items["unknown_result"] == 1


async def test_missing_user_or_rejected_token_is_a_clear_error(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = build_org(fake_server)
    no_user = org_config(fake, user=None)
    summary = await sync(no_user, Store(tmp_path / "a"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "Jenkins needs `user`" in error and TOKEN not in error
    wrong = "11WRONG9876543210fedcba"
    monkeypatch.setenv("JENKINS_TEST_TOKEN", wrong)
    summary = await sync(org_config(fake), Store(tmp_path / "b"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "401" in error and wrong not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build_org(fake_server)
    config = org_config(fake)
    source: Any = build_source(config.sources[0], config=config)
    assert await source.probe() == "4 jobs reachable"
    assert {r.query["tree"] for r in fake_server.log} == {"fullName"}


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
    jobs = "\n".join(f'"{job}" = "{repo}"' for job, repo in JOBS.items() if "sandbox" not in job)
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.ci]
kind = "jenkins"
api_url = "{fake.url}"
user = "{USER}"
token_env = "JENKINS_TEST_TOKEN"
deploy_jobs = ["*/deploy-*"]

[sources.ci.jobs]
{jobs}

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
    assert pay["deploys"] == 4 and pay["canary_share"] == pytest.approx(1.0)
    assert pay["ci_success_rate"] == pytest.approx(104 / 130)
    assert search["ci_success_rate"] == pytest.approx(1.0)
    assert TOKEN not in out


async def test_plan_before_a_first_sync_is_within_a_fifth_of_what_it_spends(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    config = replace(org_config(fake), history_days=30)  # the fake's history spans it
    request = ScoreRequest.resolve(now=NOW, window_days=7)
    cache = tmp_path / "cache"
    [estimate] = await plan(config, Store(cache, read_only=True), request, only="ci")
    assert estimate.error is None and estimate.requests is not None, estimate
    assert not cache.exists(), "a plan writes nothing"
    assert estimate.spent == 4  # one request per job a team owns
    assert {r.query["tree"] for r in fake_server.log} == {"allBuilds[timestamp]{0,100}"}
    assert estimate.rest is None  # Jenkins reports no rate limit
    store = Store(cache)
    await sync(config, store, request)
    spent = store.statuses()["ci"].stats.spent
    assert abs(estimate.requests - spent) <= 0.2 * spent, (estimate.requests, spent)
    # the newest 100 of the API job's 131 builds cover 16 of the 30 days
    assert "~199 builds" in estimate.basis, estimate.basis
