"""The datadog source: parsing Datadog's documented payloads, the fake's answers held
to Datadog's published OpenAPI description, and syncs end to end (config -> sync ->
export) against the fake."""

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
from scorecard.sources import datadog
from scorecard.sources.datadog_events import AlertReplay, dora_record
from scorecard.store import Store
from scorecard.sync import sync
from tests.api_specs import load_spec, operation, response_schema, validate
from tests.fakes.datadog import (
    API_KEY,
    APP_KEY,
    FakeDatadog,
    dora_deployment,
    event,
    incident,
    throttled,
)
from tests.fakes.server import FakeServer, Reply

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
REQUEST = ScoreRequest.resolve(now=NOW)


def config_text(url: str, **extra: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return f"""
[sources.dd]
kind = "datadog"
api_url = "{url}"
token_env = "DD_TEST_API_KEY"
app_key_env = "DD_TEST_APP_KEY"
timeout_s = 5
{lines}

[sources.dd.team_map]
payments = "Payments"
search = "Search"

[[teams]]
name = "Payments"
services = ["payments-api"]

[[teams]]
name = "Search"
services = ["search"]
"""


def make(url: str = "https://api.datadoghq.com", **extra: str) -> Config:
    return parse_config(config_text(url, **extra), None)


def source(**extra: str) -> datadog.DatadogSource:
    config = make(**extra)
    return datadog.DatadogSource(config.sources[0], config=config)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_TEST_API_KEY", API_KEY)
    monkeypatch.setenv("DD_TEST_APP_KEY", APP_KEY)


# --- parsing ---------------------------------------------------------------------------


def test_the_documented_incident_examples_parse() -> None:
    spec = load_spec("datadog", "v2-openapi.trimmed.json")
    examples = spec["components"]["schemas"]["IncidentsResponse"]["properties"]["data"]["example"]
    src = source()
    records = [src.incident_record(item) for item in examples]
    assert records and all(isinstance(r, dict) for r in records), records
    first = records[0]
    assert isinstance(first, dict)
    assert first["severity"] == "sev1" and first["resolved_at"] is None  # SEV-1, not resolved
    assert first["created_at"] == datetime(2020, 4, 21, 15, 34, 8, 627205, tzinfo=UTC)
    assert first["url"] == "https://app.datadoghq.com/incidents/1"


def test_the_documented_dora_deployment_examples_parse() -> None:
    spec = load_spec("datadog", "v2-openapi.trimmed.json")
    body = spec["components"]["schemas"]["DORADeploymentsListResponse"]["example"]
    records = [dora_record(item, "dd", lambda names: None) for item in body["data"]]
    first = records[0]
    assert isinstance(first, dict)
    assert first["service"] == "shopist" and first["environment"] == "production"
    assert first["repo"] == "organization/example-repository"
    assert first["finished_at"] == datetime.fromtimestamp(1693491984, tz=UTC)
    assert first["started_at"] == first["finished_at"] - timedelta(seconds=10)


@pytest.mark.parametrize(
    ("severity", "overrides", "expected"),
    [
        ("SEV-0", None, "sev1"),
        ("SEV-1", None, "sev1"),
        ("SEV-3", None, "sev3"),
        ("SEV-5", None, "sev5"),
        ("UNKNOWN", None, None),
        ("UNKNOWN", 'UNKNOWN = "sev4"', "sev4"),
    ],
)
def test_severity_table(severity: str, overrides: str | None, expected: str | None) -> None:
    text = config_text("https://api.datadoghq.com")
    if overrides:
        text = text.replace("[[teams]]", f"[sources.dd.severity_map]\n{overrides}\n\n[[teams]]", 1)
    config = parse_config(text, None)
    src = datadog.DatadogSource(config.sources[0], config=config)
    record = src.incident_record(incident("i1", NOW, severity=severity))
    if expected is None:
        assert isinstance(record, str) and src.severities.unknown == {severity: 1}
    else:
        assert isinstance(record, dict) and record["severity"] == expected


def test_state_team_service_impact_start_and_links() -> None:
    src = source(deployment_field='"Caused by"', deployment_link_pattern=r"'deploy (\S+)'")
    t = NOW - DAY
    record = src.incident_record(
        incident(
            "i1",
            t,
            resolved=t + 2 * HOUR,
            impact_start=t - HOUR,
            teams=["search"],
            services=["search"],
            extra_fields={"Caused by": {"type": "textbox", "value": "deploy dep-42"}},
        )
    )
    assert isinstance(record, dict)
    assert record["team"] == "Search" and record["service"] == "search"
    assert record["started_at"] == t - HOUR and record["resolved_at"] == t + 2 * HOUR
    assert record["deployment_id"] == "dep-42"
    assert src.incident_record(incident("i2", t, state="stable"))["resolved_at"] is None  # type: ignore[index]
    assert src.incident_record(incident("i3", t, is_test=True)) is None
    assert isinstance(src.incident_record(incident("i4", t, state="postmortem")), str)
    assert src.states.unknown == {"postmortem": 1}


def test_monitor_alerts_replay_into_incidents() -> None:
    src = source()
    t = NOW - DAY
    tags = ["service:search", "team:search"]
    events = [
        event(
            "e2",
            t + 10 * 60 * timedelta(seconds=1),
            status="error",
            tags=tags,
            title="Latency",
            monitor_id=7,
        ),
        event("e1", t, status="warning", tags=tags, title="Latency", monitor_id=7),
        event("e3", t + HOUR, status="success", tags=tags, title="Latency", monitor_id=7),
        event("e4", t + 2 * HOUR, status="error", tags=tags, title="Latency", monitor_id=7),
        event("e5", t + 3 * HOUR, status="info", tags=tags, title="Note", monitor_id=7),
    ]
    replay = AlertReplay("dd", src.monitor_severities, src.team_of)
    assert replay.replay(events) == []
    first, second = replay.incidents
    assert first["created_at"] == t and first["resolved_at"] == t + HOUR
    assert first["severity"] == "sev2"  # escalated from warning (sev3) to error (sev2)
    assert first["team"] == "Search" and first["service"] == "search"
    assert second["resolved_at"] is None and replay.ignored == 1


def test_keys_come_from_the_token_or_the_app_key_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scorecard.errors import FatalSourceError

    src = source()
    monkeypatch.delenv("DD_TEST_APP_KEY", raising=False)
    headers, secrets = src.origin_headers(f"{API_KEY}:{APP_KEY}")
    assert headers == {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": APP_KEY}
    assert API_KEY in secrets and APP_KEY in secrets
    with pytest.raises(FatalSourceError, match="application key") as caught:
        src.origin_headers(API_KEY)
    assert API_KEY not in str(caught.value)


def test_site_sets_the_default_url() -> None:
    config = parse_config(
        '[sources.dd]\nkind = "datadog"\nsite = "datadoghq.eu"\n[[teams]]\nname = "A"\n', None
    )
    options = config.sources[0].options
    assert isinstance(options, datadog.DatadogOptions)
    assert options.base_url == "https://api.datadoghq.eu"


# --- syncs against the fake ------------------------------------------------------------


def build(server: FakeServer, n: int = 120) -> FakeDatadog:
    fake = FakeDatadog(server)
    for i in range(n):
        created = NOW - timedelta(hours=6 * (i + 1))
        pay = i % 2 == 0
        fake.incidents.append(
            incident(
                f"inc-{i}",
                created,
                severity=f"SEV-{i % 5 + 1}",
                resolved=created + HOUR,
                teams=["payments" if pay else "search"],
                services=["payments-api" if pay else "search"],
                public_id=i + 1,
            )
        )
    return fake


async def test_incident_sync_pages_newest_first_then_resyncs_from_the_bookmark(
    fake_server: FakeServer, keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datadog, "PAGE_SIZE", 20)
    fake = build(fake_server, n=30)
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url), store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 30 and outcome.stats.items["incidents"] == 30
    pages = fake_server.requests("/api/v2/incidents/search")
    assert [p.query.get("page[offset]", "0") for p in pages] == ["0", "20"]
    assert pages[0].query["sort"] == "-created"
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["inc-0", "team"] == "Payments"
    assert incidents.loc["inc-1", "service"] == "search"

    # A day later: one page, stopped at the incidents older than the bookmark.
    fake.incidents.append(incident("inc-new", NOW + HOUR, state="active", public_id=999))
    later = ScoreRequest.resolve(now=NOW + DAY)
    fake_server.log.clear()
    summary = await sync(make(fake.url), store, later)
    assert summary.outcomes[0].complete
    assert len(fake_server.requests("/api/v2/incidents/search")) == 1
    incidents = store.load()["incidents"].set_index("id")
    assert len(incidents) == 31 and pd_isna(incidents.loc["inc-new", "resolved_at"])
    spec = load_spec("datadog", "v2-openapi.trimmed.json")
    schema = response_schema(spec, "/api/v2/incidents/search")
    for _path, body in fake.answers:
        validate(spec, schema, body)


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


async def test_throttling_server_errors_and_unknown_values(
    fake_server: FakeServer, keys: None, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server, n=5)
    fake.incidents.append(incident("odd-state", NOW - DAY, state="postmortem"))
    fake.incidents.append(incident("odd-sev", NOW - DAY, severity="UNKNOWN"))
    fake_server.fault("/api/v2/incidents/search", throttled(), Reply(502, b"bad gateway"))
    summary = await sync(make(fake.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert waits[0] == pytest.approx(7.0) and outcome.stats.retries == 2
    assert outcome.items == 5 and outcome.skipped == 2
    assert outcome.stats.items["unknown.datadog_state"] == 1
    assert outcome.stats.items["unknown.datadog_severity"] == 1
    assert any("unknown Datadog severity 'UNKNOWN' on 1 record" in p for p in outcome.problems)


async def test_malformed_answer_is_counted_and_partial(
    fake_server: FakeServer, keys: None, tmp_path: Path
) -> None:
    build(fake_server, n=3)
    fake_server.fault("/api/v2/incidents/search", Reply(200, b'{"data": {', etag=False))
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.malformed == 1


async def test_wrong_keys_fail_clearly_without_the_keys(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(fake_server, n=1)
    monkeypatch.setenv("DD_TEST_API_KEY", "wrong-SENTINEL-api-key")
    monkeypatch.setenv("DD_TEST_APP_KEY", "wrong-SENTINEL-app-key")
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 403" in error and "check the token" in error
    assert "SENTINEL" not in error


async def test_probe_for_config_check(fake_server: FakeServer, keys: None) -> None:
    from scorecard.sources.registry import build_source

    fake = build(fake_server, n=2)
    config = make(fake.url)
    built: Any = build_source(config.sources[0], config=config)
    assert await built.probe() == "incidents readable"
    assert fake_server.log[0].query["page[size]"] == "1"


async def test_end_to_end_dora_deploys_monitor_alerts_and_incidents_to_export(
    fake_server: FakeServer, keys: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datadog, "DORA_LIMIT", 3)  # a full page narrows the window
    fake = FakeDatadog(fake_server)
    fake.dora += [dora_deployment(f"pay-{k}", NOW - k * DAY) for k in range(1, 6)]
    fake.dora += [
        dora_deployment(f"srch-{k}", NOW - k * DAY - 3 * HOUR, service="search", team="search")
        for k in (2, 4)
    ]
    t2 = NOW - 2 * DAY
    # 2 h after pay-2: linked by the time rule; resolved after 2 h.
    fake.incidents.append(
        incident("INC1", t2 + 2 * HOUR, severity="SEV-1", resolved=t2 + 4 * HOUR, public_id=1)
    )
    tags = ["service:search", "team:search", "source:alert"]
    t4 = NOW - 4 * DAY - 2 * HOUR  # an hour after srch-4: time rule
    fake.events += [
        event("m1", t4, status="error", tags=tags, title="Search 5xx", monitor_id=9),
        event(
            "m2",
            t4 + 30 * timedelta(minutes=1),
            status="success",
            tags=tags,
            title="ok",
            monitor_id=9,
        ),
    ]
    text = config_text(
        fake.url,
        deployments='"dora"',
        deploy_query='"env:production"',
        monitor_query='"source:alert"',
    )
    path = tmp_path / "scorecard.toml"
    path.write_text(text, encoding="utf-8")
    from scorecard.config import load_config

    config = load_config(path)
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.stats.items["deployments"] == 7
    assert len(fake.posted) == 4  # full pages of 3 narrow the window to their oldest finish
    assert all(p["data"]["attributes"]["query"] == "env:production" for p in fake.posted)

    report = cached_scorecard(config, store, REQUEST).report
    rows = {row["team"]: row for row in json.loads(export.render(report, "json"))["rows"]}
    pay, srch = rows["Payments"], rows["Search"]
    assert pay["change_failure_rate"] == pytest.approx(1 / 5)
    assert pay["recovery_time_p50_hours"] == pytest.approx(2.0)
    assert pay["incidents"] == 1 and pay["incidents_sev1_2"] == 1
    assert srch["change_failure_rate"] == pytest.approx(1 / 2)
    assert srch["recovery_time_p50_hours"] == pytest.approx(0.5)

    spec = load_spec("datadog", "v2-openapi.trimmed.json")
    request_schema = operation(spec, "/api/v2/dora/deployments", "post")["requestBody"]
    body_schema = request_schema["content"]["application/json"]["schema"]
    for sent in fake.posted:
        validate(spec, body_schema, sent)
    schemas = {
        "/api/v2/dora/deployments": response_schema(spec, "/api/v2/dora/deployments", "post"),
        "/api/v2/events": response_schema(spec, "/api/v2/events"),
        "/api/v2/incidents/search": response_schema(spec, "/api/v2/incidents/search"),
    }
    for answered, body in fake.answers:
        validate(spec, schemas[answered], body)
