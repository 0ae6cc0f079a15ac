"""The scorecard TUI: an overview of every team and the screens behind it (SPEC §7).

The app paints at once and builds its scorecard in a worker thread (pandas is
imported there, lazily). When the last session saved an overview summary for
the same data (``scorecard.summary``), the overview shows it at once, labelled
with its own as-of and "updating…", until the fresh scorecard replaces it.
Window switches and refreshes run in workers too; failures become
notifications and a STALE marker, never a crash. Read-only
sessions do not bind the actions that write (export, refresh that syncs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from scorecard import summary as summaries
from scorecard.tui.commands import ScorecardCommands
from scorecard.tui.data import Loader, Refresher, sources_for
from scorecard.tui.palette import Palette
from scorecard.tui.view import WINDOWS, humanized, last_synced
from scorecard.tui.widgets.infobar import InfoBar, info_text
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from scorecard.config import Config
    from scorecard.service import Scorecard


@dataclass
class TuiOptions:
    """How the command line started the TUI."""

    config: Config | None = None
    demo: bool = False
    read_only: bool = False
    offline: bool = False
    as_of: datetime | None = None
    window_days: int | None = None
    store_root: Path | None = None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def palette_of(app: App[Any]) -> Palette:
    return Palette.from_variables(app.theme_variables)


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
        config = self.options.config
        # The command line resolves --readonly / read_only = true / --write into this flag.
        self.read_only = bool(self.options.read_only)
        self.now = now or utcnow
        found = sources_for(
            config=config,
            demo=self.options.demo,
            read_only=self.read_only,
            offline=self.options.offline,
            as_of=self.options.as_of,
            store_root=self.options.store_root,
            now=self.now,
        )
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
        self.scorecard: Scorecard | None = None
        self.window_days: int | None = self.options.window_days
        self.busy: str | None = "loading scorecard…"
        self.progress: tuple[float, float | None] | None = None
        self.stale_error: str | None = None
        self.load_error: str | None = None
        self.weekly_cache: dict[int, Any] = {}
        # The saved overview summary shown until the first scorecard arrives (stdlib only).
        self._rows: dict[str, dict[str, Any]] = {}
        self._rows_for: Scorecard | None = None
        self.summary: summaries.Summary | None = self._read_summary()
        if self.summary is not None:
            self.busy = "updating…"

    # ----------------------------------------------------------------- summary

    def summary_file(self, window: int | None) -> Path | None:
        """Where the overview summary for ``window`` lives (None: this session has none)."""
        config = self.options.config
        key = summaries.summary_key(
            demo=self.options.demo,
            config_path=getattr(config, "path", None) if config is not None else None,
            window_days=window,
            as_of=self.options.as_of,
        )
        if key is None:
            return None
        return summaries.summary_path(key, None if self.options.demo else self.options.store_root)

    def _read_summary(self) -> summaries.Summary | None:
        try:
            path = self.summary_file(self.window_days)
            saved = summaries.read(path) if path is not None else None
            if saved is None and path is not None and path.stem == "demo":
                saved = summaries.packaged_demo()  # the first demo ever: the shipped one
            return saved
        except Exception:  # a summary is only ever a head start
            return None

    def _save_summary(self, scorecard: Scorecard, window: int | None) -> None:
        """Save what the overview shows for next start; never when read-only."""
        if self.read_only:
            return
        try:
            from scorecard import service

            path = self.summary_file(window)
            if path is not None:
                summaries.write(path, service.overview_summary(scorecard))
        except Exception:  # best effort: the next start just waits for the scorecard
            return

    def overview_rows(self) -> dict[str, dict[str, Any]] | None:
        """The overview's rows: from the scorecard, else from the saved summary, else None."""
        if self.scorecard is not None:
            if self._rows_for is not self.scorecard:
                self._rows = summaries.rows_from_report(self.scorecard.report)
                self._rows_for = self.scorecard
            return self._rows
        if self.summary is not None:
            return self.summary.rows
        return None

    def need_scorecard(self, what: str) -> bool:
        """Whether the scorecard is here; if not, say it is still loading."""
        if self.scorecard is not None:
            return True
        if self.load_error is None:
            self.notify(f"{what}: the scorecard is still loading", markup=False)
        return False

    # ----------------------------------------------------------------- lifecycle

    def get_default_screen(self) -> Screen[Any]:
        from scorecard.tui.screens.overview import OverviewScreen

        return OverviewScreen()

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

    def team_names(self) -> list[str]:
        if self.scorecard is None:
            return []
        return [str(t) for t in self.scorecard.report.table.index]

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
            self._from_thread(self._on_progress, source, message)

        try:
            if refresh and self.refresher is not None:
                scorecard = self.refresher(window, progress)
            else:
                scorecard = self.loader(window)
            if not worker.is_cancelled:
                self._save_summary(scorecard, window)
        except Exception as exc:  # every failure becomes a notification
            if not worker.is_cancelled:
                self._from_thread(self._on_failed, exc, refresh)
            return
        if not worker.is_cancelled:
            self._from_thread(self._on_loaded, scorecard, refresh)

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(callback, *args)

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
            failed = scorecard.failed_sources()
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
        self.broadcast(data=True)

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

    def broadcast(self, *, data: bool = False) -> None:
        """Tell every screen on the stack that the header (and maybe the data) changed."""
        for screen in self.screen_stack:
            for bar in screen.query(InfoBar):
                bar.update_info()
            updater = getattr(screen, "update_busy", None)
            if updater is not None:
                updater()
            if data:
                handler = getattr(screen, "data_changed", None)
                if handler is not None:
                    handler()

    def info_text(self) -> Text:
        palette = palette_of(self)
        sc = self.scorecard
        now = self.now()
        if sc is None and self.summary is not None:
            saved = self.summary
            return info_text(
                org=saved.org,
                window_days=saved.window_days,
                as_of=saved.as_of.strftime("%Y-%m-%d %H:%M UTC"),
                as_of_ago=humanized(now, saved.as_of),
                synced_ago=humanized(now, saved.last_synced) if saved.last_synced else None,
                failed=saved.failed_sources,
                busy=None,
                pending=self.busy or "updating…",
                stale_error=self.stale_error,
                read_only=self.read_only,
                demo=saved.demo,
                palette_bad=palette.bad,
                palette_warn=palette.warn,
            )
        report = sc.report if sc is not None else None
        as_of = report.as_of.to_pydatetime() if report is not None else None
        synced = last_synced(sc) if sc is not None and not sc.demo else None
        if sc is not None and sc.demo:
            synced = last_synced(sc)
        return info_text(
            org=report.org if report is not None else None,
            window_days=int(report.window_days) if report is not None else self.window_days,
            as_of=as_of.strftime("%Y-%m-%d %H:%M UTC") if as_of is not None else None,
            as_of_ago=humanized(now, as_of) if as_of is not None else None,
            synced_ago=humanized(now, synced) if synced is not None else None,
            failed=sc.failed_sources() if sc is not None else [],
            busy=self.busy,
            stale_error=self.stale_error,
            read_only=self.read_only,
            demo=bool(sc is not None and sc.demo),
            palette_bad=palette.bad,
            palette_warn=palette.warn,
        )

    # ----------------------------------------------------------------- actions

    def switch_window(self, days: int) -> None:
        if self.summary is not None and self.scorecard is None:
            self.summary = None  # the saved rows are for another window
            self.broadcast(data=True)
        self.start_load(days, label=f"computing the {days}-day window…")

    def action_window(self) -> None:
        current = self.window_days or 30
        later = [w for w in WINDOWS if w > current]
        self.switch_window(later[0] if later else WINDOWS[0])

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

        if not self.need_scorecard("Map"):
            return
        if not isinstance(self.screen, MapScreen):
            self.push_screen(MapScreen())

    def action_sources(self) -> None:
        from scorecard.tui.screens.sources import SourcesScreen

        if not self.need_scorecard("Sources"):
            return
        if not isinstance(self.screen, SourcesScreen):
            self.push_screen(SourcesScreen())

    def action_export(self) -> None:
        from scorecard.tui.screens.export import ExportScreen

        if not self.can_export:
            return
        if self.scorecard is None:
            self.notify("Nothing to export yet: the scorecard is still loading", markup=False)
            return
        if not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen())

    def open_team(self, team: str) -> None:
        from scorecard.tui.screens.team import TeamScreen

        if not self.need_scorecard("Team details") or team not in self.team_names():
            return
        self.push_screen(TeamScreen(team))


def run(options: TuiOptions) -> int:
    """Run the TUI until the user quits; the process exit code."""
    app = ScorecardApp(options)
    result = app.run()
    return int(result or 0) if isinstance(result, int) else int(app.return_code or 0)
