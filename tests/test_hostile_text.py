"""Hostile text from sources is shown literally everywhere (SPEC §7, §10).

Team, repo, service and incident strings carrying Rich markup, ANSI and OSC escape
sequences (colour, screen clear, cursor moves, OSC 8 links, OSC 52 clipboard
writes), C1 controls, zero-width and right-to-left characters, and a 10,000
character title go through every TUI screen, the standup view, the exports and
the sync summary. None of them may restyle the screen, reach the terminal as a
control sequence, or run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from scorecard import config as config_module
from scorecard import export, model, service
from scorecard.status import SourceStatus
from scorecard.sync import SyncSummary
from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.widgets.text import safe_text

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (200, 50)

MARKUP = "[bold red]Ops[/][link=https://evil.example]x[/link]"
ANSI = "\x1b[31mRED\x1b[0m\x1b[2J\x1b[10;10H"
OSC8 = "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
C1 = "\x9b31m\x9d0;t\x9c"
INVISIBLE = "pay\u200bments\u202eevil\u202c\u2066x\u2069"
LONG = "L" * 10_000
FORMULAS = ['=HYPERLINK("http://e.x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]

TEAMS = [MARKUP + ANSI, INVISIBLE + OSC8, "=cmd|' /C calc'!A0"]
TITLE = OSC52 + C1 + "Checkout down " + LONG
REPO = "acme/" + ANSI
SERVICE = "svc" + OSC8
CONTROL_CHARS = ("\x1b", "\x07", "\x9b", "\x9c", "\x9d", "\u202e", "\u2066", "\u2069")


def hostile_scorecard() -> service.Scorecard:
    teams = tuple(
        config_module.TeamConfig(name=name, repos=(f"{REPO}{i}",), services=(f"{SERVICE}{i}",))
        for i, name in enumerate(TEAMS)
    )
    cfg = config_module.Config(path=None, org="Org" + ANSI, teams=teams)
    deployments, incidents, changes = [], [], []
    for i, team in enumerate(TEAMS):
        for n in range(6):
            at = AS_OF - timedelta(days=n + 1, hours=i)
            deployments.append(
                {
                    "id": f"d{i}-{n}" + ANSI,
                    "source": "s",
                    "team": team,
                    "service": f"{SERVICE}{i}",
                    "repo": f"{REPO}{i}",
                    "environment": "production",
                    "status": "failure" if n % 2 else "success",
                    "strategy": "direct",
                    "started_at": at - timedelta(minutes=5),
                    "finished_at": at,
                    "commit_sha": FORMULAS[n],
                    "is_rollback": False,
                    "url": OSC8,
                }
            )
        incidents.append(
            {
                "id": f"i{i}",
                "source": "s",
                "team": team,
                "service": f"{SERVICE}{i}",
                "title": TITLE,
                "severity": "sev1",
                "created_at": AS_OF - timedelta(days=2, hours=i),
                "resolved_at": AS_OF - timedelta(days=2, hours=i - 1),
                "url": OSC52,
            }
        )
        changes.append(
            {
                "id": f"c{i}",
                "source": "s",
                "team": team,
                "repo": f"{REPO}{i}",
                "title": MARKUP + INVISIBLE,
                "labels": [ANSI],
                "first_commit_at": AS_OF - timedelta(days=4),
                "merged_at": AS_OF - timedelta(days=3),
            }
        )
    frames = {
        "deployments": model.frame_from_records("deployments", deployments),
        "incidents": model.frame_from_records("incidents", incidents),
        "changes": model.frame_from_records("changes", changes),
    }
    statuses = {
        "s": SourceStatus(
            name="s",
            kind="files",
            last_attempt_at=AS_OF,
            last_success_at=AS_OF - timedelta(days=1),
            last_error="boom " + ANSI + OSC52 + MARKUP,
            problems=[OSC8 + " bad row " + MARKUP],
        )
    }
    report = service.report_from_frames(
        frames, cfg, request=service.score_request(cfg, as_of=AS_OF, now=AS_OF), statuses=statuses
    )
    return service.Scorecard(report=report, config=cfg, statuses=statuses)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.chdir(tmp_path)


CARD = hostile_scorecard()


def screen_text(app: Any) -> str:
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def assert_inert(text: str, where: str) -> None:
    for char in CONTROL_CHARS:
        assert char not in text, f"{where}: raw {char!r} reached the output"


def assert_screen_safe(app: Any, where: str) -> str:
    text = screen_text(app)
    assert_inert(text, where)
    svg = app.export_screenshot()
    assert_inert(svg, where + " (SVG)")
    assert "evil.example" not in svg.replace(safe_text(OSC8), "") or "href" not in svg
    return text


async def settle(pilot: Any) -> None:
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_every_screen_shows_hostile_text_literally() -> None:
    app = ScorecardApp(
        TuiOptions(demo=True, as_of=AS_OF), loader=lambda window: CARD, now=lambda: AS_OF
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = assert_screen_safe(app, "overview")
        assert "[bold red]Ops[/]" in text, "markup shows as typed"
        assert "␛[31mRED" in text, "escape sequences show as control pictures"
        assert "=cmd|' /C calc'!A0" in text
        assert "pay\u200bments\ufffdevil" in text or "pay" in text

        for key, name in (("m", "map"), ("question_mark", "help")):
            await pilot.press(key)
            await settle(pilot)
            assert_screen_safe(app, name)
            await pilot.press("escape")
            await settle(pilot)

        await pilot.press("enter")
        await settle(pilot)
        team = assert_screen_safe(app, "team")
        assert "␛]52;c;" in team, "the incident title is shown, its OSC 52 inert"

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert_screen_safe(app, "command palette")
        await pilot.press("escape")
        await settle(pilot)

        # Filter by a hostile string: typed text is literal too.
        await pilot.press("slash")
        await pilot.press(*"[bold]")
        await settle(pilot)
        assert_screen_safe(app, "filter")


async def test_sources_screen_shows_hostile_errors_literally() -> None:
    from scorecard.tui.screens.sources import SourcesScreen

    app = ScorecardApp(
        TuiOptions(demo=True, as_of=AS_OF), loader=lambda window: CARD, now=lambda: AS_OF
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(SourcesScreen())
        await settle(pilot)
        text = assert_screen_safe(app, "sources")
        assert "boom ␛[31mRED" in text


async def test_standup_view_shows_hostile_text_literally() -> None:
    from scorecard.tui.standup import StandupApp, StandupOptions

    app = StandupApp(lambda: CARD, StandupOptions(interval=60), now=lambda: AS_OF)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for step in range(len(TEAMS)):
            text = assert_screen_safe(app, f"standup card {step}")
            assert "␛" in text or "=cmd" in text or "[bold red]" in text
            await pilot.press("n")
            await settle(pilot)


# --- exports -----------------------------------------------------------------------------


@pytest.mark.parametrize("detail", ["summary", "weekly", "incidents", "deployments", "classes"])
def test_csv_export_neutralizes_formulas_and_controls(detail: str) -> None:
    text = export.render(CARD.report, "csv", detail)  # type: ignore[arg-type]
    assert_inert(text, f"csv {detail}")
    cells = {value for row in csv.reader(io.StringIO(text, newline="")) for value in row}
    for value in cells:
        if value:
            assert not value.startswith(export.FORMULA_STARTS), (detail, value[:40])
    if detail == "summary":
        assert "'=cmd|' /C calc'!A0" in text
        assert "[bold red]Ops[/]" in text
    if detail == "incidents":
        assert LONG in text, "long titles are kept whole"
    if detail == "deployments":
        for formula in FORMULAS:
            assert "'" + formula.replace("\r", "\n") in cells


@pytest.mark.parametrize("detail", ["summary", "incidents", "deployments"])
def test_markdown_export_is_inert(detail: str) -> None:
    text = export.render(CARD.report, "markdown", detail)  # type: ignore[arg-type]
    assert_inert(text, f"markdown {detail}")
    assert "\\[bold red\\]Ops\\[/\\]" in text


@pytest.mark.parametrize("detail", ["summary", "incidents", "deployments"])
def test_json_export_keeps_text_exact(detail: str) -> None:
    text = export.render(CARD.report, "json", detail)  # type: ignore[arg-type]
    assert "\x1b" not in text and "\x07" not in text  # JSON escapes C0 controls
    doc = json.loads(text)
    teams = {row.get("team") for row in doc["rows"]}
    assert set(TEAMS) <= teams, "JSON keeps the data exactly, escaped"
    if detail == "incidents":
        assert any(row.get("title") == TITLE for row in doc["rows"])


def test_sync_summary_is_inert() -> None:
    outcome = SourceStatus(
        name="s",
        kind="files",
        last_attempt_at=AS_OF,
        last_success_at=AS_OF,
        skipped=1,
        problems=[f"deployments.csv:2: team: unknown value '{ANSI}{OSC52}{INVISIBLE}'"],
    )
    failed = SourceStatus(name="gh", kind="github", last_error="HTTP 500: " + OSC8 + C1)
    table = SyncSummary(outcomes=[outcome, failed], notices=[MARKUP + ANSI]).table()
    assert_inert(table, "sync summary")
    assert "␛[31mRED" in table and "[bold red]Ops[/]" in table


def test_cli_export_to_stdout_is_inert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scorecard import cli

    monkeypatch.setattr(service, "demo_scorecard", lambda *a, **k: CARD)
    for fmt in ("csv", "markdown", "json"):
        assert cli.main(["export", "--demo", "--format", fmt, "--detail", "incidents"]) == 0
        out, err = capsys.readouterr()
        assert_inert(out + err, f"export --format {fmt}")
