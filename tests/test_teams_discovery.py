"""[discovery.NAME] sections wired in (SPEC §12): the config, the catalog API and
GitHub's org teams and CODEOWNERS through fakes, the cache (a failed section keeps
its last good answer and goes stale), monorepo attribution and `config check`.

The catalog fake serves the entities of tests/fixtures/discovery/catalog; the
GitHub fakes follow GitHub's REST reference (tests/fakes/github_org.py).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from scorecard.config import ConfigError, TeamConfig, parse_config
from scorecard.discovery.attribution import attribute_monorepos
from scorecard.discovery.backstage import load_entities
from scorecard.discovery.codeowners import parse_codeowners
from scorecard.discovery.model import DiscoveredTeam
from scorecard.discovery.options import BackstageOptions
from scorecard.discovery.run import Found, Resolved, resolve_found
from tests.fakes.backstage import FakeCatalog
from tests.fakes.github_org import FakeGitHubOrg
from tests.fakes.server import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "discovery"
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
TEAM = '[[teams]]\nname = "Payments"\n'
GH = '[sources.gh]\nkind = "github"\napi_url = "http://127.0.0.1:9"\ntoken_env = "GH_T"\n'


def parsed(text: str) -> object:
    return parse_config(text, Path("/cfg/scorecard.toml"))


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"))
    return str(info.value)


# --- config ----------------------------------------------------------------------------------


def test_discovery_sections_parse_with_paths_relative_to_the_config() -> None:
    config = parse_config(
        GH + '[discovery.catalog]\nkind = "backstage"\npath = "catalog/"\n'
        '[discovery.owners]\nkind = "codeowners"\nsource = "gh"\nrepos = ["Acme/Mono"]\n'
        'files = { "acme/web" = "owners/CODEOWNERS" }\n',
        Path("/cfg/scorecard.toml"),
    )
    catalog, owners = config.discovery
    assert (catalog.name, catalog.kind, catalog.section) == (
        "catalog",
        "backstage",
        "discovery.catalog",
    )
    assert isinstance(catalog.options, BackstageOptions)
    assert catalog.options.path == Path("/cfg/catalog")
    assert owners.kind == "codeowners"
    assert config.teams == ()  # discovery brings the teams: no [[teams]] needed
    assert config.path_repos == {"acme/mono", "acme/web"}


def test_without_discovery_teams_are_still_required() -> None:
    assert "no [[teams]] defined" in error(GH)


def test_github_team_is_a_slug_and_maps_one_team() -> None:
    config = parse_config(TEAM + 'github_team = "@acme/pay-team"\n', Path("c.toml"))
    assert config.teams[0].github_team == "pay-team"
    assert config.github_team_of == {"Payments": "pay-team"}
    twice = TEAM + 'github_team = "x"\n[[teams]]\nname = "Search"\ngithub_team = "X"\n'
    assert "c.toml:6: teams[1].github_team" in error(twice)


def test_discovery_mistakes_name_file_line_and_key() -> None:
    assert "c.toml:2: discovery.x.kind: unknown kind" in error('[discovery.x]\nkind = "ldap"\n')
    both = '[discovery.c]\nkind = "backstage"\npath = "a"\nurl = "https://b.acme.com"\n'
    assert "discovery.c.path" in error(both)
    missing = '[discovery.g]\nkind = "github-teams"\nsource = "nope"\norg = "acme"\n'
    assert "c.toml:3: discovery.g.source: no source named `nope`" in error(missing)
    files = '[sources.f]\nkind = "files"\npath = "x"\n'
    wrong = files + '[discovery.g]\nkind = "github-teams"\nsource = "f"\norg = "acme"\n'
    assert "reads through a github source" in error(wrong)
    assert "discovery.g.colour: unknown key" in error(
        GH + '[discovery.g]\nkind = "github-teams"\nsource = "gh"\norg = "a"\ncolour = 1\n'
    )


# --- resolving and attribution ---------------------------------------------------------------

MONO = "acme/mono"
CODEOWNERS = """
*                    @acme/platform
/services/pay/       @acme/payments
/services/search/    @acme/search
/services/shared/    @acme/search @acme/payments
"""


def monorepo_resolved() -> Resolved:
    config = parse_config(
        '[discovery.owners]\nkind = "codeowners"\nfiles = { "acme/mono" = "CODEOWNERS" }\n'
        '[[teams]]\nname = "Payments"\nservices = ["pay-api"]\n'
        '[[teams]]\nname = "Search"\ngithub_team = "search"\n'
        '[[teams]]\nname = "Platform"\ngithub_team = "platform"\n',
        Path("c.toml"),
    )
    files = (parse_codeowners(CODEOWNERS, repo=MONO, section="discovery.owners"),)
    return resolve_found(config, [Found(config.discovery[0], files=files)])


def test_a_monorepo_change_goes_to_the_team_owning_most_of_its_paths() -> None:
    resolved = monorepo_resolved()
    changes = pd.DataFrame(
        {
            "repo": [MONO, MONO, MONO, MONO, "acme/other"],
            "team": [None, None, None, None, "Search"],
            "source": "files",
            "paths": [
                ["services/pay/a", "services/pay/b", "services/search/c"],
                ["services/search/q"],
                ["services/shared/x"],  # owned by both: a tie, the earlier team in the config
                ["tools/build.sh"],  # below the root only: the root owner
                ["services/pay/a"],  # not a CODEOWNERS repo: untouched
            ],
        }
    )
    out = attribute_monorepos({"changes": changes}, resolved)
    assert list(out["changes"]["team"]) == ["Payments", "Search", "Payments", "Platform", "Search"]


def test_monorepo_deployments_by_service_else_root_and_ci_runs_to_the_root() -> None:
    resolved = monorepo_resolved()
    deployments = pd.DataFrame(
        {"repo": [MONO, MONO], "service": ["pay-api", "unlisted"], "team": [None, None]}
    )
    ci_runs = pd.DataFrame({"repo": ["ACME/Mono"], "team": ["Payments"]})
    out = attribute_monorepos({"deployments": deployments, "ci_runs": ci_runs}, resolved)
    assert list(out["deployments"]["team"]) == ["Payments", "Platform"]
    assert list(out["ci_runs"]["team"]) == ["Platform"]


def test_explicit_teams_win_and_extend_discovered_ones() -> None:
    config = parse_config(
        f'[discovery.catalog]\nkind = "backstage"\npath = "{FIXTURES / "catalog"}"\n'
        '[[teams]]\nname = "payments"\nrepos = ["acme/shared-jobs", "acme/extra"]\n',
        Path("c.toml"),
    )
    resolved = resolve_found(config, [Found(config.discovery[0], teams=catalog_teams())])
    payments = next(t for t in resolved.config.teams if t.name == "payments")
    assert payments.repos[:2] == ("acme/shared-jobs", "acme/extra")
    assert "acme/payments-api" in payments.repos
    assert isinstance(payments, TeamConfig)


def catalog_teams() -> tuple[DiscoveredTeam, ...]:
    from scorecard.discovery.backstage import discover_backstage

    entities, _ = load_entities(FIXTURES / "catalog")
    return discover_backstage(entities, section="discovery.catalog").teams


# --- remote sections through fakes, cached -----------------------------------------------------


def remote_config(tmp_path: Path, server: FakeServer) -> Path:
    path = tmp_path / "scorecard.toml"
    path.write_text(
        f"""
[sources.gh]
kind = "github"
api_url = "{server.url}"
token_env = "GH_ORG_T"

[discovery.catalog]
kind = "backstage"
url = "{server.url}"
token_env = "BACKSTAGE_T"

[discovery.gh]
kind = "github-teams"
source = "gh"
org = "acme"

[discovery.owners]
kind = "codeowners"
source = "gh"
repos = ["acme/mono"]

[[teams]]
name = "Infra"
github_team = "platform-team"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def remote(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, FakeCatalog, FakeGitHubOrg]:
    monkeypatch.setenv("SCORECARD_CACHE_DIR", str(tmp_path / "cache"))
    catalog = FakeCatalog(fake_server, entities=load_entities(FIXTURES / "catalog")[0])
    org = FakeGitHubOrg(fake_server)
    org.team("platform-team", acme__infra="admin", acme__docs="push")
    org.team("web", parent="platform-team", acme__infra="admin", acme__site="maintain")
    org.files[("acme/mono", ".github/CODEOWNERS")] = (
        "* @acme/platform-team\n/services/web/ @acme/web\n/services/x/ @acme/nobody\n"
    )
    monkeypatch.setenv("BACKSTAGE_T", catalog.token or "")
    monkeypatch.setenv("GH_ORG_T", org.token)
    return remote_config(tmp_path, fake_server), catalog, org


def teams_rows(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[set[tuple[str, ...]], str]:
    from scorecard import cli

    code = cli.main(["teams", *argv, "--format", "csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {tuple(r.values()) for r in csv.DictReader(io.StringIO(out))}
    return rows, out + err


def test_remote_sections_are_fetched_cached_and_resolved(
    remote: tuple[Path, FakeCatalog, FakeGitHubOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    config, catalog, org = remote
    rows, text = teams_rows(capsys, "--config", str(config))
    # The catalog API (paged 2 entities at a time, with the bearer token).
    assert ("payments", "repo", "acme/payments-api", "discovery.catalog") in rows
    assert ("sre", "service", "pager-bridge", "discovery.catalog") in rows
    # GitHub's org teams: the slug maps onto the explicit team; inherited access stays up.
    assert ("Infra", "repo", "acme/infra", "discovery.gh") in rows
    assert ("web", "repo", "acme/site", "discovery.gh") in rows
    assert ("Infra", "repo", "acme/docs", "discovery.gh") not in rows  # push only
    # CODEOWNERS read through the github source: the root owner's repo and paths.
    assert ("Infra", "repo", "acme/mono", "discovery.owners") in rows
    assert ("web", "path", "acme/mono:/services/web/", "discovery.owners") in rows
    assert catalog.token and catalog.token not in text and org.token not in text
    # Offline, the same map comes from the cache without a request.
    requests = len(catalog.server.log)
    assert teams_rows(capsys, "--config", str(config), "--offline")[0] == rows
    assert len(catalog.server.log) == requests


def test_a_failed_catalog_keeps_its_last_good_map_and_is_stale(
    remote: tuple[Path, FakeCatalog, FakeGitHubOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    config, catalog, _org = remote
    before, _ = teams_rows(capsys, "--config", str(config))
    catalog.failing = True
    after, text = teams_rows(capsys, "--config", str(config))
    assert after == before
    assert "stale: discovery.catalog" in text and "HTTP 404" in text
    from scorecard import cli

    assert cli.main(["teams", "--config", str(config), "--offline", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [s["section"] for s in document["stale"]] == ["discovery.catalog"]
    slugless = [p for p in document["problems"] if "nobody" in p["subject"]]
    assert slugless and "github_team" in slugless[0]["what"]


def test_sync_refreshes_discovery_first_and_lists_each_section(
    remote: tuple[Path, FakeCatalog, FakeGitHubOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from scorecard.config import load_config
    from scorecard.discovery.cache import cached_resolution, refresh
    from scorecard.store import Store

    config = load_config(remote[0])
    store = Store()
    refreshed = asyncio.run(refresh(config, store, NOW))
    assert [s.name for s in refreshed.statuses] == [
        "discovery.catalog",
        "discovery.gh",
        "discovery.owners",
    ]
    assert all(s.last_error is None for s in refreshed.statuses)
    names = [t.name for t in cached_resolution(config, Store(read_only=True)).config.teams]
    assert names == [t.name for t in refreshed.resolved.config.teams]
    assert {"Infra", "payments", "search", "sre", "web"} <= set(names)


def test_config_check_probes_discovery_sections(
    remote: tuple[Path, FakeCatalog, FakeGitHubOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    from scorecard import cli

    cli.main(["config", "check", "--config", str(remote[0])])
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert " ok " in lines["discovery.catalog"] and "3 teams" in lines["discovery.catalog"]
    assert " ok " in lines["discovery.gh"]
    assert "CODEOWNERS of 1 repos" in lines["discovery.owners"]
