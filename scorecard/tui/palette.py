"""Theme-aware colours: bands and flags follow the active Textual theme.

Colours come from the theme's ``text-*`` variables, which Textual tunes for
legibility on the theme's own background, so the same table reads in dark and
light themes alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App


@dataclass(frozen=True)
class Palette:
    good: str = "green"
    ok: str = "cyan"
    warn: str = "yellow"
    bad: str = "red"
    muted: str = "grey50"
    accent: str = "magenta"

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        def get(name: str, default: str) -> str:
            value = variables.get(name)
            return value if value and value.startswith("#") else default

        return cls(
            good=get("text-success", cls.good),
            ok=get("text-primary", cls.ok),
            warn=get("text-warning", cls.warn),
            bad=get("text-error", cls.bad),
            accent=get("text-accent", cls.accent),
        )

    def band(self, band: str) -> str:
        return {"elite": self.good, "high": self.ok, "medium": self.warn, "low": self.bad}.get(
            band, self.muted
        )

    def grade(self, grade: str | None) -> str:
        """A good colour for A, bad for D and F; muted for no grade."""
        return {"A": self.good, "B": self.ok, "C": self.warn, "D": self.bad, "F": self.bad}.get(
            grade or "", self.muted
        )

    def flag(self, flag: str) -> str:
        return {
            "outpacing": self.bad,
            "unstable": self.bad,
            "eroding": self.warn,
            "stale": self.accent,
            "no-data": self.muted,
        }.get(flag, self.warn if flag.startswith("ungated-") else self.muted)


def palette_of(app: App[Any]) -> Palette:
    """The palette of ``app``'s active theme."""
    return Palette.from_variables(app.theme_variables)
