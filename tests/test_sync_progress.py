"""A long sync's progress bar (stderr): repos done of all, time left, cost and budget."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from scorecard.cli_progress import SyncMeter
from scorecard.request import ScoreRequest
from scorecard.status import Tick
from scorecard.store import Store
from scorecard.sync import sync
from tests.fakes.github_graphql import require_schema
from tests.fakes.server import FakeServer
from tests.test_github import NOW, TOKEN, build_org, org_config


def test_bars_show_repos_done_cost_and_budget_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    with SyncMeter(console) as meter:
        meter("gh", Tick(done=3, total=8, spent=42, left=4958))
        meter.say("gh", "acme/api: fetching [not markup]")
        meter("gh", Tick(done=8, total=8, spent=90, left=4910))
    text = out.getvalue()
    assert "8/8 repos" in text and "spent 90, 4,910 left" in text
    assert "acme/api: fetching [not markup]" in text  # API text shown literally


async def test_a_sync_ticks_every_repo_of_both_phases(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_schema()
    monkeypatch.setenv("GH_TEST_TOKEN", TOKEN)
    build_org(fake_server)
    ticks: list[Tick] = []
    await sync(
        org_config(fake_server.url, graphql=True),
        Store(tmp_path / "cache"),
        ScoreRequest.resolve(now=NOW),
        meter=lambda source, tick: ticks.append(tick),
    )
    assert [t.done for t in ticks] == [1, 2, 3, 4]  # two repos, recent history then older
    assert {t.total for t in ticks} == {4}
    assert ticks[-1].spent >= ticks[0].spent > 0 and ticks[-1].left is not None
