"""What the app hands its screens: the data on show and what the session is doing.

Screens never read the app's attributes. The app builds a :class:`Shown` (the
scorecard or the saved overview rows, errors, monitoring extras, the palette)
and a :class:`Status` (the header line and the busy bar) whenever either
changes, and passes them to every screen on the stack; a new screen gets them in
its constructor. Both are immutable: a screen keeps the last one it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from scorecard.request import utcnow
from scorecard.tui.palette import Palette

if TYPE_CHECKING:
    from scorecard.service import Scorecard

Rows = Mapping[str, Mapping[str, Any]]
"""Overview rows by team (``scorecard.summary.row_from_report``'s shape)."""


@dataclass(frozen=True)
class Busy:
    """A worker's progress: ``label`` while it runs, ``done`` of ``total`` steps."""

    label: str
    done: float = 0.0
    total: float | None = None


@dataclass(frozen=True)
class Status:
    """The header line and the busy bar every full screen shows."""

    header: Text = field(default_factory=Text)
    busy: Busy | None = None


@dataclass(frozen=True)
class Shown:
    """The data every screen draws from."""

    scorecard: Scorecard | None = None
    """The scorecard on show; None while the first one is built."""
    rows: Rows | None = None
    """The overview's rows: the scorecard's, or the saved summary's until it arrives."""
    load_error: str | None = None
    """Why the first scorecard could not be built."""
    stale_error: str | None = None
    """Why the last refresh or recompute failed (the data shown is the last good one)."""
    extras: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per team, alerts firing now and monitoring query results."""
    weekly: Any = None
    """Weekly metrics of the scorecard's report, once a team screen has computed them."""
    now: datetime = field(default_factory=utcnow)
    """The app's clock when this was made (how long ago things happened)."""
    palette: Palette = field(default_factory=Palette)

    @property
    def stale(self) -> bool:
        """True when every team's data is the last good one (a refresh failed)."""
        return self.stale_error is not None
