"""The team map (SPEC §12): who owns what and who said so, then what has no team.

The same rows as ``scorecard teams``: the explicit ``[[teams]]`` and each
discovery section's repos, services and CODEOWNERS paths with their origin,
then the repos and services that have events but no team, then the problems
discovery listed instead of guessing and the sections that went stale. The
overview's ``unassigned`` row opens it: that is where a lead asks "whose is
this?".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from scorecard.model import UNASSIGNED
from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.state import Shown, Status
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.discovery.report import TeamsReport
    from scorecard.service import Scorecard
    from scorecard.tui.palette import Palette

COLUMNS = ("Team", "Kind", "Value", "Origin")


class TeamMapTable(DataTable[Text]):
    BINDINGS = [*CURSOR_KEYS]


class TeamsScreen(ScorecardScreen):
    """Every row of the resolved team map, the unassigned ones last."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, shown: Shown | None = None, status: Status | None = None) -> None:
        super().__init__(shown, status, id="teams-map")

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
        yield Static("Teams: who owns what, and who said so", classes="section")
        yield TeamMapTable(id="team-map-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="team-map-notes")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(TeamMapTable)
        for label in COLUMNS:
            table.add_column(label)
        table.focus()

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        from scorecard.service import teams_report

        report = teams_report(scorecard)
        table = self.query_one(TeamMapTable)
        table.clear()
        warn = self.shown.palette.warn
        for row in report.all_rows:
            style = f"bold {warn}" if row.team == UNASSIGNED else ""
            table.add_row(*(literal(v, style) for v in (row.team, row.kind, row.value, row.origin)))
        notes = self.query_one("#team-map-notes", Static)
        notes.update(team_map_notes(report, self.shown.palette))


def team_map_notes(report: TeamsReport, palette: Palette) -> Text:
    """Stale sections first, then the problems, then what to do about unassigned rows."""
    notes = Text()
    for status in report.stale:
        notes.append_text(literal(f"{status.name} is stale: {status.last_error}", palette.bad))
        notes.append("\n")
    for problem in report.problems:
        notes.append_text(literal(str(problem), palette.warn))
        notes.append("\n")
    if report.unassigned:
        notes.append(
            "Unassigned rows have events but no team: list them in a [[teams]] entry, "
            "or in the catalog or CODEOWNERS a [discovery.NAME] section reads.",
            style="dim",
        )
    notes.rstrip()
    return notes
