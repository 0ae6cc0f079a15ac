"""The standup view (SPEC §8): one team at a time, in large type, on a shared screen.

``scorecard standup`` is always read-only: it reads the cache (or, with
``--live``, fetches into memory), binds no action that writes, and offers no
command palette. Cards rotate every ``interval`` seconds, flagged teams first;
``space`` pauses, ``n``/``p`` step, ``q`` quits.

The cards are built here as plain data (:class:`Card`) from a scored report, in
a worker thread, so the screen only lays out strings and numbers.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from scorecard.tui.palette import Palette
from scorecard.tui.view import humanized, last_synced, sorted_teams
from scorecard.tui.widgets.infobar import info_text
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from scorecard.service import Scorecard

DEFAULT_INTERVAL: Final = 15.0
TOP_REASONS: Final = 3

StandupLoader = Callable[[], "Scorecard"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- cards


@dataclass(frozen=True)
class Card:
    """Everything one standup card shows, as plain values."""

    team: str
    grade: str | None
    pressure: float | None
    rigor: float | None
    stability: float | None
    gap: float | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    """The top reasons (flag reasons come first in a report)."""
    more_reasons: int
    deploys: int | None
    deploys_per_day: float | None
    incidents: int | None
    incidents_sev1_2: int | None
    incidents_open: int | None
    synced: str
    """Freshness of the team's data, e.g. ``github, pagerduty synced 10 minutes ago``."""
    failed: tuple[str, ...] = ()
    """Failures of the team's sources, e.g. ``gitlab failed 2 hours ago``."""


def _value(row: Any, column: str) -> Any:
    v = row.get(column) if hasattr(row, "get") else None
    if v is None:
        return None
    try:
        if isinstance(v, float) and math.isnan(v):
            return None
    except TypeError:
        return None
    return v


def _float(row: Any, column: str) -> float | None:
    v = _value(row, column)
    return float(v) if v is not None else None


def _int(row: Any, column: str) -> int | None:
    v = _value(row, column)
    return int(v) if v is not None else None


def _teams_by_source(scorecard: Scorecard) -> dict[str, set[str]]:
    from scorecard.service import teams_by_source

    try:
        return teams_by_source(scorecard.report.prepared)
    except (AttributeError, KeyError):
        return {}


def _freshness(
    scorecard: Scorecard, team: str, by_source: dict[str, set[str]], now: datetime
) -> tuple[str, tuple[str, ...]]:
    names = sorted(n for n, teams in by_source.items() if team in teams)
    statuses = scorecard.statuses
    mine = [statuses[n] for n in names if n in statuses]
    failed = tuple(
        f"{safe_text(getattr(s, 'name', '?'))} failed "
        f"{humanized(now, getattr(s, 'last_attempt_at', None) or now)}"
        for s in mine
        if getattr(s, "last_error", None)
    )
    # Sources that failed for everyone (and so delivered nothing) still matter.
    for name, status in sorted(statuses.items()):
        if getattr(status, "last_error", None) and name not in names and name not in by_source:
            when = getattr(status, "last_attempt_at", None) or now
            failed += (f"{safe_text(name)} failed {humanized(now, when)}",)
    successes = [
        getattr(s, "last_success_at", None)
        for s in mine
        if getattr(s, "last_success_at", None) is not None
    ]
    if successes:
        synced = f"{', '.join(names)} synced {humanized(now, min(successes))}"
    else:
        overall = last_synced(scorecard)
        synced = f"synced {humanized(now, overall)}" if overall is not None else "never synced"
    return synced, failed


def build_cards(scorecard: Scorecard, now: datetime, teams: Sequence[str] = ()) -> list[Card]:
    """One card per team, flagged first then widest gap (only ``teams`` when given)."""
    report = scorecard.report
    table = report.table
    order = sorted_teams(table)
    if teams:
        wanted = {t.casefold() for t in teams}
        order = [t for t in order if t.casefold() in wanted]
    by_source = _teams_by_source(scorecard)
    cards = []
    for team in order:
        row = table.loc[team]
        reasons = [str(r) for r in (row.get("reasons") or [])]
        synced, failed = _freshness(scorecard, team, by_source, now)
        grade = _value(row, "grade")
        cards.append(
            Card(
                team=team,
                grade=str(grade) if grade is not None else None,
                pressure=_float(row, "pressure"),
                rigor=_float(row, "rigor"),
                stability=_float(row, "stability"),
                gap=_float(row, "gap"),
                flags=tuple(str(f) for f in (row.get("flags") or [])),
                reasons=tuple(reasons[:TOP_REASONS]),
                more_reasons=max(len(reasons) - TOP_REASONS, 0),
                deploys=_int(row, "deploys"),
                deploys_per_day=_float(row, "deploys_per_day"),
                incidents=_int(row, "incidents"),
                incidents_sev1_2=_int(row, "incidents_sev1_2"),
                incidents_open=_int(row, "incidents_open"),
                synced=synced,
                failed=failed,
            )
        )
    return cards


def resolve_teams(names: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """``names`` matched case-insensitively to ``known``; ValueError naming a close one."""
    by_fold = {k.casefold(): k for k in known}
    out: list[str] = []
    for name in names:
        found = by_fold.get(name.casefold())
        if found is None:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"teams: {', '.join(known)}"
            raise ValueError(f"no team named `{name}` ({hint})")
        if found not in out:
            out.append(found)
    return tuple(out)


# --------------------------------------------------------------------------- the app


@dataclass
class StandupOptions:
    """How the command line started the standup view."""

    interval: float = DEFAULT_INTERVAL
    teams: tuple[str, ...] = ()
    live: bool = False


class StandupApp(App[int]):
    """A read-only, rotating standup view: one team card at a time."""

    CSS_PATH = "scorecard.tcss"
    TITLE = "scorecard standup"
    ENABLE_COMMAND_PALETTE = False  # a shared screen offers nothing beyond its keys
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/resume", key_display="space"),
        Binding("n", "next", "Next"),
        Binding("p", "previous", "Previous"),
        Binding("right", "next", "Next", show=False),
        Binding("left", "previous", "Previous", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        loader: StandupLoader,
        options: StandupOptions | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.options = options or StandupOptions()
        self.loader = loader
        self.now = now or utcnow
        self.read_only = True  # always: standup never writes
        self.interval = max(float(self.options.interval), 0.05)
        self.scorecard: Scorecard | None = None
        self.cards: list[Card] = []
        self.index = 0
        self.paused = False
        self.busy: str | None = "fetching live data…" if self.options.live else "reading cache…"
        self.load_error: str | None = None
        self.rotations = 0
        self._timer: Any = None

    # ----------------------------------------------------------------- lifecycle

    def get_default_screen(self) -> Screen[Any]:
        from scorecard.tui.screens.standup import StandupScreen

        return StandupScreen()

    def on_mount(self) -> None:
        self._load()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                continue  # writes a file
            yield command

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("screenshot", "command_palette"):
            return False  # standup writes nothing and offers no palette
        return super().check_action(action, parameters)

    @work(thread=True, exclusive=True, group="data")
    def _load(self) -> None:
        worker = get_current_worker()
        try:
            scorecard = self.loader()
            cards = build_cards(scorecard, self.now(), self.options.teams)
        except Exception as exc:  # shown on screen, never a crash
            if not worker.is_cancelled:
                message = safe_text(str(exc) or type(exc).__name__)
                self._from_thread(self._on_failed, message)
            return
        if not worker.is_cancelled:
            self._from_thread(self._on_loaded, scorecard, cards)

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(callback, *args)

    def _on_loaded(self, scorecard: Scorecard, cards: list[Card]) -> None:
        self.scorecard = scorecard
        self.cards = cards
        self.busy = None
        self.index = 0
        for notice in scorecard.notices:
            self.notify(safe_text(notice), title="Cache", markup=False, timeout=8)
        if len(cards) > 1:
            self._timer = self.set_interval(self.interval, self._rotate, pause=self.paused)
        self._redraw()

    def _on_failed(self, message: str) -> None:
        self.busy = None
        self.load_error = message
        self._redraw()

    def _redraw(self) -> None:
        redraw = getattr(self.screen, "redraw", None)
        if redraw is not None:
            redraw()

    @property
    def card(self) -> Card | None:
        return self.cards[self.index] if self.cards else None

    def info_text(self) -> Text:
        palette = Palette.from_variables(self.theme_variables)
        sc = self.scorecard
        now = self.now()
        report = sc.report if sc is not None else None
        as_of = report.as_of.to_pydatetime() if report is not None else None
        synced = last_synced(sc) if sc is not None else None
        text = info_text(
            org=report.org if report is not None else None,
            window_days=int(report.window_days) if report is not None else None,
            as_of=as_of.strftime("%Y-%m-%d %H:%M UTC") if as_of is not None else None,
            as_of_ago=humanized(now, as_of) if as_of is not None else None,
            synced_ago=(
                "live"
                if self.options.live and synced is not None
                else humanized(now, synced)
                if synced is not None
                else None
            ),
            failed=sc.failed_sources() if sc is not None else [],
            busy=self.busy,
            stale_error=None,
            read_only=True,
            demo=bool(sc is not None and sc.demo),
            palette_bad=palette.bad,
            palette_warn=palette.warn,
        )
        return text

    # ----------------------------------------------------------------- actions

    def _rotate(self) -> None:
        if self.paused or len(self.cards) < 2:
            return
        self.rotations += 1
        self.index = (self.index + 1) % len(self.cards)
        self._redraw()

    def step(self, delta: int) -> None:
        if not self.cards:
            return
        self.index = (self.index + delta) % len(self.cards)
        if self._timer is not None:
            self._timer.reset()  # the new card gets a full interval
            if self.paused:
                self._timer.pause()
        self._redraw()

    def action_next(self) -> None:
        self.step(1)

    def action_previous(self) -> None:
        self.step(-1)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self._timer is not None:
            if self.paused:
                self._timer.pause()
            else:
                self._timer.reset()
        self._redraw()


def run_standup(loader: StandupLoader, options: StandupOptions) -> int:
    """Run the standup view until the user quits; the process exit code."""
    app = StandupApp(loader, options)
    result = app.run()
    return int(result or 0) if isinstance(result, int) else int(app.return_code or 0)
