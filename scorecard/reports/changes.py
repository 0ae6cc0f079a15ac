"""What changed per team since a date: grade, gap and flags, in one line each.

"Payments: B → C, gap +18 → +31, new flag eroding" is what a lead pastes into
Slack on Monday and what "since last review" shows in the TUI. The baseline is
the team's point on or before the date (a snapshot, else recomputed from events,
and the line says so); a team with no point then is new.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.reports.history import History

__all__ = ["TeamChange", "changes_since"]


@dataclass(frozen=True)
class TeamChange:
    """One team then and now."""

    team: str
    grade_before: str | None
    grade_now: str | None
    gap_before: float | None
    gap_now: float | None
    flags_before: tuple[str, ...]
    flags_now: tuple[str, ...]
    baseline: str | None
    """The day of the baseline point (None: the team had none)."""
    recomputed: bool = False
    """The baseline was recomputed from events (no snapshot that day)."""

    @property
    def new_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags_now if f not in self.flags_before)

    @property
    def cleared_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags_before if f not in self.flags_now)

    @property
    def changed(self) -> bool:
        """Whether the grade, the flags or the gap (by 5 points or more) moved."""
        moved = (
            self.gap_before is not None
            and self.gap_now is not None
            and abs(self.gap_now - self.gap_before) >= 5
        )
        return bool(
            self.baseline is None
            or self.grade_before != self.grade_now
            or self.new_flags
            or self.cleared_flags
            or moved
        )

    def parts(self) -> list[str]:
        """The changes in words, without the team: ``B → C``, ``gap +18 → +31``, ..."""
        if self.baseline is None:
            return [f"new, grade {self.grade_now or '—'}, gap {_gap(self.gap_now)}"]
        out = []
        if self.grade_before != self.grade_now:
            out.append(f"{self.grade_before or '—'} → {self.grade_now or '—'}")
        else:
            out.append(f"grade {self.grade_now or '—'}")
        out.append(f"gap {_gap(self.gap_before)} → {_gap(self.gap_now)}")
        if self.new_flags:
            out.append(_plural("new flag", self.new_flags))
        if self.cleared_flags:
            out.append(_plural("cleared", self.cleared_flags, plural="cleared"))
        return out


def changes_since(history: History, since: date, now: date) -> list[TeamChange]:
    """Per team of ``now``'s points, the change from its point at ``since``; flagged
    teams first, then by the size of the gap's move."""
    before, after = history.at(since), history.at(now)
    out = [
        _change(str(team), {str(k): v for k, v in row.items()}, _row(before, str(team)))
        for team, row in after.iterrows()
    ]
    return sorted(out, key=lambda c: (not c.flags_now, -abs(_move(c)), c.team))


def _change(team: str, now: Mapping[str, Any], then: Mapping[str, Any] | None) -> TeamChange:
    return TeamChange(
        team=team,
        grade_before=_text(then["grade"]) if then is not None else None,
        grade_now=_text(now["grade"]),
        gap_before=_number(then["gap"]) if then is not None else None,
        gap_now=_number(now["gap"]),
        flags_before=_flags(then["flags"]) if then is not None else (),
        flags_now=_flags(now["flags"]),
        baseline=str(then["day"]) if then is not None else None,
        recomputed=then is not None and then["origin"] == "recomputed",
    )


def _row(frame: pd.DataFrame, team: str) -> Mapping[str, Any] | None:
    if team not in frame.index:
        return None
    row = frame.loc[team]
    return {"day": row["day"], **{k: row[k] for k in ("grade", "gap", "flags", "origin")}}


def _move(change: TeamChange) -> float:
    if change.gap_before is None or change.gap_now is None:
        return 0.0
    return change.gap_now - change.gap_before


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _flags(value: Any) -> tuple[str, ...]:
    """The flags that say something about the team (``stale`` is about today's sync)."""
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v) != "stale")
    return ()


def _gap(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f}"


def _plural(word: str, items: tuple[str, ...], *, plural: str | None = None) -> str:
    name = word if len(items) == 1 else (plural or word + "s")
    return f"{name} {', '.join(items)}"
