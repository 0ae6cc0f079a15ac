"""The alertmanager source against a real Alertmanager (Debian `prometheus-alertmanager`).

Alerts are posted to the server's own ``POST /api/v2/alerts`` (what Prometheus
does) and a silence through ``POST /api/v2/silences``; the source then reads
``GET /api/v2/alerts``. Without the binary the tests skip with the reason (and
fail under ``CI=true``). Errors are checked against a local fake server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard import service, sync
from scorecard.config import Config, parse_config
from scorecard.errors import SourceError
from scorecard.request import ScoreRequest
from scorecard.sources.contract import FetchContext, SourceResult
from scorecard.sources.registry import build_source
from scorecard.store import Store
from tests.fakes.server import FakeServer, Reply

UTC = timezone.utc


def binary_or_skip() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found:
        return found
    reason = (
        "the Debian package `prometheus-alertmanager` is not installed; "
        "`make test` installs it when run as root"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: Any) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        text = answer.read()
    return json.loads(text) if text else None


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def am_url() -> Iterator[str]:
    binary = binary_or_skip()
    with tempfile.TemporaryDirectory(prefix="scorecard-am-") as tmp:
        root = Path(tmp)
        config = root / "alertmanager.yml"
        config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (root / "alertmanager.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        "alertmanager exited: " + (root / "alertmanager.log").read_text()
                    )
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("alertmanager did not become ready within 20 s")
                time.sleep(0.1)
            seed(url)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


NOW = datetime.now(UTC).replace(microsecond=0)


def seed(url: str) -> None:
    def alert(minutes_ago: float, **labels: str) -> dict[str, Any]:
        return {
            "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} summary [b]markup[/b]"},
            "startsAt": ts(NOW - timedelta(minutes=minutes_ago)),
            "endsAt": ts(NOW + timedelta(hours=2)),
            "generatorURL": "http://prometheus.example/graph?g0.expr=up",
        }

    post(
        f"{url}/api/v2/alerts",
        [
            alert(20, alertname="DiskFull", service="ops-api", severity="page"),
            alert(30, alertname="SearchDown", team="search", severity="critical"),
            alert(
                40,
                alertname="LagHigh",
                namespace="payments",
                service="ledger-writer",
                severity="warning",
            ),
            alert(1, alertname="JustStarted", service="ops-api", severity="critical"),  # too young
            alert(50, alertname="Noisy", service="ops-api", severity="critical"),  # silenced
            alert(15, alertname="Orphan", service="nobody", severity="info"),
            {  # already over: not active
                "labels": {"alertname": "Resolved", "service": "ops-api"},
                "startsAt": ts(NOW - timedelta(hours=2)),
                "endsAt": ts(NOW - timedelta(hours=1)),
            },
        ],
    )
    post(
        f"{url}/api/v2/silences",
        {
            "matchers": [
                {"name": "alertname", "value": "Noisy", "isRegex": False, "isEqual": True}
            ],
            "startsAt": ts(NOW - timedelta(minutes=5)),
            "endsAt": ts(NOW + timedelta(hours=3)),
            "createdBy": "tests",
            "comment": "known noisy",
        },
    )


CONFIG = """
[sources.am]
kind = "alertmanager"
url = "{url}"
alert_min_minutes = 5
{extra}

[[teams]]
name = "Payments"
services = ["payments-api", "payments/ledger-writer"]

[[teams]]
name = "Search"
services = ["search"]

[[teams]]
name = "Ops"
services = ["ops-api"]
"""


def make_config(url: str, extra: str = "") -> Config:
    return parse_config(CONFIG.format(url=url, extra=extra))


def fetch(config: Config) -> SourceResult:
    source = build_source(config.source("am"), config=config)
    moment = datetime.now(UTC)
    return asyncio.run(source.fetch(FetchContext(since=moment - timedelta(days=1), until=moment)))


def test_firing_alerts_per_team(am_url: str) -> None:
    result = fetch(make_config(am_url))
    firing = result.state["firing"]
    got = {a["alertname"]: (a["team"], a["service"], a["severity"]) for a in firing}
    assert got == {
        "Orphan": (None, "nobody", "sev5"),
        "DiskFull": ("Ops", "ops-api", "sev1"),
        "LagHigh": ("Payments", "payments/ledger-writer", "sev4"),
        "SearchDown": ("Search", None, "sev2"),
    }
    assert firing[0]["alertname"] == "DiskFull"  # most severe first
    disk = next(a for a in firing if a["alertname"] == "DiskFull")
    assert disk["starts_at"] == ts(NOW - timedelta(minutes=20)).replace(".000", "")
    assert disk["summary"] == "DiskFull summary [b]markup[/b]"  # kept literally
    assert disk["url"] == "http://prometheus.example/graph?g0.expr=up"
    assert len(disk["fingerprint"]) == 16
    assert result.stats.items["firing_too_young"] == 1
    assert result.frames == {} and result.items == 0


def test_alert_teams_and_extras_from_the_cache(am_url: str, tmp_path: Path) -> None:
    config = make_config(am_url, 'alert_teams = ["Ops", "Search"]')
    store = Store(tmp_path / "cache")
    summary = asyncio.run(sync.sync(config, store, ScoreRequest.resolve(now=datetime.now(UTC))))
    assert summary.outcomes[0].ok, summary.outcomes[0].last_error
    extras = service.extras(store, config)
    assert sorted(extras) == ["Ops", "Search"]
    assert [a["alertname"] for a in extras["Ops"]["firing"]] == ["DiskFull"]
    assert extras["Ops"]["firing_at"]
    assert service.extras(Store(tmp_path / "cache", read_only=True)) == extras


def test_config_check_probe(am_url: str) -> None:
    config = make_config(am_url)
    source = build_source(config.source("am"), config=config)
    assert asyncio.run(source.probe()).startswith("Alertmanager 0.")  # type: ignore[attr-defined]


def test_not_an_alertmanager_and_unreachable(fake_server: FakeServer, waits: list[float]) -> None:
    fake_server.route("/api/v2/alerts", lambda r, s: Reply(200, {"status": "success"}))
    with pytest.raises(SourceError, match="did not answer a list of alerts"):
        fetch(make_config(fake_server.url))
    config = make_config(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SourceError, match="ConnectError"):
        fetch(config)


def test_bearer_token_and_headers_sent(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AM_TEST_TOKEN", "am-secret-123456")
    fake_server.route("/api/v2/alerts", lambda r, s: Reply(200, []))
    config = make_config(
        fake_server.url, 'token_env = "AM_TEST_TOKEN"\nheaders = { "X-Scope-OrgID" = "acme" }'
    )
    result = fetch(config)
    assert result.state["firing"] == []
    request = fake_server.log[0]
    assert request.headers["authorization"] == "Bearer am-secret-123456"
    assert request.headers["x-scope-orgid"] == "acme"
    assert request.query == {"active": "true", "silenced": "false", "inhibited": "false"}


# --- the "firing now" badge and the team's query results in the TUI -----------------------


async def test_tui_shows_firing_now_and_query_results(tmp_path: Path) -> None:
    from scorecard.sources.contract import SourceResult
    from scorecard.tui.app import ScorecardApp, TuiOptions
    from scorecard.tui.widgets.firing import FiringNow, TeamMonitoring

    config = parse_config(
        CONFIG.format(url="http://localhost:9093", extra="")
        + '[sources.prom]\nkind = "prometheus"\nurl = "http://localhost:9090"\n'
    )
    cache = tmp_path / "cache"
    store = Store(cache)
    moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
    alert = {
        "team": "Ops",
        "alertname": "DiskFull [red]x[/red]",
        "service": "ops-api",
        "severity": "sev1",
        "starts_at": "2026-11-20T11:40:00Z",
        "summary": "disk 95% full",
        "fingerprint": "abc",
        "url": None,
    }
    store.write_source(
        "am",
        "alertmanager",
        SourceResult(frames={}, state={"firing": [alert], "firing_at": "2026-11-20T12:00:00Z"}),
        attempted_at=moment,
    )
    slo = {
        "Ops": [
            {"name": "burn", "labels": {"service": "ops-api"}, "value": 2.5, "error": None},
            {"name": "broken", "labels": {}, "value": None, "error": "bad_data: parse error"},
        ]
    }
    store.write_source(
        "prom",
        "prometheus",
        SourceResult(frames={}, state={"slo": slo, "slo_at": "2026-11-20T12:00:00Z"}),
        attempted_at=moment,
    )
    options = TuiOptions(config=config, read_only=True, as_of=moment, store_root=cache)
    app = ScorecardApp(options, now=lambda: moment)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(100):
            await pilot.pause()
            if app.scorecard is not None:
                break
        await pilot.pause()
        badge = app.screen.query_one(FiringNow)
        assert badge.display
        shown = str(badge.render())
        assert "firing now: Ops 🔥 1 firing (sev1) DiskFull [red]x[/red]" in shown
        app.open_team("Ops")
        await pilot.pause()
        await pilot.pause()
        monitoring = app.screen.query_one(TeamMonitoring)
        text = str(monitoring.render())
        assert "🔥 1 firing (sev1)" in text and "disk 95% full" in text
        assert "burn {service=ops-api}: 2.5" in text
        assert "broken: error: bad_data: parse error" in text
        await pilot.press("escape")
        app.open_team("Search")
        await pilot.pause()
        assert not app.screen.query_one(TeamMonitoring).display
