"""Property tests for SPEC §2 metrics on random small event sets."""

from __future__ import annotations

import random

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecard import metrics
from scorecard.metrics import WINDOW_COLUMNS
from tests.helpers import (
    AS_OF,
    OTHER,
    OTHER_REPO,
    OTHER_SERVICE,
    REPO,
    SERVICE,
    TEAM,
    WINDOW_START,
    Event,
    ago,
    change,
    ci_run,
    deploy,
    incident,
    prepared,
    rollout,
)

FAST = settings(max_examples=50, deadline=None, derandomize=True)
# for properties that compute the metrics twice per example
FAST_PAIRS = settings(max_examples=30, deadline=None, derandomize=True)

TEAMS = {TEAM: (REPO, SERVICE), OTHER: (OTHER_REPO, OTHER_SERVICE)}
ENVIRONMENTS = ["production", "PROD", "live", "staging", "dev"]
PROD = {"production", "prod", "live"}

# hours before AS_OF: from two windows back to a few days after as_of
offsets = st.integers(min_value=-24 * 3, max_value=24 * 65)
teams = st.sampled_from([TEAM, OTHER])


@st.composite
def deploys(draw: st.DrawFn, index: int) -> Event:
    team = draw(teams)
    repo, service = TEAMS[team]
    return deploy(
        f"d{index}",
        at=ago(hours=draw(offsets)),
        team=draw(st.sampled_from([team, None])),  # None: found through the repo
        repo=repo,
        service=service,
        environment=draw(st.sampled_from(ENVIRONMENTS)),
        status=draw(st.sampled_from(["success", "success", "failure", "cancelled"])),
        strategy=draw(st.sampled_from(["canary", "blue_green", "rolling", "direct", "unknown"])),
        is_rollback=draw(st.booleans()),
    )


@st.composite
def others(draw: st.DrawFn, index: int, deploy_ids: list[str]) -> Event:
    team = draw(teams)
    repo, service = TEAMS[team]
    at = ago(hours=draw(offsets))
    kind = draw(st.sampled_from(["incident", "ci", "change", "rollout"]))
    if kind == "incident":
        resolved = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=24 * 10)))
        return incident(
            f"i{index}",
            at=at,
            resolved_at=None if resolved is None else at + pd.Timedelta(hours=resolved),
            severity=draw(st.sampled_from(["sev1", "sev2", "sev3", "sev4", "sev5"])),
            service=draw(st.sampled_from([service, None])),
            team=team,
            deployment_id=draw(st.sampled_from([None, None, *deploy_ids])),
        )
    if kind == "ci":
        return ci_run(
            f"c{index}",
            at=at,
            team=team,
            repo=repo,
            conclusion=draw(st.sampled_from(["success", "failure", "cancelled", "skipped"])),
            minutes=draw(st.integers(min_value=1, max_value=90)),
            default_branch=draw(st.booleans()),
        )
    if kind == "change":
        return change(
            f"ch{index}",
            merged_at=at,
            first_commit_at=at - pd.Timedelta(hours=draw(st.integers(0, 100))),
            team=team,
            repo=repo,
            deployment_id=draw(st.sampled_from([None, None, *deploy_ids])),
        )
    return rollout(draw(st.sampled_from(["canary", "rolling"])), at=at, service=service, team=team)


@st.composite
def event_sets(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(min_value=0, max_value=25))
    deployments = [draw(deploys(i)) for i in range(n)]
    ids = [record["id"] for _, record in deployments]
    m = draw(st.integers(min_value=0, max_value=25))
    # one old deploy per team so that deploy counts are real numbers, never empty
    anchors = [
        deploy(f"anchor-{team}", at=ago(200), team=team, repo=repo, service=service)
        for team, (repo, service) in TEAMS.items()
    ]
    return [*anchors, *deployments, *[draw(others(i, ids)) for i in range(m)]]


def current(events: list[Event]) -> pd.DataFrame:
    # one window is enough here (and keeps the properties fast); trends are left empty
    return metrics.window_metrics(prepared(*events), WINDOW_START, AS_OF)


@FAST
@given(event_sets())
def test_deploy_counts_and_rates_are_consistent(events: list[Event]) -> None:
    table = current(events)
    # deploys: the successful production deploys finished in [start, as_of)
    for team, (repo, _) in TEAMS.items():
        expected = sum(
            1
            for kind, d in events
            if kind == "deployments"
            and d["repo"] == repo
            and d["status"] == "success"
            and d["environment"].lower() in PROD
            and WINDOW_START <= d["finished_at"] < AS_OF
        )
        assert table.loc[team, "deploys"] == expected
    for name in ("canary_share", "change_failure_rate", "rework_rate", "ci_success_rate"):
        values = table[name].dropna()
        assert ((values >= 0) & (values <= 1)).all(), name
    for team in (TEAM, OTHER):
        row = table.loc[team]
        assert 0 <= row["deploy_days_per_week_p50"] <= min(7, row["deploys"])
        assert row["deploys_per_day"] == row["deploys"] / 30
        if row["incidents"] == row["incidents"]:  # not NaN
            assert row["incidents_open"] <= row["incidents"]
            assert row["incidents_sev1_2"] <= row["incidents"]
        if row["lead_time_p50_hours"] == row["lead_time_p50_hours"]:
            assert 0 <= row["lead_time_p50_hours"] <= row["lead_time_p90_hours"]
        if row["recovery_time_p50_hours"] == row["recovery_time_p50_hours"]:
            assert row["recovery_time_p50_hours"] >= 0


@FAST_PAIRS
@given(event_sets(), st.randoms(use_true_random=False))
def test_metrics_do_not_depend_on_row_order(events: list[Event], rnd: random.Random) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    pd.testing.assert_frame_equal(current(events), current(shuffled))


@FAST_PAIRS
@given(
    event_sets(),
    teams,
    offsets,
    st.sampled_from(["success", "failure"]),
    st.sampled_from(["canary", "direct", "unknown"]),
    st.booleans(),
)
def test_a_staging_deploy_changes_nothing(
    events: list[Event], team: str, hours: int, status: str, strategy: str, rollback: bool
) -> None:
    repo, service = TEAMS[team]
    staging = deploy(
        "staging-extra",
        at=ago(hours=hours),
        team=team,
        repo=repo,
        service=service,
        environment="staging",
        status=status,
        strategy=strategy,
        is_rollback=rollback,
    )
    before = current(events)
    after = current([*events, staging])
    pd.testing.assert_frame_equal(before, after)
    assert list(after.columns) == list(WINDOW_COLUMNS)
