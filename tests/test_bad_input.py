"""The bad input corpus (tests/bad_input): never a traceback, always a clear answer.

Every malformed config exits 2 with one line naming the file, the line and the key.
Every malformed files-source row is skipped, counted and reported as
``file:line: field: reason`` while the sync goes on (exit 0); a file that cannot be
read at all fails its source with a message naming the file (exit 1 when it was the
only source). The 50 MB line is generated at test time, never committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scorecard import cli
from scorecard.store import Store

CORPUS = Path(__file__).parent / "bad_input"
CONFIGS = CORPUS / "configs"
ROWS = CORPUS / "rows"

# config file -> (line, key) the message must name (key None: the file has no keys).
CONFIG_CASES: dict[str, tuple[int, str | None]] = {
    "toml_syntax.toml": (1, None),
    "window_not_a_number.toml": (2, "scorecard.window_days"),
    "window_negative.toml": (2, "scorecard.window_days"),
    "window_is_a_date.toml": (2, "scorecard.window_days"),
    "unknown_key.toml": (2, "scorecard.colour"),
    "unknown_kind.toml": (2, "sources.jira.kind"),
    "duplicate_team.toml": (10, "teams[1].name"),
    "team_without_name.toml": (5, "teams[0].name"),
    "team_name_empty.toml": (6, "teams[0].name"),
    "teams_not_a_list.toml": (1, "teams"),
    "source_without_kind.toml": (1, "sources.local.kind"),
    "files_without_path.toml": (1, "sources.local.path"),
    "api_url_not_a_url.toml": (3, "sources.gh.api_url"),
    "plain_http_remote.toml": (3, "sources.gh.api_url"),
    "timeout_zero.toml": (3, "sources.gh.timeout_s"),
    "concurrency_not_a_number.toml": (3, "sources.gh.max_concurrency"),
    "token_env_not_a_string.toml": (3, "sources.gh.token_env"),
    "token_is_a_list.toml": (6, "sources.gh2.token"),
    "unknown_benchmarks.toml": (2, "scorecard.benchmarks"),
    "environments_not_a_list.toml": (2, "scorecard.production_environments"),
    "repos_not_strings.toml": (7, "teams[0].repos"),
    "duplicate_key.toml": (3, "scorecard.window_days"),
    "duplicate_source.toml": (5, "sources.local"),
    "binary_garbage.toml": (1, None),
    "empty.toml": (1, "teams"),
    "read_only_not_a_bool.toml": (2, "scorecard.read_only"),
    "history_days_huge.toml": (2, "scorecard.history_days"),
    "change_class_unknown_key.toml": (11, "change_classes.ai.flavour"),
}

# case folder -> (exit code, text the output must contain, skipped rows)
ROW_CASES: dict[str, tuple[int, str, int]] = {
    "bad_date": (0, "deployments.csv:3: started_at: not a timestamp 'yesterday'", 1),
    "impossible_date": (0, "deployments.csv:2: started_at: not a timestamp", 1),
    "unknown_status": (0, "deployments.csv:2: status: unknown value 'exploded'", 1),
    "missing_id": (0, "deployments.csv:2: id: missing required value", 1),
    "too_many_fields": (0, "deployments.csv:2: row: expected 7 fields, got 9", 1),
    "bad_bool": (0, "deployments.csv:2: is_rollback: not true/false 'maybe'", 1),
    "attempt_not_a_number": (0, "ci_runs.csv:2: attempt: not a number 'two'", 1),
    "attempt_negative": (0, "ci_runs.csv:2: attempt: not a positive whole number '-1'", 1),
    "unknown_conclusion": (0, "ci_runs.csv:2: conclusion: unknown value 'exploded'", 1),
    "coverage_out_of_range": (0, "coverage.csv:2: line_coverage: outside 0..100 '150'", 1),
    "coverage_not_a_number": (0, "coverage.csv:2: line_coverage: not a number 'lots'", 1),
    "unknown_severity": (0, "incidents.jsonl:1: severity: unknown value 'SEV9'", 1),
    "jsonl_invalid": (0, "incidents.jsonl:2: json: invalid JSON", 1),
    "jsonl_not_an_object": (0, "incidents.jsonl:1: json: expected an object, got list", 1),
    "jsonl_nested_value": (0, "incidents.jsonl:1: id: expected a single value, got an object", 1),
    "jsonl_wrong_type": (0, "incidents.jsonl:1: created_at: not a timestamp '1709251200'", 1),
    "rollout_unknown_strategy": (0, "rollouts.csv:2: strategy: unknown value 'yolo'", 1),
    "missing_required_column": (
        0,
        "deployments.csv: missing required column(s): started_at; all 1 row(s) skipped",
        1,
    ),
    "unknown_file_kind": (0, "deploys.csv: ignored: not an event kind", 0),
    "directory_named_like_a_file": (0, "deployments.csv: ignored: not a regular file", 0),
    "binary_garbage": (1, "binary_garbage/deployments.csv is not UTF-8 text (byte 0xff", 0),
    "not_utf8": (1, "not_utf8/changes.csv is not UTF-8 text (byte 0xe9 at offset 60)", 0),
    "nul_byte": (0, "ok", 0),  # a NUL inside a quoted-less cell is data, shown literally
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text and "--debug" not in text, text
    assert "unexpected error" not in text, text


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in CONFIGS.iterdir()) == sorted(CONFIG_CASES)
    assert sorted(p.name for p in ROWS.iterdir()) == sorted(ROW_CASES)
    assert len(CONFIG_CASES) + len(ROW_CASES) + 4 >= 30  # + the generated cases below


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_bad_config(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = CONFIGS / name
    line, key = CONFIG_CASES[name]
    for command in (["config", "check", "--offline"], ["sync"], ["export", "--offline"]):
        code, out, err = run([*command, "--config", str(path)], capsys)
        assert code == 2, (command, err)
        assert out == ""
        assert_no_traceback(err)
        message = err.strip()
        assert "\n" not in message, message
        assert message.startswith(f"scorecard: {path}:{line}:"), message
        if key is not None:
            assert f" {key}:" in message, message
        assert "Fix:" in message


def test_config_that_is_a_folder_or_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(["config", "check", "--offline", "--config", str(tmp_path)], capsys)
    assert code == 2 and "is a folder" in err and str(tmp_path) in err
    missing = tmp_path / "nope.toml"
    code, _out, err = run(["sync", "--config", str(missing)], capsys)
    assert code == 2 and "config file not found" in err and str(missing) in err
    assert_no_traceback(err)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads anything")
def test_config_without_read_permission(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "locked.toml"
    path.write_text("[[teams]]\nname = 'A'\n")
    path.chmod(0)
    code, _out, err = run(["config", "check", "--offline", "--config", str(path)], capsys)
    assert code == 2 and "cannot read the config file" in err and str(path) in err


def files_config(tmp_path: Path, folder: Path) -> Path:
    config = tmp_path / "scorecard.toml"
    config.write_text(
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
    return config


@pytest.mark.parametrize("name", sorted(ROW_CASES))
def test_bad_rows(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected_code, text, skipped = ROW_CASES[name]
    config = files_config(tmp_path, ROWS / name)
    code, out, err = run(["sync", "--config", str(config)], capsys)
    assert code == expected_code, err
    assert out == ""
    assert_no_traceback(err)
    assert text in err, err
    status = Store(tmp_path / "cache", read_only=True).statuses()["local"]
    if expected_code == 0:
        assert status.skipped == skipped
        if skipped:
            assert f"ok ({skipped} bad rows skipped)" in err
            assert any(text in p for p in status.problems), status.problems
    else:
        assert "every source failed" in err
        assert status.last_error is not None and text in status.last_error


def test_strict_makes_a_bad_row_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = files_config(tmp_path, ROWS / "bad_date")
    code, _out, err = run(["sync", "--strict", "--config", str(config)], capsys)
    assert code == 1
    assert "deployments.csv:3: started_at: not a timestamp 'yesterday'" in err
    assert_no_traceback(err)


def test_a_bad_row_next_to_a_healthy_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad rows of one source do not stop another from syncing."""
    good = tmp_path / "good"
    good.mkdir()
    (good / "deployments.csv").write_text(
        "id,service,environment,status,started_at\ng1,pay,production,success,2024-03-01\n"
    )
    config = tmp_path / "two.toml"
    config.write_text(
        f"""
[sources.bad]
kind = "files"
path = "{(ROWS / "binary_garbage").as_posix()}"

[sources.good]
kind = "files"
path = "{good.as_posix()}"

[[teams]]
name = "Payments"
services = ["pay"]
"""
    )
    code, _out, err = run(["sync", "--config", str(config)], capsys)
    assert code == 0, err
    assert "is not UTF-8 text" in err
    frames = Store(tmp_path / "cache", read_only=True).load()
    assert list(frames["deployments"]["id"]) == ["g1"]


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    locked = folder / "deployments.csv"
    locked.write_text("id,environment,status,started_at\n")
    locked.chmod(0)
    code, _out, err = run(["sync", "--config", str(files_config(tmp_path, folder))], capsys)
    assert code == 1 and f"cannot read {locked}" in err
    assert_no_traceback(err)


HUGE = 50 * 1024 * 1024


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_50_mb_line(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / f"deployments{suffix}"
    with path.open("w", encoding="utf-8") as out:
        if suffix == ".csv":
            out.write("id,service,environment,status,started_at\n")
            out.write("d1,pay,production,success,2024-03-01T10:00:00Z\n")
            out.write("d2,pay,production,success," + "9" * HUGE + "\n")
            out.write("d3,pay,production,success,2024-03-02T10:00:00Z\n")
        else:
            row = '{"id": "%s", "service": "pay", "environment": "production", '
            row += '"status": "success", "started_at": "2024-03-01T10:00:00Z"}\n'
            out.write(row % "d1")
            out.write('{"id": "d2", "service": "' + "x" * HUGE + '", "status": [}\n')
            out.write(row % "d3")
    started = time.monotonic()
    code, out, err = run(["sync", "--config", str(files_config(tmp_path, folder))], capsys)
    assert time.monotonic() - started < 60
    assert code == 0, err[:2000]
    assert_no_traceback(err)
    assert len(err) < 5000, "the message quotes a short excerpt, never the line"
    line = 3 if suffix == ".csv" else 2  # CSV counts its header line
    assert f"deployments{suffix}:{line}:" in err
    assert "ok (1 bad rows skipped)" in err
    frames = Store(tmp_path / "cache", read_only=True).load()
    assert sorted(frames["deployments"]["id"]) == ["d1", "d3"]


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    """The same through ``python -m scorecard`` (stderr, exit code, nothing on stdout)."""
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_CONFIG"}
    env.update(SCORECARD_CACHE_DIR=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path))
    for name in ("binary_garbage.toml", "toml_syntax.toml", "duplicate_team.toml"):
        done = subprocess.run(
            [sys.executable, "-m", "scorecard", "sync", "--config", str(CONFIGS / name)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and done.stdout == ""
        assert_no_traceback(done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1
