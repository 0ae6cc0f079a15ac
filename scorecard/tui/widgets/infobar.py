"""The top status line every screen shows: org, window, freshness, failures, [RO]/[RW]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.tui.app import ScorecardApp


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

    def on_mount(self) -> None:
        self.update_info()

    def update_info(self) -> None:
        app: ScorecardApp = self.app  # type: ignore[assignment]
        self.update(app.info_text())


def info_text(
    *,
    org: str | None,
    window_days: int | None,
    as_of: str | None,
    as_of_ago: str | None,
    synced_ago: str | None,
    failed: list[str],
    busy: str | None,
    stale_error: str | None,
    read_only: bool,
    demo: bool,
    palette_bad: str,
    palette_warn: str,
    pending: str | None = None,
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("[RO]" if read_only else "[RW]", style="bold reverse")
    text.append(" ")
    text.append_text(literal(org or "scorecard", "bold"))
    if demo and "demo" not in (org or "").casefold():
        text.append(" (demo data)", style="italic")
    if window_days:
        text.append(f" · {window_days}-day window")
    if as_of:
        text.append(f" · as of {as_of}")
        if as_of_ago:
            text.append(f" ({as_of_ago})")
    if pending:  # saved data on screen: say so next to its as-of
        text.append(" · ")
        text.append(pending, style=f"bold {palette_warn}")
    if synced_ago:
        text.append(f" · synced {synced_ago}")
    if failed:
        noun = "source" if len(failed) == 1 else "sources"
        text.append(" · ")
        text.append(f"⚠ {len(failed)} {noun} failed: ", style=f"bold {palette_bad}")
        text.append_text(literal(", ".join(failed), f"bold {palette_bad}"))
    if stale_error:
        text.append(" · ")
        text.append("STALE: ", style=f"bold {palette_warn}")
        text.append_text(literal(stale_error, palette_warn))
    if busy:
        text.append(" · ")
        text.append(busy, style="italic")
    return text
