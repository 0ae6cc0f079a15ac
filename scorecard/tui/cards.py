"""The standup's cards as plain data, and the state its screen draws from.

Cards are built from a scored report in a worker thread (:func:`build_cards`),
so the standup screen only lays out strings and numbers. The standup app hands
its screen a :class:`Rotation` (the cards, which one is on show, paused or not)
whenever it changes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from rich.text import Text

from scorecard.tui.header import humanized, last_synced
from scorecard.tui.palette import Palette
from scorecard.tui.view import sorted_teams, value
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from scorecard.service import Scorecard
    from scorecard.status import SourceStatus

TOP_REASONS: Final = 3


@dataclass(frozen=True)
class Card:
    """Everything one standup card shows, as plain values."""

    team: str
    grade: str | None
    pressure: float | None
    rigor: float | None
    stability: float | None
    gap: float | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    """The top reasons (flag reasons come first in a report)."""
    more_reasons: int
    deploys: int | None
    deploys_per_day: float | None
    incidents: int | None
    incidents_sev1_2: int | None
    incidents_open: int | None
    synced: str
    """Freshness of the team's data, e.g. ``github, pagerduty synced 10 minutes ago``."""
    failed: tuple[str, ...] = ()
    """Failures of the team's sources, e.g. ``gitlab failed 2 hours ago``."""


@dataclass(frozen=True)
class Rotation:
    """What the standup screen shows: the cards, the one on show, and why none is."""

    header: Text
    palette: Palette
    cards: tuple[Card, ...] = ()
    index: int = 0
    paused: bool = False
    interval: float = 15.0
    window_days: int | None = None
    busy: str | None = None
    load_error: str | None = None

    @property
    def card(self) -> Card | None:
        return self.cards[self.index] if self.cards else None


def _float(row: Any, column: str) -> float | None:
    v = value(row, column)
    return float(v) if v is not None else None


def _int(row: Any, column: str) -> int | None:
    v = value(row, column)
    return int(v) if v is not None else None


def _teams_by_source(scorecard: Scorecard) -> dict[str, set[str]]:
    from scorecard.service import teams_by_source

    try:
        return teams_by_source(scorecard.report.prepared)
    except (AttributeError, KeyError):
        return {}


def _failed(name: str, status: SourceStatus, now: datetime) -> str:
    return f"{safe_text(name)} failed {humanized(now, status.last_attempt_at or now)}"


def _freshness(
    scorecard: Scorecard, team: str, by_source: dict[str, set[str]], now: datetime
) -> tuple[str, tuple[str, ...]]:
    names = sorted(n for n, teams in by_source.items() if team in teams)
    statuses = scorecard.statuses
    mine = [statuses[n] for n in names if n in statuses]
    failed = tuple(_failed(s.name, s, now) for s in mine if s.last_error)
    # Sources that failed for everyone (and so delivered nothing) still matter.
    failed += tuple(
        _failed(name, s, now)
        for name, s in sorted(statuses.items())
        if s.last_error and name not in names and name not in by_source
    )
    successes = [s.last_success_at for s in mine if s.last_success_at is not None]
    if successes:
        return f"{', '.join(names)} synced {humanized(now, min(successes))}", failed
    overall = last_synced(scorecard)
    synced = f"synced {humanized(now, overall)}" if overall is not None else "never synced"
    return synced, failed


def card_for(
    scorecard: Scorecard, team: str, by_source: dict[str, set[str]], now: datetime
) -> Card:
    """The card of one team of ``scorecard``."""
    row = scorecard.report.table.loc[team]
    reasons = [str(r) for r in (row.get("reasons") or [])]
    synced, failed = _freshness(scorecard, team, by_source, now)
    grade = value(row, "grade")
    return Card(
        team=team,
        grade=str(grade) if grade is not None else None,
        pressure=_float(row, "pressure"),
        rigor=_float(row, "rigor"),
        stability=_float(row, "stability"),
        gap=_float(row, "gap"),
        flags=tuple(str(f) for f in (row.get("flags") or [])),
        reasons=tuple(reasons[:TOP_REASONS]),
        more_reasons=max(len(reasons) - TOP_REASONS, 0),
        deploys=_int(row, "deploys"),
        deploys_per_day=_float(row, "deploys_per_day"),
        incidents=_int(row, "incidents"),
        incidents_sev1_2=_int(row, "incidents_sev1_2"),
        incidents_open=_int(row, "incidents_open"),
        synced=synced,
        failed=failed,
    )


def build_cards(scorecard: Scorecard, now: datetime, teams: Sequence[str] = ()) -> list[Card]:
    """One card per team, flagged first then widest gap (only ``teams`` when given)."""
    order = sorted_teams(scorecard.report.table)
    if teams:
        wanted = {t.casefold() for t in teams}
        order = [t for t in order if t.casefold() in wanted]
    by_source = _teams_by_source(scorecard)
    return [card_for(scorecard, team, by_source, now) for team in order]


def resolve_teams(names: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """``names`` matched case-insensitively to ``known``; ValueError naming a close one."""
    by_fold = {k.casefold(): k for k in known}
    out: list[str] = []
    for name in names:
        found = by_fold.get(name.casefold())
        if found is None:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"teams: {', '.join(known)}"
            raise ValueError(f"no team named `{name}` ({hint})")
        if found not in out:
            out.append(found)
    return tuple(out)
