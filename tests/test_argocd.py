"""The argocd source: parsing checked against Argo CD's published swagger.json, syncs
against a fake Argo CD (whole lists, conditional requests, Rollouts, errors), and a
mixed org (Azure DevOps for CI and pull requests, Argo CD for deployments) end to
end to the export."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import argocd_records as records
from scorecard.sources.argocd import ArgoCDSource
from scorecard.sources.contract import FetchContext
from scorecard.store import Store
from scorecard.sync import sync
from tests.api_specs import load_spec, validate
from tests.fakes.argocd import FakeApp, FakeArgoCD
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TOKEN = "argocd-SENTINEL.eyJhbGciOiJIUzI1NiJ9.0123456789"
SHA = "0123456789abcdef0123456789abcdef01234567"


def definition(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


def check(name: str, payload: Any) -> None:
    spec = load_spec("argo-cd", "swagger.json")
    validate(spec, definition(name), payload)


def test_history_and_operations_become_deployments() -> None:
    app = FakeApp("payments-api", destination="payments")
    app.sync(SHA, NOW - 2 * DAY)
    app.sync("1.4.2", NOW - DAY)  # a Helm chart version, not a commit
    app.operate("Failed", "b" * 40, NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    body = app.body(10)
    check("v1alpha1Application", body)
    parsed = records.app_of(body)
    assert parsed is not None and parsed.key == "argocd/payments-api"
    fields = {
        "source": "argo",
        "team": "T",
        "service": "payments-api",
        "repo": "acme/deploy",
        "environment": "production",
    }
    history = records.history_deployments(body, parsed, after_id=None, **fields)
    assert [(h["status"], h["commit_sha"]) for h in history] == [
        ("success", SHA),
        ("success", None),
    ]
    assert history[0]["finished_at"] == NOW - 2 * DAY + timedelta(minutes=2)
    assert history[0]["started_at"] == NOW - 2 * DAY
    assert history[0]["id"] == "argocd/payments-api/syncs/2024-03-08T12:00:00Z"
    assert records.history_deployments(body, parsed, after_id=0, **fields)[0]["commit_sha"] is None
    failed = records.operation_deployment(body, parsed, **fields)
    assert failed is not None and failed["status"] == "failure"
    assert failed["finished_at"] == NOW - timedelta(hours=1)
    app.operate("Running", "c" * 40, NOW, None)
    running = records.operation_deployment(app.body(10), parsed, **fields)
    assert running is not None and running["status"] == "in_progress"
    assert running["finished_at"] is None and running["commit_sha"] == "c" * 40


def test_repo_urls_and_rollout_strategies() -> None:
    assert records.repo_path("https://github.com/acme/deploy.git") == "acme/deploy"
    assert records.repo_path("git@github.com:acme/deploy.git") == "acme/deploy"
    assert records.repo_path("https://gitlab.com/acme/sub/deploy") == "sub/deploy"
    assert (
        records.repo_path("https://dev.azure.com/fabrikam/Payments/_git/payments-api")
        == "Payments/payments-api"
    )
    assert records.repo_path("https://charts.bitnami.com") is None
    canary = FakeApp("a", rollout="canary").managed()
    blue = FakeApp("b", rollout="blueGreen").managed()
    check("applicationManagedResourcesResponse", canary)
    assert records.rollout_strategy(canary) == "canary"
    assert records.rollout_strategy(blue) == "blue_green"
    assert records.rollout_strategy({"items": [{"kind": "Rollout", "liveState": "{"}]}) is None


def build_argo(server: FakeServer) -> FakeArgoCD:
    fake = FakeArgoCD(server, TOKEN)
    pay = fake.app(
        "payments-api",
        destination="payments",
        rollout="canary",
        repo_url="https://github.com/acme/payments-api.git",
    )
    pay.sync("a" * 40, NOW - 400 * DAY)  # before the history asked for
    for k in range(3):
        pay.sync(f"{k + 1:040x}", NOW - (5 - k) * DAY)
    search = fake.app("search", destination="prod", labels={"env": "prod"})
    search.sync("d" * 40, NOW - 4 * DAY)
    search.operate("Failed", "e" * 40, NOW - 20 * HOUR, NOW - 20 * HOUR + timedelta(minutes=3))
    staging = fake.app("search-staging", destination="staging", labels={"env": "staging"})
    staging.sync("f" * 40, NOW - DAY)
    fake.app("infra-tools").sync("9" * 40, NOW - DAY)
    return fake


def argo_config(fake: FakeArgoCD, **options: Any) -> Config:
    source = source_config(
        name="argo",
        kind="argocd",
        api_url=fake.url,
        token_env="ARGO_TEST_TOKEN",
        timeout_s=5,
        options={"environment_label": "env", **options},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=("acme/payments-api",), services=("payments-api",)),
            TeamConfig(name="Search", services=("prod/search", "staging/search-staging")),
        ),
        sources=(source,),
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ARGO_TEST_TOKEN", TOKEN)
    return TOKEN


async def test_full_sync(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_argo(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(argo_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert any(
        "1 applications map to no team's services: argocd/infra-tools" in p
        for p in outcome.problems
    )
    frames = store.load()
    deployments = frames["deployments"].set_index("id")
    pay = deployments[deployments["service"] == "payments-api"]
    assert len(pay) == 3 and set(pay["strategy"]) == {"canary"}  # the Rollout's
    assert set(pay["team"]) == {"Payments"} and set(pay["repo"]) == {"acme/payments-api"}
    assert set(pay["environment"]) == {"production"} and set(pay["status"]) == {"success"}
    search = deployments[deployments["team"] == "Search"].sort_values("started_at")
    assert list(zip(search["service"], search["environment"], search["status"])) == [
        ("prod/search", "prod", "success"),
        ("staging/search-staging", "staging", "success"),
        ("prod/search", "prod", "failure"),  # the failed sync history does not keep
    ]
    assert search["repo"].iloc[0] == "acme/deploy"  # the GitOps repo no team lists
    rollouts = frames["rollouts"]
    assert set(rollouts["service"]) == {"payments-api"} and set(rollouts["strategy"]) == {"canary"}
    assert [r.path for r in fake_server.log].count("/api/v1/applications") == 1
    managed = [r for r in fake_server.log if r.path.endswith("/managed-resources")]
    assert [r.path for r in managed] == ["/api/v1/applications/payments-api/managed-resources"]
    assert managed[0].query == {"group": "argoproj.io", "kind": "Rollout", "appNamespace": "argocd"}
    for name, payload in fake.served:
        check(name, payload)


async def test_later_syncs_read_only_what_is_new(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_argo(fake_server)
    store = Store(tmp_path / "cache")
    config = argo_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=5)))
    assert [(r.path, r.status) for r in fake_server.log] == [("/api/v1/applications", 304)]
    assert len(store.load()["deployments"]) == 6

    pay = fake.apps["payments-api"]
    pay.operate("Running", "7" * 40, NOW + timedelta(hours=1), None)
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=1, minutes=1)))
    running = store.load()["deployments"].set_index("id")
    key = "argocd/payments-api/syncs/2024-03-10T13:00:00Z"
    assert running.loc[key, "status"] == "in_progress"
    assert not [r for r in fake_server.log if r.path.endswith("/managed-resources")]

    pay.history.append(
        {
            **pay.history[-1],
            "id": len(pay.history),
            "revision": "7" * 40,
            "deployStartedAt": "2024-03-10T13:00:00Z",
            "deployedAt": "2024-03-10T13:04:00Z",
        }
    )
    pay.operate(
        "Succeeded", "7" * 40, NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=4)
    )
    fake_server.log.clear()
    await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=2)))
    done = store.load()["deployments"].set_index("id")
    assert done.loc[key, "status"] == "success" and done.loc[key, "strategy"] == "canary"
    assert len(done) == 7  # the running sync became its history entry, not a second row
    assert len([r for r in fake_server.log if r.path.endswith("/managed-resources")]) == 1


async def test_retries_bad_answers_and_a_wrong_token(
    fake_server: FakeServer,
    token: str,
    tmp_path: Path,
    waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = build_argo(fake_server)
    fake_server.fault("/api/v1/applications", Reply(503), Reply(429, {}, {"Retry-After": "3"}))
    store = Store(tmp_path / "cache")
    summary = await sync(argo_config(fake), store, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].last_error is None and summary.outcomes[0].stats.retries == 2
    assert 3.0 in waits
    fake_server.fault("/api/v1/applications/payments-api/managed-resources", Reply(404, {}))
    fake.apps["payments-api"].sync("8" * 40, NOW + timedelta(hours=1))
    summary = await sync(argo_config(fake), store, ScoreRequest.resolve(now=NOW + 2 * HOUR))
    assert any("rollout strategy unavailable" in p for p in summary.outcomes[0].problems)
    fake_server.fault("/api/v1/applications", Reply(200, b'{"items": ['))
    summary = await sync(argo_config(fake), store, ScoreRequest.resolve(now=NOW + DAY))
    outcome = summary.outcomes[0]
    assert not outcome.complete and outcome.stats.malformed == 1
    assert len(store.load()["deployments"]) == 7  # the cache stays
    monkeypatch.setenv("ARGO_TEST_TOKEN", "wrong-SENTINEL-token")
    summary = await sync(argo_config(fake), store, ScoreRequest.resolve(now=NOW + 2 * DAY))
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "SENTINEL" not in error


async def test_probe_and_plan(fake_server: FakeServer, token: str, tmp_path: Path) -> None:
    fake = build_argo(fake_server)
    config = argo_config(fake, projects=["default"])
    source = ArgoCDSource(config.sources[0], config=config)
    assert await source.probe() == "4 applications readable, 3 mapped to teams"
    assert fake_server.log[-1].query == {"projects": "default"}
    plan = await source.plan(FetchContext(since=NOW - 180 * DAY, until=NOW))
    summary = await sync(config, Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    assert plan.requests == summary.outcomes[0].stats.requests == 2
    assert "~7 deployments" in plan.basis  # the one before the history start included


def test_mixed_org_azure_devops_and_argo_cd_end_to_end(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CI runs and pull requests from Azure DevOps, deployments from Argo CD: one config,
    one team's lead time, deploys, CI success and change failure rate."""
    from scorecard import cli
    from tests.fakes.azure_devops import ORG, FakeAzureDevOps

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    monkeypatch.setenv("ARGO_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("AZDO_TEST_TOKEN", "azdo-SENTINEL-pat")
    now = datetime.now(UTC).replace(microsecond=0)
    azure = FakeAzureDevOps(fake_server, "azdo-SENTINEL-pat")
    project = azure.project("Payments")
    repo = project.repo("payments-api")
    for i in range(10):
        project.build(100 + i, repo, now - (i + 1) * DAY, result="failed" if i < 1 else "succeeded")
    repo.pull(1, now - 5 * DAY, now - 6 * DAY)  # shipped by the sync 4 days ago
    argo = FakeArgoCD(fake_server, TOKEN)
    app = argo.app(
        "payments-api",
        destination="payments",
        rollout="canary",
        repo_url=f"https://dev.azure.com/{ORG}/Payments/_git/payments-api",
    )
    for days in (8, 4, 2):
        app.sync(f"{days:040x}", now - days * DAY, minutes=0)
    app.operate("Failed", "f" * 40, now - DAY, now - DAY + timedelta(minutes=2))
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.azdo]
kind = "azure-devops"
api_url = "{azure.url}"
organization = "{ORG}"
projects = ["Payments"]
token_env = "AZDO_TEST_TOKEN"

[sources.argo]
kind = "argocd"
api_url = "{argo.url}"
token_env = "ARGO_TEST_TOKEN"

[[teams]]
name = "Payments"
repos = ["Payments/payments-api"]
services = ["payments-api"]
""",
        encoding="utf-8",
    )
    assert cli.main(["sync", "--config", str(config)]) == 0
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "SENTINEL" not in out + err
    row = next(r for r in json.loads(out)["rows"] if r["team"] == "Payments")
    assert row["deploys"] == 3 and row["canary_share"] == pytest.approx(1.0)
    assert row["change_failure_rate"] == pytest.approx(1 / 4)
    assert row["ci_success_rate"] == pytest.approx(0.9)
    assert row["lead_time_p50_hours"] == pytest.approx(6 * 24 - 4 * 24)  # first commit -> sync
