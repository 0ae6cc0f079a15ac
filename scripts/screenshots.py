"""Regenerate screenshots/*.svg from the demo org, deterministically.

The demo org is scored at a fixed ``as_of`` and the app's clock is pinned to the
same moment, so every run writes byte-identical SVGs at 140x40 (the standup
view at 100x30):

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scorecard import service  # noqa: E402
from scorecard.request import ScoreRequest  # noqa: E402
from scorecard.tui.app import ScorecardApp, TuiOptions  # noqa: E402
from scorecard.tui.standup import StandupApp, StandupOptions  # noqa: E402

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)
OUT = ROOT / "screenshots"

# name -> keys pressed after the scorecard has loaded
SHOTS: dict[str, Sequence[str]] = {
    "overview": (),
    "team": ("j", "enter"),  # Payments: second row (flagged first, widest gap)
    "map": ("m",),
    "sources": ("d",),
    "help": ("question_mark",),
}


@cache
def demo(window: int | None) -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF, window_days=window))


def load_demo(request: ScoreRequest) -> service.Scorecard:
    return demo(request.window_days)


async def shoot(name: str, keys: Sequence[str]) -> Path:
    app = ScorecardApp(TuiOptions(demo=True, as_of=AS_OF), loader=load_demo, now=lambda: AS_OF)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("", *keys):
            if key:
                await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
        svg = app.export_screenshot(title=f"scorecard — {name}")
    path = OUT / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


STANDUP_SIZE = (100, 30)  # a laptop terminal; the layout grows on a large screen


async def shoot_standup() -> Path:
    app = StandupApp(lambda: demo(None), StandupOptions(), now=lambda: AS_OF)
    async with app.run_test(size=STANDUP_SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        svg = app.export_screenshot(title="scorecard standup")
    path = OUT / "standup.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["SCORECARD_CACHE_DIR"] = cache_dir  # never touch the real cache
        for name, keys in SHOTS.items():
            path = await shoot(name, keys)
            print(path.relative_to(ROOT))
        print((await shoot_standup()).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
