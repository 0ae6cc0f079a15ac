"""Commit containment (SPEC §2): a change ships with the first successful production
deployment whose commit contains its merge commit, not simply the next one in time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecard import model
from scorecard.sources.containment import CommitGraph, shipped_by
from scorecard.sources.records import change_event, deployment_event

UTC = timezone.utc
T0 = datetime(2026, 5, 1, tzinfo=UTC)
REPO = "acme/api"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def deploy(ident: str, sha: str, hours: float, *, env: str = "production", status: str = "success"):
    return deployment_event(
        ident,
        "gh",
        "payments",
        REPO,
        environment=env,
        status=status,
        started_at=at(hours - 0.5),
        finished_at=at(hours),
        commit_sha=sha,
        url=None,
    )


def change(ident: str, sha: str, merged: float):
    return change_event(
        ident, "gh", "payments", REPO, title="x", merged_at=at(merged), merge_sha=sha
    )


def frames(deploys, changes) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        model.frame_from_records("deployments", deploys),
        model.frame_from_records("changes", changes),
    )


def test_trunk_deploy_contains_merges_up_to_its_commit() -> None:
    # Trunk: m1 (merged h1), m2 (h2), m3 (h3), newest last. d1 ships m1 but finishes
    # after m2 was merged: the time rule would give m2 to d1; containment gives d2.
    graph = CommitGraph(trunk=["m3", "m2", "m1"])
    deps, chg = frames(
        [deploy("d1", "m1", 2.5), deploy("d2", "m3", 4)],
        [change("c1", "m1", 1), change("c2", "m2", 2), change("c3", "m3", 3)],
    )
    found = shipped_by(deps, chg, {REPO: graph}, ["production"])
    assert found.tolist() == ["d1", "d2", "d2"]


def test_hotfix_branch_deploy_is_found_by_its_ancestors() -> None:
    # h1 is a hotfix on top of m1 containing m2' (cherry-picked as fix); the trunk's next
    # deploy d2 comes later. The change merged as "fix" ships with the hotfix deploy.
    graph = CommitGraph(trunk=["m3", "fix", "m1"], ancestors={"h1": frozenset({"h1", "fix", "m1"})})
    deps, chg = frames(
        [deploy("d1", "m1", 1.5), deploy("hot", "h1", 3), deploy("d2", "m3", 10)],
        [change("c1", "m1", 1), change("c2", "fix", 2), change("c3", "m3", 5)],
    )
    found = shipped_by(deps, chg, {REPO: graph}, ["production"])
    assert found.tolist() == ["d1", "hot", "d2"]


def test_failed_staging_and_unknown_commits_are_not_containment() -> None:
    graph = CommitGraph(trunk=["m2", "m1"])
    deps, chg = frames(
        [
            deploy("bad", "m2", 2, status="failure"),
            deploy("stg", "m2", 2, env="staging"),
            deploy("ok", "m2", 5),
        ],
        [change("c1", "m1", 1), change("c9", "elsewhere", 1)],
    )
    found = shipped_by(deps, chg, {REPO: graph}, ["production"])
    assert found.tolist() == ["ok", None]  # unknown merge commit: the time rule decides
    assert shipped_by(deps, chg, {}, ["production"]).isna().all()


@settings(max_examples=60, deadline=None)
@given(
    merges=st.lists(st.floats(0, 100), min_size=1, max_size=12),
    deploys=st.lists(st.tuples(st.integers(0, 11), st.floats(0, 200)), max_size=8),
)
def test_matches_a_brute_force_search(
    merges: list[float], deploys: list[tuple[int, float]]
) -> None:
    """The first-finished deployment at or after each merge's position in the history."""
    merges = sorted(merges)
    shas = [f"m{i}" for i in range(len(merges))]
    graph = CommitGraph(trunk=list(reversed(shas)))
    deps = [
        deploy(f"d{n}", shas[min(i, len(shas) - 1)], merges[min(i, len(shas) - 1)] + lag)
        for n, (i, lag) in enumerate(deploys)
    ]
    chg = [change(f"c{i}", sha, merges[i]) for i, sha in enumerate(shas)]
    found = shipped_by(*frames(deps, chg), {REPO: graph}, ["production"]).tolist()
    for i in range(len(shas)):
        containing = [(d["finished_at"], d["id"]) for d in deps if int(d["commit_sha"][1:]) >= i]
        assert found[i] == (min(containing)[1] if containing else None)
