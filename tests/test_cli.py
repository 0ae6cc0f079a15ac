"""The command line end to end, in-process: exit codes, stdout/stderr, files."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from scorecard import cli
from scorecard.scoring import SUMMARY_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "files"
SENTINEL = "glpat-SENTINEL0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_config(tmp_path: Path, files_dir: Path, extra: str = "") -> Path:
    shutil.copytree(files_dir, tmp_path / "exports", dirs_exist_ok=True)
    path = tmp_path / "scorecard.toml"
    path.write_text(
        f"""
[scorecard]
org = "Acme"

[sources.local]
kind = "files"
path = "exports/"
{extra}
[[teams]]
name = "Payments"
repos = ["acme/payments-api"]
services = ["payments-api"]

[[teams]]
name = "Search"
repos = ["acme/search"]
services = ["search-api"]
""",
        encoding="utf-8",
    )
    return path


def test_export_demo_prints_summary_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "--demo", "--as-of", "2026-11-26T12:00:00Z")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    teams = [r[0] for r in rows[1:]]
    assert len(teams) == 10 and "Payments" in teams
    flags = {r[0]: r[SUMMARY_COLUMNS.index("flags")] for r in rows[1:]}
    assert "outpacing" in flags["Payments"]
    assert "stale" in flags["Mobile API"]
    assert "unstable" in flags["Checkout"]


def test_export_demo_json_and_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "export", "--demo", "--format", "json", "--as-of", "2026-11-26")
    assert code == 0
    assert json.loads(out)["window_days"] == 30
    target = tmp_path / "report.md"
    code, out, err = run(
        capsys, "export", "--demo", "--format", "markdown", "--output", str(target), "--window", "7"
    )
    assert code == 0 and out == ""
    assert "| Team | Grade |" in target.read_text()
    assert "wrote" in err


def test_export_details(capsys: pytest.CaptureFixture[str]) -> None:
    for detail, column in (("incidents", "link_rule"), ("deployments", "resolved_strategy")):
        code, out, _ = run(capsys, "export", "--demo", "--detail", detail, "--as-of", "2026-11-26")
        assert code == 0
        assert column in out.splitlines()[0]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", "--demo", "--format", "xml")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "export", "--demo", "--as-of", "yesterday")
    assert code == 2 and "not a date" in err
    assert "Traceback" not in err


def test_missing_config_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", "--offline")
    assert code == 2
    assert "scorecard init" in err
    assert "Traceback" not in err


def test_bad_config_names_line_and_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[scorecard]\nwindow_days = "thirty"\n\n[[teams]]\nname = "A"\n')
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert code == 2
    assert ":2:" in err and "scorecard.window_days" in err
    assert "Traceback" not in err


def test_debug_shows_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[scorecard\n")
    from scorecard.config import ConfigError

    with pytest.raises(ConfigError):
        cli.main(["config", "check", "--config", str(path), "--debug"])


def test_init_writes_and_never_overwrites(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "init")
    target = tmp_path / "xdg" / "scorecard" / "config.toml"
    assert code == 0 and target.exists() and str(target) in out
    code, _, err = run(capsys, "init")
    assert code == 2 and "--force" in err
    assert run(capsys, "init", "--force")[0] == 0
    explicit = tmp_path / "elsewhere.toml"
    assert run(capsys, "init", str(explicit))[0] == 0 and explicit.exists()


def test_sync_then_offline_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    code, _, err = run(capsys, "sync", "--config", str(config))
    assert code == 0, err
    assert "local" in err
    assert (tmp_path / "cache").exists()
    code, out, _ = run(
        capsys, "export", "--config", str(config), "--offline", "--as-of", "2024-03-01"
    )
    assert code == 0
    rows = {r["team"]: r for r in csv.DictReader(io.StringIO(out))}
    assert {"Payments", "Search"} <= set(rows)


def test_every_source_failing_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    shutil.rmtree(tmp_path / "exports")
    code, _, err = run(capsys, "sync", "--config", str(config))
    assert code == 1
    assert "every source failed" in err
    code, _, err = run(capsys, "export", "--config", str(config))
    assert code == 1


def test_strict_makes_bad_rows_fatal(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, FIXTURES / "bad")
    code, _, err = run(capsys, "sync", "--config", str(config))
    assert code == 0
    code, _, err = run(capsys, "sync", "--config", str(config), "--strict")
    assert "line" in err or ":" in err
    assert code == 1


def test_auth_set_status_delete(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    isolated: MemoryKeyring,
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[sources.gh]\nkind = "github"\ntoken = "keyring"\n\n[[teams]]\nname = "A"\n'
        'repos = ["acme/a"]\n'
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(SENTINEL + "\n"))
    code, out, err = run(capsys, "auth", "set", "gh", "--stdin", "--config", str(config))
    assert code == 0 and SENTINEL not in out + err
    assert isolated.store[("scorecard", "gh")] == SENTINEL
    code, out, err = run(capsys, "auth", "status", "--config", str(config))
    assert code == 0 and "keyring" in out and SENTINEL not in out + err
    code, out, _ = run(capsys, "auth", "delete", "gh", "--config", str(config))
    assert code == 0 and "deleted" in out
    assert ("scorecard", "gh") not in isolated.store


def test_config_check_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    code, out, _ = run(capsys, "config", "check", "--config", str(config))
    assert code == 0
    assert "valid (2 teams, 1 sources)" in out
    assert "local" in out and "ok" in out


def test_plaintext_token_warns_without_leaking(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    text = config.read_text().replace(
        "[[teams]]",
        f'[sources.gl]\nkind = "gitlab"\napi_url = "http://127.0.0.1:9/api/v4"\n'
        f'token = "{SENTINEL}"\ntimeout_s = 2\n\n[[teams]]',
        1,
    )
    config.write_text(text)
    code, out, err = run(capsys, "config", "check", "--config", str(config))
    assert "scorecard auth set gl" in err
    assert SENTINEL not in out + err
    assert code == 1  # gitlab.com is not reachable from tests: reported as failed


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scorecard", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("scorecard ")


def test_json_export_carries_monitoring_extras(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from datetime import datetime, timezone

    from scorecard.sources.contract import SourceResult
    from scorecard.store import Store

    config = write_config(
        tmp_path,
        FIXTURES / "good",
        extra='\n[sources.am]\nkind = "alertmanager"\nurl = "http://127.0.0.1:9"\n',
    )
    firing = {"team": "Payments", "name": "HighErrorRate", "severity": "sev2"}
    now = datetime(2024, 3, 1, tzinfo=timezone.utc)
    Store(tmp_path / "cache").write_source(
        "am", "alertmanager", SourceResult(frames={}, state={"firing": [firing]}), attempted_at=now
    )
    code, out, _ = run(capsys, "export", "--config", str(config), "--offline", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["extras"]["Payments"]["firing"][0]["name"] == "HighErrorRate"
    code, out, _ = run(capsys, "export", "--config", str(config), "--offline")
    assert code == 0 and "HighErrorRate" not in out  # CSV summary columns stay exact


def test_every_source_failing_names_each_error_even_when_quiet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    shutil.rmtree(tmp_path / "exports")
    code, out, err = run(capsys, "sync", "--config", str(config), "--quiet")
    assert code == 1 and out == ""
    assert "every source failed (local:" in err
    assert len(err.strip().splitlines()) == 1


def test_error_line_shows_control_characters_visibly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[scorecard]\norg = 5\nevil = "\\u001b[2J"\n\n[[teams]]\nname = "A"\n')
    code, _, err = run(capsys, "config", "check", "--config", str(path))
    assert code == 2
    assert "\x1b" not in err


# --------------------------------------------------------------------------- global options

COMMANDS = {
    "demo": ["demo"],
    "standup": ["standup"],
    "sync": ["sync"],
    "export": ["export"],
    "auth": ["auth", "status"],
    "config": ["config", "check"],
    "init": ["init"],
}
GLOBALS = ["--config", "elsewhere.toml", "--quiet", "--debug", "--readonly", "--offline"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_global_options_work_before_or_after_every_command(command: str) -> None:
    parse = cli.parse_arguments
    before = parse([*GLOBALS, *COMMANDS[command]])
    after = parse([*COMMANDS[command], *GLOBALS])
    for args in (before, after):
        assert args.command == command
        assert args.config == "elsewhere.toml"
        assert args.quiet and args.debug and args.readonly and args.offline
    plain = parse(COMMANDS[command])
    assert plain.config is None
    assert not (plain.quiet or plain.debug or plain.readonly or plain.offline)
    short = parse(["-q", *COMMANDS[command]])
    assert short.quiet


def test_global_options_without_a_command_start_the_tui(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scorecard.tui import app

    config = write_config(tmp_path, FIXTURES / "good")
    started: list[app.TuiOptions] = []
    monkeypatch.setattr(app, "run", lambda options: started.append(options) or 0)
    assert cli.main(["--config", str(config), "--readonly", "--as-of", "2024-03-01"]) == 0
    (options,) = started
    assert options.config is not None and options.config.path == config
    assert options.read_only and not options.demo
    assert options.as_of is not None and options.as_of.year == 2024


@pytest.mark.parametrize("where", ["before", "after"])
def test_demo_takes_global_options(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    from scorecard.tui import app

    started: list[app.TuiOptions] = []
    monkeypatch.setattr(app, "run", lambda options: started.append(options) or 0)
    flags = ["--readonly", "--as-of", "2026-11-26"]
    argv = [*flags, "demo"] if where == "before" else ["demo", *flags]
    assert cli.main(argv) == 0
    (options,) = started
    assert options.demo and options.read_only and options.config is None
    assert options.as_of is not None and options.as_of.day == 26


@pytest.mark.parametrize("where", ["before", "after"])
def test_sync_takes_config_and_quiet_on_either_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    flags = ["--config", str(config), "-q"]
    argv = [*flags, "sync"] if where == "before" else ["sync", *flags]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out == "" and err == ""  # quiet: no progress, no table
    loud = ["--config", str(config)]
    code, _, err = run(capsys, *loud, "sync") if where == "before" else run(capsys, "sync", *loud)
    assert code == 0 and "syncing into" in err and "local: starting" in err
    code, _, err = run(capsys, "--readonly", "sync", "--config", str(config))
    assert code == 2 and "--readonly" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_export_takes_global_options_on_either_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    assert run(capsys, "sync", "--config", str(config), "-q")[0] == 0
    flags = ["--config", str(config), "--offline", "--as-of", "2024-03-01", "-q"]
    argv = [*flags, "export"] if where == "before" else ["export", *flags]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert {"Payments", "Search"} <= {r["team"] for r in csv.DictReader(io.StringIO(out))}
    target = tmp_path / "report.csv"
    code, _, err = run(capsys, "--readonly", "export", "--demo", "-o", str(target))
    assert code == 2 and not target.exists()
    # A --config given before the command (e.g. in a shell alias) does not stop --demo;
    # one given with --demo is a contradiction.
    code, out, _ = run(capsys, "--config", str(config), "export", "--demo", "--as-of", "2026-11-26")
    assert code == 0 and "Payments" in out
    code, _, err = run(capsys, "export", "--demo", "--config", str(config))
    assert code == 2 and "--demo" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_standup_reads_the_config_given_on_either_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    flags = ["--config", str(config)]
    argv = [*flags, "standup"] if where == "before" else ["standup", *flags]
    code, _, err = run(capsys, *argv)
    # The config was found and read; the cache is empty, so standup says what to do.
    assert code == 1 and "scorecard sync" in err and "config file not found" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_auth_and_config_take_the_config_on_either_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    config = write_config(tmp_path, FIXTURES / "good")
    for command in (["auth", "status"], ["config", "check"]):
        flags = ["--config", str(config), "--offline"]
        argv = [*flags, *command] if where == "before" else [*command, *flags]
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert "local" in out or "valid" in out
    code, _, err = run(capsys, "--readonly", "auth", "delete", "local", "--config", str(config))
    assert code == 2 and "--readonly" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_init_takes_global_options_on_either_side(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    target = tmp_path / "new.toml"

    def argv(*flags: str) -> list[str]:
        return [*flags, "init", str(target)] if where == "before" else ["init", str(target), *flags]

    code, _, err = run(capsys, *argv("--readonly"))
    assert code == 2 and "--readonly" in err and not target.exists()
    code, out, _ = run(capsys, *argv("-q"))
    assert code == 0 and target.exists() and str(target) in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_on_either_side_shows_the_traceback(tmp_path: Path, where: str) -> None:
    from scorecard.config import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text("[scorecard\n")
    command = ["config", "check", "--config", str(path)]
    with pytest.raises(ConfigError):
        cli.main(["--debug", *command] if where == "before" else [*command, "--debug"])


def test_errors_map_to_their_exit_code_in_one_place() -> None:
    from scorecard.errors import ConfigError, SecretsError, SourceError, StoreError

    assert cli.exit_for(ConfigError("bad", key="k")) == (2, "k: bad")
    assert cli.exit_for(cli.UsageError("no"))[0] == cli.EXIT_USAGE
    for error in (cli.RuntimeFailure("x"), SecretsError("x"), StoreError("x"), SourceError("x")):
        assert cli.exit_for(error) == (cli.EXIT_RUNTIME, "x")
    assert cli.exit_for(FileNotFoundError(2, "No such file", "a.csv")) == (
        1,
        "No such file (a.csv)",
    )
    code, message = cli.exit_for(ValueError("odd"))
    assert code == 1 and message.startswith("ValueError: odd") and "--debug" in message
