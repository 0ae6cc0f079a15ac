"""Benchmark 4: the API quota of a real org's GitHub sync (SPEC §11, §14).

The fake GitHub (REST and GraphQL, the one the source's tests use) serves 50 repos
with the realistic profile of ``tests/fakes/github_profile.py``: over 175 days, 250
production deployments, 1,500 default-branch Actions runs and 300 merged pull
requests per repo, the merges making up the default branch's history.

Measured per repo, as GitHub charges them (REST requests answered in full; a 304 is
free; GraphQL points):
- ``sync --plan``'s estimate, made before anything is spent, against what the first
  sync then spends (within 20%);
- the first 180-day sync through GraphQL, commit containment included (<= 30);
- an unchanged re-sync (<= 2, and REST requests conditional only);
- beside it, the REST-only path (``graphql = false``) on 5 of the repos: every
  deployment's statuses and every merged pull request's commits a request of their
  own;
- GitLab, reported without a budget: 3 projects of the same profile; the requests
  of a first sync and how many are one per merged merge request (GitLab's merge
  request listing has no commits, so each one's first commit is a request).

Worker::

    python -m benchmarks.bench_quota worker
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.common import emit, log, run_child

REPOS = 50
REST_REPOS = 5
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
BUDGET_FIRST = 30
BUDGET_RESYNC = 2
PLAN_TOLERANCE = 0.2


def _config(url: str, repos: list[str], *, graphql: bool) -> Any:
    from scorecard.config import Config, SourceConfig, TeamConfig
    from scorecard.sources.registry import options_class

    source = SourceConfig(
        name="github",
        kind="github",
        options=options_class("github")(
            api_url=url,
            token_env="SCORECARD_BENCH_TOKEN",
            timeout_s=60,
            max_concurrency=8,
            graphql=graphql,
        ),
    )
    teams = tuple(
        TeamConfig(name=f"team-{t:02d}", repos=tuple(repos[t::10]))
        for t in range(min(10, len(repos)))
    )
    return Config(path=None, teams=teams, sources=(source,))


GITLAB_PROJECTS = 3


def _gitlab(tmp: str) -> dict[str, Any]:
    """Requests of a first GitLab sync of the realistic profile, and the per-MR ones."""
    import random

    from scorecard.config import Config, TeamConfig
    from scorecard.request import ScoreRequest
    from scorecard.store import Store
    from scorecard.sync import sync_blocking
    from tests.fakes.gitlab import FakeGitLab
    from tests.fakes.server import FakeServer
    from tests.source_config import source_config

    server = FakeServer()
    fake = FakeGitLab(server)
    names = [f"acme/project-{n}" for n in range(GITLAB_PROJECTS)]
    for n, name in enumerate(names):
        rng, project = random.Random(n), fake.project(name)
        start, span = NOW - timedelta(days=175), 175 * 86400
        for i in range(300):
            merged = start + timedelta(seconds=rng.uniform(0, span))
            project.merge_request(i + 1, merged, merged - timedelta(hours=20))
        for i in range(250):
            project.deploy(
                i + 1, f"{i:040x}", "production", start + timedelta(seconds=rng.uniform(0, span))
            )
        for i in range(1500):
            project.pipeline(i + 1, start + timedelta(seconds=rng.uniform(0, span)))
    server.start()
    try:
        source = source_config(
            name="gitlab", kind="gitlab", api_url=fake.url, token_env="SCORECARD_BENCH_TOKEN"
        )
        config = Config(
            path=None, teams=(TeamConfig(name="t", repos=tuple(names)),), sources=(source,)
        )
        sync_blocking(config, Store(Path(tmp) / "gitlab"), ScoreRequest.resolve(now=NOW))
        per_mr = sum(1 for r in server.log if "/merge_requests/" in r.path)
        return {"gitlab_requests": len(server.log), "gitlab_per_mr": per_mr}
    finally:
        server.stop()


def _spent(store: Any) -> Any:
    return store.statuses()["github"].stats


def _worker() -> dict[str, Any]:
    from scorecard.request import ScoreRequest
    from scorecard.store import Store
    from scorecard.sync import plan_blocking, sync_blocking
    from tests.fakes.github import FakeGitHub
    from tests.fakes.github_profile import realistic_repo
    from tests.fakes.server import FakeServer

    os.environ["SCORECARD_BENCH_TOKEN"] = "bench-token"
    server = FakeServer()
    fake = FakeGitHub(server)
    repos = [f"acme/repo-{r:02d}" for r in range(REPOS)]
    for n, name in enumerate(repos):
        realistic_repo(fake, name, NOW, seed=n)
    server.start()
    out: dict[str, Any] = {"repos": REPOS, "rest_repos": REST_REPOS}
    request = ScoreRequest.resolve(now=NOW)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = _config(server.url, repos, graphql=True)
            [estimate] = plan_blocking(config, Store(Path(tmp) / "q", read_only=True), request)
            out["plan"] = (estimate.requests or 0) + estimate.points
            out["plan_cost"] = estimate.spent
            store = Store(Path(tmp) / "q")
            summary = sync_blocking(config, store, request)
            if summary.outcomes[0].last_error or not summary.outcomes[0].complete:
                raise RuntimeError(f"first sync: {summary.table()}")
            first = _spent(store)
            out.update(first_requests=first.requests - first.queries, first_points=first.points)
            out["first"] = first.spent
            server.log.clear()
            sync_blocking(config, store, request.at(NOW + timedelta(minutes=10)))
            again = _spent(store)
            out["resync"] = again.spent
            rest = [r for r in server.log if r.method == "GET"]
            out["resync_unconditional"] = sum(not r.conditional for r in rest)
            out["resync_points"] = again.points

            baseline = Store(Path(tmp) / "rest")
            sync_blocking(_config(server.url, repos[:REST_REPOS], graphql=False), baseline, request)
            out["rest_first"] = _spent(baseline).spent
            out.update(_gitlab(tmp))
    finally:
        server.stop()
    return out


def run() -> dict[str, Any]:
    try:
        result: dict[str, Any] = run_child("benchmarks.bench_quota", "worker").output
    except Exception as exc:
        log(f"quota: failed: {exc}")
        return {"skipped": f"failed ({str(exc).splitlines()[0][:120]})", "passed": False}
    repos = result["repos"]
    result["first_per_repo"] = result["first"] / repos
    result["resync_per_repo"] = result["resync"] / repos
    result["rest_per_repo"] = result["rest_first"] / result["rest_repos"]
    result["gitlab_per_project"] = result["gitlab_requests"] / GITLAB_PROJECTS
    result["plan_error"] = abs(result["plan"] - result["first"]) / max(1, result["first"])
    result["first_ok"] = result["first_per_repo"] <= BUDGET_FIRST
    result["resync_ok"] = (
        result["resync_per_repo"] <= BUDGET_RESYNC and result["resync_unconditional"] == 0
    )
    result["plan_ok"] = result["plan_error"] <= PLAN_TOLERANCE
    result["passed"] = result["first_ok"] and result["resync_ok"] and result["plan_ok"]
    log(
        f"quota: first sync {result['first_per_repo']:.1f}/repo (REST only "
        f"{result['rest_per_repo']:.0f}), re-sync {result['resync_per_repo']:.2f}/repo, "
        f"plan {result['plan']} vs {result['first']}"
    )
    return result


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    repos = r["repos"]
    return [
        (
            "quota, first sync",
            f"{r['first_per_repo']:.1f} per repo ({r['first_requests'] / repos:.1f} REST + "
            f"{r['first_points'] / repos:.1f} points; {repos} realistic repos) vs REST only "
            f"{r['rest_per_repo']:.0f}",
            f"<= {BUDGET_FIRST} per repo",
            verdict(r["first_ok"]),
        ),
        (
            "quota, unchanged re-sync",
            f"{r['resync_per_repo']:.2f} per repo ({r['resync_points']} points, "
            f"{r['resync_unconditional']} unconditional REST requests)",
            f"<= {BUDGET_RESYNC} per repo, REST conditional only",
            verdict(r["resync_ok"]),
        ),
        (
            "quota, sync --plan",
            f"estimated {r['plan']:,}, spent {r['first']:,} ({r['plan_error']:.0%} off; the "
            f"estimate itself cost {r['plan_cost']})",
            f"within {PLAN_TOLERANCE:.0%}",
            verdict(r["plan_ok"]),
        ),
        (
            "quota, GitLab first sync",
            f"{r['gitlab_per_project']:.0f} requests per project, "
            f"{r['gitlab_per_mr'] / GITLAB_PROJECTS:.0f} of them one per merged MR (commits)",
            "reported",
            "-",
        ),
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        emit(_worker())
