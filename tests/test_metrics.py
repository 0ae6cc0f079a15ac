"""SPEC §2: every per-team metric on tiny hand-built event sets.

AS_OF is 2024-03-01T00:00Z and the default window is 30 days, so the window is
[2024-01-31T00:00Z, 2024-03-01T00:00Z) and the previous one
[2024-01-01T00:00Z, 2024-01-31T00:00Z). Expected values are worked out in the
comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scorecard import metrics
from scorecard.model import UNASSIGNED
from tests.helpers import (
    AS_OF,
    OTHER,
    OTHER_REPO,
    OTHER_SERVICE,
    REPO,
    SERVICE,
    TEAM,
    TEAM_MAP,
    WINDOW_START,
    ago,
    change,
    ci_run,
    coverage,
    deploy,
    frames,
    incident,
    prepared,
    rollout,
    team_metrics_of,
    team_row,
)

approx = pytest.approx


def isnan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


# --------------------------------------------------------------------------- pressure


def test_deploys_counts_only_successful_production_deploys_in_window() -> None:
    row = team_row(
        deploy("d1", at=ago(1)),  # counts
        deploy("d2", at=ago(2), environment="PROD"),  # counts: case-insensitive
        deploy("d3", at=ago(3), environment="Live"),  # counts
        deploy("d4", at=WINDOW_START),  # counts: the window is [start, end)
        deploy("d5", at=ago(4), environment="staging"),  # not production
        deploy("d6", at=ago(5), status="failure"),
        deploy("d7", at=ago(6), status="cancelled"),
        deploy("d8", at=None, started_at=ago(1), status="in_progress"),
        deploy("d9", at=ago(31)),  # previous window
        deploy("d10", at=AS_OF),  # at as_of: not yet
        deploy("d11", at=ago(-1)),  # after as_of
        deploy("d12", at=ago(1), team=OTHER, repo=OTHER_REPO, service=OTHER_SERVICE),
    )
    # d1, d2, d3, d4
    assert row["deploys"] == 4


def test_deploys_uses_configured_production_environments() -> None:
    row = team_row(
        deploy("d1", at=ago(1), environment="PRD"),
        deploy("d2", at=ago(2), environment="prd"),
        deploy("d3", at=ago(3), environment="production"),  # not configured any more
        production_environments=("prd",),
    )
    assert row["deploys"] == 2


def test_deploys_per_day_is_deploys_over_window_days() -> None:
    events = [deploy(f"d{i}", at=ago(i + 1)) for i in range(6)]
    # 6 deploys / 30 days = 0.2
    assert team_row(*events)["deploys_per_day"] == approx(0.2)
    # 7-day window: d0..d5 all fall in the last 7 days -> 6 / 7
    assert team_row(*events, window_days=7)["deploys_per_day"] == approx(6 / 7)


def test_deploy_days_per_week_p50_counts_distinct_dates_per_period() -> None:
    # 30 days -> floor(30/7) = 4 periods ending at 2024-03-01T00:00Z:
    #   p0 [02-23, 03-01)  p1 [02-16, 02-23)  p2 [02-09, 02-16)  p3 [02-02, 02-09)
    row = team_row(
        # p0: 02-29 (three deploys, one date), 02-28, 02-24 -> 3 dates
        deploy("a1", at=ago(hours=1)),
        deploy("a2", at=ago(hours=5)),
        deploy("a3", at=ago(hours=20)),
        deploy("a4", at=ago(1, hours=2)),
        deploy("a5", at=ago(6)),
        # p1: 02-20, 02-21 -> 2 dates
        deploy("b1", at=ago(10)),
        deploy("b2", at=ago(9)),
        # p2: 02-10 -> 1 date; the failed and staging deploys on 02-12 don't count
        deploy("c1", at=ago(20)),
        deploy("c2", at=ago(18), status="failure"),
        deploy("c3", at=ago(18), environment="staging"),
        # p3: nothing. 01-31 is in the window but in none of the 4 periods.
        deploy("e1", at=ago(30)),
    )
    assert row["deploys"] == 9
    # median(3, 2, 1, 0) = (1 + 2) / 2 = 1.5
    assert row["deploy_days_per_week_p50"] == approx(1.5)


def test_deploy_days_per_week_periods_are_half_open_like_the_window() -> None:
    # 7-day window [02-23T00:00, 03-01T00:00): a deploy exactly at the window start
    # is in the window and in its only period -> dates 02-23 and 02-29 = 2.
    row = team_row(deploy("d1", at=ago(7)), deploy("d2", at=ago(1)), window_days=7)
    assert row["deploys"] == 2
    assert row["deploy_days_per_week_p50"] == 2
    # 21 days, 3 periods: p0 [02-23, 03-01) holds 02-23T00:00 -> 1 date,
    # p1 [02-16, 02-23) holds 02-20 -> 1, p2 [02-09, 02-16) holds 02-14, 02-15 -> 2.
    # median(1, 1, 2) = 1
    row = team_row(
        deploy("d1", at=ago(7)),
        deploy("d2", at=ago(10)),
        deploy("d3", at=ago(15)),
        deploy("d4", at=ago(16)),
        window_days=21,
    )
    assert row["deploy_days_per_week_p50"] == 1


def test_deploy_days_per_week_capped_at_seven_when_as_of_is_not_midnight() -> None:
    # as_of 2024-03-01T12:00Z, 7-day window [02-23T12:00, 03-01T12:00) touches 8 UTC
    # dates (02-23 .. 03-01); a deploy every 12 h lands on all 8, but a week has 7 days
    # (docs/metrics.md: "the count is capped at 7")
    as_of = AS_OF + pd.Timedelta(hours=12)
    events = [deploy(f"d{i}", at=as_of - pd.Timedelta(hours=1 + 12 * i)) for i in range(14)]
    row = team_row(*events, as_of=as_of, window_days=7)
    assert row["deploys"] == 14
    assert row["deploy_days_per_week_p50"] == 7


def test_deploy_days_per_week_empty_for_window_shorter_than_a_week() -> None:
    # floor(5 / 7) = 0 periods: nothing to take a median of
    row = team_row(deploy("d1", at=ago(1)), window_days=5)
    assert row["deploys"] == 1
    assert isnan(row["deploy_days_per_week_p50"])


def test_velocity_trend_against_previous_window() -> None:
    current = [deploy(f"c{i}", at=ago(i + 1)) for i in range(3)]
    previous = [deploy(f"p{i}", at=ago(31 + i)) for i in range(2)]
    # 3 / 2 - 1 = 0.5
    assert team_row(*current, *previous)["velocity_trend"] == approx(0.5)
    # 0 / 2 - 1 = -1
    assert team_row(*previous)["velocity_trend"] == approx(-1.0)
    # no deploys in the previous window: empty, not infinite
    assert isnan(team_row(*current)["velocity_trend"])
    # a failed deploy in the previous window is not a deploy
    failed = deploy("pf", at=ago(40), status="failure")
    assert isnan(team_row(*current, failed)["velocity_trend"])


def test_previous_window_is_the_same_metrics_one_window_earlier() -> None:
    prep = prepared(
        deploy("c1", at=ago(1)),
        deploy("p1", at=ago(31)),
        deploy("p2", at=ago(59), strategy="canary"),
        deploy("pp", at=ago(61)),  # two windows back: in neither
    )
    result = team_metrics_of(prep)
    assert result.start == WINDOW_START
    expected = metrics.window_metrics(prep, AS_OF - pd.Timedelta(days=60), WINDOW_START)
    assert result.previous.loc[TEAM, "deploys"] == 2
    assert result.previous.loc[TEAM, "canary_share"] == approx(0.5)
    pd.testing.assert_series_equal(
        result.previous.loc[TEAM].drop("coverage_delta_pts"),
        expected.loc[TEAM].drop("coverage_delta_pts"),
    )


def test_lead_time_percentiles() -> None:
    row = team_row(
        deploy("d1", at=ago(1)),
        deploy("d2", at=ago(4)),
        deploy("d3", at=ago(2)),
        deploy("dx", at=ago(4, hours=12), status="failure"),  # not a candidate
        deploy("ds", at=ago(4, hours=6), environment="staging"),  # not a candidate
        deploy("dold", at=ago(40)),
        # explicit deployment_id wins over the repo rule (which would pick d2):
        # d1 (1 day ago) - first commit 6 days ago = 120 h
        change("c1", first_commit_at=ago(6), merged_at=ago(5), deployment_id="d1"),
        # repo rule: first successful prod deploy at/after the merge (5 d ago) is d2
        # (4 d ago; dx failed, ds is staging): 5 d 10 h - 4 d = 34 h
        change("c2", first_commit_at=ago(5, hours=10), merged_at=ago(5)),
        # merged exactly when d3 finished ("at or after"): 1 h
        change("c3", first_commit_at=ago(2, hours=1), merged_at=ago(2)),
        # negative duration (first commit after the deploy): discarded
        change("c4", first_commit_at=ago(hours=12), merged_at=ago(1, hours=1), deployment_id="d1"),
        # shipped in the previous window: not this window's
        change("c5", first_commit_at=ago(41), merged_at=ago(41)),
        # no deploy after the merge yet: not shipped
        change("c6", first_commit_at=ago(hours=10), merged_at=ago(hours=10)),
        # another repo with no deploys
        change("c7", first_commit_at=ago(3), merged_at=ago(3), repo="acme/payments-web"),
    )
    # [1, 34, 120]: p50 = 34; p90 at position 0.9 * 2 = 1.8 -> 34 + 0.8 * (120 - 34) = 102.8
    assert row["lead_time_p50_hours"] == approx(34.0)
    assert row["lead_time_p90_hours"] == approx(102.8)


def test_lead_time_ignores_deploys_after_as_of() -> None:
    row = team_row(
        deploy("d1", at=ago(-1)),
        change("c1", first_commit_at=ago(2), merged_at=ago(1)),
        change("c2", first_commit_at=ago(2), merged_at=ago(1), deployment_id="d1"),
        deploy("d0", at=ago(10)),
    )
    assert isnan(row["lead_time_p50_hours"])
    assert isnan(row["lead_time_p90_hours"])


# --------------------------------------------------------------------------- rigor


def test_coverage_pct_is_mean_of_latest_sample_per_repo() -> None:
    row = team_row(
        coverage(70.0, at=ago(40)),
        coverage(80.0, at=ago(10)),
        coverage(90.0, at=AS_OF),  # "at or before as_of" counts
        coverage(99.0, at=ago(-1)),  # after as_of: not yet
        coverage(60.0, at=ago(20), repo="acme/payments-web"),
        coverage(10.0, at=ago(1), repo=OTHER_REPO, team=None),  # Search's repo
    )
    # repos: payments-api 90, payments-web 60 -> (90 + 60) / 2 = 75
    assert row["coverage_pct"] == approx(75.0)


def test_coverage_delta_pts_against_window_start() -> None:
    row = team_row(
        coverage(82.0, at=ago(45)),
        coverage(78.0, at=WINDOW_START),  # the value at the window start
        coverage(79.0, at=ago(20)),
        coverage(75.0, at=ago(3)),
    )
    # 75 - 78 = -3
    assert row["coverage_pct"] == approx(75.0)
    assert row["coverage_delta_pts"] == approx(-3.0)
    # nothing at the start: the delta is empty
    assert isnan(team_row(coverage(75.0, at=ago(3)))["coverage_delta_pts"])


def test_canary_share_with_unknown_strategies_resolved_from_rollouts() -> None:
    worker = "payments-worker"
    prep = prepared(
        deploy("canary", at=ago(20), strategy="canary"),  # safe
        deploy("bg", at=ago(19), strategy="blue_green"),  # safe
        deploy("rolling", at=ago(18), strategy="rolling"),
        deploy("direct", at=ago(17), strategy="direct"),
        rollout("canary", at=ago(10)),
        rollout("rolling", at=ago(3)),
        deploy("u1", at=ago(5), strategy="unknown"),  # latest sample: canary (10 d ago)
        deploy("u2", at=ago(2), strategy="unknown"),  # latest sample: rolling (3 d ago)
        deploy("u3", at=ago(3), strategy="unknown"),  # sample at the same instant: rolling
        deploy("u4", at=ago(4), strategy="unknown", service=worker),  # no sample: unknown
        rollout("canary", at=ago(1), service=worker),  # after u4: does not apply
        deploy("f", at=ago(6), strategy="canary", status="failure"),  # not successful
        deploy("s", at=ago(6), strategy="canary", environment="staging"),  # not production
    )
    row = team_metrics_of(prep).current.loc[TEAM]
    # safe: canary, bg, u1 = 3 of 8 successful production deploys
    # (canary, bg, rolling, direct, u1, u2, u3, u4)
    assert row["canary_share"] == approx(3 / 8)
    rows = metrics.deployment_rows(prep, WINDOW_START, AS_OF).set_index("id")
    assert rows.loc["u1", "resolved_strategy"] == "canary"
    assert rows.loc["u2", "resolved_strategy"] == "rolling"
    assert rows.loc["u3", "resolved_strategy"] == "rolling"
    assert rows.loc["u4", "resolved_strategy"] == "unknown"


def test_ci_success_rate_and_duration_on_default_branch() -> None:
    row = team_row(
        ci_run("s1", at=ago(1), minutes=10),
        ci_run("s2", at=ago(2), minutes=20),
        ci_run("s3", at=ago(3), minutes=30),
        ci_run("f1", at=ago(4), minutes=5, conclusion="failure"),
        ci_run("x1", at=ago(5), minutes=100, conclusion="cancelled"),
        ci_run("x2", at=ago(5), minutes=100, conclusion="skipped"),
        ci_run("x3", at=ago(5), minutes=100, conclusion="other"),
        ci_run("b1", at=ago(1), conclusion="failure", default_branch=False),
        ci_run("b2", at=ago(2), conclusion="failure", default_branch=False),
        ci_run("p1", at=ago(31), conclusion="failure"),  # previous window
        ci_run("n1", at=AS_OF, conclusion="failure"),  # at as_of: not yet
    )
    # 3 successes / (3 + 1) = 0.75
    assert row["ci_success_rate"] == approx(0.75)
    # durations of those runs: [5, 10, 20, 30] -> (10 + 20) / 2 = 15
    assert row["ci_duration_p50_minutes"] == approx(15.0)


def test_ci_runs_placed_by_finish_time_else_start_time() -> None:
    row = team_row(
        # started before the window, finished in it: counts
        ci_run("s1", at=WINDOW_START + pd.Timedelta(minutes=5), minutes=30),
        # unfinished, started in the window: counted by started_at, no duration
        ci_run("f1", at=None, started_at=ago(1), conclusion="failure"),
    )
    assert row["ci_success_rate"] == approx(0.5)
    assert row["ci_duration_p50_minutes"] == approx(30.0)


# --------------------------------------------------------------------------- stability


def _attribution(**prepare_options: object) -> pd.DataFrame:
    worker = "payments-worker"
    prep = prepared(
        deploy("d_old", at=ago(20)),
        incident("i1", at=ago(10), deployment_id="d_old"),  # explicit
        deploy("d_a", at=ago(1, hours=20)),
        deploy("d_b", at=ago(1, hours=2)),
        deploy("d_fail", at=ago(1, hours=1), status="failure"),
        deploy("d_stage", at=ago(1, hours=1), environment="staging"),
        deploy("d_after", at=ago(hours=12)),
        # time rule, same service: latest successful prod deploy before it is d_b
        incident("i2", at=ago(1)),
        deploy("d_c", at=ago(6, hours=1)),
        # d_c finished 25 h before: outside the 24 h link window
        incident("i3", at=ago(5)),
        deploy("d_w", at=ago(9, hours=3), service=worker),
        # no service: the team's latest deploy (any service) d_w, 3 h before
        incident("i4", at=ago(9), service=None),
        # a service without deploys: not linked to the team's other services
        incident("i5", at=ago(9, hours=1), service="payments-db"),
        deploy("d_edge", at=ago(15)),
        # exactly 24 h after d_edge: still within the link window
        incident("i6", at=ago(14)),
        # names an unknown deployment: falls back to the time rule (d_edge, 12 h)
        incident("i7", at=ago(14, hours=12), deployment_id="nope"),
        # another team's service deploy does not link to Payments' incident
        deploy("s1", at=ago(3, hours=1), team=OTHER, repo=OTHER_REPO, service=OTHER_SERVICE),
        incident("i8", at=ago(3), service=OTHER_SERVICE, team=None),
        **prepare_options,  # type: ignore[arg-type]
    )
    return metrics.incident_rows(prep, WINDOW_START, AS_OF).set_index("id")


def test_incident_attribution_rules() -> None:
    rows = _attribution()
    expected = {
        "i1": ("d_old", "explicit"),
        "i2": ("d_b", "time"),
        "i3": (None, None),
        "i4": ("d_w", "time"),
        "i5": (None, None),
        "i6": ("d_edge", "time"),
        "i7": ("d_edge", "time"),
        "i8": ("s1", "time"),
    }
    for incident_id, (deployment, rule) in expected.items():
        got = rows.loc[incident_id]
        linked = None if pd.isna(got["attributed_deployment"]) else got["attributed_deployment"]
        assert (linked, got["link_rule"]) == (deployment, rule), incident_id
    assert rows.loc["i8", "team"] == OTHER


def test_incident_link_hours_is_configurable() -> None:
    rows = _attribution(incident_link_hours=48)
    # d_c finished 25 h before i3: inside 48 h
    assert rows.loc["i3", "attributed_deployment"] == "d_c"
    assert rows.loc["i3", "link_rule"] == "time"
    rows = _attribution(incident_link_hours=2)
    # d_b finished 2 h before i2: still linked; d_w 3 h before i4: no longer
    assert rows.loc["i2", "attributed_deployment"] == "d_b"
    assert pd.isna(rows.loc["i4", "attributed_deployment"])


def test_change_failure_rate() -> None:
    row = team_row(
        deploy("s1", at=ago(10)),
        incident("i1", at=ago(9, hours=20)),  # time rule -> s1
        incident("i1b", at=ago(9, hours=18)),  # a second incident on s1 counts once
        deploy("s2", at=ago(8)),
        incident("i2", at=ago(2), deployment_id="s2"),  # explicit -> s2
        deploy("s3", at=ago(6)),
        deploy("s4", at=ago(5)),
        deploy("s5", at=ago(hours=3)),
        incident("i5", at=AS_OF),  # created at as_of: not yet, so s5 has none
        deploy("f1", at=ago(4), status="failure"),
        deploy("x1", at=ago(3), status="cancelled"),
        deploy("st", at=ago(3), status="failure", environment="staging"),
    )
    # (f1 + s1 + s2) / (s1..s5 + f1) = 3 / 6
    assert row["change_failure_rate"] == approx(0.5)


def test_recovery_time_and_incident_counts() -> None:
    row = team_row(
        incident("r1", at=ago(10), resolved_at=ago(10) + pd.Timedelta(hours=2), severity="sev1"),
        incident("r2", at=ago(8), resolved_at=ago(8) + pd.Timedelta(hours=5), severity="sev2"),
        incident("r3", at=ago(6), resolved_at=ago(6) + pd.Timedelta(hours=30)),
        incident("r4", at=ago(4), severity="sev2"),  # open
        incident("r5", at=ago(1), resolved_at=AS_OF, severity="sev4"),  # resolved at as_of: open
        incident(
            "r7",
            at=WINDOW_START,
            resolved_at=WINDOW_START + pd.Timedelta(hours=1),
            severity="sev5",
        ),
        # created in the previous window, resolved in this one: not this window's
        incident("r6", at=ago(31), resolved_at=ago(29), severity="sev1"),
        incident("r8", at=AS_OF, severity="sev1"),  # created at as_of: not yet
    )
    # recovered: r7 1 h, r1 2 h, r2 5 h, r3 30 h -> (2 + 5) / 2 = 3.5
    assert row["recovery_time_p50_hours"] == approx(3.5)
    assert row["incidents"] == 6  # r1, r2, r3, r4, r5, r7
    assert row["incidents_sev1_2"] == 3  # r1, r2, r4
    assert row["incidents_open"] == 2  # r4, r5


def test_rework_rate() -> None:
    row = team_row(
        deploy("r1", at=ago(1), is_rollback=True),
        deploy("r2", at=ago(2), is_rollback=True),
        deploy("r3", at=ago(3), is_rollback=True, status="failure"),
        deploy("r4", at=ago(4), is_rollback=True, status="cancelled"),
        deploy("r5", at=ago(4), is_rollback=True, environment="staging"),
        *[deploy(f"n{i}", at=ago(5 + i)) for i in range(5)],
    )
    # rollbacks r1, r2, r3 over 5 + 3 = 8 production success/failure deploys
    assert row["rework_rate"] == approx(3 / 8)


# --------------------------------------------------------------------------- attribution


def test_team_attribution() -> None:
    team_map = metrics.TeamMap(
        teams=(TEAM, OTHER),
        repo_owner={REPO: TEAM, OTHER_REPO: OTHER},
        service_owner={SERVICE: TEAM, OTHER_SERVICE: OTHER},
        service_aliases={"Payments API (PD)": SERVICE},
    )
    tables = metrics.assign_teams(
        frames(
            [
                deploy("explicit", at=ago(1), team=OTHER),  # configured team wins over repo
                deploy("by_repo", at=ago(1), team="Not A Team"),  # unknown team -> repo owner
                deploy("by_service", at=ago(1), team=None, repo=None, service=OTHER_SERVICE),
                deploy("nobody", at=ago(1), team=None, repo="acme/x", service="x"),
                incident("alias", at=ago(1), team=None, service="Payments API (PD)"),
                ci_run("ci", at=ago(1), team=None, repo=OTHER_REPO),
                coverage(50.0, at=ago(1), team=None, repo="acme/x"),
            ]
        ),
        team_map,
    )
    deployments = tables["deployments"].set_index("id")["team"].astype(str).to_dict()
    assert deployments == {
        "explicit": OTHER,
        "by_repo": TEAM,
        "by_service": OTHER,
        "nobody": UNASSIGNED,
    }
    incidents = tables["incidents"]
    assert incidents["team"].astype(str).tolist() == [TEAM]
    assert incidents["service"].astype(str).tolist() == [SERVICE]
    assert tables["ci_runs"]["team"].astype(str).tolist() == [OTHER]
    assert tables["coverage"]["team"].astype(str).tolist() == [UNASSIGNED]


def test_unassigned_events_are_kept() -> None:
    prep = prepared(deploy("d1", at=ago(1), team=None, repo="acme/x", service="x"))
    current = team_metrics_of(prep).current
    assert current.loc[UNASSIGNED, "deploys"] == 1
    assert isnan(current.loc[TEAM, "deploys"])


# --------------------------------------------------------------------------- empties and as_of


def test_team_without_events_has_only_empty_metrics() -> None:
    current = team_metrics_of(prepared(deploy("d1", at=ago(1)))).current
    assert current.loc[OTHER].isna().all()


def test_empty_metrics_stay_nan_never_zero() -> None:
    # deploys only in the previous window, incidents only in the previous window
    row = team_row(
        deploy("p1", at=ago(40)),
        incident("i1", at=ago(40), resolved_at=ago(39)),
    )
    # counts are a real 0 (the team does deploy / have incidents)...
    assert row["deploys"] == 0
    assert row["deploys_per_day"] == 0
    assert row["deploy_days_per_week_p50"] == 0
    assert row["incidents"] == 0
    assert row["incidents_open"] == 0
    # ...but rates, medians and trends over nothing are empty
    for name in (
        "canary_share",
        "change_failure_rate",
        "rework_rate",
        "lead_time_p50_hours",
        "lead_time_p90_hours",
        "recovery_time_p50_hours",
        "coverage_pct",
        "coverage_delta_pts",
        "ci_success_rate",
        "ci_duration_p50_minutes",
    ):
        assert isnan(row[name]), name
    assert row["velocity_trend"] == approx(-1.0)  # 0 / 1 - 1
    # no events of a kind at all: the count is empty too
    row = team_row(ci_run("c1", at=ago(1)))
    assert isnan(row["deploys"])
    assert isnan(row["incidents"])
    assert isnan(row["incidents_sev1_2"])
    assert isnan(row["incidents_open"])


def test_nothing_at_or_after_as_of_counts() -> None:
    row = team_row(
        # long before both windows: the team does deploy and have incidents
        deploy("d0", at=ago(100)),
        incident("i0", at=ago(100), resolved_at=ago(99)),
        deploy("d1", at=AS_OF, strategy="canary", is_rollback=True),
        deploy("d2", at=ago(-2), status="failure"),
        ci_run("c1", at=AS_OF, conclusion="failure"),
        ci_run("c2", at=None, started_at=ago(-1)),
        incident("i1", at=AS_OF, severity="sev1"),
        incident("i2", at=ago(-1)),
        change("ch1", first_commit_at=ago(2), merged_at=ago(1)),  # shipped only by d1
        coverage(80.0, at=ago(-1)),
        rollout("canary", at=ago(-1)),
    )
    assert row["deploys"] == 0
    assert row["incidents"] == 0
    for name in (
        "canary_share",
        "change_failure_rate",
        "rework_rate",
        "lead_time_p50_hours",
        "ci_success_rate",
        "ci_duration_p50_minutes",
        "coverage_pct",
        "recovery_time_p50_hours",
        "velocity_trend",
    ):
        assert isnan(row[name]), name


def test_other_teams_events_do_not_leak() -> None:
    prep = prepared(
        deploy("p1", at=ago(1)),
        deploy("s1", at=ago(1), team=OTHER, repo=OTHER_REPO, service=OTHER_SERVICE),
        deploy("s2", at=ago(2), team=OTHER, repo=OTHER_REPO, service=OTHER_SERVICE),
        coverage(90.0, at=ago(1)),
        coverage(50.0, at=ago(1), repo=OTHER_REPO, team=OTHER),
    )
    current = team_metrics_of(prep).current
    assert current.loc[TEAM, "deploys"] == 1
    assert current.loc[OTHER, "deploys"] == 2
    assert current.loc[TEAM, "coverage_pct"] == approx(90.0)
    assert current.loc[OTHER, "coverage_pct"] == approx(50.0)
    assert list(current.index.astype(str)) == [*TEAM_MAP.teams, UNASSIGNED]


def test_lead_time_empty_when_no_change_has_shipped_yet() -> None:
    # every change merged after the last deploy, or no deployments at all
    row = team_row(
        deploy("d1", at=ago(10)),
        change("c1", first_commit_at=ago(3), merged_at=ago(2)),
    )
    assert isnan(row["lead_time_p50_hours"])
    row = team_row(change("c1", first_commit_at=ago(3), merged_at=ago(2), deployment_id="x"))
    assert isnan(row["lead_time_p50_hours"])
