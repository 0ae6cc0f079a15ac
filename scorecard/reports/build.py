"""What `scorecard report` and `scorecard snapshot` do, given a scorecard or a config.

The HTML report looks back ``TREND_MONTHS`` for its trends; both formats
compare with ``--since`` (default: a week before the as-of date), reading the
cache's snapshots and recomputing from events only where a snapshot is missing.
The demo keeps no snapshots: all its history is recomputed.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.request import ScoreRequest
    from scorecard.service import Scorecard
    from scorecard.store import Store

__all__ = ["DEFAULT_SINCE_DAYS", "TREND_MONTHS", "report_text", "since_day", "snapshot_now"]

DEFAULT_SINCE_DAYS: Final = 7
"""Without ``--since``, changes are week over week."""
TREND_MONTHS: Final = 6
"""The HTML report's trends cover this many months."""


def since_day(card: Scorecard, since: datetime | None) -> date:
    """The baseline day: ``since``, or a week before the as-of date."""
    now = card.report.as_of.date()
    return since.date() if since is not None else now - timedelta(days=DEFAULT_SINCE_DAYS)


def report_text(
    card: Scorecard, fmt: Literal["html", "markdown"], since: datetime | None = None
) -> str:
    """The HTML report or the Markdown digest of ``card``, with changes since ``since``."""
    from scorecard.fs import cache_dir
    from scorecard.reports.history import load_history

    day = since_day(card, since)
    back = math.ceil(max((card.report.as_of.date() - day).days, 0) / 30.4) + 1
    root = None if card.demo else cache_dir()
    if fmt == "markdown":
        from scorecard.reports.digest import render_digest

        history = load_history(card, root, months=back, weekly=False, also=[day])
        return render_digest(card.report, history, day)
    from scorecard.reports.html import render_html

    history = load_history(card, root, months=max(back, TREND_MONTHS), also=[day])
    return render_html(card.report, history, day)


def snapshot_now(config: Config, store: Store, request: ScoreRequest) -> str:
    """Keep the snapshot of ``request``'s day from the cache (no sync); a line saying so.

    Refused (``UsageError``) when the config is read-only; ``RuntimeFailure`` when the
    cache holds nothing yet."""
    from scorecard import service
    from scorecard.errors import RuntimeFailure, UsageError

    if config.read_only or store.read_only:
        raise UsageError("the config says read_only = true: a snapshot would write the cache")
    if not store.has_data():
        raise RuntimeFailure(f"no cached data yet in {store.root}: run `scorecard sync` first")
    return service.snapshot(config, store, request)
