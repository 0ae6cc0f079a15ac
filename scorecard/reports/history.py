"""Per-team scores over months: snapshots first, recomputed events where they are missing.

A snapshot is the scored summary as it was on its day (its ``scoring_version``
and team map hash say under which definitions and which team map). Where there
is no snapshot (before the first sync that kept one, or a cache that was never
synced daily) the same scores are recomputed from the cached events, window by
window, and marked ``recomputed``: events a vendor no longer returns, or a
definition changed since, make those points less certain than a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config
    from scorecard.scoring import Report
    from scorecard.service import Scorecard
    from scorecard.snapshots import Snapshots

__all__ = [
    "POINT_COLUMNS",
    "SCORES",
    "History",
    "Origin",
    "load_history",
    "record_snapshot",
    "snapshot_rows",
]

Origin = Literal["snapshot", "recomputed", "current"]
SCORES: Final = ("pressure", "rigor", "stability", "gap")
"""The scores a trend follows (plus the grade and flags)."""
POINT_COLUMNS: Final = (
    "day",
    "team",
    *SCORES,
    "grade",
    "flags",
    "reasons",
    "origin",
    "scoring_version",
    "team_map_hash",
)
STEP_DAYS: Final = 7
"""Recomputed points are one week apart (snapshots keep every day they have)."""


def snapshot_rows(report: Report, config: Config) -> pd.DataFrame:
    """One row per team: the summary columns of SPEC §3 (flags space-separated,
    reasons " | "-separated), the window, ``scoring_version`` and team map hash."""
    from scorecard.scoring import SCORING_VERSION
    from scorecard.snapshots import team_map_hash

    rows = report.summary().drop(columns=["window_start", "window_end"])
    rows["flags"] = [" ".join(map(str, f)) if isinstance(f, list) else "" for f in rows["flags"]]
    rows["reasons"] = [
        " | ".join(map(str, r)) if isinstance(r, list) else "" for r in rows["reasons"]
    ]
    rows["grade"] = rows["grade"].astype("object").where(rows["grade"].notna(), None)
    rows["as_of"] = report.as_of
    rows["window_days"] = int(report.window_days)
    rows["scoring_version"] = int(SCORING_VERSION)
    rows["team_map_hash"] = team_map_hash(config.teams)
    return rows


def record_snapshot(card: Scorecard, root: Path, *, keep_days: int) -> date:
    """Store ``card`` as the snapshot of its as-of day under cache ``root``; the day."""
    from scorecard.snapshots import Snapshots

    day = card.report.as_of.date()
    Snapshots(root).write(day, snapshot_rows(card.report, card.config), keep_days=keep_days)
    return day


@dataclass(frozen=True)
class History:
    """Per (day, team) the scores (``POINT_COLUMNS``) over the months asked for."""

    points: pd.DataFrame
    window_days: int
    scoring_version: int
    team_map_hash: str
    missing: tuple[date, ...] = ()
    """Weeks with no snapshot that the events reach and that were not recomputed."""

    def team(self, name: str) -> pd.DataFrame:
        """``name``'s points, oldest first."""
        return self.points[self.points["team"] == name].reset_index(drop=True)

    def at(self, day: date) -> pd.DataFrame:
        """Per team, the latest point on or before ``day`` (index team)."""
        rows = self.points[self.points["day"] <= day.isoformat()]
        return rows.groupby("team", sort=False).tail(1).set_index("team")

    def definition_changes(self) -> list[str]:
        """Where kept snapshots were scored under another ``scoring_version`` or another
        team map than today's, in words (empty: every point compares honestly)."""
        kept = self.points[self.points["origin"] == "snapshot"]
        out = []
        versions = kept[kept["scoring_version"] != self.scoring_version]
        if not versions.empty:
            old = ", ".join(sorted({str(v) for v in versions["scoring_version"]}))
            last = versions["day"].max()
            out.append(f"scoring version {old} (now {self.scoring_version}) until {last}")
        moved = kept[kept["team_map_hash"] != self.team_map_hash]
        if not moved.empty:
            out.append(f"another team map until {moved['day'].max()}")
        return out

    def recomputed_share(self) -> float:
        """The share of points recomputed from events (0 when all are snapshots)."""
        if self.points.empty:
            return 0.0
        return float((self.points["origin"] == "recomputed").mean())


def load_history(
    card: Scorecard,
    root: Path | None,
    *,
    months: int,
    recompute: bool = True,
    weekly: bool = True,
    also: Sequence[date] = (),
    progress: Callable[[int, int], None] | None = None,
) -> History:
    """The last ``months`` of scores for ``card``'s teams: its snapshots under cache
    ``root`` (None: the demo, which keeps none), weekly recomputed points from
    ``card``'s events where no snapshot covers a week (unless ``recompute`` is off;
    ``weekly`` off: only at the days ``also`` names, which are always recomputed when
    they have no snapshot), and ``card`` itself as today's point."""
    import pandas as pd

    from scorecard.scoring import SCORING_VERSION
    from scorecard.snapshots import Snapshots, team_map_hash

    report = _at_config_window(card)
    end = report.as_of.date()
    start = end - timedelta(days=round(months * 365.25 / 12))
    window = int(report.window_days)
    kept = Snapshots(root, read_only=True) if root is not None else None
    parts = [_snapshot_points(kept, start, end, window)] if kept is not None else []
    have = set(parts[0]["day"]) if parts else set()
    weeks = [d for d in _weeks(start, end) if not _covered(d, have)] if weekly else []
    asked = [d for d in also if start <= d < end and d.isoformat() not in have]
    missing = _reachable(report, sorted({*weeks, *asked}))
    parts.append(_recomputed(replace(card, report=report), missing if recompute else [], progress))
    parts.append(_points(snapshot_rows(report, card.config), end, "current"))
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    frame = frame.drop_duplicates(["day", "team"], keep="first")
    return History(
        points=frame.sort_values(["day", "team"], ignore_index=True),
        window_days=window,
        scoring_version=int(SCORING_VERSION),
        team_map_hash=team_map_hash(card.config.teams),
        missing=() if recompute else tuple(missing),
    )


def _at_config_window(card: Scorecard) -> Report:
    """``card``'s report, or the same events scored over the config's window (the one
    snapshots keep) when the card shows another."""
    from scorecard import scoring
    from scorecard.request import ScoreRequest

    report, config = card.report, card.config
    if report.window_days == config.window_days:
        return report
    at = report.as_of.to_pydatetime()
    request = ScoreRequest.resolve(as_of=at, window_days=config.window_days, now=at)
    return scoring.build_report(
        report.prepared,
        request,
        bench=report.bench,
        org=report.org,
        change_classes=config.change_classes,
    )


def _snapshot_points(found: Snapshots, start: date, end: date, window: int) -> pd.DataFrame:
    """The snapshots before ``end`` (today's point is the scorecard itself) taken over
    ``window`` days (a snapshot of another window length is another measure)."""
    rows = found.read(since=start, until=end - timedelta(days=1))
    if rows.empty or "window_days" not in rows:
        return rows.reindex(columns=list(POINT_COLUMNS))
    rows = rows[rows["window_days"] == window]
    return _points(rows, None, "snapshot")


def _points(rows: pd.DataFrame, day: date | None, origin: Origin) -> pd.DataFrame:
    """``rows`` (snapshot-shaped) as history points of ``origin``."""
    out = rows.copy()
    if day is not None:
        out["day"] = day.isoformat()
    out["origin"] = origin
    return out.reindex(columns=list(POINT_COLUMNS))


def _weeks(start: date, end: date) -> list[date]:
    """Every 7th day back from ``end`` (exclusive) to ``start``, oldest first."""
    days = []
    day = end - timedelta(days=STEP_DAYS)
    while day >= start:
        days.append(day)
        day -= timedelta(days=STEP_DAYS)
    return days[::-1]


def _covered(day: date, have: set[str]) -> bool:
    """Whether a snapshot falls in the week ending at ``day``."""
    return any((day - timedelta(days=k)).isoformat() in have for k in range(STEP_DAYS))


def _recomputed(
    card: Scorecard, days: Sequence[date], progress: Callable[[int, int], None] | None
) -> pd.DataFrame:
    """Scores at the end of each of ``days``, from ``card``'s events."""
    import pandas as pd

    from scorecard import scoring
    from scorecard.request import ScoreRequest

    report, config = card.report, card.config
    reach = list(days)
    parts = []
    for done, day in enumerate(reach, start=1):
        at = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)
        request = ScoreRequest.resolve(as_of=at, window_days=report.window_days, now=at)
        past = scoring.build_report(
            report.prepared,
            request,
            bench=report.bench,
            org=report.org,
            change_classes=config.change_classes,
        )
        parts.append(_points(snapshot_rows(past, config), day, "recomputed"))
        if progress is not None:
            progress(done, len(reach))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=POINT_COLUMNS)


def _reachable(report: Report, days: Sequence[date]) -> list[date]:
    """The ``days`` whose window and previous window the report's events reach."""
    earliest = _earliest_event(report)
    if earliest is None:
        return []
    return [d for d in days if d - timedelta(days=2 * report.window_days) >= earliest]


def _earliest_event(report: Report) -> date | None:
    """The day of the earliest deployment or CI run the scorecard was built from."""
    import pandas as pd

    prep = report.prepared
    found = [
        frame[column].min()
        for frame, column in ((prep.deployments, "finished_at"), (prep.ci_runs, "finished_at"))
        if column in frame and len(frame)
    ]
    found = [t for t in found if not pd.isna(t)]
    return min(found).date() if found else None
