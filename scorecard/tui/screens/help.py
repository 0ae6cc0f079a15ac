"""Every key the screen underneath responds to, with what it does."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# Keys the screen handles without a footer binding, explained for completeness.
EXTRA = {
    "overview": [
        ("↑/↓ j/k", "Move between teams"),
        ("click header", "Sort by that column"),
    ],
    "team": [("↑/↓ j/k", "Scroll")],
    "map": [("↑/↓ j/k", "Choose a team on the map")],
    "sources": [("↑/↓ j/k", "Move between sources")],
    "teams-map": [("↑/↓ j/k", "Move between rows")],
    "trends": [("↑/↓ j/k", "Every team's gap, or one team's scores")],
}
KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "escape": "esc",
    "enter": "enter",
    "ctrl+p": "ctrl+p",
}


def bindings_of(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(keys, description) for every shown binding active on ``screen``, one per action."""
    keys: dict[str, list[str]] = {}
    described: dict[str, str] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.show or not binding.description:
            continue
        if binding.action == "command_palette":
            continue  # explained below
        shown = binding.key_display or KEY_NAMES.get(key, key)
        keys.setdefault(binding.action, [])
        if shown not in keys[binding.action]:
            keys[binding.action].append(shown)
        described.setdefault(binding.action, binding.description)
    return [(" / ".join(keys[action]), described[action]) for action in keys]


class HelpScreen(ModalScreen[None]):
    """Keys of the current screen."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__(id="help")
        self.under_id = under.id or type(under).__name__
        self.keys = bindings_of(under)

    def compose(self) -> ComposeResult:
        text = Text()
        title = {
            "overview": "Overview",
            "team": "Team",
            "map": "Map",
            "sources": "Sources",
        }.get(self.under_id, self.under_id)
        text.append(f"Keys — {title} screen\n\n", style="bold")
        rows = [*self.keys, *EXTRA.get(self.under_id, [])]
        for key, description in rows:
            text.append(f"{key:>14}  ", style="bold")
            text.append(f"{description}\n")
        text.append(f"{'ctrl+p':>14}  ", style="bold")
        text.append("Command palette: go to team, switch window, and more\n")
        text.append(
            "\nBands: E elite · H high · M medium · L low (also spelled out on the team screen).\n"
            "Flags: OUTPACING gap ≥ 25 or velocity up while rigor declines · UNSTABLE "
            "change failure or recovery band low · ERODING a rigor metric declined · "
            "STALE a source failed or is old · NO DATA nothing to score.\n\n"
            "esc, ? or q closes this help.",
            style="dim",
        )
        with Vertical(id="help-box"):
            yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
