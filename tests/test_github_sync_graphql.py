"""The github source over GraphQL (the default; SPEC §14) against the fake GitHub, whose
``/graphql`` executes the queries against GitHub's public schema over the same data
its REST side serves: the same events as REST for far fewer requests, GraphQL's
rate limits, partial errors and 502s, and commit containment end to end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scorecard import export
from scorecard.request import ScoreRequest
from scorecard.service import cached_scorecard
from scorecard.sources import http
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.github import FakeGitHub
from tests.fakes.github_graphql import require_schema
from tests.fakes.server import FakeServer
from tests.test_github import NOW, TOKEN, build_org, org_config

KINDS = ("deployments", "changes", "ci_runs")


@pytest.fixture(autouse=True)
def schema() -> None:
    require_schema()


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GH_TEST_TOKEN", TOKEN)
    return TOKEN


def events(store: Store) -> dict[str, pd.DataFrame]:
    """The cached events in a comparable form (the REST URL of a deployment aside)."""
    frames = store.load()
    out = {}
    for kind in KINDS:
        frame = frames[kind].drop(columns=["url"], errors="ignore")
        out[kind] = frame.sort_values("id").reset_index(drop=True)
    return out


def graphql_config(url: str, **options: Any) -> Any:
    return org_config(url, graphql=True, **options)


async def test_same_events_as_rest_for_a_fraction_of_the_requests(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    rest, graph = Store(tmp_path / "rest"), Store(tmp_path / "graphql")
    await sync(org_config(fake_server.url), rest, ScoreRequest.resolve(now=NOW))
    rest_requests = len(fake_server.log)
    fake_server.log.clear()

    summary = await sync(graphql_config(fake_server.url), graph, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].last_error is None and summary.outcomes[0].complete
    for kind, frame in events(rest).items():
        pd.testing.assert_frame_equal(events(graph)[kind], frame, obj=kind)

    exports = [
        export.render(cached_scorecard(cfg, store, ScoreRequest.resolve(now=NOW)).report, "csv")
        for cfg, store in (
            (org_config(fake_server.url), rest),
            (graphql_config(fake_server.url), graph),
        )
    ]
    assert exports[0] == exports[1] and "Payments" in exports[0]  # same per-team numbers

    paths = [r.path for r in fake_server.log]
    per_item = [p for p in paths if p.endswith("/statuses") or "/pulls/" in p]
    assert not per_item, per_item  # statuses and first commits come with their listings
    stats = graph.statuses()["gh"].stats
    assert stats.points == fake.graphql.points > 0
    assert stats.spent < rest_requests, (stats.spent, rest_requests)  # runs dominate here
    assert stats.points_remaining == fake.graphql.remaining
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in fake_server.log)


async def test_unchanged_resync_costs_at_most_two_per_repo(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    build_org(fake_server)
    store = Store(tmp_path / "cache")
    config = graphql_config(fake_server.url)
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    before = events(store)
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10)))
    assert summary.outcomes[0].complete
    stats = store.statuses()["gh"].stats
    assert stats.spent <= 2 * 2, stats  # two repos: one point per GraphQL listing
    for kind, frame in before.items():
        assert sorted(events(store)[kind]["id"]) == sorted(frame["id"]), kind


async def test_incremental_sync_matches_rest(
    fake_server: FakeServer, token: str, tmp_path: Path
) -> None:
    fake = build_org(fake_server)
    stores = {"rest": Store(tmp_path / "rest"), "graphql": Store(tmp_path / "graphql")}
    configs = {"rest": org_config(fake_server.url), "graphql": graphql_config(fake_server.url)}
    for name, store in stores.items():
        await sync(configs[name], store, ScoreRequest.resolve(now=NOW))
    pay = fake.repos["acme/payments-api"]
    t = NOW + timedelta(hours=2)
    pay.deploy(7, "f" * 40, "production", t, [("success", t + timedelta(minutes=6))])
    pay.pull(14, NOW + timedelta(hours=1), NOW - timedelta(days=1))
    pay.statuses[8].insert(0, {"id": 801, "state": "success", "created_at": "2024-03-10T12:30:00Z"})
    later = ScoreRequest.resolve(now=NOW + timedelta(hours=6))
    for name, store in stores.items():
        await sync(configs[name], store, later)
    rest, graph = events(stores["rest"]), events(stores["graphql"])
    for kind in KINDS:
        pd.testing.assert_frame_equal(graph[kind], rest[kind], obj=kind)
    d8 = graph["deployments"].set_index("id").loc["acme/payments-api/deployments/8"]
    assert d8["status"] == "success"


async def test_rate_limited_queries_are_waited_out_or_stop_with_partial_data(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = build_org(fake_server)
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)
        fake.graphql.used = 0  # the budget resets while we wait

    monkeypatch.setattr(http, "sleep", no_sleep)
    monkeypatch.setattr(http, "clock", lambda: fake.graphql.reset_at.timestamp() - 30)
    fake.graphql.limit = 3
    summary = await sync(
        graphql_config(fake_server.url, max_wait_s=60),
        Store(tmp_path / "a"),
        ScoreRequest.resolve(now=NOW),
    )
    assert summary.outcomes[0].complete and waits and all(w <= 60 for w in waits)

    fake.graphql.used = fake.graphql.limit
    store = Store(tmp_path / "b")
    summary = await sync(
        graphql_config(fake_server.url, max_wait_s=5), store, ScoreRequest.resolve(now=NOW)
    )
    outcome = summary.outcomes[0]
    assert not outcome.complete
    assert any("GraphQL rate limit" in p and "max_wait_s" in p for p in outcome.problems)


async def test_a_502_is_retried_and_a_broken_repo_is_a_problem_not_a_failure(
    fake_server: FakeServer, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = build_org(fake_server)

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(http, "sleep", no_sleep)
    fake.graphql.fail_next(502)
    fake.graphql.break_repo("acme/search")
    store = Store(tmp_path / "cache")
    summary = await sync(graphql_config(fake_server.url), store, ScoreRequest.resolve(now=NOW))
    outcome = summary.outcomes[0]
    assert outcome.last_error is None and not outcome.complete
    assert outcome.stats.retries >= 1
    assert any("acme/search" in p and "Resource not accessible" in p for p in outcome.problems)
    deployments = store.load()["deployments"]
    assert "acme/payments-api/deployments/2" in set(deployments["id"])


def containment_org(server: FakeServer) -> FakeGitHub:
    """A trunk with merges m1..m4 and a hotfix: deploy 21 of m1 starts before m2 is
    merged and finishes after it (the time rule would give m2 to it); hotfix 23 ships
    m3's fix from a branch before the trunk's deploy 24."""
    fake = FakeGitHub(server)
    repo = fake.repo("acme/payments-api")
    fake.repo("acme/search")
    hour = timedelta(hours=1)
    t0 = NOW - timedelta(days=3)
    for n in range(1, 5):
        sha = f"{n:040d}"
        repo.commit(sha, t0 + n * 2 * hour)
        repo.pull(100 + n, t0 + n * 2 * hour, t0 - 10 * hour, merge_sha=sha)
    repo.branch_commit("h" * 40, t0 + 7 * hour, parent=f"{3:040d}")
    deploys = [
        (21, f"{1:040d}", 2.5, 4.5),  # m1, merged at 2h; finishes after m2's merge (4h)
        (22, f"{2:040d}", 6, 6.5),  # m2
        (23, "h" * 40, 7.5, 8),  # hotfix on top of m3
        (24, f"{4:040d}", 12, 12.5),  # m4 (and m3)
    ]
    for ident, sha, start, end in deploys:
        ref = "hotfix" if sha == "h" * 40 else "main"
        repo.deploy(
            ident, sha, "production", t0 + start * hour, [("success", t0 + end * hour)], ref=ref
        )
    return fake


@pytest.mark.parametrize("graphql", [True, False])
async def test_changes_ship_with_the_deployment_containing_their_merge(
    fake_server: FakeServer, token: str, tmp_path: Path, graphql: bool
) -> None:
    containment_org(fake_server)
    store = Store(tmp_path / "cache")
    config = org_config(fake_server.url, graphql=graphql)
    summary = await sync(config, store, ScoreRequest.resolve(now=NOW))
    assert summary.outcomes[0].complete, summary.outcomes[0].problems
    changes = store.load()["changes"].set_index("id")["deployment_id"]
    shipped = {k.rsplit("/", 1)[-1]: str(v).rsplit("/", 1)[-1] for k, v in changes.items()}
    assert shipped == {"101": "21", "102": "22", "103": "23", "104": "24"}
