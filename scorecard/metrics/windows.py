"""The §2 metrics of one window, the current window against the previous one, and
the weekly series, all from one :class:`~scorecard.metrics.prepare.Prepared`.

Conventions (decided where the spec is silent; see docs/metrics.md):
- an event happens "by" a time ``t`` when its timestamp is ``< t``, except
  coverage samples, which count "at or before" (SPEC wording);
- a count is empty (NaN) only when the team has no events of that kind and no
  synced source delivering that kind covers it (``Prepared.has``, widened by
  :func:`~scorecard.metrics.coverage.with_coverage`); otherwise a window
  without any is a real 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from scorecard.metrics.prepare import Prepared

PRESSURE_METRICS: Final = (
    "deploys",
    "deploys_per_day",
    "deploy_days_per_week_p50",
    "velocity_trend",
    "lead_time_p50_hours",
    "lead_time_p90_hours",
)
RIGOR_METRICS: Final = (
    "coverage_pct",
    "coverage_delta_pts",
    "canary_share",
    "ci_success_rate",
    "ci_duration_p50_minutes",
)
STABILITY_METRICS: Final = (
    "change_failure_rate",
    "recovery_time_p50_hours",
    "incidents",
    "incidents_sev1_2",
    "incidents_open",
    "rework_rate",
)

METRIC_COLUMNS: Final[tuple[str, ...]] = (*PRESSURE_METRICS, *RIGOR_METRICS, *STABILITY_METRICS)
"""Every §2 metric, in the order of the summary export."""

LINK_METRICS: Final = ("incidents_unlinked", "detection_time_p50_hours")
"""The SPEC §13 metrics beside the change failure rate (appended after ``reasons``)."""

WINDOW_COLUMNS: Final[tuple[str, ...]] = (*METRIC_COLUMNS, *LINK_METRICS)
"""Every column a window's metrics table has, in order."""

DECIDED: Final = ("success", "failure")
"""Deploy statuses and CI conclusions that count in rates (not cancelled, skipped ...)."""
DAY: Final = pd.Timedelta(days=1)
WEEK: Final = pd.Timedelta(days=7)


# --------------------------------------------------------------------------- windows


def window_metrics(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Every §2 metric for ``[start, end)``, one row per team (trends left empty)."""
    index = pd.CategoricalIndex(prep.teams.categories, dtype=prep.teams, name="team")
    window = _Window(prep, pd.Timestamp(start), pd.Timestamp(end), index)
    dep = prep.deployments
    in_window = window.holds(dep["t"]) & dep["is_prod"]
    deploys = dep.loc[in_window, ["team", "status", "safe", "is_rollback", "id", "t"]]
    success = deploys[deploys["status"] == "success"]
    decided = deploys[deploys["status"].isin(DECIDED)]
    columns = {**_pressure(window, success), **_rigor(window, success)}
    columns |= _stability(window, decided)
    out = pd.DataFrame(index=index)
    for name in WINDOW_COLUMNS:
        out[name] = columns[name]
    return out


def between(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Which ``times`` fall in ``[start, end)`` (never the empty ones)."""
    return times.ge(start) & times.lt(end)


@dataclass(frozen=True)
class _Window:
    """One ``[start, end)`` window over the prepared tables, and its rows' team index."""

    prep: Prepared
    start: pd.Timestamp
    end: pd.Timestamp
    index: pd.CategoricalIndex

    def holds(self, times: pd.Series) -> pd.Series:
        return between(times, self.start, self.end)


def _pressure(window: _Window, success: pd.DataFrame) -> dict[str, Any]:
    """Deploys and their cadence, and the lead times of changes shipped in the window."""
    prep, start, end, index = window.prep, window.start, window.end, window.index
    has_deploys = _flags(prep.has["deployments"], index)
    deploys = _count(success, index).where(has_deploys)
    changes = prep.changes
    shipped = window.holds(changes["deployed_at"]) & changes["lead_hours"].notna()
    lead = changes.loc[shipped, ["team", "lead_hours"]].groupby("team", observed=False)
    return {
        "deploys": deploys,
        "deploys_per_day": deploys / ((end - start) / DAY),
        "deploy_days_per_week_p50": _deploy_days_p50(success, start, end, index).where(has_deploys),
        "velocity_trend": np.nan,
        "lead_time_p50_hours": _quantile(lead["lead_hours"], 0.5, index),
        "lead_time_p90_hours": _quantile(lead["lead_hours"], 0.9, index),
    }


def _rigor(window: _Window, success: pd.DataFrame) -> dict[str, Any]:
    """Coverage at the window's end, canary share of deploys, CI on the default branch."""
    ci, index = window.prep.ci_runs, window.index
    ci_mask = ci["is_default_branch"] & window.holds(ci["t"]) & ci["conclusion"].isin(DECIDED)
    runs = ci.loc[ci_mask, ["team", "conclusion", "minutes"]]
    runs = runs.assign(ok=runs["conclusion"] == "success")
    durations = runs.loc[runs["minutes"].notna(), ["team", "minutes"]]
    coverage = coverage_at(window.prep, window.end, inclusive=True)
    return {
        "coverage_pct": coverage.reindex(index.categories).to_numpy(),
        "coverage_delta_pts": np.nan,
        "canary_share": _mean(success, "safe", index),
        "ci_success_rate": _mean(runs, "ok", index),
        "ci_duration_p50_minutes": _median(durations, "minutes", index),
    }


def _stability(window: _Window, decided: pd.DataFrame) -> dict[str, Any]:
    """Failed deploys, incidents created in the window, their recovery, rollbacks."""
    index = window.index
    known = incidents_by(window.prep, window.end)
    hit_ids = set(known["attributed_deployment"].dropna())
    failed = decided.assign(
        failed=(decided["status"] == "failure")
        | ((decided["status"] == "success") & decided["id"].isin(hit_ids))
    )
    created = known[known["created_at"].ge(window.start)]
    resolved = created["resolved_at"].notna() & created["resolved_at"].lt(window.end)
    has_incidents = _flags(window.prep.has["incidents"], index)
    recovery = created.loc[resolved, ["team", "duration_hours"]]
    severe = created[created["severity"].isin(("sev1", "sev2"))]
    unlinked = created[created["attributed_deployment"].isna()]
    detected = created.loc[created["detection_hours"].notna(), ["team", "detection_hours"]]
    return {
        "change_failure_rate": _mean(failed, "failed", index),
        "recovery_time_p50_hours": _median(recovery, "duration_hours", index),
        "incidents": _count(created, index).where(has_incidents),
        "incidents_sev1_2": _count(severe, index).where(has_incidents),
        "incidents_open": _count(created[~resolved], index).where(has_incidents),
        "rework_rate": _mean(decided, "is_rollback", index),
        "incidents_unlinked": _count(unlinked, index).where(has_incidents),
        "detection_time_p50_hours": _median(detected, "detection_hours", index),
    }


def incidents_by(prep: Prepared, end: pd.Timestamp) -> pd.DataFrame:
    """The incidents known at ``end`` (created before it): they decide failed deploys."""
    incidents = prep.incidents
    return incidents[incidents["created_at"].lt(end)]


def _flags(flags: pd.Series, index: pd.CategoricalIndex) -> pd.Series:
    return pd.Series(flags.reindex(index.categories).to_numpy(), index=index).astype(bool)


def _count(frame: pd.DataFrame, index: pd.CategoricalIndex) -> pd.Series:
    counts = frame.groupby("team", observed=False).size()
    return pd.Series(
        counts.reindex(index.categories).fillna(0).astype(float).to_numpy(), index=index
    )


def _mean(frame: pd.DataFrame, column: str, index: pd.CategoricalIndex) -> np.ndarray[Any, Any]:
    values = frame[["team", column]].astype({column: float})
    means = values.groupby("team", observed=False)[column].mean()
    return means.reindex(index.categories).to_numpy(dtype=float)


def _quantile(grouped: Any, q: float, index: pd.CategoricalIndex) -> np.ndarray[Any, Any]:
    return np.asarray(grouped.quantile(q).reindex(index.categories).to_numpy())


def _median(frame: pd.DataFrame, column: str, index: pd.CategoricalIndex) -> np.ndarray[Any, Any]:
    medians = frame.groupby("team", observed=False)[column].median()
    return medians.reindex(index.categories).to_numpy()


def _deploy_days_p50(
    success: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, index: pd.CategoricalIndex
) -> pd.Series:
    """Median, over the 7-day periods ending at ``end``, of distinct deploy dates."""
    periods = int((end - start) // WEEK)
    if periods == 0:
        return pd.Series(np.nan, index=index)
    first = end - periods * WEEK
    recent = success[success["t"].ge(first)]
    frame = pd.DataFrame(
        {
            "team": recent["team"],
            # period k is [end - (k + 1) weeks, end - k weeks): half-open like the window
            "period": (-((recent["t"] - end) // WEEK) - 1).astype("int64"),
            "date": recent["t"].dt.floor("D"),
        }
    ).drop_duplicates()
    counts = frame.groupby(["team", "period"], observed=False).size().unstack(fill_value=0)
    counts = counts.reindex(index=index.categories, columns=range(periods), fill_value=0)
    # A period that does not start at midnight touches 8 UTC dates; a week has 7 days.
    return pd.Series(counts.clip(upper=7).median(axis=1).to_numpy(dtype=float), index=index)


def coverage_at(prep: Prepared, when: pd.Timestamp, *, inclusive: bool = True) -> pd.Series:
    """Team coverage: mean over its repos of each repo's latest sample at or before ``when``."""
    cov = prep.coverage
    mask = cov["measured_at"].le(when) if inclusive else cov["measured_at"].lt(when)
    latest = cov.loc[mask, ["team", "repo", "line_coverage"]].drop_duplicates(
        ["team", "repo"], keep="last"
    )
    return latest.groupby("team", observed=False)["line_coverage"].mean()


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class TeamMetrics:
    """The current window, the previous one, and the 12-week series."""

    current: pd.DataFrame
    previous: pd.DataFrame
    weekly_deploys: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def team_metrics(prep: Prepared, as_of: datetime, window_days: int) -> TeamMetrics:
    """Current-window metrics with trends against the previous window of the same length."""
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=window_days)
    current = window_metrics(prep, start, end)
    previous = window_metrics(prep, start - pd.Timedelta(days=window_days), start)
    prev_deploys = previous["deploys"].where(previous["deploys"] > 0)
    current["velocity_trend"] = current["deploys"] / prev_deploys - 1
    current["coverage_delta_pts"] = current["coverage_pct"] - previous["coverage_pct"]
    previous["coverage_delta_pts"] = np.nan
    return TeamMetrics(
        current=current,
        previous=previous,
        weekly_deploys=weekly_deploys(prep, end),
        start=start,
        end=end,
    )


def iso_week_starts(as_of: datetime, weeks: int = 12) -> list[pd.Timestamp]:
    """Mondays (00:00 UTC) of the last ``weeks`` ISO weeks, the one holding ``as_of`` last."""
    end = pd.Timestamp(as_of)
    monday = (end - pd.Timedelta(days=end.weekday())).floor("D")
    return [monday - WEEK * k for k in range(weeks - 1, -1, -1)]


def weekly_deploys(prep: Prepared, as_of: datetime, weeks: int = 12) -> pd.DataFrame:
    """Successful production deploys per team per ISO week (columns: week starts)."""
    starts = iso_week_starts(as_of, weeks)
    end = pd.Timestamp(as_of)
    dep = prep.deployments
    mask = dep["is_prod"] & (dep["status"] == "success") & between(dep["t"], starts[0], end)
    recent = dep.loc[mask, ["team", "t"]]
    week = ((recent["t"] - starts[0]).dt.total_seconds() // WEEK.total_seconds()).astype("int64")
    counts = (
        pd.DataFrame({"team": recent["team"], "week": week})
        .groupby(["team", "week"], observed=False)
        .size()
        .unstack(fill_value=0)
        .reindex(index=prep.teams.categories, columns=range(weeks), fill_value=0)
    )
    counts.columns = pd.DatetimeIndex(starts)
    counts.index.name = "team"
    return counts


def weekly_metrics(prep: Prepared, as_of: datetime, weeks: int = 12) -> pd.DataFrame:
    """Long format: one row per team and ISO week, the §2 metrics over that week."""
    end = pd.Timestamp(as_of)
    parts = []
    for monday in iso_week_starts(end, weeks):
        week_end = min(monday + WEEK, end)
        frame = window_metrics(prep, monday, week_end)
        frame = frame.drop(columns=["velocity_trend", "coverage_delta_pts"])
        frame.insert(0, "week_end", week_end)
        frame.insert(0, "week_start", monday)
        parts.append(frame.reset_index())
    return pd.concat(parts, ignore_index=True)


__all__ = [
    "DAY",
    "DECIDED",
    "LINK_METRICS",
    "METRIC_COLUMNS",
    "PRESSURE_METRICS",
    "RIGOR_METRICS",
    "STABILITY_METRICS",
    "WEEK",
    "WINDOW_COLUMNS",
    "TeamMetrics",
    "between",
    "coverage_at",
    "incidents_by",
    "iso_week_starts",
    "team_metrics",
    "weekly_deploys",
    "weekly_metrics",
    "window_metrics",
]
