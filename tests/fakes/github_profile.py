"""A realistic repo for the fake GitHub, for quota tests and the sync benchmark.

Over ``days`` (default 175, inside the default 180 days of history): ``pulls``
merged pull requests (3 commits each, their merge commits making up the default
branch's history), ``deploys`` production deployments (each of the newest merge
at the time, in progress then successful 10 minutes later) and ``runs``
default-branch Actions runs — by default the profile issue reports measured
(250 deploys, 1,500 runs, 300 merged pull requests per repo). Seeded, so every
run builds the same repo.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tests.fakes.github import FakeGitHub, FakeRepo

DEPLOYS = 250
RUNS = 1500
PULLS = 300


def realistic_repo(
    fake: FakeGitHub,
    name: str,
    now: datetime,
    *,
    seed: int = 0,
    scale: float = 1.0,
    days: float = 175,
) -> FakeRepo:
    """Add ``name`` to ``fake`` with the realistic profile (``scale`` shrinks it)."""
    rng = random.Random(f"{name}:{seed}")
    repo = fake.repo(name)
    start = now - timedelta(days=days)
    span = days * 86400
    merges = sorted(rng.uniform(0, span) for _ in range(max(1, int(PULLS * scale))))
    merged: list[tuple[datetime, str]] = []
    for n, offset in enumerate(merges, start=1):
        when = start + timedelta(seconds=offset)
        sha = f"{rng.getrandbits(160):040x}"
        repo.commit(sha, when)
        first = when - timedelta(hours=rng.uniform(1, 72))
        repo.pull(n, when, first, merge_sha=sha, title=f"change {n}", labels=("feature",))
        merged.append((when, sha))
    deploy_times = sorted(rng.uniform(0, span) for _ in range(max(1, int(DEPLOYS * scale))))
    for ident, offset in enumerate(deploy_times, start=1):
        when = start + timedelta(seconds=offset)
        shipped = [sha for at, sha in merged if at <= when]
        if not shipped:
            continue
        states = [("in_progress", when), ("success", when + timedelta(minutes=10))]
        repo.deploy(ident, shipped[-1], "production", when, states)
    run_times = sorted(rng.uniform(0, span) for _ in range(max(1, int(RUNS * scale))))
    for ident, offset in enumerate(run_times, start=1):
        conclusion = "failure" if rng.random() < 0.08 else "success"
        repo.run(ident, start + timedelta(seconds=offset), conclusion=conclusion)
    return repo
