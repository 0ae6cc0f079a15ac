"""Incidents from Prometheus' firing-alert history (``alert_incidents = true``).

Every continuous firing period of one ``ALERTS{alertstate="firing"}`` series
over the range (on a one-minute grid) is one incident, kept when it lasted at
least ``alert_min_minutes``. Later syncs read only from the last sync on; an
alert still firing then continues the same incident, and one that stopped
firing since ended by the last sync's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scorecard.errors import SourceError
from scorecard.sources.monitoring import MonitoringSource, fingerprint, severity_of
from scorecard.sources.promql import ALERT_STEP_S, PromQLError, grid, query_range, runs, when
from scorecard.sources.records import iso, parse_time

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

__all__ = ["ALERTS_QUERY", "AlertRun", "alert_history", "alert_title", "drop_ids"]

ALERTS_QUERY = 'timestamp(ALERTS{alertstate="firing"})'


@dataclass
class AlertRun:
    """The alert history part of one fetch."""

    done: bool = False
    incremental: bool = False
    incidents: list[dict[str, Any]] = field(default_factory=list)
    replace: set[str] = field(default_factory=set)
    """Ids of previously stored incidents to drop (open ones now too short)."""
    state: dict[str, Any] = field(default_factory=dict)
    continued: set[str] = field(default_factory=set)
    """Fingerprints of alerts open at the last sync that still fire."""
    now_open: dict[str, str] = field(default_factory=dict)
    """Fingerprint -> start of each alert still firing at the range's end."""


@dataclass(frozen=True)
class AlertWindow:
    """The grid range one fetch reads, and what the last sync left open."""

    start: int
    end: int
    incremental: bool
    kept_from: datetime
    """The oldest moment the incidents cover after this fetch."""
    open_before: Mapping[str, str]
    until: datetime | None
    """The end of the last sync's range (incremental fetches only)."""


def alert_window(
    ctx: FetchContext, old: Mapping[str, Any], previous: Mapping[str, pd.DataFrame]
) -> AlertWindow:
    """Read from the last sync's end when its history covers ``ctx.since`` and the
    cache holds its incidents; otherwise the whole range again."""
    step = ALERT_STEP_S
    history_from = parse_time(old.get("history_from"))
    until = parse_time(old.get("until"))
    has_previous = "incidents" in previous and len(previous["incidents"]) > 0
    end = grid(ctx.until, step, up=False)
    if (
        not ctx.full
        and history_from is not None
        and until is not None
        and history_from <= ctx.since
        and until < ctx.until
        and has_previous
    ):
        open_before = dict(old.get("open") or {})
        start = grid(until, step, up=False)
        return AlertWindow(start, end, True, history_from, open_before, until)
    return AlertWindow(grid(ctx.since, step, up=True), end, False, ctx.since, {}, None)


async def alert_history(
    source: MonitoringSource[Any],
    client: HttpClient,
    ctx: FetchContext,
    old_state: Mapping[str, Any],
    previous: Mapping[str, pd.DataFrame],
    run: AlertRun,
) -> None:
    """Read the firing-alert history into ``run`` (incidents, bookmark, ids to drop)."""
    window = alert_window(ctx, dict(old_state.get("alerts") or {}), previous)
    try:
        series = await query_range(
            client, ALERTS_QUERY, window.start, window.end, ALERT_STEP_S, source.options.timeout_s
        )
    except PromQLError as exc:
        raise SourceError(f"alert history query `{ALERTS_QUERY}` failed: {exc}") from None
    for key, points in series.items():
        labels = {k: v for k, v in key if k not in ("alertstate", "__name__")}
        team, service = source.matcher.labels(labels, source.service_label)
        if not source.team_wanted(team):
            client.stats.count("alerts_other_teams")
            continue
        for period in runs(points, ALERT_STEP_S):
            _period(source, client, window, labels, (team, service), points, period, run)
    if window.incremental and "incidents" in previous:
        run.incidents.extend(_ended_since(source.name, previous["incidents"], window, run))
    client.stats.count("incidents", len(run.incidents))
    run.state = {
        "history_from": iso(window.kept_from),
        "until": iso(when(window.end)),
        "open": run.now_open,
    }
    run.incremental = window.incremental
    run.done = True


def _period(
    source: MonitoringSource[Any],
    client: HttpClient,
    window: AlertWindow,
    labels: Mapping[str, str],
    owner: tuple[str | None, str | None],
    points: Mapping[int, float],
    period: list[int],
    run: AlertRun,
) -> None:
    """One continuous firing period of one series: an incident when it lasted long
    enough (an open one continues the incident the last sync saw)."""
    fp = fingerprint(labels)
    first, last = period[0], period[-1]
    created = when(points[first])
    if first == window.start and fp in window.open_before:
        created = parse_time(window.open_before[fp]) or created
        run.continued.add(fp)
    still_open = last == window.end
    resolved = None if still_open else when(points[last])
    lasted = ((resolved or when(window.end)) - created).total_seconds() / 60
    ident = f"{source.name}:{fp}:{int(created.timestamp())}"
    if still_open:
        run.now_open[fp] = iso(created)
    if lasted < source.min_minutes:
        if not still_open:
            client.stats.count("alerts_too_short")
        else:
            run.replace.add(ident)  # drop a too-short open one kept from before
        return
    team, service = owner
    run.incidents.append(
        {
            "id": ident,
            "source": source.name,
            "team": team,
            "service": service,
            "title": alert_title(labels),
            "severity": severity_of(labels.get(source.severity_label), source.severity_map),
            "created_at": created,
            "resolved_at": resolved,
            "url": None,
        }
    )


def _ended_since(
    name: str, frame: pd.DataFrame, window: AlertWindow, run: AlertRun
) -> list[dict[str, Any]]:
    """Alerts open at the last sync that no longer fire: they ended by its end."""
    out: list[dict[str, Any]] = []
    for fp, began in window.open_before.items():
        if fp in run.continued:
            continue
        began_at = parse_time(began)
        if began_at is None:
            continue
        ident = f"{name}:{fp}:{int(began_at.timestamp())}"
        match = frame[frame["id"] == ident]
        if len(match):
            row = {str(k): v for k, v in match.iloc[0].to_dict().items()}
            row["resolved_at"] = window.until
            out.append(row)
    return out


def alert_title(labels: Mapping[str, str]) -> str:
    """``HighErrorRate (service=api, namespace=prod)``."""
    name = labels.get("alertname") or "alert"
    detail = [f"{k}={labels[k]}" for k in ("service", "namespace", "job") if labels.get(k)]
    return f"{name} ({', '.join(detail)})" if detail else name


def drop_ids(frames: Mapping[str, pd.DataFrame], ids: set[str]) -> dict[str, pd.DataFrame]:
    """``frames`` without the rows whose ``id`` is in ``ids``."""
    if not ids:
        return dict(frames)
    return {k: f[~f["id"].isin(ids)].reset_index(drop=True) for k, f in frames.items()}
