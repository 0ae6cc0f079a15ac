"""The standup screen: one team card in large type, then the rotation status line.

Scores are drawn with Textual's ``Digits``; team names, reasons and source
names are shown literally (``rich.text.Text``, never markup).
"""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Digits, Footer, Label, Static

from scorecard.text import num
from scorecard.tui.cards import Card, Rotation
from scorecard.tui.palette import Palette
from scorecard.tui.widgets.charts import badges
from scorecard.tui.widgets.infobar import InfoBar
from scorecard.tui.widgets.text import literal

LARGE = (150, 42)  # at least this many columns and rows: roomier layout, bigger digits
MAX_DOTS = 40

# A 3x5 pixel font for the big digits on large screens (Digits is 3 rows high).
FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "# #", "# #", "# #", "###"),
    "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"),
    "3": ("###", "  #", " ##", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"),
    "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"),
    "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"),
    "9": ("###", "# #", "###", "  #", "###"),
    "+": ("   ", " # ", "###", " # ", "   "),
    "-": ("   ", "   ", "###", "   ", "   "),
    "A": (" # ", "# #", "###", "# #", "# #"),
    "B": ("## ", "# #", "## ", "# #", "## "),
    "C": (" ##", "#  ", "#  ", "#  ", " ##"),
    "D": ("## ", "# #", "# #", "# #", "## "),
    "E": ("###", "#  ", "## ", "#  ", "###"),
    "F": ("###", "#  ", "## ", "#  ", "#  "),
    " ": ("   ",) * 5,
}
PIXEL = (3, 2)  # columns and rows per font pixel on a large screen


def big_lines(value: str, pixel: tuple[int, int] = PIXEL) -> list[str]:
    """``value`` drawn with :data:`FONT`, each pixel ``pixel`` cells; unknown chars blank."""
    width, height = pixel
    glyphs = [FONT.get(c, FONT[" "]) for c in value]
    lines = []
    for row in range(5):
        cells = [
            "".join(("█" if px == "#" else " ") * width for px in glyph[row]) for glyph in glyphs
        ]
        lines.extend([" ".join(cells)] * height)
    return lines


class BigDigits(Digits):
    """``Digits`` that grows on a large screen (``big = True``)."""

    big = False

    def set_big(self, big: bool) -> None:
        if big != self.big:
            self.big = big
            self.refresh(layout=True)

    def render(self) -> Any:
        if not self.big:
            return super().render()
        text = Text("\n".join(big_lines(self.value)), style=self.rich_style, no_wrap=True)
        text.justify = "center"
        return text

    def get_content_width(self, container: Any, viewport: Any) -> int:
        if not self.big:
            return super().get_content_width(container, viewport)
        return max((len(line) for line in big_lines(self.value)), default=0)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        if not self.big:
            return super().get_content_height(container, viewport, width)
        return 5 * PIXEL[1]

    def update(self, value: str) -> None:
        changed = len(value) != len(self.value)
        super().update(value)
        if self.big and changed:
            self.refresh(layout=True)


def digits_text(value: float | None, signed: bool = False) -> str:
    """A score for ``Digits``: ``70``, ``+70``, ``-8``; ``-`` alone when empty."""
    if value is None:
        return "-"
    number = round(value)
    if signed and number > 0:
        return f"+{number}"
    return str(number)


def card_head(card: Card, palette: Palette) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append_text(literal(card.team, f"bold {palette.accent}"))
    if card.flags:
        text.append("   ")
        text.append_text(badges(card.flags, palette))
    else:
        text.append("   no flags", style=f"bold {palette.good}")
    return text


def window_text(card: Card, window_days: int | None, palette: Palette) -> Text:
    text = Text()
    days = f"{window_days} days" if window_days else "this window"
    text.append(f"Last {days}:  ", style="dim")
    if card.deploys is None:
        text.append("no deploys", style=palette.muted)
    else:
        text.append(f"{card.deploys:,}", style="bold")
        text.append(" deploy" if card.deploys == 1 else " deploys")
        if card.deploys_per_day is not None:
            text.append(f" ({num(card.deploys_per_day, 2)}/day)", style="dim")
    text.append("    ")
    incidents = card.incidents or 0
    style = f"bold {palette.bad}" if incidents else "bold"
    text.append(f"{incidents:,}", style=style)
    text.append(" incident" if incidents == 1 else " incidents")
    if incidents:
        text.append(
            f" ({card.incidents_sev1_2 or 0} sev1–2, {card.incidents_open or 0} open)",
            style="dim",
        )
    if card.stability is not None:
        text.append("    stability ", style="dim")
        text.append(f"{round(card.stability)}", style="bold")
    return text


def reasons_text(card: Card, palette: Palette) -> Text:
    text = Text()
    if not card.reasons:
        text.append("No reasons: nothing to explain for this team.", style=palette.muted)
        return text
    for i, reason in enumerate(card.reasons):
        if i:
            text.append("\n")
        text.append("› ", style=f"bold {palette.accent}")
        text.append_text(literal(reason, "bold"))
    if card.more_reasons:
        more = card.more_reasons
        text.append(f"\n  + {more} more reason{'s' if more != 1 else ''} in the TUI", style="dim")
    return text


def fresh_text(card: Card, palette: Palette) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Data: ", style="dim")
    text.append_text(literal(card.synced, "dim"))
    for failure in card.failed:
        text.append("  ⚠ ", style=f"bold {palette.bad}")
        text.append_text(literal(failure, f"bold {palette.bad}"))
    return text


def status_text(rotation: Rotation) -> Text:
    """The dots (one per card), the card's number, and whether the rotation is paused."""
    palette = rotation.palette
    text = Text(no_wrap=True, overflow="ellipsis")
    total = len(rotation.cards)
    if total > 1 and total <= MAX_DOTS:
        for i, card in enumerate(rotation.cards):
            mark = "●" if i == rotation.index else "○"
            style = palette.bad if card.flags and set(card.flags) - {"no-data"} else palette.muted
            text.append(mark, style=f"bold {style}" if i == rotation.index else style)
            text.append(" ")
        text.append("  ")
    text.append(f"{rotation.index + 1} / {total}", style="bold")
    if total > 1:
        if rotation.paused:
            text.append("   PAUSED", style=f"bold reverse {palette.warn}")
            text.append("  space resumes", style="dim")
        else:
            seconds = f"{rotation.interval:g}s"
            text.append(f"   next team every {seconds}", style="dim")
    return text


class StandupScreen(Screen[Any]):
    """One team card at a time."""

    DEFAULT_CSS = """
    StandupScreen { layout: vertical; }
    #standup-body { height: 1fr; align: center middle; padding: 0 2; }
    #card {
        width: 100%;
        max-width: 140;
        height: auto;
        border: round $primary;
        padding: 0 2;
        background: $surface;
    }
    #card-head { height: 1; margin-bottom: 1; }
    #card-scores { height: auto; }
    .score { width: 1fr; height: auto; }
    .score Label { width: 100%; text-align: center; color: $text-muted; text-style: bold; }
    .score Digits { width: 100%; text-align: center; text-style: bold; }
    #score-vs { width: 4; height: 4; content-align: center bottom; color: $text-muted; }
    #card-window { margin-top: 1; height: auto; }
    #card-reasons { margin-top: 1; height: auto; }
    #card-fresh { margin-top: 1; height: 1; }
    #standup-message { width: 100%; height: auto; padding: 1 2; text-align: center; }
    #standup-status { height: 1; padding: 0 2; }
    StandupScreen.-large #card { padding: 1 4; max-width: 180; }
    StandupScreen.-large #score-vs { height: 11; }
    StandupScreen.-large #card-head { margin-bottom: 2; }
    StandupScreen.-large #card-window, StandupScreen.-large #card-reasons,
    StandupScreen.-large #card-fresh { margin-top: 2; }
    """

    def __init__(self, rotation: Rotation) -> None:
        super().__init__(id="standup")
        self.rotation = rotation
        self._mounted = False

    def compose(self) -> ComposeResult:
        yield InfoBar(self.rotation.header, id="info")
        with Vertical(id="standup-body"):
            yield Static("", id="standup-message")
            with Vertical(id="card"):
                yield Static("", id="card-head")
                with Horizontal(id="card-scores"):
                    for key, label in (
                        ("grade", "GRADE"),
                        ("pressure", "PRESSURE"),
                        ("vs", ""),
                        ("rigor", "RIGOR"),
                        ("gap", "GAP"),
                    ):
                        if key == "vs":
                            yield Static("vs", id="score-vs")
                            continue
                        with Vertical(classes="score", id=f"score-{key}"):
                            yield Label(label)
                            yield BigDigits("", id=f"digits-{key}")
                yield Static("", id="card-window")
                yield Static("", id="card-reasons")
                yield Static("", id="card-fresh")
        yield Static("", id="standup-status")
        yield Footer()

    def on_mount(self) -> None:
        self._mounted = True
        self.redraw()

    def on_resize(self, event: Resize) -> None:
        width, height = event.size
        large = width >= LARGE[0] and height >= LARGE[1]
        self.set_class(large, "-large")
        for digits in self.query(BigDigits):
            digits.set_big(large)

    def show(self, rotation: Rotation) -> None:
        """Show ``rotation`` from now on."""
        self.rotation = rotation
        if self._mounted:
            with contextlib.suppress(NoMatches):  # the app is closing: nothing left to draw
                self.redraw()

    def redraw(self) -> None:
        rotation = self.rotation
        for bar in self.query(InfoBar):
            bar.header = rotation.header
        message = self.query_one("#standup-message", Static)
        card_box = self.query_one("#card", Vertical)
        status = self.query_one("#standup-status", Static)
        card = rotation.card
        if card is None:
            card_box.display = False
            status.update("")
            message.display = True
            message.update(message_text(rotation))
            return
        if len(self.query(BigDigits)) < 4:  # the card is still being mounted
            self.call_after_refresh(self.redraw)
            return
        message.display = False
        card_box.display = True
        self._draw_card(card, rotation.window_days, rotation.palette)
        status.update(status_text(rotation))
        self.refresh_bindings()

    def _draw_card(self, card: Card, window_days: int | None, palette: Palette) -> None:
        self.query_one("#card-head", Static).update(card_head(card, palette))
        self._digits("grade", card.grade or "-", palette.grade(card.grade))
        self._digits("pressure", digits_text(card.pressure), None)
        self._digits("rigor", digits_text(card.rigor), None)
        self._digits("gap", digits_text(card.gap, signed=True), gap_color(card.gap, palette))
        self.query_one("#card-window", Static).update(window_text(card, window_days, palette))
        self.query_one("#card-reasons", Static).update(reasons_text(card, palette))
        self.query_one("#card-fresh", Static).update(fresh_text(card, palette))

    def _digits(self, key: str, value: str, color: str | None) -> None:
        widget = self.query_one(f"#digits-{key}", BigDigits)
        widget.update(value)
        if color is not None:
            widget.styles.color = color


def gap_color(gap: float | None, palette: Palette) -> str:
    """Bad from the outpacing threshold (25), a warning above 0, good at or below."""
    if gap is None:
        return palette.muted
    return palette.bad if gap >= 25 else palette.warn if gap > 0 else palette.good


def message_text(rotation: Rotation) -> Text:
    """What the screen says while there is no card: an error, progress, or no teams."""
    if rotation.load_error:
        text = Text("Could not build the standup view\n\n", style=f"bold {rotation.palette.bad}")
        text.append_text(literal(rotation.load_error))
        return text
    if rotation.busy:
        return Text(rotation.busy, style="italic")
    return Text("No teams to show.", style="bold")
