"""SVG snapshots of every screen: the demo org at a fixed as_of, 140x40.

Regenerate with ``pytest tests/test_tui_snapshots.py --snapshot-update`` after an
intended visual change, and review the diff.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scorecard import service
from scorecard.request import ScoreRequest
from scorecard.tui.app import ScorecardApp, TuiOptions

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@cache
def demo(window: int | None) -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF, window_days=window))


def load_demo(request: ScoreRequest) -> service.Scorecard:
    return demo(request.window_days)


def make_app(read_only: bool = False) -> ScorecardApp:
    options = TuiOptions(demo=True, as_of=AS_OF, read_only=read_only)
    return ScorecardApp(options, loader=load_demo, now=lambda: AS_OF)


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def keys_then_settle(*keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_overview(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle())


def test_overview_read_only_light_theme(snap_compare: Any) -> None:
    app = make_app(read_only=True)
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=SIZE, run_before=keys_then_settle())


def test_overview_filtered(snap_compare: Any) -> None:
    keys = ("slash", *"outpacing", "enter")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle(*keys))


def test_team_payments(snap_compare: Any) -> None:
    # Payments is the second row (flagged first, widest gap)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle("j", "enter"))


def test_map(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle("m"))


def test_sources(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle("d"))


def test_help(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(), terminal_size=SIZE, run_before=keys_then_settle("question_mark")
    )


def test_export_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle("e"))
