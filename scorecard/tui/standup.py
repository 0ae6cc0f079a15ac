"""The standup view (SPEC §8): one team at a time, in large type, on a shared screen.

``scorecard standup`` is always read-only: it reads the cache (or, with
``--live``, fetches into memory), binds no action that writes, and offers no
command palette. Cards rotate every ``interval`` seconds, flagged teams first;
``space`` pauses, ``n``/``p`` step, ``q`` quits.

The cards are built as plain data (:mod:`scorecard.tui.cards`) from a scored
report, in a worker thread; the screen is handed a
:class:`~scorecard.tui.cards.Rotation` whenever it changes and only lays out
strings and numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from scorecard.request import utcnow
from scorecard.tui.cards import Card, Rotation, build_cards, resolve_teams
from scorecard.tui.header import About, Doing, header_text
from scorecard.tui.palette import palette_of
from scorecard.tui.screens.standup import StandupScreen
from scorecard.tui.threads import from_thread
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from datetime import datetime

    from rich.text import Text

    from scorecard.service import Scorecard

__all__ = ["StandupApp", "StandupOptions", "build_cards", "resolve_teams", "run_standup"]

DEFAULT_INTERVAL: Final = 15.0

StandupLoader = Callable[[], "Scorecard"]


# --------------------------------------------------------------------------- the app


@dataclass
class StandupOptions:
    """How the command line started the standup view."""

    interval: float = DEFAULT_INTERVAL
    teams: tuple[str, ...] = ()
    live: bool = False


class StandupApp(App[int]):
    """A read-only, rotating standup view: one team card at a time."""

    CSS_PATH = "scorecard.tcss"
    TITLE = "scorecard standup"
    ENABLE_COMMAND_PALETTE = False  # a shared screen offers nothing beyond its keys
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume", key_display="space"),
        Binding("n", "next", "Next"),
        Binding("p", "previous", "Previous"),
        Binding("right", "next", "Next", show=False),
        Binding("left", "previous", "Previous", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        loader: StandupLoader,
        options: StandupOptions | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.options = options or StandupOptions()
        self.loader = loader
        self.now = now or utcnow
        self.read_only = True  # always: standup never writes
        self.interval = max(float(self.options.interval), 0.05)
        self.scorecard: Scorecard | None = None
        self.cards: list[Card] = []
        self.index = 0
        self.paused = False
        self.busy: str | None = "fetching live data…" if self.options.live else "reading cache…"
        self.load_error: str | None = None
        self.rotations = 0
        self._timer: Any = None

    # ----------------------------------------------------------------- lifecycle

    def get_default_screen(self) -> Screen[Any]:
        return StandupScreen(self.rotation())

    def on_mount(self) -> None:
        self._load()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                continue  # writes a file
            yield command

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("screenshot", "command_palette"):
            return False  # standup writes nothing and offers no palette
        return super().check_action(action, parameters)

    @work(thread=True, exclusive=True, group="data")
    def _load(self) -> None:
        worker = get_current_worker()
        try:
            scorecard = self.loader()
            cards = build_cards(scorecard, self.now(), self.options.teams)
        except Exception as exc:  # shown on screen, never a crash
            if not worker.is_cancelled:
                message = safe_text(str(exc) or type(exc).__name__)
                from_thread(self, self._on_failed, message)
            return
        if not worker.is_cancelled:
            from_thread(self, self._on_loaded, scorecard, cards)

    def _on_loaded(self, scorecard: Scorecard, cards: list[Card]) -> None:
        self.scorecard = scorecard
        self.cards = cards
        self.busy = None
        self.index = 0
        for notice in scorecard.notices:
            self.notify(safe_text(notice), title="Cache", markup=False, timeout=8)
        if len(cards) > 1:
            self._timer = self.set_interval(self.interval, self._rotate, pause=self.paused)
        self._redraw()

    def _on_failed(self, message: str) -> None:
        self.busy = None
        self.load_error = message
        self._redraw()

    def _redraw(self) -> None:
        if isinstance(self.screen, StandupScreen):
            self.screen.show(self.rotation())

    @property
    def card(self) -> Card | None:
        return self.cards[self.index] if self.cards else None

    def rotation(self) -> Rotation:
        """What the screen shows now."""
        sc = self.scorecard
        return Rotation(
            header=self.info_text(),
            palette=palette_of(self),
            cards=tuple(self.cards),
            index=self.index,
            paused=self.paused,
            interval=self.interval,
            window_days=int(sc.report.window_days) if sc is not None else None,
            busy=self.busy,
            load_error=self.load_error,
        )

    def info_text(self) -> Text:
        """The header line (see :mod:`scorecard.tui.header`)."""
        sc = self.scorecard
        about = About.of_scorecard(sc) if sc is not None else About()
        doing = Doing(read_only=True, busy=self.busy, live=self.options.live)
        return header_text(about, doing, now=self.now(), palette=palette_of(self))

    # ----------------------------------------------------------------- actions

    def _rotate(self) -> None:
        if self.paused or len(self.cards) < 2:
            return
        self.rotations += 1
        self.index = (self.index + 1) % len(self.cards)
        self._redraw()

    def step(self, delta: int) -> None:
        if not self.cards:
            return
        self.index = (self.index + delta) % len(self.cards)
        if self._timer is not None:
            self._timer.reset()  # the new card gets a full interval
            if self.paused:
                self._timer.pause()
        self._redraw()

    def action_next(self) -> None:
        self.step(1)

    def action_previous(self) -> None:
        self.step(-1)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self._timer is not None:
            if self.paused:
                self._timer.pause()
            else:
                self._timer.reset()
        self._redraw()


def run_standup(loader: StandupLoader, options: StandupOptions) -> int:
    """Run the standup view until the user quits; the process exit code."""
    app = StandupApp(loader, options)
    result = app.run()
    return int(result or 0) if isinstance(result, int) else int(app.return_code or 0)
