"""End to end: a config with pagerduty + codecov + files sources -> `scorecard sync` ->
`scorecard export`, against fake PagerDuty and Codecov APIs on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.fakes.codecov import FakeCodecov, days_back
from tests.fakes.pagerduty import FakePagerDuty, incident
from tests.fakes.server import FakeServer

UTC = timezone.utc
PD_TOKEN = "u+PDSENTINEL-e2e-0123456789"
COV_TOKEN = "codecov-SENTINEL-e2e-0123456789"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_sync_then_export_gives_failure_rate_recovery_and_coverage(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scorecard import cli

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    monkeypatch.setenv("PD_E2E_TOKEN", PD_TOKEN)
    monkeypatch.setenv("COV_E2E_TOKEN", COV_TOKEN)
    now = datetime.now(UTC).replace(microsecond=0)
    day, hour = timedelta(days=1), timedelta(hours=1)

    # Deployments come from a files export.
    exports = tmp_path / "exports"
    exports.mkdir()
    rows = [
        ("pay-1", "payments-api", "acme/payments-api", "success", now - 7 * day),
        ("pay-2", "payments-api", "acme/payments-api", "success", now - 5 * day),
        ("pay-3", "payments-api", "acme/payments-api", "success", now - 3 * day),
        ("pay-4", "payments-api", "acme/payments-api", "failure", now - 2 * day),
        ("pay-5", "payments-api", "acme/payments-api", "success", now - 1 * day),
        ("srch-1", "search", "acme/search", "success", now - 6 * day),
        ("srch-2", "search", "acme/search", "success", now - 2 * day),
    ]
    lines = ["id,service,repo,environment,status,started_at,finished_at"]
    for ident, service, repo, status, at in rows:
        lines.append(f"{ident},{service},{repo},production,{status},{iso(at - hour)},{iso(at)}")
    (exports / "deployments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # Incidents from PagerDuty.
    pd = FakePagerDuty(fake_server)
    pd.incidents += [
        # 2 h after pay-2: linked by the time rule; resolved after 2 h.
        incident("PINC1", now - 5 * day + 2 * hour, resolved=now - 5 * day + 4 * hour),
        # Names pay-3 (two days old, beyond the 24 h time rule): linked explicitly; 4 h.
        incident(
            "PINC2",
            now - day + hour,
            title="Refund errors after deploy pay-3",
            resolved=now - day + 5 * hour,
            priority="P1",
        ),
        # Search: no deploy in the 24 h before it; resolved after 1 h.
        incident(
            "PINC3",
            now - 4 * day,
            service=("PSVC002", "search"),
            resolved=now - 4 * day + hour,
            urgency="low",
        ),
        # Still open: counted, not in recovery time.
        incident("PINC4", now - 2 * hour, service=("PSVC002", "search"), status="triggered"),
    ]

    # Coverage from Codecov.
    cov = FakeCodecov(fake_server)
    api = cov.repo("acme/payments-api", coverage=82.5, updated=now - hour)
    web = cov.repo("acme/payments-web", coverage=70.0, updated=now - 2 * hour)
    search = cov.repo("acme/search", coverage=None)
    for k, start in enumerate(days_back(now, 90)):
        api.daily[start] = 85.0
        web.daily[start] = 70.0
        search.daily[start] = 88.0 + (2.0 if k == 89 else 0.0)

    config = tmp_path / "scorecard.toml"
    config.write_text(
        f"""
[scorecard]
org = "Acme"

[sources.pd]
kind = "pagerduty"
api_url = "{fake_server.url}"
token_env = "PD_E2E_TOKEN"
deployment_link_pattern = 'deploy (pay-\\d+)'

[sources.cov]
kind = "codecov"
api_url = "{fake_server.url}"
token_env = "COV_E2E_TOKEN"
service = "github"

[sources.local]
kind = "files"
path = "exports/"

[[teams]]
name = "Payments"
repos = ["acme/payments-api"]
services = ["payments-api"]
pagerduty_services = ["PSVC001"]
coverage_repos = ["acme/payments-web"]

[[teams]]
name = "Search"
repos = ["acme/search"]
services = ["search"]
pagerduty_services = ["PSVC002"]
""",
        encoding="utf-8",
    )
    assert cli.main(["sync", "--config", str(config)]) == 0
    _out, err = capsys.readouterr()
    assert "pd" in err and "cov" in err
    assert PD_TOKEN not in err and COV_TOKEN not in err

    code = cli.main(["export", "--config", str(config), "--offline", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = {row["team"]: row for row in json.loads(out)["rows"]}
    pay, srch = result["Payments"], result["Search"]
    # Payments: 4 successful + 1 failed deploy; pay-2 (time rule) and pay-3 (explicit)
    # have incidents: (1 + 2) / 5.
    assert pay["change_failure_rate"] == pytest.approx(0.6)
    assert pay["recovery_time_p50_hours"] == pytest.approx(3.0)  # median of 2 h and 4 h
    assert pay["incidents"] == 2 and pay["incidents_sev1_2"] == 2
    assert pay["coverage_pct"] == pytest.approx((82.5 + 70.0) / 2)
    assert srch["change_failure_rate"] == pytest.approx(0.0)
    assert srch["recovery_time_p50_hours"] == pytest.approx(1.0)
    assert srch["incidents"] == 2 and srch["incidents_open"] == 1
    assert srch["coverage_pct"] == pytest.approx(90.0)  # the newest daily bucket
    assert PD_TOKEN not in out and COV_TOKEN not in out

    code = cli.main(
        ["export", "--config", str(config), "--offline", "--detail", "incidents", "--format", "csv"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    detail = {row["id"]: row for row in csv.DictReader(io.StringIO(out))}
    assert detail["PINC1"]["link_rule"] == "time" and detail["PINC1"]["deployment_id"] == "pay-2"
    assert detail["PINC2"]["link_rule"] == "explicit"
    assert detail["PINC2"]["deployment_id"] == "pay-3"
    assert detail["PINC3"]["link_rule"] == "" and detail["PINC3"]["team"] == "Search"
    assert detail["PINC2"]["severity"] == "sev1" and detail["PINC3"]["severity"] == "sev4"
