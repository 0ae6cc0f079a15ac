"""What every full screen shares: the info bar, the busy bar and the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from scorecard.tui.widgets.busy import BusyBar

if TYPE_CHECKING:
    from scorecard.tui.app import ScorecardApp


class BaseScreen(Screen[Any]):
    @property
    def sc_app(self) -> ScorecardApp:
        return self.app  # type: ignore[return-value]

    def update_busy(self) -> None:
        for bar in self.query(BusyBar):
            bar.sync()

    def data_changed(self) -> None:
        """The app's scorecard (or theme) changed: redraw."""
