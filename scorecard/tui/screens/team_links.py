"""What on the team screen leads to which explanation (SPEC §13).

Every number can be taken apart: each metric row opens its events, and so do
the flags and reasons that a number caused (a reason about the canary share
opens the canary share's deploys; ``eroding`` the metric that declined). The
two link metrics (``incidents_unlinked``, ``detection_time_p50_hours``) get
their own rows beside the view's metric rows, and the screen warns when so
many incidents are linked to no deploy that the change failure rate is likely
understated.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from rich.style import Style
from rich.text import Text

from scorecard.tui.view import TEAM_METRICS, MetricSpec, format_metric, trend_cell, value
from scorecard.tui.widgets.charts import sparkline

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.scoring import Report
    from scorecard.tui.palette import Palette

__all__ = [
    "LINK_METRICS",
    "METRIC_ORDER",
    "clickable",
    "flag_metric",
    "link_metric_rows",
    "reason_metric",
    "unlinked_warning",
]

LINK_METRICS: Final = (
    MetricSpec("incidents_unlinked", "Incidents linked to no deploy", "count", None, "down", 0),
    MetricSpec("detection_time_p50_hours", "Detection time p50", "hours", None, "down"),
)
METRIC_ORDER: Final = tuple(spec.column for spec in (*TEAM_METRICS, *LINK_METRICS))
"""The metric of each row of the team screen's metrics table."""

UNLINKED_SHARE: Final = 1 / 3
"""Above this share of the window's incidents linked to no deploy, the screen warns."""

# Words of a reason -> the metric it is about; the earliest match in the reason wins.
_REASON_WORDS: Final = (
    ("deploys +", "velocity_trend"),
    ("deploys −", "velocity_trend"),
    ("deploys on a median", "deploy_days_per_week_p50"),
    ("canary share", "canary_share"),
    ("coverage fell", "coverage_delta_pts"),
    ("coverage", "coverage_pct"),
    ("CI success", "ci_success_rate"),
    ("change failure rate", "change_failure_rate"),
    ("recovery", "recovery_time_p50_hours"),
    ("lead time", "lead_time_p50_hours"),
    ("linked to no deploy", "incidents_unlinked"),
)
_FLAG_METRICS: Final = {
    "outpacing": "velocity_trend",
    "unstable": "change_failure_rate",
    "eroding": "canary_share",
}


def reason_metric(reason: str) -> str | None:
    """The metric a reason is about (None: a reason about scores, sources or a change
    class, whose numbers are the class table's)."""
    if re.match(r"\S+ changes: ", reason):
        return None
    found = [(reason.find(word), metric) for word, metric in _REASON_WORDS if word in reason]
    return min(found)[1] if found else None


def flag_metric(flag: str, reasons: list[str]) -> str | None:
    """The metric behind a flag: the first of its reasons that names one, else a default."""
    for reason in reasons:
        if reason.startswith(f"{flag}:") or (flag == "outpacing" and "vs previous" in reason):
            metric = reason_metric(reason)
            if metric is not None:
                return metric
    return _FLAG_METRICS.get(flag)


def clickable(text: Text, metric: str | None) -> Text:
    """``text`` that opens ``metric``'s explanation when clicked."""
    if metric is not None:
        text.stylize(Style.from_meta({"@click": f"screen.explain('{metric}')"}))
    return text


def unlinked_warning(row: Any) -> str | None:
    """The warning when more than a third of the window's incidents are unlinked."""
    total, unlinked = value(row, "incidents"), value(row, "incidents_unlinked")
    if not total or unlinked is None or unlinked / total <= UNLINKED_SHARE:
        return None
    return (
        f"{unlinked:.0f} of {total:.0f} incidents in the window are linked to no deploy: "
        "change failure rate may be understated"
    )


def link_metric_rows(
    report: Report, team: str, weekly: pd.DataFrame | None, palette: Palette
) -> list[list[Text]]:
    """The link metrics' rows, drawn like the view's metric rows."""
    row = report.table.loc[team]
    prev = report.previous.loc[team] if team in report.previous.index else None
    series: Any = None
    if weekly is not None and len(weekly):
        series = weekly[weekly["team"].astype(str) == team].sort_values("week_start")
    out = []
    for spec in LINK_METRICS:
        cur = value(row, spec.column)
        before = value(prev, spec.column) if prev is not None else None
        spark = ""
        if series is not None and spec.column in series.columns:
            spark = sparkline(list(series[spec.column]))
        shown = format_metric(spec, cur)
        out.append(
            [
                Text(spec.label),
                Text(shown, style="bold" if cur is not None else palette.muted),
                Text(""),
                trend_cell(spec, cur, before, palette),
                Text(spark, style=palette.ok),
            ]
        )
    return out
