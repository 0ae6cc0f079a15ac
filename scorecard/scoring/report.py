"""A whole scorecard: metrics, scores, flags and reasons for every team, in one
:class:`Report` that screens and exports read (SPEC §3).

:func:`build_report` runs the pure pipeline for one request: the current and
previous windows' metrics, the change-class table, scores, then flags and
reasons; teams in config order, ``unassigned`` only when it has events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import pandas as pd

from scorecard.bands import Benchmarks
from scorecard.classes import class_metrics, empty_classes
from scorecard.metrics import (
    LINK_METRICS,
    METRIC_COLUMNS,
    Prepared,
    TeamMetrics,
    team_metrics,
)
from scorecard.model import UNASSIGNED
from scorecard.scoring.reasons import Context, flags_and_reasons, with_class_flags
from scorecard.scoring.scores import SCORE_COLUMNS, scores

if TYPE_CHECKING:
    from scorecard.config import ChangeClassConfig
    from scorecard.request import ScoreRequest

__all__ = ["SCORING_VERSION", "SUMMARY_COLUMNS", "Report", "build_report", "score_metrics"]

SCORING_VERSION: Final = 2
"""The version of the metric, score and flag definitions, carried by JSON exports,
saved overviews and ``explain --format json`` so that a saved report is compared
with a later one honestly. Bump it whenever a definition changes (2: empty versus
zero by source coverage, ``incidents_unlinked`` and ``detection_time_p50_hours``)."""

SUMMARY_COLUMNS: Final = (
    "team",
    "window_start",
    "window_end",
    *METRIC_COLUMNS,
    *SCORE_COLUMNS,
    "flags",
    "reasons",
    *LINK_METRICS,
)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """A whole scorecard: one scored row per team plus what screens and exports need."""

    org: str
    as_of: pd.Timestamp
    window_days: int
    table: pd.DataFrame  # index team; METRIC_COLUMNS, bands, scores, flags, reasons
    previous: pd.DataFrame
    weekly_deploys: pd.DataFrame
    prepared: Prepared
    bench: Benchmarks
    # one row per team and change class with deploys in the window (classes.CLASS_COLUMNS)
    classes: pd.DataFrame = field(default_factory=empty_classes)

    @property
    def start(self) -> pd.Timestamp:
        return self.as_of - pd.Timedelta(days=self.window_days)

    def summary(self) -> pd.DataFrame:
        """The SPEC §3 summary export columns, one row per team, in order."""
        table = self.table.reset_index()
        table["team"] = table["team"].astype(str)
        table["window_start"] = self.start
        table["window_end"] = self.as_of
        return table.reindex(columns=list(SUMMARY_COLUMNS))


def score_metrics(
    metrics: TeamMetrics,
    bench: Benchmarks,
    window_days: int,
    stale: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Metrics + bands + scores + flags + reasons for every team."""
    scored = scores(metrics.current, metrics.previous, bench, window_days)
    ctx = Context(window_days=window_days, bench=bench, stale=dict(stale or {}))
    flags, reasons = flags_and_reasons(metrics.current, metrics.previous, scored, ctx)
    table = pd.concat([metrics.current, scored], axis=1)
    table["flags"] = flags
    table["reasons"] = reasons
    return table


def build_report(
    prep: Prepared,
    request: ScoreRequest,
    *,
    bench: Benchmarks,
    org: str = "scorecard",
    stale: Mapping[str, str] | None = None,
    change_classes: Sequence[ChangeClassConfig] = (),
) -> Report:
    """Score every team for the request's window (``window_days`` ending at ``as_of``).

    With ``change_classes``, the report carries the per-team class table and
    each ungated class adds an ``ungated-<class>`` flag (after the standard
    flags) and a reason (after the flag reasons).
    """
    as_of, window_days = request.as_of, request.window_days
    metrics = team_metrics(prep, as_of, window_days)
    table = score_metrics(metrics, bench, window_days, stale)
    class_table = class_metrics(prep, change_classes, metrics.start, metrics.end)
    table = with_class_flags(table, class_table)
    if not _unassigned_has_events(prep):
        table = table.drop(index=UNASSIGNED, errors="ignore")
    table.index = pd.Index([str(t) for t in table.index], name="team")
    previous = metrics.previous.set_axis([str(t) for t in metrics.previous.index], axis=0)
    weekly = metrics.weekly_deploys.set_axis([str(t) for t in metrics.weekly_deploys.index])
    # fields in order: org, as_of, window_days, table, previous, weekly_deploys, prepared, bench
    return Report(
        org, metrics.end, window_days, table, previous, weekly, prep, bench, classes=class_table
    )


def _unassigned_has_events(prep: Prepared) -> bool:
    return any(bool(flags.get(UNASSIGNED, False)) for flags in prep.has.values())
