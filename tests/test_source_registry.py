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
