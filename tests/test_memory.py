"""What the memory savings of the scoring path must not change.

The cache is read for a scorecard without the deployments' commit SHAs and
URLs (read only when a deployments detail table is built), deployment ids are
matched as Arrow strings, and the staleness check pairs sources and teams by
category codes. Each of these must give exactly what the plain way gives.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from scorecard import demo, export, metrics, service
from scorecard.metrics import joins
from scorecard.request import ScoreRequest
from scorecard.sources.contract import SourceResult
from scorecard.store import Store


@pytest.fixture(scope="module")
def org() -> demo.DemoOrg:
    return demo.demo_org(datetime(2026, 3, 2, 12, tzinfo=timezone.utc))


def _cache(root, org: demo.DemoOrg) -> Store:
    """The demo org's events, one cached source per demo source."""
    store = Store(root)
    names = sorted({str(s) for f in org.frames.values() for s in f["source"].dropna().unique()})
    for name in names:
        frames = {
            kind: frame[frame["source"].astype(object) == name].reset_index(drop=True)
            for kind, frame in org.frames.items()
        }
        kind = org.config.source(name).kind
        store.write_source(name, kind, SourceResult(frames=frames), attempted_at=org.as_of)
    return store


def _without_classes(org: demo.DemoOrg):
    return dataclasses.replace(org.config, change_classes=())


def test_deployments_detail_reads_deferred_columns(tmp_path, org) -> None:
    config = _without_classes(org)
    assert "commit_sha" not in (service.columns_to_load(config) or {})["deployments"]
    store = _cache(tmp_path, org)
    card = service.cached_scorecard(
        config, store, service.score_request(config, as_of=org.as_of, now=org.as_of)
    )
    assert "url" not in card.report.prepared.deployments.columns

    frames = store.load(sources=list(store.statuses()))
    full = service.report_from_frames(
        frames,
        config,
        request=service.score_request(config, as_of=org.as_of, now=org.as_of),
        statuses=store.statuses(),
    )
    for detail in export.DETAILS:
        pd.testing.assert_frame_equal(
            export.detail_frame(card.report, detail), export.detail_frame(full, detail)
        )
    rows = metrics.deployment_rows(card.report.prepared, card.report.start, card.report.as_of)
    expected = metrics.deployment_rows(full.prepared, full.start, full.as_of)
    pd.testing.assert_frame_equal(rows, expected)
    assert rows["commit_sha"].notna().any() and rows["url"].notna().any()
    assert export.render(card.report, "csv", "deployments") == export.render(
        full, "csv", "deployments"
    )


def test_deferred_columns_follow_ids_when_the_cache_changed(tmp_path, org) -> None:
    config = _without_classes(org)
    store = _cache(tmp_path, org)
    card = service.cached_scorecard(
        config, store, service.score_request(config, as_of=org.as_of, now=org.as_of)
    )
    prep = card.report.prepared
    full = store.load(["deployments"], sources=list(store.statuses()))["deployments"]
    # A sync between scoring and the export: rows in another order, one gone.
    changed = full.iloc[::-1].iloc[1:].reset_index(drop=True)
    gone = full["id"].iloc[-1]
    metrics.defer_columns(prep, ["commit_sha", "url"], lambda: changed)
    rows = metrics.deployment_rows(prep, card.report.start, card.report.as_of)
    by_id = full.set_index("id")
    for _, row in rows.iterrows():
        if row["id"] == gone:
            assert row["url"] is None and row["commit_sha"] is None
        else:
            assert row["url"] == by_id.at[row["id"], "url"]
            assert row["commit_sha"] == by_id.at[row["id"], "commit_sha"]


def test_nothing_is_deferred_with_change_classes(tmp_path, org) -> None:
    store = _cache(tmp_path, org)
    card = service.cached_scorecard(
        org.config, store, service.score_request(org.config, as_of=org.as_of, now=org.as_of)
    )
    assert {"commit_sha", "url"} <= set(card.report.prepared.deployments.columns)
    assert not card.report.prepared.deferred


def _plain_last(ids: list, wanted: list, among: list[bool] | None = None) -> list[int]:
    out = []
    for w in wanted:
        hit = -1
        if w is not None and not (isinstance(w, float) and np.isnan(w)):
            for row, value in enumerate(ids):
                if value == w and (among is None or among[row]):
                    hit = row
        out.append(hit)
    return out


@pytest.mark.parametrize(
    ("ids", "wanted"),
    [
        (["a", "b", "c"], ["c", "a", "x", None, "b"]),
        (["a", "b", "a", None, "b"], ["a", "b", None, "z", "a"]),
        ([], ["a"]),
        (["a", "é", "日本"], ["日本", "é", np.nan]),
        ([1, "1", 2], ["1", 1, 3]),  # not all text: compared as objects
    ],
)
def test_ids_last_occurrence(ids, wanted) -> None:
    lookup = joins.Ids(pd.Series(ids, dtype=object))
    got = lookup.last(pd.Series(wanted, dtype=object))
    assert got.tolist() == _plain_last(ids, wanted)
    if ids:
        among = [i % 2 == 0 for i in range(len(ids))]
        got = lookup.last(pd.Series(wanted, dtype=object), among=np.array(among))
        assert got.tolist() == _plain_last(ids, wanted, among)


def test_ids_with_colliding_hashes(monkeypatch) -> None:
    calls: list[int] = []

    def colliding(values: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
        calls.append(len(values))
        return np.zeros(len(values), np.uint64)

    monkeypatch.setattr(joins, "id_hashes", colliding)
    ids = ["a", "b", "a", "c", None]
    wanted = ["a", "c", "b", "x", None]
    lookup = joins.Ids(pd.Series(ids, dtype=object))
    assert lookup.last(pd.Series(wanted, dtype=object)).tolist() == _plain_last(ids, wanted)
    among = np.array([True, False, True, False, True])
    got = lookup.last(pd.Series(wanted, dtype=object), among=among)
    assert got.tolist() == _plain_last(ids, wanted, among.tolist())
    assert calls, "the lookup did not hash through the patched function: nothing collided"


def _plain_pairs(prep) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for frame in (prep.deployments, prep.changes, prep.ci_runs, prep.coverage, prep.incidents):
        pairs = frame[["source", "team"]].dropna().drop_duplicates()
        for source, team in zip(pairs["source"].astype(str), pairs["team"].astype(str)):
            out.setdefault(source, set()).add(team)
    return out


def test_teams_by_source_matches_plain_pairs(org) -> None:
    prep = service.demo_scorecard(ScoreRequest.resolve(as_of=org.as_of)).report.prepared
    assert service.teams_by_source(prep) == _plain_pairs(prep)
    # Text columns (not categorical) give the same answer.
    as_text = dataclasses.replace(
        prep,
        deployments=prep.deployments.astype({"source": object, "team": object}),
    )
    assert service.teams_by_source(as_text) == _plain_pairs(prep)


def test_teams_by_source_skips_empty_and_unused(org) -> None:
    source = pd.Series(pd.Categorical(["gh", None, "gh", "pd"], categories=["gh", "pd", "x"]))
    team = pd.Series(pd.Categorical(["a", "b", None, "c"], categories=["a", "b", "c", "d"]))
    assert sorted(service._source_team_pairs(source, team, chunk=1)) == [("gh", "a"), ("pd", "c")]


def test_staleness_is_unchanged_after_a_gap(tmp_path, org) -> None:
    config = _without_classes(org)
    store = _cache(tmp_path, org)
    later = org.as_of + timedelta(days=3)
    card = service.cached_scorecard(
        config, store, service.score_request(config, as_of=org.as_of, now=later)
    )
    frames = store.load(sources=list(store.statuses()))
    full = service.report_from_frames(
        frames,
        config,
        request=service.score_request(config, as_of=org.as_of, now=later),
        statuses=store.statuses(),
    )
    pd.testing.assert_frame_equal(card.report.table, full.table)
