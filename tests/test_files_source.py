"""The files source: parsing, typing and reporting of hand-made exports (SPEC §6)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from scorecard import model
from scorecard.sources import FatalSourceError, FetchContext, SourceResult, build_source, registry
from scorecard.sources.files import FilesSource
from tests.source_config import source_config

FIXTURES = Path(__file__).parent / "fixtures" / "files"
UTC = timezone.utc


def read(path: Path, *, strict: bool = False, name: str = "local") -> SourceResult:
    cfg = source_config(name=name, kind="files", path=path, strict=strict)
    source = build_source(cfg)
    assert isinstance(source, FilesSource)
    return source.read()


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_kind_parses_with_model_dtypes() -> None:
    result = read(FIXTURES / "good")
    assert result.skipped == 0
    assert result.problems == []
    assert set(result.frames) == set(model.EVENT_KINDS)
    for kind, frame in result.frames.items():
        expected = model.empty_frame(kind)  # type: ignore[arg-type]
        assert list(frame.columns) == list(expected.columns)
        assert frame.dtypes.astype(str).to_dict() == expected.dtypes.astype(str).to_dict(), kind
        assert (frame["source"] == "local").all()


def test_csv_and_jsonl_of_one_kind_are_both_read() -> None:
    deployments = read(FIXTURES / "good").frames["deployments"]
    assert list(deployments["id"]) == ["d1", "d2", "d3", "d4"]
    d4 = deployments.iloc[3]
    assert d4["status"] == "in_progress" and bool(d4["is_rollback"]) is True
    assert pd.isna(d4["finished_at"])


def test_timestamps_are_utc_and_naive_means_utc() -> None:
    deployments = read(FIXTURES / "good").frames["deployments"].set_index("id")
    assert str(deployments["started_at"].dtype) == "datetime64[us, UTC]"
    # "2024-03-02T09:00:00" has no offset: taken as UTC.
    assert deployments.loc["d2", "started_at"] == pd.Timestamp("2024-03-02T09:00:00", tz=UTC)
    # "+02:00" offsets are converted.
    assert deployments.loc["d3", "started_at"] == pd.Timestamp("2024-03-03T06:00:00", tz=UTC)
    coverage = read(FIXTURES / "good").frames["coverage"]
    assert coverage["measured_at"].iloc[1] == pd.Timestamp("2024-03-01", tz=UTC)


def test_booleans_enums_and_numbers_are_lenient() -> None:
    frames = read(FIXTURES / "good").frames
    deployments = frames["deployments"].set_index("id")
    assert list(deployments["is_rollback"]) == [False, True, False, True]  # false/TRUE/no/true
    assert list(deployments["strategy"]) == ["canary", "blue_green", "blue_green", "rolling"]
    assert deployments.loc["d3", "status"] == "success"  # "Success"
    runs = frames["ci_runs"].set_index("id")
    assert runs.loc["r2", "conclusion"] == "failure"  # "FAILURE"
    assert runs.loc["r2", "attempt"] == 2  # "2" in JSON
    assert bool(runs.loc["r2", "is_default_branch"]) is False  # "no"
    assert list(frames["incidents"]["severity"]) == ["sev2", "sev4"]  # "SEV2"
    assert list(frames["coverage"]["line_coverage"]) == [81.5, 64.0]  # "64%"


def test_team_is_optional() -> None:
    frames = read(FIXTURES / "good").frames
    assert frames["changes"]["team"].isna().all()  # no team column at all
    deployments = frames["deployments"].set_index("id")
    assert deployments["team"].isna().tolist() == [False, True, False, False]  # empty cell
    assert deployments.loc["d1", "team"] == "Payments"


def test_labels_and_paths_are_split() -> None:
    changes = read(FIXTURES / "good").frames["changes"].set_index("id")
    assert changes.loc["c1", "labels"] == ["bug", "urgent"]
    assert changes.loc["c1", "paths"] == ["src/a.py", "prompts/x.txt"]
    assert changes.loc["c2", "labels"] == []
    assert changes.loc["c1", "title"] == 'Add retries, with "backoff"'


def test_jsonl_lists_are_kept(tmp_path: Path) -> None:
    write(
        tmp_path,
        "changes.jsonl",
        '{"id": "c1", "repo": "a/b", "merged_at": "2024-01-01T00:00:00Z",'
        ' "labels": ["needs review", "ai"], "paths": "x.py y.py"}\n',
    )
    changes = read(tmp_path).frames["changes"]
    assert changes["labels"].iloc[0] == ["needs review", "ai"]
    assert changes["paths"].iloc[0] == ["x.py", "y.py"]


def test_bad_rows_are_reported_with_file_and_line_and_counted() -> None:
    result = read(FIXTURES / "bad")
    assert result.skipped == 10
    assert "deployments.csv:3: finished_at: not a timestamp 'yesterday'" in result.problems
    assert any(
        p.startswith("deployments.csv:4: status: unknown value 'exploded'") for p in result.problems
    )
    assert "deployments.csv:5: id: missing required value" in result.problems
    assert "coverage.csv:2: line_coverage: outside 0..100 '120'" in result.problems
    assert "coverage.csv:4: line_coverage: not a number 'lots'" in result.problems
    assert list(result.frames["deployments"]["id"]) == ["ok1", "ok2"]
    assert list(result.frames["coverage"]["line_coverage"]) == [99.5]


def test_unknown_columns_are_reported_once_per_file() -> None:
    result = read(FIXTURES / "bad")
    unknown = [p for p in result.problems if "unknown column" in p]
    assert unknown == ["deployments.csv: ignoring unknown column(s): owner"]


def test_unknown_enum_and_invalid_json_lines_are_counted() -> None:
    result = read(FIXTURES / "bad")
    incident_problems = [p for p in result.problems if p.startswith("incidents.jsonl:")]
    assert [p.split(":")[1] for p in incident_problems] == ["2", "3", "4", "5"]
    assert incident_problems[0].startswith("incidents.jsonl:2: json: invalid JSON")
    assert "severity: unknown value 'critical'" in incident_problems[2]
    assert list(result.frames["incidents"]["id"]) == ["i1", "i5"]


def test_strict_makes_the_first_bad_row_fatal() -> None:
    with pytest.raises(FatalSourceError, match=r"deployments\.csv:3: finished_at: not a timestamp"):
        read(FIXTURES / "bad", strict=True)


def test_strict_override_from_sync(tmp_path: Path) -> None:
    write(tmp_path, "rollouts.csv", "service,at,strategy\nsvc,2024-01-01,sideways\n")
    cfg = source_config(name="local", kind="files", path=tmp_path)
    source = build_source(cfg, strict=True)
    assert isinstance(source, FilesSource)
    with pytest.raises(FatalSourceError, match=r"rollouts\.csv:2: strategy: unknown value"):
        source.read()


def test_line_numbers_survive_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        "changes.csv",
        'id,repo,title,merged_at\nc1,a/b,"two\nlines",2024-01-01\n\nc2,a/b,ok,never\n',
    )
    result = read(tmp_path)
    assert result.problems == ["changes.csv:5: merged_at: not a timestamp 'never'"]
    assert result.frames["changes"]["title"].tolist() == ["two\nlines"]


def test_rows_with_too_many_fields_are_bad_rows(tmp_path: Path) -> None:
    write(
        tmp_path,
        "rollouts.csv",
        "service,at,strategy\na,2024-01-01,canary\nb,2024-01-02,canary,x\n",
    )
    result = read(tmp_path)
    assert result.skipped == 1
    assert result.problems == ["rollouts.csv:3: row: expected 3 fields, got 4"]
    assert result.frames["rollouts"]["service"].tolist() == ["a"]


def test_missing_required_column_skips_the_file_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, "incidents.csv", "id,created_at\ni1,2024-01-01\ni2,2024-01-02\n")
    result = read(tmp_path)
    assert result.skipped == 2
    assert result.problems == [
        "incidents.csv: missing required column(s): severity; all 2 row(s) skipped"
    ]
    assert result.frames["incidents"].empty


def test_many_bad_rows_are_summarized(tmp_path: Path) -> None:
    rows = "".join(f"r{i},2024-01-01,bogus\n" for i in range(30))
    write(tmp_path, "rollouts.csv", "service,at,strategy\n" + rows)
    result = read(tmp_path)
    assert result.skipped == 30
    assert len(result.problems) == 21
    assert result.problems[-1] == "rollouts.csv: 10 more bad row(s) not shown"


def test_missing_directory_is_a_clear_fatal_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FatalSourceError, match=r"source 'local': directory not found: .*nope"):
        read(missing)


def test_non_utf8_file_is_fatal(tmp_path: Path) -> None:
    tmp_path.joinpath("rollouts.csv").write_bytes(
        b"service,at,strategy\ncaf\xe9,2024-01-01,canary\n"
    )
    with pytest.raises(FatalSourceError, match="not UTF-8"):
        read(tmp_path)


def test_empty_directory_is_reported_not_fatal(tmp_path: Path) -> None:
    result = read(tmp_path)
    assert result.frames == {}
    assert len(result.problems) == 1 and "no event files found" in result.problems[0]


def test_fetch_records_file_state_and_notices_unchanged_directory() -> None:
    cfg = source_config(name="local", kind="files", path=FIXTURES / "good")
    source = build_source(cfg)
    messages: list[str] = []
    now = datetime(2024, 3, 10, tzinfo=UTC)

    def ctx(state: dict[str, object]) -> FetchContext:
        return FetchContext(since=now, until=now, full=False, state=state, progress=messages.append)

    first = asyncio.run(source.fetch(ctx({})))
    assert set(first.state["files"]) >= {"deployments.csv", "deployments.jsonl"}
    second = asyncio.run(source.fetch(ctx(dict(first.state))))
    assert second.items == first.items  # always the full data
    assert messages[-1] == "no changes since the last sync"


def test_unsupported_and_unknown_kinds_are_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    # A kind the config knows but whose module does not exist (yet).
    monkeypatch.setattr(registry, "KNOWN_KINDS", (*registry.KNOWN_KINDS, "vaporware"))
    with pytest.raises(FatalSourceError, match="kind 'vaporware' is not supported yet"):
        build_source(source_config(name="v", kind="vaporware"))
    with pytest.raises(FatalSourceError, match="unknown kind 'nope'"):
        build_source(source_config(name="x", kind="nope"))


def test_incidents_read_their_impact_start(tmp_path: Path) -> None:
    write(
        tmp_path,
        "incidents.csv",
        "id,team,severity,created_at,started_at\n"
        "i1,Payments,sev2,2024-03-02T10:00:00Z,2024-03-02T07:30:00Z\n"
        "i2,Payments,sev3,2024-03-03T10:00:00Z,\n",
    )
    incidents = read(tmp_path).frames["incidents"].set_index("id")
    assert incidents.loc["i1", "started_at"] == pd.Timestamp("2024-03-02T07:30:00", tz=UTC)
    assert pd.isna(incidents.loc["i2", "started_at"])
