"""From a scored report to what the screens show: rows of literal, coloured cells.

Pure functions over a :class:`~scorecard.scoring.Report`; no widgets here, so
the same formatting is used by every screen and is easy to test. pandas is only
touched through the report handed in (never imported at module import time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from rich.text import Text

from scorecard.text import has_value, hours, num, pct_change, percent
from scorecard.tui.header import humanized
from scorecard.tui.palette import Palette
from scorecard.tui.widgets.charts import badges, band_mark, band_word, gap_bar, sparkline
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.scoring import Report
    from scorecard.service import Scorecard
    from scorecard.status import RequestStats, SourceStatus

GRADE_ORDER: Final = {"A": 0, "B": 1, "C": 2, "D": 3, "F": 4}


def value(row: Any, column: str) -> Any:
    """``row[column]``, or None when it is missing or NaN."""
    v = row.get(column) if hasattr(row, "get") else None
    return v if v is not None and has_value(v) else None


# --------------------------------------------------------------------------- overview


# The overview works on plain row mappings (``scorecard.summary.row_from_report``):
# the same rows come from a fresh report or from the saved summary, so both paint
# identically.


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: Callable[[Any], Any]  # row -> sortable value (None = empty, always last)
    descending: bool = False  # natural direction for a first click


def _num(column: str) -> Callable[[Any], Any]:
    return lambda row: value(row, column)


def _flag_count(row: Any) -> Any:
    return len(row.get("flags") or [])


def _grade(row: Any) -> Any:
    g = value(row, "grade")
    return GRADE_ORDER.get(str(g)) if g is not None else None


OVERVIEW_COLUMNS: Final = (
    Column("team", "Team", lambda row: str(row["team"]).casefold()),
    Column("grade", "Grade", _grade),
    Column("pressure", "Press", _num("pressure"), descending=True),
    Column("rigor", "Rigor", _num("rigor")),
    Column("gap", "Gap", _num("gap"), descending=True),
    Column("deploys", "Deploys/day · 12 wk", _num("deploys_per_day"), descending=True),
    Column("lead", "Lead p50", _num("lead_time_p50_hours"), descending=True),
    Column("cfr", "CFR", _num("change_failure_rate"), descending=True),
    Column("recovery", "Recovery", _num("recovery_time_p50_hours"), descending=True),
    Column("coverage", "Coverage (Δ)", _num("coverage_pct")),
    Column("canary", "Canary", _num("canary_share")),
    Column("flags", "Flags", _flag_count, descending=True),
)
COLUMN_BY_KEY: Final = {c.key: c for c in OVERVIEW_COLUMNS}
SORT_CYCLE: Final = ("default", *(c.key for c in OVERVIEW_COLUMNS))


def team_flags(row: Any, stale: bool = False) -> list[str]:
    flags = [str(f) for f in (row.get("flags") or [])]
    if stale and "stale" not in flags:
        flags.append("stale")
    return flags


def sorted_teams(
    table: pd.DataFrame, sort_key: str = "default", descending: bool = False
) -> list[str]:
    """Team names of a report table in display order (see :func:`ordered_teams`)."""
    rows = {str(name): {**dict(table.loc[name].items()), "team": str(name)} for name in table.index}
    return ordered_teams(rows, sort_key, descending)


def ordered_teams(
    rows: Mapping[str, Mapping[str, Any]], sort_key: str = "default", descending: bool = False
) -> list[str]:
    """Team names in display order. ``default``: flagged first, then widest gap."""
    items = [{**row, "team": name} for name, row in rows.items()]
    if sort_key == "default":

        def key(row: Any) -> tuple[int, float, str]:
            gap = value(row, "gap")
            return (
                0 if row.get("flags") else 1,
                -(gap if gap is not None else -1e9),
                str(row["team"]).casefold(),
            )

        return [str(r["team"]) for r in sorted(items, key=key)]
    column = COLUMN_BY_KEY[sort_key]
    present = [r for r in items if column.sort(r) is not None]
    empty = [r for r in items if column.sort(r) is None]
    present.sort(key=lambda r: (column.sort(r), str(r["team"]).casefold()), reverse=descending)
    return [str(r["team"]) for r in [*present, *empty]]


def matches(name: str, flags: Sequence[str], query: str) -> bool:
    """Filter: the query is a substring of the team name or of one of its flags."""
    q = query.strip().casefold()
    if not q:
        return True
    return q in name.casefold() or any(q in f.casefold() for f in flags)


def overview_cells(row: Mapping[str, Any], palette: Palette, *, stale: bool = False) -> list[Text]:
    """One overview row, cell by cell, in ``OVERVIEW_COLUMNS`` order.

    ``row`` is a plain row mapping (``scorecard.summary.row_from_report``).
    """
    team = str(row["team"])
    weekly = row.get("weekly_deploys") or []
    grade = value(row, "grade")
    grade_style = palette.grade(str(grade) if grade is not None else None)

    def score(col: str) -> Text:
        v = value(row, col)
        return Text(num(v), style="" if v is not None else palette.muted)

    deploys = Text(f"{num(value(row, 'deploys_per_day'), 2):>5} ")
    deploys.append(sparkline(list(weekly)), style=palette.ok)
    deploys.append(" ")
    deploys.append_text(band_mark(row.get("deploy_frequency_band"), palette))

    def with_band(text: str, band_col: str) -> Text:
        cell = Text(f"{text:>6} ")
        cell.append_text(band_mark(row.get(band_col), palette))
        return cell

    coverage = Text(f"{num(value(row, 'coverage_pct'), 1):>5}")
    delta = value(row, "coverage_delta_pts")
    if delta is not None:
        style = palette.bad if delta <= -2 else palette.muted
        coverage.append(f" {num(delta, 1) if delta < 0 else '+' + num(delta, 1)}", style)
    coverage.append(" ")
    coverage.append_text(band_mark(row.get("coverage_band"), palette))

    cells = [
        literal(team, "bold"),
        Text(str(grade) if grade is not None else "—", style=f"bold {grade_style}"),
        score("pressure"),
        score("rigor"),
        gap_bar(value(row, "gap"), palette, width=4),
        deploys,
        with_band(hours(value(row, "lead_time_p50_hours")), "lead_time_band"),
        with_band(percent(value(row, "change_failure_rate")), "change_failure_rate_band"),
        with_band(hours(value(row, "recovery_time_p50_hours")), "recovery_band"),
        coverage,
        with_band(percent(value(row, "canary_share")), "canary_band"),
        badges(team_flags(row, stale), palette, compact=True),
    ]
    return [padded(c) for c in cells]


def padded(cell: Text) -> Text:
    """One space of left padding (the overview table runs with cell_padding=0)."""
    out = Text(" ", end="", no_wrap=True)
    out.append_text(cell)
    return out


LEGEND: Final = (
    "bands: E elite · H high · M medium · L low · — no data    "
    "gap = pressure − rigor (outpacing from +25)    !AI ungated change class"
)


# --------------------------------------------------------------------------- team screen


@dataclass(frozen=True)
class MetricSpec:
    column: str
    label: str
    kind: str  # number|rate|hours|minutes|points|count|trend
    band: str | None = None
    better: str | None = None  # "up" | "down" | None
    digits: int = 1


TEAM_METRICS: Final = (
    MetricSpec("deploys", "Deploys", "count", None, "up", 0),
    MetricSpec("deploys_per_day", "Deploys per day", "number", "deploy_frequency_band", "up", 2),
    MetricSpec("deploy_days_per_week_p50", "Deploy days / week (p50)", "number", None, "up", 1),
    MetricSpec("velocity_trend", "Velocity vs previous window", "trend", None, None),
    MetricSpec("lead_time_p50_hours", "Lead time p50", "hours", "lead_time_band", "down"),
    MetricSpec("lead_time_p90_hours", "Lead time p90", "hours", None, "down"),
    MetricSpec("coverage_pct", "Coverage", "points", "coverage_band", "up"),
    MetricSpec("coverage_delta_pts", "Coverage Δ since window start", "delta", None, "up"),
    MetricSpec("canary_share", "Canary / blue-green share", "rate", "canary_band", "up"),
    MetricSpec("ci_success_rate", "CI success (default branch)", "rate", "ci_band", "up"),
    MetricSpec("ci_duration_p50_minutes", "CI duration p50", "minutes", None, "down"),
    MetricSpec(
        "change_failure_rate", "Change failure rate", "rate", "change_failure_rate_band", "down"
    ),
    MetricSpec("recovery_time_p50_hours", "Recovery time p50", "hours", "recovery_band", "down"),
    MetricSpec("incidents", "Incidents", "count", None, "down", 0),
    MetricSpec("incidents_sev1_2", "Incidents sev1–2", "count", None, "down", 0),
    MetricSpec("incidents_open", "Incidents still open", "count", None, "down", 0),
    MetricSpec("rework_rate", "Rework (rollbacks)", "rate", None, "down"),
)


def format_metric(spec: MetricSpec, v: Any) -> str:
    if not has_value(v):
        return "—"
    if spec.kind == "rate":
        return f"{float(v) * 100:.0f}%"
    if spec.kind == "hours":
        return hours(v)
    if spec.kind == "minutes":
        return f"{float(v):.1f} min"
    if spec.kind == "points":
        return f"{float(v):.1f}%"
    if spec.kind == "delta":
        return f"{float(v):+.1f} pts".replace("-", "−")
    if spec.kind == "trend":
        return pct_change(v)
    return num(v, spec.digits)


def trend_cell(spec: MetricSpec, current: Any, previous: Any, palette: Palette) -> Text:
    """``▲ +12%`` / ``▼ 3.1 h`` vs the previous window, coloured by whether it is good."""
    if spec.kind in ("trend", "delta"):
        return Text("")
    if not (has_value(current) and has_value(previous)):
        return Text("—", style=palette.muted)
    cur, prev = float(current), float(previous)
    diff = cur - prev
    if abs(diff) < 1e-9:
        return Text("▶ same", style=palette.muted)
    arrow = "▲" if diff > 0 else "▼"
    good = (diff > 0) == (spec.better == "up") if spec.better else None
    style = palette.muted if good is None else palette.good if good else palette.bad
    prev_text = format_metric(spec, prev)
    return Text(f"{arrow} from {prev_text}", style=style)


def metric_rows(
    report: Report, team: str, weekly: pd.DataFrame | None, palette: Palette
) -> list[list[Text]]:
    row = report.table.loc[team]
    prev = report.previous.loc[team] if team in report.previous.index else None
    series: Any = None
    if weekly is not None and len(weekly):
        series = weekly[weekly["team"].astype(str) == team].sort_values("week_start")
    out = []
    for spec in TEAM_METRICS:
        cur = value(row, spec.column)
        before = value(prev, spec.column) if prev is not None else None
        spark = ""
        if spec.column == "deploys" and team in report.weekly_deploys.index:
            spark = sparkline(list(report.weekly_deploys.loc[team]))
        elif series is not None and spec.column in series.columns:
            spark = sparkline(list(series[spec.column]))
        out.append(
            [
                Text(spec.label),
                Text(format_metric(spec, cur), style="bold" if cur is not None else palette.muted),
                band_word(row.get(spec.band), palette) if spec.band else Text(""),
                trend_cell(spec, cur, before, palette),
                Text(spark, style=palette.ok),
            ]
        )
    return out


def _ts(value: Any) -> str:
    if not has_value(value):
        return "—"
    try:
        if value != value:  # NaT
            return "—"
        return str(value.strftime("%Y-%m-%d %H:%M"))
    except (AttributeError, ValueError):
        return "—"


def _missing(v: Any) -> bool:
    try:
        return v is None or bool(v != v)  # None, NaN, NaT
    except (TypeError, ValueError):
        return False


def _str(v: Any) -> str:
    return "—" if _missing(v) else str(v)


def incident_table(report: Report, team: str, limit: int = 12) -> tuple[int, list[list[Text]]]:
    from scorecard import metrics

    rows = metrics.incident_rows(report.prepared, report.start, report.as_of)
    rows = rows[rows["team"].astype(str) == team].sort_values("created_at", ascending=False)
    out = []
    for _, r in rows.head(limit).iterrows():
        deploy = _str(r.get("attributed_deployment"))
        rule = _str(r.get("link_rule"))
        out.append(
            [
                literal(_str(r.get("severity"))),
                literal(_ts(r.get("created_at"))),
                literal(_str(r.get("title"))),
                Text("open")
                if _missing(r.get("resolved_at"))
                else Text(hours(r.get("duration_hours"))),
                literal(deploy),
                literal(rule),
            ]
        )
    return len(rows), out


def deploy_tables(
    report: Report, team: str, limit: int = 10
) -> tuple[tuple[int, list[list[Text]]], tuple[int, list[list[Text]]]]:
    """(failed production deploys, successful non-canary production deploys)."""
    from scorecard import metrics

    rows = metrics.deployment_rows(report.prepared, report.start, report.as_of)
    rows = rows[rows["team"].astype(str) == team].sort_values("t", ascending=False)
    failed = rows[rows["status"].astype(str) == "failure"]
    safe = rows["resolved_strategy"].astype(str).isin(["canary", "blue_green"])
    risky = rows[(rows["status"].astype(str) == "success") & ~safe]

    def cells(frame: pd.DataFrame) -> list[list[Text]]:
        out = []
        for _, r in frame.head(limit).iterrows():
            out.append(
                [
                    literal(_ts(r.get("t"))),
                    literal(_str(r.get("id"))),
                    literal(_str(r.get("service"))),
                    literal(_str(r.get("resolved_strategy"))),
                    Text("rollback" if bool(r.get("is_rollback")) else ""),
                    Text(str(int(r.get("incidents") or 0))),
                ]
            )
        return out

    return (len(failed), cells(failed)), (len(risky), cells(risky))


# --------------------------------------------------------------------------- sources


def source_rows(scorecard: Scorecard, now: datetime, palette: Palette) -> list[list[Text]]:
    """One row per source: health, freshness, counts and what its client did."""
    out = []
    for name in sorted(scorecard.statuses):
        st = scorecard.statuses[name]
        status = (
            Text("FAILED", style=f"bold {palette.bad}")
            if st.last_error
            else Text("never synced", style=palette.warn)
            if st.last_success_at is None
            else Text("ok", style=f"bold {palette.good}")
        )
        remaining = st.rate_limit_remaining
        out.append(
            [
                literal(name, "bold"),
                literal(st.kind),
                status,
                literal(humanized(now, st.last_success_at)),
                literal(humanized(now, st.last_attempt_at)),
                Text(f"{st.items:,}"),
                Text(f"{st.skipped:,}", style=palette.warn if st.skipped else ""),
                requests_cell(st.stats, palette),
                Text(f"{remaining:,}" if remaining is not None else "—"),
                complete_cell(st, palette),
            ]
        )
    return out


def complete_cell(status: SourceStatus, palette: Palette) -> Text:
    """``yes``, ``partial`` (stopped early) or ``from 2026-10-04`` (older history of some
    repos still to fetch: complete back to that date for all of them)."""
    if status.complete_since:
        oldest_gap = max(status.complete_since.values())
        return Text(f"from {oldest_gap:%Y-%m-%d}", style=palette.warn)
    return Text("yes" if status.complete else "partial", style=palette.warn)


def requests_cell(stats: RequestStats, palette: Palette) -> Text:
    """``42 · 30 304 · 2 retries`` for API sources; ``—`` where nothing was requested."""
    if not stats.requests:
        return Text("—", style=palette.muted)
    text = Text(f"{stats.requests:,}")
    text.append(f" · {stats.not_modified:,} 304", style=palette.good if stats.not_modified else "")
    text.append(f" · {stats.retries:,} retries", style=palette.warn if stats.retries else "")
    if stats.points:
        text.append(f" · {stats.points:,} pts")
    return text


def stream_items(stats: RequestStats) -> str:
    """``deployments 120, ci_runs 800``: records read per stream."""
    return ", ".join(f"{stream} {count:,}" for stream, count in sorted(stats.items.items()))
