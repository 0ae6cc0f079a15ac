"""The shared cache on an S3-compatible store (moto's server on 127.0.0.1, SPEC §9).

One server serves the module and each test has its own bucket. A publisher syncs a
small ``files`` source into its local cache and publishes it; readers read the
latest publication into memory. The generations differ in their number of
deployments, so a reader can tell which whole sync it sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any

import pandas.testing as pdt
import pytest

pytest.importorskip("deltalake")
pytest.importorskip("moto")

from scorecard import config, shared_cache, sync
from scorecard.errors import RuntimeFailure
from scorecard.request import ScoreRequest
from scorecard.store import Store, read_published
from tests.fakes.s3 import S3Server, s3_env, s3_server

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[1]
BUCKETS = count(1)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def url(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket, with the environment pointing at the server (root keys)."""
    for name, value in {**s3_env(s3), **isolated_aws()}.items():
        monkeypatch.setenv(name, value)
    yield s3.bucket(f"scorecard-{next(BUCKETS)}") + "/org"
    read_published(None)


def isolated_aws() -> dict[str, str]:
    """No profile files, no instance metadata: only what the test sets counts."""
    return {
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Store]:
    """Publishers' local caches of generations 1 to 3, made once for the module."""
    root = tmp_path_factory.mktemp("publishers")
    return {generation: publisher_store(root, generation) for generation in range(1, 4)}


def publisher_store(tmp_path: Path, generation: int) -> Store:
    """A local cache synced from a ``files`` source: ``generation + 1`` deployments."""
    folder = tmp_path / f"exports-{generation}"
    folder.mkdir()
    rows = ["id,team,service,repo,environment,status,strategy,started_at,finished_at"]
    for i in range(generation + 1):
        at = (AS_OF - timedelta(days=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"d{generation}-{i},Payments,pay,acme/pay,production,success,direct,{at},{at}")
    (folder / "deployments.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    incident = f"i{generation},Payments,pay,Checkout down,sev1,{AS_OF:%Y-%m-%d}T10:00:00Z,"
    (folder / "incidents.csv").write_text(
        "id,team,service,title,severity,created_at,resolved_at\n" + incident + "\n",
        encoding="utf-8",
    )
    cfg = config.parse_config(
        f'[sources.local]\nkind = "files"\npath = "{folder.as_posix()}"\n\n'
        '[[teams]]\nname = "Payments"\nservices = ["pay"]\nrepos = ["acme/pay"]\n'
    )
    store = Store(tmp_path / f"cache-{generation}")
    summary = sync.sync_blocking(cfg, store, ScoreRequest.resolve(now=AS_OF))
    assert not summary.failed, summary.table()
    return store


def cache_at(url: str) -> shared_cache.SharedCache:
    return shared_cache.SharedCache(url, shared_cache.storage_options(url, None))


def deployments_seen(url: str) -> list[str]:
    store = Store(publication=shared_cache.latest(cache_at(url)))
    return sorted(store.load(["deployments"])["deployments"]["id"])


def test_publish_then_read_the_same_cache(url: str, stores: dict[int, Store]) -> None:
    local = stores[2]
    published = shared_cache.publish(cache_at(url), local, publisher="nightly", now=AS_OF)
    assert published.version == 0
    assert published.tables == ("events/deployments", "events/incidents", "sources")
    reader = Store(publication=shared_cache.latest(cache_at(url)))
    assert reader.read_only and reader.has_data()
    assert reader.publication is not None
    assert (reader.publication.publisher, reader.publication.published_at) == ("nightly", AS_OF)
    assert reader.statuses() == local.statuses()
    assert reader.state("local") == local.state("local")
    for kind, frame in local.load().items():
        pdt.assert_frame_equal(reader.load([kind])[kind], frame)
    columns = {"deployments": ["id", "started_at"]}
    pdt.assert_frame_equal(
        reader.load(["deployments"], columns, sources=["local"])["deployments"],
        local.load(["deployments"], columns)["deployments"],
    )


def test_nothing_published_yet_reads_empty_with_a_notice(url: str) -> None:
    store = Store(publication=shared_cache.latest(cache_at(url)))
    assert not store.has_data() and store.statuses() == {}
    assert store.notice is not None and "nothing published" in store.notice


def test_readers_see_the_latest_whole_publication_and_old_files_are_vacuumed(
    url: str, stores: dict[int, Store], s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = cache_at(url)
    shared_cache.publish(cache, stores[1], publisher="a", now=AS_OF)
    assert deployments_seen(url) == ["d1-0", "d1-1"]
    monkeypatch.setattr(shared_cache, "RETENTION_DAYS", 0)
    later = AS_OF + timedelta(hours=1)
    second = shared_cache.publish(cache, stores[2], publisher="b", now=later)
    assert second.version > 0
    assert deployments_seen(url) == ["d2-0", "d2-1", "d2-2"]
    assert shared_cache.latest(cache).published_at == later
    bucket = url.removeprefix("s3://").split("/")[0]
    data = [k for k in s3.keys(bucket) if "/events/deployments/part-" in k]
    assert len(data) == 1  # the first publication's file is gone, the latest's is left


KILLED_PUBLISHER = """
import os, signal, sys
from datetime import datetime, timezone
from scorecard import shared_cache
from scorecard.store import Store

real = shared_cache.write_version
def write_then_die(cache, name, data, base=None):
    table = real(cache, name, data, base)
    if name == "events/incidents":  # deployments are uploaded, the publication is not
        os.kill(os.getpid(), signal.SIGKILL)
    return table
shared_cache.write_version = write_then_die
url, root = sys.argv[1], sys.argv[2]
cache = shared_cache.SharedCache(url, shared_cache.storage_options(url, None))
shared_cache.publish(cache, Store(root), publisher="doomed", now=datetime.now(timezone.utc))
"""


def test_a_publisher_killed_mid_upload_leaves_the_last_publication(
    url: str, stores: dict[int, Store], s3: S3Server
) -> None:
    cache = cache_at(url)
    shared_cache.publish(cache, stores[1], publisher="a", now=AS_OF)
    run = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISHER, url, str(stores[3].root)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == -9, run.stderr.decode()
    bucket = url.removeprefix("s3://").split("/")[0]
    assert "org/v1/events/deployments/_delta_log/00000000000000000001.json" in s3.keys(bucket)
    assert deployments_seen(url) == ["d1-0", "d1-1"]
    assert shared_cache.latest(cache).publisher == "a"
    # Nothing is corrupted: the next publication goes through.
    shared_cache.publish(cache, stores[2], publisher="b", now=AS_OF)
    assert deployments_seen(url) == ["d2-0", "d2-1", "d2-2"]


def test_two_publishers_at_once_one_commits_the_other_reports_the_conflict(
    url: str, stores: dict[int, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = cache_at(url)
    shared_cache.publish(cache, stores[1], publisher="first", now=AS_OF)
    racing = {"a": stores[2], "b": stores[3]}
    both_uploaded = threading.Barrier(2, timeout=30)
    uploading, committed = threading.Lock(), threading.Lock()
    upload = shared_cache.upload_tables

    def upload_in_step(target: shared_cache.SharedCache, store: Store) -> dict[str, int]:
        with uploading:  # one after the other: table writes conflict too, less predictably
            versions = upload(target, store)
        both_uploaded.wait()  # both read the latest publication before either commits
        committed.acquire()  # then they commit one after the other
        return versions

    monkeypatch.setattr(shared_cache, "upload_tables", upload_in_step)
    outcomes: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            outcomes[name] = shared_cache.publish(cache, racing[name], publisher=name, now=AS_OF)
        except Exception as exc:
            outcomes[name] = exc
        finally:
            committed.release()

    threads = [threading.Thread(target=run, args=(name,)) for name in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    conflicts = [n for n, o in outcomes.items() if isinstance(o, shared_cache.PublishConflict)]
    assert len(conflicts) == 1, outcomes
    (winner,) = set(racing) - set(conflicts)
    assert "run `scorecard sync --publish` again" in str(outcomes[conflicts[0]])
    assert shared_cache.latest(cache).publisher == winner
    winner_ids = sorted(racing[winner].load(["deployments"])["deployments"]["id"])
    assert deployments_seen(url) == winner_ids  # whole: none of the loser's rows


def test_a_reader_without_write_permission_reads_and_cannot_publish(
    s3: S3Server, stores: dict[int, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**s3_env(s3), **isolated_aws()}.items():
        monkeypatch.setenv(name, value)
    url = s3.bucket("scorecard-permissions") + "/org"
    cache = cache_at(url)
    writer, reader = s3.users()
    try:
        for name, value in writer.env().items():
            monkeypatch.setenv(name, value)
        shared_cache.publish(cache, stores[1], publisher="ci", now=AS_OF)
        before = s3.keys("scorecard-permissions", writer)
        for name, value in reader.env().items():
            monkeypatch.setenv(name, value)
        assert deployments_seen(url) == ["d1-0", "d1-1"]
        with pytest.raises(RuntimeFailure, match="cannot publish to the shared cache"):
            shared_cache.publish(cache, stores[2], publisher="lead", now=AS_OF)
        assert deployments_seen(url) == ["d1-0", "d1-1"]
        assert s3.keys("scorecard-permissions", writer) == before
    finally:
        s3.set_auth(enabled=False)
