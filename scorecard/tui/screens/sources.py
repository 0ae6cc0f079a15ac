"""Source health: last sync, items, skipped rows, errors and rate limit left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.state import Shown, Status
from scorecard.tui.view import source_rows, stream_items
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.service import Scorecard
    from scorecard.tui.palette import Palette

COLUMNS = (
    "Source",
    "Kind",
    "Status",
    "Last good sync",
    "Last attempt",
    "Items",
    "Skipped",
    "Requests · 304 · retries",
    "Rate limit left",
    "Complete",
)


class SourceTable(DataTable[Text]):
    BINDINGS = [*CURSOR_KEYS]


class SourcesScreen(ScorecardScreen):
    """Every configured source and how its last sync went."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, shown: Shown | None = None, status: Status | None = None) -> None:
        super().__init__(shown, status, id="sources")

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
        yield Static("Sources", classes="section")
        yield SourceTable(id="source-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="source-notes")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(SourceTable)
        for label in COLUMNS:
            table.add_column(label)
        table.focus()

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        table = self.query_one(SourceTable)
        table.clear()
        for cells in source_rows(scorecard, self.shown.now, self.shown.palette):
            table.add_row(*cells)
        self.query_one("#source-notes", Static).update(source_notes(scorecard, self.shown.palette))


def source_notes(scorecard: Scorecard, palette: Palette) -> Text:
    """Failures first, then records per stream, skipped rows and cache notices."""
    notes = Text()
    statuses = scorecard.statuses
    failed = scorecard.failed_sources()
    for name in failed:
        notes.append_text(
            literal(f"{name} failed: {statuses[name].last_error}", f"bold {palette.bad}")
        )
        notes.append("\n")
    if failed:
        notes.append(
            "A failed source never hides the others: its teams are flagged STALE and keep "
            "their last good data.\n",
            style="dim",
        )
    for name in sorted(statuses):
        streams = stream_items(statuses[name].stats)
        if streams:
            notes.append_text(literal(f"{name}: {streams}", "dim"))
            notes.append("\n")
    for name in sorted(statuses):
        history = statuses[name].history_note()
        if history:
            notes.append_text(literal(f"{name}: {history}", palette.warn))
            notes.append("\n")
    for name in sorted(statuses):
        for problem in list(statuses[name].problems)[:5]:
            notes.append_text(literal(f"{name}: {problem}", "dim"))
            notes.append("\n")
    for notice in scorecard.notices:
        notes.append_text(literal(notice, palette.warn))
        notes.append("\n")
    if not statuses:
        notes.append("No sources configured or synced yet.")
    notes.rstrip()
    return notes
