"""Pressure (x) vs rigor (y) for every team, with the outpacing zone marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from scorecard.tui.screens.base import CURSOR_KEYS, ScorecardScreen
from scorecard.tui.state import Shown, Status
from scorecard.tui.view import sorted_teams, value
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.scatter import Point, ScatterPlot, marker
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.service import Scorecard


class TeamList(OptionList):
    BINDINGS = [
        Binding("enter", "select", "Open team"),
        *CURSOR_KEYS,
    ]


class MapScreen(ScorecardScreen):
    """Where each team sits: shipping pressure against engineering rigor."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open_team", "Open team", show=False),
    ]

    def __init__(self, shown: Shown | None = None, status: Status | None = None) -> None:
        super().__init__(shown, status, id="map")
        self.teams: list[str] = []

    def compose(self) -> ComposeResult:
        yield InfoBar(self.status.header, id="info")
        yield BusyBar(self.status.busy)
        with Horizontal(id="map-body"):
            yield ScatterPlot(id="plot")
            with Vertical(id="map-side"):
                yield Static("Teams (↑/↓, enter opens)", classes="section")
                yield TeamList(id="map-teams")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TeamList).focus()

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        table = scorecard.report.table
        self.teams = [
            t
            for t in sorted_teams(table)
            if value(table.loc[t], "pressure") is not None
            and value(table.loc[t], "rigor") is not None
        ]
        points = [
            Point(
                name=t,
                pressure=float(value(table.loc[t], "pressure")),
                rigor=float(value(table.loc[t], "rigor")),
                flagged=bool(table.loc[t, "flags"]),
            )
            for t in self.teams
        ]
        plot = self.query_one(ScatterPlot)
        plot.set_points(points, self.shown.palette)
        options = self.query_one(TeamList)
        highlighted = options.highlighted
        self._list(options, points, [str(t) for t in table.index if t not in self.teams])
        if points:
            options.highlighted = (
                highlighted if highlighted is not None and highlighted < len(points) else 0
            )
            plot.selected = options.highlighted

    def _list(self, options: TeamList, points: list[Point], missing: list[str]) -> None:
        """One option per plotted team (marker, name, scores), then the unplotted ones."""
        palette = self.shown.palette
        options.clear_options()
        for i, p in enumerate(points):
            gap = p.pressure - p.rigor
            style = f"bold {palette.bad}" if gap >= 25 else ""
            prompt = Text(f"{marker(i)} ", style=f"bold {palette.bad if p.flagged else palette.ok}")
            prompt.append_text(literal(p.name[:18].ljust(18), style))
            prompt.append(f" P{p.pressure:>3.0f} R{p.rigor:>3.0f}")
            options.add_option(Option(prompt, id=f"team-{i}"))
        if missing:
            note = Text("not plotted (no score): ", style="dim")
            note.append_text(literal(", ".join(missing), "dim"))
            options.add_option(None)
            options.add_option(Option(note, disabled=True))

    @on(OptionList.OptionHighlighted, "#map-teams")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one(ScatterPlot).selected = event.option_index

    @on(OptionList.OptionSelected, "#map-teams")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.teams):
            self.select_team(self.teams[event.option_index])

    def action_open_team(self) -> None:
        index = self.query_one(TeamList).highlighted
        if index is not None and 0 <= index < len(self.teams):
            self.select_team(self.teams[index])
