"""Trends: are we getting better? Scores over 6, 12 or 24 months, and what changed since a date.

The org view draws every team's gap over time; a team's view draws its
pressure, rigor, stability and gap, with its grade and flag changes in words.
Points come from the cache's daily snapshots at once; weeks without a snapshot
are then recomputed from cached events in a worker (marked ``x`` on the chart
and counted in the title), so the screen opens immediately and fills in.
"Since" compares every team's grade, gap and flags with a chosen date. The
module is imported only when the screen opens: the first screen never waits
for it or for pandas.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.state import Shown, Status
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal
from scorecard.tui.widgets.trend_chart import TrendChart, TrendLine

if TYPE_CHECKING:
    from scorecard.reports.history import History
    from scorecard.service import Scorecard

__all__ = ["ORG", "PERIODS", "TrendsScreen"]

PERIODS: Final = (6, 12, 24)
"""Months the screen can look back (``p`` cycles)."""
ORG: Final = "Every team: gap"
SINCE_DAYS: Final = 28


class _Stopped(Exception):
    """The recompute was cancelled (its worker was replaced or its screen closed)."""


class TrendList(OptionList):
    BINDINGS = [Binding("enter", "select", "Show"), *CURSOR_KEYS]


class TrendsScreen(ScorecardScreen):
    """Scores over months, per team and for the whole org."""

    DEFAULT_CSS = """
    #trends-body { height: 1fr; }
    #trends-side { width: 34; padding: 0 1; }
    #trends-teams { height: 1fr; }
    #trends-main { width: 1fr; }
    #trends-chart { height: 1fr; min-height: 12; }
    #trends-title, #trends-notes, #trends-since-text { height: auto; }
    #trends-since { width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("p", "period", "Period"),
        Binding("c", "choose_since", "Since…"),
    ]

    def __init__(
        self,
        shown: Shown | None = None,
        status: Status | None = None,
        *,
        root: Path | None = None,
        months: int = 12,
    ) -> None:
        super().__init__(shown, status, id="trends")
        self.root = root
        """The cache root whose snapshots are read (None: the demo, which has none)."""
        self.months = months
        self.history: History | None = None
        self.selected: str | None = None  # None: the org view
        self.teams: list[str] = []
        self.since: date | None = None
        self.pending = ""
        self._for: Scorecard | None = None

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
        with Horizontal(id="trends-body"):
            with Vertical(id="trends-side"):
                yield Static("Show (↑/↓, enter)", classes="section")
                yield TrendList(id="trends-teams")
                yield Static("Since (YYYY-MM-DD, enter)", classes="section")
                yield Input(placeholder="YYYY-MM-DD", id="trends-since")
            with Vertical(id="trends-main"):
                yield Static(id="trends-title")
                yield TrendChart(id="trends-chart")
                yield Static(id="trends-notes")
                yield Static(id="trends-since-text")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TrendList).focus()

    # ----------------------------------------------------------------- data

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        if scorecard is not self._for:
            self._for = scorecard
            self.since = scorecard.report.as_of.date() - timedelta(days=SINCE_DAYS)
            self.query_one("#trends-since", Input).value = self.since.isoformat()
            self._list([str(t) for t in scorecard.report.table.index])
            self.load(scorecard)
        self.draw_history()

    def load(self, scorecard: Scorecard) -> None:
        """Snapshots at once, then the weeks they miss recomputed (both in a worker)."""
        self.pending = "reading snapshots…"
        self._load_worker(scorecard, self.months)

    @work(thread=True, exclusive=True, group="trends")
    def _load_worker(self, scorecard: Scorecard, months: int) -> None:
        from scorecard.reports.history import load_history

        quick = load_history(scorecard, self.root, months=months, recompute=False)
        if not quick.missing:  # every week has its snapshot
            self.app.call_from_thread(self._loaded, quick, "")
            return
        self.app.call_from_thread(self._loaded, quick, "recomputing weeks without a snapshot…")

        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:  # another period, or the screen closed: stop here
                raise _Stopped
            note = f"recomputing weeks without a snapshot from events… {done}/{total}"
            self.app.call_from_thread(self._progress, note)

        try:
            full = load_history(scorecard, self.root, months=months, progress=progress)
        except _Stopped:
            return
        self.app.call_from_thread(self._loaded, full, "")

    def _progress(self, note: str) -> None:
        if self.is_attached:  # the screen may have been closed meanwhile
            self.pending = note
            self._notes()

    def _loaded(self, history: History, loading: str) -> None:
        if self.is_attached:
            self.history, self.pending = history, loading
            self.draw_history()

    # ----------------------------------------------------------------- drawing

    def _list(self, teams: list[str]) -> None:
        self.teams = teams
        options = self.query_one(TrendList)
        options.clear_options()
        options.add_option(Option(Text(ORG, style="bold"), id="org"))
        for i, team in enumerate(teams):
            options.add_option(Option(literal(team), id=f"team-{i}"))
        options.highlighted = 0

    def draw_history(self) -> None:
        history = self.history
        if history is None:
            self.query_one("#trends-title", Static).update(Text(self.pending or "…"))
            return
        points = history.points
        days = sorted(set(points["day"].astype(str)))
        if self.selected is None:
            teams = [str(t) for t in dict.fromkeys(points["team"])]
            lines = [_line(history, t, "gap", days, t) for t in teams]
            title = f"Gap per team, last {self.months} months"
        else:
            lines = [_line(history, self.selected, s, days, s) for s in _SCORES]
            title = f"{self.selected}, last {self.months} months"
        self.query_one(TrendChart).show(lines, days, title)
        self.query_one("#trends-title", Static).update(_title(history, title))
        self._notes()
        self._since_text()

    def _notes(self) -> None:
        notes = Text()
        if self.history is not None and self.selected is not None:
            notes.append_text(_grade_story(self.history, self.selected))
        if self.history is not None and self.history.definition_changes():
            changed = "; ".join(self.history.definition_changes())
            notes.append(("\n" if notes else "") + f"Compare with care: {changed}", style="yellow")
        if self.pending:
            notes.append(("\n" if notes else "") + self.pending, style="dim italic")
        self.query_one("#trends-notes", Static).update(notes)

    def _since_text(self) -> None:
        from scorecard.reports.changes import changes_since

        history, since = self.history, self.since
        if history is None or since is None or self._for is None:
            return
        now = self._for.report.as_of.date()
        changes = [c for c in changes_since(history, since, now) if c.changed]
        if self.selected is not None:
            changes = [c for c in changes if c.team == self.selected]
        text = Text(f"Since {since.isoformat()}\n", style="bold")
        for change in changes:
            text.append_text(literal(change.team, "bold"))
            text.append(": " + ", ".join(change.parts()))
            text.append(" (baseline recomputed)\n" if change.recomputed else "\n", style="dim")
        if not changes:
            text.append("no grade, flag or gap changed\n", style="dim")
        self.query_one("#trends-since-text", Static).update(text)

    # ----------------------------------------------------------------- actions

    @on(OptionList.OptionSelected, "#trends-teams")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index - 1
        self.show_team(self.teams[index] if 0 <= index < len(self.teams) else None)

    def show_team(self, team: str | None) -> None:
        """Draw ``team``'s scores (None: every team's gap)."""
        self.selected = team
        self.draw_history()

    def action_period(self) -> None:
        later = [m for m in PERIODS if m > self.months]
        self.months = later[0] if later else PERIODS[0]
        if self._for is not None:
            self.load(self._for)
            self.draw_history()

    def action_choose_since(self) -> None:
        self.query_one("#trends-since", Input).focus()

    @on(Input.Submitted, "#trends-since")
    def _since_submitted(self, event: Input.Submitted) -> None:
        try:
            self.since = date.fromisoformat(event.value.strip())
        except ValueError:
            self.notify("Since: a date like 2026-01-31", severity="warning", markup=False)
            return
        self._since_text()
        self.query_one(TrendList).focus()


_SCORES: Final = ("pressure", "rigor", "stability", "gap")


def _line(history: History, team: str, score: str, days: list[str], name: str) -> TrendLine:
    """``team``'s ``score`` on each of ``days`` (None where it has no point), as ``name``."""
    rows = history.team(team).drop_duplicates("day").set_index("day").reindex(days)
    values = [_number(v) for v in rows[score].tolist()]
    recomputed = frozenset(i for i, o in enumerate(rows["origin"].tolist()) if o == "recomputed")
    return TrendLine(name, values, recomputed)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _title(history: History, title: str) -> Text:
    origins = history.points["origin"].value_counts()
    kept, redone = int(origins.get("snapshot", 0)), int(origins.get("recomputed", 0))
    text = Text(title, style="bold")
    text.append(
        f"  ·  {history.window_days}-day windows · {kept} snapshot points, "
        f"{redone} recomputed from events (x)",
        style="dim",
    )
    return text


def _grade_story(history: History, team: str) -> Text:
    """``Grade B (2026-06-01) → C (2026-10-15)``, and when flags came and went."""
    points = history.team(team)
    grades: list[str] = []
    last_grade: str | None = None
    last_flags: set[str] = set()
    flag_notes: list[str] = []
    for _, row in points.iterrows():
        grade = row["grade"] if isinstance(row["grade"], str) else "—"
        if grade != last_grade:
            grades.append(f"{grade} ({row['day']})")
            last_grade = grade
        flags = set(str(row["flags"] or "").split())
        flag_notes += [f"+{f} {row['day']}" for f in sorted(flags - last_flags)]
        flag_notes += [f"-{f} {row['day']}" for f in sorted(last_flags - flags)]
        last_flags = flags
    text = Text("Grade " + " → ".join(grades))
    if flag_notes:
        text.append("\nFlags " + ", ".join(flag_notes[-8:]), style="dim")
    return text
