"""What a scorecard is asked for: as of when, over how many days, and what "now" is.

The command line and the TUI resolve these once, into a :class:`ScoreRequest`,
and hand the same object to the sync (how far back to fetch), the service (what
to load and score) and the metrics (which two windows to compare). No layer
picks its own default window or reads the clock again, so an export, the TUI and
the history a sync fetches always agree on the period.

Cheap to import (no pandas): the TUI builds requests before its first paint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Final

__all__ = [
    "DEFAULT_HISTORY_DAYS",
    "DEFAULT_WINDOW_DAYS",
    "WINDOW_CHOICES",
    "ScoreRequest",
    "aware",
    "utcnow",
]

DEFAULT_WINDOW_DAYS: Final = 30
"""The period a scorecard covers when neither the command line nor the config says."""

DEFAULT_HISTORY_DAYS: Final = 180
"""How far back the first sync fetches when the config does not say (SPEC §9)."""

WINDOW_CHOICES: Final = (7, 30, 90)
"""The windows the TUI cycles through."""


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def aware(moment: datetime) -> datetime:
    """``moment`` with UTC attached when it has no time zone (naive means UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class ScoreRequest:
    """One scorecard's period, resolved once and passed down unchanged."""

    as_of: datetime
    """The end of the current window (timezone-aware); nothing after it counts."""
    window_days: int
    """The length of the current window; the previous window is as long, just before."""
    now: datetime
    """The moment of the request (timezone-aware): sync attempt time, staleness."""
    pinned: bool = False
    """True when ``as_of`` was asked for (``--as-of``), False when it is ``now``."""
    offline: bool = False
    """Score what the cache holds; fetch nothing."""

    @classmethod
    def resolve(
        cls,
        *,
        as_of: datetime | None = None,
        window_days: int | None = None,
        now: datetime | None = None,
        default_window_days: int = DEFAULT_WINDOW_DAYS,
        offline: bool = False,
    ) -> ScoreRequest:
        """The request for what a user asked (``None``: not asked).

        ``as_of`` defaults to ``now``, ``now`` to the clock, and ``window_days``
        to ``default_window_days`` (the config's ``window_days``)."""
        moment = aware(now) if now is not None else utcnow()
        return cls(
            as_of=aware(as_of) if as_of is not None else moment,
            window_days=window_days or default_window_days,
            now=moment,
            pinned=as_of is not None,
            offline=offline,
        )

    @property
    def window_start(self) -> datetime:
        """Where the current window begins."""
        return self.as_of - timedelta(days=self.window_days)

    @property
    def previous_start(self) -> datetime:
        """Where the previous window (the one the trend compares with) begins."""
        return self.as_of - timedelta(days=2 * self.window_days)

    def history_start(self, history_days: int = DEFAULT_HISTORY_DAYS) -> datetime:
        """Where a sync starts fetching (SPEC §9): ``history_days`` back from now, and
        always early enough that the current and previous windows are both full."""
        return min(self.now - timedelta(days=history_days), self.previous_start)

    def with_window(self, window_days: int) -> ScoreRequest:
        """The same request over another window length."""
        return replace(self, window_days=window_days)

    def at(self, now: datetime) -> ScoreRequest:
        """The same request made again at ``now``: ``as_of`` follows unless pinned."""
        moment = aware(now)
        return replace(self, now=moment, as_of=self.as_of if self.pinned else moment)
