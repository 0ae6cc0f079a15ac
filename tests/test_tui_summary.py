"""The TUI's fast start: the saved overview summary is shown until the scorecard arrives."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scorecard import service, summary
from scorecard.request import ScoreRequest
from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.screens.overview import TeamTable
from scorecard.tui.screens.team import TeamScreen
from scorecard.tui.view import overview_cells
from tests.test_tui import AS_OF, SIZE, demo, load_demo, overview, screen_text, settle

LATER = AS_OF + timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.chdir(tmp_path)


def make_app(loader: Any = None, *, read_only: bool = False, now: datetime = LATER) -> ScorecardApp:
    options = TuiOptions(demo=True, as_of=AS_OF, read_only=read_only)
    return ScorecardApp(options, loader=loader or load_demo, now=lambda: now)


def save_summary() -> Path:
    path = make_app().summary_file(None)
    assert path is not None
    summary.write(path, service.overview_summary(demo(None)))
    return path


def gated() -> tuple[threading.Event, Any]:
    gate = threading.Event()

    def slow(request: ScoreRequest) -> service.Scorecard:
        gate.wait(10)
        return load_demo(request)

    return gate, slow


def table_cells(app: ScorecardApp) -> list[list[tuple[str, str]]]:
    table = app.screen.query_one(TeamTable)
    return [[(c.plain, str(c.spans)) for c in table.get_row(row.key)] for row in table.ordered_rows]


async def test_saved_summary_paints_at_once_then_the_scorecard_replaces_it() -> None:
    save_summary()
    gate, slow = gated()
    app = make_app(slow)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TeamTable)
        assert not table.loading
        assert table.row_count == 10
        assert app.scorecard is None
        text = screen_text(app)
        assert "as of 2026-11-26 12:00 UTC (5 minutes ago)" in text
        assert "updating…" in text
        assert "1 source failed: gitlab" in app.info_text().plain
        early = table_cells(app)
        teams = overview(app).visible_teams()
        assert teams[0] == "Ranker"
        # drill-down waits for the real data
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, TeamScreen)
        assert any("still loading" in str(n.message) for n in app._notifications)
        gate.set()
        await settle(pilot)
        assert app.scorecard is not None
        assert "updating…" not in screen_text(app)
        assert table_cells(app) == early  # the same data paints the same rows
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)


async def test_sort_and_filter_work_on_saved_rows() -> None:
    save_summary()
    gate, slow = gated()
    app = make_app(slow)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"payments", "enter")
        await pilot.pause()
        assert overview(app).visible_teams() == ["Payments"]
        gate.set()
        await settle(pilot)
        assert overview(app).visible_teams() == ["Payments"]


async def test_the_app_saves_the_summary_after_loading() -> None:
    app = make_app()
    path = app.summary_file(None)
    assert path is not None and not path.exists()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    saved = summary.read(path)
    assert saved is not None
    assert saved.as_of == AS_OF
    palette_rows = summary.rows_from_report(demo(None).report)
    assert saved.rows == palette_rows


async def test_read_only_reads_the_summary_and_writes_nothing(tmp_path: Path) -> None:
    path = save_summary()
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")}
    gate, slow = gated()
    app = make_app(slow, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one(TeamTable).row_count == 10
        assert "[RO]" in screen_text(app)
        gate.set()
        await settle(pilot)
        assert app.scorecard is not None
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")}
    assert after == before
    assert path.exists()


async def test_read_only_without_a_summary_creates_none(tmp_path: Path) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.scorecard is not None
    assert not (tmp_path / "cache").exists()


async def test_corrupt_summary_falls_back_to_the_loading_indicator() -> None:
    path = save_summary()
    path.write_text("{broken", encoding="utf-8")
    gate, slow = gated()
    app = make_app(slow)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TeamTable)
        assert table.loading
        assert "loading scorecard" in screen_text(app)
        gate.set()
        await settle(pilot)
        assert table.row_count == 10
    assert summary.read(path) is not None  # replaced by a good one


async def test_failed_load_withdraws_the_saved_rows() -> None:
    save_summary()

    def broken(request: ScoreRequest) -> service.Scorecard:
        raise RuntimeError("cache unreadable")

    app = make_app(broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.summary is None
        assert app.screen.query_one(TeamTable).row_count == 0
        assert "Could not build the scorecard: cache unreadable" in screen_text(app)


async def test_window_switch_drops_rows_of_another_window() -> None:
    save_summary()
    gate, slow = gated()
    app = make_app(slow)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one(TeamTable).row_count == 10
        await pilot.press("w")
        await pilot.pause()
        table = app.screen.query_one(TeamTable)
        assert table.loading
        assert table.row_count == 0
        gate.set()
        await settle(pilot)
        assert app.window_days == 90
        assert table.row_count == 10


def test_overview_cells_from_report_rows_and_saved_rows_agree(tmp_path: Path) -> None:
    from scorecard.tui.palette import Palette

    palette = Palette.from_variables({})
    path = tmp_path / "s.json"
    summary.write(path, service.overview_summary(demo(None)))
    saved = summary.read(path)
    assert saved is not None
    fresh = summary.rows_from_report(demo(None).report)
    for team, row in fresh.items():
        a = overview_cells(row, palette, stale=True)
        b = overview_cells(saved.rows[team], palette, stale=True)
        assert [(c.plain, c.spans) for c in a] == [(c.plain, c.spans) for c in b]


def test_packaged_demo_summary_is_current() -> None:
    """scripts/demo_summary.py regenerates it after demo, metrics or scoring changes."""
    shipped = summary.packaged_demo()
    assert shipped is not None
    fresh = service.overview_summary(
        service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF)), generated_at=AS_OF
    )
    assert shipped.as_of == AS_OF
    assert shipped.rows == {row["team"]: row for row in fresh["teams"]}


async def test_first_demo_start_paints_the_packaged_summary() -> None:
    gate, slow = gated()
    app = ScorecardApp(TuiOptions(demo=True), loader=slow, now=lambda: LATER)
    assert app.summary_file(None) is not None and not app.summary_file(None).exists()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.scorecard is None and app.summary is not None
        assert app.summary.as_of == AS_OF
        assert "updating" in screen_text(app)
        assert app.screen.query_one(TeamTable).row_count == 10
        gate.set()
        await settle(pilot)
        assert app.scorecard is not None
