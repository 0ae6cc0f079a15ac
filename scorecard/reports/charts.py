"""Inline SVG charts for the HTML report: no scripts, no fonts, no requests.

A report is read by people who will not open a terminal, often printed or
forwarded as one file, so each chart is a plain ``<svg>`` element written into
the page: it renders offline, prints sharply and cannot run anything. Every text
(team names come from config and catalogs) is escaped. Each chart carries
``data-chart="<kind>"`` and an ``aria-label`` that says what it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

__all__ = ["Bar", "Dot", "Series", "gap_bars", "pressure_rigor_map", "trend_lines"]

INK: Final = "#1f2933"
MUTED: Final = "#7b8794"
GRID: Final = "#d9e2ec"
BAD: Final = "#c62828"
GOOD: Final = "#2e7d32"
ZONE: Final = "#fdecea"
COLOURS: Final = {"pressure": "#1565c0", "rigor": "#2e7d32", "stability": "#6a1b9a", "gap": BAD}


@dataclass(frozen=True)
class Bar:
    """One team's gap (pressure - rigor), None when either is empty."""

    team: str
    gap: float | None
    flagged: bool = False


@dataclass(frozen=True)
class Dot:
    """One team on the pressure-vs-rigor map."""

    team: str
    pressure: float
    rigor: float
    flagged: bool = False


@dataclass(frozen=True)
class Series:
    """One score over time: (label of the day, value or None) per point; ``hollow``
    marks points recomputed from events rather than kept as snapshots."""

    name: str
    points: Sequence[tuple[str, float | None]]
    hollow: frozenset[int] = frozenset()


def _svg(kind: str, label: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{kind}" '
        f'role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="12">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def gap_bars(bars: Sequence[Bar]) -> str:
    """Horizontal bars from 0 (left: rigor ahead, right: pressure ahead), -100..100."""
    label_w, plot_w, row_h, top = 150, 400, 22, 24
    height = top + row_h * max(len(bars), 1) + 10
    mid = label_w + plot_w / 2
    scale = plot_w / 200
    body = [
        _text(label_w, 14, "-100", fill=MUTED),
        _text(mid, 14, "0", anchor="middle", fill=MUTED),
        _text(label_w + plot_w, 14, "+100", anchor="end", fill=MUTED),
        f'<line x1="{mid}" y1="{top - 4}" x2="{mid}" y2="{height - 6}" stroke="{MUTED}"/>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + 14, bar.team, anchor="end"))
        if bar.gap is None:
            body.append(_text(mid + 6, y + 14, "no data", fill=MUTED))
            continue
        width = abs(bar.gap) * scale
        x = mid if bar.gap >= 0 else mid - width
        colour = BAD if bar.flagged else (MUTED if bar.gap >= 0 else GOOD)
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{max(width, 1):.1f}" '
            f'height="{row_h - 8}" fill="{colour}"/>'
        )
        end = mid + width + 4 if bar.gap >= 0 else mid - width - 4
        body.append(
            _text(end, y + 14, f"{bar.gap:+.0f}", anchor="start" if bar.gap >= 0 else "end")
        )
    return _svg("gap", "Gap (pressure minus rigor) per team", label_w + plot_w + 40, height, body)


def pressure_rigor_map(dots: Sequence[Dot]) -> str:
    """Pressure (x) against rigor (y), 0..100, with the outpacing zone (gap >= 25)."""
    left, top, size = 50, 24, 360

    def x(v: float) -> float:
        return left + v / 100 * size

    def y(v: float) -> float:
        return top + size - v / 100 * size

    zone = f"{x(25):.1f},{y(0):.1f} {x(100):.1f},{y(0):.1f} {x(100):.1f},{y(75):.1f}"
    body = [
        f'<polygon class="zone" points="{zone}" fill="{ZONE}"/>',
        _text(x(97), y(8), "outpacing (gap ≥ 25)", anchor="end", fill=BAD),
        f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="{GRID}"/>',
        _text(left + size / 2, top + size + 32, "pressure →", anchor="middle", fill=MUTED),
        _text(left, top - 6, "rigor ↑", fill=MUTED),
    ]
    for tick in (0, 50, 100):
        body.append(_text(x(tick), top + size + 16, str(tick), anchor="middle", fill=MUTED))
        body.append(_text(left - 6, y(tick) + 4, str(tick), anchor="end", fill=MUTED))
    for dot in dots:
        colour = BAD if dot.flagged else GOOD
        cx, cy = x(dot.pressure), y(dot.rigor)
        body.append(f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>')
        body.append(_text(cx + 8, cy - 6, dot.team))
    return _svg(
        "map", "Pressure versus rigor, every team", left + size + 120, top + size + 44, body
    )


def trend_lines(title: str, series: Sequence[Series], *, low: float = -100) -> str:
    """Scores over time on one -100..100 (or ``low``..100) axis; hollow circles mark
    recomputed points."""
    left, top, width, height = 44, 16, 520, 180
    count = max((len(s.points) for s in series), default=0)

    def x(i: int) -> float:
        return left + (i / (count - 1) * width if count > 1 else width / 2)

    def y(v: float) -> float:
        return top + height - (v - low) / (100 - low) * height

    body = [f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" '
            f'stroke="{GRID}"/>']  # fmt: skip
    for tick in (low, 0, 100) if low < 0 else (0, 50, 100):
        body.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + width}" '
                    f'y2="{y(tick):.1f}" stroke="{GRID}"/>')  # fmt: skip
        body.append(_text(left - 6, y(tick) + 4, f"{tick:.0f}", anchor="end", fill=MUTED))
    for s in series:
        body.extend(_line(s, x, y))
    if count:
        first, last = series[0].points[0][0], series[0].points[-1][0]
        body.append(_text(left, top + height + 16, first, fill=MUTED))
        body.append(_text(left + width, top + height + 16, last, anchor="end", fill=MUTED))
    for k, s in enumerate(series):
        lx = left + k * 110
        colour = COLOURS.get(s.name, INK)
        body.append(f'<rect x="{lx}" y="{top + height + 26}" width="10" height="10" '
                    f'fill="{colour}"/>')  # fmt: skip
        body.append(_text(lx + 14, top + height + 35, s.name))
    return _svg("trend", title, left + width + 20, top + height + 44, body)


def _line(s: Series, x: Callable[[int], float], y: Callable[[float], float]) -> list[str]:
    """One series: a polyline through its values (broken at empty ones) and markers."""
    colour = COLOURS.get(s.name, INK)
    out: list[str] = []
    run: list[str] = []
    for i, (_, value) in enumerate(s.points):
        if value is None:
            run = _flush(out, run, colour)
            continue
        run.append(f"{x(i):.1f},{y(value):.1f}")
        fill = "white" if i in s.hollow else colour
        out.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5" fill="{fill}" '
                   f'stroke="{colour}"/>')  # fmt: skip
    _flush(out, run, colour)
    return out


def _flush(out: list[str], run: list[str], colour: str) -> list[str]:
    if len(run) > 1:
        out.insert(0, f'<polyline class="line" points="{" ".join(run)}" fill="none" '
                      f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
    return []
