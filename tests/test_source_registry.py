"""The registry: every kind has an Options class, and asking for it is cheap."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from scorecard.options import HttpOptions, SourceOptions, field_docs
from scorecard.sources.registry import known_kinds, options_class


def test_asking_for_options_imports_neither_pandas_nor_httpx() -> None:
    code = (
        "import sys\n"
        "from scorecard.sources.registry import known_kinds, options_class\n"
        "for kind in known_kinds():\n"
        "    options_class(kind)\n"
        "heavy = [m for m in ('pandas', 'httpx', 'numpy', 'pyarrow') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


@pytest.mark.parametrize("kind", known_kinds())
def test_every_kind_declares_documented_options(kind: str) -> None:
    cls = options_class(kind)
    assert issubclass(cls, SourceOptions)
    docs = field_docs(cls)
    missing = [f.name for f in dataclasses.fields(cls) if not docs.get(f.name)]
    assert missing == []


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("github", "https://api.github.com"),
        ("gitlab", "https://gitlab.com/api/v4"),
        ("pagerduty", "https://api.pagerduty.com"),
        ("incidentio", "https://api.incident.io"),
        ("opsgenie", "https://api.opsgenie.com"),
        ("codecov", "https://api.codecov.io"),
        ("prometheus", None),
        ("alertmanager", None),
    ],
)
def test_api_kinds_know_their_public_url(kind: str, url: str | None) -> None:
    cls = options_class(kind)
    assert issubclass(cls, HttpOptions)
    assert cls().base_url == url


def test_opsgenie_eu_region_picks_the_eu_api() -> None:
    cls = options_class("opsgenie")
    assert cls(region="eu").base_url == "https://api.eu.opsgenie.com"  # type: ignore[call-arg]
    assert cls(region="eu", api_url="https://og.acme.com").base_url == "https://og.acme.com"  # type: ignore[call-arg]


def test_monitoring_cross_field_checks() -> None:
    cls = options_class("prometheus")
    problems = list(cls().problems(["Payments"]))
    assert [p.key for p in problems] == ["url"]
    bad = cls(  # type: ignore[call-arg]
        api_url="http://localhost:9090",
        auth="basic",
        queries={"error budget": " "},
        alert_teams=("Paymnets",),
    )
    found = {p.key: p.message for p in bad.problems(["Payments"])}
    assert found == {
        "username": '`auth = "basic"` needs `username`',
        'queries."error budget"': "the PromQL expression is empty",
        "alert_teams": "no team named `Paymnets`",
    }


def test_unknown_kind_is_fatal() -> None:
    from scorecard.errors import FatalSourceError

    with pytest.raises(FatalSourceError, match="unknown kind 'nope'"):
        options_class("nope")


@pytest.mark.parametrize("kind", known_kinds())
def test_every_kind_builds_from_its_own_module(kind: str) -> None:
    from scorecard.sources.registry import factory_for

    factory = factory_for(kind)
    assert factory.kind == kind
    assert factory.Options is options_class(kind)
    assert factory.__module__ == f"scorecard.sources.{kind.replace('-', '_')}"


def test_repo_bookmarks_keep_their_json_shape() -> None:
    from datetime import datetime, timezone

    from scorecard.sources.contract import FetchContext
    from scorecard.sources.vcs import RepoState

    now = datetime(2024, 3, 10, tzinfo=timezone.utc)
    ctx = FetchContext(since=now, until=now)
    saved = {
        "history_from": "2024-01-01T00:00:00Z",
        "bookmarks": {"runs": "2024-03-09T00:00:00Z"},
        "pending": {"runs": "2024-03-08T00:00:00Z"},
        "default_branch": "main",
    }
    github = RepoState.resume(ctx, saved, pending=True)
    github.default_branch = "main"
    assert github.to_json() == saved
    assert list(github.to_json()) == list(saved)
    gitlab = RepoState.resume(ctx, saved, pending=False)
    gitlab.default_branch = "main"
    assert list(gitlab.to_json()) == ["history_from", "bookmarks", "default_branch"]


def test_incident_bookmark_keeps_its_json_shape() -> None:
    from datetime import datetime, timezone

    from scorecard.sources.contract import FetchContext
    from scorecard.sources.incidents import RangeBookmark

    now = datetime(2024, 3, 10, tzinfo=timezone.utc)
    saved = {"history_from": "2024-01-01T00:00:00Z", "synced_until": "2024-03-09T00:00:00Z"}
    bookmark = RangeBookmark.read(saved)
    assert bookmark.to_json() == saved
    after = bookmark.after(FetchContext(since=now, until=now))
    assert after.to_json() == {
        "history_from": saved["history_from"],
        "synced_until": "2024-03-10T00:00:00Z",
    }
