"""The sentry source: parsing Sentry's documented payloads, the fake's answers held to
Sentry's published OpenAPI description, and syncs end to end (config -> sync ->
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
from scorecard.sources import sentry
from scorecard.sources.records import Collected
from scorecard.store import Store
from scorecard.sync import sync
from tests.api_specs import examples, load_spec, response_schema, validate
from tests.fakes.sentry import (
    DEPLOYS,
    ISSUES,
    RELEASES,
    TOKEN,
    FakeSentry,
    deploy,
    issue,
    release,
    throttled,
)
from tests.fakes.server import FakeServer, Reply

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
REQUEST = ScoreRequest.resolve(now=NOW)
PROJECT_RELEASES = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/releases/"
RELEASE_DEPLOYS = "/api/0/organizations/{organization_id_or_slug}/releases/{version}/deploys/"
PROJECT_ISSUES = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/issues/"


def config_text(url: str, **extra: str) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return f"""
[sources.sentry]
kind = "sentry"
api_url = "{url}"
token_env = "SENTRY_TEST_TOKEN"
organization = "acme"
projects = ["payments-api", "search"]
timeout_s = 5
{lines}

[sources.sentry.team_map]
payments-api = "Payments"

[[teams]]
name = "Payments"
services = ["payments-api"]

[[teams]]
name = "Search"
services = ["search"]
"""


def make(url: str = "https://sentry.io", **extra: str) -> Config:
    return parse_config(config_text(url, **extra), None)


def source(**extra: str) -> sentry.SentrySource:
    config = make(**extra)
    return sentry.SentrySource(config.sources[0], config=config)


def a_deploy(finished: datetime = NOW - DAY) -> sentry.Deploy:
    return sentry.Deploy(
        "sentry/acme/payments-api/deploys/7", "payments-api", "v7", "production", finished
    )


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SENTRY_TEST_TOKEN", TOKEN)
    return TOKEN


# --- parsing ---------------------------------------------------------------------------


def test_the_documented_issue_examples_parse() -> None:
    spec = load_spec("sentry", "openapi-derefed.json")
    documented = [i for body in examples(spec, PROJECT_ISSUES) for i in body]
    assert documented
    first_seen = datetime(2018, 11, 6, 21, 19, 55, tzinfo=UTC)
    src = source()
    record = src.issue_record(documented[0], a_deploy(first_seen - HOUR))
    assert isinstance(record, dict)
    assert record["severity"] == "sev3" and record["created_at"] == first_seen  # level error
    assert record["resolved_at"] is None and record["deployment_id"].endswith("/deploys/7")
    assert record["url"] == "https://sentry.io/the-interstellar-jurisdiction/pump-station/issues/1/"
    # First seen more than issue_window_hours after the deploy: not this deploy's incident.
    assert src.issue_record(documented[0], a_deploy(first_seen - 2 * DAY)) is None


def test_the_documented_release_examples_are_read() -> None:
    spec = load_spec("sentry", "openapi-derefed.json")
    listed = [r for body in examples(spec, PROJECT_RELEASES) for r in body]
    assert listed and listed[0]["version"] == "frontend@1.0.0"
    # Never deployed (lastDeploy null): no deploy listing is asked for.
    assert not sentry.SentrySource.deployed_since(listed[0], NOW - 365 * DAY)
    src = source()
    collected = Collected()
    kept = src.deploy(deploy("d1", NOW - DAY), "payments-api", listed[0], collected)
    assert kept is not None and kept.version == "frontend@1.0.0"
    record = collected.records["deployments"][0]
    assert record["commit_sha"] is None and record["team"] == "Payments"


@pytest.mark.parametrize(
    ("level", "status", "expected"),
    [
        ("fatal", "unresolved", "sev2"),
        ("error", "resolved", "sev3"),
        ("warning", "unresolved", "sev4"),
        ("error", "ignored", None),
        ("error", "reprocessing", "unknown"),
    ],
)
def test_levels_and_statuses(level: str, status: str, expected: str | None) -> None:
    src = source()
    t = NOW - DAY + HOUR
    record = src.issue_record(
        issue("1", t, release_version="v7", level=level, status=status, last_seen=t + HOUR),
        a_deploy(),
    )
    if expected is None:
        assert record is None
    elif expected == "unknown":
        assert isinstance(record, str) and src.statuses.unknown == {status: 1}
    else:
        assert isinstance(record, dict) and record["severity"] == expected
        assert (record["resolved_at"] == t + HOUR) == (status == "resolved")


def test_the_issue_query_names_the_release_environment_and_levels() -> None:
    src = source(issue_level='"warning"')
    deploy_ = sentry.Deploy("x", "payments-api", 'v"1', "production", NOW)
    assert src.issue_query(deploy_) == (
        'firstRelease:"v\\"1" environment:"production" level:[warning,error,fatal]'
    )


def test_links_say_when_more_results_follow() -> None:
    from scorecard.sources.http import Page

    more = Page(
        "u",
        200,
        headers={"link": '<a>; rel="previous"; results="false", <b>; rel="next"; results="true"'},
    )
    done = Page(
        "u",
        200,
        headers={"link": '<a>; rel="previous"; results="true", <b>; rel="next"; results="false"'},
    )
    assert sentry.has_more(more) and not sentry.has_more(done)


# --- syncs against the fake ------------------------------------------------------------


def build(server: FakeServer) -> FakeSentry:
    fake = FakeSentry(server, per_page=5)
    for k in range(1, 13):
        finished = NOW - k * DAY
        version = f"payments@{k}"
        deploys = [deploy(f"p{k}", finished)]
        if k % 3 == 0:
            deploys.append(deploy(f"s{k}", finished - HOUR, environment="staging"))
        fake.deploys[version] = deploys
        fake.releases.setdefault("payments-api", []).append(
            release(version, finished - 2 * HOUR, last_deploy=deploys[0])
        )
    fake.releases["search"] = [release("search@1", NOW - 40 * DAY, project="search", sha=None)]
    return fake


async def test_sync_pages_with_link_cursors_then_resyncs_from_the_bookmark(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(make(fake.url), store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.items == 12 and outcome.stats.items["excluded"] == 4  # staging deploys
    pages = [r for r in fake_server.log if RELEASES.match(r.path) and "payments-api" in r.path]
    assert [p.query.get("cursor", "start") for p in pages] == ["start", "0:5:0", "0:10:0"]
    deployments = store.load()["deployments"].set_index("id")
    row = deployments.loc["sentry/acme/payments-api/deploys/p1"]
    assert row["team"] == "Payments" and row["commit_sha"] == "a1b2c3d4e5f6"
    assert row["repo"] == "acme/payments-api" and row["environment"] == "production"
    spec = load_spec("sentry", "openapi-derefed.json")
    schemas = {
        RELEASES.pattern: response_schema(spec, PROJECT_RELEASES),
        DEPLOYS.pattern: response_schema(spec, RELEASE_DEPLOYS),
        ISSUES.pattern: response_schema(spec, PROJECT_ISSUES),
    }
    for kind, body in fake.answers:
        validate(spec, schemas[kind], body)

    # A day later: only releases deployed since the bookmark get their deploys read.
    fake_server.log.clear()
    await sync(make(fake.url), store, ScoreRequest.resolve(now=NOW + DAY))
    assert [r.path for r in fake_server.log if DEPLOYS.match(r.path)] == [
        "/api/0/organizations/acme/releases/payments%401/deploys/"
    ]
    assert len(store.load()["deployments"]) == 12


async def test_throttling_and_server_errors_are_retried(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    build(fake_server)
    path = "/api/0/projects/acme/payments-api/releases/"
    fake_server.fault(path, throttled(), Reply(500, {"detail": "Internal Error"}))
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert len(waits) == 2 and outcome.stats.retries == 2 and outcome.items == 12


async def test_a_malformed_page_is_counted(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build(fake_server)
    fake_server.fault("/api/0/projects/acme/search/releases/", Reply(200, b"[{", etag=False))
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete and outcome.stats.malformed == 1
    assert outcome.items == 12


async def test_a_bad_token_fails_clearly_without_it(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(fake_server)
    monkeypatch.setenv("SENTRY_TEST_TOKEN", "sntrys_wrong_SENTINEL")
    summary = await sync(make(fake_server.url), Store(tmp_path / "cache"), REQUEST)
    error = summary.outcomes[0].last_error or ""
    assert "HTTP 401" in error and "SENTINEL" not in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    build(fake_server)
    config = make(fake_server.url)
    built: Any = build_source(config.sources[0], config=config)
    assert await built.probe() == "2 projects reachable"


async def test_end_to_end_deploys_and_new_issues_to_export(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = FakeSentry(fake_server)
    for k in (1, 2, 3, 4):
        finished = NOW - k * 2 * DAY
        fake.deploys[f"pay@{k}"] = [deploy(f"p{k}", finished)]
        fake.releases.setdefault("payments-api", []).append(
            release(f"pay@{k}", finished - HOUR, last_deploy=fake.deploys[f"pay@{k}"][0])
        )
    t4 = NOW - 4 * DAY  # pay@2's deploy
    fake.issues["payments-api"] = [
        # New in pay@2, 30 h after its deploy: beyond incident_link_hours, linked explicitly.
        issue(
            "11",
            t4 + 30 * HOUR,
            release_version="pay@2",
            level="fatal",
            status="resolved",
            last_seen=t4 + 33 * HOUR,
        ),
        issue("12", t4 + HOUR, release_version="pay@2", level="warning"),  # below error
        issue("13", t4 + HOUR, release_version="pay@2", environment="staging"),
    ]
    path = tmp_path / "scorecard.toml"
    path.write_text(
        config_text(fake.url, issue_incidents="true", issue_window_hours="48"), encoding="utf-8"
    )
    from scorecard.config import load_config

    config = load_config(path)
    store = Store(tmp_path / "cache")
    summary = await sync(config, store, REQUEST)
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.stats.items["deployments"] == 4 and outcome.stats.items["incidents"] == 1
    report = cached_scorecard(config, store, REQUEST).report
    rows = {row["team"]: row for row in json.loads(export.render(report, "json"))["rows"]}
    pay = rows["Payments"]
    assert pay["change_failure_rate"] == pytest.approx(1 / 4)
    assert pay["incidents"] == 1 and pay["incidents_sev1_2"] == 1
    assert pay["recovery_time_p50_hours"] == pytest.approx(3.0)
    detail = export.render(report, "csv", "incidents")
    assert "explicit" in detail and "sentry/acme/payments-api/deploys/p2" in detail
