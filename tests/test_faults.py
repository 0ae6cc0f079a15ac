"""Fault injection: a misbehaving API never crashes a sync, hangs it, or costs data.

A GitHub source over REST (``graphql = false``; its GraphQL path's 502s, rate limits
and partial errors are in test_github_sync_graphql.py) against tests/fakes/faulty.py
and a files source are synced
once cleanly, then again while the fake GitHub answers with one fault. For every
fault: the sync ends in bounded time, the files source is unaffected, the GitHub
source either recovers, delivers partial data saying so, or fails and keeps its
last good data (its teams then show ``stale`` with the reason), the summary counts
what happened, and the exit code is 1 only when every source failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from scorecard import service
from scorecard.config import Config, TeamConfig
from scorecard.request import ScoreRequest
from scorecard.sources import http
from scorecard.store import Store
from scorecard.sync import SyncSummary, sync
from tests.fakes.faulty import FaultyServer, Hang, Reset, Trickle
from tests.fakes.github import FakeGitHub
from tests.fakes.server import FakeServer, Reply, Request, running
from tests.source_config import source_config

UTC = timezone.utc
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)
TOKEN = "ghp_FAULTSENTINEL0123456789abcdef"
REPO = "acme/payments-api"
ROOT = f"/repos/{REPO}"


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real sleeps (the time bound is real), but short retry backoffs."""
    monkeypatch.setattr(http, "BACKOFF_INITIAL_S", 0.01)
    monkeypatch.setattr(http, "BACKOFF_MAX_S", 0.05)
    monkeypatch.setenv("GH_FAULT_TOKEN", TOKEN)


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running(FaultyServer()) as srv:
        assert isinstance(srv, FaultyServer)
        yield srv


def build(server: FakeServer) -> FakeGitHub:
    fake = FakeGitHub(server)
    pay = fake.repo(REPO)
    day = timedelta(days=1)
    for n in range(1, 5):
        t = NOW - n * day
        pay.deploy(n, f"{n:040x}", "production", t, [("success", t + timedelta(minutes=9))])
    pay.pull(10, NOW - 2 * day, NOW - 3 * day)
    pay.pull(11, NOW - 4 * day, NOW - 5 * day)
    for i in range(6):
        pay.run(100 + i, NOW - (i + 1) * timedelta(hours=5))
    return fake


def files_dir(root: Path) -> Path:
    folder = root / "files"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,team,service,environment,status,started_at,finished_at"]
    for n in range(5):
        t = (NOW - timedelta(days=n + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"s{n},Search,search,production,success,{t},{t}")
    (folder / "deployments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def make_config(url: str, folder: Path, *, timeout_s: float = 1.0) -> Config:
    return Config(
        path=None,
        teams=(
            TeamConfig(name="Payments", repos=(REPO,)),
            TeamConfig(name="Search", services=("search",)),
        ),
        sources=(
            source_config(
                name="gh",
                kind="github",
                api_url=url,
                token_env="GH_FAULT_TOKEN",
                timeout_s=timeout_s,
                max_concurrency=2,
                options={"max_wait_s": 0.5, "graphql": False},
            ),
            source_config(name="local", kind="files", path=folder),
        ),
    )


def digest(frames: dict[str, pd.DataFrame]) -> dict[str, tuple[int, str]]:
    out = {}
    for kind, frame in sorted(frames.items()):
        ids = sorted(map(str, frame["id"])) if "id" in frame.columns else []
        out[kind] = (len(frame), hashlib.sha256("\n".join(ids).encode()).hexdigest())
    return out


def ids(frames: dict[str, pd.DataFrame]) -> set[str]:
    return {str(i) for f in frames.values() if "id" in f.columns for i in f["id"]}


def loop_route(server: FakeServer) -> None:
    def looping(request: Request, srv: FakeServer) -> Reply:
        link = f'<{srv.url}{ROOT}/deployments?per_page=100>; rel="next"'
        return Reply(200, [], {"Link": link})

    server.routes.insert(0, (lambda p: p == f"{ROOT}/deployments", looping))


@dataclass
class Fault:
    name: str
    inject: Callable[[FaultyServer], None]
    expect: str
    """recovers | skipped (bad answers counted, the sync goes on) | partial | fails"""
    within_s: float
    timeout_s: float = 1.0
    detail: str = ""
    """Text the error or problems must contain."""


FAULTS = [
    Fault(
        "5xx burst (500, 502, 503) then OK",
        lambda s: s.fault(ROOT, Reply(500), Reply(502), Reply(503)),
        "recovers",
        5,
    ),
    Fault("503 on every request", lambda s: s.always(Reply(503)), "fails", 8, detail="HTTP 503"),
    Fault(
        "429 with Retry-After: 0, twice",
        lambda s: s.fault(
            ROOT, Reply(429, {}, {"Retry-After": "0"}), Reply(429, {}, {"Retry-After": "0"})
        ),
        "recovers",
        5,
    ),
    Fault(
        "429 with Retry-After: 3600 (longer than max_wait_s)",
        lambda s: s.always(Reply(429, {}, {"Retry-After": "3600"})),
        "partial",
        5,
        detail="max_wait_s",
    ),
    Fault(
        "GitHub secondary rate limit 403 with Retry-After: 60",
        lambda s: s.always(
            Reply(
                403,
                {"message": "You have exceeded a secondary rate limit. Please wait."},
                {"Retry-After": "60"},
            )
        ),
        "partial",
        5,
        detail="max_wait_s",
    ),
    Fault(
        "GitHub secondary rate limit 403 without Retry-After, once",
        lambda s: s.fault(
            f"{ROOT}/pulls",
            Reply(403, {"message": "You have exceeded a secondary rate limit."}),
        ),
        "recovers",
        5,
    ),
    Fault("read timeout once", lambda s: s.fault(ROOT, Hang(seconds=30)), "recovers", 6),
    Fault(
        "read timeout on every request",
        lambda s: s.always(Hang(seconds=30)),
        "fails",
        12,
        timeout_s=0.5,
        detail="Timeout",
    ),
    Fault(
        "connection reset mid-body, twice",
        lambda s: s.fault(f"{ROOT}/deployments", Reset(), Reset()),
        "recovers",
        5,
    ),
    Fault(
        "connection reset mid-body on every request",
        lambda s: s.always(Reset()),
        "fails",
        8,
        detail="GET",
    ),
    Fault(
        "truncated JSON",
        lambda s: s.fault(f"{ROOT}/pulls", Reply(200, b'[{"number": 10, "merged_')),
        "skipped",
        5,
        detail="malformed",
    ),
    Fault(
        "malformed JSON (an HTML error page with status 200)",
        lambda s: s.fault(f"{ROOT}/deployments", Reply(200, b"<html><h1>502</h1></html>")),
        "skipped",
        5,
        detail="malformed",
    ),
    Fault(
        "malformed JSON on every request",
        lambda s: s.always(Reply(200, b"{not json")),
        "skipped",
        5,
        detail="malformed",
    ),
    Fault("pagination loop", loop_route, "partial", 5, detail="loop"),
    Fault(
        "hanging response (headers, then a byte every 0.2 s forever)",
        lambda s: s.always(Trickle()),
        "fails",
        20,
        timeout_s=0.5,
        detail="GET",
    ),
]


async def _sync_bounded(config: Config, store: Store, now: datetime, limit: float) -> SyncSummary:
    # A generous outer guard so a regression fails the test instead of hanging the suite.
    return await asyncio.wait_for(
        sync(config, store, ScoreRequest.resolve(now=now)), timeout=limit + 30
    )


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_fault(fault: Fault, server: FaultyServer, tmp_path: Path) -> None:
    build(server)
    config = make_config(server.url, files_dir(tmp_path), timeout_s=fault.timeout_s)
    store = Store(tmp_path / "cache")
    first = await _sync_bounded(config, store, NOW, 10)
    assert all(o.ok and o.complete for o in first.outcomes), first.table()
    gh_before = store.load(sources=["gh"])
    local_before = digest(store.load(sources=["local"]))
    assert len(gh_before["deployments"]) == 4

    fault.inject(server)
    started = time.monotonic()
    summary = await _sync_bounded(config, store, LATER, fault.within_s)
    elapsed = time.monotonic() - started
    assert elapsed < fault.within_s, f"{fault.name}: took {elapsed:.1f}s"
    server.always(None)

    outcomes = {o.name: o for o in summary.outcomes}
    gh, local = outcomes["gh"], outcomes["local"]
    # The other source is unaffected.
    assert local.ok and local.complete and local.items == 5
    assert digest(store.load(sources=["local"])) == local_before
    assert not summary.all_failed
    table = summary.table()
    assert TOKEN not in table
    gh_after = store.load(sources=["gh"])
    status = store.statuses()["gh"]
    card = service.cached_scorecard(
        config, store, service.score_request(config, as_of=LATER, now=LATER)
    )
    flags = card.report.table["flags"]
    assert "stale" not in flags.loc["Search"]

    if fault.expect == "recovers":
        assert gh.ok and gh.complete, table
        assert gh.stats.retries >= 1, gh.stats
        assert "retries" in table
        assert ids(gh_after) == ids(gh_before)
        assert "stale" not in flags.loc["Payments"]
    elif fault.expect == "skipped":
        assert gh.ok and gh.skipped >= 1, table
        assert gh.stats.malformed >= 1 and "malformed answers skipped" in table
        # A skipped page may have held events: the sync says its data is partial and
        # keeps the old bookmark, so the next sync reads that range again.
        assert not gh.complete and "partial" in table
        assert any("malformed page was skipped" in p for p in gh.problems), gh.problems
        assert any(fault.detail in p for p in gh.problems), gh.problems
        assert ids(gh_before) <= ids(gh_after)
        assert "stale" in flags.loc["Payments"]
    elif fault.expect == "partial":
        assert gh.ok and not gh.complete, table
        assert "partial" in table
        assert any(fault.detail in p for p in gh.problems), gh.problems
        # Nothing already known is lost: the old events are all still there.
        assert ids(gh_before) <= ids(gh_after)
        assert not status.complete
    else:
        assert not gh.ok, table
        assert fault.detail in (gh.last_error or ""), gh.last_error
        assert f"error: {gh.last_error}" in table
        # The summary counts the attempts that were made.
        assert gh.stats.requests >= http.RETRY_ATTEMPTS, gh.stats
        assert gh.stats.retries >= http.RETRY_ATTEMPTS - 1, gh.stats
        assert f"{gh.stats.retries:,} retries" in table
        # The last good data stays, unchanged, and the source's teams show stale.
        assert digest(gh_after) == digest(gh_before)
        assert status.last_error == gh.last_error and status.last_success_at == NOW
        assert "stale" in flags.loc["Payments"]
        reasons = " ".join(card.report.table.loc["Payments", "reasons"])
        assert "source 'gh' failed" in reasons and gh.last_error in reasons


async def test_partial_data_is_flagged_on_the_teams(server: FaultyServer, tmp_path: Path) -> None:
    build(server)
    config = make_config(server.url, files_dir(tmp_path))
    store = Store(tmp_path / "cache")
    await sync(config, store, ScoreRequest.resolve(now=NOW))
    server.always(Reply(429, {}, {"Retry-After": "3600"}))
    await sync(config, store, ScoreRequest.resolve(now=LATER))
    card = service.cached_scorecard(
        config, store, service.score_request(config, as_of=LATER, now=LATER)
    )
    assert "stale" in card.report.table.loc["Payments", "flags"]


# --- exit codes through the CLI ------------------------------------------------------------


def write_config(path: Path, url: str, folder: Path) -> Path:
    path.write_text(
        f"""
[sources.gh]
kind = "github"
api_url = "{url}"
token_env = "GH_FAULT_TOKEN"
timeout_s = 1
max_wait_s = 0.5
graphql = false

[sources.local]
kind = "files"
path = "{folder.as_posix()}"

[[teams]]
name = "Payments"
repos = ["{REPO}"]

[[teams]]
name = "Search"
services = ["search"]
""",
        encoding="utf-8",
    )
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from scorecard import cli

    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_code_is_1_only_when_every_source_failed(
    server: FaultyServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    build(server)
    folder = files_dir(tmp_path)
    config = str(write_config(tmp_path / "scorecard.toml", server.url, folder))

    code, _out, err = run_cli(["sync", "--config", config], capsys)
    assert code == 0, err

    # One source down: exit 0, and the summary says which one and why.
    server.always(Reply(503))
    code, _out, err = run_cli(["sync", "--config", config], capsys)
    assert code == 0, err
    assert "error: " in err and "HTTP 503" in err and "retries" in err
    assert "Traceback" not in err and TOKEN not in err

    # Partial data is not a failure either.
    server.always(Reply(429, {}, {"Retry-After": "3600"}))
    code, _out, err = run_cli(["sync", "--config", config], capsys)
    assert code == 0, err
    assert "partial" in err

    # Every source down: exit 1, one line saying the cache keeps its data.
    server.always(Reply(503))
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    code, _out, err = run_cli(["sync", "--config", config], capsys)
    assert code == 1, err
    assert "every source failed" in err and "Traceback" not in err
    assert TOKEN not in err

    # ... and the cached data from the first sync is still there to export.
    code, out, err = run_cli(
        ["export", "--config", config, "--offline", "--format", "json"], capsys
    )
    assert code == 0, err
    assert '"Payments"' in out and "stale" in out
    assert TOKEN not in out


def test_probe_in_config_check_is_bounded(
    server: FaultyServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`config check` against a hanging API answers within its own deadline."""
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    build(server)
    config = str(write_config(tmp_path / "scorecard.toml", server.url, files_dir(tmp_path)))
    server.always(Trickle())
    started = time.monotonic()
    code, out, err = run_cli(["config", "check", "--config", config], capsys)
    assert time.monotonic() - started < 15
    assert code == 1, (out, err)
    assert "FAILED" in out and TOKEN not in out + err
