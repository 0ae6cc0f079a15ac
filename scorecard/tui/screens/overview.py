"""The overview: one row per team, flagged first, sortable and filterable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from scorecard.tui.app import palette_of
from scorecard.tui.screens.base import BaseScreen
from scorecard.tui.view import (
    COLUMN_BY_KEY,
    LEGEND,
    OVERVIEW_COLUMNS,
    SORT_CYCLE,
    matches,
    ordered_teams,
    overview_cells,
    team_flags,
)
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.firing import FiringNow
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal


class TeamTable(DataTable[Text]):
    BINDINGS = [
        Binding("enter", "select_cursor", "Open team"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class OverviewScreen(BaseScreen):
    """Every team at a glance."""

    BINDINGS = [
        Binding("enter", "open_team", "Open team", show=False),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="overview")
        self.sort_key = "default"
        self.descending = False
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield InfoBar(id="info")
        yield BusyBar()
        yield Static("", id="message")
        yield FiringNow(id="firing")
        table = TeamTable(id="teams", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield table
        yield Static(Text(LEGEND), id="legend")
        yield Input(
            placeholder="filter by team name or flag (enter: keep, esc: clear)", id="filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(TeamTable)
        for column in OVERVIEW_COLUMNS:
            table.add_column(Text(f" {column.label} "), key=column.key)
        if self.sc_app.overview_rows() is None:
            table.loading = True  # saved rows, when there are any, are shown at once
        table.focus()
        self.data_changed()

    # ----------------------------------------------------------------- drawing

    def _header_label(self, key: str) -> Text:
        column = COLUMN_BY_KEY[key]
        if key == self.sort_key:
            arrow = "▼" if self.descending else "▲"
            return Text(f" {column.label} {arrow}", style="bold")
        return Text(f" {column.label} ")

    def data_changed(self) -> None:
        app = self.sc_app
        table = self.query_one(TeamTable)
        if not table.columns:
            return  # not mounted yet: on_mount draws
        message = self.query_one("#message", Static)
        rows = app.overview_rows()
        if rows is None:
            if app.load_error:
                table.loading = False
                table.clear()  # saved rows, if any, are withdrawn with the error
                message.update(literal(f"Could not build the scorecard: {app.load_error}"))
                message.display = True
            elif not table.loading:  # saved rows withdrawn: wait for the scorecard
                table.clear()
                table.loading = True
            return
        message.display = False
        if table.loading:
            table.loading = False
            if self.focused is None or self.focused is table:
                table.focus()
            self.call_after_refresh(self.refresh_bindings)
        palette = palette_of(app)
        stale_all = app.stale_error is not None
        current = self.current_team()
        order = ordered_teams(rows, self.sort_key, self.descending)
        shown = [t for t in order if matches(t, team_flags(rows[t], stale_all), self.filter_text)]
        for column in table.columns.values():
            column.label = self._header_label(str(column.key.value))
        table.clear()
        for team in shown:
            table.add_row(*overview_cells(rows[team], palette, stale=stale_all), key=team)
        if current in shown:
            table.move_cursor(row=shown.index(current), animate=False)
        table.refresh()
        self.query_one("#legend", Static).update(self._legend(len(shown), len(order)))
        self.query_one(FiringNow).show(app, palette)

    def _legend(self, shown: int, total: int) -> Text:
        text = Text(LEGEND, style="dim")
        direction = "descending" if self.descending else "ascending"
        sort = (
            "flagged first, widest gap"
            if self.sort_key == "default"
            else f"{COLUMN_BY_KEY[self.sort_key].label} {direction}"
        )
        text.append(f"\nsorted by {sort}", style="dim")
        if self.filter_text:
            text.append(" · filter ", style="dim")
            text.append_text(literal(self.filter_text, "bold"))
            text.append(f": {shown} of {total} teams", style="dim")
        return text

    def current_team(self) -> str | None:
        table = self.query_one(TeamTable)
        if table.row_count == 0:
            return None
        try:
            key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:
            return None
        return str(key.value) if key.value is not None else None

    def visible_teams(self) -> list[str]:
        table = self.query_one(TeamTable)
        return [str(row.key.value) for row in table.ordered_rows]

    # ----------------------------------------------------------------- actions

    def action_open_team(self) -> None:
        team = self.current_team()
        if team is not None:
            self.sc_app.open_team(team)

    @on(DataTable.RowSelected, "#teams")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.sc_app.open_team(str(event.row_key.value))

    def action_sort(self) -> None:
        position = SORT_CYCLE.index(self.sort_key)
        self.sort_key = SORT_CYCLE[(position + 1) % len(SORT_CYCLE)]
        self.descending = (
            COLUMN_BY_KEY[self.sort_key].descending if self.sort_key != "default" else False
        )
        self.data_changed()

    def sort_by(self, key: str) -> None:
        if key == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key = key
            self.descending = COLUMN_BY_KEY[key].descending
        self.data_changed()

    @on(DataTable.HeaderSelected, "#teams")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-open")
        if box.value != self.filter_text:
            box.value = self.filter_text
        box.focus()
        self.call_after_refresh(box.action_end)  # keep editing, don't replace

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.data_changed()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.filter_text = event.value
        box = self.query_one("#filter", Input)
        if not self.filter_text:
            box.remove_class("-open")
        self.query_one(TeamTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-open")
        if self.filter_text or box.value:
            box.value = ""
            self.filter_text = ""
            self.data_changed()
        self.query_one(TeamTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text) or self.query_one("#filter", Input).has_class("-open")
        return True
