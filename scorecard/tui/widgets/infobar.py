"""The top status line every screen shows: org, window, freshness, failures, [RO]/[RW].

The line itself is built by :mod:`scorecard.tui.header`; this widget shows
whatever header it is given.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class InfoBar(Static):
    """One line: ``[RW] Acme · 30-day window · as of … (now) · synced … · ⚠ 1 source failed``."""

    DEFAULT_CSS = """
    InfoBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    header: reactive[Text] = reactive(Text, always_update=True, init=False)

    def __init__(self, header: Text | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        if header is not None:
            self.set_reactive(InfoBar.header, header)

    def on_mount(self) -> None:
        self.update(self.header)

    def watch_header(self, header: Text) -> None:
        self.update(header)
