"""Text that is safe to show, and numbers written the way people read them.

Titles, team names and error messages come from other systems, so every front
end (terminal lines, the TUI, exports) makes control characters visible and
scrubs credentials through the functions here, and every front end formats
numbers with the same helpers, so a reason in an export and the cell in the TUI
never disagree. Pure and cheap to import: no pandas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Final

__all__ = [
    "BIDI_CONTROLS",
    "REPLACEMENT",
    "has_value",
    "hours",
    "num",
    "pct_change",
    "percent",
    "plain_number",
    "printable",
    "redact",
    "redact_tokens",
]

BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Bidirectional overrides and isolates: they could reorder what a reader sees."""

REPLACEMENT: Final = "\ufffd"

# Credentials that look like themselves even when their value is unknown.
TOKEN_SHAPES: Final = re.compile(
    r"\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(?:gh[pousr]_|github_pat_|glpat-|xox[abpr]-)[A-Za-z0-9_-]{8,}"
    r"|(?<=[?&\s])(?:access_token|api_key|apikey|token|private_token)=[^&\s]+",
    re.IGNORECASE,
)


def visible_char(char: str) -> str:
    """``char``, or a visible stand-in when it is a control character."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (ESC shows as ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= code <= 0x9F or char in BIDI_CONTROLS:
        return REPLACEMENT
    return char


def printable(value: Any) -> str:
    """``value`` as text safe for a terminal: C0 controls (ESC included) shown as
    control pictures, C1 controls and bidirectional overrides as U+FFFD."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and not any(c in BIDI_CONTROLS for c in text):
        return text
    return "".join(visible_char(c) for c in text)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every known secret of 4+ characters replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact_tokens(text: str, secrets: Iterable[str | None] = ()) -> str:
    """:func:`redact`, then anything token-shaped (``Bearer …``, ``ghp_…``) too."""
    return TOKEN_SHAPES.sub("***", redact(text, secrets))


def has_value(value: Any) -> bool:
    """False for None and NaN (an empty metric), True for any other value."""
    if value is None:
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def num(value: Any, digits: int = 0) -> str:
    """A number for prose: '—' when empty, no '-0', a real minus sign."""
    if not has_value(value):
        return "—"
    text = f"{float(value):.{digits}f}"
    if text.startswith("-"):
        return text[1:] if float(text) == 0 else "−" + text[1:]
    return text


def percent(value: Any) -> str:
    """0.183 -> '18%'."""
    return "—" if not has_value(value) else f"{float(value) * 100:.0f}%"


def pct_change(value: Any) -> str:
    """0.48 -> '+48%', -0.2 -> '−20%'."""
    if not has_value(value):
        return "—"
    pct = float(value) * 100
    return f"+{pct:.0f}%" if pct >= 0 else f"−{abs(pct):.0f}%"


def hours(value: Any) -> str:
    """Hours for people: '45 min', '5.2 h', '3.1 d'."""
    if not has_value(value):
        return "—"
    h = float(value)
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} d"


def plain_number(number: float) -> str:
    """``30`` for 30.0, ``0.5`` for 0.5: how a config value is written back."""
    return str(int(number)) if float(number).is_integer() else str(number)
