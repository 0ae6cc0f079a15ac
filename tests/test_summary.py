"""The overview summary: saved rows equal fresh rows; bad files are ignored."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import pytest

from scorecard import service, summary
from scorecard.request import ScoreRequest
from scorecard.tui.palette import Palette
from scorecard.tui.view import overview_cells

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


@cache
def demo() -> service.Scorecard:
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))


def cells(row: dict[str, object]) -> list[tuple[str, str, list[object]]]:
    palette = Palette.from_variables({})
    return [(str(c.style), c.plain, list(c.spans)) for c in overview_cells(row, palette)]


def written(tmp_path: Path) -> summary.Summary:
    path = tmp_path / "summaries" / "demo.json"
    summary.write(path, service.overview_summary(demo()))
    found = summary.read(path)
    assert found is not None
    return found


def test_saved_rows_paint_exactly_like_the_report(tmp_path: Path) -> None:
    report = demo().report
    saved = written(tmp_path)
    fresh = summary.rows_from_report(report)
    assert list(saved.rows) == [str(t) for t in report.table.index]
    assert saved.rows == fresh
    for team in report.table.index:
        assert cells(saved.rows[team]) == cells(fresh[team])
    # and the rows hold the scores
    assert all(row["grade"] for row in saved.rows.values())
    assert len(saved.rows["Payments"]["weekly_deploys"]) == 12


def test_header_facts(tmp_path: Path) -> None:
    saved = written(tmp_path)
    assert saved.org == "Acme (demo)"
    assert saved.as_of == AS_OF
    assert saved.window_days == 30
    assert saved.demo
    assert saved.failed_sources == ["gitlab"]
    assert saved.last_synced is not None


def test_a_saved_overview_carries_its_scoring_version(tmp_path: Path) -> None:
    from scorecard.scoring import SCORING_VERSION

    saved = written(tmp_path)
    assert saved.scoring_version == SCORING_VERSION
    assert json.loads((tmp_path / "summaries" / "demo.json").read_text())["scoring_version"] == (
        SCORING_VERSION
    )


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{not json",
        "[]",
        json.dumps({"kind": "something else", "schema": 1}),
        "SCHEMA",  # replaced below with a future schema
        "NOTEAMS",
        "BADROW",
        "BADTIME",
    ],
)
def test_bad_summaries_are_ignored(tmp_path: Path, content: str) -> None:
    good = service.overview_summary(demo())
    if content == "SCHEMA":
        content = json.dumps({**good, "schema": summary.SCHEMA + 1})
    elif content == "NOTEAMS":
        content = json.dumps({**good, "teams": []})
    elif content == "BADROW":
        content = json.dumps({**good, "teams": [{**good["teams"][0], "pressure": "high"}]})
    elif content == "BADTIME":
        content = json.dumps({**good, "as_of": "yesterday"})
    path = tmp_path / "s.json"
    path.write_text(content, encoding="utf-8")
    assert summary.read(path) is None
    assert summary.read(tmp_path / "missing.json") is None


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "summaries" / "demo.json"
    summary.write(path, service.overview_summary(demo()))
    summary.write(path, service.overview_summary(demo()))
    assert [p.name for p in path.parent.iterdir()] == ["demo.json"]
    assert json.loads(path.read_text(encoding="utf-8"))["schema"] == summary.SCHEMA


def test_cache_dir_matches_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scorecard import store

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "c"))
    assert summary.cache_dir() == store.cache_dir()
    monkeypatch.delenv("SCORECARD_CACHE_DIR")
    assert summary.cache_dir() == store.cache_dir()


def test_keys_tell_sessions_apart(tmp_path: Path) -> None:
    assert summary.summary_key(demo=True) == "demo"
    keys = {
        summary.summary_key(demo=True, window_days=7),
        summary.summary_key(demo=True, as_of=AS_OF),
        summary.summary_key(demo=False, config_path=tmp_path / "a.toml"),
        summary.summary_key(demo=False, config_path=tmp_path / "b.toml"),
        summary.summary_key(demo=False, config_path=tmp_path / "a.toml", window_days=90),
        summary.summary_key(demo=False, config_path=tmp_path / "a.toml", as_of=AS_OF),
    }
    assert len(keys) == 6
    assert summary.summary_key(demo=False) is None


def test_reading_a_summary_does_not_import_pandas(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    summary.write(path, service.overview_summary(demo()))
    code = (
        "import sys; from pathlib import Path; import scorecard.summary as s; "
        f"assert s.read(Path({str(path)!r})) is not None; print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
