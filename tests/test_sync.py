"""Sync: concurrent sources, isolated failures, summaries and the history range."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from scorecard.config import Config, ConfigError
from scorecard.errors import StoreError
from scorecard.request import ScoreRequest
from scorecard.sources import FetchContext, SourceResult, build_source
from scorecard.status import RequestStats, SourceStatus
from scorecard.store import Store
from scorecard.sync import (
    SyncSummary,
    fetch_all,
    status_text,
    sync,
    sync_blocking,
)
from scorecard.text import redact_tokens
from tests.source_config import source_config

FIXTURES = Path(__file__).parent / "fixtures" / "files"
UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def files_config(tmp_path: Path, **dirs: Path) -> Config:
    return Config(
        path=tmp_path / "scorecard.toml",
        sources=tuple(
            source_config(name=name, kind="files", path=path) for name, path in dirs.items()
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

    first = sync_blocking(config, store, ScoreRequest.resolve(now=NOW))
    assert [o.last_error for o in first.outcomes] == [None, None]
    assert not first.all_failed

    shutil.rmtree(flaky)  # the export directory disappears
    later = NOW + timedelta(hours=1)
    messages: list[tuple[str, str]] = []
    summary = sync_blocking(
        config,
        store,
        ScoreRequest.resolve(now=later),
        progress=lambda name, text: messages.append((name, text)),
    )
    by_name = {o.name: o for o in summary.outcomes}
    assert by_name["good"].last_error is None and by_name["good"].items == 14
    flaky_error = by_name["flaky"].last_error
    assert flaky_error is not None and "directory not found" in flaky_error
    assert not summary.all_failed

    statuses = store.statuses()
    assert statuses["good"].last_success_at == later
    assert statuses["flaky"].last_error == flaky_error
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
    summary = sync_blocking(config, Store(tmp_path / "cache"), ScoreRequest.resolve(now=NOW))
    assert summary.all_failed
    assert len(summary.failed) == 2
    assert not SyncSummary(outcomes=[]).all_failed
    mixed = SyncSummary(
        outcomes=[
            SourceStatus(name="a", kind="files", last_error="x"),
            SourceStatus(name="b", kind="files"),
        ]
    )
    assert not mixed.all_failed


def test_only_syncs_one_source(tmp_path: Path) -> None:
    config = files_config(tmp_path, a=copy_good(tmp_path, "a"), b=copy_good(tmp_path, "b"))
    store = Store(tmp_path / "cache")
    summary = sync_blocking(config, store, ScoreRequest.resolve(now=NOW), only="b")
    assert [o.name for o in summary.outcomes] == ["b"]
    assert set(store.statuses()) == {"b"}
    with pytest.raises(ConfigError):
        sync_blocking(config, store, ScoreRequest.resolve(now=NOW), only="nope")


def test_strict_flag_makes_bad_rows_fatal(tmp_path: Path) -> None:
    config = files_config(tmp_path, bad=FIXTURES / "bad")
    store = Store(tmp_path / "cache")
    lenient = sync_blocking(config, store, ScoreRequest.resolve(now=NOW))
    assert lenient.outcomes[0].last_error is None and lenient.outcomes[0].skipped == 10
    assert "bad rows skipped" in status_text(lenient.outcomes[0])
    strict = sync_blocking(
        config, store, ScoreRequest.resolve(now=NOW + timedelta(hours=1)), strict=True
    )
    error = strict.outcomes[0].last_error
    assert error is not None
    assert "deployments.csv:3" in error
    assert store.statuses()["bad"].items == lenient.outcomes[0].items  # old data kept


async def test_sync_is_awaitable_and_passes_state(tmp_path: Path) -> None:
    config = files_config(tmp_path, good=copy_good(tmp_path, "good"))
    store = Store(tmp_path / "cache")
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    assert "deployments.csv" in store.state("good")["files"]
    messages: list[str] = []
    await sync(
        config,
        store,
        ScoreRequest.resolve(now=NOW),
        progress=lambda _name, text: messages.append(text),
    )
    assert "no changes since the last sync" in messages


def test_read_only_store_refuses_sync(tmp_path: Path) -> None:
    config = files_config(tmp_path, good=FIXTURES / "good")
    with pytest.raises(StoreError, match="read-only"):
        sync_blocking(
            config, Store(tmp_path / "cache", read_only=True), ScoreRequest.resolve(now=NOW)
        )
    assert not (tmp_path / "cache").exists()


def test_summary_table_is_aligned_text() -> None:
    summary = SyncSummary(
        outcomes=[
            SourceStatus(name="github", kind="github", items=12345, duration_s=3.21),
            SourceStatus(
                name="pd",
                kind="pagerduty",
                last_error="401 Unauthorized",
                duration_s=0.4,
                complete=False,
            ),
            SourceStatus(name="local", kind="files", items=7, skipped=2, duration_s=0.05),
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


def request(as_of: datetime | None = None, window_days: int = 30) -> ScoreRequest:
    return ScoreRequest.resolve(as_of=as_of, window_days=window_days, now=NOW)


def test_history_start() -> None:
    assert request().history_start(180) == NOW - timedelta(days=180)
    recent = NOW - timedelta(days=10)
    assert request(recent).history_start(180) == NOW - timedelta(days=180)
    old = NOW - timedelta(days=400)
    assert request(old).history_start(180) == old - timedelta(days=60)
    assert request(window_days=90).history_start(30) == NOW - timedelta(days=180)


@pytest.mark.parametrize("window_days", [30, 365])
def test_history_covers_two_full_windows_of_the_requested_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window_days: int
) -> None:
    """`export --window 365` (or a TUI window change) widens the fetch; the config's
    window_days (30 here) does not limit it."""
    good = files_config(tmp_path, good=copy_good(tmp_path, "good"))
    config = Config(path=None, window_days=30, history_days=180, sources=good.sources)
    asked = ScoreRequest.resolve(window_days=window_days, now=NOW, default_window_days=30)
    seen: list[FetchContext] = []

    async def record(_self: object, ctx: FetchContext) -> SourceResult:
        seen.append(ctx)
        return SourceResult(frames={})

    monkeypatch.setattr(type(build_source(config.sources[0])), "fetch", record)
    summary = sync_blocking(config, Store(tmp_path / "cache"), asked)
    assert summary.failed == []
    (ctx,) = seen
    assert ctx.until == NOW
    # Both the current and the previous window lie inside the fetched range.
    assert ctx.since <= asked.previous_start == NOW - timedelta(days=2 * window_days)
    assert ctx.since == min(NOW - timedelta(days=180), NOW - timedelta(days=2 * window_days))


def test_sync_and_score_fetches_for_the_export_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scorecard import service

    good = files_config(tmp_path, good=copy_good(tmp_path, "good"))
    config = Config(path=None, window_days=30, history_days=180, sources=good.sources)
    seen: list[datetime] = []

    async def record(_self: object, ctx: FetchContext) -> SourceResult:
        seen.append(ctx.since)
        return SourceResult(frames={})

    monkeypatch.setattr(type(build_source(config.sources[0])), "fetch", record)
    asked = service.score_request(config, as_of=NOW, window_days=365, now=NOW)
    _, card = service.sync_and_score(config, Store(tmp_path / "cache"), asked)
    assert seen == [NOW - timedelta(days=730)]
    assert card.report.window_days == 365


def test_token_values_never_reach_errors_or_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sekret-4f9a2c"
    monkeypatch.setenv("SC_TEST_TOKEN", secret)
    source = source_config(
        name="s", kind="files", path=tmp_path / secret, token_env="SC_TEST_TOKEN"
    )
    config = Config(path=None, sources=(source,))
    store = Store(tmp_path / "cache")
    messages: list[str] = []
    summary = sync_blocking(
        config,
        store,
        ScoreRequest.resolve(now=NOW),
        progress=lambda _n, text: messages.append(text),
    )
    error = summary.outcomes[0].last_error
    assert error is not None and "directory not found" in error and secret not in error
    assert secret not in summary.table()
    assert all(secret not in m for m in messages)
    status_files = (tmp_path / "cache").rglob("status.json")
    assert all(secret not in p.read_text(encoding="utf-8") for p in status_files)


def test_tokens_are_redacted() -> None:
    assert redact_tokens("failed with s3cr3t-value", ["s3cr3t-value"]) == "failed with ***"
    text = "GET https://api.example/x?private_token=abc123 Authorization: Bearer abcdefghijk"
    redacted = redact_tokens(text, [])
    assert "abc123" not in redacted and "abcdefghijk" not in redacted
    assert redact_tokens("token ghp_abcdefghijklmnop1234", []) == "token ***"
    assert redact_tokens("bad token configuration", []) == "bad token configuration"


def test_summary_lists_request_counters_and_problems() -> None:
    stats = RequestStats(
        requests=1234, not_modified=30, retries=2, malformed=1, rate_limit_remaining=4612
    )
    stats.count("deployments", 120)
    stats.count("ci_runs", 5)
    github = SourceStatus(name="gh", kind="github", items=125, stats=stats)
    files = SourceStatus(name="local", kind="files", problems=[f"row {i}" for i in range(12)])
    lines = SyncSummary(outcomes=[github, files], notices=["rebuilt"]).table().splitlines()
    assert lines[0] == "cache: rebuilt"
    assert (
        "gh: 1,234 requests, 30 not modified (304), 2 retries, 1 malformed answers skipped, "
        "rate limit 4,612 left; ci_runs 5, deployments 120"
    ) in lines
    assert not any(line.startswith("local: 0 requests") for line in lines)  # no requests made
    assert lines[-1] == "local: ... 2 more problem(s) not shown"
    assert "local: row 9" in lines and "local: row 10" not in lines


async def test_fetch_all_without_a_store_keeps_events_in_memory(tmp_path: Path) -> None:
    """`standup --live`: the same fetch as a sync, nothing written anywhere."""
    config = files_config(tmp_path, good=copy_good(tmp_path, "good"), gone=tmp_path / "gone")
    fetched = await fetch_all(config, request())
    good, gone = fetched
    assert good.result is not None and good.result.items == good.status.items == 14
    assert good.status.ok and good.status.last_success_at == NOW
    assert gone.result is None and gone.status.last_error is not None and not gone.status.ok
    assert not (tmp_path / "cache").exists()
