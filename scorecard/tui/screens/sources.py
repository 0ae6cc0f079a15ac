"""Source health: last sync, items, skipped rows, errors and rate limit left."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from scorecard.tui.app import palette_of
from scorecard.tui.screens.base import BaseScreen
from scorecard.tui.view import source_rows, stream_items
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal

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
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class SourcesScreen(BaseScreen):
    """Every configured source and how its last sync went."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__(id="sources")

    def compose(self) -> ComposeResult:
        yield InfoBar(id="info")
        yield BusyBar()
        yield Static("Sources", classes="section")
        yield SourceTable(id="source-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="source-notes")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(SourceTable)
        for label in COLUMNS:
            table.add_column(label)
        table.focus()
        self.data_changed()

    def action_back(self) -> None:
        self.app.pop_screen()

    def data_changed(self) -> None:
        app = self.sc_app
        if app.scorecard is None:
            return
        table = self.query_one(SourceTable)
        table.clear()
        for cells in source_rows(app.scorecard, app.now(), palette_of(app)):
            table.add_row(*cells)
        notes = Text()
        palette = palette_of(app)
        failed = app.scorecard.failed_sources()
        for name in failed:
            error = getattr(app.scorecard.statuses[name], "last_error", "")
            notes.append_text(literal(f"{name} failed: {error}", f"bold {palette.bad}"))
            notes.append("\n")
        if failed:
            notes.append(
                "A failed source never hides the others: its teams are flagged STALE and keep "
                "their last good data.\n",
                style="dim",
            )
        for name in sorted(app.scorecard.statuses):
            streams = stream_items(getattr(app.scorecard.statuses[name], "stats", None) or {})
            if streams:
                notes.append_text(literal(f"{name}: {streams}", "dim"))
                notes.append("\n")
        for name in sorted(app.scorecard.statuses):
            problems = getattr(app.scorecard.statuses[name], "problems", ()) or ()
            for problem in list(problems)[:5]:
                notes.append_text(literal(f"{name}: {problem}", "dim"))
                notes.append("\n")
        for notice in app.scorecard.notices:
            notes.append_text(literal(notice, palette_of(app).warn))
            notes.append("\n")
        if not app.scorecard.statuses:
            notes.append("No sources configured or synced yet.")
        notes.rstrip()
        self.query_one("#source-notes", Static).update(notes)
