"""The command palette (ctrl+p): go to team, switch window, map, sources, export, refresh.

Prompts are built as ``rich.text.Text`` (never markup) because team names come
from source systems. Commands that write are only offered when the app binds them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from scorecard.tui.view import WINDOWS
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from scorecard.tui.app import ScorecardApp


class ScorecardCommands(Provider):
    """Scorecard actions for the command palette."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: ScorecardApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, Callable[[], object], str]] = []
        for team in app.team_names():
            out.append(
                (
                    f"Go to team: {safe_text(team)}",
                    partial(app.open_team, team),
                    "Open its scorecard",
                )
            )
        for days in WINDOWS:
            out.append(
                (
                    f"Switch window: {days} days",
                    partial(app.switch_window, days),
                    "Recompute every score over this window",
                )
            )
        out.append(("Map: pressure vs rigor", app.action_map, "Scatter of every team"))
        out.append(("Sources: sync health", app.action_sources, "Last sync, items, errors"))
        out.append(("Help: keys", app.action_help, "Every key of the current screen"))
        if app.can_export:
            out.append(("Export…", app.action_export, "CSV, JSON or Markdown to a file"))
        if app.refresher is not None:
            out.append((f"{app.refresh_label} data", app.action_refresh, app.refresh_help))
        return out

    async def discover(self) -> Hits:
        for title, command, help_text in self._commands():
            yield DiscoveryHit(Text(title), command, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                _, offsets = matcher.fuzzy_search.match(query, title)
                prompt = Text(title)
                for offset in offsets:
                    prompt.stylize("bold underline", offset, offset + 1)
                yield Hit(score, prompt, command, text=title, help=help_text)
