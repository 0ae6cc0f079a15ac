"""SPEC §12's promise: an org configured only through a Backstage catalog and
CODEOWNERS gets the same scorecards as the same org listed by hand under
``[[teams]]`` (same rows, same numbers, through sync and export)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AS_OF = "2026-03-01"

CATALOG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: search}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations: {github.com/project-slug: acme/payments-api}
spec: {type: service, lifecycle: production, owner: group:payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search-api
  annotations: {github.com/project-slug: acme/search-api}
spec: {type: service, lifecycle: production, owner: search}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: build-tools
  annotations: {github.com/project-slug: acme/build-tools}
spec: {type: library, lifecycle: production, owner: group:default/platform}
"""

BY_HAND = """
[[teams]]
name = "payments"
repos = ["acme/payments-api"]
services = ["payments-api"]

[[teams]]
name = "search"
repos = ["acme/search-api"]
services = ["search-api"]

[[teams]]
name = "platform"
repos = ["acme/build-tools", "acme/platform-tools"]
services = ["build-tools"]
"""


def write_events(folder: Path) -> None:
    """A month of deploys, changes, CI runs and incidents over the four repos."""
    folder.mkdir()
    repos = {
        "acme/payments-api": "payments-api",
        "acme/search-api": "search-api",
        "acme/build-tools": "build-tools",
        "acme/platform-tools": "platform-tools",
    }
    deploys = ["id,service,repo,environment,status,started_at,finished_at"]
    changes = ["id,repo,title,first_commit_at,merged_at"]
    runs = ["id,repo,branch,is_default_branch,conclusion,started_at,finished_at"]
    incidents = ["id,service,severity,created_at,resolved_at"]
    for n, (repo, service) in enumerate(repos.items()):
        for day in range(1, 26, 2 + n):
            at = f"2026-02-{day:02d}T1{n}:00:00Z"
            done = f"2026-02-{day:02d}T1{n}:20:00Z"
            status = "failure" if day % 7 == 0 else "success"
            deploys.append(f"d{n}-{day},{service},{repo},production,{status},{at},{done}")
            changes.append(f"c{n}-{day},{repo},change,2026-02-{day:02d}T0{n}:00:00Z,{at}")
            runs.append(f"r{n}-{day},{repo},main,true,{status},{at},{done}")
        incidents.append(f"i{n},{service},sev2,2026-02-20T1{n}:30:00Z,2026-02-20T2{n}:00:00Z")
    for name, rows in (
        ("deployments", deploys),
        ("changes", changes),
        ("ci_runs", runs),
        ("incidents", incidents),
    ):
        (folder / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def export_rows(tmp: Path, name: str, teams: str, capsys: pytest.CaptureFixture[str]) -> dict:
    from scorecard import cli

    config = tmp / f"{name}.toml"
    config.write_text(
        f'[scorecard]\norg = "Acme"\n\n[sources.local]\nkind = "files"\npath = "events/"\n{teams}',
        encoding="utf-8",
    )
    for argv in (["sync"], ["export", "--offline", "--format", "json"]):
        code = cli.main([*argv, "--config", str(config), "--as-of", AS_OF])
        out, err = capsys.readouterr()
        assert code == 0, err
    rows = json.loads(out)["rows"]
    return {row["team"]: row for row in rows}


def test_a_catalog_and_codeowners_score_like_teams_listed_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    write_events(tmp_path / "events")
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "all.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "CODEOWNERS").write_text("# the whole repo\n*  @acme/platform\n", encoding="utf-8")
    discovered = f"""
[discovery.catalog]
kind = "backstage"
path = "{(tmp_path / "catalog").as_posix()}"

[discovery.owners]
kind = "codeowners"
files = {{ "acme/platform-tools" = "{(tmp_path / "CODEOWNERS").as_posix()}" }}
"""
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache-hand"))
    by_hand = export_rows(tmp_path, "hand", BY_HAND, capsys)
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache-discovered"))
    found = export_rows(tmp_path, "discovered", discovered, capsys)

    assert set(by_hand) >= {"payments", "search", "platform"}
    assert by_hand["platform"]["deploys"] > 0 and by_hand["payments"]["incidents"] == 1
    assert found == by_hand
