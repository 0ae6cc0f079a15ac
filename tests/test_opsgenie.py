"""The opsgenie source: mapping tables, and syncs against a fake Opsgenie API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig, parse_config
from scorecard.request import ScoreRequest
from scorecard.sources import opsgenie
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.opsgenie import FakeOpsgenie, alert, incident
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TOKEN = "0b1c2d3e-SENTINEL-4f5a-6b7c-8d9e0f1a2b3c"


def make(api_url: str = "https://api.opsgenie.com", **options: Any) -> Config:
    cfg = source_config(
        name="og",
        kind="opsgenie",
        api_url=api_url,
        token_env="OG_TEST_TOKEN",
        timeout_s=5,
        options={"region": "us", "use_alerts": False, **options},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(
                name="Payments", services=("payments-api",), opsgenie_teams=("payments-oncall",)
            ),
            TeamConfig(name="Search", services=("search",), opsgenie_teams=("team-search-id",)),
        ),
        sources=(cfg,),
    )


def source(**options: Any) -> opsgenie.OpsgenieSource:
    config = make(**options)
    src = opsgenie.OpsgenieSource(config.sources[0], config=config)
    src.team_of = {"team-pay-id": "Payments", "team-search-id": "Search"}
    src.services = {"svc-pay-id": ("payments-api", "team-pay-id")}
    return src


@pytest.mark.parametrize(
    ("priority", "overrides", "expected"),
    [
        ("P1", None, "sev1"),
        ("P2", None, "sev2"),
        ("P3", None, "sev3"),
        ("P4", None, "sev4"),
        ("P5", None, "sev5"),
        ("P3", {"P3": "sev2"}, "sev2"),
        ("P0", None, None),
    ],
)
def test_priority_table(
    priority: str, overrides: dict[str, str] | None, expected: str | None
) -> None:
    src = source(**({"severity_map": overrides} if overrides else {}))
    rec = src.incident_record(incident("i1", NOW, priority=priority))
    if expected is None:
        assert isinstance(rec, str) and src.priorities.unknown == {priority: 1}
    else:
        assert isinstance(rec, dict) and rec["severity"] == expected


@pytest.mark.parametrize(
    ("status", "resolved"), [("open", False), ("resolved", True), ("closed", True), ("muted", None)]
)
def test_incident_statuses(status: str, resolved: bool | None) -> None:
    src = source()
    rec = src.incident_record(incident("i1", NOW - DAY, status=status, resolved=NOW - DAY + HOUR))
    if resolved is None:
        assert isinstance(rec, str) and src.statuses.unknown == {"muted": 1}
    else:
        assert isinstance(rec, dict) and (rec["resolved_at"] is not None) == resolved


def test_incident_and_alert_mapping() -> None:
    src = source()
    t = NOW - DAY
    rec = src.incident_record(incident("i1", t, resolved=t + 2 * HOUR))
    assert isinstance(rec, dict)
    assert rec["team"] == "Payments" and rec["service"] == "payments-api"
    assert rec["resolved_at"] == t + 2 * HOUR
    assert rec["url"] == "https://acme.app.opsgenie.com/incident/detail/i1"
    # No owner team: the impacted service's team.
    rec = src.incident_record(incident("i2", t, owner=None))
    assert isinstance(rec, dict) and rec["team"] == "Payments"
    unknown_team = src.incident_record(incident("i3", t, owner="other", services=[]))
    assert isinstance(unknown_team, dict) and unknown_team["team"] is None

    alerts = source(use_alerts=True)
    alerts.team_of = src.team_of
    rec = alerts.alert_record(alert("a1", t, close_after=timedelta(minutes=45)))
    assert isinstance(rec, dict)
    assert rec["team"] == "Search" and rec["severity"] == "sev2" and rec["service"] is None
    assert rec["resolved_at"] == t + timedelta(minutes=45)
    rec = alerts.alert_record(alert("a2", t, status="open"))
    assert isinstance(rec, dict) and rec["resolved_at"] is None
    assert isinstance(alerts.alert_record(alert("a3", t, status="resolved")), str)


def test_deployment_links() -> None:
    t = NOW - DAY
    by_field = source(deployment_field="deployment")
    rec = by_field.incident_record(incident("i1", t, extra={"deployment": "dep-9"}))
    assert isinstance(rec, dict) and rec["deployment_id"] == "dep-9"
    by_pattern = source(deployment_link_pattern=r"sha ([0-9a-f]{7,40})")
    rec = by_pattern.incident_record(incident("i1", t, message="Errors since sha abc1234"))
    assert isinstance(rec, dict) and rec["deployment_id"] == "abc1234"


def test_eu_region_sets_the_default_url() -> None:
    config = parse_config(
        '[sources.og]\nkind = "opsgenie"\nregion = "eu"\n[[teams]]\nname = "A"\n', None
    )
    assert config.sources[0].options.base_url == "https://api.eu.opsgenie.com"


# --- syncs against the fake ------------------------------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OG_TEST_TOKEN", TOKEN)
    return TOKEN


def build(server: FakeServer, n: int = 230) -> FakeOpsgenie:
    fake = FakeOpsgenie(server)
    for i in range(n):
        created = NOW - timedelta(hours=4 * (i + 1))
        pay = i % 2 == 0
        fake.incidents.append(
            incident(
                f"inc-{i}",
                created,
                owner="team-pay-id" if pay else "team-search-id",
                services=["svc-pay-id" if pay else "svc-search-id"],
                priority=f"P{i % 5 + 1}",
                resolved=created + HOUR,
                tiny=i,
            )
        )
        fake.alerts.append(alert(f"al-{i}", created, tiny=i))
    return fake


async def test_incident_sync_pages_to_the_end(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 230
    pages = fake_server.requests("/v1/incidents")
    assert [p.query["offset"] for p in pages] == ["0", "100", "200"]
    assert pages[0].query["sort"] == "createdAt" and pages[0].query["order"] == "asc"
    assert pages[0].query["query"].startswith("createdAt>=")
    assert all(r.headers["authorization"] == f"GenieKey {TOKEN}" for r in fake_server.log)
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["inc-0", "team"] == "Payments"  # by the team's name
    assert incidents.loc["inc-1", "team"] == "Search"  # by the team's id
    assert incidents.loc["inc-1", "service"] == "search"
    assert set(incidents["severity"].astype(str)) == {"sev1", "sev2", "sev3", "sev4", "sev5"}


async def test_alert_sync_and_offset_cap(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opsgenie, "OFFSET_CAP", 50)
    monkeypatch.setattr(opsgenie, "PAGE_LIMIT", 20)
    fake = build(fake_server, n=130)
    fake.cap = 50
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url, use_alerts=True), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert all(r.status == 200 for r in fake_server.log)
    assert not fake_server.requests("/v1/incidents")
    incidents = store.load()["incidents"]
    assert len(incidents) == 130 and set(incidents["team"].astype(str)) == {"Search"}


async def test_throttling_and_bad_records(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server, n=10)
    fake.incidents.append(incident("weird", NOW - DAY, status="muted"))
    fake.incidents.append(incident("p0", NOW - DAY, priority="P0"))
    fake_server.fault(
        "/v1/incidents",
        Reply(
            429,
            {"message": "You are making too many requests!", "took": 0.0, "requestId": "r"},
            {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "60"},
        ),
    )
    fake_server.fault("/v2/teams", Reply(500))
    summary = await sync(make(fake.url), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert len(waits) >= 2 and outcome.stats.retries >= 2
    assert outcome.items == 10 and outcome.skipped == 2
    assert outcome.stats.items["unknown.opsgenie_status"] == 1
    assert outcome.stats.items["unknown.opsgenie_priority"] == 1
    assert all(TOKEN not in p for p in outcome.problems)


async def test_malformed_page_is_counted(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server, n=3)
    fake_server.fault("/v1/incidents", Reply(200, b'{"data": [', etag=False))
    summary = await sync(make(fake.url), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete and outcome.stats.malformed == 1


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build(fake_server, n=2)
    config = make(fake.url, use_alerts=True)
    source: Any = build_source(config.sources[0], config=config)
    assert await source.probe() == "alerts readable"
    assert fake_server.log[0].path == "/v2/alerts"


def test_impact_start_date_is_the_incidents_started_at() -> None:
    src = source()
    t = NOW - DAY
    item = incident("i9", t, resolved=t + 2 * HOUR)
    item["impactStartDate"] = (t - 3 * HOUR).isoformat().replace("+00:00", "Z")
    rec = src.incident_record(item)
    assert isinstance(rec, dict) and rec["started_at"] == t - 3 * HOUR
    del item["impactStartDate"]
    rec = src.incident_record(item)
    assert isinstance(rec, dict) and rec["started_at"] is None
    alerts = source(use_alerts=True)
    rec = alerts.alert_record(alert("a9", t))
    assert isinstance(rec, dict) and rec["started_at"] is None
