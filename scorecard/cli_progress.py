"""The progress bar of a long sync on stderr: per source, repos done of all, the time
left, and what the sync has cost so far against the budget left.

A first sync of a large org can take an hour of API quota; a lead watching it wants
to know how far it is and whether the token's budget will last, not a scroll of
lines. Drawn with rich (Textual's own renderer), only when stderr is a terminal;
the source's text lines are printed above the bars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console

    from scorecard.status import Tick

__all__ = ["SyncMeter"]


class SyncMeter:
    """Bars per source, fed :class:`~scorecard.status.Tick` s; a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("repos"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[cost]}"),
            console=console or Console(stderr=True),
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> SyncMeter:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def __call__(self, source: str, tick: Tick) -> None:
        """Move ``source``'s bar to ``tick``."""
        cost = f"spent {tick.spent:,}"
        if tick.left is not None:
            cost += f", {tick.left:,} left"
        task = self.tasks.get(source)
        if task is None:
            task = self.tasks[source] = self.progress.add_task(source, total=tick.total, cost=cost)
        self.progress.update(task, completed=tick.done, total=tick.total, cost=cost)

    def say(self, source: str, text: str) -> None:
        """A source's progress line, printed above the bars."""
        from rich.markup import escape

        self.progress.console.print(f"  {escape(source)}: {escape(text)}", highlight=False)
