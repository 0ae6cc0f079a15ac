"""The codecov source against a fake Codecov API v2: trend, commit fallback, totals, failures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import codecov
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.codecov import FakeCodecov, days_back
from tests.fakes.server import FakeServer, Reply
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
TOKEN = "codecov-SENTINEL-0123456789abcdef"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CODECOV_TEST_TOKEN", TOKEN)
    return TOKEN


def org_config(fake: FakeCodecov, **options: Any) -> Config:
    source = source_config(
        name="cov",
        kind="codecov",
        api_url=fake.url,
        token_env="CODECOV_TEST_TOKEN",
        timeout_s=5,
        options={"service": fake.service, **options},
    )
    return Config(
        path=None,
        teams=(
            TeamConfig(
                name="Payments", repos=("acme/payments-api",), coverage_repos=("acme/payments-web",)
            ),
            TeamConfig(name="Search", repos=("acme/search",)),
        ),
        sources=(source,),
    )


def build(server: FakeServer, service: str = "github") -> FakeCodecov:
    fake = FakeCodecov(server, service=service)
    api = fake.repo("acme/payments-api", coverage=71.5, updated=NOW - 2 * HOUR)
    for k, day in enumerate(days_back(NOW, 200)):
        api.daily[day] = 60.0 + k * 0.05
    web = fake.repo("acme/payments-web", coverage=55.0, updated=NOW - DAY, trend_available=False)
    for k in range(10):
        day = NOW - (k + 1) * DAY
        web.commits.append((day.replace(hour=9), 50.0 + k))
        web.commits.append((day.replace(hour=17), 51.0 + k))  # the day's last commit wins
    web.commits.append((NOW - 2 * DAY + HOUR, None))  # still processing: no totals
    web.commits.append((NOW - 300 * DAY, 10.0))  # older than the range
    search = fake.repo("acme/search", coverage=90.0, updated=NOW - HOUR)
    for day in days_back(NOW, 5):
        search.daily[day] = 88.0
    return fake


def test_repo_lists_and_names() -> None:
    config = Config(
        path=None,
        teams=(
            TeamConfig(name="A", repos=("o/a",), coverage_repos=("o/a-web",)),
            TeamConfig(name="B", repos=("o/b",), coverage_repos=("o/a",)),
        ),
    )
    assert codecov.coverage_repos(config) == [("o/a", "A"), ("o/a-web", "A"), ("o/b", "B")]
    assert codecov.split_repo("group/sub/proj", None) == ("group/sub", "proj")
    assert codecov.split_repo("proj", "acme") == ("acme", "proj")
    assert codecov.split_repo("proj", None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(80, 80.0), (80.25, 80.25), ("67.5", 67.5), (0, 0.0), (100, 100.0)]
    + [(v, None) for v in (None, -1, 100.5, "n/a", True, float("nan"))],
)
def test_percent(value: Any, expected: float | None) -> None:
    assert codecov._percent(value) == expected


async def test_full_sync_trend_fallback_and_totals(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server)
    store = Store(tmp_path / "cache")
    summary = await sync(org_config(fake), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and outcome.complete, outcome
    assert outcome.skipped == 0
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake_server.log)
    trend = fake_server.requests("/api/v2/github/acme/repos/payments-api/coverage/")
    assert len(trend) == 2  # 180 buckets at 100 per page, followed by `next`
    assert trend[0].query["interval"] == "1d" and trend[0].query["branch"] == "main"

    coverage = store.load()["coverage"]
    api = coverage[coverage["repo"] == "acme/payments-api"]
    assert (api["team"] == "Payments").all()
    # 180 daily buckets in range (plus today's, cut at now) and the current totals.
    assert len(api) >= 180
    last = api.sort_values("measured_at").iloc[-1]
    assert last["line_coverage"] == pytest.approx(71.5)
    yesterday = NOW.replace(hour=0, minute=0, second=0, microsecond=0) - DAY
    bucket = api[api["measured_at"] == yesterday + DAY]  # a day's bucket counts at its end
    assert len(bucket) == 1 and bucket["line_coverage"].iloc[0] == pytest.approx(60.0 + 199 * 0.05)

    web = coverage[coverage["repo"] == "acme/payments-web"].sort_values("measured_at")
    assert (web["team"] == "Payments").all()
    by_time = dict(zip(web["measured_at"], web["line_coverage"]))
    day1 = (NOW - DAY).replace(hour=17)
    assert by_time[day1] == 51.0 and (NOW - DAY).replace(hour=9) not in by_time
    assert (NOW - 300 * DAY) not in by_time
    assert len(web) == 10 + 1  # ten days of commits + the current totals
    assert outcome.stats.items["commit_fallbacks"] == 1

    search = coverage[coverage["repo"] == "acme/search"]
    assert (search["team"] == "Search").all() and len(search) == 6


async def test_other_git_services_are_in_the_path(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build(fake_server, service="gitlab")
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].last_error is None
    assert all(r.path.startswith("/api/v2/gitlab/") for r in fake_server.log)


async def test_rate_limits_bad_records_and_a_missing_repo(
    fake_server: FakeServer, token: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = build(fake_server)
    search = fake.repos["acme/search"]
    search.daily[days_back(NOW, 1)[0]] = 140.0  # not a percentage
    fake_server.fault(
        "/api/v2/github/acme/repos/payments-api/coverage/",
        Reply(
            429,
            {"detail": "Request was throttled. Expected available in 3 seconds."},
            {"Retry-After": "3"},
        ),
    )
    store = Store(tmp_path / "cache")
    config = org_config(fake)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    before = store.load()["coverage"]
    assert waits == [3.0]

    # The repo disappears from Codecov: its previous samples stay, the others refresh.
    del fake.repos["acme/payments-web"]
    fake_server.fault(
        "/api/v2/github/acme/repos/search/coverage/", Reply(200, b"{not json", etag=False)
    )
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + HOUR))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert any("acme/payments-web" in p and "404" in p for p in outcome.problems)
    assert outcome.stats.malformed == 1 and outcome.skipped >= 1
    after = store.load()["coverage"]
    web_before = before[before["repo"] == "acme/payments-web"]
    web_after = after[after["repo"] == "acme/payments-web"]
    assert len(web_after) == len(web_before) == 11
    assert all(TOKEN not in p for p in outcome.problems)


async def test_every_repo_failing_fails_the_source(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = FakeCodecov(fake_server)  # knows no repos
    summary = await sync(org_config(fake), Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    error = summary.outcomes[0].last_error
    assert error is not None and "404" in error


async def test_probe_for_config_check(fake_server: FakeServer, token: str) -> None:
    from scorecard.sources.registry import build_source

    fake = build(fake_server)
    config = org_config(fake)
    source: Any = build_source(config.sources[0], config=config)
    assert await source.probe() == "3 repos reachable"
    assert len(fake_server.log) == 3
