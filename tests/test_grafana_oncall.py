"""The grafana-oncall source: mapping tables, and syncs end to end (config -> sync ->
export) against a fake OnCall public API.

Grafana OnCall publishes no OpenAPI description (see
``api-specs/grafana-oncall/NOTICE.md``: the schema is generated at run time by
the Django app and documented only as markdown), so the fake follows the
examples of OnCall's API reference: DRF page-number pagination with ``next``
URLs, alert groups with labels and permalinks, 401 and 429 answers.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard import export
from scorecard.config import Config, parse_config
from scorecard.request import ScoreRequest
from scorecard.service import cached_scorecard
from scorecard.sources import grafana_oncall
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.grafana_oncall import TOKEN, FakeOnCall, alert_group, throttled
from tests.fakes.server import FakeServer, Reply

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
REQUEST = ScoreRequest.resolve(now=NOW)


def config_text(url: str, **extra: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return f"""
[sources.oncall]
kind = "grafana-oncall"
api_url = "{url}"
token_env = "ONCALL_TEST_TOKEN"
timeout_s = 5
{lines}

[sources.oncall.team_map]
payments-oncall = "Payments"
search-oncall = "Search"

[[teams]]
name = "Payments"
services = ["payments-api"]

[[teams]]
name = "Search"
services = ["search"]
"""


def make(url: str = "https://oncall.example.grafana.net/oncall", **extra: str) -> Config:
    return parse_config(config_text(url, **extra), None)


def source(**extra: str) -> grafana_oncall.GrafanaOnCallSource:
    config = make(**extra)
    src = grafana_oncall.GrafanaOnCallSource(config.sources[0], config=config)
    src.team_names = {"TPAY1": "payments-oncall", "TSRCH": "search-oncall"}
    src.integration_names = {"CPAY1": "Payments Alertmanager"}
    return src


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ONCALL_TEST_TOKEN", TOKEN)
    return TOKEN


# --- mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical"}, "sev1"),
        ({"severity": "warning"}, "sev3"),
        ({"severity": "P4"}, "sev4"),
        ({}, "sev3"),  # default_severity
        ({"severity": "catastrophic"}, None),
    ],
)
def test_severity_from_the_label(labels: dict[str, str], expected: str | None) -> None:
    src = source()
    record = src.record(alert_group("A1", NOW, labels=labels))
    if expected is None:
        assert isinstance(record, str) and src.severities.unknown == {"catastrophic": 1}
    else:
        assert isinstance(record, dict) and record["severity"] == expected


def test_states_team_service_and_links() -> None:
    src = source(deployment_label='"deployment"')
    t = NOW - DAY
    record = src.record(
        alert_group(
            "A1",
            t,
            resolved=t + HOUR,
            labels={"severity": "high", "service": "payments-api", "deployment": "pay-7"},
        )
    )
    assert isinstance(record, dict)
    assert record["team"] == "Payments" and record["service"] == "payments-api"
    assert record["resolved_at"] == t + HOUR and record["deployment_id"] == "pay-7"
    assert record["url"].endswith("/alert-groups/A1")
    unlabelled = src.record(alert_group("A2", t, state="acknowledged", labels={}))
    assert isinstance(unlabelled, dict) and unlabelled["resolved_at"] is None
    assert unlabelled["service"] == "Payments Alertmanager"  # the integration's name
    assert src.record(alert_group("A3", t, state="silenced")) is None
    assert isinstance(src.record(alert_group("A4", t, state="snoozed")), str)
    assert src.states.unknown == {"snoozed": 1}
    no_team = src.record(alert_group("A5", t, team=None))
    assert isinstance(no_team, dict) and no_team["team"] is None


def test_default_severity_skip_leaves_unlabelled_groups_out() -> None:
    src = source(default_severity='"skip"')
    assert src.record(alert_group("A1", NOW, labels={})) == "no severity label"
    assert isinstance(src.record(alert_group("A2", NOW)), dict)


def test_the_token_is_sent_without_a_scheme_and_with_the_grafana_url() -> None:
    src = source(grafana_url='"https://acme.grafana.net"')
    headers, secrets = src.origin_headers(TOKEN)
    assert headers == {"Authorization": TOKEN, "X-Grafana-Url": "https://acme.grafana.net"}
    assert secrets == [TOKEN]


# --- syncs against the fake ------------------------------------------------------------


def build(server: FakeServer, n: int = 25) -> FakeOnCall:
    fake = FakeOnCall(server, page_size=10)
    for i in range(n):
        created = NOW - timedelta(hours=5 * (i + 1))
        pay = i % 2 == 0
        fake.alert_groups.append(
            alert_group(
                f"AG{i:03d}",
                created,
                resolved=created + HOUR,
                team="TPAY1" if pay else "TSRCH",
                integration="CPAY1" if pay else "CSRCH",
                labels={"severity": ["critical", "high", "warning", "low", "info"][i % 5]},
            )
        )
    return fake


async def test_sync_follows_next_pages_then_resyncs_from_the_bookmark(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url), store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 25
    pages = fake_server.requests("/api/v1/alert_groups/")
    assert [p.query.get("page", "1") for p in pages] == ["1", "2", "3"]
    assert all(r.headers["authorization"] == TOKEN for r in fake_server.log)
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["AG000", "team"] == "Payments"
    assert incidents.loc["AG001", "team"] == "Search"
    assert incidents.loc["AG001", "service"] == "Search Grafana"
    assert set(incidents["severity"].astype(str)) == {"sev1", "sev2", "sev3", "sev4", "sev5"}

    fake_server.log.clear()
    await sync(make(fake.url), store, ScoreRequest.resolve(now=NOW + DAY))
    span = fake_server.requests("/api/v1/alert_groups/")[0].query["started_at"]
    assert span == "2024-03-09T12:00:00_2024-03-11T12:00:00"
    assert len(store.load()["incidents"]) == 25


async def test_integrations_limit_the_listing(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    config = make(fake.url, integrations='["Search Grafana", "Nope"]')
    summary = await sync(config, Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.items == 12
    assert any("no Grafana OnCall integration named 'Nope'" in p for p in outcome.problems)
    assert {r.query["integration_id"] for r in fake_server.requests("/api/v1/alert_groups/")} == {
        "CSRCH"
    }


async def test_throttling_server_errors_and_malformed_answers(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    build(fake_server, n=3)
    fake_server.fault("/api/v1/alert_groups/", throttled(), Reply(500, {"detail": "error"}))
    fake_server.fault("/api/v1/teams/", Reply(200, b"{not json", etag=False))
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None, outcome
    assert waits[0] == pytest.approx(4.0) and outcome.stats.retries == 2
    assert outcome.items == 3 and outcome.stats.malformed == 1 and not outcome.complete


async def test_a_bad_token_fails_clearly_without_it(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(fake_server, n=1)
    monkeypatch.setenv("ONCALL_TEST_TOKEN", "wrong-SENTINEL-token")
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "SENTINEL" not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    build(fake_server, n=1)
    config = make(fake_server.url)
    built: Any = build_source(config.sources[0], config=config)
    assert await built.probe() == "alert groups readable, 2 integrations"


async def test_end_to_end_alert_groups_to_export(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = FakeOnCall(fake_server)
    fake.alert_groups += [
        alert_group("P1", NOW - 3 * DAY, resolved=NOW - 3 * DAY + 2 * HOUR),
        alert_group(
            "P2", NOW - 2 * DAY, resolved=NOW - 2 * DAY + 4 * HOUR, labels={"severity": "warning"}
        ),
        alert_group("S1", NOW - DAY, state="new", team="TSRCH", integration="CSRCH"),
        alert_group("S2", NOW - DAY, state="silenced", team="TSRCH", integration="CSRCH"),
    ]
    path = tmp_path / "scorecard.toml"
    path.write_text(config_text(fake.url), encoding="utf-8")
    from scorecard.config import load_config

    config = load_config(path)
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, REQUEST)
    assert summary.outcomes[0].complete and summary.outcomes[0].stats.items["excluded"] == 1
    report = cached_scorecard(config, store, REQUEST).report
    rows = {row["team"]: row for row in json.loads(export.render(report, "json"))["rows"]}
    pay, srch = rows["Payments"], rows["Search"]
    assert pay["incidents"] == 2 and pay["incidents_sev1_2"] == 1
    assert pay["recovery_time_p50_hours"] == pytest.approx(3.0)  # median of 2 h and 4 h
    assert srch["incidents"] == 1 and srch["incidents_open"] == 1
