"""Crash safety of the cache (SPEC §9): a killed sync leaves the old or the new data.

`scorecard sync` of a big ``files`` source is killed with SIGKILL at random
moments (seeded); after each kill the cache must load and equal exactly the state
before that sync or the state after it: every event kind, the sync state and the
status of one sync, never a mix. A cache of another schema version is rebuilt
with a message, never misread.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from scorecard import model
from scorecard.sources.contract import SourceResult
from scorecard.store import SCHEMA_VERSION, Store

ITERATIONS = 20
BUDGET_S = 28.0
ROWS = 80_000
SEED = 20240310
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def write_dataset(folder: Path, tag: str, rows: int) -> None:
    """deployments, ci_runs and changes whose ids all start with ``tag``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "deployments.csv").open("w", encoding="utf-8") as out:
        out.write("id,team,service,environment,status,started_at,finished_at\n")
        for n in range(rows):
            day = 1 + n % 28
            out.write(
                f"{tag}d{n},Payments,pay,production,{'failure' if n % 7 == 0 else 'success'},"
                f"2024-02-{day:02d}T10:00:00Z,2024-02-{day:02d}T10:09:00Z\n"
            )
    with (folder / "ci_runs.csv").open("w", encoding="utf-8") as out:
        out.write("id,team,repo,conclusion,started_at,finished_at\n")
        for n in range(rows):
            day = 1 + n % 28
            out.write(
                f"{tag}r{n},Payments,acme/pay,success,"
                f"2024-02-{day:02d}T09:00:00Z,2024-02-{day:02d}T09:05:00Z\n"
            )
    with (folder / "changes.csv").open("w", encoding="utf-8") as out:
        out.write("id,team,repo,merged_at,title\n")
        for n in range(rows // 2):
            out.write(f"{tag}c{n},Payments,acme/pay,2024-02-{1 + n % 28:02d}T08:00:00Z,t{n}\n")


def write_config(path: Path, folder: Path) -> Path:
    path.write_text(
        f"""
[sources.local]
kind = "files"
path = "{folder.as_posix()}"

[[teams]]
name = "Payments"
services = ["pay"]
repos = ["acme/pay"]
""",
        encoding="utf-8",
    )
    return path


def fingerprint(cache: Path) -> tuple[Any, ...]:
    """Row counts and id hashes of every kind, plus the sync state and item count."""
    store = Store(cache, read_only=True)
    frames = store.load()
    kinds = []
    for kind in model.EVENT_KINDS:
        frame = frames[kind]
        ids = "\n".join(sorted(map(str, frame["id"]))) if "id" in frame.columns else ""
        kinds.append((kind, len(frame), hashlib.sha256(ids.encode()).hexdigest()[:16]))
    status = store.statuses().get("local")
    return (
        tuple(kinds),
        json.dumps(store.state("local"), sort_keys=True),
        status.items if status else None,
    )


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_CONFIG"}
    env.update(
        SCORECARD_CACHE_DIR=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


def sync_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "scorecard", "sync", "--config", str(config), "--quiet"]


def test_sigkill_mid_sync_leaves_old_or_new_cache(tmp_path: Path) -> None:
    configs = {}
    for tag in ("a", "b"):
        write_dataset(tmp_path / tag, tag, ROWS if tag == "a" else ROWS - 1000)
        configs[tag] = write_config(tmp_path / f"{tag}.toml", tmp_path / tag)
    env = env_for(tmp_path)
    cache = tmp_path / "cache"

    prints: dict[str, tuple[Any, ...]] = {}
    durations = []
    for tag in ("b", "a"):  # end on "a": the cache holds a, the next sync brings b
        started = time.monotonic()
        done = subprocess.run(
            sync_command(configs[tag]), env=env, capture_output=True, text=True, timeout=120
        )
        durations.append(time.monotonic() - started)
        assert done.returncode == 0, done.stderr
        prints[tag] = fingerprint(cache)
    assert prints["a"] != prints["b"]
    full = max(durations)

    rng = random.Random(SEED)
    current = "a"
    seen = {"old": 0, "new": 0}
    began = time.monotonic()
    for _ in range(ITERATIONS):
        if time.monotonic() - began > BUDGET_S:
            break
        target = "b" if current == "a" else "a"
        process = subprocess.Popen(
            sync_command(configs[target]),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Most of a sync is start-up and parsing: aim at its second half, where it writes.
        time.sleep(rng.uniform(0.45, 1.05) * full)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        state = fingerprint(cache)
        assert state in (prints[current], prints[target]), (
            f"after a kill the cache is neither the old ({current}) nor the new ({target}) state"
        )
        if state == prints[target]:
            seen["new"] += 1
            current = target
        else:
            seen["old"] += 1
    print(f"kills: {seen}, full sync {full:.2f}s")
    assert sum(seen.values()) >= 5, seen
    # A normal sync afterwards tidies whatever the kills left and works as usual.
    done = subprocess.run(
        sync_command(configs["b"]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert fingerprint(cache) == prints["b"]
    leftovers = [p.name for p in (cache / f"v{SCHEMA_VERSION}").iterdir() if p.name != "meta.json"]
    assert leftovers == ["local"] or all(".new-" in p for p in leftovers if p != "local"), leftovers


# --- deterministic crash points ---------------------------------------------------------------


def result(tag: str, rows: int) -> SourceResult:
    deployments = model.frame_from_records(
        "deployments",
        [
            {
                "id": f"{tag}{n}",
                "source": "s",
                "environment": "production",
                "status": "success",
                "started_at": NOW,
            }
            for n in range(rows)
        ],
    )
    changes = model.frame_from_records(
        "changes",
        [{"id": f"{tag}c{n}", "source": "s", "repo": "r", "merged_at": NOW} for n in range(rows)],
    )
    return SourceResult(frames={"deployments": deployments, "changes": changes}, state={"tag": tag})


def snapshot(store: Store) -> tuple[Any, ...]:
    frames = store.load()
    return (
        sorted(frames["deployments"]["id"]),
        sorted(frames["changes"]["id"]),
        store.state("s"),
        store.statuses()["s"].items,
    )


def test_a_failure_between_two_files_keeps_the_old_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scorecard import store as store_module

    store = Store(tmp_path)
    store.write_source("s", "files", result("old", 3), attempted_at=NOW)
    before = snapshot(store)
    real = store_module._write_parquet
    calls = []

    def crash_on_second(path: Path, frame: Any) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, frame)

    monkeypatch.setattr(store_module, "_write_parquet", crash_on_second)
    with pytest.raises(OSError):
        store.write_source("s", "files", result("new", 5), attempted_at=NOW)
    assert snapshot(Store(tmp_path)) == before
    assert not [p for p in store.dir.iterdir() if p.name.startswith(".s.")]


def test_a_kill_between_the_two_renames_reads_the_old_data(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("s", "files", result("old", 3), attempted_at=NOW)
    before = snapshot(store)
    # As if killed after the old directory was moved aside, before the new one moved in.
    os.replace(store.dir / "s", store.dir / ".s.old")
    (store.dir / ".s.new-999999").mkdir()
    assert snapshot(Store(tmp_path, read_only=True)) == before
    assert (store.dir / ".s.old").is_dir(), "a read-only store changes nothing"
    reopened = Store(tmp_path)  # writable: puts it back and drops the dead staging dir
    assert (store.dir / "s").is_dir() and not (store.dir / ".s.old").exists()
    assert not (store.dir / ".s.new-999999").exists()
    assert snapshot(reopened) == before
    reopened.write_source("s", "files", result("new", 2), attempted_at=NOW)
    assert snapshot(Store(tmp_path))[0] == ["new0", "new1"]


# --- other schema versions ---------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1, "garbage"])
def test_another_schema_version_is_rebuilt_with_a_message(tmp_path: Path, version: Any) -> None:
    store = Store(tmp_path)
    store.write_source("s", "files", result("old", 3), attempted_at=NOW)
    (store.dir / "meta.json").write_text(json.dumps({"schema_version": version}))

    reader = Store(tmp_path, read_only=True)
    assert reader.notice is not None and f"schema version {version}" in reader.notice
    assert len(reader.load()["deployments"]) == 0, "never misread"
    assert reader.statuses() == {} and reader.state("s") == {}
    assert (store.dir / "s").is_dir(), "a read-only store changes nothing"

    writer = Store(tmp_path)
    assert writer.notice is not None and "rebuilt" in writer.notice
    assert len(writer.load()["deployments"]) == 0 and writer.statuses() == {}
    writer.write_source("s", "files", result("new", 2), attempted_at=NOW)
    assert snapshot(Store(tmp_path))[0] == ["new0", "new1"]


def test_unversioned_data_is_not_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("s", "files", result("old", 3), attempted_at=NOW)
    (store.dir / "meta.json").unlink()
    writer = Store(tmp_path)
    assert writer.notice is not None and "no schema version" in writer.notice
    assert len(writer.load()["deployments"]) == 0


def test_a_newer_versions_cache_is_left_alone_and_mentioned(tmp_path: Path) -> None:
    newer = tmp_path / f"v{SCHEMA_VERSION + 1}"
    (newer / "s").mkdir(parents=True)
    (newer / "meta.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    (newer / "s" / "deployments.parquet").write_bytes(b"PAR1 from the future")
    store = Store(tmp_path)
    assert store.notice is not None and f"schema version {SCHEMA_VERSION + 1}" in store.notice
    assert len(store.load()["deployments"]) == 0
    assert (newer / "s" / "deployments.parquet").exists()


def test_sync_prints_the_rebuild_message(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    write_dataset(folder, "a", 10)
    config = write_config(tmp_path / "c.toml", folder)
    env = env_for(tmp_path)
    command = [sys.executable, "-m", "scorecard", "sync", "--config", str(config)]
    assert subprocess.run(command, env=env, capture_output=True, timeout=60).returncode == 0
    meta = tmp_path / "cache" / f"v{SCHEMA_VERSION}" / "meta.json"
    meta.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"schema version {SCHEMA_VERSION + 1}" in done.stderr and "rebuilt" in done.stderr
    assert "Traceback" not in done.stderr
    assert fingerprint(tmp_path / "cache")[0][0][1] == 10
