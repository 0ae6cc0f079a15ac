"""Pressure (x) vs rigor (y) as a character grid, drawn by hand.

Deterministic for a given size (no plotting library, no floating layout), so
it snapshots cleanly. The outpacing zone (pressure − rigor ≥ 25) is shaded and
labelled; each team is a numbered marker, labelled by name where there is room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from scorecard.tui.palette import Palette
from scorecard.tui.widgets.text import safe_text

MARKERS: Final = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
OUTPACING_GAP: Final = 25.0
ZONE_CHAR: Final = "·"


@dataclass(frozen=True)
class Point:
    name: str
    pressure: float
    rigor: float
    flagged: bool = False


def marker(index: int) -> str:
    return MARKERS[index] if index < len(MARKERS) else "+"


def plot(
    points: Sequence[Point],
    width: int,
    height: int,
    palette: Palette,
    selected: int | None = None,
) -> Text:
    """The whole chart (axes included) as ``height`` lines of ``width`` cells."""
    left, bottom = 5, 2  # y tick labels, x axis + x tick labels
    pw, ph = max(width - left - 1, 10), max(height - bottom - 1, 5)
    grid = [[" "] * pw for _ in range(ph)]
    styles: list[list[str]] = [[""] * pw for _ in range(ph)]

    def col(x: float) -> int:
        return min(max(round(x / 100 * (pw - 1)), 0), pw - 1)

    def row(y: float) -> int:
        return min(max(ph - 1 - round(y / 100 * (ph - 1)), 0), ph - 1)

    # the outpacing zone: cells whose (pressure, rigor) centre has gap >= 25
    for r in range(ph):
        y = (ph - 1 - r) / (ph - 1) * 100
        for c in range(pw):
            x = c / (pw - 1) * 100
            if x - y >= OUTPACING_GAP:
                grid[r][c] = ZONE_CHAR
                styles[r][c] = palette.bad
    label = " OUTPACING ZONE: pressure − rigor ≥ 25 "
    lr, lc = ph - 2, pw - len(label) - 1
    if lc > 0 and lr > 0:
        for i, ch in enumerate(label):
            grid[lr][lc + i] = ch
            styles[lr][lc + i] = f"bold {palette.bad}"

    # markers first, then labels where free
    occupied: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, int, Point]] = []
    for i, p in enumerate(points):
        r, c = row(p.rigor), col(p.pressure)
        placed.append((i, r, c, p))
        occupied.add((r, c))
    for i, r, c, p in placed:
        is_sel = selected == i
        style = f"bold {palette.bad if p.flagged else palette.ok}"
        if is_sel:
            style += " reverse"
        grid[r][c] = marker(i)
        styles[r][c] = style
    for i, r, c, p in placed:
        name = safe_text(p.name)[:16]
        for start in (c + 2, c - 1 - len(name)):
            span = range(start - 1, start + len(name) + 1)
            if start < 0 or start + len(name) > pw:
                continue
            if any((r, x) in occupied for x in span if 0 <= x < pw):
                continue
            for k, ch in enumerate(name):
                grid[r][start + k] = ch
                styles[r][start + k] = "bold reverse" if selected == i else "bold"
                occupied.add((r, start + k))
            break

    text = Text(no_wrap=True, end="")
    ticks = {row(v): v for v in (0, 25, 50, 75, 100)}
    for r in range(ph):
        tick = f"{ticks[r]:>3} ┤" if r in ticks else "    │"
        text.append(tick, style=palette.muted)
        for c in range(pw):
            text.append(grid[r][c], style=styles[r][c] or None)
        text.append("\n")
    axis = "    └" + "".join(
        "┬" if any(col(v) == c for v in (0, 25, 50, 75, 100)) else "─" for c in range(pw)
    )
    text.append(axis + "\n", style=palette.muted)
    labels = [" "] * (pw + left + 3)
    for v in (0, 25, 50, 75, 100):
        s = str(v)
        start = left + col(v) - len(s) // 2
        for k, ch in enumerate(s):
            if 0 <= start + k < len(labels):
                labels[start + k] = ch
    text.append("".join(labels).rstrip(), style=palette.muted)
    text.rstrip()
    return text


class ScatterPlot(Widget):
    """The map: a character-grid scatter of every team."""

    DEFAULT_CSS = """
    ScatterPlot { height: 1fr; width: 1fr; }
    """

    selected: reactive[int | None] = reactive(None)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points: list[Point] = []
        self.palette = Palette()

    def set_points(self, points: Sequence[Point], palette: Palette) -> None:
        """Plot ``points`` in ``palette``'s colours."""
        self.points = list(points)
        self.palette = palette
        self.refresh()

    def watch_selected(self) -> None:
        self.refresh()

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        if width < 20 or height < 8:
            return Text("(window too small for the map)")
        header = Text("rigor ↑ (y) against pressure → (x)", style=self.palette.muted)
        body = plot(self.points, width, height - 1, self.palette, self.selected)
        return Text("\n").join([header, body])
