"""``scorecard teams`` (SPEC §12): the resolved map, then what has events but no team.

One row per ``team, kind, value, origin``: what the explicit ``[[teams]]`` and
each discovery section attribute, then the repos and services that have events
in the cache but no team (``team`` = ``unassigned``, ``origin`` the sources
that delivered them), so a lead sees both what discovery decided and what it
missed. Problems (a component owned by a user, a slug without a team, a repo
claimed twice) and stale sections follow, listed and never guessed.

Pure: rows in, text out (table, CSV or JSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Final, Literal

from scorecard.discovery.model import Problem, Row
from scorecard.model import UNASSIGNED
from scorecard.status import SourceStatus
from scorecard.text import printable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "TeamsFormat", "TeamsReport", "render", "unassigned_rows"]

TeamsFormat = Literal["table", "csv", "json"]
COLUMNS: Final = ("team", "kind", "value", "origin")
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""Cells a spreadsheet would run as a formula (SPEC §10): written with a leading quote."""


@dataclass(frozen=True)
class TeamsReport:
    """The resolved rows, the unassigned ones, the problems and the stale sections."""

    rows: tuple[Row, ...]
    unassigned: tuple[Row, ...] = ()
    problems: tuple[Problem, ...] = ()
    stale: tuple[SourceStatus, ...] = ()
    """Discovery sections whose last refresh failed (their last good answer is used)."""

    @property
    def all_rows(self) -> tuple[Row, ...]:
        return self.rows + self.unassigned


def unassigned_rows(frames: Mapping[str, pd.DataFrame]) -> tuple[Row, ...]:
    """The repos and services of events attributed to no team, with the sources
    that delivered them (frames after team attribution)."""
    origins: dict[tuple[str, str], set[str]] = {}
    for frame in frames.values():
        if "team" not in frame.columns or frame.empty:
            continue
        lost = frame[frame["team"].astype(object) == UNASSIGNED]
        for kind in ("repo", "service"):
            if kind not in lost.columns:
                continue
            pairs = lost[[kind, "source"]].astype(object).dropna().drop_duplicates()
            for value, source in pairs.itertuples(index=False, name=None):
                if str(value).strip():
                    origins.setdefault((kind, str(value)), set()).add(str(source))
    return tuple(
        Row(UNASSIGNED, "repo" if kind == "repo" else "service", value, ", ".join(sorted(found)))
        for (kind, value), found in sorted(origins.items())
    )


def render(report: TeamsReport, fmt: TeamsFormat) -> str:
    """The report as a table (with problems below), CSV (rows only) or JSON."""
    if fmt == "csv":
        return csv_text(report.all_rows)
    if fmt == "json":
        return json_text(report)
    return table_text(report)


def csv_text(rows: Iterable[Row]) -> str:
    """RFC 4180 CSV, formulas neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([inert_cell(value) for value in cells_of(row)])
    return buffer.getvalue()


def cells_of(row: Row) -> tuple[str, str, str, str]:
    """A row's cells in column order."""
    return (row.team, row.kind, row.value, row.origin)


def inert_cell(text: str) -> str:
    """A cell a spreadsheet shows, not runs, with control characters made visible."""
    shown = printable(text)
    return "'" + shown if shown.startswith(FORMULA_STARTS) else shown


def json_text(report: TeamsReport) -> str:
    """``{"teams": [rows...], "problems": [...], "stale": [...]}``."""
    document = {
        "teams": [asdict(row) for row in report.all_rows],
        "problems": [asdict(problem) for problem in report.problems],
        "stale": [{"section": s.name, "error": s.last_error} for s in report.stale],
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def table_text(report: TeamsReport) -> str:
    """Aligned columns, then the problems and the stale sections."""
    cells = [tuple(printable(value) for value in cells_of(row)) for row in report.all_rows]
    lines = aligned([COLUMNS, *cells])
    if not report.all_rows:
        lines.append("no teams: add [[teams]] or a [discovery.NAME] section")
    lines.extend(f"problem: {printable(str(problem))}" for problem in report.problems)
    lines.extend(
        f"stale: {printable(s.name)}: {printable(s.last_error or '')}" for s in report.stale
    )
    return "\n".join(lines) + "\n"


def aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as lines whose columns line up."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
