"""Backstage discovery (SPEC §12): groups owning components become teams."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scorecard.discovery.backstage import (
    ENTITIES_PATH,
    EntityRef,
    discover_backstage,
    entities_from_pages,
    fetch_entities,
    load_entities,
    parse_ref,
)
from scorecard.discovery.model import DiscoveredTeam
from scorecard.errors import PaginationLoop

SHARED_CATALOG = Path(__file__).parents[2] / "shared/data/backstage-catalog"
FIXTURES = Path(__file__).parent / "fixtures" / "discovery" / "catalog"


def shared_catalog() -> Path:
    if not SHARED_CATALOG.is_dir():
        missing = f"{SHARED_CATALOG} (Backstage's example catalog) is not there"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return SHARED_CATALOG


def teams_by_name(teams: tuple[DiscoveredTeam, ...]) -> dict[str, DiscoveredTeam]:
    return {team.name: team for team in teams}


# --- Backstage's own example catalog -------------------------------------------------------


def test_example_catalog_groups_owning_components_become_teams() -> None:
    entities, problems = load_entities(shared_catalog())
    found = discover_backstage(entities, section="discovery.catalog")
    assert problems == []
    # team-a..team-d own components; team-e and the department groups own none.
    assert [team.name for team in found.teams] == ["team-a", "team-b", "team-c", "team-d"]
    teams = teams_by_name(found.teams)
    assert teams["team-a"].services == (
        "artist-lookup",
        "wayback-archive",
        "wayback-archive-storage",
        "wayback-search",
        "www-artist",
    )
    assert teams["team-b"].services == ("podcast-api", "queue-proxy")
    assert teams["team-c"].services == ("petstore", "playback-sdk")
    assert teams["team-d"].services == ("wayback-archive-ingestion",)
    # The example catalog has no repo or PagerDuty annotations.
    assert all(team.repos == () and team.pagerduty_services == () for team in found.teams)


def test_example_catalog_components_owned_by_a_user_are_problems() -> None:
    entities, _ = load_entities(shared_catalog())
    found = discover_backstage(entities)
    assert sorted(p.subject for p in found.problems) == [
        "component:default/playback-order",
        "component:default/searcher",
        "component:default/shuffle-api",
    ]
    assert all("user `user:guest`" in p.what for p in found.problems)
    assert {p.section for p in found.problems} == {"discovery.catalog"}


def test_example_catalog_reads_every_document_of_multi_document_files() -> None:
    entities, _ = load_entities(shared_catalog())
    kinds = [str(e["kind"]) for e in entities]
    # org.yaml holds a Group and a Location; team-*.yaml hold a Group and its Users.
    assert kinds.count("Location") == 1
    assert kinds.count("User") == 17
    assert kinds.count("Component") == 13
    assert kinds.count("Group") == 9


# --- this project's catalog fixture: every annotation SPEC §12 reads ---------------------


@pytest.fixture
def fixture_discovery() -> Any:
    entities, problems = load_entities(FIXTURES)
    assert problems == []
    return discover_backstage(entities, section="discovery.catalog")


def test_group_without_components_is_no_team(fixture_discovery: Any) -> None:
    names = [team.name for team in fixture_discovery.teams]
    assert names == ["payments", "search", "sre"]  # not `platform`, the parent department


def test_project_slug_annotations_give_repos(fixture_discovery: Any) -> None:
    teams = teams_by_name(fixture_discovery.teams)
    assert teams["payments"].repos == ("acme/payments-api", "acme-web/checkout", "acme/shared-jobs")
    assert teams["search"].repos == ("acme/search-api", "acme/shared-jobs")


def test_services_are_component_names_plus_kubernetes_id(fixture_discovery: Any) -> None:
    teams = teams_by_name(fixture_discovery.teams)
    assert teams["payments"].services == (
        "payments-api",
        "payments-api-k8s",
        "checkout-web",
        "payments-worker",
    )
    # A kubernetes-id equal to the name is listed once.
    assert teams["search"].services == ("search-api", "search-indexer")


def test_pagerduty_annotation_adds_a_pagerduty_service(fixture_discovery: Any) -> None:
    teams = teams_by_name(fixture_discovery.teams)
    assert teams["payments"].pagerduty_services == ("PPAY001",)
    assert teams["sre"].pagerduty_services == ("POPS042",)
    assert teams["search"].pagerduty_services == ()


def test_bare_owner_resolves_in_the_components_namespace(fixture_discovery: Any) -> None:
    # pager-bridge lives in namespace `ops` and says `owner: sre`: group:ops/sre.
    teams = teams_by_name(fixture_discovery.teams)
    assert teams["sre"].repos == ("acme/pager-bridge",)


def test_user_owner_and_missing_group_are_problems_not_guesses(fixture_discovery: Any) -> None:
    problems = {p.subject: p.what for p in fixture_discovery.problems}
    assert set(problems) == {"component:default/ledger", "component:default/legacy-batch"}
    assert "user `user:alice`" in problems["component:default/ledger"]
    assert "`group:ghosts` is not in the catalog" in problems["component:default/legacy-batch"]
    all_repos = {repo for team in fixture_discovery.teams for repo in team.repos}
    assert not {"acme/ledger", "acme/legacy-batch"} & all_repos


def test_api_entities_do_not_make_services(fixture_discovery: Any) -> None:
    teams = teams_by_name(fixture_discovery.teams)
    assert "payments-api-spec" not in teams["payments"].services


def test_unreadable_yaml_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: a}\n", encoding="utf-8"
    )
    (tmp_path / "bad.yaml").write_text("kind: [unclosed\n", encoding="utf-8")
    entities, problems = load_entities(tmp_path)
    assert [e["metadata"]["name"] for e in entities] == ["a"]
    assert len(problems) == 1 and problems[0].subject.endswith("bad.yaml")


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text(
        "!!python/object/apply:os.system ['echo owned']\n", encoding="utf-8"
    )
    entities, problems = load_entities(tmp_path)
    assert entities == [] and len(problems) == 1


# --- owner references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("payments", EntityRef("group", "ops", "payments")),
        ("group:payments", EntityRef("group", "ops", "payments")),
        ("group:default/payments", EntityRef("group", "default", "payments")),
        ("User:alice", EntityRef("user", "ops", "alice")),
        ("tools/sre", EntityRef("group", "tools", "sre")),
    ],
)
def test_owner_refs(ref: str, expected: EntityRef) -> None:
    assert parse_ref(ref, default_namespace="ops") == expected


def test_owner_refs_compare_case_insensitively() -> None:
    entities = [
        {"apiVersion": "v1", "kind": "Group", "metadata": {"name": "Payments"}},
        {
            "apiVersion": "v1",
            "kind": "Component",
            "metadata": {"name": "api"},
            "spec": {"owner": "group:default/payments"},
        },
    ]
    found = discover_backstage(entities)
    assert [team.name for team in found.teams] == ["Payments"] and found.problems == ()


# --- the catalog API -------------------------------------------------------------------------


def api_page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    info = {"nextCursor": next_cursor} if next_cursor else {}
    return {"items": items, "totalItems": 3, "pageInfo": info}


def projected(entity: dict[str, Any], fields: str) -> dict[str, Any]:
    """What the catalog answers for ``entity`` under ``fields=...``: those paths only."""
    out: dict[str, Any] = {}
    for path in fields.split(","):
        *parents, last = path.split(".")
        source: Any = entity
        target = out
        for part in parents:
            source = source.get(part, {}) if isinstance(source, dict) else {}
            target = target.setdefault(part, {})
        if isinstance(source, dict) and last in source:
            target[last] = source[last]
    return out


async def test_api_pages_follow_the_cursor_and_fields_suffice() -> None:
    entities, _ = load_entities(FIXTURES)
    groups = [e for e in entities if e["kind"] == "Group"]
    components = [e for e in entities if e["kind"] == "Component"]
    pages = {None: (groups, "c1"), "c1": (components[:3], "c2"), "c2": (components[3:], None)}
    calls: list[dict[str, Any]] = []

    async def get_json(path: str, params: Any) -> Any:
        assert path == ENTITIES_PATH
        calls.append(dict(params))
        items, next_cursor = pages[params.get("cursor")]
        return api_page([projected(e, params["fields"]) for e in items], next_cursor)

    answers = await fetch_entities(get_json, limit=3)
    assert calls[0]["filter"] == ["kind=group", "kind=component"]
    assert calls[0]["limit"] == 3 and "cursor" not in calls[0]
    assert [c.get("cursor") for c in calls] == [None, "c1", "c2"]
    assert all("filter" not in c for c in calls[1:])  # the cursor carries the query
    from_api = discover_backstage(entities_from_pages(answers), section="discovery.catalog")
    from_files = discover_backstage(entities, section="discovery.catalog")
    assert from_api == from_files and len(from_api.teams) == 3


async def test_api_cursor_loop_stops() -> None:
    async def get_json(path: str, params: Any) -> Any:
        return api_page([], "same")

    with pytest.raises(PaginationLoop):
        await fetch_entities(get_json)


def test_legacy_entities_arrays_parse_too() -> None:
    group = {"apiVersion": "v1", "kind": "Group", "metadata": {"name": "g"}}
    assert entities_from_pages([[group, {"not": "an entity"}], {"items": [group]}]) == [
        group,
        group,
    ]


def test_path_may_be_a_single_catalog_file() -> None:
    entities, problems = load_entities(FIXTURES / "ops" / "pager.yaml")
    assert [e["metadata"]["name"] for e in entities] == ["pager-bridge"] and problems == []


def test_empty_folder_is_a_problem(tmp_path: Path) -> None:
    entities, problems = load_entities(tmp_path)
    assert entities == [] and [p.subject for p in problems] == [str(tmp_path)]
