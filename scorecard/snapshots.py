"""Daily snapshots of the scored summary: the memory that outlives vendors' retention.

Trends beyond a window ("are we getting better?") and comparisons with a past
review need yesterday's numbers as they were scored then, not as today's
definitions and today's vendor retention would recompute them. So every
successful sync (and ``scorecard snapshot``) keeps one row per team for that day:
the summary columns of SPEC §3, with the ``scoring_version`` and a hash of the
team map that produced them, so that a reader can tell a real change from a
changed definition or a reorganisation.

Layout, beside the event cache (never inside ``<root>/v1``, whose every folder
is a source)::

    <root>/snapshots/v1/<YYYY-MM>.parquet   one row per (day, team) of that month

A month file is small (31 days x teams) and is replaced atomically (temp file,
fsync, rename); a later snapshot of the same day replaces that day's rows. Rows
older than ``snapshot_days`` are dropped on each write. ``read_only=True`` only
ever opens files for reading.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from scorecard.errors import StoreError
from scorecard.fs import cache_dir, fsync_dir

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import TeamConfig

__all__ = ["KEY_COLUMNS", "SNAPSHOT_VERSION", "Snapshots", "team_map_hash"]

SNAPSHOT_VERSION: Final = 1
KEY_COLUMNS: Final = ("day", "team")
"""Every snapshot row has these: ``day`` (``YYYY-MM-DD``, the as-of date) and ``team``."""
_MONTH_FILE: Final = re.compile(r"(\d{4})-(\d{2})\.parquet")


def team_map_hash(teams: Iterable[TeamConfig]) -> str:
    """A short, stable fingerprint of who owns what: it changes when a repo, service
    or team moves, so trends can mark where the team map changed."""
    entries = sorted((dataclasses.asdict(t) for t in teams), key=lambda e: str(e["name"]))
    text = json.dumps(entries, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Snapshots:
    """The snapshot folder under a cache root (``read_only``: nothing is ever written)."""

    def __init__(self, root: Path | None = None, *, read_only: bool = False) -> None:
        self.root = Path(root) if root is not None else cache_dir()
        self.read_only = read_only
        self.dir = self.root / "snapshots" / f"v{SNAPSHOT_VERSION}"

    def months(self) -> list[tuple[int, int]]:
        """The (year, month) of every month file, oldest first."""
        if not self.dir.is_dir():
            return []
        found = (_MONTH_FILE.fullmatch(p.name) for p in self.dir.iterdir())
        return sorted((int(m.group(1)), int(m.group(2))) for m in found if m)

    def read(self, since: date | None = None, until: date | None = None) -> pd.DataFrame:
        """Every snapshot row with ``since <= day <= until``, sorted by day and team."""
        import pandas as pd

        low = (since.year, since.month) if since else (0, 0)
        high = (until.year, until.month) if until else (9999, 12)
        parts = [self._read_month(m) for m in self.months() if low <= m <= high]
        parts = [p for p in parts if not p.empty]
        if not parts:
            return pd.DataFrame(columns=list(KEY_COLUMNS))
        rows = pd.concat(parts, ignore_index=True)
        keep = pd.Series(True, index=rows.index)
        if since is not None:
            keep &= rows["day"] >= since.isoformat()
        if until is not None:
            keep &= rows["day"] <= until.isoformat()
        return rows[keep].sort_values(list(KEY_COLUMNS), ignore_index=True)

    def days(self) -> list[date]:
        """The days that have a snapshot, oldest first."""
        found = self.read()
        return [date.fromisoformat(d) for d in sorted(set(found["day"].astype(str)))]

    def write(self, day: date, rows: pd.DataFrame, *, keep_days: int) -> Path:
        """Store ``rows`` (one per team; ``day`` is set here) as ``day``'s snapshot,
        replacing an earlier one of the same day; drop what is older than ``keep_days``
        before ``day``. Returns the month file written."""
        import pandas as pd

        if self.read_only:
            raise StoreError("the cache is read-only; no snapshot is written")
        self.dir.mkdir(parents=True, exist_ok=True)
        month = (day.year, day.month)
        current = self._read_month(month)
        if not current.empty:
            current = current[current["day"] != day.isoformat()]
        fresh = rows.assign(day=day.isoformat())
        fresh = fresh[["day", *(c for c in fresh.columns if c != "day")]]
        merged = fresh if current.empty else pd.concat([current, fresh], ignore_index=True)
        path = self._path(month)
        _write_parquet(path, merged.sort_values(list(KEY_COLUMNS), ignore_index=True))
        self._prune(day - timedelta(days=keep_days))
        return path

    def _prune(self, cutoff: date) -> None:
        """Rows before ``cutoff`` go; a month wholly before it goes as a file."""
        for month in self.months():
            path = self._path(month)
            if month < (cutoff.year, cutoff.month):
                path.unlink(missing_ok=True)
            elif month == (cutoff.year, cutoff.month):
                rows = self._read_month(month)
                kept = rows[rows["day"] >= cutoff.isoformat()]
                if len(kept) < len(rows):
                    _write_parquet(path, kept.reset_index(drop=True))

    def _path(self, month: tuple[int, int]) -> Path:
        return self.dir / f"{month[0]:04d}-{month[1]:02d}.parquet"

    def _read_month(self, month: tuple[int, int]) -> pd.DataFrame:
        import pandas as pd
        import pyarrow.parquet as pq

        try:
            frame: pd.DataFrame = pq.read_table(self._path(month)).to_pandas()
        except (OSError, ValueError):  # missing, or unreadable: a gap, never a crash
            return pd.DataFrame(columns=list(KEY_COLUMNS))
        return frame


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """``frame`` to ``path`` atomically: temp file beside it, fsync, rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
