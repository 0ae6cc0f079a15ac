"""The pagerduty source: mapping tables, and syncs against a fake PagerDuty REST API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import pagerduty
from scorecard.sources.incidents import (
    DEFAULT_PRIORITIES,
    DeploymentLinker,
    Vocabulary,
    severity_table,
)
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.pagerduty import FakePagerDuty, incident
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TOKEN = "u+PDSENTINEL0123456789"


def vocabularies(overrides: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statuses": Vocabulary("PagerDuty status", pagerduty.STATUSES),
        "priorities": Vocabulary(
            "PagerDuty priority", severity_table(DEFAULT_PRIORITIES, overrides)
        ),
        "urgencies": Vocabulary(
            "PagerDuty urgency", severity_table(pagerduty.URGENCIES, overrides)
        ),
    }


def record(item: dict[str, Any], pattern: str | None = None, **kw: Any) -> Any:
    vocab = kw.pop("vocab", None) or vocabularies()
    return pagerduty.incident_record(
        item,
        source="pd",
        service_teams={"PSVC001": "Payments"},
        linker=DeploymentLinker(pattern),
        **vocab,
    )


def test_incident_mapping() -> None:
    t = NOW - DAY
    rec = record(incident("Q1", t, resolved=t + 2 * HOUR, priority="P1"))
    assert rec["id"] == "Q1" and rec["team"] == "Payments" and rec["service"] == "payments-api"
    assert rec["severity"] == "sev1" and rec["resolved_at"] == t + 2 * HOUR
    assert rec["url"] == "https://acme.pagerduty.com/incidents/Q1"
    assert rec["deployment_id"] is None
    # No priority: urgency decides.
    assert record(incident("Q2", t, urgency="low"))["severity"] == "sev4"
    assert record(incident("Q3", t, urgency="high"))["severity"] == "sev2"
    # Open incidents have no resolved_at; acknowledged is open.
    open_ = record(incident("Q4", t, status="acknowledged"))
    assert open_["resolved_at"] is None
    # Another service: the team is left to service mapping.
    other = record(incident("Q5", t, service=("POTHER", "search")))
    assert other["team"] is None and other["service"] == "search"
    # resolved_at falls back to last_status_change_at.
    item = incident("Q6", t, resolved=t + HOUR)
    item["resolved_at"] = None
    assert record(item)["resolved_at"] == t + HOUR


@pytest.mark.parametrize(
    ("priority", "urgency", "overrides", "expected"),
    [
        ("P1", "low", None, "sev1"),
        ("P2", "high", None, "sev2"),
        ("P3", "high", None, "sev3"),
        ("P4", "high", None, "sev4"),
        ("P5", "high", None, "sev5"),
        (None, "high", None, "sev2"),
        (None, "low", None, "sev4"),
        ("SEV-0", "low", {"SEV-0": "sev1"}, "sev1"),
        (None, "high", {"high": "sev1"}, "sev1"),
        ("p2", "low", None, "sev2"),  # case-insensitive
        ("Custom", "low", None, "sev4"),  # unknown priority: urgency decides, counted
    ],
)
def test_severity_table(
    priority: str | None, urgency: str, overrides: dict[str, str] | None, expected: str
) -> None:
    vocab = vocabularies(overrides)
    rec = record(incident("Q", NOW, priority=priority, urgency=urgency), vocab=vocab)
    assert rec["severity"] == expected
    if priority == "Custom":
        assert vocab["priorities"].unknown == {"Custom": 1}


def test_unknown_values_are_counted_not_fatal() -> None:
    vocab = vocabularies()
    bad_status = record(incident("Q", NOW, status="snoozed"), vocab=vocab)
    assert isinstance(bad_status, str) and "snoozed" in bad_status
    bad_urgency = record(incident("Q", NOW, urgency="critical"), vocab=vocab)
    assert isinstance(bad_urgency, str)
    assert vocab["statuses"].unknown == {"snoozed": 1}
    assert vocab["urgencies"].unknown == {"critical": 1}
    missing = incident("Q", NOW)
    del missing["created_at"]
    assert isinstance(record(missing), str)


def test_deployment_link_pattern() -> None:
    item = incident("Q", NOW, title="Errors after deploy dep-42", description="see runbook")
    assert record(item, r"\bdep-\d+")["deployment_id"] == "dep-42"
    assert record(item, r"deploy (?P<deployment>dep-\d+)")["deployment_id"] == "dep-42"
    body = incident("Q", NOW, title="Errors", description="caused by: acme/api/deployments/7")
    assert record(body, r"caused by: (\S+)")["deployment_id"] == "acme/api/deployments/7"
    assert record(body, r"nomatch(\d+)")["deployment_id"] is None


# --- syncs against the fake ------------------------------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PD_TEST_TOKEN", TOKEN)
    return TOKEN


def org_config(fake: FakePagerDuty, **options: Any) -> Config:
    source = source_config(
        name="pd",
        kind="pagerduty",
        api_url=fake.url,
        token_env="PD_TEST_TOKEN",
        timeout_s=5,
        options=options,
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", pagerduty_services=("PSVC001",)),
            TeamConfig(name="Search", services=("search",), pagerduty_services=("PSVC002",)),
        ),
        sources=(source,),
    )


def build(server: FakeServer, n: int = 250) -> FakePagerDuty:
    fake = FakePagerDuty(server)
    for i in range(n):
        created = NOW - timedelta(hours=3 * (i + 1))
        service = ("PSVC001", "payments-api") if i % 2 == 0 else ("PSVC002", "search")
        fake.incidents.append(
            incident(f"P{i:04d}", created, service=service, resolved=created + HOUR, number=i)
        )
    return fake


async def test_full_sync_pages_to_the_end(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 250 and outcome.skipped == 0
    requests = fake_server.requests("/incidents")
    # 180 days of history is two ranges (PagerDuty allows at most six months per query):
    # 100 + 100 + 49 incidents in the first, 1 in the second.
    assert len(requests) == 4
    assert [r.query["offset"] for r in requests] == ["0", "100", "200", "0"]
    assert all(r.headers["authorization"] == f"Token token={TOKEN}" for r in requests)
    assert all("application/vnd.pagerduty+json;version=2" in r.headers["accept"] for r in requests)
    assert requests[0].query["total"] == "true" and requests[0].query["time_zone"] == "UTC"
    assert "service_ids[]" in requests[0].query
    incidents = store.load()["incidents"].set_index("id")
    assert incidents.loc["P0000", "team"] == "Payments"
    assert incidents.loc["P0001", "team"] == "Search"
    assert incidents.loc["P0001", "service"] == "search"
    assert (incidents["severity"] == "sev2").all()
    assert store.statuses()["pd"].stats.rate_limit_remaining == 959


async def test_offset_cap_is_handled_by_chunking(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagerduty, "OFFSET_CAP", 30)
    monkeypatch.setattr(pagerduty, "PAGE_LIMIT", 10)
    fake = build(fake_server, n=200)
    fake.cap = 30
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert all(r.status == 200 for r in fake_server.log)
    assert len(store.load()["incidents"]) == 200
    # Each piece read fits under the cap.
    assert max(int(r.query["offset"]) + int(r.query["limit"]) for r in fake_server.log) <= 30


async def test_offset_cap_without_a_total_continues_from_the_newest(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagerduty, "OFFSET_CAP", 30)
    monkeypatch.setattr(pagerduty, "PAGE_LIMIT", 10)
    fake = build(fake_server, n=95)
    fake.cap = 30
    original = fake._incidents

    def no_total(request: Any, server: FakeServer) -> Reply:
        reply = original(request, server)
        if isinstance(reply.body, dict) and "total" in reply.body:
            reply.body["total"] = None
        return reply

    fake_server.routes.insert(0, (lambda p: p == "/incidents", no_total))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].last_error is None and summary.outcomes[0].complete
    assert all(r.status == 200 for r in fake_server.log)
    assert len(store.load()["incidents"]) == 95


async def test_rate_limit_waits_and_bad_records(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server, n=20)
    t = NOW - 2 * DAY
    bad_status = incident("BADSTAT", t, status="snoozed")
    bad_urgency = incident("BADURG", t, urgency="critical")
    merged = incident("MERGED", t)
    merged["resolve_reason"] = {
        "type": "merge_resolve_reason",
        "incident": {"id": "P0001", "type": "incident_reference"},
    }
    fake.incidents += [bad_status, bad_urgency, merged]
    fake_server.fault(
        "/incidents",
        Reply(
            429,
            {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
            {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "2"},
        ),
        Reply(502),
    )
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert waits[0] == 2.0 and outcome.stats.retries == 2
    ids = set(store.load()["incidents"]["id"])
    assert len(ids) == 20 and "MERGED" not in ids
    assert outcome.skipped == 2
    assert outcome.stats.items["excluded"] == 1
    assert outcome.stats.items["unknown.pagerduty_status"] == 1
    assert outcome.stats.items["unknown.pagerduty_urgency"] == 1
    assert any("unknown PagerDuty status 'snoozed'" in p for p in outcome.problems)
    assert all(TOKEN not in p for p in outcome.problems)


async def test_malformed_page_is_counted(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server, n=5)
    fake_server.fault("/incidents", Reply(200, b'{"incidents": [', etag=False))
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.malformed == 1 and outcome.skipped == 1


async def test_incremental_sync_rereads_recent_and_open_incidents(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server, n=50)
    still_open = incident("OPEN1", NOW - 5 * DAY, status="triggered")
    fake.incidents.append(still_open)
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    fake_server.log.clear()
    # Later: the open incident resolved, and a new one arrived.
    fake.incidents.remove(still_open)
    fake.incidents.append(incident("OPEN1", NOW - 5 * DAY, resolved=NOW + HOUR))
    fake.incidents.append(incident("NEW1", NOW + HOUR))
    later = NOW + 2 * HOUR
    await sync(config, store, ScoreRequest.resolve(now=later))
    first = fake_server.log[0]
    assert first.query["since"] == (NOW - 5 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    incidents = store.load()["incidents"].set_index("id")
    assert len(incidents) == 52
    assert incidents.loc["OPEN1", "resolved_at"] == NOW + HOUR
    assert "P0049" in incidents.index  # older incidents kept from the cache


async def test_bad_token_fails_the_source(
    fake_server: FakeServer, tmp_path: Path, token: str
) -> None:
    fake = build(fake_server, n=1)
    fake_server.fault(
        "/incidents", Reply(401, {"error": {"message": "Authentication required", "code": 2006}})
    )
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "401" in error and TOKEN not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build(fake_server, n=3)
    config = org_config(fake)
    source: Any = build_source(config.sources[0], config=config)
    detail = await source.probe()
    assert "2 services" in detail and "959 left" in detail
    assert fake_server.log[0].query["limit"] == "1"
