"""The [discovery.NAME] sections' Options classes (SPEC §12): keys, defaults, checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scorecard.discovery.options import (
    DISCOVERY_KINDS,
    BackstageOptions,
    CodeownersOptions,
    GithubTeamsOptions,
)
from scorecard.options import field_docs, option_spec


def test_the_three_kinds_of_spec_12() -> None:
    assert dict(DISCOVERY_KINDS) == {
        "backstage": BackstageOptions,
        "github-teams": GithubTeamsOptions,
        "codeowners": CodeownersOptions,
    }


@pytest.mark.parametrize("cls", list(DISCOVERY_KINDS.values()), ids=lambda c: c.__name__)
def test_every_key_has_a_docstring(cls: type) -> None:
    docs = field_docs(cls)
    assert all(docs.get(f.name) for f in dataclasses.fields(cls)), docs


def test_backstage_reads_a_folder_or_the_api_not_both() -> None:
    assert BackstageOptions.url_key == "url"
    assert list(BackstageOptions(path=Path("catalog")).problems([])) == []
    assert list(BackstageOptions(api_url="https://backstage.acme.com").problems([])) == []
    neither = list(BackstageOptions().problems([]))
    both = list(BackstageOptions(path=Path("c"), api_url="https://b.acme.com").problems([]))
    assert [p.key for p in neither] == ["path"] and [p.key for p in both] == ["path"]


def test_github_teams_needs_source_and_org_and_checks_permissions() -> None:
    required = {f.name for f in dataclasses.fields(GithubTeamsOptions) if option_spec(f).required}
    assert required == {"source", "org"}
    options = GithubTeamsOptions(source="gh", org="acme")
    assert options.permissions == ("admin", "maintain") and list(options.problems([])) == []
    assert list(GithubTeamsOptions(source="gh", org="a", permissions=("write",)).problems([])) == []
    (bad,) = GithubTeamsOptions(source="gh", org="a", permissions=("owner",)).problems([])
    assert bad.key == "permissions" and "owner" in bad.message
    (empty,) = GithubTeamsOptions(source="gh", org="a", permissions=()).problems([])
    assert empty.key == "permissions"


def test_codeowners_needs_repos_with_a_source_or_local_files() -> None:
    assert list(CodeownersOptions(source="gh", repos=("acme/mono",)).problems([])) == []
    assert list(CodeownersOptions(files={"acme/mono": "owners/CODEOWNERS"}).problems([])) == []
    assert [p.key for p in CodeownersOptions().problems([])] == ["repos"]
    assert [p.key for p in CodeownersOptions(repos=("acme/mono",)).problems([])] == ["source"]
