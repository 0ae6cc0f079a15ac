"""Text from sources, shown literally.

Team names, incident titles and error messages come from other systems. They are
never parsed as Rich/Textual markup and never reach the terminal with control
characters intact: C0/C1 controls (including ESC) become visible control
pictures, and bidirectional overrides become a replacement mark, so a title can
neither restyle the screen nor reorder what a reader sees.
"""

from __future__ import annotations

from typing import Any, Final

from rich.style import Style
from rich.text import Text

BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
REPLACEMENT: Final = "\ufffd"


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC shows as ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F or char in BIDI_CONTROLS:
        return REPLACEMENT
    return char


def safe_text(value: Any) -> str:
    """``value`` as a plain string with every control character made visible."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and not any(c in BIDI_CONTROLS for c in text):
        return text
    return "".join(_visible(c) for c in text)


def literal(value: Any, style: str | Style = "") -> Text:
    """A Rich ``Text`` holding ``value`` verbatim (no markup, no escapes)."""
    return Text(safe_text(value), style=style, no_wrap=True, end="")
