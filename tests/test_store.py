"""The Parquet cache: round trips, atomic replacement, failures, versions, read-only."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from scorecard import model
from scorecard.errors import StoreError
from scorecard.sources import SourceResult
from scorecard.status import RequestStats
from scorecard.store import SCHEMA_VERSION, Store, cache_dir

UTC = timezone.utc
T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
T1 = datetime(2024, 3, 11, 12, 0, tzinfo=UTC)


def deployments(*ids: str, source: str = "gh") -> pd.DataFrame:
    return model.frame_from_records(
        "deployments",
        [
            {
                "id": i,
                "source": source,
                "team": "Payments" if n % 2 == 0 else None,
                "service": "api",
                "environment": "production",
                "status": "success",
                "strategy": "canary",
                "started_at": "2024-03-01T10:00:00Z",
                "finished_at": "2024-03-01T10:05:00+01:00",
                "is_rollback": n == 1,
            }
            for n, i in enumerate(ids)
        ],
    )


def changes() -> pd.DataFrame:
    return model.frame_from_records(
        "changes",
        [
            {
                "id": "c1",
                "source": "gh",
                "repo": "a/b",
                "merged_at": "2024-03-01",
                "labels": ["x", "y"],
            },
            {
                "id": "c2",
                "source": "gh",
                "repo": "a/b",
                "merged_at": "2024-03-02",
                "paths": "p/q.py",
            },
        ],
    )


def result(frames: dict[str, pd.DataFrame], **kwargs: object) -> SourceResult:
    return SourceResult(frames=frames, **kwargs)  # type: ignore[arg-type]


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_cache_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"


def test_round_trip_keeps_dtypes_and_values(tmp_path: Path) -> None:
    store = Store(tmp_path)
    frames = {"deployments": deployments("d1", "d2"), "changes": changes()}
    store.write_source("gh", "github", result(frames, state={"cursor": "abc"}), attempted_at=T0)
    loaded = Store(tmp_path).load()
    assert set(loaded) == set(model.EVENT_KINDS)
    for kind, frame in loaded.items():
        expected = frames.get(kind, model.empty_frame(kind))  # type: ignore[arg-type]
        assert frame.dtypes.astype(str).to_dict() == expected.dtypes.astype(str).to_dict(), kind
    pd.testing.assert_frame_equal(loaded["deployments"], frames["deployments"])
    pd.testing.assert_frame_equal(loaded["changes"], frames["changes"])
    assert isinstance(loaded["deployments"]["team"].dtype, pd.CategoricalDtype)
    assert list(loaded["deployments"]["status"].cat.categories) == list(model.DEPLOY_STATUSES)
    assert loaded["deployments"]["finished_at"].iloc[0] == pd.Timestamp("2024-03-01T09:05Z")
    assert loaded["changes"]["labels"].tolist() == [["x", "y"], []]
    assert loaded["changes"]["paths"].tolist() == [[], ["p/q.py"]]
    assert loaded["ci_runs"].empty
    assert store.state("gh") == {"cursor": "abc"}


def test_load_concatenates_sources_and_filters(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source(
        "a", "files", result({"deployments": deployments("a1", source="a")}), attempted_at=T0
    )
    store.write_source(
        "b", "files", result({"deployments": deployments("b1", "b2", source="b")}), attempted_at=T0
    )
    both = store.load(["deployments"])["deployments"]
    assert sorted(both["id"]) == ["a1", "b1", "b2"]
    assert isinstance(both["source"].dtype, pd.CategoricalDtype)
    only_b = store.load(["deployments"], sources=["b"])["deployments"]
    assert list(only_b["id"]) == ["b1", "b2"]
    narrow = store.load(["deployments"], columns={"deployments": ["team", "finished_at"]})
    frame = narrow["deployments"]
    assert list(frame.columns) == ["team", "finished_at"]
    assert len(frame) == 3 and str(frame["finished_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(frame["team"].dtype, pd.CategoricalDtype)
    empty = store.load(["incidents"], columns={"incidents": ["severity"]})["incidents"]
    assert list(empty.columns) == ["severity"] and empty.empty


def test_status_is_recorded(tmp_path: Path) -> None:
    store = Store(tmp_path)
    problems = [f"p{i}" for i in range(80)]
    res = result(
        {"deployments": deployments("d1")}, skipped=3, problems=problems, rate_limit_remaining=42
    )
    store.write_source("gh", "github", res, attempted_at=T0)
    status = Store(tmp_path).statuses()["gh"]
    assert status.kind == "github"
    assert status.last_success_at == T0 and status.last_attempt_at == T0
    assert status.items == 1 and status.skipped == 3 and status.rate_limit_remaining == 42
    assert status.last_error is None and status.complete
    assert len(status.problems) == 50


def test_request_stats_are_stored_with_the_status(tmp_path: Path) -> None:
    stats = RequestStats(requests=7, not_modified=2, rate_limit_remaining=41, items={"runs": 3})
    store = Store(tmp_path)
    res = result({"deployments": deployments("d1")})
    store.write_source("gh", "github", res, attempted_at=T0, stats=stats)
    assert Store(tmp_path).statuses()["gh"].stats == stats
    # Without stats given, the result's own counters (and rate limit) are stored.
    own = result({}, stats=RequestStats(requests=5, items={"deployments": 4}))
    own.rate_limit_remaining = 9
    store.write_source("gl", "gitlab", own, attempted_at=T0)
    assert Store(tmp_path).statuses()["gl"].stats == RequestStats(
        requests=5, rate_limit_remaining=9, items={"deployments": 4}
    )


def test_status_written_by_an_older_version_stays_readable(tmp_path: Path) -> None:
    """status.json from before the one status type: only its request counters are lost."""
    Store(tmp_path).write_source("gh", "github", result({}), attempted_at=T0)
    old = {
        "name": "gh",
        "kind": "github",
        "last_attempt_at": T1.isoformat(),
        "last_success_at": T0.isoformat(),
        "last_error": "503 Service Unavailable",
        "items": 12,
        "skipped": 2,
        "problems": ["deployments.csv:3: bad"],
        "rate_limit_remaining": 17,
        "complete": False,
        "stats": {"requests": 9, "items.deployments": 12},
    }
    path = tmp_path / f"v{SCHEMA_VERSION}" / "gh" / "status.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    status = Store(tmp_path, read_only=True).statuses()["gh"]
    assert (status.name, status.kind, status.items, status.skipped) == ("gh", "github", 12, 2)
    assert status.last_attempt_at == T1 and status.last_success_at == T0
    assert status.last_error == "503 Service Unavailable" and not status.complete
    assert status.problems == ["deployments.csv:3: bad"]
    assert status.stats.requests == 9


def test_leftover_temp_file_is_ignored(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("gh", "github", result({"deployments": deployments("d1")}), attempted_at=T0)
    source_dir = tmp_path / f"v{SCHEMA_VERSION}" / "gh"
    # A sync killed mid-write leaves a half-written temp file behind.
    (source_dir / f".deployments.parquet.tmp-{os.getpid() + 1}").write_bytes(b"PAR1 garbage")
    (source_dir / ".status.json.tmp-99").write_text("{not json", encoding="utf-8")
    reopened = Store(tmp_path)
    assert list(reopened.load(["deployments"])["deployments"]["id"]) == ["d1"]
    assert reopened.statuses()["gh"].items == 1
    assert reopened.notices == []


def test_write_replaces_previous_data_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source(
        "gh",
        "github",
        result({"deployments": deployments("d1"), "changes": changes()}),
        attempted_at=T0,
    )
    store.write_source(
        "gh", "github", result({"deployments": deployments("d2", "d3")}), attempted_at=T1
    )
    loaded = store.load()
    assert list(loaded["deployments"]["id"]) == ["d2", "d3"]
    assert loaded["changes"].empty  # the source no longer reports changes
    assert not [p for p in tree(tmp_path) if ".tmp" in p]


def test_unreadable_parquet_is_skipped_with_a_notice(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("gh", "github", result({"deployments": deployments("d1")}), attempted_at=T0)
    (tmp_path / "v1" / "gh" / "deployments.parquet").write_bytes(b"not parquet")
    frame = store.load(["deployments"])["deployments"]
    assert frame.empty
    assert store.notice is not None and "deployments.parquet" in store.notice


def test_record_failure_keeps_last_good_data(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source(
        "gh",
        "github",
        result({"deployments": deployments("d1")}, state={"etag": "x"}),
        attempted_at=T0,
    )
    store.record_failure("gh", "github", "HTTP 502 from api.github.com", attempted_at=T1)
    assert list(store.load(["deployments"])["deployments"]["id"]) == ["d1"]
    assert store.state("gh") == {"etag": "x"}
    status = store.statuses()["gh"]
    assert status.last_error == "HTTP 502 from api.github.com"
    assert status.last_attempt_at == T1 and status.last_success_at == T0
    assert status.items == 1 and not status.ok


def test_record_failure_without_previous_data(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.record_failure("pd", "pagerduty", "bad token", attempted_at=T0)
    status = store.statuses()["pd"]
    assert status.last_success_at is None and status.items == 0 and status.last_error == "bad token"
    assert not store.has_data()


def test_schema_mismatch_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("gh", "github", result({"deployments": deployments("d1")}), attempted_at=T0)
    meta = tmp_path / "v1" / "meta.json"
    meta.write_text(json.dumps({"schema_version": 999}), encoding="utf-8")

    read_only = Store(tmp_path, read_only=True)
    assert not read_only.has_data() and read_only.statuses() == {}
    assert read_only.load(["deployments"])["deployments"].empty
    assert read_only.notice is not None and "schema version 999" in read_only.notice
    assert (tmp_path / "v1" / "gh").exists()  # read-only never deletes

    rebuilt = Store(tmp_path)
    assert rebuilt.notice is not None and "rebuilt" in rebuilt.notice
    assert not rebuilt.has_data() and not (tmp_path / "v1" / "gh").exists()
    assert json.loads(meta.read_text(encoding="utf-8")) == {"schema_version": SCHEMA_VERSION}
    rebuilt.write_source(
        "gh", "github", result({"deployments": deployments("d2")}), attempted_at=T1
    )
    assert list(Store(tmp_path).load(["deployments"])["deployments"]["id"]) == ["d2"]


def test_read_only_store_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    store = Store(root, read_only=True)
    assert not root.exists()
    assert not store.has_data() and store.statuses() == {} and store.state("gh") == {}
    assert all(frame.empty for frame in store.load().values())
    with pytest.raises(StoreError):
        store.write_source("gh", "github", result({}), attempted_at=T0)
    with pytest.raises(StoreError):
        store.record_failure("gh", "github", "x", attempted_at=T0)
    with pytest.raises(StoreError):
        store.drop_source("gh")
    assert not root.exists()


def test_read_only_store_leaves_existing_cache_untouched(tmp_path: Path) -> None:
    Store(tmp_path).write_source(
        "gh", "github", result({"deployments": deployments("d1")}), attempted_at=T0
    )
    before = {p: (tmp_path / p).stat().st_mtime_ns for p in tree(tmp_path)}
    store = Store(tmp_path, read_only=True)
    assert list(store.load(["deployments"])["deployments"]["id"]) == ["d1"]
    assert store.has_data()
    with pytest.raises(StoreError):
        store.write_source("gh", "github", result({}), attempted_at=T1)
    after = {p: (tmp_path / p).stat().st_mtime_ns for p in tree(tmp_path)}
    assert after == before


def test_drop_source(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source("a", "files", result({"deployments": deployments("a1")}), attempted_at=T0)
    store.write_source("b", "files", result({"deployments": deployments("b1")}), attempted_at=T0)
    store.drop_source("a")
    assert set(store.statuses()) == {"b"}
    assert list(store.load(["deployments"])["deployments"]["id"]) == ["b1"]


def test_odd_source_names_stay_inside_the_cache(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.write_source(
        "../escape", "files", result({"deployments": deployments("x1")}), attempted_at=T0
    )
    assert set(store.statuses()) == {"../escape"}
    assert all(p.startswith("v1") for p in tree(tmp_path))
    assert list(store.load(sources=["../escape"])["deployments"]["id"]) == ["x1"]


def test_unknown_kind_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        Store(tmp_path).load(["widgets"])
