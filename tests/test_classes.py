"""Change classes: membership by each matcher, gated share, the `ungated-<class>` flag.

Every expected value is worked out by hand from the few events of each test
(times relative to ``AS_OF``, window of 30 days).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scorecard import classes, export, scoring, service
from scorecard.config import ChangeClassConfig, Config, TeamConfig
from scorecard.request import ScoreRequest
from tests.helpers import (
    AS_OF,
    OTHER,
    OTHER_REPO,
    OTHER_SERVICE,
    REPO,
    SERVICE,
    TEAM,
    Event,
    ago,
    change,
    ci_run,
    deploy,
    frames,
    incident,
    prepared,
)

AI = ChangeClassConfig(name="ai", labels=("prompt",), required_workflow="evals")
CONFIG_TEAMS = (
    TeamConfig(name=TEAM, repos=(REPO,), services=(SERVICE,)),
    TeamConfig(name=OTHER, repos=(OTHER_REPO,), services=(OTHER_SERVICE,)),
)


def members(cls: ChangeClassConfig, *events: Event) -> set[str]:
    """Ids of the deployments that belong to ``cls``."""
    prep = prepared(*events)
    table = classes.membership(prep, [cls])
    return set(prep.deployments.loc[table[cls.name], "id"])


def report(*events: Event, change_classes: tuple[ChangeClassConfig, ...] = (AI,)) -> Any:
    config = Config(path=None, org="Acme", teams=CONFIG_TEAMS, change_classes=change_classes)
    return service.report_from_frames(
        frames(events), config, request=service.score_request(config, as_of=AS_OF, now=AS_OF)
    )


def class_row(rep: Any, cls: str = "ai", team: str = TEAM) -> pd.Series:
    rows = rep.classes[(rep.classes["team"] == team) & (rep.classes["class"] == cls)]
    assert len(rows) == 1, rep.classes
    return rows.iloc[0]


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("prompts/**", "prompts/ranker.yaml", True),
        ("prompts/**", "prompts/a/b/c.txt", True),
        ("prompts/**", "src/prompts/ranker.yaml", False),
        ("prompts/**", "prompts", False),
        ("prompts/*", "prompts/ranker.yaml", True),
        ("prompts/*", "prompts/a/ranker.yaml", False),  # * stays within a directory
        ("**/*.prompt", "a.prompt", True),  # **/ also matches no directory
        ("**/*.prompt", "x/y/a.prompt", True),
        ("**/*.prompt", "x/y/a.prompt.bak", False),
        ("models/**/config.json", "models/config.json", True),
        ("models/**/config.json", "models/ranker/v2/config.json", True),
        ("models/**/config.json", "models/ranker/config.yaml", False),
        ("model?.py", "model1.py", True),
        ("model?.py", "model/.py", False),
        ("evals/[!t]*.py", "evals/run.py", True),
        ("evals/[!t]*.py", "evals/test.py", False),
        ("data/v[12].csv", "data/v2.csv", True),
        ("/prompts/*.md", "prompts/a.md", True),  # a leading / anchors at the repo root
        ("a.b", "axb", False),  # dots are literal
        ("a+b(c)", "a+b(c)", True),
    ],
)
def test_glob_to_regex(glob: str, path: str, hit: bool) -> None:
    assert (re.fullmatch(classes.glob_to_regex(glob), path) is not None) is hit


# --------------------------------------------------------------------------- membership


def test_member_by_repo() -> None:
    cls = ChangeClassConfig(name="ai", repos=(REPO,))
    events = (
        deploy("d1", at=ago(days=1)),
        deploy("d2", at=ago(days=1), repo=OTHER_REPO, service=OTHER_SERVICE, team=OTHER),
    )
    assert members(cls, *events) == {"d1"}


def test_member_by_service() -> None:
    cls = ChangeClassConfig(name="ai", services=("ranker",))
    events = (deploy("d1", at=ago(days=1), service="ranker"), deploy("d2", at=ago(days=1)))
    assert members(cls, *events) == {"d1"}


def test_member_by_label_case_insensitive() -> None:
    cls = ChangeClassConfig(name="ai", labels=("Prompt",))
    events = (
        deploy("d1", at=ago(days=3)),
        deploy("d2", at=ago(days=2)),
        deploy("d3", at=ago(days=1)),
        change("c1", merged_at=ago(days=4), deployment_id="d1", labels=["bug", "prompt"]),
        change("c2", merged_at=ago(days=4), deployment_id="d2", labels=["bug"]),
        change("c3", merged_at=ago(days=4), deployment_id="d3"),
    )
    assert members(cls, *events) == {"d1"}


def test_member_by_label_through_the_repo_fallback_link() -> None:
    # No deployment_id: the change ships with the first deploy of its repo after the merge.
    cls = ChangeClassConfig(name="ai", labels=("model",))
    events = (
        deploy("d1", at=ago(days=5)),
        deploy("d2", at=ago(days=3)),
        deploy("d3", at=ago(days=1)),
        change("c1", merged_at=ago(days=4), labels=["model"]),
    )
    assert members(cls, *events) == {"d2"}


def test_member_by_path_glob() -> None:
    cls = ChangeClassConfig(name="ai", paths=("prompts/**", "**/*.onnx"))
    events = (
        deploy("d1", at=ago(days=4)),
        deploy("d2", at=ago(days=3)),
        deploy("d3", at=ago(days=2)),
        deploy("d4", at=ago(days=1)),
        change("c1", merged_at=ago(days=5), deployment_id="d1", paths=["prompts/rank/v2.txt"]),
        change("c2", merged_at=ago(days=5), deployment_id="d2", paths=["src/app.py", "w.onnx"]),
        change("c3", merged_at=ago(days=5), deployment_id="d3", paths=["src/prompts/x.txt"]),
        change("c4", merged_at=ago(days=5), deployment_id="d4", paths=["README.md"]),
    )
    assert members(cls, *events) == {"d1", "d2"}


def test_member_by_title_pattern() -> None:
    cls = ChangeClassConfig(name="ai", title_patterns=("^Prompt:", "(?i)model (bump|update)"))
    events = (
        deploy("d1", at=ago(days=3)),
        deploy("d2", at=ago(days=2)),
        deploy("d3", at=ago(days=1)),
        change("c1", merged_at=ago(days=4), deployment_id="d1", title="Prompt: be terse"),
        change("c2", merged_at=ago(days=4), deployment_id="d2", title="ranker MODEL Bump to v3"),
        change("c3", merged_at=ago(days=4), deployment_id="d3", title="Fix prompt: typo"),
    )
    assert members(cls, *events) == {"d1", "d2"}


def test_any_matching_change_makes_the_deploy_a_member() -> None:
    cls = ChangeClassConfig(name="ai", labels=("prompt",))
    events = (
        deploy("d1", at=ago(days=1)),
        change("c1", merged_at=ago(days=2), deployment_id="d1"),
        change("c2", merged_at=ago(days=2), deployment_id="d1", labels=["prompt"]),
    )
    assert members(cls, *events) == {"d1"}


def test_failed_attempt_and_its_retry_of_the_same_commit_are_members() -> None:
    # c1 names the failed attempt d1; it ships with d2; d1 and d2 deploy the same commit.
    cls = ChangeClassConfig(name="ai", labels=("prompt",))
    events = (
        deploy("d1", at=ago(days=2), status="failure", commit_sha="abc"),
        deploy("d2", at=ago(days=1), commit_sha="abc"),
        deploy("d3", at=ago(hours=5), commit_sha="def"),
        change("c1", merged_at=ago(days=3), deployment_id="d1", labels=["prompt"]),
    )
    assert members(cls, *events) == {"d1", "d2"}


def test_no_classes_no_rows() -> None:
    rep = report(deploy("d1", at=ago(days=1)), change_classes=())
    assert rep.classes.empty
    assert list(rep.classes.columns) == list(classes.CLASS_COLUMNS)
    assert not any(f.startswith("ungated") for f in rep.table.loc[TEAM, "flags"])


# --------------------------------------------------------------------------- gated share


def gated_ids(*events: Event, workflow: str = "evals") -> set[str]:
    prep = prepared(*events)
    return set(prep.deployments.loc[classes.gated(prep, workflow), "id"])


def test_gated_needs_a_pass_on_the_same_commit_before_the_deploy() -> None:
    start = ago(days=1)  # every deploy below starts here (and finishes 5 minutes later)
    events = (
        deploy("before", at=start + pd.Timedelta(minutes=5), commit_sha="s1"),
        ci_run("r1", at=start - pd.Timedelta(hours=1), workflow="evals", commit_sha="s1"),
        deploy("at-start", at=start + pd.Timedelta(minutes=5), commit_sha="s2"),
        ci_run("r2", at=start, workflow="evals", commit_sha="s2"),  # finished at start: counts
        deploy("after", at=start + pd.Timedelta(minutes=5), commit_sha="s3"),
        ci_run("r3", at=start + pd.Timedelta(minutes=1), workflow="evals", commit_sha="s3"),
        deploy("failed-run", at=start + pd.Timedelta(minutes=5), commit_sha="s4"),
        ci_run("r4", at=ago(days=2), workflow="evals", commit_sha="s4", conclusion="failure"),
        deploy("other-sha", at=start + pd.Timedelta(minutes=5), commit_sha="s5"),
        ci_run("r5", at=ago(days=2), workflow="evals", commit_sha="s5-not"),
        deploy("other-workflow", at=start + pd.Timedelta(minutes=5), commit_sha="s6"),
        ci_run("r6", at=ago(days=2), workflow="ci", commit_sha="s6"),
        deploy("retried", at=start + pd.Timedelta(minutes=5), commit_sha="s7"),
        ci_run("r7a", at=ago(days=2), workflow="evals", commit_sha="s7", conclusion="failure"),
        ci_run("r7b", at=ago(days=1, hours=12), workflow="evals", commit_sha="s7"),
        deploy("nothing", at=start + pd.Timedelta(minutes=5), commit_sha="s8"),
    )
    assert gated_ids(*events) == {"before", "at-start", "retried"}


def test_gated_workflow_name_is_case_insensitive() -> None:
    events = (
        deploy("d1", at=ago(days=1), commit_sha="s1"),
        ci_run("r1", at=ago(days=2), workflow="Evals", commit_sha="s1"),
    )
    assert gated_ids(*events, workflow="evals") == {"d1"}


def test_gated_unfinished_deploy_uses_its_start() -> None:
    events = (
        deploy("d1", at=None, started_at=ago(hours=2), status="in_progress", commit_sha="s1"),
        ci_run("r1", at=ago(hours=3), workflow="evals", commit_sha="s1"),
    )
    assert gated_ids(*events) == {"d1"}


def test_gated_share_and_comparison_values() -> None:
    # Class (label prompt): a1..a4, 1 of them gated, 1 canary, 1 with an incident.
    # Others: o1, o2 (both canary), o3 failed.
    events = (
        deploy("a1", at=ago(days=10), commit_sha="s1", strategy="canary"),
        deploy("a2", at=ago(days=8), commit_sha="s2"),
        deploy("a3", at=ago(days=6), commit_sha="s3"),
        deploy("a4", at=ago(days=4), commit_sha="s4"),
        deploy("o1", at=ago(days=9), commit_sha="t1", strategy="canary"),
        deploy("o2", at=ago(days=7), commit_sha="t2", strategy="blue_green"),
        deploy("o3", at=ago(days=5), commit_sha="t3", status="failure"),
        *(
            change(f"c{d}", merged_at=ago(days=20), deployment_id=d, labels=["prompt"])
            for d in ("a1", "a2", "a3", "a4")
        ),
        change("co1", merged_at=ago(days=20), deployment_id="o1"),
        change("co2", merged_at=ago(days=20), deployment_id="o2"),
        ci_run("e1", at=ago(days=11), workflow="evals", commit_sha="s1"),
        ci_run("e2", at=ago(days=7), workflow="evals", commit_sha="s2"),  # after a2
        ci_run("e3", at=ago(days=7), workflow="evals", commit_sha="s3", conclusion="failure"),
        incident("i1", at=ago(days=6) + pd.Timedelta(hours=1), deployment_id="a3",
                 resolved_at=ago(days=6) + pd.Timedelta(hours=4)),
        incident("i2", at=ago(days=7) + pd.Timedelta(hours=1), deployment_id="o2",
                 resolved_at=ago(days=7) + pd.Timedelta(hours=2)),
    )  # fmt: skip
    row = class_row(report(*events))
    assert row["deploys"] == 4
    assert row["gated_deploys"] == 1
    assert row["gated_share"] == pytest.approx(0.25)
    assert row["canary_share"] == pytest.approx(0.25)
    assert row["change_failure_rate"] == pytest.approx(0.25)  # a3 of a1..a4
    assert row["recovery_time_p50_hours"] == pytest.approx(3.0)
    assert row["incidents"] == 1
    assert row["other_deploys"] == 2
    assert row["other_canary_share"] == pytest.approx(1.0)
    assert row["other_change_failure_rate"] == pytest.approx(2 / 3)  # o3 failed, o2 incident
    assert row["other_recovery_time_p50_hours"] == pytest.approx(1.0)
    assert bool(row["ungated"]) and bool(row["riskier"])


def test_window_bounds_and_other_teams() -> None:
    cls = ChangeClassConfig(name="ai", repos=(REPO, OTHER_REPO))
    events = (
        deploy("old", at=ago(days=31)),  # before the window
        deploy("in", at=ago(days=29)),
        deploy("staging", at=ago(days=2), environment="staging"),
        deploy("s1", at=ago(days=1), repo=OTHER_REPO, service=OTHER_SERVICE, team=OTHER),
    )
    rep = report(*events, change_classes=(cls,))
    assert list(zip(rep.classes["team"], rep.classes["deploys"])) == [(TEAM, 1), (OTHER, 1)]
    assert class_row(rep)["other_deploys"] == 0
    assert pd.isna(class_row(rep)["gated_share"])  # no required_workflow


# --------------------------------------------------------------------------- flags


def gated_report(gated: int, total: int, floor: float = 0.9, workflow: str | None = "evals") -> Any:
    cls = ChangeClassConfig(name="ai", repos=(REPO,), required_workflow=workflow, gated_floor=floor)
    events: list[Event] = []
    for i in range(total):
        events.append(deploy(f"d{i}", at=ago(days=1 + i / 10), commit_sha=f"s{i}"))
        if i < gated:
            events.append(ci_run(f"r{i}", at=ago(days=3), workflow="evals", commit_sha=f"s{i}"))
    return report(*events, change_classes=(cls,))


def test_flag_below_the_floor() -> None:
    rep = gated_report(8, 10)  # 80% < 90%
    assert rep.table.loc[TEAM, "flags"][-1] == "ungated-ai"
    assert rep.table.loc[OTHER, "flags"] == ["no-data"]


def test_no_flag_at_the_floor() -> None:
    rep = gated_report(9, 10)  # exactly 90%
    assert "ungated-ai" not in rep.table.loc[TEAM, "flags"]
    assert not bool(class_row(rep)["ungated"])
    assert not bool(class_row(rep)["riskier"])


def test_configurable_floor() -> None:
    assert "ungated-ai" not in gated_report(1, 2, floor=0.5).table.loc[TEAM, "flags"]
    assert "ungated-ai" in gated_report(1, 2, floor=0.6).table.loc[TEAM, "flags"]


def test_no_flag_without_required_workflow() -> None:
    rep = gated_report(0, 3, workflow=None)
    assert "ungated-ai" not in rep.table.loc[TEAM, "flags"]


def test_no_flag_without_class_deploys_in_the_window() -> None:
    cls = ChangeClassConfig(name="ai", repos=(REPO,), required_workflow="evals")
    rep = report(deploy("d1", at=ago(days=40)), change_classes=(cls,))
    assert rep.classes.empty
    assert "ungated-ai" not in rep.table.loc[TEAM, "flags"]


def test_no_flag_when_every_class_deploy_failed() -> None:
    cls = ChangeClassConfig(name="ai", repos=(REPO,), required_workflow="evals")
    rep = report(deploy("d1", at=ago(days=1), status="failure"), change_classes=(cls,))
    row = class_row(rep)
    assert row["deploys"] == 0 and pd.isna(row["gated_share"])
    assert "ungated-ai" not in rep.table.loc[TEAM, "flags"]


def test_ungated_flags_follow_the_standard_flags_in_config_order() -> None:
    first = ChangeClassConfig(name="ml", repos=(REPO,), required_workflow="evals")
    second = ChangeClassConfig(name="ai", services=(SERVICE,), required_workflow="evals")
    events = (
        deploy("d1", at=ago(days=1), status="failure"),
        deploy("d2", at=ago(days=2)),
        incident("i1", at=ago(days=1, hours=20), deployment_id="d2"),
    )
    flags = report(*events, change_classes=(first, second)).table.loc[TEAM, "flags"]
    assert flags[-2:] == ["ungated-ml", "ungated-ai"]
    assert "unstable" in flags  # change failure rate 100%


def test_reason_text_and_position() -> None:
    cls = ChangeClassConfig(name="ai", labels=("prompt",), required_workflow="evals")
    events = (
        deploy("a1", at=ago(days=3), commit_sha="s1"),
        deploy("a2", at=ago(days=2), commit_sha="s2"),
        deploy("o1", at=ago(days=1), commit_sha="s3", strategy="canary"),
        change("c1", merged_at=ago(days=4), deployment_id="a1", labels=["prompt"]),
        change("c2", merged_at=ago(days=4), deployment_id="a2", labels=["prompt"]),
        ci_run("r1", at=ago(days=4), workflow="evals", commit_sha="s1"),
    )
    reasons = report(*events, change_classes=(cls,)).table.loc[TEAM, "reasons"]
    text = (
        "ai changes: 2 deploys, 50% gated by `evals` (floor 90%), canary 0% vs 100% and "
        "change failure rate 0% vs 0% for other changes"
    )
    assert text in reasons
    # before the score explanations, which close the list
    assert reasons.index(text) == len(reasons) - 4
    assert [r.split()[0] for r in reasons[-3:]] == ["pressure", "rigor", "stability"]


def test_reason_without_other_deploys() -> None:
    rep = gated_report(0, 1)
    reason = next(r for r in rep.table.loc[TEAM, "reasons"] if r.startswith("ai changes"))
    assert reason == (
        "ai changes: 1 deploy, 0% gated by `evals` (floor 90%), canary 0% and "
        "change failure rate 0% (no other deploys to compare)"
    )


def test_riskier_without_flag_gives_a_reason_only() -> None:
    # Gated 100%, but canary 0% vs 100% for the others (≥ 10 points lower): a reason, no flag.
    cls = ChangeClassConfig(name="ai", labels=("prompt",), required_workflow="evals")
    events = (
        deploy("a1", at=ago(days=3), commit_sha="s1"),
        deploy("o1", at=ago(days=1), commit_sha="s2", strategy="canary"),
        change("c1", merged_at=ago(days=4), deployment_id="a1", labels=["prompt"]),
        ci_run("r1", at=ago(days=4), workflow="evals", commit_sha="s1"),
    )
    rep = report(*events, change_classes=(cls,))
    assert "ungated-ai" not in rep.table.loc[TEAM, "flags"]
    assert any(
        r.startswith("ai changes: 1 deploy, 100% gated") for r in rep.table.loc[TEAM, "reasons"]
    )


def test_summary_export_has_the_flag_in_the_flags_column() -> None:
    rows = list(csv.DictReader(io.StringIO(export.render(gated_report(0, 2), "csv"))))
    assert tuple(rows[0]) == scoring.SUMMARY_COLUMNS
    pay = next(r for r in rows if r["team"] == TEAM)
    assert pay["flags"].split()[-1] == "ungated-ai"
    assert "ai changes: 2 deploys, 0% gated by `evals`" in pay["reasons"]


# --------------------------------------------------------------------------- export


def test_detail_classes_csv() -> None:
    text = export.render(gated_report(1, 4), "csv", "classes")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == export.CLASS_DETAIL_COLUMNS
    assert len(rows) == 1
    row = rows[0]
    assert row["team"] == TEAM and row["class"] == "ai"
    assert row["deploys"] == "4" and row["gated_deploys"] == "1"
    assert row["gated_share"] == "0.25"
    assert row["ungated"] == "true"
    assert row["window_start"] == "2024-01-31T00:00:00Z"


def test_detail_classes_json_and_markdown() -> None:
    rep = gated_report(1, 4)
    doc = json.loads(export.render(rep, "json", "classes"))
    assert doc["detail"] == "classes"
    assert doc["rows"][0]["gated_share"] == 0.25
    assert doc["rows"][0]["ungated"] is True
    assert "| team | class | window_start |" in export.render(rep, "markdown", "classes")


def test_demo_ai_story() -> None:
    when = pd.Timestamp("2026-11-26T12:00:00Z").to_pydatetime()
    rep = service.demo_scorecard(ScoreRequest.resolve(as_of=when)).report
    ai = class_row(rep, team="Ranker")
    assert ai["deploys"] >= 20
    assert ai["gated_share"] < 0.5
    assert ai["canary_share"] + 0.2 < ai["other_canary_share"]
    assert "ungated-ai" in rep.table.loc["Ranker", "flags"]
    assert set(rep.classes["team"]) == {"Ranker"}


# --------------------------------------------------------------------------- hygiene


def test_classes_module_is_pure() -> None:
    path = Path(classes.__file__)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    for forbidden in ("os", "textual", "scorecard.store", "scorecard.sync", "scorecard.tui"):
        assert not any(n == forbidden or n.startswith(forbidden + ".") for n in names)
    assert ".apply(" not in path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- TUI


def test_team_screen_change_class_section(snap_compare: Any) -> None:
    """The Ranker team screen scrolled to its change-class section (demo org)."""
    from tests.test_tui_snapshots import SIZE, keys_then_settle, make_app

    keys = ("slash", *"ranker", "enter", "enter", "end")
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys_then_settle(*keys))
