"""A progress line shown while a worker loads, recomputes or refreshes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

if TYPE_CHECKING:
    from scorecard.tui.app import ScorecardApp


class BusyBar(Horizontal):
    DEFAULT_CSS = """
    BusyBar { height: 1; display: none; padding: 0 1; }
    BusyBar.-busy { display: block; }
    BusyBar Label { width: auto; max-width: 60; margin-right: 2; }
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="busy-label", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="busy-progress")

    def on_mount(self) -> None:
        self.sync()

    def sync(self) -> None:
        app: ScorecardApp = self.app  # type: ignore[assignment]
        busy = app.busy
        self.set_class(busy is not None, "-busy")
        if busy is None:
            return
        self.query_one("#busy-label", Label).update(busy)
        bar = self.query_one("#busy-progress", ProgressBar)
        done, total = app.progress or (0.0, None)
        bar.update(total=total, progress=min(done, total) if total else done)
