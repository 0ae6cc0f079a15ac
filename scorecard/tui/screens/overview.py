"""The overview: one row per team, flagged first, sortable and filterable."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Input, Static

from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.state import Rows, Shown, Status
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
        *CURSOR_KEYS,
    ]


class OverviewScreen(ScorecardScreen):
    """Every team at a glance."""

    BINDINGS = [
        Binding("enter", "open_team", "Open team", show=False),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, shown: Shown | None = None, status: Status | None = None) -> None:
        super().__init__(shown, status, id="overview")
        self.sort_key = "default"
        self.descending = False
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
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
        if self.shown.rows is None:
            table.loading = True  # saved rows, when there are any, are shown at once
        table.focus()

    # ----------------------------------------------------------------- drawing

    def _header_label(self, key: str) -> Text:
        column = COLUMN_BY_KEY[key]
        if key == self.sort_key:
            arrow = "▼" if self.descending else "▲"
            return Text(f" {column.label} {arrow}", style="bold")
        return Text(f" {column.label} ")

    def draw(self) -> None:
        table = self.query_one(TeamTable)
        if not table.columns:
            return  # not mounted yet: on_mount draws
        rows = self.shown.rows
        if rows is None:
            self._draw_without_rows(table)
            return
        self.query_one("#message", Static).display = False
        if table.loading:
            table.loading = False
            if self.focused is None or self.focused is table:
                table.focus()
            self.call_after_refresh(self.refresh_bindings)
        self._fill(table, rows)
        self.query_one(FiringNow).show(self.shown.extras, self.shown.palette)

    def _draw_without_rows(self, table: TeamTable) -> None:
        """No rows yet: the load error, or the loading indicator."""
        if self.shown.load_error:
            table.loading = False
            table.clear()  # saved rows, if any, are withdrawn with the error
            message = self.query_one("#message", Static)
            message.update(literal(f"Could not build the scorecard: {self.shown.load_error}"))
            message.display = True
        elif not table.loading:  # saved rows withdrawn: wait for the scorecard
            table.clear()
            table.loading = True

    def _fill(self, table: TeamTable, rows: Rows) -> None:
        """The teams that pass the filter, in the chosen order; the cursor stays put."""
        stale_all = self.shown.stale
        current = self.current_team()
        order = ordered_teams(rows, self.sort_key, self.descending)
        shown = [t for t in order if matches(t, team_flags(rows[t], stale_all), self.filter_text)]
        for column in table.columns.values():
            column.label = self._header_label(str(column.key.value))
        table.clear()
        for team in shown:
            table.add_row(
                *overview_cells(rows[team], self.shown.palette, stale=stale_all), key=team
            )
        if current in shown:
            table.move_cursor(row=shown.index(current), animate=False)
        table.refresh()
        self.query_one("#legend", Static).update(self._legend(len(shown), len(order)))

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
            self.select_team(team)

    @on(DataTable.RowSelected, "#teams")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.select_team(str(event.row_key.value))

    def action_sort(self) -> None:
        position = SORT_CYCLE.index(self.sort_key)
        self.sort_key = SORT_CYCLE[(position + 1) % len(SORT_CYCLE)]
        self.descending = (
            COLUMN_BY_KEY[self.sort_key].descending if self.sort_key != "default" else False
        )
        self.draw()

    def sort_by(self, key: str) -> None:
        if key == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key = key
            self.descending = COLUMN_BY_KEY[key].descending
        self.draw()

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
        self.draw()

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
            self.draw()
        self.query_one(TeamTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text) or self.query_one("#filter", Input).has_class("-open")
        return True
