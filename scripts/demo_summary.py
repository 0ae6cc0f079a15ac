"""Regenerate ``scorecard/data/demo_summary.json``: the demo overview shipped with
the package, painted by the very first `scorecard demo` before pandas loads.

Run after any change to the demo org, metrics or scoring (a test fails when the
shipped file no longer matches): ``.venv/bin/python scripts/demo_summary.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from scorecard import service, summary
from scorecard.request import ScoreRequest

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
TARGET = Path(__file__).resolve().parents[1] / "scorecard" / "data" / summary.PACKAGED_DEMO


def main() -> None:
    card = service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))
    summary.write(TARGET, service.overview_summary(card, generated_at=AS_OF))
    print(TARGET)


if __name__ == "__main__":
    main()
