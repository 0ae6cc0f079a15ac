"""A line chart of scores over time, drawn by plotext (textual-plotext).

A real chart (axes, ticks, legend, braille lines) reads better than hand-drawn
characters for months of weekly points. Lines break where a value is empty;
points recomputed from events rather than kept as snapshots are marked with an
``x`` on top of their line. Labels are made printable first: plotext output is
ANSI text, so a team name holding escape sequences must never reach it raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from textual_plotext import PlotextPlot

from scorecard.text import printable

__all__ = ["TrendChart", "TrendLine"]

COLOURS = ("blue", "green", "cyan", "red", "magenta", "yellow", "orange", "white", "gray")


@dataclass(frozen=True)
class TrendLine:
    """One series: a value (or None) per x label; ``recomputed`` indexes are marked."""

    name: str
    values: Sequence[float | None]
    recomputed: frozenset[int] = field(default_factory=frozenset)


class TrendChart(PlotextPlot):
    """Scores (y) per day (x labels), one coloured line per series."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: tuple[TrendLine, ...] = ()
        self.labels: tuple[str, ...] = ()

    def show(self, lines: Sequence[TrendLine], labels: Sequence[str], title: str) -> None:
        """Draw ``lines`` over ``labels`` (days), replacing what was drawn."""
        self.lines, self.labels = tuple(lines), tuple(labels)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(printable(title))
        for k, line in enumerate(lines):
            colour = COLOURS[k % len(COLOURS)]
            label: str | None = printable(line.name)
            for xs, ys in _segments(line.values):
                plt.plot(xs, ys, color=colour, marker="braille", label=label)
                label = None  # one legend entry per series
            marked = [i for i in sorted(line.recomputed) if line.values[i] is not None]
            if marked:
                plt.scatter(marked, [line.values[i] for i in marked], color=colour, marker="x")
        where, names = _ticks(labels)
        plt.xticks([float(x) for x in where], names)
        plt.ylim(-100, 100)
        self.refresh()


def _segments(values: Sequence[float | None]) -> list[tuple[list[int], list[float]]]:
    """Runs of consecutive non-empty values as (x indexes, values)."""
    out: list[tuple[list[int], list[float]]] = []
    xs: list[int] = []
    ys: list[float] = []
    for i, value in enumerate(values):
        if value is None:
            if xs:
                out.append((xs, ys))
            xs, ys = [], []
            continue
        xs.append(i)
        ys.append(value)
    if xs:
        out.append((xs, ys))
    return out


def _ticks(labels: Sequence[str], most: int = 6) -> tuple[list[int], list[str]]:
    """At most ``most`` evenly spread x ticks, first and last included."""
    if not labels:
        return [], []
    step = max(1, (len(labels) - 1) // (most - 1)) if len(labels) > 1 else 1
    where = list(range(0, len(labels), step))
    if where[-1] != len(labels) - 1:
        where.append(len(labels) - 1)
    return where, [labels[i] for i in where]
