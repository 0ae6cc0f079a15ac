"""The Trends screen (`t`): a year of snapshots draws at once; weeks without one are
recomputed from events and marked; one team's scores; changes since a chosen date."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Input

from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.screens.trends import TrendsScreen
from scorecard.tui.widgets.trend_chart import TrendChart
from tests.test_snapshots import AS_OF, TODAY, demo_card, seed_snapshots, year_of_days

SIZE = (140, 42)


def app_on(root: Path) -> ScorecardApp:
    """The TUI on a cache at ``root`` (read-only), its scorecard the demo's."""
    card = demo_card()
    options = TuiOptions(config=card.config, read_only=True, as_of=AS_OF, store_root=root)
    return ScorecardApp(options, loader=lambda request: card, now=lambda: AS_OF)


async def open_trends(pilot: Any) -> TrendsScreen:
    app = pilot.app
    while app.scorecard is None:
        await pilot.pause(0.05)
    await pilot.press("t")
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TrendsScreen)
    return screen


def text_of(screen: TrendsScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_a_year_of_snapshots_draws_every_teams_gap_at_once(tmp_path: Path) -> None:
    seed_snapshots(tmp_path, demo_card(), year_of_days())
    app = app_on(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        started = time.monotonic()
        screen = await open_trends(pilot)
        took = time.monotonic() - started
        chart = screen.query_one(TrendChart)
        assert took < 3
        assert screen.history is not None and screen.history.recomputed_share() == 0
        assert len(chart.lines) == 10 and len(chart.labels) == 366  # a year and today
        assert chart.labels[0] == (TODAY - timedelta(days=365)).isoformat()
        assert "3650 snapshot points, 0 recomputed" in text_of(screen, "#trends-title")
        since = text_of(screen, "#trends-since-text")
        assert since.startswith("Since 2026-10-29") and "Payments: grade D, gap +" in since

        await pilot.press("p")  # 12 -> 24 months: the snapshots read again
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.months == 24 and len(chart.labels) == 366  # there is no older one
        await pilot.press("down", "enter")  # Payments
        await pilot.pause()
        assert [line.name for line in chart.lines] == ["pressure", "rigor", "stability", "gap"]
        assert text_of(screen, "#trends-notes").startswith("Grade B (2025-11-26) → ")

        await pilot.press("c")  # focus the date, choose another, enter
        field = screen.query_one("#trends-since", Input)
        assert field.has_focus
        field.value = "2026-06-01"
        await pilot.press("enter")
        await pilot.pause()
        assert text_of(screen, "#trends-since-text").startswith(
            "Since 2026-06-01\nPayments: C → D, gap +50 → +70, new flag eroding"
        )


async def test_weeks_without_a_snapshot_are_recomputed_and_marked(tmp_path: Path) -> None:
    seed_snapshots(tmp_path, demo_card(), year_of_days(TODAY - timedelta(days=28), 337))
    app = app_on(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_trends(pilot)
        chart = screen.query_one(TrendChart)
        assert "30 recomputed from events (x)" in text_of(screen, "#trends-title")
        recomputed = {chart.labels[i] for line in chart.lines for i in line.recomputed}
        assert recomputed == {(TODAY - timedelta(days=k)).isoformat() for k in (21, 14, 7)}


async def test_closing_the_screen_stops_the_recompute(tmp_path: Path) -> None:
    app = app_on(tmp_path)  # no snapshots: every reachable week is recomputed
    async with app.run_test(size=SIZE) as pilot:
        while app.scorecard is None:
            await pilot.pause(0.05)
        await pilot.press("t")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, TrendsScreen)
        await pilot.press("escape")
        started = time.monotonic()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert time.monotonic() - started < 2  # not the ~17 weeks of the demo
        assert type(app.screen).__name__ == "OverviewScreen" and app.is_running
