"""The servicenow source: mapping tables, the encoded queries, and syncs end to end
(config -> sync -> export) against a fake Table API.

ServiceNow publishes no OpenAPI description of the Table API (see
``api-specs/servicenow/NOTICE.md``: records depend on each instance's
dictionary), so the fake follows ServiceNow's documented Table API behaviour and
examples: ``{"result": [...]}``, ``sysparm_display_value=all`` pairs, ``Link``
and ``X-Total-Count`` headers, offset paging, 401 and 429 answers.
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
from scorecard.sources import servicenow
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.server import FakeServer, Reply
from tests.fakes.servicenow import (
    PASSWORD,
    USER,
    FakeServiceNow,
    change,
    incident,
    select,
    throttled,
)

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
REQUEST = ScoreRequest.resolve(now=NOW)


def config_text(url: str, **extra: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return f"""
[sources.sn]
kind = "servicenow"
api_url = "{url}"
username = "{USER}"
token_env = "SN_TEST_PASSWORD"
timeout_s = 5
{lines}

[sources.sn.team_map]
"Payments Ops" = "Payments"
"Search Ops" = "Search"

[[teams]]
name = "Payments"
services = ["payments-api"]

[[teams]]
name = "Search"
services = ["search"]
"""


def make(url: str = "https://acme.service-now.com", **extra: str) -> Config:
    return parse_config(config_text(url, **extra), None)


def source(**extra: str) -> servicenow.ServiceNowSource:
    config = make(**extra)
    return servicenow.ServiceNowSource(config.sources[0], config=config)


def shown(record: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A fake record as ``sysparm_display_value=all`` shows it."""
    return {k: {"value": v, "display_value": d} for k, (v, d) in record.items()}


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SN_TEST_PASSWORD", PASSWORD)
    return PASSWORD


# --- mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "expected"), [("1", "sev1"), ("2", "sev2"), ("4", "sev4"), ("9", None)]
)
def test_priority_table(priority: str, expected: str | None) -> None:
    src = source()
    record = src.incident_record(shown(incident("INC1", NOW, priority=priority)))
    if expected is None:
        assert isinstance(record, str) and src.priorities.unknown == {"9": 1}
    else:
        assert isinstance(record, dict) and record["severity"] == expected


def test_states_groups_services_and_caused_by() -> None:
    src = source()
    t = NOW - DAY
    record = src.incident_record(
        shown(incident("INC1", t, resolved=t + 2 * HOUR, caused_by="CHG0030001"))
    )
    assert isinstance(record, dict)
    assert record["team"] == "Payments" and record["service"] == "payments-api"
    assert record["resolved_at"] == t + 2 * HOUR and record["deployment_id"] == "CHG0030001"
    assert record["url"] == "https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=sys-INC1"
    assert src.incident_record(shown(incident("INC2", t, state="2")))["resolved_at"] is None  # type: ignore[index]
    assert src.incident_record(shown(incident("INC3", t, state="8"))) is None  # canceled
    assert isinstance(src.incident_record(shown(incident("INC4", t, state="42"))), str)
    assert src.states.unknown == {"42": 1}
    on_hold = source().incident_record(shown(incident("INC5", t, state="3")))
    assert isinstance(on_hold, dict) and on_hold["resolved_at"] is None


def test_status_map_and_plain_values_override() -> None:
    text = config_text("https://acme.service-now.com").replace(
        "[[teams]]", '[sources.sn.status_map]\n"42" = "resolved"\n\n[[teams]]', 1
    )
    config = parse_config(text, None)
    src = servicenow.ServiceNowSource(config.sources[0], config=config)
    record = incident("INC4", NOW, state="42", resolved=NOW + HOUR)
    plain = {k: v for k, (v, _d) in record.items()}  # sysparm_display_value=false
    parsed = src.incident_record(plain)
    assert isinstance(parsed, dict) and parsed["resolved_at"] == NOW + HOUR


def test_the_encoded_query_selects_groups_or_services() -> None:
    src = source(assignment_groups='["Payments Ops"]', services='["search"]', query='"active=true"')
    text = src.incident_query(NOW - DAY)
    assert text == (
        "opened_at>=javascript:gs.dateGenerate('2024-03-09','12:00:00')"
        "^assignment_group.nameINPayments Ops^ORbusiness_service.nameINsearch"
        "^active=true^ORDERBYopened_at"
    )
    records = [
        incident("A", NOW),
        incident("B", NOW, group="Search Ops", service="search"),
        incident("C", NOW, group="Other", service="other"),
        incident("D", NOW - 2 * DAY),
    ]
    chosen = select(records, text.replace("^active=true", ""))
    assert [r["number"][0] for r in chosen] == ["A", "B"]


def test_basic_needs_a_username_and_team_map_names_teams() -> None:
    options = servicenow.ServiceNowOptions(api_url="https://a.service-now.com", token_env="X")
    assert [p.key for p in options.problems(["A"])] == ["username"]
    oauth = servicenow.ServiceNowOptions(
        api_url="https://a.service-now.com", token_env="X", auth="oauth", team_map={"g": "B"}
    )
    assert [p.key for p in oauth.problems(["A"])] == ["team_map.g"]


# --- syncs against the fake ------------------------------------------------------------


def build(server: FakeServer, n: int = 45) -> FakeServiceNow:
    fake = FakeServiceNow(server)
    for i in range(n):
        opened = NOW - timedelta(hours=8 * (i + 1))
        pay = i % 2 == 0
        fake.incidents.append(
            incident(
                f"INC{i:07d}",
                opened,
                priority=str(i % 4 + 1),
                resolved=opened + HOUR,
                group="Payments Ops" if pay else "Search Ops",
                service="payments-api" if pay else "search",
            )
        )
    return fake


async def test_sync_pages_by_link_then_resyncs_from_the_bookmark(
    fake_server: FakeServer, password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servicenow, "PAGE_LIMIT", 20)
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url), store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 45
    pages = fake_server.requests("/api/now/table/incident")
    assert [p.query.get("sysparm_offset", "0") for p in pages] == ["0", "20", "40"]
    first = pages[0].query
    assert first["sysparm_display_value"] == "all" and "caused_by" in first["sysparm_fields"]
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["INC0000001", "team"] == "Search"
    assert set(incidents["severity"].astype(str)) == {"sev1", "sev2", "sev3", "sev4"}

    fake_server.log.clear()
    await sync(make(fake.url), store, ScoreRequest.resolve(now=NOW + DAY))
    again = fake_server.requests("/api/now/table/incident")[0].query["sysparm_query"]
    assert again.startswith("opened_at>=javascript:gs.dateGenerate('2024-03-09','12:00:00')")
    assert len(store.load()["incidents"]) == 45


async def test_throttling_and_server_errors_are_retried(
    fake_server: FakeServer, password: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server, n=3)
    fake_server.fault(
        "/api/now/table/incident",
        throttled(int(NOW.timestamp()) + 60),
        Reply(503, b"<html>Service Unavailable</html>"),
    )
    summary = await sync(make(fake.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert waits[0] == pytest.approx(3.0) and outcome.stats.retries == 2
    assert outcome.items == 3


async def test_malformed_answer_is_counted(
    fake_server: FakeServer, password: str, tmp_path: Path
) -> None:
    build(fake_server, n=3)
    fake_server.fault("/api/now/table/incident", Reply(200, b'{"result": [', etag=False))
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete and outcome.stats.malformed == 1


async def test_a_wrong_password_fails_clearly_without_it(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(fake_server, n=1)
    monkeypatch.setenv("SN_TEST_PASSWORD", "wrong-SENTINEL-password")
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "check the token of source 'sn'" in error
    assert "SENTINEL" not in error


async def test_probe_for_config_check(fake_server: FakeServer, password: str) -> None:
    from scorecard.sources.registry import build_source

    build(fake_server, n=1)
    config = make(fake_server.url, change_requests="true")
    built: Any = build_source(config.sources[0], config=config)
    assert await built.probe() == "incident and change_request readable"


async def test_end_to_end_changes_and_incidents_to_export(
    fake_server: FakeServer, password: str, tmp_path: Path
) -> None:
    fake = FakeServiceNow(fake_server)
    for k in range(1, 6):
        code = "unsuccessful" if k == 4 else "successful"
        fake.changes.append(change(f"CHG00{k}", NOW - k * DAY, close_code=code))
    fake.changes.append(change("CHG0S1", NOW - 3 * DAY, service="search", group="Search Ops"))
    t5 = NOW - 5 * DAY
    fake.incidents += [
        # Caused by CHG003 (three days old, beyond the 24 h rule): linked explicitly; 3 h.
        incident(
            "INC1",
            NOW - DAY + HOUR,
            priority="1",
            resolved=NOW - DAY + 4 * HOUR,
            caused_by="CHG003",
        ),
        # 2 h after CHG005: linked by the time rule; 1 h.
        incident("INC2", t5 + 2 * HOUR, resolved=t5 + 3 * HOUR),
        # Search: open, no deploy before it.
        incident("INC3", NOW - 2 * HOUR, state="2", group="Search Ops", service="search"),
        incident("INC4", NOW - 3 * HOUR, state="8"),  # canceled: left out
    ]
    path = tmp_path / "scorecard.toml"
    path.write_text(config_text(fake.url, change_requests="true"), encoding="utf-8")
    from scorecard.config import load_config

    config = load_config(path)
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.stats.items["deployments"] == 6 and outcome.stats.items["excluded"] == 1
    report = cached_scorecard(config, store, REQUEST).report
    rows = {row["team"]: row for row in json.loads(export.render(report, "json"))["rows"]}
    pay, srch = rows["Payments"], rows["Search"]
    # 4 successful + 1 failed change; CHG003 (explicit) and CHG005 (time) have incidents.
    assert pay["change_failure_rate"] == pytest.approx(3 / 5)
    assert pay["recovery_time_p50_hours"] == pytest.approx(2.0)
    assert pay["incidents"] == 2 and pay["incidents_sev1_2"] == 1
    assert srch["incidents"] == 1 and srch["incidents_open"] == 1
    assert srch["change_failure_rate"] == pytest.approx(0.0)
