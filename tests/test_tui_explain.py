"""The TUI's drill-down (SPEC §13): every number on the team screen opens its events.

``enter`` on a metric shows the rows `scorecard explain` prints; reasons and
flags open the metric they are about; the screen warns when so many incidents
are linked to no deploy that the change failure rate is likely understated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scorecard import service
from scorecard.request import ScoreRequest
from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.screens.explain import ExplainScreen
from scorecard.tui.screens.team import TeamScreen
from scorecard.tui.screens.team_links import (
    METRIC_ORDER,
    flag_metric,
    reason_metric,
    unlinked_warning,
)

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@cache
def demo() -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))


def make_app(card: service.Scorecard | None = None) -> ScorecardApp:
    options = TuiOptions(demo=True, as_of=AS_OF)
    return ScorecardApp(options, loader=lambda request: card or demo(), now=lambda: AS_OF)


async def settle(pilot: Any) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def team_screen(pilot: Any, team: str) -> TeamScreen:
    await settle(pilot)
    pilot.app.open_team(team)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TeamScreen)
    return screen


async def test_enter_on_a_metric_shows_the_rows_explain_prints() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await team_screen(pilot, "Payments")
        metrics = screen.query_one("#metrics")
        assert metrics.has_focus
        assert metrics.row_count == len(METRIC_ORDER)
        row = METRIC_ORDER.index("change_failure_rate")
        metrics.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, ExplainScreen)
        expected = service.explain(demo(), "Payments", "change_failure_rate")
        assert shown.found.value == expected.value
        table = shown.query_one("#explain-rows")
        assert table.row_count == len(expected.rows)
        first = [str(c) for c in table.get_row_at(0)]
        assert first[1] == expected.rows["id"].iloc[0] and first[5] == expected.rows["rule"].iloc[0]
        title = str(shown.query_one("#explain-title").render())
        assert title.startswith("Payments · change_failure_rate = ")
        await pilot.press("j")
        detail = str(shown.query_one("#explain-detail").render())
        assert detail == expected.rows["detail"].iloc[1]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_a_reason_or_a_flag_opens_the_metric_it_is_about() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await team_screen(pilot, "Payments")
        reasons = screen.query_one("#reasons")
        lines = str(reasons.render()).split("\n")
        line = next(i for i, r in enumerate(lines) if "canary share fell" in r)
        reasons.scroll_visible()
        await pilot.pause()
        await pilot.click("#reasons", offset=(4, line))
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, ExplainScreen)
        assert shown.found.metric == reason_metric(lines[line].removeprefix("• "))
        await pilot.press("escape")
        await settle(pilot)
        # the ERODING badge opens the first metric that declined (its first reason)
        screen.query_one("#title").scroll_visible()
        await pilot.pause()
        title = str(screen.query_one("#title").render())
        await pilot.click("#title", offset=(title.index("ERODING") + 1, 0))
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, ExplainScreen) and shown.found.metric == "canary_share"


def test_reasons_and_flags_name_their_metrics() -> None:
    assert reason_metric("deploys +48% vs previous 30 days while canary share fell") == (
        "velocity_trend"
    )
    assert reason_metric("eroding: coverage fell 80.0% → 74.5% (−5.5 pts)") == (
        "coverage_delta_pts"
    )
    assert reason_metric("change failure rate 60% (low: above 15%)") == "change_failure_rate"
    assert reason_metric("pressure 100 vs rigor 38: gap 62 (outpacing from 25)") is None
    assert reason_metric("ai changes: 35 deploys, 37% gated, change failure rate 11%") is None
    reasons = ["eroding: CI success fell 95% → 80%", "change failure rate 60% (low)"]
    assert flag_metric("eroding", reasons) == "ci_success_rate"
    assert flag_metric("unstable", reasons) == "change_failure_rate"
    assert flag_metric("stale", reasons) is None


async def test_the_link_metrics_show_and_a_third_unlinked_warns_of_understated_failures() -> None:
    card = demo()
    table = card.report.table.copy()
    table.loc["Checkout", ["incidents", "incidents_unlinked"]] = [6.0, 3.0]
    unlinked = replace(card, report=replace(card.report, table=table))
    assert unlinked_warning(table.loc["Checkout"]) is not None
    assert unlinked_warning(card.report.table.loc["Checkout"]) is None
    app = make_app(unlinked)
    async with app.run_test(size=SIZE) as pilot:
        screen = await team_screen(pilot, "Checkout")
        reasons = str(screen.query_one("#reasons").render())
        assert reasons.startswith("⚠ 3 of 6 incidents in the window are linked to no deploy")
        assert "change failure rate may be understated" in reasons
        metrics = screen.query_one("#metrics")
        labels = [str(metrics.get_row_at(i)[0]) for i in range(metrics.row_count)]
        assert labels[-2:] == ["Incidents linked to no deploy", "Detection time p50"]
        assert str(metrics.get_row_at(metrics.row_count - 2)[1]) == "3"
        detection = str(metrics.get_row_at(metrics.row_count - 1)[1])
        assert detection.endswith((" h", " min"))


def test_snapshot_explain_screen(snap_compare: Any) -> None:
    async def open_explanation(pilot: Any) -> None:
        screen = await team_screen(pilot, "Payments")
        screen.query_one("#metrics").move_cursor(row=METRIC_ORDER.index("change_failure_rate"))
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=open_explanation)
