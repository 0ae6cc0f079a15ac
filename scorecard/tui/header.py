"""The status line on top of every screen, built once for the TUI and the standup.

``[RW] Acme · 30-day window · as of … (now) · synced … · ⚠ 1 source failed`` (and
``published by … 2 hours ago`` for a shared cache):
what data is on screen (:class:`About`, from a scorecard or from a saved
overview summary) and what the session is doing (busy, pending, stale). Names
from other systems (org, sources, errors) are shown literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from scorecard.tui.palette import Palette
from scorecard.tui.widgets.text import literal

if TYPE_CHECKING:
    from scorecard.service import Scorecard
    from scorecard.summary import Summary


def humanized(now: datetime, when: Any) -> str:
    """``5 minutes ago`` (``never`` for None); ``when`` may be a pandas Timestamp."""
    import humanize

    if when is None:
        return "never"
    moment = when.to_pydatetime() if hasattr(when, "to_pydatetime") else when
    return str(humanize.naturaltime(now - moment))


def last_synced(scorecard: Scorecard) -> datetime | None:
    """The latest successful sync of any of the scorecard's sources."""
    times = [s.last_success_at for s in scorecard.statuses.values() if s.last_success_at]
    return max(times) if times else None


@dataclass(frozen=True)
class About:
    """What the header says about the data on screen."""

    org: str | None = None
    window_days: int | None = None
    as_of: datetime | None = None
    synced: datetime | None = None
    failed: tuple[str, ...] = ()
    demo: bool = False
    published_by: str | None = None
    """Whose sync a shared cache holds (SPEC §9); None: the local cache."""
    published_at: datetime | None = None

    @classmethod
    def of_scorecard(cls, scorecard: Scorecard) -> About:
        report = scorecard.report
        published = scorecard.publication
        return cls(
            org=report.org,
            window_days=int(report.window_days),
            as_of=report.as_of.to_pydatetime(),
            synced=last_synced(scorecard),
            failed=tuple(scorecard.failed_sources()),
            demo=scorecard.demo,
            published_by=published.publisher if published else None,
            published_at=published.published_at if published else None,
        )

    @classmethod
    def of_summary(cls, summary: Summary) -> About:
        return cls(
            org=summary.org,
            window_days=summary.window_days,
            as_of=summary.as_of,
            synced=summary.last_synced,
            failed=tuple(summary.failed_sources),
            demo=summary.demo,
        )


@dataclass(frozen=True)
class Doing:
    """What the session is doing besides showing data."""

    read_only: bool
    busy: str | None = None
    """A worker is loading, recomputing or refreshing (shown in italics)."""
    pending: str | None = None
    """Saved data is on screen while the fresh scorecard is built."""
    stale_error: str | None = None
    """The last refresh failed; the data shown is the last good one."""
    live: bool = False
    """The data was fetched into memory just now (standup --live)."""


def header_text(about: About, doing: Doing, *, now: datetime, palette: Palette) -> Text:
    """The whole status line."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("[RO]" if doing.read_only else "[RW]", style="bold reverse")
    text.append(" ")
    text.append_text(literal(about.org or "scorecard", "bold"))
    if about.demo and "demo" not in (about.org or "").casefold():
        text.append(" (demo data)", style="italic")
    if about.window_days:
        text.append(f" · {about.window_days}-day window")
    if about.as_of is not None:
        text.append(f" · as of {about.as_of.strftime('%Y-%m-%d %H:%M UTC')}")
        text.append(f" ({humanized(now, about.as_of)})")
    if doing.pending:  # saved data on screen: say so next to its as-of
        text.append(" · ")
        text.append(doing.pending, style=f"bold {palette.warn}")
    if about.synced is not None:
        synced = "live" if doing.live else humanized(now, about.synced)
        text.append(f" · synced {synced}")
    if about.published_by is not None:
        text.append(" · published by ")
        text.append_text(literal(about.published_by, "bold"))
        text.append(f" {humanized(now, about.published_at)}")
    text.append_text(trouble_text(about.failed, doing, palette))
    return text


def trouble_text(failed: tuple[str, ...], doing: Doing, palette: Palette) -> Text:
    """The tail of the line: failed sources, a stale marker, what is running."""
    text = Text()
    if failed:
        noun = "source" if len(failed) == 1 else "sources"
        text.append(" · ")
        text.append(f"⚠ {len(failed)} {noun} failed: ", style=f"bold {palette.bad}")
        text.append_text(literal(", ".join(failed), f"bold {palette.bad}"))
    if doing.stale_error:
        text.append(" · ")
        text.append("STALE: ", style=f"bold {palette.warn}")
        text.append_text(literal(doing.stale_error, palette.warn))
    if doing.busy:
        text.append(" · ")
        text.append(doing.busy, style="italic")
    return text
