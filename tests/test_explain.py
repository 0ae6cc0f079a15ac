"""SPEC §13: `explain` takes every summary metric apart, and its rows make the number.

The property: for every metric of every team, the aggregate of the counted rows
is exactly the exported value, on random event sets and on the demo org. The
rules: each row says why it counted (deploy-explicit / deploy-after-merge,
incident-explicit / incident-time / unlinked, rollout samples, production).
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecard import cli, export, metrics, service
from scorecard.demo import DemoOrg, demo_org
from scorecard.errors import UsageError
from scorecard.metrics import EXPLAIN_COLUMNS, EXPLAINABLE
from scorecard.scoring import SCORING_VERSION, SUMMARY_COLUMNS
from tests.helpers import (
    AS_OF,
    OTHER,
    REPO,
    TEAM,
    WINDOW_DAYS,
    Event,
    ago,
    change,
    coverage,
    deploy,
    incident,
    prepared,
    rollout,
    team_metrics_of,
)
from tests.test_metrics_properties import event_sets

DEMO_AS_OF = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo() -> DemoOrg:
    return demo_org(DEMO_AS_OF)


@pytest.fixture(scope="module")
def demo_card(demo: DemoOrg) -> service.Scorecard:
    """The demo scored as `scorecard export --demo --as-of 2026-11-26T12:00:00Z` scores it."""
    request = service.score_request(demo.config, as_of=demo.as_of, now=demo.as_of)
    report = service.report_from_frames(
        demo.frames, demo.config, request=request, statuses=demo.statuses
    )
    return service.Scorecard(report, demo.config, demo.statuses, demo=True)


def same(expected: float, found: float) -> bool:
    if pd.isna(expected) or pd.isna(found):
        return bool(pd.isna(expected) and pd.isna(found))
    return math.isclose(expected, found, rel_tol=1e-9, abs_tol=1e-9)


def explained(prep: metrics.Prepared, team: str, metric: str) -> metrics.Explanation:
    return metrics.explain(prep, team, metric, AS_OF, WINDOW_DAYS)


# --------------------------------------------------------------------------- the property


@st.composite
def richer_event_sets(draw: st.DrawFn) -> list[Event]:
    """The metrics properties' events plus coverage samples and impact starts."""
    events = draw(event_sets())
    out: list[Event] = []
    for kind, record in events:
        if kind == "incidents":
            lead = draw(st.one_of(st.none(), st.integers(min_value=-5, max_value=72)))
            if lead is not None:
                record = {**record, "started_at": record["created_at"] - pd.Timedelta(hours=lead)}
        out.append((kind, record))
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        hours = draw(st.integers(min_value=-24, max_value=24 * 62))
        team, repo = draw(st.sampled_from([(TEAM, REPO), (OTHER, "acme/search"), (TEAM, "x/y")]))
        pct = draw(st.floats(min_value=0, max_value=100, allow_nan=False))
        out.append(
            coverage(pct, at=ago(hours=hours) + pd.Timedelta(seconds=i), repo=repo, team=team)
        )
    return out


@settings(max_examples=8, deadline=None, derandomize=True)
@given(richer_event_sets(), st.sampled_from([TEAM, OTHER]), st.booleans())
def test_counted_rows_reproduce_every_metric_on_random_data(
    events: list[Event], team: str, synced_sources: bool
) -> None:
    prep = prepared(*events)
    if synced_sources:  # a pager covering TEAM, a deploy source covering OTHER
        prep = metrics.with_coverage(prep, {"incidents": {TEAM}, "deployments": {OTHER}})
    table = team_metrics_of(prep).current
    for metric in EXPLAINABLE:
        found = explained(prep, team, metric)
        assert list(found.rows.columns) == list(EXPLAIN_COLUMNS)
        again = metrics.aggregate(
            found.aggregate, found.rows, start=found.start, end=found.end, covered=found.covered
        )
        assert same(table.loc[team, metric], found.value), (team, metric)
        assert same(found.value, again), (team, metric)


def test_counted_rows_reproduce_every_exported_metric_of_the_demo(
    demo_card: service.Scorecard,
) -> None:
    summary = demo_card.report.summary().set_index("team")
    assert set(EXPLAINABLE) <= set(SUMMARY_COLUMNS)
    # an outpacing, an unstable and a stale team (every metric of all ten: a few seconds more)
    for team in ("Payments", "Checkout", "Mobile API"):
        for metric in EXPLAINABLE:
            found = service.explain(demo_card, team, metric)
            assert same(float(summary.loc[team, metric]), found.value), (team, metric)


# --------------------------------------------------------------------------- the rules


def test_change_rows_say_how_their_deployment_was_found() -> None:
    prep = prepared(
        deploy("d1", at=ago(days=5)),
        deploy("d2", at=ago(days=3)),
        change("named", merged_at=ago(days=6), first_commit_at=ago(days=7), deployment_id="d2"),
        change("timed", merged_at=ago(days=4), first_commit_at=ago(days=4, hours=10)),
        change("late", merged_at=ago(days=4), first_commit_at=ago(days=2), deployment_id="d2"),
    )
    rows = explained(prep, TEAM, "lead_time_p50_hours").rows.set_index("id")
    assert rows.loc["named", "rule"] == "deploy-explicit"
    assert "d2" in rows.loc["named", "detail"] and "names it" in rows.loc["named", "detail"]
    assert rows.loc["named", "value"] == pytest.approx(96.0)
    assert rows.loc["timed", "rule"] == "deploy-after-merge"
    assert "d2" in rows.loc["timed", "detail"] and REPO in rows.loc["timed", "detail"]
    assert rows.loc["late", "rule"] == "negative" and not rows.loc["late", "counted"]
    assert rows.loc["late", "value"] == pytest.approx(-24.0)


def test_failure_rows_name_the_incidents_and_the_rule_that_linked_them() -> None:
    prep = prepared(
        deploy("ok", at=ago(days=9)),
        deploy("named", at=ago(days=7)),
        deploy("timed", at=ago(days=5)),
        deploy("failed", at=ago(days=4), status="failure"),
        deploy("staged", at=ago(days=3), environment="staging"),
        incident("INC-1", at=ago(days=1), deployment_id="named"),
        incident("INC-2", at=ago(days=4, hours=20)),
    )
    found = explained(prep, TEAM, "change_failure_rate")
    rows = found.rows.set_index("id")
    assert dict(rows["rule"]) == {
        "ok": "ok",
        "named": "incident-explicit",
        "timed": "incident-time",
        "failed": "failure",
    }
    assert "INC-1" in rows.loc["named", "detail"] and "INC-2" in rows.loc["timed", "detail"]
    assert found.value == pytest.approx(0.75)
    assert "environment 'production'" in rows.loc["ok", "detail"]


def test_incident_rows_say_which_rule_linked_them_or_that_none_did() -> None:
    prep = prepared(
        deploy("d1", at=ago(days=5)),
        incident("explicit", at=ago(days=2), deployment_id="d1"),
        incident("timed", at=ago(days=4, hours=22)),
        incident("lonely", at=ago(days=1)),
    )
    found = explained(prep, TEAM, "incidents_unlinked")
    rows = found.rows.set_index("id")
    assert dict(rows["rule"]) == {"explicit": "explicit", "timed": "time", "lonely": "unlinked"}
    assert dict(rows["counted"]) == {"explicit": False, "timed": False, "lonely": True}
    assert "unlinked" in rows.loc["lonely", "detail"] and "d1" in rows.loc["timed", "detail"]
    assert found.value == 1


def test_detection_time_is_created_minus_impact_start() -> None:
    early = incident("i1", at=ago(days=2))
    late = incident("i2", at=ago(days=1))
    none = incident("i3", at=ago(days=1))
    early[1]["started_at"] = ago(days=2, hours=3)
    late[1]["started_at"] = ago(days=1, hours=9)
    found = explained(prepared(deploy("d", at=ago(days=9)), early, late, none), TEAM,
                      "detection_time_p50_hours")  # fmt: skip
    assert dict(found.rows.set_index("id")["counted"]) == {"i1": True, "i2": True, "i3": False}
    assert found.value == pytest.approx(6.0)


def test_strategy_rows_name_the_rollout_sample_that_resolved_an_unknown_strategy() -> None:
    prep = prepared(
        rollout("canary", at=ago(days=6)),
        deploy("d1", at=ago(days=5), strategy="unknown"),
        deploy("d2", at=ago(days=4), strategy="rolling"),
        deploy("d3", at=ago(days=3), strategy="canary", environment="staging"),
    )
    found = explained(prep, TEAM, "canary_share")
    rows = found.rows.set_index("id")
    assert list(rows.index) == ["d1", "d2"]
    assert rows.loc["d1", "rule"] == "rollout-sample" and rows.loc["d2", "rule"] == "own-field"
    assert str(ago(days=6).strftime("%Y-%m-%d %H:%M")) in rows.loc["d1", "detail"]
    assert found.value == pytest.approx(0.5)
    deploys = explained(prep, TEAM, "deploys").rows.set_index("id")
    assert deploys.loc["d3", "rule"] == "not-production" and not deploys.loc["d3", "counted"]


def test_a_metric_that_is_not_a_summary_metric_is_refused() -> None:
    with pytest.raises(KeyError):
        explained(prepared(), TEAM, "pressure")


# --------------------------------------------------------------------------- empty versus zero


def test_a_covered_team_without_events_has_zero_and_an_uncovered_one_is_empty() -> None:
    prep = prepared(deploy("d1", at=ago(days=3)), deploy("d2", at=ago(days=2), team=OTHER))
    table = team_metrics_of(prep).current
    assert pd.isna(table.loc[TEAM, "incidents"]) and pd.isna(table.loc[OTHER, "incidents"])
    covered = metrics.covered_kinds(
        [metrics.SourceCoverage("pager", frozenset({"incidents"}), frozenset({TEAM}))]
    )
    table = team_metrics_of(metrics.with_coverage(prep, covered)).current
    assert table.loc[TEAM, "incidents"] == 0 and table.loc[TEAM, "incidents_unlinked"] == 0
    assert pd.isna(table.loc[OTHER, "incidents"])
    assert explained(metrics.with_coverage(prep, covered), TEAM, "incidents_open").value == 0


def test_a_quiet_team_counts_zero_only_while_a_synced_pager_covers_it(demo: DemoOrg) -> None:
    frames = dict(demo.frames)
    frames["incidents"] = frames["incidents"][frames["incidents"]["team"] != "Search"]
    request = service.score_request(demo.config, as_of=demo.as_of, now=demo.as_of)
    never = dict(demo.statuses)
    never["pagerduty"] = replace(never["pagerduty"], last_success_at=None)
    report = service.report_from_frames(frames, demo.config, request=request, statuses=never)
    assert pd.isna(report.table.loc["Search", "incidents"])
    coverage = service.source_coverage(demo.config, demo.statuses, report.prepared)
    pager = next(c for c in coverage if c.name == "pagerduty")
    assert "incidents" in pager.kinds and "Search" in pager.teams


# --------------------------------------------------------------------------- the command


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_command_writes_csv_with_the_spec_columns(
    capsys: pytest.CaptureFixture[str], demo_card: service.Scorecard
) -> None:
    code, out, _ = run(capsys, "explain", "--demo", "payments", "deploys", "--format", "csv",
                       "--as-of", "2026-11-26T12:00:00Z")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == EXPLAIN_COLUMNS
    counted = [r for r in rows if r["counted"] == "true"]
    assert len(counted) == demo_card.report.table.loc["Payments", "deploys"]


def test_explain_command_json_carries_the_scoring_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "explain", "--demo", "Checkout", "change_failure_rate",
                       "--format", "json", "--as-of", "2026-11-26T12:00:00Z")  # fmt: skip
    doc = json.loads(out)
    assert code == 0 and doc["scoring_version"] == SCORING_VERSION
    assert doc["team"] == "Checkout" and doc["aggregate"] == "mean"
    values = [r["value"] for r in doc["rows"] if r["counted"]]
    assert doc["value"] == pytest.approx(sum(values) / len(values))


def test_explain_table_and_its_usage_errors(demo_card: service.Scorecard) -> None:
    found = service.explain(demo_card, "Payments", "incidents")
    text = export.render_explanation(found, "table")
    assert text.startswith("Payments · incidents = ")
    assert "kind" in text and "detail" in text
    with pytest.raises(UsageError, match="a score"):
        service.explain(demo_card, "Payments", "pressure")
    with pytest.raises(UsageError, match="no team 'Nobody'"):
        service.explain(demo_card, "Nobody", "deploys")


def test_explain_csv_neutralizes_formulas() -> None:
    prep = prepared(deploy("=HYPERLINK(1)", at=ago(days=1)))
    text = export.render_explanation(explained(prep, TEAM, "deploys"), "csv")
    assert "'=HYPERLINK(1)" in text


def test_explain_offline_reads_the_cached_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring reads the cache without change ids; explain reads them again."""
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(Path(__file__).parent / "fixtures" / "files" / "good", tmp_path / "exports")
    config = tmp_path / "scorecard.toml"
    config.write_text(
        '[sources.local]\nkind = "files"\npath = "exports/"\n\n'
        '[[teams]]\nname = "Payments"\nrepos = ["acme/payments-api"]\n'
        'services = ["payments-api"]\n',
        encoding="utf-8",
    )
    assert run(capsys, "sync", "--config", str(config), "-q")[0] == 0
    flags = ["--config", str(config), "--offline", "--as-of", "2024-03-10", "--format", "json"]
    code, out, _ = run(capsys, "explain", "Payments", "lead_time_p50_hours", *flags)
    doc = json.loads(out)
    assert code == 0 and doc["value"] == pytest.approx(48.2)  # first commit to d1's finish
    assert [(r["id"], r["rule"]) for r in doc["rows"]] == [("c1", "deploy-explicit")]
