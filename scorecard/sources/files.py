"""The ``files`` source: import events from CSV / JSONL exports (SPEC §6).

This is the universal escape hatch: anything a team can export (a deploy log, a
spreadsheet of incidents, a BI query) becomes scorecard data without writing a
connector. Because the input is hand-made, validation is the point of this
module: every bad row is dropped *and* reported with file, line, field and
reason, so nothing disappears silently, and ``strict`` turns the first one into
a hard error for pipelines that must not lose data.

Files can be large (a million deployments), so CSV columns are parsed and
checked with vectorized pandas operations rather than row by row.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scorecard import model
from scorecard.errors import FatalSourceError
from scorecard.options import SourceOptions, option
from scorecard.sources.contract import FetchContext, SourceResult, typed_options
from scorecard.sources.registry import register

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from scorecard.config.model import SourceConfig

SUFFIXES: Final = (".csv", ".jsonl")

# At most this many bad-row messages per file; the rest are summarized in one line
# (all of them are still counted in ``skipped``).
MAX_ROW_PROBLEMS_PER_FILE: Final = 20

_MAX_VALUE_CHARS: Final = 40
_CAMEL: Final = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS: Final = re.compile(r"[\s\-]+")
_TRUE: Final = ("true", "1", "yes", "y", "t")
_FALSE: Final = ("false", "0", "no", "n", "f")


@dataclass
class _BadRows:
    """Bad rows of one file: line number -> "field: reason" (first problem wins)."""

    rows: dict[int, str] = field(default_factory=dict)

    def add(self, line: int, message: str) -> None:
        self.rows.setdefault(line, message)


@dataclass
class _Parsed:
    """One file read into string columns, before validation."""

    frame: pd.DataFrame
    """Schema columns only; scalar cells are strings ("" = missing)."""
    lines: Callable[[], np.ndarray[Any, Any]]
    """Line number of each row of ``frame`` (computed lazily: only needed for errors)."""
    unknown: list[str]
    bad: _BadRows


@dataclass(frozen=True, kw_only=True)
class FilesOptions(SourceOptions):
    """Options of a `kind = "files"` source."""

    path: Path = option(check="path", required=True, example='"exports/"')  # noqa: RUF009
    """The directory holding the event files (relative to the config file's folder)."""
    strict: bool = False
    """A bad row stops the sync instead of being skipped and counted."""


@register
class FilesSource:
    """Reads every event file in one directory, in full, on every sync."""

    kind = "files"
    Options = FilesOptions

    def __init__(self, cfg: SourceConfig, *, strict: bool = False) -> None:
        self.name = cfg.name
        self.options = typed_options(FilesOptions, cfg)
        self.strict = bool(self.options.strict or strict)
        self.path = Path(self.options.path)

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        """Read the directory (in a worker thread: parsing big files is CPU work)."""
        ctx.progress(f"reading {self.path}")
        result = await asyncio.to_thread(self.read)
        if not ctx.full and ctx.state.get("files") == result.state.get("files"):
            ctx.progress("no changes since the last sync")
        else:
            ctx.progress(f"read {result.items:,} events")
        return result

    def read(self) -> SourceResult:
        """Read and validate all event files synchronously."""
        directory = self.path
        if not directory.exists():
            raise FatalSourceError(f"source '{self.name}': directory not found: {directory}")
        if not directory.is_dir():
            raise FatalSourceError(f"source '{self.name}': not a directory: {directory}")
        frames: dict[str, list[pd.DataFrame]] = {}
        problems: list[str] = []
        skipped = 0
        seen: dict[str, dict[str, int]] = {}
        for kind in model.EVENT_KINDS:
            for suffix in SUFFIXES:
                path = directory / f"{kind}{suffix}"
                if not path.is_file():
                    continue
                try:
                    stat = path.stat()
                except OSError as exc:
                    raise FatalSourceError(self._unreadable(path, exc)) from exc
                seen[path.name] = {"mtime_ns": stat.st_mtime_ns, "size": stat.st_size}
                frame, file_skipped, file_problems = self._read_file(kind, path)
                frames.setdefault(kind, []).append(frame)
                skipped += file_skipped
                problems.extend(file_problems)
        problems.extend(self._ignored_entries(directory))
        if not seen:
            expected = ", ".join(f"{kind}.csv" for kind in model.EVENT_KINDS)
            problems.append(f"{directory}: no event files found (expected any of {expected})")
        merged = {kind: model.concat(kind, parts) for kind, parts in frames.items()}  # type: ignore[arg-type]
        return SourceResult(
            frames=merged,
            skipped=skipped,
            problems=problems,
            state={"files": seen},
        )

    def _ignored_entries(self, directory: Path) -> list[str]:
        """Messages for .csv/.jsonl entries that are not read: nothing is dropped silently."""
        kinds = ", ".join(model.EVENT_KINDS)
        out: list[str] = []
        try:
            entries = sorted(directory.iterdir())
        except OSError as exc:
            raise FatalSourceError(self._unreadable(directory, exc)) from exc
        for entry in entries:
            if entry.suffix.lower() not in SUFFIXES or entry.name.startswith("."):
                continue
            if entry.stem not in model.EVENT_KINDS or entry.suffix not in SUFFIXES:
                out.append(
                    f"{entry.name}: ignored: not an event kind "
                    f"(files are named <kind>.csv or <kind>.jsonl; kinds: {kinds})"
                )
            elif not entry.is_file():
                out.append(f"{entry.name}: ignored: not a regular file (or a broken link)")
        return out

    def _unreadable(self, path: Path, exc: BaseException) -> str:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"source '{self.name}': cannot read {path}: {reason}"

    def _read_file(self, kind: model.EventKind, path: Path) -> tuple[pd.DataFrame, int, list[str]]:
        label = path.name
        try:
            reader = _read_csv if path.suffix == ".csv" else _read_jsonl
            parsed = reader(kind, path)
        except UnicodeDecodeError as exc:
            raise FatalSourceError(
                f"source '{self.name}': {path} is not UTF-8 text "
                f"(byte {exc.object[exc.start] if exc.object else 0:#04x} at offset {exc.start});"
                " save it as UTF-8"
            ) from exc
        except OSError as exc:
            raise FatalSourceError(self._unreadable(path, exc)) from exc
        except ValueError as exc:  # pandas parser errors
            raise FatalSourceError(self._unreadable(path, exc)) from exc

        problems: list[str] = []
        if parsed.unknown:
            problems.append(f"{label}: ignoring unknown column(s): {', '.join(parsed.unknown)}")
        missing = [c for c in model.REQUIRED[kind] if c not in parsed.frame.columns]
        n_rows = len(parsed.frame)
        has_content = n_rows or parsed.bad.rows or len(parsed.frame.columns) or parsed.unknown
        if missing and has_content:
            message = f"{label}: missing required column(s): {', '.join(missing)}"
            if self.strict:
                raise FatalSourceError(f"source '{self.name}': {message}")
            total = n_rows + len(parsed.bad.rows)
            problems.append(f"{message}; all {total:,} row(s) skipped")
            return model.empty_frame(kind), total, problems

        frame, keep = _validate(kind, parsed.frame, parsed.bad, parsed.lines)
        frame["source"] = self.name
        if parsed.bad.rows:
            first = min(parsed.bad.rows)
            if self.strict:
                raise FatalSourceError(
                    f"source '{self.name}': {label}:{first}: {parsed.bad.rows[first]}"
                )
            ordered = sorted(parsed.bad.rows.items())
            for line, message in ordered[:MAX_ROW_PROBLEMS_PER_FILE]:
                problems.append(f"{label}:{line}: {message}")
            rest = len(ordered) - MAX_ROW_PROBLEMS_PER_FILE
            if rest > 0:
                problems.append(f"{label}: {rest:,} more bad row(s) not shown")
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
        return model.coerce(kind, frame), len(parsed.bad.rows), problems


# --- reading -----------------------------------------------------------------------------


def _schema_columns(kind: model.EventKind, header: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file columns to schema fields (case/space-insensitive); list unknown ones."""
    schema = model.SCHEMAS[kind]
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for raw in header:
        name = str(raw).strip().lower()
        if name in schema:
            mapping.setdefault(name, raw)
        elif name:
            unknown.append(str(raw).strip())
    return mapping, unknown


def _read_csv(kind: model.EventKind, path: Path) -> _Parsed:
    import pandas as pd

    bad = _BadRows()
    try:
        raw = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skipinitialspace=False,
        )
    except pd.errors.EmptyDataError:
        raw = pd.DataFrame()
    except pd.errors.ParserError:
        # Rows with too many fields: the rare, slow path that finds them by line.
        return _read_csv_ragged(kind, path)
    if not isinstance(raw.index, pd.RangeIndex):
        # Every row has more fields than the header: pandas would silently take the
        # extra leading fields as an index and shift the columns. Report them instead.
        return _read_csv_ragged(kind, path)
    mapping, unknown = _schema_columns(kind, [str(c) for c in raw.columns])
    frame = pd.DataFrame(
        {name: raw[src].fillna("") for name, src in mapping.items()}, index=pd.RangeIndex(len(raw))
    )

    def lines() -> np.ndarray[Any, Any]:
        return _csv_line_numbers(path, len(frame))

    return _Parsed(frame=frame, lines=lines, unknown=unknown, bad=bad)


def _csv_line_numbers(path: Path, n_rows: int) -> np.ndarray[Any, Any]:
    """Line on which each data row starts (the header is line 1).

    When every record is one physical line (the common case) this is just
    ``row + 2``; quoted newlines or blank lines need a pass with :mod:`csv`.
    """
    import numpy as np

    physical = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            physical += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        physical += 1
    if physical == n_rows + 1:
        return np.arange(2, n_rows + 2)
    starts: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        previous_end = 0
        for index, record in enumerate(reader):
            if index > 0 and record:
                starts.append(previous_end + 1)
            previous_end = reader.line_num
    if len(starts) != n_rows:  # pragma: no cover - pandas and csv disagree on a dialect edge
        return np.arange(2, n_rows + 2)
    return np.asarray(starts)


def _read_csv_ragged(kind: model.EventKind, path: Path) -> _Parsed:
    import numpy as np
    import pandas as pd

    bad = _BadRows()
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, [])
        width = len(header)
        rows: list[list[str]] = []
        starts: list[int] = []
        previous_end = reader.line_num
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record:
                continue
            if len(record) > width:
                bad.add(start, f"row: expected {width} fields, got {len(record)}")
                continue
            rows.append(record + [""] * (width - len(record)))
            starts.append(start)
    mapping, unknown = _schema_columns(kind, header)
    positions = {name: header.index(src) for name, src in mapping.items()}
    frame = pd.DataFrame(
        {name: [row[pos] for row in rows] for name, pos in positions.items()},
        index=pd.RangeIndex(len(rows)),
    )
    line_array = np.asarray(starts, dtype=np.int64)
    return _Parsed(frame=frame, lines=lambda: line_array, unknown=unknown, bad=bad)


def _read_jsonl(kind: model.EventKind, path: Path) -> _Parsed:
    import numpy as np
    import pandas as pd

    schema = model.SCHEMAS[kind]
    bad = _BadRows()
    records: list[dict[str, Any]] = []
    starts: list[int] = []
    unknown: dict[str, None] = {}
    with path.open(encoding="utf-8-sig") as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.add(number, f"json: invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                bad.add(number, f"json: expected an object, got {type(obj).__name__}")
                continue
            record: dict[str, Any] = {}
            problem: str | None = None
            for key, value in obj.items():
                name = str(key).strip().lower()
                spec = schema.get(name)
                if spec is None:
                    unknown.setdefault(str(key), None)
                    continue
                cell, error = _json_cell(value, spec)
                if error and problem is None:
                    problem = f"{name}: {error}"
                record[name] = cell
            if problem is not None:
                bad.add(number, problem)
                continue
            records.append(record)
            starts.append(number)
    present = [name for name in schema if any(name in r for r in records)] if records else []
    if not records:
        # Keep the columns the (bad or absent) rows would have had so the caller's
        # required-column check does not misreport a file that only had bad rows.
        present = list(schema)
    frame = pd.DataFrame(
        {name: [_blank_if_missing(r.get(name), schema[name]) for r in records] for name in present},
        index=pd.RangeIndex(len(records)),
    )
    line_array = np.asarray(starts, dtype=np.int64)
    return _Parsed(frame=frame, lines=lambda: line_array, unknown=list(unknown), bad=bad)


def _blank_if_missing(value: Any, spec: str) -> Any:
    if value is None:
        return [] if spec == "list" else ""
    return value


def _json_cell(value: Any, spec: str) -> tuple[Any, str | None]:
    """A JSON value as the string (or list) the column parsers expect."""
    if value is None:
        return None, None
    if spec == "list":
        if isinstance(value, list):
            if any(isinstance(v, (list, dict)) for v in value):
                return None, "expected a list of strings"
            return [str(v) for v in value if v is not None], None
        if isinstance(value, dict):
            return None, "expected a list of strings"
        return str(value), None
    if isinstance(value, (list, dict)):
        return (
            None,
            f"expected a single value, got {'a list' if isinstance(value, list) else 'an object'}",
        )
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    return str(value), None


# --- validation --------------------------------------------------------------------------


def _shown(values: pd.Series[Any]) -> pd.Series[Any]:
    """Cell values for messages: quoted, shortened."""
    text = values.astype(str)
    long = text.str.len() > _MAX_VALUE_CHARS
    text = text.where(~long, text.str.slice(0, _MAX_VALUE_CHARS - 1) + "…")
    return "'" + text + "'"


class _Reasons:
    """Why each row is bad: the first failing field's message, in schema order."""

    def __init__(self, index: pd.Index[Any]) -> None:
        import pandas as pd

        self.reason = pd.Series([None] * len(index), dtype=object, index=index)

    def flag(
        self,
        mask: pd.Series[bool],
        message: str,
        shown: pd.Series[Any] | None = None,
        tail: str = "",
    ) -> None:
        """Give rows in ``mask`` (without an earlier reason) ``message [value] tail``."""
        new = mask & self.reason.isna()
        if new.any():
            if shown is None:
                self.reason[new] = message + tail
            else:
                self.reason[new] = message + " " + _shown(shown[new]) + tail


def _validate(
    kind: model.EventKind,
    raw: pd.DataFrame,
    bad: _BadRows,
    lines: Callable[[], np.ndarray[Any, Any]],
) -> tuple[pd.DataFrame, pd.Series[bool]]:
    """Parse each column vectorized; record the first problem of every bad row.

    Returns the parsed columns (all rows) and a mask of the rows to keep.
    """
    import pandas as pd

    required = set(model.REQUIRED[kind])
    parsed: dict[str, Any] = {}
    reasons = _Reasons(raw.index)
    for name, spec in model.SCHEMAS[kind].items():
        if name not in raw.columns or name == "source":
            continue
        col = raw[name]
        if spec == "list":
            parsed[name] = col
            continue
        text = col.astype(str).str.strip()
        present = text != ""
        if name in required:
            reasons.flag(~present, f"{name}: missing required value")
        parsed[name] = _parse_column(name, spec, text, present, reasons)

    keep = reasons.reason.isna()
    if not keep.all():
        row_lines = lines()
        bad_index = (~keep).to_numpy().nonzero()[0]
        messages = reasons.reason.to_numpy()
        for position in bad_index:
            bad.add(int(row_lines[position]), str(messages[position]))
    return pd.DataFrame(parsed, index=raw.index), keep


def _parse_column(
    name: str, spec: str, text: pd.Series[Any], present: pd.Series[bool], reasons: _Reasons
) -> pd.Series[Any]:
    """One column's values parsed by its schema type; bad ones flagged in ``reasons``."""
    import pandas as pd

    if spec == "ts":
        values = pd.to_datetime(text.where(present), utc=True, format="ISO8601", errors="coerce")
        reasons.flag(present & values.isna(), f"{name}: not a timestamp", text)
        return values
    if spec == "bool":
        lowered = text.str.lower()
        truthy = lowered.isin(_TRUE)
        falsy = lowered.isin(_FALSE)
        reasons.flag(present & ~truthy & ~falsy, f"{name}: not true/false", text)
        return truthy
    if spec in ("int", "float"):
        return _parse_numbers(name, spec, text, present, reasons)
    if spec.startswith("enum:"):
        allowed = model.ENUMS[spec.removeprefix("enum:")]
        values = _normalize_enum(text, name)
        unknown = present & ~values.isin(allowed)
        reasons.flag(unknown, f"{name}: unknown value", text, f" (expected {'|'.join(allowed)})")
        valid = values.where(present & ~unknown)
        if name == "strategy":  # a deploy without a known strategy is "unknown"
            valid = valid.fillna("unknown")
        return valid
    return text.where(present)  # free text and open categories


def _parse_numbers(
    name: str, spec: str, text: pd.Series[Any], present: pd.Series[bool], reasons: _Reasons
) -> pd.Series[Any]:
    """Whole positive numbers (``int``) or numbers, a percentage sign allowed (``float``)."""
    import pandas as pd

    numbers = pd.to_numeric(
        text.str.removesuffix("%") if spec == "float" else text, errors="coerce"
    )
    reasons.flag(present & numbers.isna(), f"{name}: not a number", text)
    if spec == "int":
        whole = numbers.notna() & ((numbers % 1 != 0) | (numbers < 1))
        reasons.flag(present & whole, f"{name}: not a positive whole number", text)
        return numbers.where(~whole)
    if name == "line_coverage":
        outside = numbers.notna() & ((numbers < 0) | (numbers > 100))
        reasons.flag(present & outside, f"{name}: outside 0..100", text)
    return numbers


def _normalize_enum(text: pd.Series[Any], name: str) -> pd.Series[Any]:
    """``blueGreen`` / ``Blue-Green`` / ``BLUE_GREEN`` -> ``blue_green``; ``SEV 1`` -> ``sev1``.

    Enum columns hold a handful of distinct values, so only those are normalized.
    """
    import pandas as pd

    codes, uniques = pd.factorize(text)
    normalized = [_normalize_enum_value(str(value), name) for value in uniques]
    lookup = pd.array([*normalized, None], dtype="string")
    return pd.Series(lookup[codes], index=text.index)  # code -1 (missing) -> None


def _normalize_enum_value(value: str, name: str) -> str:
    value = _CAMEL.sub("_", value).lower()
    value = _SEPARATORS.sub("_", value)
    if name == "severity":
        value = value.replace("_", "")
    return value
