"""A progress line shown while a worker loads, recomputes or refreshes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar

from scorecard.tui.state import Busy


class BusyBar(Horizontal):
    """The busy label and a progress bar; hidden while nothing runs."""

    DEFAULT_CSS = """
    BusyBar { height: 1; display: none; padding: 0 1; }
    BusyBar.-busy { display: block; }
    BusyBar Label { width: auto; max-width: 60; margin-right: 2; }
    """

    busy: reactive[Busy | None] = reactive(None, always_update=True, init=False)

    def __init__(self, busy: Busy | None = None) -> None:
        super().__init__()
        self.set_reactive(BusyBar.busy, busy)

    def compose(self) -> ComposeResult:
        yield Label("", id="busy-label", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="busy-progress")

    def on_mount(self) -> None:
        self.watch_busy(self.busy)

    def watch_busy(self, busy: Busy | None) -> None:
        self.set_class(busy is not None, "-busy")
        if busy is None:
            return
        for label in self.query("#busy-label").results(Label):
            label.update(busy.label)
        done, total = busy.done, busy.total
        for bar in self.query("#busy-progress").results(ProgressBar):
            bar.update(total=total, progress=min(done, total) if total else done)
