"""Benchmark thresholds: the numbers that turn metrics into bands (SPEC §2).

Kept apart from scoring so that config validation can name every threshold key
without importing pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

EPS: Final = 1e-9
"""Tolerance when a metric meets a threshold: float rounding never moves a team
across a band (0.1 + 0.2 still meets a threshold of 0.3)."""

BAND_NAMES: Final = ("elite", "high", "medium", "low")
BAND_COLUMNS: Final = (
    "deploy_frequency_band",
    "lead_time_band",
    "change_failure_rate_band",
    "recovery_band",
    "coverage_band",
    "canary_band",
    "ci_band",
)
"""The bands a scored table has per team, one column each."""
BAND_SCORES: Final[Mapping[str, float]] = {
    "elite": 100.0,
    "high": 75.0,
    "medium": 50.0,
    "low": 25.0,
}


@dataclass(frozen=True)
class Benchmarks:
    """Every threshold, each a triple for elite / high / medium.

    `*_min` thresholds are "value ≥ threshold", `*_under` are "value < threshold",
    `*_max` are "value ≤ threshold". Deploy frequency: elite and high compare the
    median deploy days per week; medium compares deploys against
    ``window_days / deploys_medium_per_days``.
    """

    name: str = "dora-2023"
    deploy_days_per_week_elite: float = 5.0
    deploy_days_per_week_high: float = 1.0
    deploys_medium_per_days: float = 30.0
    lead_time_hours_under: tuple[float, float, float] = (24.0, 168.0, 720.0)
    change_failure_rate_max: tuple[float, float, float] = (0.05, 0.10, 0.15)
    recovery_hours_under: tuple[float, float, float] = (1.0, 24.0, 168.0)
    coverage_min: tuple[float, float, float] = (80.0, 70.0, 60.0)
    canary_share_min: tuple[float, float, float] = (0.8, 0.5, 0.2)
    ci_success_min: tuple[float, float, float] = (0.95, 0.90, 0.80)
    # Material decline (SPEC §3)
    coverage_decline_pts: float = 2.0
    canary_decline: float = 0.10
    ci_success_decline: float = 0.05
    # Score model
    trend_weight: float = 50.0
    trend_cap: float = 25.0
    decline_penalty: float = 10.0
    gap_outpacing: float = 25.0
    trend_outpacing: float = 0.25
    weight_coverage: float = 1.0
    weight_canary: float = 1.0
    weight_ci: float = 1.0


# The DORA 2024 report's clusters are not monotonic (its "medium" cluster has a
# lower change failure rate than "high"); these are the monotonic envelope of it.
PRESETS: Final[Mapping[str, Benchmarks]] = {
    "dora-2023": Benchmarks(),
    "dora-2024": Benchmarks(
        name="dora-2024",
        change_failure_rate_max=(0.05, 0.20, 0.40),
        recovery_hours_under=(1.0, 24.0, 168.0),
        lead_time_hours_under=(24.0, 168.0, 720.0),
    ),
}

THRESHOLD_KEYS: Final[tuple[str, ...]] = tuple(
    f.name for f in fields(Benchmarks) if f.name != "name"
)
TRIPLE_KEYS: Final[frozenset[str]] = frozenset(
    f.name for f in fields(Benchmarks) if str(f.type).startswith("tuple")
)


def benchmarks_for(name: str, overrides: Mapping[str, object] | None = None) -> Benchmarks:
    """The named preset with config overrides applied (keys from THRESHOLD_KEYS)."""
    base = PRESETS[name]
    if not overrides:
        return base
    values: dict[str, object] = {}
    for key, value in overrides.items():
        if key in TRIPLE_KEYS:
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{key} needs a list of three numbers")
            values[key] = tuple(float(v) for v in value)
        else:
            values[key] = float(value)  # type: ignore[arg-type]
    return replace(base, **values)  # type: ignore[arg-type]
