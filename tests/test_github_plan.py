"""`scorecard sync --plan` (SPEC §14): the GitHub source's estimate is close to what the
sync then spends, costs little itself, and writes nothing; a realistic repo's first
sync stays within 30 requests + points, an unchanged re-sync within 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.store import Store
from scorecard.sync import plan, sync
from tests.fakes.github import FakeGitHub
from tests.fakes.github_graphql import require_schema
from tests.fakes.github_profile import realistic_repo
from tests.fakes.server import FakeServer
from tests.source_config import source_config
from tests.test_github import NOW, TOKEN

REPOS = ("acme/api", "acme/web", "acme/jobs")


@pytest.fixture(autouse=True)
def setup(monkeypatch: pytest.MonkeyPatch) -> None:
    require_schema()
    monkeypatch.setenv("GH_TEST_TOKEN", TOKEN)


def org(server: FakeServer, *, scale: float) -> FakeGitHub:
    fake = FakeGitHub(server)
    for n, name in enumerate(REPOS):
        realistic_repo(fake, name, NOW, seed=n, scale=scale)
    return fake


def config(url: str, **options: object) -> Config:
    source = source_config(
        name="gh",
        kind="github",
        api_url=url,
        token_env="GH_TEST_TOKEN",
        timeout_s=5,
        max_concurrency=8,
        options=dict(options),
    )
    teams = (TeamConfig(name="Core", repos=REPOS[:2]), TeamConfig(name="Jobs", repos=REPOS[2:]))
    return Config(path=None, teams=teams, sources=(source,))


def files(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*")} if root.exists() else {}


async def test_plan_is_within_a_fifth_of_what_the_sync_spends(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake = org(fake_server, scale=0.4)
    cfg = config(fake_server.url)
    request = ScoreRequest.resolve(now=NOW)
    [estimate] = await plan(cfg, Store(tmp_path / "cache", read_only=True), request)
    assert estimate.error is None and estimate.requests is not None
    assert estimate.graphql is not None and estimate.graphql.remaining == 5000
    assert estimate.rest is not None and estimate.rest.limit == 5000
    # per repo its default branch and a runs count; one count query for the batch
    assert estimate.spent <= 2 * len(REPOS) + 1
    assert not files(tmp_path / "cache"), "a plan writes nothing"
    predicted = estimate.requests + estimate.points

    used = fake.graphql.points
    store = Store(tmp_path / "cache")
    await sync(cfg, store, request)
    spent = store.statuses()["gh"].stats.spent
    assert fake.graphql.points - used == store.statuses()["gh"].stats.points
    assert abs(predicted - spent) <= 0.2 * spent, (predicted, spent)
    assert "requests" in estimate.basis or "repos" in estimate.basis


async def test_first_sync_and_resync_stay_within_the_quota_budget(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    org(fake_server, scale=1.0)
    store = Store(tmp_path / "cache")
    cfg = config(fake_server.url)
    await sync(cfg, store, ScoreRequest.resolve(now=NOW))
    first = store.statuses()["gh"].stats
    assert first.spent <= 30 * len(REPOS), first
    assert first.items["deployments"] >= 200 * len(REPOS)

    before = files(tmp_path / "cache")
    [again] = await plan(cfg, store, ScoreRequest.resolve(now=NOW))
    assert files(tmp_path / "cache") == before, "a plan writes nothing"
    assert again.points <= 2 * len(REPOS)

    await sync(cfg, store, ScoreRequest.resolve(now=NOW))
    resync = store.statuses()["gh"].stats
    assert resync.spent <= 2 * len(REPOS), resync


async def test_rest_only_sources_are_planned_from_their_last_sync(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    org(fake_server, scale=0.1)
    cfg = config(fake_server.url, graphql=False)
    [before] = await plan(
        cfg, Store(tmp_path / "cache", read_only=True), ScoreRequest.resolve(now=NOW)
    )
    store = Store(tmp_path / "cache")
    assert before.points == 0 and before.requests is not None  # runs and the repo only
    await sync(cfg, store, ScoreRequest.resolve(now=NOW))
    assert os.path.isdir(tmp_path / "cache")


async def test_a_stopped_first_sync_has_the_present_and_resumes_the_past(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newest first across the org: the current and previous windows of every repo
    come before older history, a spent GraphQL budget stops the backfill, and the
    next sync resumes it from where it stopped (cursors), ending where a sync that
    never stopped ends."""
    from dataclasses import replace

    fake = org(fake_server, scale=0.8)  # two pages of deployments and of pull requests
    request = ScoreRequest.resolve(now=NOW)
    full = Store(tmp_path / "full")
    await sync(config(fake_server.url), full, request)
    recent_only = replace(config(fake_server.url), history_days=2 * request.window_days)
    await sync(recent_only, Store(tmp_path / "recent"), request)
    phase_one = fake.graphql.points - full.statuses()["gh"].stats.points

    fake.graphql.used, fake.graphql.limit = 0, phase_one + 1
    store = Store(tmp_path / "cache")
    cfg = config(fake_server.url, max_wait_s=1)
    summary = await sync(cfg, store, request)
    stopped = summary.outcomes[0]
    assert not stopped.complete and any("GraphQL rate limit" in p for p in stopped.problems)
    assert set(stopped.complete_since) == set(REPOS)
    assert all(when <= request.previous_start for when in stopped.complete_since.values())
    assert "older history still to fetch for 3 repo(s)" in summary.table()
    saved = store.statuses()["gh"]
    assert saved.complete_since == stopped.complete_since  # kept for the Sources screen
    recent = full.load()["deployments"]
    recent = recent[recent["started_at"] >= request.previous_start]
    assert set(recent["id"]) <= set(store.load()["deployments"]["id"])
    assert "backfill" in "".join(str(v) for v in store.state("gh")["repos"].values())

    fake.graphql.used, fake.graphql.limit = 0, 5000
    fake.graphql.log.clear()
    summary = await sync(cfg, store, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].complete and not summary.outcomes[0].complete_since
    resumed = [s for s in fake.graphql.log if s.variables.get("after")]
    assert resumed, "the backfill resumed at a saved cursor"
    for kind in ("deployments", "changes", "ci_runs"):
        got, want = store.load()[kind], full.load()[kind]
        assert sorted(got["id"]) == sorted(want["id"]), kind


async def test_config_check_points_large_orgs_to_the_plan(fake_server: FakeServer) -> None:
    from scorecard.sources import build_source

    fake = FakeGitHub(fake_server)
    names = [f"acme/r{n:02d}" for n in range(20)]
    for name in names:
        fake.repo(name)
    source = config(fake_server.url)
    many = Config(
        path=None, teams=(TeamConfig(name="Core", repos=tuple(names)),), sources=source.sources
    )
    probe = await build_source(many.sources[0], config=many).probe()  # type: ignore[attr-defined]
    assert probe.startswith("20 repos reachable")
    assert "`scorecard sync --plan --source gh`" in probe
