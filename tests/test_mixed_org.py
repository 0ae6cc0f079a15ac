"""One org on three systems in one config: GitHub (Search's repo, deployments and pull
requests through GraphQL), Azure DevOps (Payments' CI and pull requests) and Argo CD
(Payments' deployments). Each team is scored from its own systems, and GitHub
reads only its owners' repos (``owners``), not Azure DevOps' ``project/repo``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scorecard import cli
from tests.fakes.argocd import FakeArgoCD
from tests.fakes.azure_devops import ORG, FakeAzureDevOps
from tests.fakes.github import FakeGitHub
from tests.fakes.github_graphql import require_schema
from tests.fakes.server import FakeServer

UTC = timezone.utc
DAY = timedelta(days=1)
ARGO = "argocd-SENTINEL.eyJhbGciOiJIUzI1NiJ9.mixed"
AZDO = "azdo-SENTINEL-mixed"
GITHUB = "ghp_SENTINELmixed0123456789abcdefgh"


def build(server: FakeServer, now: datetime) -> dict[str, str]:
    """The three fakes; the config's source sections."""
    azure = FakeAzureDevOps(server, AZDO)
    project = azure.project("Payments")
    repo = project.repo("payments-api")
    for i in range(10):
        project.build(100 + i, repo, now - (i + 1) * DAY, result="failed" if i < 1 else "succeeded")
    repo.pull(1, now - 5 * DAY, now - 6 * DAY)
    argo = FakeArgoCD(server, ARGO)
    app = argo.app(
        "payments-api",
        destination="payments",
        rollout="canary",
        repo_url=f"https://dev.azure.com/{ORG}/Payments/_git/payments-api",
    )
    for days in (8, 4, 2):
        app.sync(f"{days:040x}", now - days * DAY, minutes=0)
    app.operate("Failed", "f" * 40, now - DAY, now - DAY + timedelta(minutes=2))

    github = FakeGitHub(server)
    search = github.repo("acme/search")
    for n in range(1, 5):
        merged = now - (10 - 2 * n) * DAY
        search.commit(f"{n:040x}", merged)
        search.pull(n, merged, merged - timedelta(hours=10), merge_sha=f"{n:040x}")
        at = merged + timedelta(hours=2)
        search.deploy(n, f"{n:040x}", "production", at, [("success", at + timedelta(minutes=5))])
    for i in range(20):
        conclusion = "failure" if i % 4 == 0 else "success"
        search.run(500 + i, now - (i + 1) * DAY / 2, conclusion=conclusion)
    return {"url": server.url}


def test_github_azure_devops_and_argo_cd_in_one_config(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_schema()
    for name, value in (("ARGO_TOKEN", ARGO), ("AZDO_TOKEN", AZDO), ("GH_TOKEN_MIXED", GITHUB)):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    now = datetime.now(UTC).replace(microsecond=0)
    url = build(fake_server, now)["url"]
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[sources.gh]
kind = "github"
api_url = "{url}"
token_env = "GH_TOKEN_MIXED"
owners = ["acme"]

[sources.azdo]
kind = "azure-devops"
api_url = "{url}"
organization = "{ORG}"
projects = ["Payments"]
token_env = "AZDO_TOKEN"

[sources.argo]
kind = "argocd"
api_url = "{url}"
token_env = "ARGO_TOKEN"

[[teams]]
name = "Payments"
repos = ["Payments/payments-api"]
services = ["payments-api"]

[[teams]]
name = "Search"
repos = ["acme/search"]
""",
        encoding="utf-8",
    )
    assert cli.main(["sync", "--config", str(config)]) == 0, capsys.readouterr().err
    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "SENTINEL" not in out + err
    rows = {r["team"]: r for r in json.loads(out)["rows"]}
    payments, search = rows["Payments"], rows["Search"]
    assert payments["deploys"] == 3 and payments["canary_share"] == pytest.approx(1.0)
    assert payments["change_failure_rate"] == pytest.approx(1 / 4)
    assert payments["ci_success_rate"] == pytest.approx(0.9)
    assert search["deploys"] == 4 and search["change_failure_rate"] == pytest.approx(0.0)
    assert search["ci_success_rate"] == pytest.approx(15 / 20)
    assert search["lead_time_p50_hours"] == pytest.approx(12 + 5 / 60)  # contained: own deploy
    github_paths = [r.path for r in fake_server.log if r.path.startswith("/repos/")]
    assert github_paths and all(p.startswith("/repos/acme/search") for p in github_paths)
