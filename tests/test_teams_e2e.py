"""End to end (SPEC §12): a config with discovery sections -> `scorecard sync` ->
`scorecard teams` and `scorecard export` show the discovered teams, a monorepo's
changes split by their paths, and the repos with events but no team.

Events come from a `files` source; teams from the discovery fixtures (a small
Backstage catalog, a monorepo checkout's CODEOWNERS) read in place.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
AS_OF = "2026-03-01"


def write_exports(folder: Path) -> None:
    """Changes, deployments and CI runs in acme/monorepo, plus one repo no team owns."""
    folder.mkdir()
    changes = [
        "id,repo,title,first_commit_at,merged_at,paths",
        # two payments paths, one search path: Payments
        "c1,acme/monorepo,pay,2026-02-20T08:00:00Z,2026-02-20T10:00:00Z,"
        "services/payments/a.py services/payments/b.py services/search/x.py",
        # search only: search
        "c2,acme/monorepo,find,2026-02-21T08:00:00Z,2026-02-21T10:00:00Z,services/search/q.py",
        # nothing owned below the root: the root owner (Platform)
        "c3,acme/monorepo,tools,2026-02-22T08:00:00Z,2026-02-22T10:00:00Z,tools/build.sh",
        "c4,acme/orphan,lost,2026-02-22T08:00:00Z,2026-02-22T10:00:00Z,README",
    ]
    (folder / "changes.csv").write_text("\n".join(changes) + "\n", encoding="utf-8")
    deployments = [
        "id,service,repo,environment,status,started_at,finished_at",
        "d1,payments-api,acme/monorepo,production,success,2026-02-20T11:00:00Z,2026-02-20T11:10:00Z",
        "d2,unlisted,acme/monorepo,production,success,2026-02-21T11:00:00Z,2026-02-21T11:10:00Z",
        "d3,orphan-svc,acme/orphan,production,success,2026-02-22T11:00:00Z,2026-02-22T11:10:00Z",
    ]
    (folder / "deployments.csv").write_text("\n".join(deployments) + "\n", encoding="utf-8")


CONFIG = """
[scorecard]
org = "Acme"

[sources.local]
kind = "files"
path = "exports/"

[discovery.catalog]
kind = "backstage"
path = "{catalog}"

[discovery.owners]
kind = "codeowners"
files = {{ "acme/monorepo" = "{monorepo}" }}

[[teams]]
name = "Platform"
github_team = "platform-team"
repos = ["acme/platform-tools"]
"""


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    write_exports(tmp_path / "exports")
    path = tmp_path / "scorecard.toml"
    text = CONFIG.format(catalog=FIXTURES / "catalog", monorepo=FIXTURES / "monorepo")
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    from scorecard import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_teams_lists_the_resolved_map_with_origins_then_unassigned(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    run(capsys, "sync", "--config", config, "--as-of", AS_OF)
    out = run(capsys, "teams", "--config", config, "--offline", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    found = {(r["team"], r["kind"], r["value"], r["origin"]) for r in rows}
    assert ("Platform", "repo", "acme/platform-tools", "teams") in found
    assert ("payments", "repo", "acme/payments-api", "discovery.catalog") in found
    assert ("payments", "service", "payments-api", "discovery.catalog") in found
    assert ("payments", "pagerduty_service", "PPAY001", "discovery.catalog") in found
    # CODEOWNERS: the root owner's repo, and each team's paths.
    assert ("Platform", "repo", "acme/monorepo", "discovery.owners") in found
    assert ("payments", "path", "acme/monorepo:/services/payments/", "discovery.owners") in found
    # The repo and service with events and no team come last, with their source.
    assert rows[-2:] == [
        {"team": "unassigned", "kind": "repo", "value": "acme/orphan", "origin": "local"},
        {"team": "unassigned", "kind": "service", "value": "orphan-svc", "origin": "local"},
    ]


def test_teams_table_lists_problems_never_guessed(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "teams", "--config", str(config_path), "--offline")
    assert out.splitlines()[0].split() == ["team", "kind", "value", "origin"]
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert any("owned by user" in line for line in problems)
    assert any("ghosts" in line and "github_team" in line for line in problems)


def test_export_scores_discovered_teams_and_splits_the_monorepo_by_paths(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    run(capsys, "sync", "--config", config, "--as-of", AS_OF)
    out = run(
        capsys, "export", "--config", config, "--offline", "--as-of", AS_OF, "--format", "json"
    )
    rows = {row["team"]: row for row in json.loads(out)["rows"]}
    assert {"Platform", "payments", "search", "sre", "unassigned"} <= set(rows)
    # d1's service is a catalog service of payments; d2's service is listed by no
    # team: the root owner's. d3 is in a repo no team owns.
    assert rows["payments"]["deploys"] == 1
    assert rows["Platform"]["deploys"] == 1
    assert rows["unassigned"]["deploys"] == 1


def test_json_lists_rows_problems_and_stale_sections(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "teams", "--config", str(config_path), "--offline", "--format", "json")
    document = json.loads(out)
    assert set(document) == {"teams", "problems", "stale"}
    assert {"team", "kind", "value", "origin"} == set(document["teams"][0])
    assert document["stale"] == []
    assert all(p["section"].startswith("discovery.") for p in document["problems"])
