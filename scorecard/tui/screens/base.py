"""What every full screen shares: the info bar, the busy bar, the footer, and the
messages a screen sends the app.

A screen draws from the :class:`~scorecard.tui.state.Shown` and
:class:`~scorecard.tui.state.Status` it was given (constructor, then
:meth:`ScorecardScreen.show` and :meth:`ScorecardScreen.show_status`), and asks
the app for things with messages (:class:`ScorecardScreen.TeamSelected`, ...);
it never reads the app's attributes. A screen pushed without state (``Opened``)
is handed the app's current state at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from scorecard.tui.state import Shown, Status
from scorecard.tui.widgets.busy import BusyBar
from scorecard.tui.widgets.infobar import InfoBar

if TYPE_CHECKING:
    from scorecard.service import Scorecard


CURSOR_KEYS = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]
"""j and k move like ↓ and ↑ in every list and table."""


class ScorecardScreen(Screen[Any]):
    """A full screen of the scorecard app."""

    class TeamSelected(Message):
        """The user chose a team to open."""

        def __init__(self, team: str) -> None:
            super().__init__()
            self.team = team

    class WindowChosen(Message):
        """The user chose another window length (days)."""

        def __init__(self, days: int) -> None:
            super().__init__()
            self.days = days

    class Opened(Message):
        """A screen was pushed without the app's state; the app answers with it."""

        def __init__(self, screen: ScorecardScreen) -> None:
            super().__init__()
            self.screen = screen

    def __init__(
        self, shown: Shown | None = None, status: Status | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.shown = shown or Shown()
        self.status = status or Status()
        self._given = shown is not None
        self._mounted = False

    def on_mount(self) -> None:
        self._mounted = True
        self.draw()
        if not self._given:
            self.post_message(self.Opened(self))

    def show(self, shown: Shown) -> None:
        """Draw ``shown`` from now on."""
        self.shown = shown
        self._given = True
        if self._mounted:
            self.draw()

    def show_status(self, status: Status) -> None:
        """Show ``status`` in the info bar and the busy bar."""
        self.status = status
        for bar in self.query(InfoBar):
            bar.header = status.header
        for busy in self.query(BusyBar):
            busy.busy = status.busy

    def draw(self) -> None:
        """Redraw from :attr:`shown` (while there is no scorecard, nothing changes)."""
        if self.shown.scorecard is not None:
            self.draw_scorecard(self.shown.scorecard)

    def draw_scorecard(self, scorecard: Scorecard) -> None:
        """Redraw ``scorecard`` (the screens override this)."""

    def action_back(self) -> None:
        self.app.pop_screen()

    def select_team(self, team: str) -> None:
        """Ask the app to open ``team``."""
        self.post_message(self.TeamSelected(team))
