"""CSV, JSON and Markdown exports of a scorecard (SPEC §3 columns, §10 safety).

Exports leave the tool and land in spreadsheets and docs, so they are strict:
the summary columns are exactly the contract's, empty metrics are blank cells
(never 0), rates are fractions, and any text cell a spreadsheet would run as a
formula is neutralized. Numbers in Markdown are written by :mod:`scorecard.text`,
like every other front end's. Callers write the text with
:func:`scorecard.fs.atomic_write_text`.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from scorecard import metrics
from scorecard.classes import CLASS_COLUMNS
from scorecard.text import BIDI_CONTROLS, hours, num, percent, visible_char

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.metrics import Explanation
    from scorecard.scoring import Report

Format = Literal["csv", "json", "markdown"]
ExplainFormat = Literal["table", "csv", "json"]
Detail = Literal["summary", "weekly", "incidents", "deployments", "classes"]

FORMATS: Final = ("csv", "json", "markdown")
EXPLAIN_FORMATS: Final = ("table", "csv", "json")
DETAILS: Final = ("summary", "weekly", "incidents", "deployments", "classes")
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

INCIDENT_COLUMNS: Final = (
    "team",
    "id",
    "source",
    "service",
    "title",
    "severity",
    "created_at",
    "resolved_at",
    "duration_hours",
    "deployment_id",
    "link_rule",
    "url",
)
DEPLOYMENT_COLUMNS: Final = (
    "team",
    "id",
    "source",
    "service",
    "repo",
    "environment",
    "status",
    "strategy",
    "resolved_strategy",
    "started_at",
    "finished_at",
    "commit_sha",
    "is_rollback",
    "incidents",
    "url",
)
# One row per team and change class with deploys in the window (long format).
CLASS_DETAIL_COLUMNS: Final = ("team", "class", "window_start", "window_end", *CLASS_COLUMNS[2:])


def detail_frame(report: Report, detail: Detail) -> pd.DataFrame:
    """The table one ``--detail`` exports."""
    if detail == "summary":
        return report.summary()
    prep = report.prepared
    if detail == "weekly":
        frame = metrics.weekly_metrics(prep, report.as_of)
        frame["team"] = frame["team"].astype(str)
        return frame[frame["team"].isin(report.table.index)].reset_index(drop=True)
    if detail == "incidents":
        rows = metrics.incident_rows(prep, report.start, report.as_of)
        rows = rows.assign(deployment_id=rows["attributed_deployment"])
        return _typed(rows, INCIDENT_COLUMNS)
    if detail == "deployments":
        rows = metrics.deployment_rows(prep, report.start, report.as_of)
        return _typed(rows, DEPLOYMENT_COLUMNS)
    if detail == "classes":
        rows = report.classes.assign(window_start=report.start, window_end=report.as_of)
        rows = rows[rows["team"].isin(report.table.index)]
        return _typed(rows, CLASS_DETAIL_COLUMNS)
    raise ValueError(f"unknown detail {detail!r}; choose one of {', '.join(DETAILS)}")


def _typed(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = rows[list(columns)].reset_index(drop=True)
    out["team"] = out["team"].astype(str)
    return out


def render(
    report: Report,
    fmt: Format = "csv",
    detail: Detail = "summary",
    *,
    extras: Mapping[str, Any] | None = None,
) -> str:
    """The export as text, ready for a file or stdout.

    ``extras`` (``service.extras``: per team, firing alerts and Prometheus query
    results such as SLOs) goes into the JSON document only."""
    frame = detail_frame(report, detail)
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "json":
        return to_json(report, frame, detail, extras=extras)
    if fmt == "markdown":
        return to_markdown(report, frame) if detail == "summary" else table_markdown(frame)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- cells


def cell(value: Any) -> Any:
    """One value as plain data: lists joined, timestamps ISO 8601 UTC, NaN -> None."""
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else iso(value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if hasattr(value, "item"):
        return cell(value.item())
    if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def iso(value: pd.Timestamp) -> str:
    """2024-01-15T00:00:00Z (seconds precision, always UTC)."""
    return str(value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))


_KEPT_CONTROLS: Final = frozenset("\t\n\r")
"""Controls a report keeps as they are: a cell or a reason may hold tabs and line breaks."""
_JSON_RAW_CONTROLS: Final = re.compile(
    "[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def inert(text: str) -> str:
    """``text`` without terminal control sequences: as :func:`scorecard.text.printable`
    (ESC, BEL ... as control pictures, DEL ``␡``, C1 controls and bidirectional
    overrides U+FFFD) but tabs and line breaks kept. A report printed to a terminal
    cannot restyle it, move the cursor, write the clipboard (OSC 52) or plant links
    (OSC 8)."""
    if text.isprintable() and not any(c in BIDI_CONTROLS for c in text):
        return text
    return "".join(c if c in _KEPT_CONTROLS else visible_char(c) for c in text)


def json_inert(document: str) -> str:
    """A JSON document with DEL, C1 controls and bidirectional overrides written as
    ``\\uXXXX`` escapes (``json`` escapes only C0): the same data, inert in a terminal."""
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def neutralize(text: str) -> str:
    """A text cell a spreadsheet will show, not run: formula starts get a leading quote,
    terminal control sequences are made inert (see :func:`inert`)."""
    text = inert(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_text(value: Any, column: str) -> str:
    value = cell(value)
    if value is None:
        return ""
    if isinstance(value, list):
        value = (" | " if column == "reasons" else " ").join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, int):
        return str(value)
    return neutralize(str(value))


# --------------------------------------------------------------------------- formats


def to_csv(frame: pd.DataFrame) -> str:
    """RFC 4180 CSV with formula-neutralized text and blank empty cells."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = list(frame.columns)
    writer.writerow(columns)
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_one_line_break(_csv_text(v, c)) for v, c in zip(row, columns)])
    return buffer.getvalue()


def _one_line_break(text: str) -> str:
    """A bare CR is not quoted by ``csv`` (its line terminator is ``\\n``) and would split
    the row in most readers: line breaks inside a cell are written as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts in column order."""
    columns = list(frame.columns)
    return [
        {c: cell(v) for c, v in zip(columns, row)}
        for row in frame.itertuples(index=False, name=None)
    ]


def to_json(
    report: Report,
    frame: pd.DataFrame,
    detail: Detail = "summary",
    *,
    extras: Mapping[str, Any] | None = None,
) -> str:
    """A JSON document: the window and benchmarks, then one object per row; then
    ``extras`` (per team: firing alerts, SLO query results) when there are any."""
    from scorecard.scoring import SCORING_VERSION

    doc: dict[str, Any] = {
        "scoring_version": SCORING_VERSION,
        "org": report.org,
        "as_of": iso(report.as_of),
        "window_days": report.window_days,
        "window_start": iso(report.start),
        "window_end": iso(report.as_of),
        "benchmarks": report.bench.name,
        "detail": detail,
        "rows": records(frame),
    }
    teams = set(report.table.index.astype(str)) | {"unassigned"}
    given = extras or {}
    shown = {team: given[team] for team in sorted(given) if team in teams}
    if shown:
        doc["extras"] = shown
    return json_inert(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


MARKDOWN_COLUMNS: Final = (
    ("Team", "team"),
    ("Grade", "grade"),
    ("Pressure", "pressure"),
    ("Rigor", "rigor"),
    ("Gap", "gap"),
    ("Deploys/day", "deploys_per_day"),
    ("Lead time p50", "lead_time_p50_hours"),
    ("Change failure", "change_failure_rate"),
    ("Recovery p50", "recovery_time_p50_hours"),
    ("Coverage (Δ)", "coverage_pct"),
    ("Canary", "canary_share"),
    ("Flags", "flags"),
)


def to_markdown(report: Report, frame: pd.DataFrame) -> str:
    """A summary a lead can paste into a doc: the table, then each flagged team's reasons."""

    def shown(row: dict[str, Any], key: str) -> str:
        value = row[key]
        if key in ("pressure", "rigor", "gap"):
            return num(value)
        if key == "deploys_per_day":
            return num(value, 2)
        if key in ("lead_time_p50_hours", "recovery_time_p50_hours"):
            return hours(value)
        if key in ("change_failure_rate", "canary_share"):
            return percent(value)
        if key == "coverage_pct":
            delta = row["coverage_delta_pts"]
            base = "—" if value is None else f"{num(value, 1)}%"
            return base if delta is None else f"{base} ({'+' if delta >= 0 else ''}{num(delta, 1)})"
        if key == "flags":
            return " ".join(f"`{f}`" for f in value) if value else ""
        return "—" if value is None else str(value)

    rows = records(frame)
    lines = [
        f"## {md_escape(report.org)} scorecard",
        "",
        f"Window: {report.start:%Y-%m-%d} to {report.as_of:%Y-%m-%d %H:%M} UTC "
        f"({report.window_days} days), benchmarks {report.bench.name}.",
        "",
        "| " + " | ".join(title for title, _ in MARKDOWN_COLUMNS) + " |",
        "|"
        + "|".join("---" if key in ("team", "flags") else "--:" for _, key in MARKDOWN_COLUMNS)
        + "|",
    ]
    for row in rows:
        cells = [
            md_escape(shown(row, key)) if key != "flags" else shown(row, key)
            for _, key in MARKDOWN_COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    flagged = [row for row in rows if row["flags"]]
    if flagged:
        lines += ["", "### Why teams are flagged", ""]
        for row in flagged:
            lines.append(f"- **{md_escape(row['team'])}** ({', '.join(row['flags'])})")
            lines += [f"  - {md_escape(reason)}" for reason in row["reasons"] if reason]
    return "\n".join(lines) + "\n"


def table_markdown(frame: pd.DataFrame) -> str:
    """Any detail table as a Markdown table."""
    rows = records(frame)
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(md_escape(_csv_text(row[c], c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def md_escape(text: str) -> str:
    """Text shown literally in Markdown: no markup, no table breaks, no HTML."""
    specials = "\\`*_[]<>|~"
    out = "".join("\\" + ch if ch in specials else ch for ch in inert(str(text)))
    return " ".join(out.splitlines())


# --------------------------------------------------------------------------- explain


def render_explanation(found: Explanation, fmt: ExplainFormat = "table", *, org: str = "") -> str:
    """``scorecard explain``'s output: a terminal table, CSV or a JSON document."""
    frame = found.rows
    if fmt == "csv":
        return to_csv(frame)
    if fmt == "json":
        return explanation_json(found, org=org)
    if fmt == "table":
        return explanation_table(found)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(EXPLAIN_FORMATS)}")


def explanation_json(found: Explanation, *, org: str = "") -> str:
    """The explanation as JSON: the number, how it is made, then one object per row."""
    from scorecard.scoring import SCORING_VERSION

    doc: dict[str, Any] = {
        "scoring_version": SCORING_VERSION,
        "org": org,
        "team": found.team,
        "metric": found.metric,
        "value": cell(found.value),
        "aggregate": found.aggregate,
        "how": found.how,
        "window_days": found.window_days,
        "window_start": iso(found.start),
        "window_end": iso(found.end),
        "covered": found.covered,
        "rows": records(found.rows),
    }
    return json_inert(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def explanation_table(found: Explanation) -> str:
    """The explanation for a terminal: a headline with the number, then aligned rows."""
    rows = found.rows
    counted = int(rows["counted"].sum())
    value = "empty" if cell(found.value) is None else _csv_text(found.value, "value")
    lines = [
        f"{inert(found.team)} · {found.metric} = {value}",
        f"window {iso(found.start)} to {iso(found.end)} ({found.window_days} days); "
        f"{counted} of {len(rows)} rows counted; the metric is {found.how}",
    ]
    if not found.covered and found.aggregate in ("count", "per_day", "deploy_days", "trend"):
        lines.append("empty: no synced source delivering these events covers the team")
    header = ["kind", "id", "at", "counted", "value", "rule"]
    cells = [
        [inert(_csv_text(v, c)) for v, c in zip(row, header)] + [inert(str(row[-1]))]
        for row in rows[[*header, "detail"]].itertuples(index=False, name=None)
    ]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    lines.append("")
    lines.append("  ".join([*(h.ljust(w) for h, w in zip(header, widths)), "detail"]))
    for r in cells:
        lines.append("  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]))
    return "\n".join(lines) + "\n"
