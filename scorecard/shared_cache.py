"""The shared cache: one scheduled sync publishes, every lead reads (SPEC §9).

When every lead syncs the whole org with their own token, N leads spend N times
the API quota and see slightly different numbers. With ``cache_url`` one job
(``scorecard sync --publish``, a CI cron or a Kubernetes CronJob) syncs into its
local cache as always and then publishes it to object storage; everyone else's
TUI, export and standup read the latest publication, read-only.

Object stores have no atomic rename, so the publication is made of Delta Lake
tables (``deltalake``, delta-rs: the optional extra ``scorecard[shared]``),
whose commits are put-if-absent writes of the next log entry. Delta rather than
Iceberg: a Delta table is only files under one URL, committed by the writer
itself on S3, GCS, Azure or a plain folder, whereas an Iceberg writer needs a
catalog service (REST, Glue, Hive or SQL) to commit atomically, one more thing
for every lead to reach and configure.

Layout under ``cache_url``::

    v1/events/<kind>/   one Delta table per event kind: every source's events
                        plus ``cache_source``, the source they belong to
    v1/sources/         one row per source: its kind, sync state and status (JSON),
                        the event kinds it has events of
    v1/publications/    one row: the latest publication (who, when, and the
                        version of every table above that makes it)

A publication writes the event and source tables as new versions, then commits
one new version of ``publications`` naming them: that commit is the moment the
whole sync becomes visible. A reader reads ``publications`` first and then exactly
the versions it names, so it always sees one whole sync. A writer killed before
that commit leaves table versions that no publication names (the next one
overwrites them); two publishers that started from the same publication both try
to commit its successor, and Delta lets exactly one of them succeed: the other
gets :class:`PublishConflict`. The history of ``publications`` lists every
publication; files that no version of the last :data:`RETENTION_DAYS` days needs
are vacuumed after each publication.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scorecard import __version__, model
from scorecard.errors import RuntimeFailure, UsageError
from scorecard.status import SourceStatus
from scorecard.store import SCHEMA_VERSION, Publication, Store, read_published

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config

__all__ = [
    "RETENTION_DAYS",
    "PublishConflict",
    "Published",
    "SharedCache",
    "SourceEvents",
    "cache_url",
    "latest",
    "publish",
    "publish_now",
    "publisher_name",
    "read_shared",
    "seed",
]

RETENTION_DAYS: Final = 7
"""Table versions older than this are vacuumed (their files deleted)."""
SOURCE_COLUMN: Final = "cache_source"
"""The column of an event table naming the cached source a row belongs to."""
LOG: Final = "publications"
SOURCES: Final = "sources"
MISSING_EXTRA: Final = (
    "a shared cache needs the `shared` extra: pip install 'scorecard[shared]' (deltalake)"
)


class PublishConflict(RuntimeFailure):
    """Another publication was committed while this one was being written."""


@dataclass(frozen=True)
class SharedCache:
    """Where a shared cache lives and how to reach it."""

    url: str
    options: Mapping[str, str] = field(default_factory=dict)
    """delta-rs storage options: the endpoint; credentials come from the environment."""

    def uri(self, table: str) -> str:
        """The URL of one of the cache's tables (``events/deployments``, ``sources``)."""
        return f"{self.url.rstrip('/')}/v{SCHEMA_VERSION}/{table}"

    @classmethod
    def of(cls, config: Config) -> SharedCache:
        """The shared cache ``config`` names (``$SCORECARD_CACHE_URL`` first)."""
        url = cache_url(config)
        if url is None:
            raise UsageError("no shared cache: set cache_url in [scorecard] or SCORECARD_CACHE_URL")
        delta_module()
        return cls(url, storage_options(url, config.cache_endpoint_url))


@dataclass(frozen=True)
class Published:
    """What one ``sync --publish`` committed."""

    url: str
    version: int
    """The version of the publications table that is this publication."""
    publisher: str
    published_at: datetime
    tables: tuple[str, ...]
    """The tables it names (``events/<kind>`` and ``sources``)."""
    notes: tuple[str, ...] = ()
    """What went wrong after the commit (vacuuming old files), for the log."""


def cache_url(config: Config) -> str | None:
    """The shared cache's URL: ``$SCORECARD_CACHE_URL``, then ``cache_url``; a relative
    path resolves against the config file's folder. None: there is none."""
    url = os.environ.get("SCORECARD_CACHE_URL") or config.cache_url
    if not url:
        return None
    if "://" in url:
        return url.removeprefix("file://") if url.startswith("file:///") else url
    path = Path(url).expanduser()
    if not path.is_absolute() and config.path is not None:
        path = config.path.parent / path
    return str(path.absolute())


def storage_options(url: str, endpoint: str | None) -> dict[str, str]:
    """delta-rs options for ``url``: for S3 the endpoint (``cache_endpoint_url``, else
    ``$AWS_ENDPOINT_URL``) and commits by conditional put. Credentials are never here:
    delta-rs takes them from the platform's chain (environment, profile, instance role)."""
    if not url.startswith("s3://"):
        return {}
    options = {"conditional_put": "etag"}
    endpoint = (
        endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    )
    if endpoint:
        options["AWS_ENDPOINT_URL"] = endpoint
        if endpoint.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    return options


def publisher_name() -> str:
    """Who publishes: ``$SCORECARD_PUBLISHER``, the GitHub Actions workflow, or user@host."""
    if name := os.environ.get("SCORECARD_PUBLISHER"):
        return name
    if os.environ.get("GITHUB_ACTIONS") == "true":
        workflow = os.environ.get("GITHUB_WORKFLOW", "workflow")
        return f"{workflow} ({os.environ.get('GITHUB_REPOSITORY', 'GitHub Actions')})"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


# --------------------------------------------------------------------------- publishing


def publish(cache: SharedCache, store: Store, *, publisher: str, now: datetime) -> Published:
    """Commit ``store``'s sources (events, state, status) as the next publication.

    Raises :class:`PublishConflict` when another publication was committed since
    this one started, RuntimeFailure when the shared cache cannot be written."""
    with storage_errors(cache, "cannot publish to"):
        base = open_table(cache, LOG)  # the publication this one follows
        tables = upload_tables(cache, store)
        versions = {name: int(table.version()) for name, table in tables.items()}
        log = commit_publication(cache, base, versions, publisher=publisher, now=now)
    published = Published(cache.url, int(log.version()), publisher, now, tuple(sorted(tables)))
    try:
        with storage_errors(cache, "published, but could not vacuum"):
            vacuum([*tables.values(), log])  # (its own commits come after the publication's)
    except RuntimeFailure as exc:  # e.g. no delete permission: the publication stands
        return replace(published, notes=(str(exc),))
    return published


def upload_tables(cache: SharedCache, store: Store) -> dict[str, Any]:
    """Every event kind's table and the sources table, written as new versions but
    not yet published: each Delta table at the version written."""
    statuses = store.statuses()
    tables: dict[str, Any] = {}
    kinds: dict[str, list[str]] = {name: [] for name in statuses}  # with events, by source
    for kind in model.EVENT_KINDS:
        frames = {name: store.load([kind], sources=[name])[kind] for name in statuses}
        frames = {name: frame for name, frame in frames.items() if len(frame)}
        for name in frames:
            kinds[name].append(kind)
        if frames:
            tables[f"events/{kind}"] = write_version(
                cache, f"events/{kind}", event_table(kind, frames)
            )
    tables[SOURCES] = write_version(cache, SOURCES, source_rows(store, statuses, kinds))
    return tables


def write_version(cache: SharedCache, name: str, data: Any, base: Any = None) -> Any:
    """``data`` as the next version of table ``name`` (replacing its rows): the table
    at that version.

    ``base``: the table as read earlier, so that the write fails when another commit
    came first (a table that did not exist yet may only be created once)."""
    from deltalake import DeltaTable, write_deltalake

    table = base if base is not None else open_table(cache, name)
    if table is None:
        write_deltalake(cache.uri(name), data, storage_options=dict(cache.options))
        return DeltaTable(cache.uri(name), version=0, storage_options=dict(cache.options))
    write_deltalake(table, data, mode="overwrite", schema_mode="overwrite")
    return table


def commit_publication(
    cache: SharedCache, base: Any, versions: Mapping[str, int], *, publisher: str, now: datetime
) -> Any:
    """The one commit that makes the uploaded versions the latest publication: the
    publications table at its new version. A concurrent publication is a conflict."""
    import pyarrow as pa
    from deltalake.exceptions import CommitFailedError, DeltaError

    row = pa.table(
        {
            "published_at": pa.array([now], pa.timestamp("us", "UTC")),
            "publisher": [publisher],
            "scorecard_version": [__version__],
            "tables": [json.dumps(dict(versions), sort_keys=True)],
        }
    )
    try:
        return write_version(cache, LOG, row, base)
    except DeltaError as exc:
        # Another publication committed the successor of ``base`` (or, for the
        # first one ever, created the table) first.
        if isinstance(exc, CommitFailedError) or "exists" in str(exc):
            raise conflict(cache) from None
        raise


def conflict(cache: SharedCache) -> PublishConflict:
    """The error of the publisher that lost a race with another one."""
    return PublishConflict(
        f"another publication reached {cache.url} while this one was written; it stays "
        "the latest and nothing was lost: this sync's data is in the local cache, run "
        "`scorecard sync --publish` again to publish it"
    )


def vacuum(tables: list[Any]) -> None:
    """Delete the files that no version of the last RETENTION_DAYS needs."""
    for table in tables:
        table.vacuum(
            retention_hours=RETENTION_DAYS * 24, enforce_retention_duration=False, dry_run=False
        )


def event_table(kind: model.EventKind, frames: Mapping[str, pd.DataFrame]) -> Any:
    """One Arrow table of ``kind`` from every source's frame, with ``cache_source``;
    categories as plain strings (Delta has no dictionary type)."""
    import pandas as pd
    import pyarrow as pa

    schema = pa.schema(
        [(name, arrow_type(spec)) for name, spec in model.SCHEMAS[kind].items()]
        + [(SOURCE_COLUMN, pa.string())]
    )
    parts = []
    for source, frame in sorted(frames.items()):
        plain = {
            name: (col.astype(object).where(col.notna(), None) if col.dtype == "category" else col)
            for name, col in frame.items()
        }
        table = pd.DataFrame(plain).assign(**{SOURCE_COLUMN: source})
        parts.append(pa.Table.from_pandas(table, schema=schema, preserve_index=False))
    return pa.concat_tables(parts)


def arrow_type(spec: str) -> Any:
    """The Arrow type of a model column spec (SPEC §1 event fields)."""
    import pyarrow as pa

    types = {
        "ts": pa.timestamp("us", "UTC"),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "float": pa.float64(),
        "list": pa.list_(pa.string()),
    }
    return types.get(spec, pa.string())


def source_rows(
    store: Store, statuses: Mapping[str, SourceStatus], kinds: Mapping[str, list[str]]
) -> Any:
    """One row per cached source: its name, kind, sync state, status and the event
    kinds it has events of (JSON)."""
    import pyarrow as pa

    names = sorted(statuses)
    return pa.table(
        {
            "name": pa.array(names, pa.string()),
            "kind": pa.array([statuses[n].kind for n in names], pa.string()),
            "state": pa.array([json_text(store.state(n)) for n in names], pa.string()),
            "status": pa.array([json_text(statuses[n].to_json()) for n in names], pa.string()),
            "kinds": pa.array([json_text(kinds[n]) for n in names], pa.string()),
        }
    )


def json_text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, default=str)


# --------------------------------------------------------------------------- reading


_READ: dict[tuple[str, int], Publication] = {}
"""The last publication read, by (URL, version): reopening the store costs one
small read of the publications table while nothing new was published."""


def latest(cache: SharedCache) -> Publication:
    """The latest publication: its sources' state and status, and its event tables at
    their versions, read on demand (empty, with a notice, when there is none)."""
    with storage_errors(cache, "cannot read"):
        log = open_table(cache, LOG)
        if log is None:
            notice = f"nothing published at {cache.url} yet: `scorecard sync --publish` writes it"
            return Publication(cache.url, notices=(notice,))
        key = (cache.url, int(log.version()))
        if key not in _READ:
            _READ.clear()
            _READ[key] = read_publication(cache, log.to_pyarrow_table().to_pylist()[0])
    return _READ[key]


def read_publication(cache: SharedCache, row: Mapping[str, Any]) -> Publication:
    """The tables that ``row`` of the publications table names, at its versions: the
    sources' state and status in memory, their events read when asked for."""
    versions: dict[str, int] = json.loads(row["tables"])
    statuses: dict[str, SourceStatus] = {}
    states: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, SourceEvents]] = {}
    events = {
        name.removeprefix("events/"): version_of(cache, name, version).to_pyarrow_dataset()
        for name, version in versions.items()
        if name.startswith("events/")
    }
    sources = version_of(cache, SOURCES, versions[SOURCES]).to_pyarrow_table().to_pylist()
    for source in sources:
        name = source["name"]
        statuses[name] = SourceStatus.from_json(json.loads(source["status"]))
        states[name] = json.loads(source["state"])
        kinds = [kind for kind in json.loads(source["kinds"]) if kind in events]
        tables[name] = {kind: SourceEvents(events[kind], name) for kind in kinds}
    return Publication(
        cache.url,
        publisher=str(row["publisher"]),
        published_at=row["published_at"],
        statuses=statuses,
        states=states,
        tables=tables,
    )


@dataclass(frozen=True)
class SourceEvents:
    """One source's events of one kind in a published table, read when asked for and
    only the columns asked for, as the local cache reads a Parquet file (what
    :func:`scorecard.store.published_parts` calls)."""

    dataset: Any
    """The table at the publication's version (a ``pyarrow.dataset.Dataset``)."""
    source: str

    @property
    def column_names(self) -> list[str]:
        return [name for name in self.dataset.schema.names if name != SOURCE_COLUMN]

    def select(self, columns: list[str]) -> Any:
        """This source's rows with ``columns``, as a ``pyarrow.Table``."""
        import pyarrow.dataset as ds

        return self.dataset.to_table(columns=columns, filter=ds.field(SOURCE_COLUMN) == self.source)


def version_of(cache: SharedCache, name: str, version: int) -> Any:
    """Table ``name`` at ``version``."""
    from deltalake import DeltaTable

    return DeltaTable(cache.uri(name), version=version, storage_options=dict(cache.options))


def open_table(cache: SharedCache, name: str) -> Any:
    """Table ``name`` at its latest version, or None when it does not exist yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(cache.uri(name), storage_options=dict(cache.options))
    except TableNotFoundError:
        return None


def read_shared(config: Config) -> bool:
    """Point every cache reader of this process (``Store()``) at ``config``'s shared
    cache, read-only; without one, at the local cache. Whether there is one."""
    if cache_url(config) is None:
        read_published(None)
        return False
    cache = SharedCache.of(config)
    read_published(lambda: latest(cache))
    return True


def seed(cache: SharedCache, store: Store) -> list[str]:
    """An empty local cache filled from the latest publication (events, cursors,
    statuses), so that the publisher's sync is incremental on a fresh machine.
    Lines saying what was done (none when the local cache has data)."""
    from scorecard.sources import SourceResult

    if store.statuses():
        return []
    publication = latest(cache)
    published = Store(publication=publication)
    for name, status in publication.statuses.items():
        if status.last_success_at is None:
            continue
        kinds = list(publication.tables.get(name, {}))
        result = SourceResult(
            frames=published.load(kinds, sources=[name]) if kinds else {},
            state=dict(publication.states.get(name, {})),
            complete=status.complete,
            complete_since=dict(status.complete_since),
        )
        store.write_source(name, status.kind, result, attempted_at=status.last_success_at)
    if publication.published_at is None:
        return []
    return [
        f"started from the publication of {publication.published_at:%Y-%m-%d %H:%M UTC} by "
        f"{publication.publisher} ({len(publication.statuses)} sources)"
    ]


def publish_now(cache: SharedCache, store: Store) -> Published:
    """``store`` published now by :func:`publisher_name`."""
    from scorecard.request import utcnow

    return publish(cache, store, publisher=publisher_name(), now=utcnow())


def delta_module() -> Any:
    """deltalake, or a usage error naming the extra that installs it."""
    try:
        import deltalake
    except ImportError:
        raise UsageError(MISSING_EXTRA) from None
    return deltalake


@contextmanager
def storage_errors(cache: SharedCache, doing: str) -> Iterator[None]:
    """Object-store failures (no access, no bucket, unreachable) as one-line errors."""
    from deltalake.exceptions import CommitFailedError, DeltaError

    try:
        yield
    except PublishConflict:
        raise
    except CommitFailedError:  # another publisher replaced a table this one just read
        raise conflict(cache) from None
    except (DeltaError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RuntimeFailure(f"{doing} the shared cache {cache.url}: {reason}") from None
