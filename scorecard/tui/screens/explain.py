"""The events behind one number (SPEC §13): the TUI's `scorecard explain`.

Opened from the team screen (``enter`` on a metric, or a click on a reason or a
flag), it shows the same rows as ``scorecard explain TEAM METRIC``: one event
per row with ``counted``, ``value``, the one-word ``rule`` and the ``detail``
naming the linked ids, in a scrollable table; the highlighted row's detail is
shown in full below it. Ids and details hold text from sources: shown literally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from scorecard.text import has_value, num
from scorecard.tui.screens.base import CURSOR_KEYS
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.metrics import Explanation
    from scorecard.tui.palette import Palette

__all__ = ["ExplainScreen", "headline"]

COLUMNS = ("Kind", "Id", "At (UTC)", "Counted", "Value", "Rule", "Detail")
DETAIL_WIDTH = 90
"""Characters of the detail shown in the table; the highlighted row's is shown in full."""


class RowTable(DataTable[Text]):
    """The explanation's rows; j/k move like the arrows."""

    BINDINGS = [*CURSOR_KEYS]


def headline(found: Explanation) -> Text:
    """``Payments · change_failure_rate = 0.25`` and how the rows make it."""
    counted = int(found.rows["counted"].sum())
    shown = num(found.value, 4) if has_value(found.value) else "empty"
    text = Text()
    text.append_text(literal(found.team, "bold"))
    text.append(f" · {found.metric} = {shown}", style="bold")
    text.append(
        f"\n{found.start:%Y-%m-%d} to {found.end:%Y-%m-%d %H:%M} UTC ({found.window_days} days): "
        f"{counted} of {len(found.rows)} rows counted; the metric is {found.how}."
    )
    if not found.covered and found.aggregate in ("count", "per_day", "deploy_days", "trend"):
        text.append("\nEmpty: no synced source delivering these events covers the team.")
    return text


def _cells(row: Any, palette: Palette) -> list[Text]:
    at = row.at
    value = row.value
    detail = str(row.detail) if isinstance(row.detail, str) else ""
    short = detail if len(detail) <= DETAIL_WIDTH else detail[: DETAIL_WIDTH - 1] + "…"
    return [
        Text(str(row.kind)),
        literal("—" if row.id is None or not has_value(row.id) else row.id),
        Text("—" if not has_value(at) else f"{at:%Y-%m-%d %H:%M}"),
        Text("yes", style=palette.good) if row.counted else Text("no", style=palette.muted),
        Text(num(value, 2) if has_value(value) else "—"),
        literal(row.rule if isinstance(row.rule, str) else "—", "bold"),
        literal(short),
    ]


class ExplainScreen(Screen[None]):
    """One metric of one team, taken apart into its events."""

    BINDINGS = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    ExplainScreen #explain-title { height: auto; padding: 0 1 1 1; }
    ExplainScreen #explain-rows { height: 1fr; }
    ExplainScreen #explain-detail { height: auto; max-height: 5; padding: 1 1 0 1; }
    """

    def __init__(self, found: Explanation, palette: Palette) -> None:
        super().__init__(id="explain")
        self.found = found
        self.palette = palette

    def compose(self) -> ComposeResult:
        yield Static(headline(self.found), id="explain-title")
        table = RowTable(id="explain-rows", cursor_type="row", zebra_stripes=True)
        for label in COLUMNS:
            table.add_column(label)
        for row in self.found.rows.itertuples(index=False):
            table.add_row(*_cells(row, self.palette))
        yield table
        yield Static("", id="explain-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.focus()
        if not len(self.found.rows):
            self.query_one("#explain-detail", Static).update(Text("No events in the window."))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        rows = self.found.rows
        if 0 <= event.cursor_row < len(rows):
            detail = rows["detail"].iloc[event.cursor_row]
            text = literal(detail if isinstance(detail, str) else "")
            text.no_wrap = False
            self.query_one("#explain-detail", Static).update(text)

    def action_back(self) -> None:
        self.app.pop_screen()
