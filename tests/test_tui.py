"""Pilot tests for the TUI: every key, every screen, failures and read-only."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandPalette

from scorecard import config, export, model, service
from scorecard.request import ScoreRequest
from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.commands import ScorecardCommands
from scorecard.tui.palette import Palette
from scorecard.tui.screens.export import ExportScreen
from scorecard.tui.screens.help import HelpScreen
from scorecard.tui.screens.map import MapScreen
from scorecard.tui.screens.overview import OverviewScreen, TeamTable
from scorecard.tui.screens.sources import SourcesScreen
from scorecard.tui.screens.team import TeamScreen
from scorecard.tui.widgets.charts import gap_bar, sparkline
from scorecard.tui.widgets.scatter import Point, plot
from scorecard.tui.widgets.text import literal, safe_text
from tests.source_config import source_config

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


def load_demo(request: ScoreRequest) -> service.Scorecard:
    """The app's loader: the demo org over the request's window."""
    return demo(request.window_days)


def make_app(**kwargs: Any) -> ScorecardApp:
    options = kwargs.pop("options", None) or TuiOptions(
        demo=True, as_of=AS_OF, read_only=kwargs.pop("read_only", False)
    )
    kwargs.setdefault("loader", load_demo)
    return ScorecardApp(options, now=lambda: AS_OF, **kwargs)


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: ScorecardApp) -> str:
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def overview(app: ScorecardApp) -> OverviewScreen:
    screen = app.screen
    assert isinstance(screen, OverviewScreen)
    return screen


# --------------------------------------------------------------------------- overview


async def test_overview_loads_flagged_first_with_header() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        teams = overview(app).visible_teams()
        assert len(teams) == 10
        flagged = [t for t in teams if demo(None).report.table.loc[t, "flags"]]
        assert teams[: len(flagged)] == flagged
        assert teams[0] == "Ranker"
        text = screen_text(app)
        assert "[RW]" in text
        assert "Acme (demo)" in text
        assert "30-day window" in text
        assert "as of 2026-11-26 12:00 UTC (now)" in text
        assert "1 source failed: gitlab" in text
        assert "OUTPACING" in text
        # the footer shows the main keys
        for label in ("Filter", "Sort", "Quit", "Help", "Map", "Window", "Export", "Regenerate"):
            assert label in text


async def test_app_paints_before_the_scorecard_arrives() -> None:
    import threading

    gate = threading.Event()

    def slow(request: ScoreRequest) -> service.Scorecard:
        gate.wait(5)
        return load_demo(request)

    app = make_app(loader=slow)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(TeamTable)
        assert table.loading
        assert "loading scorecard" in screen_text(app)
        gate.set()
        await settle(pilot)
        assert not table.loading
        assert table.row_count == 10


async def test_jk_and_arrows_move_and_enter_opens_team_esc_returns() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TeamTable)
        assert table.cursor_row == 0
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("down")
        assert table.cursor_row == 2
        await pilot.press("k", "up")
        assert table.cursor_row == 0
        await pilot.press("j", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)
        assert app.screen.team == "Payments"
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert overview(app).current_team() == "Payments"


async def test_s_cycles_sort_and_header_click_sorts() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = overview(app)
        await pilot.press("s")
        assert screen.sort_key == "team"
        assert screen.visible_teams()[0] == "Checkout"
        await pilot.press("s")
        assert screen.sort_key == "grade"
        assert demo(None).report.table.loc[screen.visible_teams()[0], "grade"] == "A"
        # click the "Canary" header: x is the sum of the widths before it
        table = screen.query_one(TeamTable)
        x = 0
        for key, column in table.columns.items():
            if key.value == "canary":
                break
            x += column.get_render_width(table)
        await pilot.click(TeamTable, offset=(x + 2, 0))
        await pilot.pause()
        assert screen.sort_key == "canary"
        canary = [demo(None).report.table.loc[t, "canary_share"] for t in screen.visible_teams()]
        assert canary == sorted(canary)
        await pilot.click(TeamTable, offset=(x + 2, 0))
        await pilot.pause()
        assert screen.descending
        assert screen.visible_teams()[0] == "Ledger"


async def test_filter_by_name_and_flag() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = overview(app)
        await pilot.press("slash", "p", "a", "y")
        await pilot.pause()
        assert screen.visible_teams() == ["Payments"]
        await pilot.press("enter")
        assert screen.query_one(TeamTable).has_focus
        assert "filter pay: 1 of 10 teams" in screen_text(app)
        await pilot.press("escape")
        assert len(screen.visible_teams()) == 10
        await pilot.press("slash", *"eroding", "enter")
        await pilot.pause()
        assert screen.visible_teams() == ["Ranker", "Payments"]
        # q typed into the filter is text, not quit
        await pilot.press("slash", "q")
        assert app.is_running
        assert screen.filter_text == "erodingq"


async def test_w_cycles_window_in_a_worker() -> None:
    calls: list[int] = []

    def loader(request: ScoreRequest) -> service.Scorecard:
        assert request.as_of == AS_OF and request.now == AS_OF
        calls.append(request.window_days)
        return load_demo(request)

    app = make_app(loader=loader)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert app.window_days == 90
        assert "90-day window" in screen_text(app)
        await pilot.press("w")
        await settle(pilot)
        assert app.window_days == 7
        await pilot.press("w")
        await settle(pilot)
        assert app.window_days == 30
        assert calls == [30, 90, 7, 30]  # the configured window first


# --------------------------------------------------------------------------- other screens


async def test_team_screen_shows_metrics_reasons_and_tables() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_team("Payments")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        metrics_table = screen.query_one("#metrics")
        assert metrics_table.row_count > 10
        cells = [str(c) for c in metrics_table.get_row_at(1)]
        assert cells[0] == "Deploys per day"
        assert cells[2] == "elite"
        assert cells[3].startswith("▲")
        assert screen.weekly is not None  # sparklines computed in a worker
        assert any(set(str(c)) & set("▁▂▃▄▅▆▇█") for c in metrics_table.get_row_at(6))
        reasons = str(screen.query_one("#reasons").render())
        assert "canary share fell" in reasons
        assert screen.query_one("#incidents").row_count == 3
        # Payments ships no `ai` changes: the class row is there, with zero deploys.
        assert "gated = share" in str(screen.query_one("#classes").render())
        class_row = [str(c) for c in screen.query_one("#class-table").get_row_at(0)]
        assert class_row[:2] == ["ai", "0"]
        await pilot.press("j", "k", "down")
        assert isinstance(app.screen, TeamScreen)


async def test_help_lists_bindings_of_current_screen() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for word in ("Filter", "Sort", "Map", "Window", "Export", "Regenerate", "ctrl+p", "Quit"):
            assert word in text
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("m", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Map screen" in screen_text(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, MapScreen)


async def test_map_marks_zone_and_opens_selected_team() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        assert isinstance(app.screen, MapScreen)
        text = screen_text(app)
        assert "OUTPACING ZONE" in text
        assert "Ledger" in text
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)
        assert app.screen.team == "Payments"
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_sources_screen() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, SourcesScreen)
        text = screen_text(app)
        assert "FAILED" in text
        assert "503 Service Unavailable" in text
        assert "4,612" in text
        assert "10 minutes ago" in text
        assert "1 source failed" in text  # visible from every screen
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_export_dialog_writes_same_text_as_cli(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        dialog = app.screen
        dialog.query_one("#export-format").value = "json"
        dialog.query_one("#export-detail").value = "incidents"
        await pilot.pause()
        assert dialog.query_one("#export-path").value == "scorecard-incidents.json"
        target = tmp_path / "out" / "incidents.json"
        dialog.query_one("#export-path").value = str(target)
        await pilot.click("#export-go")
        await settle(pilot)
        assert not isinstance(app.screen, ExportScreen)
        assert target.read_text(encoding="utf-8") == export.render(
            demo(None).report, "json", "incidents"
        )
        assert any("Wrote incidents" in n.message for n in app._notifications)
        # esc cancels without writing
        await pilot.press("e", "escape")
        assert isinstance(app.screen, OverviewScreen)
        assert not (tmp_path / "scorecard-summary.csv").exists()


async def test_export_default_path_in_working_directory(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.click("#export-go")
        await settle(pilot)
        written = tmp_path / "scorecard-summary.csv"
        assert written.read_text(encoding="utf-8") == export.render(demo(None).report)


async def test_q_quits() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_command_palette_goes_to_team() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Go to team: Ledger")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)
        assert app.screen.team == "Ledger"


async def test_palette_offers_window_export_refresh() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [t for t, _, _ in ScorecardCommands(app.screen).commands()]
        assert "Switch window: 90 days" in titles
        assert "Export…" in titles
        assert "Regenerate data" in titles
        assert "Go to team: Payments" in titles


# --------------------------------------------------------------------------- refresh


async def test_refresh_in_demo_regenerates() -> None:
    seen: list[str] = []

    def refresher(request: ScoreRequest, progress: Any) -> service.Scorecard:
        progress("demo", "regenerating")
        seen.append("called")
        return load_demo(request)

    app = make_app(refresher=refresher)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert seen == ["called"]
        assert app.busy is None
        # the demo's GitLab source is down: the refresh says so
        assert any("gitlab" in n.message for n in app._notifications)


async def test_refresh_failure_notifies_and_app_stays_usable() -> None:
    def failing(request: ScoreRequest, progress: Any) -> service.Scorecard:
        progress("github", "starting")
        raise RuntimeError("github: 502 Bad Gateway [bold]x[/bold]")

    app = make_app(refresher=failing)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("502 Bad Gateway [bold]x[/bold]" in m for m in messages)
        assert app.stale_error is not None
        text = screen_text(app)
        assert "STALE" in text
        assert app.scorecard is not None  # the last data is still shown
        assert overview(app).query_one(TeamTable).row_count == 10
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)


async def test_initial_load_failure_shows_message_not_crash() -> None:
    def broken(request: ScoreRequest) -> service.Scorecard:
        raise OSError("cache unreadable")

    app = make_app(loader=broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "cache unreadable" in screen_text(app)
        await pilot.press("m", "escape", "d", "escape", "question_mark", "escape")
        assert app.is_running


async def test_no_config_and_no_demo_explains_what_to_do() -> None:
    app = ScorecardApp(TuiOptions(config=None, demo=False), now=lambda: AS_OF)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "scorecard init" in screen_text(app)


async def test_offline_config_reads_empty_cache(tmp_path: Path) -> None:
    cfg = config.Config(
        path=None,
        teams=(config.TeamConfig(name="Payments", repos=("o/r",)),),
        sources=(source_config(name="local", kind="files", path=tmp_path),),
    )
    app = ScorecardApp(
        TuiOptions(config=cfg, offline=True, store_root=tmp_path / "cache"), now=lambda: AS_OF
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.scorecard is not None
        assert overview(app).visible_teams() == ["Payments"]
        assert "never synced" in str(app.scorecard.report.table.loc["Payments", "reasons"])
        await pilot.press("r")  # offline: re-reads the cache
        await settle(pilot)
        assert app.stale_error is None


# --------------------------------------------------------------------------- read-only


async def test_read_only_binds_no_write_actions() -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bindings = app.screen.active_bindings
        assert "e" not in bindings and "r" not in bindings
        text = screen_text(app)
        assert "[RO]" in text
        assert "Export" not in text
        assert "Regenerate" not in text and "Refresh" not in text
        await pilot.press("e", "r")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert app.busy is None
        titles = [t for t, _, _ in ScorecardCommands(app.screen).commands()]
        assert not any("Export" in t or "Regenerate" in t or "Refresh" in t for t in titles)
        system = [c.title for c in app.get_system_commands(app.screen)]
        assert "Screenshot" not in system
        await pilot.press("question_mark")
        help_text = screen_text(app)
        assert "Export" not in help_text
        assert "Regenerate" not in help_text and "Refresh" not in help_text


def test_read_only_option_unbinds_writers() -> None:
    app = ScorecardApp(TuiOptions(demo=True, read_only=True), loader=demo, now=lambda: AS_OF)
    assert app.read_only
    assert app.refresher is None
    assert not app.can_export


def test_tui_modules_do_not_import_pandas_at_import_time() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import scorecard.tui.app, scorecard.tui.screens.overview, "
        "scorecard.tui.screens.team, scorecard.tui.screens.map, scorecard.tui.screens.sources, "
        "scorecard.tui.screens.help, scorecard.tui.screens.export; "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- literal text


def hostile_scorecard() -> service.Scorecard:
    team = "[bold red]x[/]"
    cfg = config.Config(path=None, teams=(config.TeamConfig(name=team, repos=("o/r",)),))
    deployed = AS_OF - timedelta(days=2)
    frames = {
        "deployments": model.frame_from_records(
            "deployments",
            [
                {
                    "id": "d1",
                    "source": "s",
                    "team": team,
                    "service": "svc",
                    "repo": "o/r",
                    "environment": "production",
                    "status": "success",
                    "strategy": "direct",
                    "started_at": deployed - timedelta(minutes=5),
                    "finished_at": deployed,
                    "is_rollback": False,
                }
            ],
        ),
        "incidents": model.frame_from_records(
            "incidents",
            [
                {
                    "id": "i1",
                    "source": "s",
                    "team": team,
                    "service": "svc",
                    "title": "\x1b[31mred\x1b[0m",
                    "severity": "sev2",
                    "created_at": deployed + timedelta(hours=1),
                    "resolved_at": deployed + timedelta(hours=2),
                }
            ],
        ),
    }
    report = service.report_from_frames(
        frames, cfg, request=service.score_request(cfg, as_of=AS_OF, now=AS_OF)
    )
    return service.Scorecard(report=report, config=cfg, statuses={})


async def test_markup_and_escapes_from_sources_are_shown_literally() -> None:
    hostile = hostile_scorecard()
    app = make_app(loader=lambda request: hostile)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = overview(app).query_one(TeamTable)
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]).strip() == "[bold red]x[/]"
        assert "[bold red]x[/]" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TeamScreen)
        incidents = app.screen.query_one("#incidents")
        title = str(incidents.get_row_at(0)[2])
        assert title == "␛[31mred␛[0m"
        text = screen_text(app)
        assert "[bold red]x[/]" in text
        assert "␛[31mred␛[0m" in text
        assert "\x1b[31m" not in app.export_screenshot()
        await pilot.press("escape", "m")
        assert "[bold red]x[/]" in screen_text(app)


def test_safe_text_replaces_controls_and_bidi() -> None:
    assert safe_text("plain [b]x[/b]") == "plain [b]x[/b]"
    assert safe_text("\x1b[2J") == "␛[2J"
    assert safe_text("a\nb\tc\x00") == "a␊b␉c␀"
    assert safe_text("\x9b31m") == "\ufffd31m"
    assert safe_text("abc\u202edef") == "abc\ufffddef"
    assert safe_text(None) == ""
    assert literal("[red]x[/]").plain == "[red]x[/]"


def test_charts_are_textual_and_deterministic() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([float("nan"), 1.0]) == " ▄"
    assert gap_bar(70, Palette(), width=4).plain == " +70 ███▌"
    assert gap_bar(float("nan"), Palette()).plain == "—"
    points = [Point("Hot", 100, 20, True), Point("Calm", 40, 90)]
    first = plot(points, 80, 24, Palette(), selected=0).plain
    assert first == plot(points, 80, 24, Palette(), selected=0).plain
    assert "OUTPACING ZONE" in first
    assert "Hot" in first and "Calm" in first


def test_sources_rows_show_request_stats() -> None:
    from scorecard.status import RequestStats
    from scorecard.tui.view import requests_cell, stream_items

    palette = Palette(muted="dim", good="green", warn="yellow")
    stats = RequestStats(requests=42, not_modified=30, retries=2, items={"deployments": 120})
    assert str(requests_cell(stats, palette)) == "42 · 30 304 · 2 retries"
    assert str(requests_cell(RequestStats(), palette)) == "—"
    assert stream_items(stats) == "deployments 120"
