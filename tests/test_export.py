"""Exports: golden files on a small fixed dataset, formula neutralization, no tokens."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from scorecard import export, model, service
from scorecard.config import Config, TeamConfig
from scorecard.fs import atomic_write_text
from scorecard.scoring import SUMMARY_COLUMNS
from tests.source_config import source_config

GOLDEN = Path(__file__).parent / "golden"
AS_OF = pd.Timestamp("2024-03-01T00:00:00Z")
SENTINEL_TOKEN = "ghp_SENTINELtoken0123456789abcdef"


def _t(days: float, hours: float = 0) -> pd.Timestamp:
    return AS_OF - pd.Timedelta(days=days, hours=hours)


def small_report(hostile: bool = False):  # type: ignore[no-untyped-def]
    team_b = '=HYPERLINK("http://x")' if hostile else "Search"
    config = Config(
        path=None,
        org="Acme",
        teams=(
            TeamConfig(name="Payments", repos=("acme/pay",), services=("pay",)),
            TeamConfig(name=team_b, repos=("acme/search",), services=("search",)),
        ),
        sources=(source_config(name="gh", kind="files", path=Path(), token=SENTINEL_TOKEN),),
    )
    deploys = [
        # Payments: 4 successful prod deploys (2 canary), 1 failure, 1 staging.
        {
            "id": "p1",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "success",
            "strategy": "canary",
            "started_at": _t(20, 1),
            "finished_at": _t(20),
        },
        {
            "id": "p2",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "success",
            "strategy": "direct",
            "started_at": _t(10, 1),
            "finished_at": _t(10),
        },
        {
            "id": "p3",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "prod",
            "status": "success",
            "strategy": "canary",
            "started_at": _t(5, 1),
            "finished_at": _t(5),
        },
        {
            "id": "p4",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "success",
            "strategy": "rolling",
            "started_at": _t(2, 1),
            "finished_at": _t(2),
        },
        {
            "id": "p5",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "failure",
            "strategy": "direct",
            "started_at": _t(1, 1),
            "finished_at": _t(1),
            "is_rollback": True,
        },
        {
            "id": "p6",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "staging",
            "status": "success",
            "strategy": "direct",
            "started_at": _t(1, 1),
            "finished_at": _t(1),
        },
        # Previous window: 2 deploys, both canary.
        {
            "id": "p0",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "success",
            "strategy": "canary",
            "started_at": _t(40, 1),
            "finished_at": _t(40),
        },
        {
            "id": "p00",
            "repo": "acme/pay",
            "service": "pay",
            "environment": "production",
            "status": "success",
            "strategy": "canary",
            "started_at": _t(45, 1),
            "finished_at": _t(45),
        },
        {
            "id": "s1",
            "repo": "acme/search",
            "service": "search",
            "environment": "production",
            "status": "success",
            "strategy": "blue_green",
            "started_at": _t(3, 1),
            "finished_at": _t(3),
        },
    ]
    frames = {
        "deployments": model.frame_from_records("deployments", deploys),
        "changes": model.frame_from_records(
            "changes",
            [
                {
                    "id": "c1",
                    "repo": "acme/pay",
                    "title": "@SUM(A1:A9) fix",
                    "first_commit_at": _t(12),
                    "merged_at": _t(10, 3),
                },
            ],
        ),
        "incidents": model.frame_from_records(
            "incidents",
            [
                {
                    "id": "i1",
                    "service": "pay",
                    "title": "-1 errors +spike",
                    "severity": "sev2",
                    "created_at": _t(9, 20),
                    "resolved_at": _t(9, 18),
                },
                {
                    "id": "i2",
                    "service": "pay",
                    "title": "Explicitly linked",
                    "severity": "sev4",
                    "created_at": _t(4),
                    "resolved_at": None,
                    "deployment_id": "p3",
                },
            ],
        ),
        "coverage": model.frame_from_records(
            "coverage",
            [
                {"repo": "acme/pay", "measured_at": _t(35), "line_coverage": 80.0},
                {"repo": "acme/pay", "measured_at": _t(1), "line_coverage": 74.5},
            ],
        ),
        "ci_runs": model.frame_from_records(
            "ci_runs",
            [
                {
                    "id": f"r{i}",
                    "repo": "acme/pay",
                    "is_default_branch": True,
                    "conclusion": "success" if i % 4 else "failure",
                    "started_at": _t(i + 1),
                    "finished_at": _t(i + 1) + pd.Timedelta(minutes=10),
                }
                for i in range(8)
            ],
        ),
    }
    report = service.report_from_frames(
        frames, config, request=service.score_request(config, as_of=AS_OF, now=AS_OF)
    )
    return report


@pytest.mark.parametrize(
    ("fmt", "detail", "name"),
    [
        ("csv", "summary", "summary.csv"),
        ("json", "summary", "summary.json"),
        ("markdown", "summary", "summary.md"),
        ("csv", "incidents", "incidents.csv"),
        ("csv", "deployments", "deployments.csv"),
        ("csv", "weekly", "weekly.csv"),
    ],
)
def test_golden(fmt: str, detail: str, name: str) -> None:
    text = export.render(small_report(), fmt, detail)  # type: ignore[arg-type]
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_summary_columns_in_spec_order() -> None:
    rows = list(csv.reader(io.StringIO(export.render(small_report(), "csv"))))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    assert rows[0][:3] == ["team", "window_start", "window_end"]
    assert rows[0][-4:] == ["flags", "reasons", "incidents_unlinked", "detection_time_p50_hours"]


def test_hand_computed_values_in_csv() -> None:
    rows = {r["team"]: r for r in csv.DictReader(io.StringIO(export.render(small_report(), "csv")))}
    pay = rows["Payments"]
    assert pay["deploys"] == "4"  # p1..p4; p5 failed, p6 staging
    assert pay["canary_share"] == "0.5"  # p1, p3 of 4
    assert pay["velocity_trend"] == "1"  # 4 / 2 - 1
    # CFR: p5 failed + p3 (explicit i2) + p2 (i1 within 24 h) over 5 decided deploys
    assert pay["change_failure_rate"] == "0.6"
    assert pay["rework_rate"] == "0.2"
    assert pay["coverage_delta_pts"] == "-5.5"
    assert pay["incidents"] == "2" and pay["incidents_open"] == "1"
    # Empty metrics are blank cells, never 0.
    assert rows["Search"]["coverage_pct"] == ""
    assert rows["Search"]["incidents"] == ""


def test_incidents_detail_names_the_link_rule() -> None:
    rows = list(csv.DictReader(io.StringIO(export.render(small_report(), "csv", "incidents"))))
    rules = {r["id"]: (r["deployment_id"], r["link_rule"]) for r in rows}
    assert rules == {"i1": ("p2", "time"), "i2": ("p3", "explicit")}


def test_formulas_neutralized() -> None:
    text = export.render(small_report(hostile=True), "csv")
    rows = list(csv.reader(io.StringIO(text)))
    teams = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in teams
    for row in rows[1:]:
        for value in row:
            if value and not value.lstrip("-").replace(".", "", 1).isdigit():
                assert not value.startswith(("=", "+", "@", "\t", "\r")), value
    incidents = export.render(small_report(), "csv", "incidents")
    assert "'-1 errors +spike" in incidents


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_neutralize(value: str) -> None:
    assert export.neutralize(value) == "'" + value
    assert export.neutralize("plain") == "plain"


def test_negative_numbers_stay_numbers() -> None:
    rows = {r["team"]: r for r in csv.DictReader(io.StringIO(export.render(small_report(), "csv")))}
    assert rows["Payments"]["coverage_delta_pts"].startswith("-")
    assert float(rows["Payments"]["coverage_delta_pts"]) == -5.5


def test_json_is_strict_and_empty_is_null() -> None:
    doc = json.loads(export.render(small_report(), "json"))
    assert doc["as_of"] == "2024-03-01T00:00:00Z"
    search = next(r for r in doc["rows"] if r["team"] == "Search")
    assert search["coverage_pct"] is None
    assert isinstance(search["flags"], list)
    assert list(search)[: len(SUMMARY_COLUMNS)] == list(SUMMARY_COLUMNS)


def test_markdown_escapes_team_names() -> None:
    config_text = export.md_escape("a|b [x](y) *z*")
    assert "|" not in config_text.replace("\\|", "")
    assert config_text == "a\\|b \\[x\\](y) \\*z\\*"


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
@pytest.mark.parametrize("detail", ["summary", "weekly", "incidents", "deployments"])
def test_tokens_never_exported(fmt: str, detail: str) -> None:
    text = export.render(small_report(), fmt, detail)  # type: ignore[arg-type]
    assert SENTINEL_TOKEN not in text
    assert text.strip()


def test_exports_are_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.csv"
    atomic_write_text(target, "a,b\n")
    assert target.read_text() == "a,b\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.csv"]
