"""The local cache: normalized events as Parquet, plus sync state, per source (SPEC §9).

The cache is what makes scorecard work offline and start fast: the TUI, exports
and standups read it, only ``sync`` writes it. Each source owns one directory,
so a failing source never touches another's data, and every file is replaced
atomically (temp file, fsync, rename), so a crash or kill mid-sync leaves the
previous good cache readable.

Layout::

    <root>/v1/meta.json                 {"schema_version": 1}
    <root>/v1/<source>/<kind>.parquet   one per event kind the source produced
    <root>/v1/<source>/state.json       cursors / ETags for incremental sync
    <root>/v1/<source>/status.json      last attempt, last success, error, counts

Temporary files start with a dot (``.<name>.tmp-<pid>`` for Parquet, see
:func:`scorecard.fs.atomic_write_text` for JSON) and are never read. A source's
new data is written in full into ``.<source>.new-<pid>/`` and then swapped in for
``<source>/`` with two renames (the old one becomes ``.<source>.old/`` for an
instant), so a reader always sees one whole sync: all of its events, state and
status from before or all of them from after, never a mix. A kill between the two
renames leaves ``.<source>.old/``, which is read in place of the missing directory
and put back the next time the cache is opened for writing.

A shared cache (``cache_url``, SPEC §9) is read through the same class: once
:func:`read_published` is given a way to fetch the latest :class:`Publication`
(see :mod:`scorecard.shared_cache`), a ``Store()`` opened without a root reads that
whole published sync, read-only, and touches no local file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scorecard import model
from scorecard.errors import StoreError
from scorecard.fs import atomic_write_text, cache_dir, fsync_dir
from scorecard.status import MAX_PROBLEMS, RequestStats, SourceStatus

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources import SourceResult

__all__ = ["SCHEMA_VERSION", "Publication", "Store", "cache_dir", "read_published", "result_stats"]

SCHEMA_VERSION: Final = 1

_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_BACKUP: Final = re.compile(r"\.(.+)\.old")
_STAGING: Final = re.compile(r"\.(.+)\.new-(\d+)")
_VERSION_DIR: Final = re.compile(r"v(\d+)")


@dataclass(frozen=True)
class Publication:
    """One whole sync published to a shared cache (SPEC §9)."""

    url: str
    publisher: str = ""
    """Who ran the sync (the scheduled job's name, or user@host)."""
    published_at: datetime | None = None
    """When it was committed; None: nothing is published there yet."""
    statuses: Mapping[str, SourceStatus] = field(default_factory=dict)
    states: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Source name -> event kind -> its events: a ``pyarrow.Table``, or anything with
    its ``column_names`` and ``select(columns)`` (read on demand)."""
    notices: tuple[str, ...] = ()


_PUBLISHED: dict[str, Callable[[], Publication]] = {}


def read_published(latest: Callable[[], Publication] | None) -> None:
    """From now on, ``Store()`` without a root reads what ``latest()`` returns (a shared
    cache, read-only); ``None``: the local cache again. One config per process: the
    command line sets it when it loads the config."""
    _PUBLISHED.clear()
    if latest is not None:
        _PUBLISHED["latest"] = latest


class Store:
    """The on-disk cache. ``read_only=True`` never creates or changes anything."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        read_only: bool = False,
        publication: Publication | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else cache_dir()
        opened = publication is None and root is None  # by read_published's opener, if any
        self._latest = _PUBLISHED.get("latest") if opened else None
        publication = self._latest() if self._latest else publication
        self.publication = publication
        """The shared cache's publication this store reads (None: the local cache)."""
        self.read_only = read_only or publication is not None
        self.dir = self.root / f"v{SCHEMA_VERSION}"
        self.notices: list[str] = list(publication.notices) if publication else []
        """Things worth telling the user (a rebuilt or unreadable cache)."""
        self._ignored = False  # a cache we must not read (other schema version)
        if publication is None:
            self._open()

    def reopen(self) -> None:
        """Read the shared cache's latest publication again (a store opened on one by
        :func:`read_published`); the local cache is read afresh by every load anyway."""
        if self._latest is not None:
            self.publication = self._latest()
            self.notices = list(self.publication.notices)

    @property
    def notice(self) -> str | None:
        """All notices as one message, or None."""
        return "; ".join(self.notices) if self.notices else None

    # --- opening --------------------------------------------------------------------

    def _open(self) -> None:
        meta_path = self.dir / "meta.json"
        version: Any
        if meta_path.exists():
            meta = _read_json(meta_path)
            version = meta.get("schema_version") if isinstance(meta, dict) else "unreadable"
        elif self._source_dirs():
            version = None  # data without a version stamp: written by something else
        else:  # a new (or empty) cache: claim it
            self._note_other_versions()
            if not self.read_only:
                self._write_meta()
            return
        if version == SCHEMA_VERSION:
            if not self.read_only:
                self._tidy()
            return
        described = "no schema version" if version is None else f"schema version {version}"
        if self.read_only:
            self._ignored = True
            self.notices.append(
                f"cache at {self.dir} has {described} (expected {SCHEMA_VERSION}); "
                "ignoring it until the next sync rebuilds it"
            )
            return
        for entry in self._source_dirs():
            shutil.rmtree(entry, ignore_errors=True)
        self._write_meta()
        self.notices.append(
            f"cache at {self.dir} had {described} (expected {SCHEMA_VERSION}); "
            "it was cleared and will be rebuilt by the next sync"
        )

    def _note_other_versions(self) -> None:
        """Say so when the cache root holds data of other schema versions (never read)."""
        if not self.root.is_dir():
            return
        others = sorted(
            int(m.group(1))
            for p in self.root.iterdir()
            if p.is_dir()
            and (m := _VERSION_DIR.fullmatch(p.name))
            and int(m.group(1)) != SCHEMA_VERSION
        )
        if others:
            versions = ", ".join(str(v) for v in others)
            self.notices.append(
                f"cache at {self.root} holds data of schema version {versions} (this version "
                f"reads {SCHEMA_VERSION}); it is left alone and the cache is rebuilt "
                f"in {self.dir} by the next sync"
            )

    def _tidy(self) -> None:
        """Finish or undo what a killed sync left: swapped-out and half-written directories."""
        try:
            entries = [p for p in self.dir.iterdir() if p.is_dir()]
        except OSError:
            return
        names = {p.name for p in entries}
        for entry in entries:
            if backup := _BACKUP.fullmatch(entry.name):
                if backup.group(1) in names:
                    shutil.rmtree(entry, ignore_errors=True)  # the swap had finished
                else:
                    os.replace(entry, self.dir / backup.group(1))  # it had not: put it back
            elif (staging := _STAGING.fullmatch(entry.name)) and not _alive(int(staging.group(2))):
                shutil.rmtree(entry, ignore_errors=True)

    def _write_meta(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_json(self.dir / "meta.json", {"schema_version": SCHEMA_VERSION})

    def _source_dirs(self) -> list[Path]:
        if self._ignored or not self.dir.is_dir():
            return []
        entries = [p for p in self.dir.iterdir() if p.is_dir()]
        names = {p.name for p in entries}
        found: dict[str, Path] = {p.name: p for p in entries if not p.name.startswith(".")}
        for entry in entries:
            # A sync killed between its two renames: the previous data is still whole.
            backup = _BACKUP.fullmatch(entry.name)
            if backup and backup.group(1) not in names:
                found[backup.group(1)] = entry
        return [found[name] for name in sorted(found)]

    def _source_dir(self, name: str) -> Path:
        if _SAFE_NAME.fullmatch(name) and name not in (".", ".."):
            directory = self.dir / name
        else:
            directory = self.dir / ("~" + name.encode().hex())
        backup = _backup_of(directory)
        if not directory.is_dir() and backup.is_dir():
            if self.read_only:
                return backup
            os.replace(backup, directory)
        return directory

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError("the cache is read-only; nothing may be written")

    # --- writing --------------------------------------------------------------------

    def write_source(
        self,
        name: str,
        kind: str,
        result: SourceResult,
        *,
        attempted_at: datetime,
        stats: RequestStats | None = None,
    ) -> None:
        """Replace ``name``'s cached events, state and status with ``result``.

        Each file is replaced atomically. Event kinds the result does not contain
        are removed, so the cache always mirrors the source's latest full answer.
        ``stats``: the source's request counters (default: the result's own).
        """
        self._check_writable()
        unknown = sorted(set(result.frames) - set(model.SCHEMAS))
        if unknown:
            raise ValueError(f"source '{name}' produced unknown event kind(s): {unknown}")
        directory = self._source_dir(name)
        staging = directory.with_name(f".{directory.name}.new-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            status = success_status(name, kind, result, attempted_at, stats)
            write_source_files(staging, result, status)
            fsync_dir(staging)
            backup = _backup_of(directory)
            if directory.exists():
                shutil.rmtree(backup, ignore_errors=True)
                os.replace(directory, backup)
            os.replace(staging, directory)
            fsync_dir(self.dir)
            shutil.rmtree(backup, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # only still there when writing failed

    def record_failure(self, name: str, kind: str, error: str, *, attempted_at: datetime) -> None:
        """Note a failed sync; the last good data and state stay as they were."""
        self._check_writable()
        directory = self._source_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        previous = self._status(directory)
        status = previous or SourceStatus(name=name, kind=kind, complete=False)
        status.kind = kind
        _write_json(directory / "status.json", status.failed(error, attempted_at).to_json())
        fsync_dir(directory)

    def drop_source(self, name: str) -> None:
        """Forget everything cached for ``name``."""
        self._check_writable()
        directory = self._source_dir(name)
        if directory.exists():
            shutil.rmtree(directory)
            fsync_dir(self.dir)

    # --- reading --------------------------------------------------------------------

    def state(self, name: str) -> dict[str, Any]:
        """``name``'s sync state from its last success ({} when none)."""
        if self.publication is not None:
            return dict(self.publication.states.get(name, {}))
        if self._ignored:
            return {}
        data = _read_json(self._source_dir(name) / "state.json")
        return data if isinstance(data, dict) else {}

    def statuses(self) -> dict[str, SourceStatus]:
        """Every cached source's status, by source name."""
        if self.publication is not None:
            return dict(self.publication.statuses)
        out: dict[str, SourceStatus] = {}
        for directory in self._source_dirs():
            status = self._status(directory)
            if status is not None:
                out[status.name] = status
        return out

    def _status(self, directory: Path) -> SourceStatus | None:
        data = _read_json(directory / "status.json")
        if not isinstance(data, dict) or "name" not in data:
            return None
        try:
            return SourceStatus.from_json(data)
        except (TypeError, ValueError):
            return None

    def has_data(self) -> bool:
        """True when at least one source has cached events."""
        if self.publication is not None:
            return any(self.publication.tables.values())
        return any(any(d.glob("*.parquet")) for d in self._source_dirs())

    def load(
        self,
        kinds: Iterable[str] | None = None,
        columns: Mapping[str, list[str]] | None = None,
        sources: Iterable[str] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Events of each kind, concatenated across sources, with the model's dtypes.

        ``columns`` limits the columns read per kind (faster for big tables);
        a kind with no cached data yields an empty, correctly typed frame.
        """
        wanted = list(model.EVENT_KINDS if kinds is None else kinds)
        for kind in wanted:
            if kind not in model.SCHEMAS:
                raise ValueError(f"unknown event kind '{kind}'")
        out: dict[str, pd.DataFrame] = {}
        for kind in wanted:
            event_kind: model.EventKind = kind  # type: ignore[assignment]
            selected = _selected_columns(event_kind, columns)
            if self.publication is not None:
                parts = published_parts(self.publication, event_kind, selected, sources)
            else:
                parts = self._local_parts(event_kind, selected, sources)
            out[kind] = _concat(event_kind, parts, selected)
            if parts:
                _release_arrow_memory()
        return out

    def _local_parts(
        self, kind: model.EventKind, selected: list[str], sources: Iterable[str] | None
    ) -> list[pd.DataFrame]:
        if sources is None:
            directories = self._source_dirs()
        elif self._ignored:
            directories = []
        else:
            directories = [d for d in map(self._source_dir, sources) if d.is_dir()]
        parts = []
        for directory in directories:
            frame = self._read_parquet(directory / f"{kind}.parquet", kind, selected)
            if frame is not None:
                parts.append(frame)
        return parts

    def _read_parquet(
        self, path: Path, kind: model.EventKind, selected: list[str]
    ) -> pd.DataFrame | None:
        if not path.is_file():
            return None
        import pyarrow.parquet as pq

        try:
            present = set(pq.read_schema(path).names)
            table = pq.read_table(path, columns=[c for c in selected if c in present])
            frame = table.to_pandas()
        except Exception as exc:  # a damaged file must not take the app down
            self.notices.append(f"skipped unreadable cache file {path}: {exc}")
            return None
        return _restore(kind, frame, selected)


# --- helpers ---------------------------------------------------------------------------


def published_parts(
    publication: Publication,
    kind: model.EventKind,
    selected: list[str],
    sources: Iterable[str] | None,
) -> list[pd.DataFrame]:
    """Each published source's events of ``kind`` (only ``sources``, when given)."""
    names = sorted(publication.tables) if sources is None else list(sources)
    parts = []
    for name in names:
        table = publication.tables.get(name, {}).get(kind)
        if table is not None:
            present = [c for c in selected if c in table.column_names]
            parts.append(_restore(kind, table.select(present).to_pandas(), selected))
    return parts


def success_status(
    name: str,
    kind: str,
    result: SourceResult,
    attempted_at: datetime,
    stats: RequestStats | None,
) -> SourceStatus:
    """The status a successful sync of ``name`` leaves in the cache."""
    if stats is None:
        stats = result_stats(result)
    return SourceStatus(
        name=name,
        kind=kind,
        last_attempt_at=attempted_at,
        last_success_at=attempted_at,
        items=result.items,
        skipped=result.skipped,
        problems=list(result.problems[:MAX_PROBLEMS]),
        complete=result.complete,
        complete_since=dict(result.complete_since),
        stats=stats,
    )


def result_stats(result: SourceResult) -> RequestStats:
    """The result's request counters, with its rate limit left when they lack it."""
    stats = result.stats
    if stats.rate_limit_remaining is None and result.rate_limit_remaining is not None:
        return dataclasses.replace(stats, rate_limit_remaining=result.rate_limit_remaining)
    return stats


def write_source_files(directory: Path, result: SourceResult, status: SourceStatus) -> None:
    """A source's event tables, state and status, each written atomically."""
    for event_kind, frame in result.frames.items():
        _write_parquet(directory / f"{event_kind}.parquet", frame)
    _write_json(directory / "state.json", result.state)
    _write_json(directory / "status.json", status.to_json())


def _selected_columns(kind: model.EventKind, columns: Mapping[str, list[str]] | None) -> list[str]:
    schema = model.SCHEMAS[kind]
    if columns is None or kind not in columns:
        return list(schema)
    unknown = [c for c in columns[kind] if c not in schema]
    if unknown:
        raise ValueError(f"unknown column(s) for {kind}: {', '.join(unknown)}")
    return [c for c in schema if c in columns[kind]]


def _restore(kind: model.EventKind, frame: pd.DataFrame, selected: list[str]) -> pd.DataFrame:
    """Give a frame read from Parquet exactly the model's dtypes, touching only what differs.

    Parquet keeps timestamps, booleans and categoricals; it returns list cells
    as arrays and free text as pandas' string dtype, which the model keeps as
    Python objects.
    """
    import pandas as pd

    schema = model.SCHEMAS[kind]
    n = len(frame)
    out: dict[str, Any] = {}
    for name in selected:
        spec = schema[name]
        if name not in frame.columns:
            # A column added to the schema after this file was written.
            if spec == "list":
                out[name] = pd.Series([[] for _ in range(n)], dtype=object)
            elif spec == "str":
                out[name] = pd.Series([None] * n, dtype=object)
            elif spec == "bool":
                out[name] = pd.Series([False] * n, dtype=bool)
            elif spec == "int":
                out[name] = pd.Series([1] * n, dtype="int64")
            else:
                out[name] = model.empty_frame(kind)[name].reindex(range(n))
            continue
        col = frame[name]
        if spec == "ts":
            if str(col.dtype) != "datetime64[us, UTC]":
                col = pd.to_datetime(col, utc=True).astype("datetime64[us, UTC]")
        elif spec == "bool":
            col = col.astype(bool)
        elif spec == "int":
            col = col.astype("int64")
        elif spec == "float":
            col = col.astype("float64")
        elif spec == "cat":
            if not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype("string").astype("category")
            elif str(col.cat.categories.dtype) != "string":
                # Same labels, but typed like the model's (pandas "string") categories.
                labels = col.cat.categories.astype("string")
                col = pd.Series(pd.Categorical.from_codes(col.cat.codes, categories=labels))
        elif spec.startswith("enum:"):
            categories = list(model.ENUMS[spec.removeprefix("enum:")])
            if not isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(pd.CategoricalDtype(categories))
            elif list(col.cat.categories) != categories:
                col = col.cat.set_categories(categories)
        elif spec == "list":
            col = col.map(_as_list).astype(object)
        elif col.dtype != object:
            col = col.astype(object).where(col.notna(), None)
        out[name] = col.reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _release_arrow_memory() -> None:
    """Hand the memory Arrow freed while reading back to the system.

    Arrow's allocator keeps the pages of the tables just converted to pandas
    for its own reuse; nothing else could use them, so they would only add to
    the peak of whatever follows (about 200 MB after reading the 1M-deployment,
    5M-run benchmark cache).
    """
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if hasattr(value, "tolist"):
        return [str(v) for v in value.tolist()]
    return []


def _concat(kind: model.EventKind, parts: list[pd.DataFrame], selected: list[str]) -> pd.DataFrame:
    import pandas as pd

    if selected == list(model.SCHEMAS[kind]):
        return model.concat(kind, parts)
    parts = [p for p in parts if len(p)]
    if not parts:
        return model.empty_frame(kind)[selected]
    if len(parts) == 1:
        return parts[0]
    widen = {c: "object" for c in selected if model.SCHEMAS[kind][c] == "cat"}
    merged = pd.concat([p.astype(widen) for p in parts], ignore_index=True)
    return _restore(kind, merged, selected)


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    tmp = _temp_path(path)
    try:
        with tmp.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _backup_of(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.old")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (its staging directory in use)."""
    if pid == os.getpid() or os.name == "nt":  # os.kill(pid, 0) would end it on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError, OverflowError):
        return True  # cannot tell (permissions, platform): leave it
    return True


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")
