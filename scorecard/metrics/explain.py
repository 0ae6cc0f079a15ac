"""The events behind one number (SPEC §13): one row per event a metric considered.

``scorecard explain TEAM METRIC`` and the TUI's drill-down show, for one team
and one summary metric, every event the metric was computed from, with
``counted``, ``value``, a one-word ``rule`` and a ``detail`` in plain words
naming the linked ids. The rows read the very columns
:func:`~scorecard.metrics.prepare.prepare` joined once (each change's
deployment and the rule that found it, each incident's attributed deployment
and its link rule, each deploy's resolved strategy and the rollout sample that
resolved it), so an explanation can never disagree with the number: the
metric is :func:`aggregate` over the counted rows, and a property test holds
every metric to it. Pure: no I/O; the prose is built per row, for one team.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import numpy as np
import pandas as pd

from scorecard.metrics.explain_rows import (
    EXPLAIN_COLUMNS,
    Scope,
    ci_rows,
    coverage_rows,
    deploy_rows,
    failure_rows,
    incident_rows,
    lead_rows,
    strategy_rows,
)
from scorecard.metrics.prepare import Prepared
from scorecard.metrics.windows import LINK_METRICS, METRIC_COLUMNS, WEEK

__all__ = [
    "AGGREGATES",
    "EXPLAINABLE",
    "EXPLAIN_COLUMNS",
    "Aggregate",
    "Explanation",
    "aggregate",
    "explain",
]

Aggregate = Literal["count", "per_day", "deploy_days", "trend", "mean", "median", "p90", "delta"]

AGGREGATES: Final[dict[str, Aggregate]] = {
    "deploys": "count",
    "deploys_per_day": "per_day",
    "deploy_days_per_week_p50": "deploy_days",
    "velocity_trend": "trend",
    "lead_time_p50_hours": "median",
    "lead_time_p90_hours": "p90",
    "coverage_pct": "mean",
    "coverage_delta_pts": "delta",
    "canary_share": "mean",
    "ci_success_rate": "mean",
    "ci_duration_p50_minutes": "median",
    "change_failure_rate": "mean",
    "recovery_time_p50_hours": "median",
    "incidents": "count",
    "incidents_sev1_2": "count",
    "incidents_open": "count",
    "rework_rate": "mean",
    "incidents_unlinked": "count",
    "detection_time_p50_hours": "median",
}
"""How each metric is computed from its counted rows' ``value``."""

EXPLAINABLE: Final[tuple[str, ...]] = (*METRIC_COLUMNS, *LINK_METRICS)
"""Every summary metric ``explain`` takes, in the summary's order."""

AGGREGATE_WORDS: Final[dict[Aggregate, str]] = {
    "count": "the number of counted rows",
    "per_day": "the number of counted rows / window days",
    "deploy_days": "the median, over the 7-day periods ending at as-of, of the distinct "
    "UTC dates of counted rows (at most 7)",
    "trend": "counted rows of the window (rule current) / those of the previous window "
    "(rule previous) - 1",
    "mean": "the mean of the counted rows' value",
    "median": "the median of the counted rows' value",
    "p90": "the 90th percentile (linear) of the counted rows' value",
    "delta": "the mean value of the counted rows at the window's end (rule end) - the same "
    "at its start (rule start)",
}

_DEPLOY_COUNTS: Final = ("deploys", "deploys_per_day", "deploy_days_per_week_p50", "velocity_trend")
"""Counts of deployments; the other counts are of incidents (empty versus zero)."""


@dataclass(frozen=True)
class Explanation:
    """One metric of one team, taken apart: its rows and the number they make."""

    team: str
    metric: str
    aggregate: Aggregate
    value: float
    rows: pd.DataFrame
    """``EXPLAIN_COLUMNS``, oldest first."""
    start: pd.Timestamp
    end: pd.Timestamp
    window_days: int
    covered: bool
    """Whether a source delivering the events this count reads covers the team."""

    @property
    def how(self) -> str:
        """How the number is made from the rows, in words."""
        return AGGREGATE_WORDS[self.aggregate]


Builder = Callable[[Scope], pd.DataFrame]


def _builders() -> dict[str, Builder]:
    incidents: Builder = incident_rows
    return {
        "deploys": deploy_rows,
        "deploys_per_day": deploy_rows,
        "deploy_days_per_week_p50": deploy_rows,
        "velocity_trend": lambda s: deploy_rows(s, previous=True),
        "lead_time_p50_hours": lead_rows,
        "lead_time_p90_hours": lead_rows,
        "coverage_pct": coverage_rows,
        "coverage_delta_pts": lambda s: coverage_rows(s, start_too=True),
        "canary_share": strategy_rows,
        "ci_success_rate": ci_rows,
        "ci_duration_p50_minutes": lambda s: ci_rows(s, durations=True),
        "change_failure_rate": failure_rows,
        "recovery_time_p50_hours": lambda s: incident_rows(s, "recovery"),
        "incidents": incidents,
        "incidents_sev1_2": lambda s: incident_rows(s, "severe"),
        "incidents_open": lambda s: incident_rows(s, "open"),
        "rework_rate": lambda s: failure_rows(s, rework=True),
        "incidents_unlinked": lambda s: incident_rows(s, "unlinked"),
        "detection_time_p50_hours": lambda s: incident_rows(s, "detection"),
    }


def explain(
    prep: Prepared,
    team: str,
    metric: str,
    as_of: datetime,
    window_days: int,
    *,
    production_environments: Sequence[str] = ("production", "prod", "live"),
    incident_link_hours: float = 24.0,
) -> Explanation:
    """The rows behind ``metric`` of ``team`` for the window ending at ``as_of``.

    Raises ``KeyError`` for a metric that is not in :data:`EXPLAINABLE` (the
    caller words the error).
    """
    if metric not in AGGREGATES:
        raise KeyError(metric)
    end = pd.Timestamp(as_of)
    scope = Scope(
        prep=prep,
        team=team,
        start=end - pd.Timedelta(days=window_days),
        end=end,
        production=tuple(production_environments),
        link_hours=incident_link_hours,
    )
    rows = _builders()[metric](scope)
    rows = rows.sort_values(["at", "kind", "id"], kind="stable", na_position="last")
    rows = rows.reset_index(drop=True)[list(EXPLAIN_COLUMNS)]
    kind = "deployments" if metric in _DEPLOY_COUNTS else "incidents"
    flags = prep.has.get(kind)
    covered = bool(flags is not None and team in flags.index and flags[team])
    how = AGGREGATES[metric]
    value = aggregate(how, rows, start=scope.start, end=end, covered=covered)
    return Explanation(team, metric, how, value, rows, scope.start, end, window_days, covered)


def aggregate(
    how: Aggregate,
    rows: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    covered: bool = True,
) -> float:
    """The metric that ``rows`` (``EXPLAIN_COLUMNS``) make, computed ``how``.

    Counts (and what is made of them) are empty when ``covered`` is False.
    """
    counted = rows[rows["counted"].astype(bool)]
    values = counted["value"].astype(float)
    days = (end - start) / pd.Timedelta(days=1)
    if how in ("count", "per_day", "deploy_days", "trend") and not covered:
        return float("nan")
    if how == "count":
        return float(len(counted))
    if how == "per_day":
        return float(len(counted)) / days
    if how == "deploy_days":
        return _deploy_days(counted["at"], start, end)
    if how == "trend":
        now = int((counted["rule"] != "previous").sum())
        before = int((counted["rule"] == "previous").sum())
        return now / before - 1 if before else float("nan")
    if how == "delta":
        at_end = values[counted["rule"] == "end"].mean()
        at_start = values[counted["rule"] == "start"].mean()
        return float(at_end - at_start)
    if how == "mean":
        return float(values.mean())
    return float(values.quantile(0.9 if how == "p90" else 0.5))


def _deploy_days(at: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Median over the 7-day periods ending at ``end`` of distinct deploy dates (≤ 7)."""
    periods = int((end - start) // WEEK)
    if periods == 0:
        return float("nan")
    times = pd.to_datetime(at, utc=True)
    times = times[times.ge(end - periods * WEEK)]
    period = (-((times - end) // WEEK) - 1).astype("int64")
    frame = pd.DataFrame({"period": period, "date": times.dt.floor("D")}).drop_duplicates()
    counts = frame.groupby("period").size().reindex(range(periods), fill_value=0)
    return float(np.median(counts.clip(upper=7).to_numpy(dtype=float)))
