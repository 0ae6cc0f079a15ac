"""The overview summary: what the overview shows, saved as small JSON for a fast start.

Whenever the TUI builds a scorecard it saves, per team, exactly what an
overview row shows (grade, scores, gap, the deploy series, the headline
metrics with their bands, flags) plus the header's facts (org, window, as-of,
failed sources). The next start reads it with the standard library only and
paints the overview at once, labelled with the summary's own as-of, while the
real scorecard is built; then the real rows replace it. Read-only sessions
read it but never write it.

Nothing here imports pandas at module import time: reading a summary must not
wait for it. :func:`row_from_report` duck-types a scored report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from scorecard.bands import BAND_COLUMNS
from scorecard.fs import atomic_write_text, cache_dir

SCHEMA: Final = 1
KIND: Final = "scorecard-overview-summary"

# The report columns an overview row shows (besides the team name and the weekly deploys).
ROW_NUMBERS: Final = (
    "pressure",
    "rigor",
    "gap",
    "deploys_per_day",
    "lead_time_p50_hours",
    "change_failure_rate",
    "recovery_time_p50_hours",
    "coverage_pct",
    "coverage_delta_pts",
    "canary_share",
)
ROW_BANDS: Final = tuple(band for band in BAND_COLUMNS if band != "ci_band")  # no CI column

Row = dict[str, Any]


def summary_key(
    *,
    demo: bool,
    config_path: Path | str | None = None,
    window_days: int | None = None,
    as_of: datetime | None = None,
) -> str | None:
    """The file name (without ``.json``) a session's summary lives under; None: no summary.

    ``demo`` for the demo at its default window and a moving as-of; otherwise a
    hash of what selects the numbers (config file, window, a fixed as-of).
    """
    if demo and window_days is None and as_of is None:
        return "demo"
    if not demo and config_path is None:
        return None
    parts = [
        "demo" if demo else str(Path(config_path or "").expanduser().resolve()),
        str(window_days or ""),
        as_of.isoformat() if as_of is not None else "",
    ]
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{'demo' if demo else 'config'}-{digest}"


def summary_path(key: str, root: Path | None = None) -> Path:
    return (root or cache_dir()) / "summaries" / f"{key}.json"


# --------------------------------------------------------------------------- plain values


def plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN/NaT/NA as None."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (str, bytes)):
        with contextlib.suppress(Exception):
            value = item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, str):
        return value
    try:
        if value != value:  # NaT, NA
            return None
    except (TypeError, ValueError):
        return None
    return None


def row_from_report(report: Any, team: str) -> Row:
    """One overview row of a scored report as a plain mapping (what the summary stores)."""
    table = report.table
    row = table.loc[team]
    weekly_table = report.weekly_deploys
    weekly = list(weekly_table.loc[team]) if team in weekly_table.index else []
    out: Row = {"team": str(team)}
    grade = plain(row.get("grade"))
    out["grade"] = str(grade) if grade is not None else None
    for column in ROW_NUMBERS:
        v = plain(row.get(column))
        out[column] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    for column in ROW_BANDS:
        band = plain(row.get(column))
        out[column] = str(band) if band is not None else None
    out["weekly_deploys"] = [_number(plain(v)) for v in weekly]
    out["flags"] = [str(f) for f in (row.get("flags") or [])]
    return out


def rows_from_report(report: Any) -> dict[str, Row]:
    return {str(team): row_from_report(report, str(team)) for team in report.table.index}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    if hasattr(moment, "to_pydatetime"):
        moment = moment.to_pydatetime()
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return str(moment.astimezone(timezone.utc).isoformat())


def build(
    *,
    org: str,
    as_of: Any,
    window_days: int,
    demo: bool,
    failed_sources: Sequence[str],
    last_synced: Any,
    rows: Mapping[str, Row],
    generated_at: datetime | None = None,
    scoring_version: int | None = None,
) -> dict[str, Any]:
    """The summary document (see :func:`read` for what makes one valid).

    ``scoring_version``: the definitions the numbers were computed with
    (``scorecard.scoring.SCORING_VERSION``), so a saved overview is compared
    with a later one honestly."""
    return {
        "kind": KIND,
        "schema": SCHEMA,
        "scoring_version": scoring_version,
        "org": str(org),
        "as_of": _iso(as_of),
        "window_days": int(window_days),
        "demo": bool(demo),
        "failed_sources": [str(s) for s in failed_sources],
        "last_synced": _iso(last_synced),
        "generated_at": _iso(generated_at or datetime.now(timezone.utc)),
        "teams": [dict(row) for row in rows.values()],
    }


# --------------------------------------------------------------------------- read / write


def write(path: Path, summary: Mapping[str, Any]) -> None:
    """Atomically (temp file, fsync, rename): a reader sees the old file or the new one."""
    text = json.dumps(summary, ensure_ascii=False, allow_nan=False, sort_keys=True)
    atomic_write_text(path, text + "\n")


class Summary:
    """A validated summary: header facts and the overview rows by team."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.org: str = data["org"]
        self.as_of: datetime = _parse_time(data["as_of"])
        self.window_days: int = data["window_days"]
        self.demo: bool = data["demo"]
        self.failed_sources: list[str] = list(data["failed_sources"])
        synced = data.get("last_synced")
        self.last_synced: datetime | None = _parse_time(synced) if synced else None
        self.generated_at: datetime = _parse_time(data["generated_at"])
        version = data.get("scoring_version")
        self.scoring_version: int | None = (
            version if isinstance(version, int) and not isinstance(version, bool) else None
        )
        self.rows: dict[str, Row] = {row["team"]: row for row in data["teams"]}


def read(path: Path) -> Summary | None:
    """The summary at ``path``; None when it is missing, unreadable or of another schema."""
    try:
        if path.stat().st_size > 8 * 2**20:
            return None
        return parsed(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, or not UTF-8
        return None


def parsed(text: str) -> Summary | None:
    """The summary a JSON text holds; None when it is not JSON or not a valid summary."""
    try:
        return _validated(json.loads(text))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


PACKAGED_DEMO: Final = "demo_summary.json"
"""The demo's overview at a fixed as-of, shipped in ``scorecard/data`` so that even
the very first `scorecard demo` paints scores before pandas loads (labelled with
its own as-of and replaced once the live demo is scored)."""


def packaged_demo() -> Summary | None:
    """The demo overview shipped with the package; None when it is missing or stale."""
    from importlib.resources import files

    try:
        return parsed(files("scorecard").joinpath("data", PACKAGED_DEMO).read_text("utf-8"))
    except (OSError, ValueError):  # missing, or not UTF-8
        return None


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError("not a time")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment


def _validated(data: Any) -> Summary | None:
    if not isinstance(data, dict) or data.get("kind") != KIND or data.get("schema") != SCHEMA:
        return None
    if not isinstance(data.get("org"), str) or not isinstance(data.get("demo"), bool):
        return None
    window = data.get("window_days")
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        return None
    failed = data.get("failed_sources")
    if not isinstance(failed, list) or not all(isinstance(s, str) for s in failed):
        return None
    teams = data.get("teams")
    if not isinstance(teams, list) or not teams:
        return None
    seen: set[str] = set()
    for row in teams:
        if not _valid_row(row) or row["team"] in seen:
            return None
        seen.add(row["team"])
    return Summary(data)


def _valid_row(row: Any) -> bool:
    if not isinstance(row, dict) or not isinstance(row.get("team"), str):
        return False
    if row.get("grade") is not None and not isinstance(row["grade"], str):
        return False
    for column in ROW_NUMBERS:
        v = row.get(column, "missing")
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            return False
    for column in ROW_BANDS:
        v = row.get(column, 0)
        if v is not None and not isinstance(v, str):
            return False
    weekly = row.get("weekly_deploys")
    if not isinstance(weekly, list) or not all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in weekly
    ):
        return False
    flags = row.get("flags")
    return isinstance(flags, list) and all(isinstance(f, str) for f in flags)
