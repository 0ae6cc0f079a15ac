"""The standup view: cards, rotation, pause, step, quit, --team, failures (SPEC §8)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from scorecard import cli, config, model, service
from scorecard.request import ScoreRequest
from scorecard.tui.standup import StandupApp, StandupOptions, build_cards, resolve_teams
from tests.source_config import source_config

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SMALL = (100, 30)
LARGE = (200, 56)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.chdir(tmp_path)


@cache
def demo() -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))


def make_app(interval: float = 15.0, teams: tuple[str, ...] = (), **kwargs: Any) -> StandupApp:
    loader = kwargs.pop("loader", demo)
    return StandupApp(loader, StandupOptions(interval=interval, teams=teams), now=lambda: AS_OF)


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: StandupApp) -> str:
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


# --------------------------------------------------------------------------- cards


def test_cards_flagged_first_with_top_three_reasons() -> None:
    cards = build_cards(demo(), AS_OF)
    assert len(cards) == 10
    flagged = [c for c in cards if c.flags]
    assert cards[: len(flagged)] == flagged
    table = demo().report.table
    for card in cards:
        row = table.loc[card.team]
        assert card.grade == row["grade"]
        assert list(card.reasons) == list(row["reasons"])[:3]
        assert card.more_reasons == max(len(row["reasons"]) - 3, 0)
        assert card.deploys == row["deploys"]
    payments = next(c for c in cards if c.team == "Payments")
    assert payments.flags == ("outpacing", "eroding")
    assert payments.incidents == 3
    assert "synced 10 minutes ago" in payments.synced
    assert payments.failed == ()


def test_card_freshness_names_a_failed_source_of_the_team() -> None:
    mobile = next(c for c in build_cards(demo(), AS_OF) if c.team == "Mobile API")
    assert "stale" in mobile.flags
    assert mobile.failed == ("gitlab failed 2 hours ago",)
    assert "3 days ago" in mobile.synced  # its oldest source


def test_team_filter_is_case_insensitive_and_keeps_order() -> None:
    assert resolve_teams(["payments", "LEDGER"], ["Payments", "Ledger"]) == ("Payments", "Ledger")
    with pytest.raises(ValueError, match="did you mean `Payments`"):
        resolve_teams(["Paymnts"], ["Payments", "Ledger"])
    cards = build_cards(demo(), AS_OF, ["Ledger", "Payments"])
    assert [c.team for c in cards] == ["Payments", "Ledger"]  # flagged first still


# --------------------------------------------------------------------------- keys


async def test_shows_first_card_in_large_type_with_header_and_footer() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        first = app.cards[0]
        text = screen_text(app)
        assert "[RO]" in text and "[RW]" not in text
        assert first.team in text
        assert first.reasons[0] in text
        assert "PRESSURE" in text and "RIGOR" in text and "GRADE" in text
        assert "Last 30 days:" in text and "deploys" in text and "incident" in text
        assert "synced 10 minutes ago" in text
        assert "1 / 10" in text and "next team every 15s" in text
        for label in ("Pause", "Next", "Previous", "Quit"):
            assert label in text
        assert "Export" not in text and "Refresh" not in text
        digits = app.screen.query_one("#digits-pressure")
        assert digits.value == str(round(first.pressure or 0))


async def test_rotates_every_interval() -> None:
    app = make_app(interval=0.2)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.pause(0.6)
        assert app.rotations >= 1
        assert app.index == app.rotations % len(app.cards)
        assert app.cards[app.index].team in screen_text(app)


async def test_space_pauses_and_resumes() -> None:
    app = make_app(interval=0.2)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("space")
        assert app.paused
        held, rotations = app.index, app.rotations
        await pilot.pause(0.6)
        assert (app.index, app.rotations) == (held, rotations)
        assert "PAUSED" in screen_text(app)
        # stepping while paused stays paused
        await pilot.press("n")
        await pilot.pause(0.5)
        assert app.index == (held + 1) % len(app.cards)
        rotations = app.rotations
        await pilot.press("space")
        assert not app.paused
        await pilot.pause(0.6)
        assert app.rotations > rotations
        assert "PAUSED" not in screen_text(app)


async def test_n_and_p_step_and_wrap() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        teams = [c.team for c in app.cards]
        await pilot.press("n")
        assert app.index == 1
        assert teams[1] in screen_text(app)
        await pilot.press("p", "p")
        assert app.index == len(teams) - 1
        assert f"{len(teams)} / {len(teams)}" in screen_text(app)
        await pilot.press("n")
        assert app.index == 0
        await pilot.press("right", "right", "left")
        assert app.index == 1
        assert app.rotations == 0  # 15 s never passed


async def test_q_quits() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_single_team_does_not_rotate() -> None:
    app = make_app(interval=0.2, teams=("Ledger",))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert [c.team for c in app.cards] == ["Ledger"]
        await pilot.pause(0.4)
        await pilot.press("n", "p", "space")
        assert app.index == 0
        text = screen_text(app)
        assert "Ledger" in text and "1 / 1" in text
        assert "no flags" in text
        assert "0 incidents" in text


async def test_large_screen_uses_roomier_layout() -> None:
    app = make_app()
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-large")
        assert app.cards[0].team in screen_text(app)
    small = make_app()
    async with small.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert not small.screen.has_class("-large")


# --------------------------------------------------------------------------- failures


async def test_a_failed_load_is_shown_not_raised() -> None:
    def broken() -> service.Scorecard:
        raise OSError("cache unreadable [b]x[/b]")

    app = make_app(loader=broken)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Could not build the standup view" in text
        assert "cache unreadable [b]x[/b]" in text
        await pilot.press("n", "p", "space")
        assert app.is_running
        await pilot.press("q")


def hostile_scorecard() -> service.Scorecard:
    team = "[bold red]x[/]\x1b[2J"
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
    }
    report = service.report_from_frames(
        frames, cfg, request=service.score_request(cfg, as_of=AS_OF, now=AS_OF)
    )
    return service.Scorecard(report=report, config=cfg, statuses={})


async def test_source_text_is_shown_literally() -> None:
    hostile = hostile_scorecard()
    app = make_app(loader=lambda: hostile)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]x[/]␛[2J" in text
        assert "\x1b[2J" not in app.export_screenshot()


def test_cli_standup_demo_and_team(monkeypatch: pytest.MonkeyPatch) -> None:
    import scorecard.tui.standup as standup

    seen: list[tuple[Any, StandupOptions]] = []
    monkeypatch.setattr(
        standup, "run_standup", lambda loader, options: seen.append((loader, options)) or 0
    )
    argv = ["standup", "--demo", "--interval", "5", "--team", "ledger", "--as-of", "2026-11-26"]
    assert cli.main(argv) == 0
    loader, options = seen[0]
    assert options.interval == 5.0
    assert options.teams == ("Ledger",)
    assert loader().report.as_of == AS_OF.replace(hour=0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["standup", "--demo", "--team", "Nope"], "no team named `Nope`"),
        (["standup", "--demo", "--interval", "0"], "interval must be 1..3600"),
        (["standup", "--demo", "--interval", "soon"], "not a number of seconds"),
        (["standup", "--demo", "--config", "x.toml"], "not allowed with argument"),
    ],
)
def test_cli_standup_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_live_scorecard_marks_failed_sources_stale(tmp_path: Path) -> None:
    cfg = config.Config(
        path=None,
        teams=(config.TeamConfig(name="Payments", repos=("o/r",)),),
        sources=(
            source_config(name="local", kind="files", path=tmp_path),
            source_config(name="broken", kind="files", path=tmp_path / "missing"),
        ),
    )
    card = service.live_scorecard(cfg, service.score_request(cfg, as_of=AS_OF, now=AS_OF))
    assert card.statuses["local"].ok
    assert card.statuses["broken"].last_error
    assert "stale" in card.report.table.loc["Payments", "flags"]
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- snapshots


def test_snapshot_standup_card(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


def test_snapshot_standup_card_large_screen_paused(snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("n", "n", "n", "space")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=LARGE, run_before=run_before)


def test_big_digits_font_for_large_screens() -> None:
    from scorecard.tui.screens.standup import FONT, big_lines

    lines = [line.replace("█", "#") for line in big_lines("+70", pixel=(1, 1))]
    assert lines == [
        "    ### ###",
        " #    # # #",
        "###   # # #",
        " #    # # #",
        "      # ###",
    ]
    assert len(big_lines("A", pixel=(3, 2))) == 10
    assert all(len(row) == 3 for glyph in FONT.values() for row in glyph)
    assert set("0123456789+-ABCDF") <= set(FONT)
