"""Text-cell charts: sparklines, the gap bar, band marks and flag badges.

Everything returns ``rich.text.Text`` so that it can sit in a DataTable cell,
and everything carries its meaning in characters too (numbers, letters, names),
never in colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from rich.text import Text

from scorecard.text import has_value
from scorecard.tui.palette import Palette

BLOCKS: Final = "▁▂▃▄▅▆▇█"
EIGHTHS: Final = " ▏▎▍▌▋▊▉"
BAND_LETTER: Final = {"elite": "E", "high": "H", "medium": "M", "low": "L"}
FLAG_BADGE: Final = {
    "outpacing": "OUTPACING",
    "unstable": "UNSTABLE",
    "eroding": "ERODING",
    "stale": "STALE",
    "no-data": "NO DATA",
}


def sparkline(values: Iterable[Any]) -> str:
    """``[0, 3, 9]`` -> ``'▁▃█'``; empty values are blank cells, all-zero is flat."""
    items = list(values)
    numbers = [float(v) for v in items if has_value(v)]
    if not numbers:
        return " " * len(items)
    low, high = min(numbers), max(numbers)
    span = high - low
    out = []
    for v in items:
        if not has_value(v):
            out.append(" ")
        elif span <= 0:
            out.append(BLOCKS[0] if high == 0 else BLOCKS[3])
        else:
            out.append(BLOCKS[round((float(v) - low) / span * (len(BLOCKS) - 1))])
    return "".join(out)


def hbar(fraction: float, width: int) -> str:
    """A left-aligned bar ``width`` cells wide filled to ``fraction`` (eighth blocks)."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (EIGHTHS[rest] if rest else "")
    return bar.ljust(width)


def band_mark(band: Any, palette: Palette) -> Text:
    """``'elite'`` -> a coloured ``E`` (the legend spells the letters out)."""
    if not has_value(band) or band not in BAND_LETTER:
        return Text("·", style=palette.muted)
    return Text(BAND_LETTER[band], style=f"bold {palette.band(band)}")


def band_word(band: Any, palette: Palette) -> Text:
    if not has_value(band) or band not in BAND_LETTER:
        return Text("—", style=palette.muted)
    return Text(str(band), style=f"bold {palette.band(band)}")


def gap_bar(gap: Any, palette: Palette, width: int = 5) -> Text:
    """``+70 ███▌`` — the gap as a signed number and a bar (20 points a cell)."""
    if not has_value(gap):
        return Text("—", style=palette.muted)
    value = float(gap)
    style = palette.bad if value >= 25 else palette.warn if value > 0 else palette.good
    rounded = round(value)
    number = "0" if rounded == 0 else f"{rounded:+d}".replace("-", "−")
    text = Text(f"{number:>4} ", style=style)
    text.append(hbar(abs(value) / (width * 20), width), style=style)
    return text


def badges(flags: Iterable[str], palette: Palette, *, compact: bool = False) -> Text:
    """Flags as short labelled badges (``compact``: the overview's shorter labels)."""
    text = Text()
    for i, flag in enumerate(flags):
        if i:
            text.append(" ")
        label = FLAG_BADGE.get(flag, flag.upper())
        if compact and flag.startswith("ungated-"):
            label = "!" + flag.removeprefix("ungated-").upper()
        text.append(label, style=f"bold {palette.flag(flag)}")
    return text
