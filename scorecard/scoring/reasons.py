"""Flags and their plain-language reasons (SPEC §3): why a team is outpacing,
unstable, eroding, stale or without data, why a change class is riskier, and
the sentence behind each score.

Every number a lead sees comes with the sentence that explains it. Reasons are
prose, a few strings per team, so they are built per row; the numbers come
from :mod:`scorecard.scoring.scores` and are written by :mod:`scorecard.text`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from scorecard.bands import EPS, Benchmarks
from scorecard.metrics import PRESSURE_METRICS, RIGOR_METRICS, STABILITY_METRICS
from scorecard.text import has_value, hours, num, pct_change, percent

if TYPE_CHECKING:
    from scorecard.status import SourceStatus

__all__ = [
    "FLAG_ORDER",
    "Context",
    "class_flags",
    "class_reason",
    "flags_and_reasons",
    "stale_reason",
    "stale_reasons",
    "with_class_flags",
]

FLAG_ORDER: Final = ("outpacing", "unstable", "eroding", "stale", "no-data")


# --------------------------------------------------------------------------- flags and reasons


@dataclass(frozen=True)
class Context:
    """What reasons need besides the numbers."""

    window_days: int
    bench: Benchmarks
    stale: Mapping[str, str]


def flags_and_reasons(
    current: pd.DataFrame, previous: pd.DataFrame, scored: pd.DataFrame, ctx: Context
) -> tuple[pd.Series, pd.Series]:
    """Flags (list per team, in FLAG_ORDER) and reasons (list of sentences per team)."""
    bench = ctx.bench
    any_decline = scored[["declined_coverage", "declined_canary", "declined_ci"]].any(axis=1)
    trend = current["velocity_trend"]
    outpacing = (scored["gap"] >= bench.gap_outpacing - EPS) | (
        (trend >= bench.trend_outpacing - EPS) & any_decline
    )
    unstable = (scored["change_failure_rate_band"] == "low") | (scored["recovery_band"] == "low")
    groups = [PRESSURE_METRICS, RIGOR_METRICS, STABILITY_METRICS]
    no_data = pd.concat([current[list(g)].isna().all(axis=1) for g in groups], axis=1).all(axis=1)
    stale = pd.Series([str(t) in ctx.stale for t in current.index], index=current.index)
    table = pd.DataFrame(
        {
            "outpacing": outpacing.fillna(False),
            "unstable": unstable.fillna(False),
            "eroding": any_decline,
            "stale": stale,
            "no-data": no_data,
        }
    )
    flags: list[list[str]] = []
    reasons: list[list[str]] = []
    for team in current.index:
        row_flags = [f for f in FLAG_ORDER if bool(table.at[team, f])]
        flags.append(row_flags)
        reasons.append(
            _reasons(
                str(team),
                row_flags,
                current.loc[team],
                previous.loc[team],
                scored.loc[team],
                ctx,
            )
        )
    return (
        pd.Series(flags, index=current.index, dtype=object),
        pd.Series(reasons, index=current.index, dtype=object),
    )


def _reasons(
    team: str,
    flags: list[str],
    cur: pd.Series,
    prev: pd.Series,
    sc: pd.Series,
    ctx: Context,
) -> list[str]:
    bench = ctx.bench
    days = ctx.window_days
    out: list[str] = []
    falls = _declines_text(cur, prev, sc)
    if "outpacing" in flags:
        trend = cur["velocity_trend"]
        if has_value(trend) and trend >= bench.trend_outpacing - EPS and falls:
            out.append(f"deploys {pct_change(trend)} vs previous {days} days while {falls[0]}")
        if has_value(sc["gap"]) and sc["gap"] >= bench.gap_outpacing - EPS:
            out.append(
                f"pressure {num(sc['pressure'])} vs rigor {num(sc['rigor'])}: "
                f"gap {num(sc['gap'])} (outpacing from {num(bench.gap_outpacing)})"
            )
    if "unstable" in flags:
        if sc["change_failure_rate_band"] == "low":
            out.append(
                f"change failure rate {percent(cur['change_failure_rate'])} "
                f"(low: above {percent(bench.change_failure_rate_max[2])})"
            )
        if sc["recovery_band"] == "low":
            out.append(
                f"median recovery {hours(cur['recovery_time_p50_hours'])} "
                f"(low: {hours(bench.recovery_hours_under[2])} or more)"
            )
    if "eroding" in flags:
        out.extend(f"eroding: {text}" for text in falls)
    if "stale" in flags:
        out.append(f"stale data: {ctx.stale[team]}")
    if "no-data" in flags:
        out.append("no data: no deployments, changes, CI runs, coverage or incidents yet")
    out.extend(_score_reasons(cur, sc, ctx))
    return out


def _declines_text(cur: pd.Series, prev: pd.Series, sc: pd.Series) -> list[str]:
    texts = []
    if sc["declined_canary"]:
        texts.append(
            f"canary share fell {percent(prev['canary_share'])} → {percent(cur['canary_share'])}"
        )
    if sc["declined_coverage"]:
        start = cur["coverage_pct"] - cur["coverage_delta_pts"]
        texts.append(
            f"coverage fell {num(start, 1)}% → {num(cur['coverage_pct'], 1)}% "
            f"({num(cur['coverage_delta_pts'], 1)} pts)"
        )
    if sc["declined_ci"]:
        texts.append(
            f"CI success fell {percent(prev['ci_success_rate'])} → "
            f"{percent(cur['ci_success_rate'])}"
        )
    return texts


def _score_reasons(cur: pd.Series, sc: pd.Series, ctx: Context) -> list[str]:
    """One sentence per score that has a value: the numbers and bands behind it."""
    out = []
    if has_value(sc["pressure"]):
        out.append(f"pressure {num(sc['pressure'])}: {_pressure_detail(cur, sc, ctx.window_days)}")
    if has_value(sc["rigor"]):
        parts = _parts_text(cur, sc, RIGOR_PARTS)
        out.append(f"rigor {num(sc['rigor'])}: {parts}{_penalty_detail(sc, ctx.bench)}")
    if has_value(sc["stability"]):
        out.append(f"stability {num(sc['stability'])}: {_parts_text(cur, sc, STABILITY_PARTS)}")
    return out


def _pressure_detail(cur: pd.Series, sc: pd.Series, days: int) -> str:
    band = sc["deploy_frequency_band"]
    detail = (
        f"deploys on a median {num(cur['deploy_days_per_week_p50'], 1)} days a week, "
        f"{num(cur['deploys'])} in {days} days ({band})"
        if has_value(cur["deploy_days_per_week_p50"])
        else f"{num(cur['deploys'])} deploys in {days} days ({band})"
    )
    trend = cur["velocity_trend"]
    if has_value(trend):
        detail += f", {pct_change(trend)} vs previous {days} days"
    return detail


def _penalty_detail(sc: pd.Series, bench: Benchmarks) -> str:
    declined = int(sc["declined_coverage"]) + int(sc["declined_canary"]) + int(sc["declined_ci"])
    if not declined:
        return ""
    plural = "s" if declined > 1 else ""
    return f", −{num(bench.decline_penalty * declined)} for {declined} declining metric{plural}"


def _coverage_points(value: Any) -> str:
    return f"{num(value, 1)}%"


# (label, metric, formatter, band) of each part of the rigor and stability sentences
Part = tuple[str, str, Callable[[Any], str], str]
RIGOR_PARTS: Final[tuple[Part, ...]] = (
    ("coverage", "coverage_pct", _coverage_points, "coverage_band"),
    ("canary share", "canary_share", percent, "canary_band"),
    ("CI success", "ci_success_rate", percent, "ci_band"),
)
STABILITY_PARTS: Final[tuple[Part, ...]] = (
    ("lead time p50", "lead_time_p50_hours", hours, "lead_time_band"),
    ("change failure rate", "change_failure_rate", percent, "change_failure_rate_band"),
    ("recovery p50", "recovery_time_p50_hours", hours, "recovery_band"),
)


def _parts_text(cur: pd.Series, sc: pd.Series, parts: Sequence[Part]) -> str:
    """'label value (band)' for each part whose metric has a value, comma-separated."""
    return ", ".join(
        f"{label} {shown(cur[metric])} ({sc[band]})"
        for label, metric, shown, band in parts
        if has_value(cur[metric])
    )


# --------------------------------------------------------------------------- change classes


def class_flags(classes: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Team -> ``ungated-<class>`` flags, and team -> class reasons (riskier classes only)."""
    flags: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    columns = list(classes.columns)
    # one row per team and class with deploys: a handful, and reasons are prose
    for values in classes.itertuples(index=False, name=None):
        row = dict(zip(columns, values))
        team = str(row["team"])
        if bool(row["ungated"]):
            flags.setdefault(team, []).append(f"ungated-{row['class']}")
        if bool(row["riskier"]):
            reasons.setdefault(team, []).append(class_reason(row))
    return flags, reasons


def class_reason(r: Mapping[str, Any]) -> str:
    """'ai changes: 14 deploys, 36% gated by `evals` (floor 90%), canary 7% vs 45% ...'."""
    count = num(r["deploys"])
    text = f"{r['class']} changes: {count} deploy{'' if count == '1' else 's'}"
    if has_value(r["gated_share"]):
        text += (
            f", {percent(r['gated_share'])} gated by `{r['required_workflow']}` "
            f"(floor {percent(r['gated_floor'])})"
        )
    compared = [
        _versus(label, r[metric], r[f"other_{metric}"])
        for label, metric in (
            ("canary", "canary_share"),
            ("change failure rate", "change_failure_rate"),
        )
        if has_value(r[metric])
    ]
    if compared:
        others = r["other_deploys"]
        tail = (
            " for other changes"
            if has_value(others) and others > 0
            else " (no other deploys to compare)"
        )
        text += ", " + " and ".join(compared) + tail
    return text


def _versus(label: str, mine: Any, other: Any) -> str:
    """'canary 7% vs 45%' (just 'canary 7%' when the other side has no value)."""
    text = f"{label} {percent(mine)}"
    return f"{text} vs {percent(other)}" if has_value(other) else text


def with_class_flags(table: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """The scored table with class flags after the standard ones and class reasons
    after the flag reasons (before the score explanations)."""
    if classes.empty:
        return table
    flags, reasons = class_flags(classes)
    if not flags and not reasons:
        return table
    table = table.copy()
    new_flags = []
    new_reasons = []
    # Score explanations close each list: one per non-empty pressure, rigor, stability.
    n_scores = table[["pressure", "rigor", "stability"]].notna().sum(axis=1)
    for team, row_flags, row_reasons in zip(table.index, table["flags"], table["reasons"]):
        name = str(team)
        extra = reasons.get(name, [])
        split = len(row_reasons) - int(n_scores.loc[team])
        new_flags.append([*row_flags, *flags.get(name, [])])
        new_reasons.append([*row_reasons[:split], *extra, *row_reasons[split:]])
    table["flags"] = pd.Series(new_flags, index=table.index, dtype=object)
    table["reasons"] = pd.Series(new_reasons, index=table.index, dtype=object)
    return table


def stale_reasons(
    statuses: Mapping[str, SourceStatus],
    teams_by_source: Mapping[str, set[str]],
    all_teams: list[str],
    refresh_minutes: Mapping[str, float],
    now: datetime,
) -> dict[str, str]:
    """Team -> why its data is stale, from each source's last sync status.

    A source is stale when its last attempt failed, its last success is older
    than its refresh interval, or its last sync stopped early (partial data); it
    covers the teams it has events for, or every
    team when it never delivered any.
    """
    out: dict[str, str] = {}
    for name, status in statuses.items():
        why = stale_reason(name, status, refresh_minutes.get(name, 60.0), now)
        if why is None:
            continue
        for team in teams_by_source.get(name) or all_teams:
            out.setdefault(team, why)
    return out


def stale_reason(name: str, status: SourceStatus, refresh: float, now: datetime) -> str | None:
    """Why source ``name``'s data is stale (refresh interval in minutes); None: fresh."""
    import humanize

    last_ok = status.last_success_at
    if status.last_error:
        when = status.last_attempt_at
        ago = f" {humanize.naturaltime(now - when)}" if when else ""
        return f"source '{name}' failed{ago}: {status.last_error}"
    if last_ok is None:
        return f"source '{name}' has never synced"
    if (now - last_ok).total_seconds() > refresh * 60:
        return (
            f"source '{name}' last synced {humanize.naturaltime(now - last_ok)} "
            f"(refresh every {humanize.naturaldelta(refresh * 60)})"
        )
    if not status.complete:
        detail = f": {status.problems[0]}" if status.problems else ""
        return f"source '{name}' stopped early, so its data is partial{detail}"
    return None
