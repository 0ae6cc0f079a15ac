"""The scorecard TUI: an overview of every team and the screens behind it (SPEC §7).

The app owns the session's state and hands it to its screens (``state.Shown``
and ``state.Status``); screens answer with messages (``TeamSelected``, ...).
The app paints at once and builds its scorecard in a worker thread (pandas is
imported there, lazily). When the last session saved an overview summary for
the same data (``scorecard.summary``), the overview shows it at once, labelled
with its own as-of and "updating…", until the fresh scorecard replaces it.
Window switches and refreshes run in workers too; failures become
notifications and a STALE marker, never a crash. Read-only
sessions do not bind the actions that write (export, refresh that syncs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from scorecard.model import UNASSIGNED
from scorecard.request import DEFAULT_WINDOW_DAYS, WINDOW_CHOICES, utcnow
from scorecard.summary import Summary, rows_from_report
from scorecard.tui.commands import Menu, ScorecardCommands
from scorecard.tui.data import Loader, Refresher, TuiOptions, sources_for
from scorecard.tui.header import About, Doing, header_text
from scorecard.tui.palette import palette_of
from scorecard.tui.saved import read_summary, save_summary, summary_file
from scorecard.tui.screens.base import ScorecardScreen
from scorecard.tui.screens.overview import OverviewScreen
from scorecard.tui.state import Busy, Rows, Shown, Status
from scorecard.tui.threads import from_thread
from scorecard.tui.widgets.firing import extras_for
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from scorecard.scoring import Report
    from scorecard.service import Scorecard
    from scorecard.tui.screens.team import TeamScreen


__all__ = ["ScorecardApp", "TuiOptions", "run"]


class ScorecardApp(App[int]):
    """Per-team scorecards: where shipping pressure outpaces engineering rigor."""

    CSS_PATH = "scorecard.tcss"
    TITLE = "scorecard"
    COMMANDS = App.COMMANDS | {ScorecardCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("m", "map", "Map"),
        Binding("d", "sources", "Sources"),
        Binding("w", "window", "Window"),
        Binding("t", "trends", "Trends", show=False),
    ]

    def __init__(
        self,
        options: TuiOptions | None = None,
        *,
        loader: Loader | None = None,
        refresher: Refresher | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.options = options or TuiOptions(demo=True)
        # The command line resolves --readonly / read_only = true / --write into this flag.
        self.read_only = bool(self.options.read_only)
        self.now = now or utcnow
        self._wire_data(loader, refresher)
        self.scorecard: Scorecard | None = None
        self.window_days: int | None = self.options.window_days
        self.busy: str | None = "loading scorecard…"
        self.progress: tuple[float, float | None] | None = None
        self.stale_error: str | None = None
        self.load_error: str | None = None
        self._weekly: tuple[Report, Any] | None = None
        self._rows: tuple[Scorecard, Rows] | None = None
        # The saved overview summary shown until the first scorecard arrives (stdlib only).
        self.summary: Summary | None = read_summary(self._summary_path(self.window_days))
        if self.summary is not None:
            self.busy = "updating…"

    def _wire_data(self, loader: Loader | None, refresher: Refresher | None) -> None:
        """Loader and refresher (injected or from the options), and the keys they bind."""
        found = sources_for(self.options, self.now)
        self.requests = found.request
        self.loader: Loader = loader or found.loader
        self.refresher: Refresher | None = (
            None if self.read_only else (refresher or found.refresher)
        )
        self.refresh_label = found.refresh_label if refresher is None else "Refresh"
        self.refresh_help = (
            "Sync every source, then rescore"
            if found.refresh_writes
            else "Rebuild the scorecard from its data"
        )
        self.can_export = not self.read_only
        # Write actions are bound only when allowed: absent, not greyed out.
        if self.refresher is not None:
            self._bindings.bind("r", "refresh", self.refresh_label)
        if self.can_export:
            self._bindings.bind("e", "export", "Export")

    # ----------------------------------------------------------------- state

    def summary_file(self, window: int | None) -> Path | None:
        """Where the overview summary for ``window`` lives (None: this session has none)."""
        return summary_file(
            demo=self.options.demo,
            config=self.options.config,
            window=window,
            as_of=self.options.as_of,
            store_root=self.options.store_root,
        )

    def _summary_path(self, window: int | None) -> Path | None:
        try:
            return self.summary_file(window)
        except Exception:  # a summary is only ever a head start
            return None

    def overview_rows(self) -> Rows | None:
        """The overview's rows: from the scorecard, else from the saved summary, else None."""
        if self.scorecard is not None:
            if self._rows is None or self._rows[0] is not self.scorecard:
                self._rows = (self.scorecard, rows_from_report(self.scorecard.report))
            return self._rows[1]
        if self.summary is not None:
            return self.summary.rows
        return None

    def shown(self) -> Shown:
        """What the screens draw now."""
        sc = self.scorecard
        weekly = self._weekly
        current = weekly is not None and sc is not None and weekly[0] is sc.report
        return Shown(
            scorecard=sc,
            rows=self.overview_rows(),
            load_error=self.load_error,
            stale_error=self.stale_error,
            extras=extras_for(sc, self.options.store_root),
            weekly=weekly[1] if weekly is not None and current else None,
            now=self.now(),
            palette=palette_of(self),
        )

    def status(self) -> Status:
        """The header line and the busy bar now."""
        done, total = self.progress or (0.0, None)
        busy = Busy(self.busy, done, total) if self.busy is not None else None
        return Status(header=self.info_text(), busy=busy)

    def info_text(self) -> Text:
        """The header line (see :mod:`scorecard.tui.header`)."""
        sc = self.scorecard
        if sc is None and self.summary is not None:
            about = About.of_summary(self.summary)
            doing = Doing(
                self.read_only, pending=self.busy or "updating…", stale_error=self.stale_error
            )
        else:
            about = (
                About.of_scorecard(sc) if sc is not None else About(window_days=self.window_days)
            )
            doing = Doing(self.read_only, busy=self.busy, stale_error=self.stale_error)
        return header_text(about, doing, now=self.now(), palette=palette_of(self))

    def broadcast(self, *, data: bool = False) -> None:
        """Hand every screen on the stack the new status (and, with ``data``, the data)."""
        status = self.status()
        shown = self.shown() if data else None
        for screen in self.screen_stack:
            if isinstance(screen, ScorecardScreen):
                screen.show_status(status)
                if shown is not None:
                    screen.show(shown)

    def need_scorecard(self, what: str) -> bool:
        """Whether the scorecard is here; if not, say it is still loading."""
        if self.scorecard is not None:
            return True
        if self.load_error is None:
            self.notify(f"{what}: the scorecard is still loading", markup=False)
        return False

    def team_names(self) -> list[str]:
        """Teams of the scorecard on show (none while it is built)."""
        if self.scorecard is None:
            return []
        return [str(t) for t in self.scorecard.report.table.index]

    def command_menu(self) -> Menu:
        """What the command palette offers now."""
        refresh = (self.refresh_label, self.refresh_help) if self.refresher is not None else None
        return Menu(teams=tuple(self.team_names()), export=self.can_export, refresh=refresh)

    # ----------------------------------------------------------------- lifecycle

    def get_default_screen(self) -> Screen[Any]:
        return OverviewScreen(self.shown(), self.status())

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, lambda _theme: self.broadcast(data=True))
        if self.summary is not None:
            # Paint the saved rows first: building the scorecard imports pandas, which
            # competes with the first paint for the interpreter.
            self.busy = "updating…"
            self.call_after_refresh(self._after_first_refresh)
        else:
            self.start_load(self.window_days)

    def _after_first_refresh(self) -> None:
        # the overview has its rows now; start once the screen has painted them
        self.screen.call_after_refresh(self._start_first_load)

    def _start_first_load(self) -> None:
        if self.scorecard is None and not self.workers:
            self.start_load(self.window_days)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if self.read_only and command.title == "Screenshot":
                continue  # writes a file
            yield command

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in ("export", "refresh", "screenshot"):
            return False  # belt and braces: these are not bound when read-only
        return super().check_action(action, parameters)

    # ----------------------------------------------------------------- data

    def start_load(self, window: int | None, *, refresh: bool = False, label: str = "") -> None:
        showing_saved = self.scorecard is None and self.summary is not None
        self.busy = label or ("updating…" if showing_saved else "loading scorecard…")
        self.progress = (0.0, None)
        self.broadcast()
        self._load_worker(window, refresh)

    @work(thread=True, exclusive=True, group="data")
    def _load_worker(self, window: int | None, refresh: bool) -> None:
        worker = get_current_worker()

        def progress(source: str, message: str) -> None:
            from_thread(self, self._on_progress, source, message)

        try:
            request = self.requests(window)
            if refresh and self.refresher is not None:
                scorecard = self.refresher(request, progress)
            else:
                scorecard = self.loader(request)
            if not worker.is_cancelled and not self.read_only:
                save_summary(self._summary_path(window), scorecard)
        except Exception as exc:  # every failure becomes a notification
            if not worker.is_cancelled:
                from_thread(self, self._on_failed, exc, refresh)
            return
        if not worker.is_cancelled:
            from_thread(self, self._on_loaded, scorecard, refresh)

    def _on_progress(self, source: str, message: str) -> None:
        self.busy = f"{safe_text(source)}: {safe_text(message)}"
        done, _ = self.progress or (0.0, None)
        total = max(len(self.scorecard.statuses), 1) * 2 if self.scorecard else None
        self.progress = (done + 1, total)
        self.broadcast()

    def _on_loaded(self, scorecard: Scorecard, refresh: bool) -> None:
        self.scorecard = scorecard
        self.window_days = int(scorecard.report.window_days)
        self.busy = None
        self.progress = None
        self.stale_error = None
        self.load_error = None
        for notice in scorecard.notices:
            self.notify(safe_text(notice), title="Cache", markup=False, timeout=8)
        if refresh:
            self._notify_refreshed(scorecard.failed_sources())
        self.broadcast(data=True)

    def _notify_refreshed(self, failed: list[str]) -> None:
        if failed:
            self.notify(
                f"{len(failed)} source(s) failed: {', '.join(failed)}; "
                "their teams are marked stale",
                title="Refresh",
                severity="warning",
                markup=False,
            )
        else:
            self.notify("Scorecard refreshed", title="Refresh", markup=False)

    def _on_failed(self, exc: BaseException, refresh: bool) -> None:
        message = safe_text(str(exc) or type(exc).__name__)
        self.busy = None
        self.progress = None
        if self.scorecard is None:
            self.load_error = message
            self.summary = None  # never show saved rows as if they were current
        else:
            self.stale_error = (
                f"refresh failed, showing the last data ({message})"
                if refresh
                else f"recompute failed, showing the last data ({message})"
            )
        self.notify(
            message,
            title="Refresh failed" if refresh else "Could not build the scorecard",
            severity="error",
            markup=False,
            timeout=10,
        )
        self.broadcast(data=True)

    # ----------------------------------------------------------------- messages

    def on_scorecard_screen_team_selected(self, event: ScorecardScreen.TeamSelected) -> None:
        self.open_team(event.team)

    def on_scorecard_screen_window_chosen(self, event: ScorecardScreen.WindowChosen) -> None:
        self.switch_window(event.days)

    def on_scorecard_screen_opened(self, event: ScorecardScreen.Opened) -> None:
        event.screen.show_status(self.status())
        event.screen.show(self.shown())

    def on_team_screen_weekly_computed(self, event: TeamScreen.WeeklyComputed) -> None:
        self._weekly = (event.report, event.weekly)

    # ----------------------------------------------------------------- actions

    def switch_window(self, days: int) -> None:
        if self.summary is not None and self.scorecard is None:
            self.summary = None  # the saved rows are for another window
            self.broadcast(data=True)
        self.start_load(days, label=f"computing the {days}-day window…")

    def action_window(self) -> None:
        current = self.window_days or DEFAULT_WINDOW_DAYS
        later = [w for w in WINDOW_CHOICES if w > current]
        self.switch_window(later[0] if later else WINDOW_CHOICES[0])

    def action_refresh(self) -> None:
        if self.refresher is None:
            return
        label = "regenerating…" if self.options.demo else "refreshing…"
        self.start_load(self.window_days, refresh=True, label=label)

    def action_help(self) -> None:
        from scorecard.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.screen))

    def action_map(self) -> None:
        from scorecard.tui.screens.map import MapScreen

        if self.need_scorecard("Map") and not isinstance(self.screen, MapScreen):
            self.push_screen(MapScreen(self.shown(), self.status()))

    def action_sources(self) -> None:
        from scorecard.tui.screens.sources import SourcesScreen

        if self.need_scorecard("Sources") and not isinstance(self.screen, SourcesScreen):
            self.push_screen(SourcesScreen(self.shown(), self.status()))

    def action_export(self) -> None:
        from scorecard.tui.screens.export import ExportScreen

        if not self.can_export:
            return
        if self.scorecard is None:
            self.notify("Nothing to export yet: the scorecard is still loading", markup=False)
            return
        if not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen(self.scorecard.report))

    def open_team(self, team: str) -> None:
        """Open ``team``'s screen (when the scorecard has it)."""
        from scorecard.tui.screens.team import TeamScreen

        if team == UNASSIGNED:  # whose is it? the team map says
            self.action_teams()
            return
        if not self.need_scorecard("Team details") or team not in self.team_names():
            return
        self.push_screen(TeamScreen(team, self.shown(), self.status()))

    def action_teams(self) -> None:
        """The team map: origins, unassigned repos and services, discovery problems."""
        from scorecard.tui.screens.teams import TeamsScreen

        if self.need_scorecard("Teams") and not isinstance(self.screen, TeamsScreen):
            self.push_screen(TeamsScreen(self.shown(), self.status()))

    def action_trends(self) -> None:
        """Scores over months from the cache's snapshots (the demo: recomputed)."""
        from scorecard.fs import cache_dir
        from scorecard.tui.screens.trends import TrendsScreen

        if self.need_scorecard("Trends") and not isinstance(self.screen, TrendsScreen):
            root = None if self.options.demo else (self.options.store_root or cache_dir())
            self.push_screen(TrendsScreen(self.shown(), self.status(), root=root))


def run(options: TuiOptions) -> int:
    """Run the TUI until the user quits; the process exit code."""
    app = ScorecardApp(options)
    result = app.run()
    return int(result or 0) if isinstance(result, int) else int(app.return_code or 0)
