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


class Canvas:
    """The plot area: ``width`` x ``height`` cells, each a character and a style."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[str]] = [[""] * width for _ in range(height)]

    def col(self, x: float) -> int:
        """The column of pressure ``x`` (0..100)."""
        return min(max(round(x / 100 * (self.width - 1)), 0), self.width - 1)

    def row(self, y: float) -> int:
        """The row of rigor ``y`` (0..100); row 0 is the top."""
        return min(max(self.height - 1 - round(y / 100 * (self.height - 1)), 0), self.height - 1)

    def put(self, r: int, c: int, char: str, style: str) -> None:
        self.chars[r][c] = char
        self.styles[r][c] = style


def shade_zone(canvas: Canvas, palette: Palette) -> None:
    """Shade the cells whose (pressure, rigor) centre has gap >= 25, and label them."""
    pw, ph = canvas.width, canvas.height
    for r in range(ph):
        y = (ph - 1 - r) / (ph - 1) * 100
        for c in range(pw):
            x = c / (pw - 1) * 100
            if x - y >= OUTPACING_GAP:
                canvas.put(r, c, ZONE_CHAR, palette.bad)
    label = " OUTPACING ZONE: pressure − rigor ≥ 25 "
    lr, lc = ph - 2, pw - len(label) - 1
    if lc > 0 and lr > 0:
        for i, ch in enumerate(label):
            canvas.put(lr, lc + i, ch, f"bold {palette.bad}")


def place_points(
    canvas: Canvas, points: Sequence[Point], palette: Palette, selected: int | None
) -> None:
    """Markers first, then each team's name beside its marker where there is room."""
    occupied: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, int, Point]] = []
    for i, p in enumerate(points):
        r, c = canvas.row(p.rigor), canvas.col(p.pressure)
        placed.append((i, r, c, p))
        occupied.add((r, c))
    for i, r, c, p in placed:
        style = f"bold {palette.bad if p.flagged else palette.ok}"
        canvas.put(r, c, marker(i), style + " reverse" if selected == i else style)
    for i, r, c, p in placed:
        label(canvas, r, c, safe_text(p.name)[:16], occupied, selected == i)


def label(
    canvas: Canvas, r: int, c: int, name: str, occupied: set[tuple[int, int]], selected: bool
) -> None:
    """``name`` right of column ``c`` (else left of it) on row ``r``, if the cells are free."""
    pw = canvas.width
    for start in (c + 2, c - 1 - len(name)):
        span = range(start - 1, start + len(name) + 1)
        if start < 0 or start + len(name) > pw:
            continue
        if any((r, x) in occupied for x in span if 0 <= x < pw):
            continue
        for k, ch in enumerate(name):
            canvas.put(r, start + k, ch, "bold reverse" if selected else "bold")
            occupied.add((r, start + k))
        return


def axes_text(canvas: Canvas, palette: Palette, left: int) -> Text:
    """The canvas with the y ticks on its left and the x axis and ticks below."""
    text = Text(no_wrap=True, end="")
    ticks = {canvas.row(v): v for v in (0, 25, 50, 75, 100)}
    for r in range(canvas.height):
        tick = f"{ticks[r]:>3} ┤" if r in ticks else "    │"
        text.append(tick, style=palette.muted)
        for c in range(canvas.width):
            text.append(canvas.chars[r][c], style=canvas.styles[r][c] or None)
        text.append("\n")
    axis = "    └" + "".join(
        "┬" if any(canvas.col(v) == c for v in (0, 25, 50, 75, 100)) else "─"
        for c in range(canvas.width)
    )
    text.append(axis + "\n", style=palette.muted)
    labels = [" "] * (canvas.width + left + 3)
    for v in (0, 25, 50, 75, 100):
        s = str(v)
        start = left + canvas.col(v) - len(s) // 2
        for k, ch in enumerate(s):
            if 0 <= start + k < len(labels):
                labels[start + k] = ch
    text.append("".join(labels).rstrip(), style=palette.muted)
    text.rstrip()
    return text


def plot(
    points: Sequence[Point],
    width: int,
    height: int,
    palette: Palette,
    selected: int | None = None,
) -> Text:
    """The whole chart (axes included) as ``height`` lines of ``width`` cells."""
    left, bottom = 5, 2  # y tick labels, x axis + x tick labels
    canvas = Canvas(max(width - left - 1, 10), max(height - bottom - 1, 5))
    shade_zone(canvas, palette)
    place_points(canvas, points, palette, selected)
    return axes_text(canvas, palette, left)


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
