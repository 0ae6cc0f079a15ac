"""The TUI's Teams view (SPEC §12): the team map with origins, opened by the
overview's `unassigned` row and the command palette (once)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scorecard import service
from scorecard.request import ScoreRequest
from scorecard.tui.app import ScorecardApp
from scorecard.tui.data import TuiOptions
from scorecard.tui.screens.overview import OverviewScreen
from scorecard.tui.screens.teams import TeamMapTable, TeamsScreen

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.chdir(tmp_path)


@cache
def demo(window: int | None) -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF, window_days=window))


def make_app() -> ScorecardApp:
    options = TuiOptions(demo=True, as_of=AS_OF)
    return ScorecardApp(options, now=lambda: AS_OF, loader=lambda r: demo(r.window_days))


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cells(screen: TeamsScreen) -> list[tuple[str, ...]]:
    table = screen.query_one(TeamMapTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_the_unassigned_row_opens_the_team_map() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        screen.select_team("unassigned")
        await settle(pilot)
        assert isinstance(app.screen, TeamsScreen)
        rows = cells(app.screen)
        config = demo(None).config
        expected = [(t.name, "repo", r, "teams") for t in config.teams for r in t.repos]
        assert expected[0] in rows and len(rows) >= len(expected)
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await app.run_action("teams")  # the palette's "Teams" command
        await app.run_action("teams")
        await settle(pilot)
        assert len([s for s in app.screen_stack if isinstance(s, TeamsScreen)]) == 1
