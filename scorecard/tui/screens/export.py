"""Export dialog: the same text `scorecard export` writes, to a file of your choice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from scorecard.fs import atomic_write_text
from scorecard.tui.widgets.text import safe_text

if TYPE_CHECKING:
    from scorecard.export import Detail, Format
    from scorecard.scoring import Report

FORMATS = (("CSV", "csv"), ("JSON", "json"), ("Markdown", "markdown"))
DETAILS = (
    ("Summary (one row per team)", "summary"),
    ("Weekly metrics", "weekly"),
    ("Incidents", "incidents"),
    ("Deployments", "deployments"),
)
EXTENSIONS = {"csv": "csv", "json": "json", "markdown": "md"}


def default_path(fmt: str, detail: str) -> str:
    return f"scorecard-{detail}.{EXTENSIONS.get(fmt, fmt)}"


def write_export(report: Report, fmt: str, detail: str, path: Path) -> int:
    """Render as ``scorecard export`` does and write atomically (temp file, fsync,
    rename); the number of characters written."""
    from scorecard import export

    text = export.render(report, cast("Format", fmt), cast("Detail", detail))
    atomic_write_text(path.expanduser(), text)
    return len(text)


class ExportScreen(ModalScreen[Path | None]):
    """Choose format, detail and path; writes in a worker."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, report: Report) -> None:
        super().__init__(id="export")
        self.report = report
        self._auto_path = default_path("csv", "summary")

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static("Export the scorecard", classes="section")
            yield Label("Format")
            yield Select(FORMATS, value="csv", allow_blank=False, id="export-format")
            yield Label("Detail")
            yield Select(DETAILS, value="summary", allow_blank=False, id="export-detail")
            yield Label("Write to (path)")
            yield Input(value=self._auto_path, id="export-path")
            yield Static("", id="export-status")
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        if self.app.is_headless:
            self.query_one("#export-path", Input).cursor_blink = False
        self.query_one("#export-format", Select).focus()

    def _choice(self, id: str) -> str:
        return str(self.query_one(f"#{id}", Select).value)

    @on(Select.Changed)
    def _changed(self) -> None:
        box = self.query_one("#export-path", Input)
        if box.value in ("", self._auto_path):
            self._auto_path = default_path(
                self._choice("export-format"), self._choice("export-detail")
            )
            box.value = self._auto_path

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export-go")
    @on(Input.Submitted, "#export-path")
    def _go(self) -> None:
        raw = self.query_one("#export-path", Input).value.strip()
        if not raw:
            self.query_one("#export-status", Static).update("Choose a path to write to.")
            return
        self.query_one("#export-go", Button).disabled = True
        self.query_one("#export-status", Static).update("Writing…")
        self._write(
            self.report,
            self._choice("export-format"),
            self._choice("export-detail"),
            Path(raw),
        )

    @work(thread=True, exclusive=True, group="export")
    def _write(self, report: Report, fmt: str, detail: str, path: Path) -> None:
        try:
            size = write_export(report, fmt, detail, path)
        except Exception as exc:
            self.app.call_from_thread(self._failed, path, exc)
            return
        self.app.call_from_thread(self._done, path, size, fmt, detail)

    def _done(self, path: Path, size: int, fmt: str, detail: str) -> None:
        self.notify(
            f"Wrote {detail} ({fmt}, {size:,} characters) to {safe_text(path)}",
            title="Export",
            markup=False,
        )
        self.dismiss(path)

    def _failed(self, path: Path, exc: BaseException) -> None:
        message = safe_text(f"Could not write {path}: {exc}")
        self.query_one("#export-go", Button).disabled = False
        self.query_one("#export-status", Static).update(Text(message))
        self.notify(message, title="Export failed", severity="error", markup=False)
