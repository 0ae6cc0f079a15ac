"""Bands and scores (SPEC §2 bands, §3 scores): metrics in, numbers out.

Vectorized over teams: each band is one ``np.select`` over a metric column, and
pressure, rigor, stability, gap and grade are column arithmetic. The sentences
that explain these numbers are :mod:`scorecard.scoring.reasons`'.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from scorecard.bands import BAND_COLUMNS, BAND_SCORES, EPS, Benchmarks

__all__ = [
    "GRADES",
    "SCORE_COLUMNS",
    "band_at_least",
    "band_at_most",
    "band_score",
    "band_under",
    "bands",
    "declines",
    "deploy_frequency_band",
    "grade_of",
    "scores",
]

SCORE_COLUMNS: Final = ("pressure", "rigor", "stability", "gap", "grade")
GRADES: Final = ((85.0, "A"), (70.0, "B"), (55.0, "C"), (40.0, "D"))


# --------------------------------------------------------------------------- bands


def band_at_least(values: pd.Series, thresholds: tuple[float, float, float]) -> pd.Series:
    """elite/high/medium/low for metrics where higher is better (value ≥ threshold)."""
    return _banded(values, [values >= t - EPS for t in thresholds])


def band_under(values: pd.Series, thresholds: tuple[float, float, float]) -> pd.Series:
    """Bands for durations where lower is better (value < threshold)."""
    return _banded(values, [values < t for t in thresholds])


def band_at_most(values: pd.Series, thresholds: tuple[float, float, float]) -> pd.Series:
    """Bands for rates where lower is better (value ≤ threshold)."""
    return _banded(values, [values <= t + EPS for t in thresholds])


def _banded(values: pd.Series, conditions: list[pd.Series]) -> pd.Series:
    chosen = np.select(conditions, ["elite", "high", "medium"], default="low")
    return pd.Series(chosen, index=values.index, dtype=object).where(values.notna())


def deploy_frequency_band(metrics: pd.DataFrame, bench: Benchmarks, window_days: int) -> pd.Series:
    """SPEC §2: elite/high by median deploy days per week, medium by deploy count."""
    days = metrics["deploy_days_per_week_p50"]
    deploys = metrics["deploys"]
    chosen = np.select(
        [
            days >= bench.deploy_days_per_week_elite - EPS,
            days >= bench.deploy_days_per_week_high - EPS,
            deploys >= window_days / bench.deploys_medium_per_days - EPS,
        ],
        ["elite", "high", "medium"],
        default="low",
    )
    return pd.Series(chosen, index=metrics.index, dtype=object).where(deploys.notna())


def bands(metrics: pd.DataFrame, bench: Benchmarks, window_days: int) -> pd.DataFrame:
    """Every band of SPEC §2 for each team (None where the metric is empty)."""
    return pd.DataFrame(
        {
            "deploy_frequency_band": deploy_frequency_band(metrics, bench, window_days),
            "lead_time_band": band_under(
                metrics["lead_time_p50_hours"], bench.lead_time_hours_under
            ),
            "change_failure_rate_band": band_at_most(
                metrics["change_failure_rate"], bench.change_failure_rate_max
            ),
            "recovery_band": band_under(
                metrics["recovery_time_p50_hours"], bench.recovery_hours_under
            ),
            "coverage_band": band_at_least(metrics["coverage_pct"], bench.coverage_min),
            "canary_band": band_at_least(metrics["canary_share"], bench.canary_share_min),
            "ci_band": band_at_least(metrics["ci_success_rate"], bench.ci_success_min),
        },
        index=metrics.index,
        columns=list(BAND_COLUMNS),
    )


def band_score(band: pd.Series) -> pd.Series:
    """elite 100, high 75, medium 50, low 25; empty stays empty."""
    return band.map(BAND_SCORES).astype(float)


# --------------------------------------------------------------------------- scores


def declines(current: pd.DataFrame, previous: pd.DataFrame, bench: Benchmarks) -> pd.DataFrame:
    """Which rigor metrics declined materially (coverage vs window start, others vs before)."""
    canary_drop = previous["canary_share"] - current["canary_share"]
    ci_drop = previous["ci_success_rate"] - current["ci_success_rate"]
    return pd.DataFrame(
        {
            "coverage": (current["coverage_delta_pts"] <= -bench.coverage_decline_pts + EPS),
            "canary": canary_drop >= bench.canary_decline - EPS,
            "ci": ci_drop >= bench.ci_success_decline - EPS,
        },
        index=current.index,
    ).fillna(False)


def scores(
    current: pd.DataFrame, previous: pd.DataFrame, bench: Benchmarks, window_days: int
) -> pd.DataFrame:
    """Bands, pressure, rigor, stability, gap and grade per team."""
    banded = bands(current, bench, window_days)
    trend = current["velocity_trend"]
    trend_points = (trend * bench.trend_weight).clip(-bench.trend_cap, bench.trend_cap).fillna(0)
    pressure = (band_score(banded["deploy_frequency_band"]) + trend_points).clip(0, 100)

    declined = declines(current, previous, bench)
    rigor_parts = pd.DataFrame(
        {
            "coverage": band_score(banded["coverage_band"]),
            "canary": band_score(banded["canary_band"]),
            "ci": band_score(banded["ci_band"]),
        }
    )
    weights = pd.Series(
        {"coverage": bench.weight_coverage, "canary": bench.weight_canary, "ci": bench.weight_ci}
    )
    present = rigor_parts.notna()
    weight_sum = present.mul(weights, axis=1).sum(axis=1)
    weighted = rigor_parts.fillna(0).mul(weights, axis=1).sum(axis=1)
    rigor_mean = (weighted / weight_sum).where(weight_sum > 0)
    rigor = (rigor_mean - bench.decline_penalty * declined.sum(axis=1)).clip(lower=0)

    stability = pd.DataFrame(
        {
            "lead": band_score(banded["lead_time_band"]),
            "cfr": band_score(banded["change_failure_rate_band"]),
            "recovery": band_score(banded["recovery_band"]),
        }
    ).mean(axis=1, skipna=True)
    overall = pd.concat([rigor, stability], axis=1).mean(axis=1, skipna=True)
    out = banded.assign(
        pressure=pressure,
        rigor=rigor,
        stability=stability,
        gap=pressure - rigor,
        grade=grade_of(overall),
        declined_coverage=declined["coverage"],
        declined_canary=declined["canary"],
        declined_ci=declined["ci"],
    )
    return out


def grade_of(values: pd.Series) -> pd.Series:
    """A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 40, else F; empty when there is nothing to grade."""
    chosen = np.select(
        [values >= cut - EPS for cut, _ in GRADES], [g for _, g in GRADES], default="F"
    )
    return pd.Series(chosen, index=values.index, dtype=object).where(values.notna())
