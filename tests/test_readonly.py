"""Read-only mode writes nothing, anywhere (SPEC §8).

A Python audit hook (``sys.addaudithook``) records every file opened for
writing, every rename/replace/remove/mkdir and every ``shutil`` write while a
read-only TUI or the standup view is driven through its key bindings; keyring
writes are recorded by a keyring backend that notes each call. The tests assert
that nothing was recorded.

Audit hooks cannot be removed, so the hook is installed once and only records
while :func:`no_writes` is active. Bytecode writing is switched off inside the
window so that lazily imported modules do not leave ``__pycache__`` files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from scorecard import cli, config, service, store, sync
from scorecard.demo import demo_config
from scorecard.request import ScoreRequest
from scorecard.store import Store
from scorecard.tui.app import ScorecardApp, TuiOptions
from scorecard.tui.commands import ScorecardCommands
from scorecard.tui.screens.help import HelpScreen
from scorecard.tui.standup import StandupApp, StandupOptions

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
SIZE = (140, 40)

# --------------------------------------------------------------------------- the audit hook

WRITE_EVENTS = frozenset(
    {
        "os.rename",  # also raised by os.replace
        "os.remove",  # also raised by os.unlink
        "os.rmdir",
        "os.mkdir",
        "os.truncate",
        "os.link",
        "os.symlink",
        "os.chmod",
        "os.utime",
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
        "shutil.rmtree",
        "shutil.move",
        "shutil.make_archive",
    }
)
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

_recording = False
_events: list[tuple[str, str]] = []


def _is_write_open(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _recording:
        return
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        if _is_write_open(mode, flags):
            _events.append((event, f"{path!r} mode={mode!r} flags={flags!r}"))
    elif event in WRITE_EVENTS:
        _events.append((event, repr(args[:2])))


sys.addaudithook(_hook)


class RecordingKeyring(KeyringBackend):
    """A keyring that answers reads and records every write."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes.append(f"set {service}/{username}")

    def delete_password(self, service: str, username: str) -> None:
        self.writes.append(f"delete {service}/{username}")


@contextmanager
def no_writes(kr: RecordingKeyring) -> Iterator[list[tuple[str, str]]]:
    """Record writes inside the block; fail if there were any."""
    global _recording
    _events.clear()
    kr.writes.clear()
    bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    _recording = True
    try:
        yield _events
    finally:
        _recording = False
        sys.dont_write_bytecode = bytecode
    recorded = list(_events) + [("keyring", w) for w in kr.writes]
    assert recorded == [], "read-only session wrote:\n" + "\n".join(map(str, recorded))


@pytest.fixture(autouse=True)
def recording_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RecordingKeyring]:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    previous = keyring.get_keyring()
    backend = RecordingKeyring()
    keyring.set_keyring(backend)
    from scorecard import secrets

    def refuse(*args: Any, **kwargs: Any) -> None:
        backend.writes.append(f"secrets call {args[:1]}")

    monkeypatch.setattr(secrets, "set_token", refuse)
    monkeypatch.setattr(secrets, "delete_token", refuse)
    yield backend
    keyring.set_keyring(previous)


def test_the_hook_sees_writes(recording_keyring: RecordingKeyring, tmp_path: Path) -> None:
    """The audit hook is live: a write inside the window fails the check."""
    with pytest.raises(AssertionError, match=r"os\.mkdir"), no_writes(recording_keyring):
        (tmp_path / "made").mkdir()
    with pytest.raises(AssertionError, match="keyring"), no_writes(recording_keyring):
        keyring.set_password("scorecard", "x", "y")
    with pytest.raises(AssertionError, match=r"os\.rename"), no_writes(recording_keyring):
        (tmp_path / "a").write_text("x")
        os.replace(tmp_path / "a", tmp_path / "b")
    with no_writes(recording_keyring):
        (tmp_path / "b").read_text()


# --------------------------------------------------------------------------- fixtures


def demo_source_config(tmp_path: Path, *, read_only: bool = False) -> tuple[config.Config, Path]:
    """The demo org's teams with one `demo` source, as a config file and a Config."""
    lines = ["[scorecard]", 'org = "Acme"', f"read_only = {str(read_only).lower()}", ""]
    lines += ["[sources.demo]", 'kind = "demo"', ""]
    for team in demo_config().teams:
        lines += [
            "[[teams]]",
            f'name = "{team.name}"',
            f"repos = {list(team.repos)!r}".replace("'", '"'),
            f"services = {list(team.services)!r}".replace("'", '"'),
            "",
        ]
    path = tmp_path / "scorecard.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return config.load_config(path), path


def fill_cache(cfg: config.Config, root: Path) -> None:
    summary = sync.sync_blocking(cfg, Store(root), ScoreRequest.resolve(now=AS_OF))
    assert not summary.failed


async def afill_cache(cfg: config.Config, root: Path) -> None:
    summary = await sync.sync(cfg, Store(root), ScoreRequest.resolve(now=AS_OF))
    assert not summary.failed


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and mtime (to see that nothing changed)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


# Every key the TUI binds, on every screen, including the ones that write when allowed.
TUI_KEYS = (
    "j", "k", "down", "up", "s", "s", "slash", "p", "a", "y", "enter", "escape",
    "w", "w", "w", "e", "r", "enter", "j", "k", "e", "r", "escape", "m", "down",
    "e", "r", "escape", "d", "e", "r", "escape", "question_mark", "escape",
    "ctrl+p", "e", "x", "p", "escape", "ctrl+s",
)  # fmt: skip


# --------------------------------------------------------------------------- the TUI


async def test_read_only_demo_tui_writes_nothing(recording_keyring: RecordingKeyring) -> None:
    app = ScorecardApp(TuiOptions(demo=True, as_of=AS_OF, read_only=True), now=lambda: AS_OF)
    with no_writes(recording_keyring):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for key in TUI_KEYS:
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
    assert app.scorecard is not None
    assert app.return_code == 0


async def test_read_only_tui_on_the_cache_writes_nothing(
    recording_keyring: RecordingKeyring, tmp_path: Path
) -> None:
    cfg, _ = demo_source_config(tmp_path)
    cache = tmp_path / "cache"
    await afill_cache(cfg, cache)
    before = tree(cache)
    options = TuiOptions(config=cfg, read_only=True, as_of=AS_OF, store_root=cache)
    app = ScorecardApp(options, now=lambda: AS_OF)
    with no_writes(recording_keyring):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.scorecard is not None and len(app.team_names()) == 10
            for key in TUI_KEYS:
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
    assert tree(cache) == before


# --------------------------------------------------------------------------- standup

STANDUP_KEYS = ("n", "n", "p", "space", "n", "p", "space", "right", "left", "e", "r", "ctrl+p")


async def test_standup_from_the_cache_writes_nothing(
    recording_keyring: RecordingKeyring, tmp_path: Path
) -> None:
    cfg, _ = demo_source_config(tmp_path)
    cache = tmp_path / "cache"
    await afill_cache(cfg, cache)
    before = tree(cache)
    with no_writes(recording_keyring):
        loader = cli.standup_loader(cfg, service.score_request(cfg, as_of=AS_OF), live=False)
        app = StandupApp(loader, StandupOptions(interval=0.2), now=lambda: AS_OF)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert len(app.cards) == 10
            await pilot.pause(0.5)  # let it rotate
            for key in STANDUP_KEYS:
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
    assert app.rotations >= 1
    assert app.return_code == 0
    assert tree(cache) == before


async def test_standup_live_fetches_into_memory_only(
    recording_keyring: RecordingKeyring, tmp_path: Path
) -> None:
    cfg, _ = demo_source_config(tmp_path)
    with no_writes(recording_keyring):
        loader = cli.standup_loader(cfg, service.score_request(cfg, as_of=AS_OF), live=True)
        app = StandupApp(loader, StandupOptions(live=True), now=lambda: AS_OF)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.load_error is None
            assert len(app.cards) == 10
            for key in STANDUP_KEYS:
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
    assert not (tmp_path / "cache").exists()


def test_standup_without_a_cache_says_what_to_run(
    recording_keyring: RecordingKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = demo_source_config(tmp_path)
    with no_writes(recording_keyring):
        code = cli.main(["standup", "--config", str(path)])
    _, err = capsys.readouterr()
    assert code == cli.EXIT_RUNTIME
    assert "no cached data yet" in err
    assert "scorecard sync" in err and "scorecard standup --live" in err
    assert "Traceback" not in err
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Capture what the command line would start instead of running a terminal app."""
    import scorecard.tui.app
    import scorecard.tui.standup

    calls: list[Any] = []
    monkeypatch.setattr(scorecard.tui.app, "run", lambda options: calls.append(options) or 0)

    def fake_standup(loader: Any, options: StandupOptions) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr(scorecard.tui.standup, "run_standup", fake_standup)
    return calls


@pytest.mark.parametrize(
    ("config_read_only", "flags", "expected"),
    [
        (False, [], False),
        (False, ["--readonly"], True),
        (True, [], True),
        (True, ["--write"], False),  # --write overrides the config for the TUI
        (True, ["--readonly", "--write"], True),  # the flag beats everything
        (False, ["--readonly", "--write"], True),
    ],
)
def test_read_only_precedence(
    started: list[Any],
    tmp_path: Path,
    config_read_only: bool,
    flags: list[str],
    expected: bool,
) -> None:
    _, path = demo_source_config(tmp_path, read_only=config_read_only)
    assert cli.main([*flags, "--config", str(path)]) == 0
    (options,) = started
    assert isinstance(options, TuiOptions)
    assert options.read_only is expected


def test_readonly_before_or_after_demo(started: list[Any]) -> None:
    assert cli.main(["--readonly", "demo"]) == 0
    assert cli.main(["demo", "--readonly"]) == 0
    assert cli.main(["demo"]) == 0
    assert [o.read_only for o in started] == [True, True, False]


def test_standup_is_read_only_whatever_the_flags(
    started: list[Any], tmp_path: Path, recording_keyring: RecordingKeyring
) -> None:
    cfg, path = demo_source_config(tmp_path)
    fill_cache(cfg, tmp_path / "cache")
    with no_writes(recording_keyring):
        code = cli.main(["--write", "standup", "--config", str(path), "--team", "payments"])
    assert code == 0
    (options,) = started
    assert options.teams == ("Payments",)
    app = StandupApp(lambda: service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF)), options)
    assert app.read_only


@pytest.mark.parametrize(
    "argv",
    [
        ["--readonly", "sync"],
        ["--readonly", "init"],
        ["--readonly", "auth", "set", "demo", "--stdin"],
        ["--readonly", "auth", "delete", "demo"],
        ["--readonly", "export", "--demo", "--output", "report.csv"],
        ["--readonly", "snapshot"],
        ["--readonly", "report", "--demo", "--output", "report.csv"],
    ],
)
def test_readonly_refuses_commands_that_write(
    argv: list[str],
    tmp_path: Path,
    recording_keyring: RecordingKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, path = demo_source_config(tmp_path)
    os.environ["SCORECARD_CONFIG"] = str(path)
    try:
        with no_writes(recording_keyring):
            code = cli.main(argv)
    finally:
        del os.environ["SCORECARD_CONFIG"]
    _, err = capsys.readouterr()
    assert code == cli.EXIT_USAGE
    assert "--readonly" in err and "would write" in err
    assert not (tmp_path / "report.csv").exists()


def test_readonly_export_to_stdout_reads_the_cache_only(
    tmp_path: Path, recording_keyring: RecordingKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = demo_source_config(tmp_path)
    with no_writes(recording_keyring):
        code = cli.main(["--readonly", "export", "--config", str(path)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("team,")
    assert not (tmp_path / "cache").exists()  # no sync ran


def test_readers_of_a_shared_cache_write_nothing_anywhere(
    tmp_path: Path, recording_keyring: RecordingKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``cache_url``, export, explain and teams read the latest publication
    without ``--readonly``: no local cache, and the shared folder (written by delta-rs,
    which the audit hook cannot see) unchanged."""
    pytest.importorskip("deltalake")
    from scorecard import shared_cache

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "deployments.csv").write_text(
        "id,team,service,repo,environment,status,started_at,finished_at\n"
        "d1,Payments,pay,acme/pay,production,success,2026-11-25T10:00:00Z,2026-11-25T10:05:00Z\n"
    )
    path = tmp_path / "scorecard.toml"
    path.write_text(
        '[scorecard]\ncache_url = "shared"\n\n[sources.local]\nkind = "files"\npath = "exports"\n'
        '\n[[teams]]\nname = "Payments"\nservices = ["pay"]\n'
    )
    cfg = config.load_config(path)
    fill_cache(cfg, tmp_path / "publisher")
    shared = shared_cache.SharedCache.of(cfg)
    shared_cache.publish(shared, Store(tmp_path / "publisher"), publisher="nightly", now=AS_OF)
    before = tree(tmp_path / "shared")
    commands = [["export", "--format", "json"], ["explain", "Payments", "deploys"], ["teams"]]
    try:
        with no_writes(recording_keyring):
            for command in commands:
                assert cli.main([*command, "--config", str(path)]) == 0, capsys.readouterr()
                assert "Payments" in capsys.readouterr().out
    finally:
        store.read_published(None)
    assert tree(tmp_path / "shared") == before
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- nothing to press


def footer_and_help_text(app: Any) -> str:
    return " ".join(
        f"{b.binding.key} {b.binding.description}" for b in app.screen.active_bindings.values()
    )


async def test_write_bindings_absent_on_every_screen_when_read_only() -> None:
    app = ScorecardApp(
        TuiOptions(demo=True, as_of=AS_OF, read_only=True),
        loader=lambda request: service.demo_scorecard(request=request),
        now=lambda: AS_OF,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for keys in ((), ("enter",), ("m",), ("d",)):
            for key in keys:
                await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            bound = screen.active_bindings
            assert "e" not in bound and "r" not in bound, type(screen).__name__
            actions = {b.binding.action for b in bound.values()}
            assert not actions & {"export", "refresh", "screenshot"}
            assert not app.check_action("export", ())
            assert not app.check_action("screenshot", ())
            titles = [t for t, _, _ in ScorecardCommands(screen).commands()]
            assert not [t for t in titles if "Export" in t or "Refresh" in t or "Regenerate" in t]
            system = [c.title for c in app.get_system_commands(screen)]
            assert "Screenshot" not in system
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            described = " ".join(d for _, d in app.screen.keys)
            assert "Export" not in described and "Refresh" not in described
            assert "Regenerate" not in described
            await pilot.press("escape")
            if keys:
                await pilot.press("escape")
            await settle(pilot)


async def test_standup_binds_only_its_keys() -> None:
    app = StandupApp(
        lambda: service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF)),
        StandupOptions(),
        now=lambda: AS_OF,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        bound = app.screen.active_bindings.values()
        shown = {b.binding.action for b in bound if b.binding.show}
        assert shown == {"toggle_pause", "next", "previous", "quit"}
        actions = {b.binding.action for b in bound}
        assert not {a for a in actions if "export" in a or "refresh" in a or "screenshot" in a}
        assert "Screenshot" not in [c.title for c in app.get_system_commands(app.screen)]
        assert not app.check_action("command_palette", ())
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.id == "standup"  # no palette


# --------------------------------------------------------------------------- history and reports


async def test_read_only_trends_on_snapshots_write_nothing(
    recording_keyring: RecordingKeyring, tmp_path: Path
) -> None:
    """The Trends screen reads the cache's snapshots (and recomputes what they miss) in a
    read-only session without writing a file."""
    from tests.test_snapshots import demo_card, seed_snapshots, year_of_days
    from tests.test_trends import app_on, open_trends

    cache = tmp_path / "cache"
    seed_snapshots(cache, demo_card(), year_of_days(AS_OF.date() - timedelta(days=14), 350))
    before = tree(cache)
    with no_writes(recording_keyring):
        app = app_on(cache)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_trends(pilot)
            for key in ("down", "enter", "c", "enter", "e", "r", "escape", "q"):
                await pilot.press(key)
                await settle(pilot)
    assert screen.history is not None and screen.history.recomputed_share() > 0
    assert tree(cache) == before


def test_report_and_digest_to_stdout_write_nothing(
    tmp_path: Path, recording_keyring: RecordingKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scorecard report` reads snapshots and writes only its output (stdout here): not
    even a snapshot, with --offline or a read-only config."""
    from tests.test_snapshots import demo_card, seed_snapshots, year_of_days

    cfg, path = demo_source_config(tmp_path, read_only=True)
    fill_cache(cfg, tmp_path / "cache")
    seed_snapshots(tmp_path / "cache", demo_card(), year_of_days(AS_OF.date(), 200))
    before = tree(tmp_path / "cache")
    with no_writes(recording_keyring):
        assert cli.main(["report", "--config", str(path), "--as-of", AS_OF.isoformat()]) == 0
        html, _ = capsys.readouterr()
        argv = ["--offline", "report", "--config", str(path), "--format", "markdown"]
        assert cli.main([*argv, "--as-of", AS_OF.isoformat()]) == 0
    assert html.startswith("<!DOCTYPE html>") and 'data-chart="map"' in html
    assert "week over week" in capsys.readouterr().out
    assert tree(tmp_path / "cache") == before
