"""Sync: concurrent sources, isolated failures, summaries and the history range."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scorecard.config import Config, ConfigError, SourceConfig
from scorecard.store import Store
from scorecard.sync import (
    SourceOutcome,
    SyncSummary,
    history_start,
    redact_text,
    sync,
    sync_blocking,
)

FIXTURES = Path(__file__).parent / "fixtures" / "files"
UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def files_config(tmp_path: Path, **dirs: Path) -> Config:
    return Config(
        path=tmp_path / "scorecard.toml",
        sources=tuple(
            SourceConfig(name=name, kind="files", path=path) for name, path in dirs.items()
        ),
    )


def copy_good(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / "good", target)
    return target


def test_one_failing_source_does_not_hide_the_other(tmp_path: Path) -> None:
    good = copy_good(tmp_path, "good")
    flaky = copy_good(tmp_path, "flaky")
    config = files_config(tmp_path, good=good, flaky=flaky)
    store = Store(tmp_path / "cache")

    first = sync_blocking(config, store, now=NOW)
    assert [o.error for o in first.outcomes] == [None, None]
    assert not first.all_failed

    shutil.rmtree(flaky)  # the export directory disappears
    later = NOW + timedelta(hours=1)
    messages: list[tuple[str, str]] = []
    summary = sync_blocking(
        config, store, now=later, progress=lambda name, text: messages.append((name, text))
    )
    by_name = {o.name: o for o in summary.outcomes}
    assert by_name["good"].error is None and by_name["good"].items == 14
    assert by_name["flaky"].error is not None and "directory not found" in by_name["flaky"].error
    assert not summary.all_failed

    statuses = store.statuses()
    assert statuses["good"].last_success_at == later
    assert statuses["flaky"].last_error == by_name["flaky"].error
    assert statuses["flaky"].last_success_at == NOW  # last good data is kept ...
    deployments = store.load(["deployments"])["deployments"]
    assert sorted(deployments["source"].value_counts().to_dict().items()) == [
        ("flaky", 4),
        ("good", 4),
    ]
    assert ("good", "starting") in messages
    assert any(name == "flaky" and text.startswith("failed:") for name, text in messages)


def test_all_failed_only_when_every_source_failed(tmp_path: Path) -> None:
    config = files_config(tmp_path, a=tmp_path / "missing-a", b=tmp_path / "missing-b")
    summary = sync_blocking(config, Store(tmp_path / "cache"), now=NOW)
    assert summary.all_failed
    assert len(summary.failed) == 2
    assert not SyncSummary(outcomes=[]).all_failed
    mixed = SyncSummary(
        outcomes=[
            SourceOutcome(name="a", kind="files", error="x"),
            SourceOutcome(name="b", kind="files"),
        ]
    )
    assert not mixed.all_failed


def test_only_syncs_one_source(tmp_path: Path) -> None:
    config = files_config(tmp_path, a=copy_good(tmp_path, "a"), b=copy_good(tmp_path, "b"))
    store = Store(tmp_path / "cache")
    summary = sync_blocking(config, store, only="b", now=NOW)
    assert [o.name for o in summary.outcomes] == ["b"]
    assert set(store.statuses()) == {"b"}
    with pytest.raises(ConfigError):
        sync_blocking(config, store, only="nope", now=NOW)


def test_strict_flag_makes_bad_rows_fatal(tmp_path: Path) -> None:
    config = files_config(tmp_path, bad=FIXTURES / "bad")
    store = Store(tmp_path / "cache")
    lenient = sync_blocking(config, store, now=NOW)
    assert lenient.outcomes[0].error is None and lenient.outcomes[0].skipped == 10
    assert "bad rows skipped" in lenient.outcomes[0].status_text
    strict = sync_blocking(config, store, now=NOW + timedelta(hours=1), strict=True)
    assert strict.outcomes[0].error is not None
    assert "deployments.csv:3" in strict.outcomes[0].error
    assert store.statuses()["bad"].items == lenient.outcomes[0].items  # old data kept


async def test_sync_is_awaitable_and_passes_state(tmp_path: Path) -> None:
    config = files_config(tmp_path, good=copy_good(tmp_path, "good"))
    store = Store(tmp_path / "cache")
    await sync(config, store, now=NOW)
    assert "deployments.csv" in store.state("good")["files"]
    messages: list[str] = []
    await sync(config, store, now=NOW, progress=lambda _name, text: messages.append(text))
    assert "no changes since the last sync" in messages


def test_read_only_store_refuses_sync(tmp_path: Path) -> None:
    config = files_config(tmp_path, good=FIXTURES / "good")
    with pytest.raises(RuntimeError, match="read-only"):
        sync_blocking(config, Store(tmp_path / "cache", read_only=True), now=NOW)
    assert not (tmp_path / "cache").exists()


def test_summary_table_is_aligned_text() -> None:
    summary = SyncSummary(
        outcomes=[
            SourceOutcome(name="github", kind="github", items=12345, duration_s=3.21),
            SourceOutcome(
                name="pd",
                kind="pagerduty",
                error="401 Unauthorized",
                duration_s=0.4,
                complete=False,
            ),
            SourceOutcome(name="local", kind="files", items=7, skipped=2, duration_s=0.05),
        ]
    )
    lines = summary.table().splitlines()
    assert lines[0].split() == ["source", "kind", "items", "skipped", "status", "time"]
    assert lines[1].split()[:4] == ["github", "github", "12,345", "0"]
    assert lines[1].endswith("3.2s")
    assert "error: 401 Unauthorized" in lines[2]
    assert "ok (2 bad rows skipped)" in lines[3]
    # Columns line up: "kind" cells start under the header, times are right-aligned.
    col = lines[0].index("kind")
    assert [line[col:].split()[0] for line in lines[1:]] == ["github", "pagerduty", "files"]
    assert len({len(line) for line in lines}) == 1
    assert SyncSummary(outcomes=[]).table() == "no sources to sync"


def test_history_start() -> None:
    config = Config(path=None, window_days=30, history_days=180)
    assert history_start(config, NOW, None) == NOW - timedelta(days=180)
    recent = NOW - timedelta(days=10)
    assert history_start(config, NOW, recent) == NOW - timedelta(days=180)
    old = NOW - timedelta(days=400)
    assert history_start(config, NOW, old) == old - timedelta(days=60)
    short = Config(path=None, window_days=90, history_days=30)
    assert history_start(short, NOW, None) == NOW - timedelta(days=180)


def test_token_values_never_reach_errors_or_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sekret-4f9a2c"
    monkeypatch.setenv("SC_TEST_TOKEN", secret)
    source = SourceConfig(name="s", kind="files", path=tmp_path / secret, token_env="SC_TEST_TOKEN")
    config = Config(path=None, sources=(source,))
    store = Store(tmp_path / "cache")
    messages: list[str] = []
    summary = sync_blocking(config, store, now=NOW, progress=lambda _n, text: messages.append(text))
    error = summary.outcomes[0].error
    assert error is not None and "directory not found" in error and secret not in error
    assert secret not in summary.table()
    assert all(secret not in m for m in messages)
    status_files = (tmp_path / "cache").rglob("status.json")
    assert all(secret not in p.read_text(encoding="utf-8") for p in status_files)


def test_tokens_are_redacted() -> None:
    assert redact_text("failed with s3cr3t-value", ["s3cr3t-value"]) == "failed with ***"
    text = "GET https://api.example/x?private_token=abc123 Authorization: Bearer abcdefghijk"
    redacted = redact_text(text, [])
    assert "abc123" not in redacted and "abcdefghijk" not in redacted
    assert redact_text("token ghp_abcdefghijklmnop1234", []) == "token ***"
    assert redact_text("bad token configuration", []) == "bad token configuration"
