"""Benchmark 3: sync efficiency against a local fake GitHub (SPEC §11), over REST
(``graphql = false``: every page a request, so pages and requests can be compared;
the GraphQL default's quota is benchmark 4, ``bench_quota``).

A threaded fake GitHub on 127.0.0.1 (the one the GitHub source's tests use)
answers every request after 50 ms. It serves 50 repos with 3 pages of every
listing (deployments, default-branch Actions runs, closed pull requests); a
few deployments are production ones (their statuses are one more page each)
and a few pull requests are merged (their commits are one more page each).

Measured:
- requests sent by a full sync vs the minimum (the repo, every listing page,
  one status page per production deployment, one commits page per merged PR);
- wall time of that sync vs the same source run sequentially
  (``max_concurrency = 1``);
- a second sync with nothing changed: every request conditional, all 304.

Needs the GitHub source (``scorecard.sources.github``); without it the
benchmark reports itself as skipped. Worker::

    python -m benchmarks.bench_sync worker
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import emit, log, run_child, secs

SKIPPED = "skipped (github source not available)"
REPOS = 50
PAGES = 3
PER_PAGE = 100
ITEMS = PER_PAGE * (PAGES - 1) + 50  # 250: three pages
PRODUCTION_DEPLOYS = 4  # per repo; the rest deploy to staging (no statuses needed)
MERGED_PULLS = 4  # per repo; the rest were closed unmerged (no commits needed)
LATENCY_S = 0.05
CONCURRENCY = 8  # GitHub asks for no more than 100 concurrent requests
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
BUDGET_SPEEDUP = 4.0


def available() -> bool:
    return importlib.util.find_spec("scorecard.sources.github") is not None


def _fake(server: Any) -> tuple[Any, int]:
    """The fake org and the minimum number of requests a full sync needs."""
    from tests.fakes.github import FakeGitHub

    fake = FakeGitHub(server)
    minimum = 0
    for r in range(REPOS):
        repo = fake.repo(f"acme/repo-{r:02d}")
        minimum += 1  # the repo (default branch)
        for i in range(ITEMS):
            at = NOW - timedelta(hours=6 * (i + 1), minutes=r)
            production = i < PRODUCTION_DEPLOYS
            env = "production" if production else "staging"
            repo.deploy(
                r * 10_000 + i,
                f"{r:04d}{i:036x}",
                env,
                at,
                [("in_progress", at), ("success", at + timedelta(minutes=7))],
            )
            repo.run(r * 10_000 + i, at, conclusion="failure" if i % 9 == 0 else "success")
            repo.pull(
                r * 10_000 + i,
                at if i < MERGED_PULLS else None,
                at - timedelta(hours=20),
            )
        listings = 3 * math.ceil(ITEMS / PER_PAGE)
        minimum += listings + PRODUCTION_DEPLOYS + MERGED_PULLS
    return fake, minimum


def _config(url: str, concurrency: int) -> Any:
    from scorecard.config import Config, SourceConfig, TeamConfig
    from scorecard.sources.registry import options_class

    source = SourceConfig(
        name="github",
        kind="github",
        options=options_class("github")(
            api_url=url,
            token_env="SCORECARD_BENCH_TOKEN",
            timeout_s=30,
            max_concurrency=concurrency,
            graphql=False,
        ),
    )
    teams = tuple(
        TeamConfig(
            name=f"team-{t:02d}", repos=tuple(f"acme/repo-{r:02d}" for r in range(t, REPOS, 10))
        )
        for t in range(10)
    )
    return Config(path=None, teams=teams, sources=(source,))


def _worker() -> dict[str, Any]:
    from scorecard.request import ScoreRequest
    from scorecard.store import Store
    from scorecard.sync import sync_blocking
    from tests.fakes.server import FakeServer

    os.environ["SCORECARD_BENCH_TOKEN"] = "bench-token"
    server = FakeServer()
    answer = server._answer

    def slow(request: Any) -> Any:
        time.sleep(LATENCY_S)
        return answer(request)

    server._answer = slow  # type: ignore[method-assign]
    _, minimum = _fake(server)
    server.start()
    out: dict[str, Any] = {"minimum": minimum, "repos": REPOS, "latency_s": LATENCY_S}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, concurrency in (("concurrent", CONCURRENCY), ("sequential", 1)):
                server.log.clear()
                store = Store(Path(tmp) / label)
                config = _config(server.url, concurrency)
                start = time.perf_counter()
                summary = sync_blocking(config, store, ScoreRequest.resolve(now=NOW))
                out[f"{label}_s"] = time.perf_counter() - start
                outcome = summary.outcomes[0]
                if outcome.last_error:
                    raise RuntimeError(f"{label} sync failed: {outcome.last_error}")
                out[f"{label}_requests"] = len(server.log)
                out[f"{label}_unconditional"] = sum(not r.conditional for r in server.log)
                if label == "concurrent":
                    server.log.clear()
                    start = time.perf_counter()
                    again = sync_blocking(
                        config, store, ScoreRequest.resolve(now=NOW + timedelta(minutes=10))
                    )
                    out["resync_s"] = time.perf_counter() - start
                    if again.outcomes[0].last_error:
                        raise RuntimeError(f"second sync failed: {again.outcomes[0].last_error}")
                    out["resync_requests"] = len(server.log)
                    out["resync_unconditional"] = sum(not r.conditional for r in server.log)
                    out["resync_not_304"] = sum(r.status != 304 for r in server.log)
    finally:
        server.stop()
    return out


def run() -> dict[str, Any]:
    if not available():
        return {"skipped": SKIPPED, "passed": None}
    try:
        result: dict[str, Any] = run_child("benchmarks.bench_sync", "worker").output
    except Exception as exc:  # the source is new: report, do not take the other numbers down
        log(f"sync: failed: {exc}")
        return {"skipped": f"failed ({str(exc).splitlines()[0][:120]})", "passed": False}
    result["speedup"] = result["sequential_s"] / result["concurrent_s"]
    result["requests_ok"] = result["concurrent_requests"] == result["minimum"]
    result["resync_ok"] = result["resync_unconditional"] == 0 and result["resync_not_304"] == 0
    result["speed_ok"] = result["speedup"] >= BUDGET_SPEEDUP
    result["passed"] = result["requests_ok"] and result["resync_ok"] and result["speed_ok"]
    log(
        f"sync: {result['concurrent_requests']} requests (minimum {result['minimum']}), "
        f"{secs(result['concurrent_s'])} vs sequential {secs(result['sequential_s'])}, "
        f"resync {result['resync_requests']} requests"
    )
    return result


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    return [
        (
            "sync, requests",
            f"{r['concurrent_requests']} sent, minimum {r['minimum']} pages "
            f"({r['repos']} repos x 3 pages x 3 streams + statuses/commits)",
            "= minimum",
            verdict(r["requests_ok"]),
        ),
        (
            "sync, unchanged re-sync",
            f"{r['resync_requests']} requests, {r['resync_unconditional']} unconditional, "
            f"{r['resync_not_304']} not 304 ({secs(r['resync_s'])})",
            "conditional only, all 304",
            verdict(r["resync_ok"]),
        ),
        (
            "sync, wall time",
            f"{secs(r['concurrent_s'])} (max_concurrency {CONCURRENCY}) vs sequential "
            f"{secs(r['sequential_s'])} = 1/{r['speedup']:.1f}",
            f"<= 1/{BUDGET_SPEEDUP:g} of sequential",
            verdict(r["speed_ok"]),
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        emit(_worker())
