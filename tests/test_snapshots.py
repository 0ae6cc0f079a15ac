"""Daily snapshots of the scored summary (SPEC §9): kept per day, pruned, never written
read-only; trends read them first and recompute only the weeks they miss.

``demo_card`` and ``seed_snapshots`` are shared with the report and trends tests:
the demo org is scored once per test session, and a year of snapshots is written
straight into month files (as a year of daily syncs would have left them).
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorecard import cli, service
from scorecard.config import TeamConfig
from scorecard.errors import StoreError
from scorecard.reports.history import load_history, snapshot_rows
from scorecard.request import ScoreRequest
from scorecard.scoring import SCORING_VERSION
from scorecard.snapshots import Snapshots, team_map_hash

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
TODAY = AS_OF.date()


@functools.cache
def demo_card() -> service.Scorecard:
    """The demo org scored as of ``AS_OF`` (built once per session)."""
    return service.demo_scorecard(ScoreRequest.resolve(as_of=AS_OF))


def seed_snapshots(root: Path, card: service.Scorecard, days: list[date]) -> None:
    """A snapshot for each of ``days`` as daily syncs would have kept: the card's rows
    with rigor sliding down towards today for flagged teams (so trends have a shape)."""
    base = snapshot_rows(card.report, card.config)
    frame = base.loc[base.index.repeat(len(days))].reset_index(drop=True)
    frame["day"] = [d.isoformat() for d in days] * len(base)
    age = np.array([(TODAY - d).days / 365 for d in days] * len(base))
    flagged = (frame["flags"] != "").to_numpy()
    frame["rigor"] = np.where(flagged, np.minimum(frame["rigor"] + 40 * age, 100), frame["rigor"])
    frame["gap"] = frame["pressure"] - frame["rigor"]
    mean = (frame["rigor"] + frame["stability"].fillna(frame["rigor"])) / 2
    frame["grade"] = np.select([mean >= 85, mean >= 70, mean >= 55, mean >= 40], list("ABCD"), "F")
    frame["flags"] = np.where(frame["gap"] >= 25, "outpacing", "")
    store = Snapshots(root)
    store.dir.mkdir(parents=True, exist_ok=True)
    for month, part in frame.groupby(frame["day"].str[:7]):
        part.reset_index(drop=True).to_parquet(store.dir / f"{month}.parquet", index=False)


def year_of_days(end: date = TODAY, count: int = 365) -> list[date]:
    return [end - timedelta(days=k) for k in range(count, 0, -1)]


# --------------------------------------------------------------------------- the store


def test_a_day_has_one_row_per_team_and_a_later_snapshot_replaces_it(tmp_path: Path) -> None:
    rows = pd.DataFrame({"team": ["Payments", "Search"], "gap": [10.0, -5.0]})
    kept = Snapshots(tmp_path)
    kept.write(date(2026, 3, 1), rows, keep_days=730)
    kept.write(date(2026, 3, 2), rows, keep_days=730)
    kept.write(date(2026, 3, 2), rows.assign(gap=[31.0, -4.0]), keep_days=730)
    found = kept.read()
    assert list(found["day"]) == ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02"]
    assert list(found[found["day"] == "2026-03-02"]["gap"]) == [31.0, -4.0]
    assert [p.name for p in kept.dir.iterdir()] == ["2026-03.parquet"]
    assert kept.days() == [date(2026, 3, 1), date(2026, 3, 2)]


def test_snapshots_older_than_snapshot_days_are_dropped(tmp_path: Path) -> None:
    kept = Snapshots(tmp_path)
    rows = pd.DataFrame({"team": ["Payments"], "gap": [1.0]})
    for day in (date(2025, 1, 10), date(2025, 2, 10), date(2025, 2, 20), date(2025, 3, 12)):
        kept.write(day, rows, keep_days=30)
    # 30 days before 2025-03-12 is 2025-02-10: January goes, 2025-02-10 stays
    assert kept.days() == [date(2025, 2, 10), date(2025, 2, 20), date(2025, 3, 12)]
    assert kept.months() == [(2025, 2), (2025, 3)]


def test_read_only_snapshots_write_nothing(tmp_path: Path) -> None:
    kept = Snapshots(tmp_path / "cache", read_only=True)
    assert kept.read().empty and kept.days() == []
    with pytest.raises(StoreError, match="read-only"):
        kept.write(TODAY, pd.DataFrame({"team": ["Payments"]}), keep_days=730)
    assert not (tmp_path / "cache").exists()


def test_team_map_hash_changes_when_a_repo_moves() -> None:
    teams = (TeamConfig("Payments", repos=("acme/pay",)), TeamConfig("Search", repos=("acme/s",)))
    moved = (dataclasses.replace(teams[0], repos=()), TeamConfig("Search", repos=("acme/s",)))
    assert team_map_hash(teams) == team_map_hash(tuple(reversed(teams)))  # order is no change
    assert team_map_hash(teams) != team_map_hash(moved)


# --------------------------------------------------------------------------- sync and snapshot


def test_sync_keeps_the_days_snapshot_and_snapshot_adds_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_readonly import demo_source_config

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    cfg, path = demo_source_config(tmp_path)
    assert cli.main(["-q", "sync", "--config", str(path), "--as-of", AS_OF.isoformat()]) == 0
    earlier = (AS_OF - timedelta(days=1)).isoformat()
    assert cli.main(["-q", "snapshot", "--config", str(path), "--as-of", earlier]) == 0
    found = Snapshots(tmp_path / "cache").read()
    assert sorted(set(found["day"])) == ["2026-11-25", "2026-11-26"]
    today = found[found["day"] == "2026-11-26"].set_index("team")
    assert len(today) == 10 and set(today["scoring_version"]) == {SCORING_VERSION}
    assert set(today["team_map_hash"]) == {team_map_hash(cfg.teams)}
    assert set(today["window_days"]) == {cfg.window_days}
    assert "outpacing" in today.loc["Payments", "flags"].split()
    assert today.loc["Payments", "reasons"].count(" | ") >= 2


def test_snapshot_without_a_cache_says_to_sync_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_readonly import demo_source_config

    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    _, path = demo_source_config(tmp_path)
    assert cli.main(["snapshot", "--config", str(path)]) == cli.EXIT_RUNTIME
    assert "run `scorecard sync` first" in capsys.readouterr().err


# --------------------------------------------------------------------------- history


def test_history_without_snapshots_is_recomputed_from_events_and_marked() -> None:
    card = demo_card()
    history = load_history(card, None, months=6, weekly=False, also=[TODAY - timedelta(days=7)])
    week_ago = history.at(TODAY - timedelta(days=7))
    assert set(week_ago["origin"]) == {"recomputed"} and len(week_ago) == 10
    assert history.recomputed_share() == pytest.approx(0.5)


def test_history_says_where_snapshots_were_scored_under_other_definitions(tmp_path: Path) -> None:
    card = demo_card()
    seed_snapshots(tmp_path, card, year_of_days(TODAY, 60))
    kept = Snapshots(tmp_path)
    older = kept.read(until=TODAY - timedelta(days=40))
    older = older.assign(scoring_version=SCORING_VERSION - 1, team_map_hash="0ld")
    for month, part in older.groupby(older["day"].str[:7]):
        rest = kept.read()
        rest = rest[(rest["day"].str[:7] == month) & ~rest["day"].isin(part["day"])]
        pd.concat([part, rest]).to_parquet(kept.dir / f"{month}.parquet", index=False)
    history = load_history(card, tmp_path, months=3, recompute=False)
    last_old = (TODAY - timedelta(days=40)).isoformat()
    assert history.definition_changes() == [
        f"scoring version {SCORING_VERSION - 1} (now {SCORING_VERSION}) until {last_old}",
        f"another team map until {last_old}",
    ]
