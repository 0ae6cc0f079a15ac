"""The gitlab source: parsing and syncs against a fake GitLab (x-next-page, 304s, retries)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import gitlab
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.server import FakeServer, Reply, Request
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
TOKEN = "glpat-SENTINEL0123456789abcdef"
DAY = timedelta(days=1)

# The response example of "List project deployments" in GitLab's API docs (trimmed).
DOCS_DEPLOYMENT: dict[str, Any] = {
    "created_at": "2016-08-11T07:36:40.222Z",
    "updated_at": "2016-08-11T07:38:12.414Z",
    "status": "success",
    "deployable": {
        "commit": {
            "id": "99d03678b90d914dbb1b109132516d71a4a03ea8",
            "title": "Merge branch 'new-title' into 'main'",
        },
        "created_at": "2016-08-11T07:36:27.357Z",
        "finished_at": "2016-08-11T07:36:39.851Z",
        "id": 657,
        "name": "deploy",
        "ref": "main",
        "stage": "deploy",
        "started_at": None,
        "status": "success",
        "web_url": "https://gitlab.example.com/root/project/-/jobs/657",
    },
    "environment": {"id": 9, "name": "production", "external_url": "https://about.gitlab.com"},
    "id": 41,
    "iid": 1,
    "ref": "main",
    "sha": "99d03678b90d914dbb1b109132516d71a4a03ea8",
}


def test_deployment_parsing() -> None:
    record = gitlab.deployment_record(DOCS_DEPLOYMENT, repo="root/project", team="T", source="gl")
    assert record is not None
    assert record["id"] == "root/project/deployments/41"
    assert record["environment"] == "production" and record["status"] == "success"
    assert record["finished_at"] == datetime(2016, 8, 11, 7, 36, 39, 851000, tzinfo=UTC)
    assert record["started_at"] == datetime(2016, 8, 11, 7, 36, 40, 222000, tzinfo=UTC)
    assert record["commit_sha"] == DOCS_DEPLOYMENT["sha"]
    no_job_finish = {**DOCS_DEPLOYMENT, "deployable": {"status": "success"}}
    record = gitlab.deployment_record(no_job_finish, repo="root/project", team="T", source="gl")
    assert record is not None
    assert record["finished_at"] == datetime(2016, 8, 11, 7, 38, 12, 414000, tzinfo=UTC)
    running = {**DOCS_DEPLOYMENT, "status": "running"}
    record = gitlab.deployment_record(running, repo="root/project", team="T", source="gl")
    assert record is not None and record["status"] == "in_progress"
    assert record["finished_at"] is None
    assert (
        gitlab.deployment_record(
            {**DOCS_DEPLOYMENT, "status": "weird"}, repo="r", team=None, source="gl"
        )
        is None
    )


def test_pipeline_and_merge_request_parsing() -> None:
    pipeline = {
        "id": 46,
        "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
        "ref": "main",
        "status": "failed",
        "created_at": "2016-08-11T11:28:34.085Z",
        "updated_at": "2016-08-11T11:32:35.169Z",
    }
    record = gitlab.pipeline_record(pipeline, repo="g/p", team="T", source="gl")
    assert record is not None and record["conclusion"] == "failure" and not record["pending"]
    assert record["finished_at"] == datetime(2016, 8, 11, 11, 32, 35, 169000, tzinfo=UTC)
    running = gitlab.pipeline_record(
        {**pipeline, "status": "running"}, repo="g/p", team="T", source="gl"
    )
    assert running is not None and running["pending"]
    mr = {
        "iid": 1,
        "title": "t",
        "merged_at": "2018-09-07T11:16:17.520Z",
        "labels": ["a", "b"],
        "merge_commit_sha": "abc",
    }
    change = gitlab.change_record(mr, repo="g/p", team="T", source="gl")
    assert change is not None and change["labels"] == ["a", "b"] and change["merge_sha"] == "abc"
    commits = [{"authored_date": "2018-09-03T10:00:00Z"}, {"authored_date": "2018-09-01T10:00:00Z"}]
    assert gitlab.first_commit_time(commits) == datetime(2018, 9, 1, 10, tzinfo=UTC)
    assert gitlab.project_id("acme/sub/api") == "acme%2Fsub%2Fapi"


def build_org(server: FakeServer) -> FakeGitLab:
    fake = FakeGitLab(server)
    pay = fake.project("acme/payments-api")
    pay.deploy(1, "a" * 40, "canary", NOW - 5 * DAY)
    pay.deploy(2, "a" * 40, "production", NOW - 5 * DAY + timedelta(hours=1))
    pay.deploy(3, "b" * 40, "production", NOW - 3 * DAY, status="failed", minutes=3)
    pay.deploy(4, "c" * 40, "staging", NOW - 2 * DAY)  # not a production environment
    pay.deploy(5, "d" * 40, "production", NOW - DAY, status="running", minutes=None)
    for i in range(250):
        pay.pipeline(
            100 + i, NOW - timedelta(hours=2 + 10 * i), status="failed" if i % 5 == 0 else "success"
        )
    pay.pipeline(900, NOW - DAY, ref="feature")
    pay.pipeline(901, NOW - timedelta(minutes=30), status="running")
    pay.merge_request(7, NOW - 4 * DAY, NOW - 6 * DAY)
    pay.merge_request(8, NOW - 2 * DAY, NOW - 2 * DAY - timedelta(hours=5), title='Revert "x"')
    ops = fake.project("acme/platform/ops", default_branch="trunk")
    ops.pipeline(5, NOW - DAY, ref="trunk")
    ops.jobs = [
        {
            "id": 70 + i,
            "name": "deploy-prod" if i % 2 == 0 else "test",
            "ref": "trunk",
            "status": "success",
            "created_at": (NOW - (i + 1) * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "started_at": (NOW - (i + 1) * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished_at": (NOW - (i + 1) * DAY + timedelta(minutes=9)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "commit": {"id": f"{i:040x}", "title": "ship"},
        }
        for i in range(4)
    ]
    return fake


def org_config(fake: FakeGitLab, **options: Any) -> Config:
    source = source_config(
        name="gl",
        kind="gitlab",
        api_url=fake.url,
        token_env="GL_TEST_TOKEN",
        timeout_s=5,
        options={"deploy_jobs": ["deploy-*"], **options},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=("acme/payments-api",)),
            TeamConfig(name="Platform", repos=("acme/platform/ops",)),
        ),
        sources=(source,),
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GL_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    keys = [(r.path, tuple(sorted(r.query.items()))) for r in fake_server.log]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert all(r.headers["private-token"] == token for r in fake_server.log)
    assert "authorization" not in fake_server.log[0].headers
    assert any(r.path == "/api/v4/projects/acme%2Fplatform%2Fops" for r in fake_server.log)

    frames = store.load()
    deployments = frames["deployments"].set_index("id")
    assert sorted(deployments.index) == [
        "acme/payments-api/deployments/1",
        "acme/payments-api/deployments/2",
        "acme/payments-api/deployments/3",
        "acme/payments-api/deployments/5",
        "acme/platform/ops/jobs/70",
        "acme/platform/ops/jobs/72",
    ]
    assert deployments.loc["acme/payments-api/deployments/2", "strategy"] == "canary"
    assert deployments.loc["acme/payments-api/deployments/3", "status"] == "failure"
    assert deployments.loc["acme/payments-api/deployments/5", "status"] == "in_progress"
    assert deployments.loc["acme/platform/ops/jobs/70", "environment"] == "production"
    assert deployments.loc["acme/platform/ops/jobs/70", "team"] == "Platform"

    runs = frames["ci_runs"]
    pay_runs = runs[runs["repo"] == "acme/payments-api"]
    assert len(pay_runs) == 250 and pay_runs["is_default_branch"].all()  # 3 pages of 100
    assert (pay_runs["conclusion"] == "failure").sum() == 50
    assert len(fake_server.requests("/api/v4/projects/acme%2Fpayments-api/pipelines")) == 3

    changes = frames["changes"].set_index("id")
    assert changes.loc["acme/payments-api/merge_requests/7", "first_commit_at"] == NOW - 6 * DAY
    assert changes.loc["acme/payments-api/merge_requests/7", "merge_sha"] == f"{7:040x}"
    status = store.statuses()["gl"]
    assert status.stats.rate_limit_remaining == 1990
    assert status.stats.items["ci_runs"] >= 250


async def test_unchanged_resync_is_only_304s_and_new_items_merge(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    fake_server.log.clear()
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=5)))
    assert summary.outcomes[0].last_error is None
    assert fake_server.log and all(r.conditional and r.status == 304 for r in fake_server.log)
    assert len(store.load()["ci_runs"]) == 251

    pay = fake.projects["acme/payments-api"]
    pay.merge_request(9, NOW + timedelta(hours=1), NOW - DAY)
    pay.pipeline(950, NOW + timedelta(hours=1))
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=3)))
    frames = store.load()
    assert "acme/payments-api/merge_requests/9" in set(frames["changes"]["id"])
    assert len(frames["changes"]) == 3 and len(frames["ci_runs"]) == 252
    assert len(fake_server.log) < 15


async def test_retries_rate_limits_loops_and_bad_json(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    base = "/api/v4/projects/acme%2Fpayments-api"
    fake_server.fault(f"{base}/deployments", Reply(429, {}, {"Retry-After": "1"}), Reply(503))
    fake_server.fault(f"{base}/merge_requests", Reply(200, b"[{"))

    def stuck(request: Request, server: FakeServer) -> Reply:
        return Reply(200, [], {"x-next-page": "1"})

    fake_server.routes.insert(
        0, (lambda p: p == "/api/v4/projects/acme%2Fplatform%2Fops/jobs", stuck)
    )
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.retries == 2 and waits[0] == 1.0
    assert outcome.stats.malformed == 1 and outcome.skipped >= 1
    assert any("loop" in p for p in outcome.problems)
    frames = store.load()
    assert len(frames["deployments"]) == 4  # payments' deployments arrived after the retries
    assert len(frames["ci_runs"]) == 251


async def test_merge_request_paths_for_path_change_classes(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    from scorecard.config import ChangeClassConfig

    fake = build_org(fake_server)
    fake.projects["acme/payments-api"].diffs[7] = [
        {"old_path": "prompts/old.txt", "new_path": "prompts/rank.txt"},
        {"old_path": "src/a.rb", "new_path": "src/a.rb"},
    ]
    config = replace(
        org_config(fake), change_classes=(ChangeClassConfig(name="ai", paths=("prompts/**",)),)
    )
    store = Store(tmp_path / "cache")
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    changes = store.load()["changes"].set_index("id")
    assert changes.loc["acme/payments-api/merge_requests/7", "paths"] == [
        "prompts/rank.txt",
        "prompts/old.txt",
        "src/a.rb",
    ]
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)))
    assert not [r for r in fake_server.log if r.path.endswith("/diffs")]  # cached once merged
