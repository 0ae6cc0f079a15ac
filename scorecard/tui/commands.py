"""The command palette (ctrl+p): go to team, switch window, map, sources, export, refresh.

Prompts are built as ``rich.text.Text`` (never markup) because team names come
from source systems. Commands that write are only offered when the app binds them.
The app says what to offer through :class:`Menu` (``command_menu()``); choosing
a team or a window posts the same messages the screens post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from scorecard.request import WINDOW_CHOICES
from scorecard.tui.screens.base import ScorecardScreen
from scorecard.tui.widgets.text import safe_text

Command = tuple[str, Callable[[], object], str]
"""(title, what it does, help text)."""


@dataclass(frozen=True)
class Menu:
    """What the palette offers besides the fixed commands."""

    teams: tuple[str, ...] = ()
    export: bool = False
    refresh: tuple[str, str] | None = None
    """(label, help) of the refresh command; None when refresh is not bound."""


@runtime_checkable
class HasMenu(Protocol):
    """An app that says what its command palette offers."""

    def command_menu(self) -> Menu: ...


class ScorecardCommands(Provider):
    """Scorecard actions for the command palette."""

    def commands(self) -> list[Command]:
        """Every command on offer now."""
        app = self.app
        menu = app.command_menu() if isinstance(app, HasMenu) else Menu()
        out: list[Command] = [
            (
                f"Go to team: {safe_text(team)}",
                partial(app.post_message, ScorecardScreen.TeamSelected(team)),
                "Open its scorecard",
            )
            for team in menu.teams
        ]
        out.extend(
            (
                f"Switch window: {days} days",
                partial(app.post_message, ScorecardScreen.WindowChosen(days)),
                "Recompute every score over this window",
            )
            for days in WINDOW_CHOICES
        )
        out.append(
            ("Map: pressure vs rigor", partial(app.run_action, "map"), "Scatter of every team")
        )
        out.append(
            ("Sources: sync health", partial(app.run_action, "sources"), "Last sync, items, errors")
        )
        out.append(
            ("Teams: who owns what", partial(app.run_action, "teams"), "Origins, unassigned")
        )
        out.append(
            ("Trends: scores over months", partial(app.run_action, "trends"), "Key t; since a date")
        )
        out.append(
            ("Help: keys", partial(app.run_action, "help"), "Every key of the current screen")
        )
        if menu.export:
            out.append(
                ("Export…", partial(app.run_action, "export"), "CSV, JSON or Markdown to a file")
            )
        if menu.refresh is not None:
            label, help_text = menu.refresh
            out.append((f"{label} data", partial(app.run_action, "refresh"), help_text))
        return out

    async def discover(self) -> Hits:
        for title, command, help_text in self.commands():
            yield DiscoveryHit(Text(title), command, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text in self.commands():
            score = matcher.match(title)
            if score > 0:
                _, offsets = matcher.fuzzy_search.match(query, title)
                prompt = Text(title)
                for offset in offsets:
                    prompt.stylize("bold underline", offset, offset + 1)
                yield Hit(score, prompt, command, text=title, help=help_text)
