"""Explicit [[teams]] and discovered teams together (SPEC §12's precedence)."""

from __future__ import annotations

from pathlib import Path

from scorecard.config.model import TeamConfig
from scorecard.discovery.backstage import discover_backstage, load_entities
from scorecard.discovery.model import DiscoveredTeam, Discovery, OwnedPath, Row, resolve
from scorecard.discovery.monorepo import discover_codeowners, read_local_codeowners

CATALOG = Path(__file__).parent / "fixtures" / "discovery" / "catalog"


def catalog(*teams: DiscoveredTeam) -> Discovery:
    return Discovery("discovery.catalog", teams)


def test_explicit_team_of_the_same_name_is_extended() -> None:
    explicit = [TeamConfig("Payments", repos=("acme/pay",), coverage_repos=("acme/pay",))]
    found = catalog(DiscoveredTeam("payments", repos=("acme/checkout",), services=("checkout",)))
    result = resolve(explicit, [found])
    (team,) = result.teams
    assert team.name == "Payments"  # the config's spelling
    assert team.repos == ("acme/pay", "acme/checkout")
    assert team.services == ("checkout",)
    assert team.coverage_repos == ("acme/pay",)  # what discovery does not know is kept
    assert result.rows == (
        Row("Payments", "repo", "acme/pay", "teams"),
        Row("Payments", "repo", "acme/checkout", "discovery.catalog"),
        Row("Payments", "service", "checkout", "discovery.catalog"),
    )


def test_value_listed_explicitly_belongs_to_the_explicit_team() -> None:
    explicit = [TeamConfig("Payments", repos=("acme/shared",), services=("gateway",))]
    found = catalog(
        DiscoveredTeam("search", repos=("acme/Shared", "acme/search"), services=("gateway",))
    )
    result = resolve(explicit, [found])
    teams = {team.name: team for team in result.teams}
    assert teams["Payments"].repos == ("acme/shared",)
    assert teams["search"].repos == ("acme/search",)  # repo names compare case-insensitively
    assert teams["search"].services == ()
    assert result.problems == ()


def test_repo_claimed_by_two_discovered_teams_is_a_problem_not_a_guess() -> None:
    gh = Discovery("discovery.gh", (DiscoveredTeam("search", repos=("acme/jobs",)),))
    found = catalog(DiscoveredTeam("payments", repos=("acme/jobs", "acme/pay")))
    result = resolve([], [found, gh])
    teams = {team.name: team for team in result.teams}
    assert teams["payments"].repos == ("acme/pay",)
    assert teams["search"].repos == ()
    (problem,) = result.problems
    assert problem.subject == "repo acme/jobs"
    assert "payments (discovery.catalog), search (discovery.gh)" in problem.what
    assert problem.section == "discovery.gh"


def test_two_sections_agreeing_is_no_conflict() -> None:
    gh = Discovery("discovery.gh", (DiscoveredTeam("payments", repos=("acme/pay",)),))
    result = resolve([], [catalog(DiscoveredTeam("payments", repos=("acme/pay",))), gh])
    assert result.problems == ()
    assert result.rows == (Row("payments", "repo", "acme/pay", "discovery.catalog"),)


def test_github_team_slug_maps_to_the_configured_team() -> None:
    explicit = [TeamConfig("Payments"), TeamConfig("Search")]
    gh = Discovery(
        "discovery.gh",
        (
            DiscoveredTeam("pay-eng", repos=("acme/pay",), github_team="pay-eng"),
            DiscoveredTeam("search", repos=("acme/search",), github_team="search"),
            DiscoveredTeam("infra", repos=("acme/infra",), github_team="infra"),
        ),
    )
    result = resolve(explicit, [gh], github_team_of={"Payments": "pay-eng"})
    assert [(t.name, t.repos) for t in result.teams] == [
        ("Payments", ("acme/pay",)),
        ("Search", ("acme/search",)),  # no github_team: the team named like the slug
        ("infra", ("acme/infra",)),  # no configured team: a discovered one
    ]


def test_explicit_teams_come_first_in_config_order() -> None:
    explicit = [TeamConfig("Zeta"), TeamConfig("Alpha")]
    result = resolve(explicit, [catalog(DiscoveredTeam("beta", services=("b",)))])
    assert [team.name for team in result.teams] == ["Zeta", "Alpha", "beta"]


def test_codeowners_paths_may_be_shared_and_are_rows() -> None:
    path = OwnedPath("acme/mono", "/services/shared/")
    owners = Discovery(
        "discovery.owners",
        (DiscoveredTeam("a", paths=(path,)), DiscoveredTeam("b", paths=(path,))),
    )
    result = resolve([TeamConfig("a"), TeamConfig("b")], [owners])
    assert result.problems == ()
    assert [r for r in result.rows if r.kind == "path"] == [
        Row("a", "path", "acme/mono:/services/shared/", "discovery.owners"),
        Row("b", "path", "acme/mono:/services/shared/", "discovery.owners"),
    ]
    assert result.paths == {"a": (path,), "b": (path,)}


def test_rows_cover_every_kind_in_order() -> None:
    explicit = [TeamConfig("T", pagerduty_services=("P1",))]
    found = catalog(
        DiscoveredTeam(
            "T",
            repos=("acme/t",),
            services=("t",),
            pagerduty_services=("P2",),
            paths=(OwnedPath("acme/mono", "/t/"),),
        )
    )
    rows = resolve(explicit, [found]).rows
    assert [(r.kind, r.value, r.origin) for r in rows] == [
        ("repo", "acme/t", "discovery.catalog"),
        ("service", "t", "discovery.catalog"),
        ("pagerduty_service", "P1", "teams"),
        ("pagerduty_service", "P2", "discovery.catalog"),
        ("path", "acme/mono:/t/", "discovery.catalog"),
    ]


def test_catalog_fixture_end_to_end() -> None:
    entities, _ = load_entities(CATALOG)
    found = discover_backstage(entities, section="discovery.catalog")
    explicit = [TeamConfig("Search", repos=("acme/search-legacy",))]
    result = resolve(explicit, [found])
    teams = {team.name: team for team in result.teams}
    assert list(teams) == ["Search", "payments", "sre"]
    assert teams["Search"].repos == ("acme/search-legacy", "acme/search-api")
    assert teams["payments"].repos == ("acme/payments-api", "acme-web/checkout")
    assert teams["sre"].pagerduty_services == ("POPS042",)
    subjects = sorted(p.subject for p in result.problems)
    assert subjects == [
        "component:default/ledger",
        "component:default/legacy-batch",
        "repo acme/shared-jobs",  # claimed by payments-worker and search-indexer
    ]


def test_catalog_github_and_codeowners_together() -> None:
    explicit = [TeamConfig("Payments", services=("payments-api",)), TeamConfig("Platform")]
    github_team_of = {"Payments": "payments", "Platform": "platform-team"}
    entities, _ = load_entities(CATALOG)
    found_catalog = discover_backstage(entities, section="discovery.catalog")
    found_gh = Discovery(
        "discovery.gh",
        (DiscoveredTeam("platform-team", repos=("acme/infra",), github_team="platform-team"),),
    )
    # CODEOWNERS maps owners to the teams known after the other sections, in order.
    first = resolve(explicit, [found_catalog, found_gh], github_team_of=github_team_of)
    names = [team.name for team in first.teams]
    assert names == ["Payments", "Platform", "search", "sre"]
    files, _ = read_local_codeowners({"acme/monorepo": CATALOG.parent / "monorepo"})
    found_owners, by_repo = discover_codeowners(
        files, names, github_team_of=github_team_of, section="discovery.owners"
    )
    result = resolve(
        explicit, [found_catalog, found_gh, found_owners], github_team_of=github_team_of
    )
    teams = {team.name: team for team in result.teams}
    assert teams["Payments"].services[0] == "payments-api"  # explicit first, then the catalog's
    assert teams["Payments"].repos == ("acme/payments-api", "acme-web/checkout")
    assert teams["Platform"].repos == ("acme/infra", "acme/monorepo")  # root of the monorepo
    assert result.paths["search"][0] == OwnedPath("acme/monorepo", "/services/search/")
    origins = {(row.team, row.kind, row.value): row.origin for row in result.rows}
    assert origins[("Payments", "service", "payments-api")] == "teams"
    assert origins[("Platform", "repo", "acme/infra")] == "discovery.gh"
    assert origins[("Platform", "repo", "acme/monorepo")] == "discovery.owners"
    assert by_repo["acme/monorepo"].change_owner(["services/search/x.py"]) == "search"
