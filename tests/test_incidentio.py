"""The incidentio source: mapping tables, and syncs against a fake incident.io API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import incidentio
from scorecard.sources.incidents import Vocabulary
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.incidentio import FakeIncidentIo, incident, text_entry
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TOKEN = "inc_SENTINEL0123456789abcdef"


def source(**options: Any) -> incidentio.IncidentIoSource:
    cfg = source_config(
        name="io",
        kind="incidentio",
        api_url="https://api.incident.io",
        options={"team_field": "Team", "service_field": "Affected service", **options},
    )
    config = Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", incidentio_teams=("Payments squad",)),
            TeamConfig(name="Search"),
        ),
    )
    src = incidentio.IncidentIoSource(cfg, config=config)
    src.severities = Vocabulary(
        "incident.io severity",
        {**incidentio.rank_table({"Minor": 1, "Major": 2, "Critical": 3}), **src.severity_map},
    )
    return src


def test_rank_table() -> None:
    assert incidentio.rank_table({"Minor": 1, "Major": 2, "Critical": 3}) == {
        "Critical": "sev1",
        "Major": "sev2",
        "Minor": "sev3",
    }
    six = {f"S{i}": i for i in range(6)}
    table = incidentio.rank_table(six)
    assert table["S5"] == "sev1" and table["S1"] == "sev5" and table["S0"] == "sev5"
    assert incidentio.rank_table({}) == {}


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("triage", "open"),
        ("live", "open"),
        ("paused", "open"),
        ("learning", "resolved"),
        ("closed", "resolved"),
        ("declined", None),
        ("merged", None),
        ("canceled", None),
        ("exploded", "skipped"),
    ],
)
def test_status_categories(category: str, expected: str | None) -> None:
    src = source()
    t = NOW - DAY
    rec = src.record(incident("01A", t, category=category, resolved=t + 2 * HOUR))
    if expected is None:
        assert rec is None
    elif expected == "skipped":
        assert isinstance(rec, str) and src.statuses.unknown == {"exploded": 1}
    else:
        assert isinstance(rec, dict)
        assert (rec["resolved_at"] is None) == (expected == "open")


def test_incident_mapping() -> None:
    src = source()
    t = NOW - DAY
    rec = src.record(incident("01A", t, severity="Critical", resolved=t + 3 * HOUR))
    assert isinstance(rec, dict)
    assert rec["severity"] == "sev1" and rec["team"] == "Payments"
    assert rec["service"] == "payments-api" and rec["resolved_at"] == t + 3 * HOUR
    assert rec["url"] == "https://app.incident.io/acme/incidents/1"
    # Team by incidentio_teams (case-insensitive) or by the team's own name.
    squad = src.record(incident("01B", t, team="payments SQUAD"))
    assert isinstance(squad, dict) and squad["team"] == "Payments"
    other = src.record(incident("01C", t, team="Growth", service="search"))
    assert isinstance(other, dict) and other["team"] is None and other["service"] == "search"
    # Closed without a "Resolved at": updated_at.
    closed = incident("01D", t, resolved=None)
    closed["updated_at"] = "2024-03-09T20:00:00Z"
    rec = src.record(closed)
    assert isinstance(rec, dict) and rec["resolved_at"] == datetime(2024, 3, 9, 20, tzinfo=UTC)
    # Test incidents and incidents without a severity.
    assert src.record(incident("01E", t, mode="test")) is None
    assert isinstance(src.record(incident("01F", t, severity=None)), str)
    unknown = src.record(incident("01G", t, severity="Apocalyptic"))
    assert isinstance(unknown, str) and src.severities.unknown == {"Apocalyptic": 1}


def test_severity_map_overrides_rank() -> None:
    src = source(severity_map={"Minor": "sev5", "Apocalyptic": "sev1"})
    t = NOW - DAY
    minor = src.record(incident("01A", t, severity="Minor"))
    apocalyptic = src.record(incident("01B", t, severity="Apocalyptic"))
    assert isinstance(minor, dict) and minor["severity"] == "sev5"
    assert isinstance(apocalyptic, dict) and apocalyptic["severity"] == "sev1"


def test_deployment_links() -> None:
    t = NOW - DAY
    field = [text_entry("Caused by", "deploy acme/api/deployments/77")]
    by_field = source(deployment_field="Caused by")
    rec = by_field.record(incident("01A", t, extra_fields=field))
    assert isinstance(rec, dict) and rec["deployment_id"] == "deploy acme/api/deployments/77"
    pattern = source(deployment_field="Caused by", deployment_link_pattern=r"\S+/deployments/\d+")
    rec = pattern.record(incident("01A", t, extra_fields=field))
    assert isinstance(rec, dict) and rec["deployment_id"] == "acme/api/deployments/77"
    title = source(deployment_link_pattern=r"after (dep-\d+)")
    rec = title.record(incident("01A", t, name="Errors after dep-12"))
    assert isinstance(rec, dict) and rec["deployment_id"] == "dep-12"
    assert source().record(incident("01A", t, name="after dep-12"))["deployment_id"] is None  # type: ignore[index]


# --- syncs against the fake ------------------------------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("IO_TEST_TOKEN", TOKEN)
    return TOKEN


def org_config(fake: FakeIncidentIo) -> Config:
    cfg = source_config(
        name="io",
        kind="incidentio",
        api_url=fake.url,
        token_env="IO_TEST_TOKEN",
        timeout_s=5,
        options={"team_field": "Team", "service_field": "Affected service"},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", services=("payments-api",)),
            TeamConfig(name="Search", services=("search",), incidentio_teams=("Search",)),
        ),
        sources=(cfg,),
    )


def build(server: FakeServer, n: int = 600) -> FakeIncidentIo:
    fake = FakeIncidentIo(server)
    for i in range(n):
        created = NOW - timedelta(hours=5 * (i + 1))
        team = "Payments" if i % 2 == 0 else "Search"
        fake.incidents.append(
            incident(
                f"01INC{i:05d}",
                created,
                team=team,
                service="payments-api" if team == "Payments" else "search",
                severity=("Minor", "Major", "Critical")[i % 3],
                resolved=created + HOUR,
                number=i,
            )
        )
    return fake


async def test_full_sync_follows_the_cursor(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    fake.incidents.append(incident("01DECLINED", NOW - DAY, category="declined"))
    fake.incidents.append(incident("01MERGED", NOW - DAY, category="merged"))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 600 and outcome.stats.items["excluded"] == 2
    pages = fake_server.requests("/v2/incidents")
    assert len(pages) == 3 and "after" not in pages[0].query and pages[1].query["after"]
    assert pages[0].query["page_size"] == "250"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake_server.log)
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["01INC00000", "team"] == "Payments"
    assert incidents.loc["01INC00001", "team"] == "Search"
    assert incidents["severity"].astype(str).value_counts().to_dict() == {
        "sev3": 200,
        "sev2": 200,
        "sev1": 200,
    }


async def test_rate_limits_malformed_and_unknown_values(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server, n=30)
    fake.incidents.append(incident("01ODD", NOW - DAY, category="exploded"))
    broken = incident("01BROKEN", NOW - DAY)
    broken["created_at"] = "not a time"
    broken["incident_status"] = None
    fake.incidents.append(broken)
    fake_server.fault(
        "/v2/incidents", Reply(429, {"type": "too_many_requests"}, {"Retry-After": "4"})
    )
    fake_server.fault("/v1/severities", Reply(503))
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert 4.0 in waits and outcome.stats.retries == 2
    assert outcome.items == 30 and outcome.skipped == 2
    assert outcome.stats.items["unknown.incident_io_status_category"] == 1  # "exploded"
    assert any("'exploded'" in p for p in outcome.problems)


async def test_malformed_page_and_incremental_resync(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server, n=40)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    fake_server.fault("/v2/incidents", Reply(200, b"<html>", etag=False))
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW))
    assert not summary.outcomes[0].complete and summary.outcomes[0].stats.malformed == 1
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].complete and len(store.load()["incidents"]) == 40
    fake_server.log.clear()
    fake.incidents.append(incident("01NEW", NOW + HOUR, category="live", resolved=None))
    await sync(config, store, ScoreRequest.resolve(now=NOW + 2 * HOUR))
    first = fake_server.requests("/v2/incidents")[0]
    assert first.query["created_at[gte]"] == (NOW - DAY).date().isoformat()
    incidents = store.load()["incidents"].set_index("id")
    assert len(incidents) == 41
    assert (
        incidents["resolved_at"].isna().sum() == 1 and incidents.loc["01NEW", "team"] == "Payments"
    )


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build(fake_server, n=2)
    config = org_config(fake)
    probe: Any = build_source(config.sources[0], config=config)
    assert await probe.probe() == "incidents readable, 3 severities"


def test_impact_start_is_the_incidents_started_at() -> None:
    src = source()
    t = NOW - DAY
    item = incident("01S", t, resolved=t + 3 * HOUR)
    item["incident_timestamp_values"].append(
        {
            "incident_timestamp": {"id": "01TSIMPACT", "name": "Impact started", "rank": 0},
            "value": {"value": (t - 2 * HOUR).isoformat().replace("+00:00", "Z")},
        }
    )
    rec = src.record(item)
    assert isinstance(rec, dict) and rec["started_at"] == t - 2 * HOUR
    plain = src.record(incident("01T", t))
    assert isinstance(plain, dict) and plain["started_at"] is None
