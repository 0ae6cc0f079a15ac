"""Text from sources, shown literally.

Team names, incident titles and error messages come from other systems. They are
never parsed as Rich/Textual markup and never reach the terminal with control
characters intact (:func:`scorecard.text.printable`: C0/C1 controls become
visible control pictures, bidirectional overrides a replacement mark), so a
title can neither restyle the screen nor reorder what a reader sees.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text

from scorecard.text import printable


def safe_text(value: Any) -> str:
    """``value`` as a plain string with every control character made visible."""
    return printable(value)


def literal(value: Any, style: str | Style = "") -> Text:
    """A Rich ``Text`` holding ``value`` verbatim (no markup, no escapes)."""
    return Text(printable(value), style=style, no_wrap=True, end="")
