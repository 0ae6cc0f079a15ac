"""Regenerate the trends and report screenshots from the demo org, deterministically.

Like ``scripts/screenshots.py``: the demo org is scored at a fixed ``as_of`` with
the app's clock pinned to it. The demo keeps no snapshots, so its trends are
recomputed from its events (the screen marks them so). Writes:

    screenshots/trends.svg        the Trends screen, every team's gap (140x40)
    screenshots/trends-team.svg   one team's scores over the months
    screenshots/report.html       the HTML report, as `scorecard report --demo` writes it
    screenshots/report.png        that report in headless Chromium (needs `chromium`)

    .venv/bin/python scripts/report_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scorecard import service  # noqa: E402
from scorecard.reports.build import report_text  # noqa: E402
from scorecard.request import ScoreRequest  # noqa: E402
from scorecard.tui.app import ScorecardApp, TuiOptions  # noqa: E402

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)
OUT = ROOT / "screenshots"
SHOTS: dict[str, Sequence[str]] = {"trends": ("t",), "trends-team": ("t", "j", "enter")}


@cache
def demo() -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))


async def shoot(name: str, keys: Sequence[str]) -> Path:
    app = ScorecardApp(
        TuiOptions(demo=True, as_of=AS_OF), loader=lambda request: demo(), now=lambda: AS_OF
    )
    async with app.run_test(size=SIZE) as pilot:
        while app.scorecard is None:
            await pilot.pause(0.05)
        for key in keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        svg = app.export_screenshot(title=f"scorecard — {name}")
    path = OUT / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


def report() -> list[Path]:
    page = OUT / "report.html"
    page.write_text(report_text(demo(), "html"), encoding="utf-8")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium: screenshots/report.png left as it was", file=sys.stderr)
        return [page]
    png = OUT / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--window-size=1100,1500",
             f"--screenshot={png}", page.as_uri()],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    return [page, png]


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["SCORECARD_CACHE_DIR"] = cache_dir  # never touch the real cache
        for name, keys in SHOTS.items():
            print((await shoot(name, keys)).relative_to(ROOT))
        for path in report():
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
