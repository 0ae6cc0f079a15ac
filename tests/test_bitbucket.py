"""The bitbucket source: parsing and syncs against a fake Bitbucket Cloud (``next``
URLs in the page body, retries, auth), end to end to the export.

Bitbucket publishes its OpenAPI description only on its own site and no copy of
verifiable origin was found (``../shared/data/api-specs/bitbucket/NOTICE.md``),
so the payloads here follow the shapes of the API reference's examples."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import bitbucket
from scorecard.sources.contract import FetchContext
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.bitbucket import FakeBitbucket, FakeRepo
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TOKEN = "ATBB-SENTINEL0123456789abcdefghijklmnop"
USER = "ci-bot"


def test_deployment_pipeline_and_pull_request_parsing() -> None:
    repo = FakeRepo("acme/api")
    env = repo.environment(1, "Production")
    repo.deploy(1, env, "a" * 40, NOW, status="FAILED")
    repo.deploy(2, env, "b" * 40, NOW, state="IN_PROGRESS")
    repo.deploy(3, env, "c" * 40, NOW, state="UNDEPLOYED")
    repo.deploy(4, env, "d" * 40, NOW, status="STOPPED")
    parsed = [
        bitbucket.deployment_record(d, repo="acme/api", team="T", source="bb", environment="prod")
        for d in repo.deployments
    ]
    assert [p["status"] if p else None for p in parsed] == [
        "failure",
        "in_progress",
        None,
        "cancelled",
    ]
    failed, running = parsed[0], parsed[1]
    assert failed is not None and running is not None
    assert failed["id"] == "acme/api/deployments/00000002-0000-4000-8000-000000000001"
    assert failed["finished_at"] == NOW + timedelta(minutes=5) and failed["commit_sha"] == "a" * 40
    assert running["finished_at"] is None and failed["service"] == "api"

    repo.pipeline(7, NOW, result="ERROR")
    repo.pipeline(8, NOW, result=None)
    repo.pipeline(9, NOW, result="EXPIRED")
    runs = [
        bitbucket.pipeline_record(p, repo="acme/api", team="T", source="bb") for p in repo.pipelines
    ]
    assert [(r["conclusion"], r["pending"]) for r in runs if r] == [
        ("failure", False),
        (None, True),
        ("other", False),
    ]
    assert runs[0] is not None and runs[0]["finished_at"] == NOW + timedelta(minutes=7)

    repo.pull(5, NOW, NOW - 2 * DAY)
    repo.pull(6, NOW, NOW - DAY, state="DECLINED")
    changes = [
        bitbucket.change_record(p, repo="acme/api", team="T", source="bb") for p in repo.pulls
    ]
    assert changes[1] is None and changes[0] is not None
    assert changes[0]["merged_at"] == NOW and changes[0]["merge_sha"] == f"{5:012x}"
    assert bitbucket.first_commit_time(repo.commits[5]) == NOW - 2 * DAY


def build_org(server: FakeServer, username: str | None = USER) -> FakeBitbucket:
    fake = FakeBitbucket(server, TOKEN, username)
    api = fake.repo("acme/payments-api")
    prod = api.environment(1, "Production")
    canary = api.environment(2, "production-canary")
    staging = api.environment(3, "Staging", kind="Staging")
    api.deploy(1, canary, "a" * 40, NOW - 5 * DAY)
    api.deploy(2, prod, "a" * 40, NOW - 5 * DAY + timedelta(hours=1))
    api.deploy(3, prod, "b" * 40, NOW - 3 * DAY, status="FAILED")
    api.deploy(4, staging, "c" * 40, NOW - 2 * DAY)
    api.deploy(5, prod, "d" * 40, NOW - DAY, state="IN_PROGRESS")
    api.deploy(6, prod, "e" * 40, NOW - DAY, state="UNDEPLOYED")
    api.deploy(7, prod, "f" * 40, NOW - 2 * DAY, release="Rollback to #2")
    for i in range(250):
        api.pipeline(
            100 + i,
            NOW - timedelta(hours=2 + 10 * i),
            result="FAILED" if i % 5 == 0 else "SUCCESSFUL",
        )
    api.pipeline(900, NOW - DAY, branch="feature/x")
    api.pipeline(901, NOW - timedelta(minutes=30), result=None)
    api.pull(7, NOW - 4 * DAY, NOW - 6 * DAY)
    api.pull(8, NOW - 2 * DAY, NOW - 2 * DAY - timedelta(hours=5), title='Revert "x"', commits=120)
    api.pull(9, NOW - DAY, NOW - 2 * DAY, state="DECLINED")
    web = fake.repo("acme/web", mainbranch="trunk")
    web.environment(1, "live", kind="Production")
    web.deploy(1, web.environments[0]["uuid"], "9" * 40, NOW - DAY)
    web.pipeline(1, NOW - DAY)
    return fake


def org_config(fake: FakeBitbucket, **options: Any) -> Config:
    source = source_config(
        name="bb",
        kind="bitbucket",
        api_url=fake.url,
        token_env="BB_TEST_TOKEN",
        timeout_s=5,
        options={"workspace": "acme", "username": fake.username, **options},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=("acme/payments-api",)),
            TeamConfig(name="Web", repos=("acme/web", "other-workspace/site")),
        ),
        sources=(source,),
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BB_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    keys = [(r.path, tuple(sorted(r.query.items()))) for r in fake_server.log]
    assert len(keys) == len(set(keys)), [k for k, n in Counter(keys).items() if n > 1]
    assert not any("other-workspace" in r.path for r in fake_server.log)

    frames = store.load()
    deployments = frames["deployments"].set_index("id")
    by_number = {
        n: f"acme/payments-api/deployments/00000002-0000-4000-8000-{n:012x}" for n in range(8)
    }
    assert sorted(deployments.index) == sorted(
        [by_number[n] for n in (1, 2, 3, 5, 7)]
        + ["acme/web/deployments/00000002-0000-4000-8000-000000000001"]
    )
    assert deployments.loc[by_number[2], "environment"] == "Production"
    assert deployments.loc[by_number[2], "strategy"] == "canary"
    assert deployments.loc[by_number[1], "environment"] == "production-canary"
    assert deployments.loc[by_number[3], "status"] == "failure"
    assert deployments.loc[by_number[5], "status"] == "in_progress"
    assert deployments.loc[by_number[7], "is_rollback"]
    assert (
        deployments.loc["acme/web/deployments/00000002-0000-4000-8000-000000000001", "environment"]
        == "live"
    )

    runs = frames["ci_runs"]
    api_runs = runs[runs["repo"] == "acme/payments-api"]
    assert len(api_runs) == 250 and (api_runs["conclusion"] == "failure").sum() == 50
    pages = [
        r for r in fake_server.log if r.path == "/2.0/repositories/acme/payments-api/pipelines/"
    ]
    assert len(pages) == 3  # next URLs followed to the end of the range
    assert set(runs[runs["repo"] == "acme/web"]["team"]) == {"Web"}

    changes = frames["changes"].set_index("id")
    assert sorted(changes.index) == [
        "acme/payments-api/pullrequests/7",
        "acme/payments-api/pullrequests/8",
    ]
    assert changes.loc["acme/payments-api/pullrequests/7", "first_commit_at"] == NOW - 6 * DAY
    first = changes.loc["acme/payments-api/pullrequests/8", "first_commit_at"]
    assert first == NOW - 2 * DAY - timedelta(hours=5)  # two pages of commits
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake_server.log)


async def test_an_access_token_goes_as_a_bearer_token(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server, username=None)
    summary = await sync(org_config(fake), Store(tmp_path / "c"), ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].last_error is None
    assert fake_server.log[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_later_syncs_read_the_first_pages_and_merge(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)))
    # Per repo: the repo (304), its environments, each production or canary environment's
    # deployments, the pipelines and the merged pull requests: one page each.
    assert len(fake_server.log) == (1 + 1 + 2 + 1 + 1) + (1 + 1 + 1 + 1 + 1)
    assert fake_server.log[0].status == 304

    api = fake.repos["acme/payments-api"]
    api.pipelines[-1]["state"] = {
        "type": "pipeline_state_completed",
        "name": "COMPLETED",
        "result": {"name": "FAILED"},
    }
    api.pipelines[-1]["completed_on"] = "2024-03-10T12:20:00+00:00"
    api.pull(10, NOW + timedelta(hours=1), NOW - DAY)
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=2)))
    frames = store.load()
    runs = frames["ci_runs"].set_index("id")
    assert runs.loc["acme/payments-api/pipelines/901", "conclusion"] == "failure"
    assert "acme/payments-api/pullrequests/10" in set(frames["changes"]["id"])
    assert len(frames["changes"]) == 3


async def test_rate_limits_server_errors_bad_json_and_unknown_repos(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build_org(fake_server)
    fake.repos.pop("acme/web")
    base = "/2.0/repositories/acme/payments-api"
    fake_server.fault(
        f"{base}/pipelines/", Reply(429, error_body("Rate limit exceeded")), Reply(500)
    )
    fake_server.fault(f"{base}/pullrequests", Reply(200, b"<html>oops</html>"))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.retries == 2 and outcome.stats.malformed == 1
    assert any("acme/web" in p and "404" in p for p in outcome.problems)
    assert any("malformed page was skipped" in p for p in outcome.problems)
    frames = store.load()
    assert (len(frames["ci_runs"]) == 250 and "changes" not in frames) or frames["changes"].empty


def error_body(message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"message": message}}


async def test_a_wrong_password_fails_the_source_without_showing_it(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    monkeypatch.setenv("BB_TEST_TOKEN", "wrong-SENTINEL-app-password")
    summary = await sync(org_config(fake), Store(tmp_path / "c"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "SENTINEL" not in error


async def test_probe_and_plan(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_org(fake_server)
    config = org_config(fake)
    source = bitbucket.BitbucketSource(config.sources[0], config=config)
    assert await source.probe() == "2 repos reachable"
    estimate = await source.plan(FetchContext(since=NOW - 180 * DAY, until=NOW))
    assert estimate.requests is not None
    summary = await sync(config, Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    spent = summary.outcomes[0].stats.requests
    assert abs(estimate.requests - spent) <= 0.2 * spent, (estimate.requests, spent)
    # The first 100 pipelines cover 41 days, extrapolated to 180 (the fake's history is
    # shorter, so the estimate errs high), plus web's one.
    assert "~441 pipelines" in estimate.basis and "~2 pull requests" in estimate.basis


def test_sync_then_export(
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
    fake = FakeBitbucket(fake_server, TOKEN, USER)
    api = fake.repo("acme/payments-api")
    prod = api.environment(1, "Production")
    for n, (days, status) in enumerate([(9, "SUCCESSFUL"), (6, "FAILED"), (3, "SUCCESSFUL")], 1):
        api.deploy(n, prod, f"{n:040x}", now - days * DAY, status=status)
    for i in range(10):
        api.pipeline(10 + i, now - (i + 1) * DAY, result="FAILED" if i < 2 else "SUCCESSFUL")
    api.pull(1, now - 4 * DAY, now - 4 * DAY - timedelta(hours=20))  # shipped by deploy 3
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.bb]
kind = "bitbucket"
api_url = "{fake.url}"
workspace = "acme"
username = "{USER}"
token_env = "BB_TEST_TOKEN"

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]
""",
        encoding="utf-8",
    )
    assert cli.main(["sync", "--config", str(config)]) == 0
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert TOKEN not in out + err
    row = next(r for r in json.loads(out)["rows"] if r["team"] == "Payments")
    assert row["deploys"] == 2
    assert row["change_failure_rate"] == pytest.approx(1 / 3)
    assert row["ci_success_rate"] == pytest.approx(0.8)
    # From the first commit to deploy 3 finishing (5 minutes after it started).
    assert row["lead_time_p50_hours"] == pytest.approx(20 + 24 + 5 / 60)
