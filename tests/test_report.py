"""`scorecard report`: the HTML report (one file, inline SVG, opens in Chromium with its
charts and no console error) and the Markdown digest of week-over-week changes."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scorecard import cli, service
from scorecard.reports.changes import changes_since
from scorecard.reports.charts import Bar, Dot, gap_bars, pressure_rigor_map
from scorecard.reports.history import POINT_COLUMNS, History, load_history
from scorecard.reports.html import render_html
from tests.browser import open_page
from tests.test_snapshots import AS_OF, TODAY, demo_card, seed_snapshots, year_of_days


def history_of(points: list[dict[str, Any]]) -> History:
    frame = pd.DataFrame(points).reindex(columns=list(POINT_COLUMNS))
    return History(frame, window_days=30, scoring_version=2, team_map_hash="x")


def point(
    day: str, team: str, grade: str, gap: float, flags: str = "", **kw: Any
) -> dict[str, Any]:
    return {"day": day, "team": team, "grade": grade, "gap": gap, "flags": flags,
            "origin": "snapshot", **kw}  # fmt: skip


# --------------------------------------------------------------------------- changes


def test_a_change_reads_like_the_line_a_lead_pastes_into_slack() -> None:
    history = history_of(
        [
            point("2026-11-19", "Payments", "B", 18),
            point("2026-11-19", "Search", "A", -40, "stale"),
            point("2026-11-26", "Payments", "C", 31, "eroding"),
            point("2026-11-26", "Search", "A", -39),
            point("2026-11-26", "Ledger", "B", 0),
        ]
    )
    changes = {c.team: c for c in changes_since(history, date(2026, 11, 19), date(2026, 11, 26))}
    payments = changes["Payments"]
    assert f"{payments.team}: {', '.join(payments.parts())}" == (
        "Payments: B → C, gap +18 → +31, new flag eroding"
    )
    assert not changes["Search"].changed  # a stale sync is no change of the team
    assert changes["Ledger"].parts() == ["new, grade B, gap +0"]
    assert next(c.team for c in changes_since(history, date(2026, 11, 19), TODAY)) == "Payments"


def test_charts_show_team_names_as_text_never_as_markup() -> None:
    name = '<img src=x onerror="alert(1)">'
    svg = gap_bars([Bar(name, 30.0, True)]) + pressure_rigor_map([Dot(name, 90, 20, True)])
    assert "<img" not in svg and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in svg


# --------------------------------------------------------------------------- formats


def test_markdown_digest_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    card = demo_card()  # scored once per session; the command scores it no more
    monkeypatch.setattr(service, "demo_scorecard", lambda request=None: card)
    code = cli.main(["report", "--demo", "--format", "markdown", "--as-of", AS_OF.isoformat()])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("## Acme (demo) scorecard, week over week (2026-11-19 → 2026-11-26)")
    assert "- **Ranker**: C → D, gap +60 → +78 _(baseline recomputed from events)_" in out
    assert "### Why teams are flagged" in out and "Unchanged: " in out


async def test_html_report_opens_in_chromium_with_its_charts(tmp_path: Path) -> None:
    card = demo_card()
    seed_snapshots(tmp_path / "cache", card, year_of_days())
    history = load_history(card, tmp_path / "cache", months=6)
    assert history.recomputed_share() == 0  # a year of snapshots: nothing recomputed
    html = render_html(card.report, history, TODAY - timedelta(days=28))
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    flagged = [t for t, r in card.report.table.iterrows() if r["flags"]]
    async with open_page(page_file.as_uri()) as page:
        charts = await page.evaluate(
            "[...document.querySelectorAll('svg.chart')].map(s => [s.dataset.chart,"
            " s.getBoundingClientRect().width, s.querySelectorAll('rect,circle,polyline').length])"
        )
        headings = await page.evaluate(
            "[...document.querySelectorAll('h2')].map(h => h.textContent)"
        )
        shot = await page.screenshot("report.png")
        errors = list(page.errors)
    assert errors == []
    kinds = [kind for kind, _, _ in charts]
    assert kinds[:2] == ["gap", "map"] and kinds.count("trend") == len(flagged)
    assert all(width > 300 and marks > 5 for _, width, marks in charts)
    assert set(flagged) <= set(headings) and "Since 2026-10-29" in headings
    assert shot.stat().st_size > 10_000
