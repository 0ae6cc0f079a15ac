"""The overview summary a session saves for the next start (``scorecard.summary``).

Where the file for a session lives, reading it (the very first demo start gets
the shipped one) and writing it after each scorecard. Both are best effort: a
summary is only ever a head start, so no failure here reaches the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scorecard import summary as summaries

if TYPE_CHECKING:
    from datetime import datetime

    from scorecard.config import Config
    from scorecard.service import Scorecard


def summary_file(
    *,
    demo: bool,
    config: Config | None,
    window: int | None,
    as_of: datetime | None,
    store_root: Path | None,
) -> Path | None:
    """Where the overview summary for ``window`` lives (None: this session has none)."""
    key = summaries.summary_key(
        demo=demo,
        config_path=config.path if config is not None else None,
        window_days=window,
        as_of=as_of,
    )
    if key is None:
        return None
    return summaries.summary_path(key, None if demo else store_root)


def read_summary(path: Path | None) -> summaries.Summary | None:
    """The summary at ``path``; for the first demo ever, the shipped one; else None."""
    try:
        saved = summaries.read(path) if path is not None else None
        if saved is None and path is not None and path.stem == "demo":
            saved = summaries.packaged_demo()  # the first demo ever: the shipped one
        return saved
    except Exception:  # a summary is only ever a head start
        return None


def save_summary(path: Path | None, scorecard: Scorecard) -> None:
    """Save what the overview shows for next start (best effort)."""
    try:
        from scorecard import service

        if path is not None:
            summaries.write(path, service.overview_summary(scorecard))
    except Exception:  # best effort: the next start just waits for the scorecard
        return
