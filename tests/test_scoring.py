"""SPEC §3 (and the §2 bands): bands, scores, declines, grades, flags and reasons.

Most tests score hand-written metric rows (``metric_frame``) so that each rule
is checked in isolation; the last ones go through ``build_report`` end to end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import pytest

from scorecard import scoring, text
from scorecard.bands import BAND_SCORES, PRESETS, Benchmarks
from scorecard.metrics import TeamMetrics
from scorecard.request import ScoreRequest
from tests.helpers import (
    AS_OF,
    OTHER,
    TEAM,
    WINDOW_START,
    ago,
    coverage,
    deploy,
    dora,
    metric_frame,
    prepared,
)

approx = pytest.approx
DORA_2023 = PRESETS["dora-2023"]
DORA_2024 = PRESETS["dora-2024"]

Rows = Mapping[str, Mapping[str, float]]
REQUEST = ScoreRequest.resolve(
    as_of=AS_OF.to_pydatetime(), window_days=30, now=AS_OF.to_pydatetime()
)


def isnan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def banded(column: str, values: list[float], bench: Benchmarks, window_days: int = 30) -> list:
    """The band of ``column`` for each value (one team per value)."""
    name = {
        "lead_time_p50_hours": "lead_time_band",
        "change_failure_rate": "change_failure_rate_band",
        "recovery_time_p50_hours": "recovery_band",
        "coverage_pct": "coverage_band",
        "canary_share": "canary_band",
        "ci_success_rate": "ci_band",
    }[column]
    table = metric_frame({f"t{i}": {column: v} for i, v in enumerate(values)})
    result = scoring.bands(table, bench, window_days)[name]
    return [None if pd.isna(b) else b for b in result]


def score(
    current: Rows,
    previous: Rows | None = None,
    *,
    bench: Benchmarks = DORA_2023,
    window_days: int = 30,
    stale: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Metrics + bands + scores + flags + reasons, as the report computes them."""
    cur = metric_frame(current)
    prev = metric_frame(previous or {team: {} for team in current})
    metrics = TeamMetrics(
        current=cur,
        previous=prev,
        weekly_deploys=pd.DataFrame(index=cur.index),
        start=WINDOW_START,
        end=AS_OF,
    )
    return scoring.score_metrics(metrics, bench, window_days, stale)


# A team whose every band is known, for tests that vary one thing at a time:
# deploy frequency high (75), coverage/canary/CI medium (50 each), lead time elite
# (100), change failure rate high (75), recovery high (75).
BASE: dict[str, float] = {
    "deploys": 8.0,
    "deploy_days_per_week_p50": 2.0,
    "coverage_pct": 65.0,
    "coverage_delta_pts": 0.0,
    "canary_share": 0.3,
    "ci_success_rate": 0.85,
    "lead_time_p50_hours": 10.0,
    "change_failure_rate": 0.08,
    "recovery_time_p50_hours": 5.0,
}


def base(**changes: float) -> dict[str, float]:
    return {**BASE, **changes}


# --------------------------------------------------------------------------- bands


def test_deploy_frequency_band_edges() -> None:
    table = metric_frame(
        {
            "elite": {"deploy_days_per_week_p50": 5.0, "deploys": 20.0},
            "high_below_elite": {"deploy_days_per_week_p50": 4.99, "deploys": 20.0},
            "high": {"deploy_days_per_week_p50": 1.0, "deploys": 4.0},
            # < 1 day a week, but deploys >= 30 / 30 = 1 -> medium
            "medium": {"deploy_days_per_week_p50": 0.5, "deploys": 1.0},
            "low": {"deploy_days_per_week_p50": 0.0, "deploys": 0.0},
            "empty": {},
        }
    )
    result = scoring.bands(table, DORA_2023, 30)["deploy_frequency_band"]
    assert result.iloc[:5].tolist() == ["elite", "high", "high", "medium", "low"]
    assert pd.isna(result["empty"])
    # 90-day window: medium needs deploys >= 90 / 30 = 3
    table = metric_frame(
        {
            "two": {"deploy_days_per_week_p50": 0.0, "deploys": 2.0},
            "three": {"deploy_days_per_week_p50": 0.0, "deploys": 3.0},
        }
    )
    assert scoring.bands(table, DORA_2023, 90)["deploy_frequency_band"].tolist() == [
        "low",
        "medium",
    ]


@pytest.mark.parametrize("bench", [DORA_2023, DORA_2024], ids=lambda b: b.name)
def test_lead_time_band_edges(bench: Benchmarks) -> None:
    # < 24 h elite, < 168 h high, < 720 h medium, else low (same in both presets)
    values = [23.99, 24.0, 167.99, 168.0, 719.99, 720.0, float("nan")]
    assert banded("lead_time_p50_hours", values, bench) == [
        "elite",
        "high",
        "high",
        "medium",
        "medium",
        "low",
        None,
    ]


def test_change_failure_rate_band_edges_dora_2023() -> None:
    # <= 5% elite, <= 10% high, <= 15% medium, else low
    values = [0.0, 0.05, 0.0501, 0.10, 0.15, 0.1501, 1.0]
    assert banded("change_failure_rate", values, DORA_2023) == [
        "elite",
        "elite",
        "high",
        "high",
        "medium",
        "low",
        "low",
    ]


def test_change_failure_rate_band_edges_dora_2024() -> None:
    # dora-2024 preset: <= 5% / <= 20% / <= 40%
    values = [0.05, 0.06, 0.20, 0.21, 0.40, 0.41]
    assert banded("change_failure_rate", values, DORA_2024) == [
        "elite",
        "high",
        "high",
        "medium",
        "medium",
        "low",
    ]


@pytest.mark.parametrize("bench", [DORA_2023, DORA_2024], ids=lambda b: b.name)
def test_recovery_band_edges(bench: Benchmarks) -> None:
    # < 1 h / < 24 h / < 168 h / longer
    values = [0.99, 1.0, 23.99, 24.0, 167.99, 168.0]
    assert banded("recovery_time_p50_hours", values, bench) == [
        "elite",
        "high",
        "high",
        "medium",
        "medium",
        "low",
    ]


@pytest.mark.parametrize(
    ("column", "values"),
    [
        # value >= threshold: 80 / 70 / 60
        ("coverage_pct", [80.0, 79.99, 70.0, 69.99, 60.0, 59.99]),
        # 0.8 / 0.5 / 0.2
        ("canary_share", [0.8, 0.79, 0.5, 0.49, 0.2, 0.19]),
        # 0.95 / 0.90 / 0.80
        ("ci_success_rate", [0.95, 0.949, 0.90, 0.899, 0.80, 0.799]),
    ],
)
def test_rigor_band_edges(column: str, values: list[float]) -> None:
    expected = ["elite", "high", "high", "medium", "medium", "low"]
    assert banded(column, values, DORA_2023) == expected
    assert banded(column, values, DORA_2024) == expected
    assert banded(column, [float("nan")], DORA_2023) == [None]


def test_rate_edges_hold_despite_float_arithmetic() -> None:
    # 0.7 + 0.1 is 0.7999999999999999: still elite canary share
    assert banded("canary_share", [0.7 + 0.1], DORA_2023) == ["elite"]
    # 0.1 + 0.05 is 0.15000000000000002: still a medium change failure rate
    assert banded("change_failure_rate", [0.1 + 0.05], DORA_2023) == ["medium"]


def test_config_overrides_thresholds() -> None:
    bench = dora(
        "dora-2023",
        coverage_min=[90, 80, 70],
        deploy_days_per_week_elite=3,
        change_failure_rate_max=(0.1, 0.2, 0.3),
    )
    assert bench.coverage_min == (90.0, 80.0, 70.0)
    assert banded("coverage_pct", [90.0, 85.0, 80.0, 70.0, 69.0], bench) == [
        "elite",
        "high",
        "high",
        "medium",
        "low",
    ]
    assert banded("change_failure_rate", [0.1, 0.25], bench) == ["elite", "medium"]
    table = metric_frame({"t": {"deploy_days_per_week_p50": 3.0, "deploys": 12.0}})
    assert scoring.bands(table, bench, 30)["deploy_frequency_band"].tolist() == ["elite"]
    # the preset itself is untouched
    assert banded("coverage_pct", [85.0], DORA_2023) == ["elite"]
    with pytest.raises(ValueError, match="coverage_min"):
        dora("dora-2023", coverage_min=80)


def test_band_scores() -> None:
    bands = pd.Series(["elite", "high", "medium", "low", None])
    result = scoring.band_score(bands)
    assert result.iloc[:4].tolist() == [100.0, 75.0, 50.0, 25.0]
    assert isnan(result.iloc[4])
    assert dict(BAND_SCORES) == {"elite": 100.0, "high": 75.0, "medium": 50.0, "low": 25.0}


# --------------------------------------------------------------------------- pressure


def test_pressure_adds_clamped_trend_to_frequency_score() -> None:
    elite = {"deploy_days_per_week_p50": 5.0, "deploys": 30.0}
    high = {"deploy_days_per_week_p50": 2.0, "deploys": 8.0}
    medium = {"deploy_days_per_week_p50": 0.5, "deploys": 2.0}
    low = {"deploy_days_per_week_p50": 0.0, "deploys": 0.0}
    table = score(
        {
            "elite_up": {**elite, "velocity_trend": 1.0},  # 100 + min(50, 25) -> 125 -> 100
            "high_up": {**high, "velocity_trend": 0.2},  # 75 + 0.2 * 50 = 85
            "high_capped": {**high, "velocity_trend": 0.8},  # 75 + min(40, 25) = 100
            "medium_down": {**medium, "velocity_trend": -0.3},  # 50 - 15 = 35
            "low_down": {**low, "velocity_trend": -1.0},  # 25 + max(-50, -25) = 0
            "high_no_trend": {**high},  # empty trend adds 0 -> 75
            "no_deploys": {"velocity_trend": 0.5},  # no frequency band: empty
        }
    )
    pressure = table["pressure"]
    assert pressure.iloc[:6].tolist() == approx([100.0, 85.0, 100.0, 35.0, 0.0, 75.0])
    assert isnan(pressure["no_deploys"])


def test_pressure_clamped_to_0_100_with_a_wider_trend_cap() -> None:
    bench = dora(trend_cap=60)
    table = score(
        {
            "low": {"deploy_days_per_week_p50": 0.0, "deploys": 0.0, "velocity_trend": -1.0},
            "elite": {"deploy_days_per_week_p50": 6.0, "deploys": 30.0, "velocity_trend": 1.0},
        },
        bench=bench,
    )
    # 25 - min(50, 60) = -25 -> 0; 100 + 50 = 150 -> 100
    assert table["pressure"].tolist() == [0.0, 100.0]


# --------------------------------------------------------------------------- declines


def test_material_declines_at_their_thresholds() -> None:
    current = metric_frame(
        {
            "coverage_2": {"coverage_delta_pts": -2.0},  # fell 2 pts: declined
            "coverage_1_99": {"coverage_delta_pts": -1.99},
            "coverage_up": {"coverage_delta_pts": 3.0},
            "canary_10": {"canary_share": 0.5},  # 0.6 -> 0.5: fell 0.10
            "canary_09": {"canary_share": 0.51},  # fell 0.09
            "ci_05": {"ci_success_rate": 0.90},  # 0.95 -> 0.90: fell 0.05
            "ci_04": {"ci_success_rate": 0.91},
            "empty_now": {},  # previous values but nothing now: no decline
        }
    )
    previous = metric_frame(
        {
            "coverage_2": {"coverage_pct": 50.0},  # ignored: coverage uses its delta
            "coverage_1_99": {"coverage_pct": 99.0},
            "coverage_up": {"coverage_pct": 99.0},
            "canary_10": {"canary_share": 0.6},
            "canary_09": {"canary_share": 0.6},
            "ci_05": {"ci_success_rate": 0.95},
            "ci_04": {"ci_success_rate": 0.95},
            "empty_now": {"canary_share": 0.9, "ci_success_rate": 0.99},
        }
    )
    result = scoring.declines(current, previous, DORA_2023)
    assert result.to_dict("index") == {
        "coverage_2": {"coverage": True, "canary": False, "ci": False},
        "coverage_1_99": {"coverage": False, "canary": False, "ci": False},
        "coverage_up": {"coverage": False, "canary": False, "ci": False},
        "canary_10": {"coverage": False, "canary": True, "ci": False},
        "canary_09": {"coverage": False, "canary": False, "ci": False},
        "ci_05": {"coverage": False, "canary": False, "ci": True},
        "ci_04": {"coverage": False, "canary": False, "ci": False},
        "empty_now": {"coverage": False, "canary": False, "ci": False},
    }


# --------------------------------------------------------------------------- rigor, stability, gap


def test_rigor_is_weighted_band_mean_minus_declines() -> None:
    cur = {"coverage_pct": 80.0, "canary_share": 0.5, "ci_success_rate": 0.85}
    table = score(
        {
            # (100 + 75 + 50) / 3 = 75
            "plain": cur,
            # 75 - 10 (canary fell 0.7 -> 0.5)
            "one_decline": cur,
            # 75 - 20 (canary fell, coverage fell 2 pts)
            "two_declines": {**cur, "coverage_delta_pts": -2.5},
            # one band missing: (75 + 50) / 2 = 62.5
            "no_coverage": {"canary_share": 0.5, "ci_success_rate": 0.85},
            # CI empty now, so it cannot decline: (25 + 25) / 2 - 2 * 10 = 5
            "ci_empty": {"coverage_pct": 10.0, "coverage_delta_pts": -5.0, "canary_share": 0.0},
            "nothing": {},
        },
        {
            "plain": {"canary_share": 0.55},
            "one_decline": {"canary_share": 0.7},
            "two_declines": {"canary_share": 0.7},
            "no_coverage": {},
            "ci_empty": {"canary_share": 0.5, "ci_success_rate": 0.9},
            "nothing": {},
        },
    )
    rigor = table["rigor"]
    assert rigor.iloc[:5].tolist() == approx([75.0, 65.0, 55.0, 62.5, 5.0])
    assert isnan(rigor["nothing"])
    floored = score(
        {
            "t": {
                "coverage_pct": 10.0,
                "coverage_delta_pts": -5.0,
                "canary_share": 0.0,
                "ci_success_rate": 0.5,
            }
        },
        {"t": {"canary_share": 0.5, "ci_success_rate": 0.9}},
    )
    # all low, all three declined: 25 - 3 * 10 = -5 -> floored at 0
    assert floored["rigor"].tolist() == [0.0]


def test_rigor_weights_are_configurable() -> None:
    cur = {"coverage_pct": 80.0, "canary_share": 0.5, "ci_success_rate": 0.85}
    table = score({"t": cur}, bench=dora(weight_coverage=2))
    # (2 * 100 + 75 + 50) / 4 = 81.25
    assert table["rigor"].tolist() == approx([81.25])


def test_stability_is_mean_of_available_bands_and_gap_is_pressure_minus_rigor() -> None:
    table = score(
        {
            # lead 10 h elite 100, cfr 12% medium 50, recovery empty -> 75
            "partial": {
                "lead_time_p50_hours": 10.0,
                "change_failure_rate": 0.12,
                **{k: BASE[k] for k in ("deploys", "deploy_days_per_week_p50")},
                "coverage_pct": 65.0,
            },
            # 100, 75, 75 -> 83.33
            "full": BASE,
            "none": {},
        }
    )
    assert table.loc["partial", "stability"] == approx(75.0)
    assert table.loc["full", "stability"] == approx(250 / 3)
    assert isnan(table.loc["none", "stability"])
    # gap: pressure 75 (high, no trend) - rigor 50 (coverage medium only) = 25
    assert table.loc["partial", "gap"] == approx(25.0)
    # full: 75 - (50 + 50 + 50) / 3 = 25
    assert table.loc["full", "gap"] == approx(25.0)
    assert isnan(table.loc["none", "gap"])


# --------------------------------------------------------------------------- grade


def test_grade_cutoffs() -> None:
    values = pd.Series([100.0, 85.0, 84.99, 70.0, 69.99, 55.0, 54.99, 40.0, 39.99, 0.0, None])
    grades = scoring.grade_of(values)
    assert grades.iloc[:10].tolist() == ["A", "A", "B", "B", "C", "C", "D", "D", "F", "F"]
    assert pd.isna(grades.iloc[10])


def test_grade_uses_mean_of_rigor_and_stability_or_the_one_present() -> None:
    elite_rigor = {"coverage_pct": 90.0, "canary_share": 0.9, "ci_success_rate": 0.99}
    table = score(
        {
            # rigor 100, stability (lead 10 h elite, cfr 12% medium) 75 -> 87.5 -> A
            "both": {**elite_rigor, "lead_time_p50_hours": 10.0, "change_failure_rate": 0.12},
            # rigor only: 100 -> A
            "rigor_only": elite_rigor,
            # stability only: cfr 20% low 25, recovery 30 h medium 50 -> 37.5 -> F
            "stability_only": {"change_failure_rate": 0.2, "recovery_time_p50_hours": 30.0},
            # rigor 50 (all medium), stability 62.5 (cfr medium 50, lead high 75) -> 56.25 -> C
            "c": {
                "coverage_pct": 65.0,
                "canary_share": 0.3,
                "ci_success_rate": 0.85,
                "change_failure_rate": 0.12,
                "lead_time_p50_hours": 100.0,
            },
            "neither": {"deploys": 3.0},
        }
    )
    assert table["grade"].iloc[:4].tolist() == ["A", "A", "F", "C"]
    assert pd.isna(table.loc["neither", "grade"])


# --------------------------------------------------------------------------- flags


def flags_of(table: pd.DataFrame, team: str) -> list[str]:
    return list(table.loc[team, "flags"])


def reasons_of(table: pd.DataFrame, team: str) -> str:
    return " | ".join(table.loc[team, "reasons"])


def test_outpacing_by_gap() -> None:
    elite_freq = {"deploy_days_per_week_p50": 5.0, "deploys": 25.0}
    high_freq = {"deploy_days_per_week_p50": 2.0, "deploys": 8.0}
    medium_rigor = {"coverage_pct": 65.0, "canary_share": 0.3, "ci_success_rate": 0.85}
    table = score(
        {
            "gap_50": {**elite_freq, **medium_rigor},  # 100 - 50 = 50
            "gap_25": {**high_freq, **medium_rigor},  # 75 - 50 = 25: at the threshold
            # 75 - 0.02 * 50 = 74 -> gap 24
            "gap_24": {**high_freq, **medium_rigor, "velocity_trend": -0.02},
        }
    )
    assert table["gap"].tolist() == approx([50.0, 25.0, 24.0])
    assert "outpacing" in flags_of(table, "gap_50")
    assert "outpacing" in flags_of(table, "gap_25")
    assert "outpacing" not in flags_of(table, "gap_24")
    reasons = reasons_of(table, "gap_50")
    assert "pressure 100 vs rigor 50: gap 50" in reasons


def test_outpacing_by_trend_with_a_material_decline() -> None:
    high_freq = {"deploy_days_per_week_p50": 2.0, "deploys": 8.0}
    elite_rigor = {"coverage_pct": 90.0, "canary_share": 0.8, "ci_success_rate": 0.99}
    table = score(
        {
            # pressure 75 + 12.5 = 87.5, rigor 100 - 10 = 90: gap -2.5, but the trend
            # is +25% while canary share fell 0.9 -> 0.8
            "fast_declining": {**high_freq, **elite_rigor, "velocity_trend": 0.25},
            "slower_declining": {**high_freq, **elite_rigor, "velocity_trend": 0.24},
            "fast_steady": {**high_freq, **elite_rigor, "velocity_trend": 0.5},
        },
        {
            "fast_declining": {"canary_share": 0.9},
            "slower_declining": {"canary_share": 0.9},
            "fast_steady": {"canary_share": 0.8},
        },
    )
    assert table.loc["fast_declining", "gap"] == approx(-2.5)
    assert flags_of(table, "fast_declining") == ["outpacing", "eroding"]
    assert flags_of(table, "slower_declining") == ["eroding"]
    assert flags_of(table, "fast_steady") == []
    assert "deploys +25% vs previous 30 days while canary share fell 90% → 80%" in reasons_of(
        table, "fast_declining"
    )


def test_unstable_when_failure_rate_or_recovery_band_is_low() -> None:
    table = score(
        {
            "cfr_low": {"change_failure_rate": 0.2, "recovery_time_p50_hours": 2.0},
            "recovery_low": {"change_failure_rate": 0.0, "recovery_time_p50_hours": 200.0},
            "medium": {"change_failure_rate": 0.15, "recovery_time_p50_hours": 100.0},
            # a low lead time does not make a team unstable
            "slow_lead": {"lead_time_p50_hours": 1000.0},
        }
    )
    assert flags_of(table, "cfr_low") == ["unstable"]
    assert flags_of(table, "recovery_low") == ["unstable"]
    assert flags_of(table, "medium") == []
    assert flags_of(table, "slow_lead") == []
    assert "change failure rate 20% (low: above 15%)" in reasons_of(table, "cfr_low")
    assert "median recovery 8.3 d (low: 7.0 d or more)" in reasons_of(table, "recovery_low")


@pytest.mark.parametrize(
    ("current", "previous", "text"),
    [
        (
            {"coverage_pct": 75.0, "coverage_delta_pts": -3.0},
            {},
            "eroding: coverage fell 78.0% → 75.0% (−3.0 pts)",
        ),
        (
            {"canary_share": 0.18},
            {"canary_share": 0.62},
            "eroding: canary share fell 62% → 18%",
        ),
        (
            {"ci_success_rate": 0.85},
            {"ci_success_rate": 0.95},
            "eroding: CI success fell 95% → 85%",
        ),
    ],
    ids=["coverage", "canary", "ci"],
)
def test_eroding_for_each_material_decline(
    current: dict[str, float], previous: dict[str, float], text: str
) -> None:
    table = score({TEAM: current}, {TEAM: previous})
    assert flags_of(table, TEAM) == ["eroding"]
    assert text in reasons_of(table, TEAM)
    assert "−10 for 1 declining metric" in reasons_of(table, TEAM)


def test_stale_flag_from_the_stale_mapping() -> None:
    table = score(
        {TEAM: BASE, OTHER: BASE},
        stale={TEAM: "source 'gh' failed 2 hours ago: HTTP 502"},
    )
    assert "stale" in flags_of(table, TEAM)
    assert "stale" not in flags_of(table, OTHER)
    assert "stale data: source 'gh' failed 2 hours ago: HTTP 502" in reasons_of(table, TEAM)


def test_no_data_flag_only_when_every_metric_is_empty() -> None:
    table = score({"empty": {}, "coverage_only": {"coverage_pct": 70.0}, "zero": {"deploys": 0}})
    assert flags_of(table, "empty") == ["no-data"]
    assert "no data" in reasons_of(table, "empty")
    assert "no-data" not in flags_of(table, "coverage_only")
    assert "no-data" not in flags_of(table, "zero")
    for column in ("pressure", "rigor", "stability", "gap", "grade"):
        assert pd.isna(table.loc["empty", column]), column


def test_several_flags_in_order() -> None:
    table = score(
        {
            TEAM: {
                "deploy_days_per_week_p50": 5.0,
                "deploys": 40.0,
                "velocity_trend": 0.48,
                "canary_share": 0.18,
                "change_failure_rate": 0.3,
            }
        },
        {TEAM: {"canary_share": 0.62}},
        stale={TEAM: "source 'pd' has never synced"},
    )
    assert flags_of(table, TEAM) == ["outpacing", "unstable", "eroding", "stale"]


def test_reasons_carry_the_numbers() -> None:
    table = score(
        {
            TEAM: {
                "deploy_days_per_week_p50": 3.0,
                "deploys": 37.0,
                "velocity_trend": 0.48,
                "coverage_pct": 72.5,
                "canary_share": 0.18,
                "ci_success_rate": 0.93,
                "lead_time_p50_hours": 30.0,
                "change_failure_rate": 0.08,
                "recovery_time_p50_hours": 0.5,
            }
        },
        {TEAM: {"canary_share": 0.62}},
    )
    reasons = table.loc[TEAM, "reasons"]
    # the SPEC's own example sentence
    assert "deploys +48% vs previous 30 days while canary share fell 62% → 18%" in reasons
    # pressure: high 75 + min(0.48 * 50, 25) = 99
    assert table.loc[TEAM, "pressure"] == approx(99.0)
    text = " | ".join(reasons)
    assert (
        "pressure 99: deploys on a median 3.0 days a week, 37 in 30 days (high), "
        "+48% vs previous 30 days" in text
    )
    # rigor: coverage high 75, canary low 25, CI high 75 -> 58.33 - 10 = 48.33
    assert (
        "rigor 48: coverage 72.5% (high), canary share 18% (low), CI success 93% (high), "
        "−10 for 1 declining metric" in text
    )
    # stability: lead 30 h high 75, cfr 8% high 75, recovery 30 min elite 100 -> 83.33
    assert (
        "stability 83: lead time p50 30.0 h (high), change failure rate 8% (high), "
        "recovery p50 30 min (elite)" in text
    )


# --------------------------------------------------------------------------- the report


SUMMARY_COLUMNS = [
    "team",
    "window_start",
    "window_end",
    "deploys",
    "deploys_per_day",
    "deploy_days_per_week_p50",
    "velocity_trend",
    "lead_time_p50_hours",
    "lead_time_p90_hours",
    "coverage_pct",
    "coverage_delta_pts",
    "canary_share",
    "ci_success_rate",
    "ci_duration_p50_minutes",
    "change_failure_rate",
    "recovery_time_p50_hours",
    "incidents",
    "incidents_sev1_2",
    "incidents_open",
    "rework_rate",
    "pressure",
    "rigor",
    "stability",
    "gap",
    "grade",
    "flags",
    "reasons",
    "incidents_unlinked",
    "detection_time_p50_hours",
]


def _spec_example_events() -> list:
    # previous window: 50 deploys, 31 canary -> 62%
    previous = [
        deploy(f"p{i}", at=ago(30.2 + i * 0.5), strategy="canary" if i < 31 else "rolling")
        for i in range(50)
    ]
    # this window: 74 deploys (74 / 50 - 1 = +48%), 13 canary -> 17.6% -> "18%"
    current = [
        deploy(f"c{i}", at=ago(0.1 + i * 0.39), strategy="canary" if i < 13 else "rolling")
        for i in range(74)
    ]
    return [*previous, *current, coverage(75.0, at=ago(2))]


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (None, 0, "—"),
        (float("nan"), 0, "—"),
        (-0.004, 0, "0"),  # no "-0"
        (-0.0, 0, "0"),
        (12.34, 1, "12.3"),
        (-3.25, 1, "−3.2"),  # a real minus sign
        (1e6, 0, "1000000"),
    ],
)
def test_numbers_in_reasons_read_as_people_write_them(
    value: float | None, digits: int, expected: str
) -> None:
    assert text.num(value, digits) == expected


def test_rates_changes_and_durations_in_reasons() -> None:
    assert [text.percent(v) for v in (0.183, None, 1.05)] == ["18%", "—", "105%"]
    assert [text.pct_change(v) for v in (0.48, -0.2, 0.0, None)] == ["+48%", "−20%", "+0%", "—"]
    assert [text.hours(v) for v in (0.75, 5.2, 47.99, 48, 74.4, None)] == [
        "45 min",
        "5.2 h",
        "48.0 h",
        "2.0 d",
        "3.1 d",
        "—",
    ]


def test_build_report_end_to_end() -> None:
    prep = prepared(*_spec_example_events())
    report = scoring.build_report(
        prep, REQUEST, bench=DORA_2023, stale={OTHER: "source 'gh' failed: timeout"}
    )
    table = report.table
    assert list(table.index) == [TEAM, OTHER]  # `unassigned` has no events: not shown
    row = table.loc[TEAM]
    assert row["deploys"] == 74
    assert row["velocity_trend"] == approx(0.48)
    assert row["canary_share"] == approx(13 / 74)
    # deploys every day -> 7 distinct days in each of the 4 weeks: elite, 100 + 24 = 124 -> 100
    assert row["deploy_days_per_week_p50"] == 7
    assert row["pressure"] == approx(100.0)
    # rigor: coverage 75 (high 75), canary 17.6% (low 25) -> 50, canary fell 0.44: -10 = 40
    assert row["rigor"] == approx(40.0)
    assert row["gap"] == approx(60.0)
    assert list(row["flags"]) == ["outpacing", "eroding"]
    assert "deploys +48% vs previous 30 days while canary share fell 62% → 18%" in row["reasons"]
    assert list(table.loc[OTHER, "flags"]) == ["stale", "no-data"]


def test_summary_columns_in_spec_order() -> None:
    prep = prepared(*_spec_example_events())
    report = scoring.build_report(prep, REQUEST, bench=DORA_2023)
    summary = report.summary()
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary["team"].tolist() == [TEAM, OTHER]
    assert (summary["window_start"] == WINDOW_START).all()
    assert (summary["window_end"] == AS_OF).all()
    assert summary.loc[0, "deploys"] == 74
