"""The built-in demo org: ten teams, 180 days, one story per team.

`scorecard demo` and `scorecard export --demo` run on this data so that anyone
can see what the product is for in one command, with no tokens and no config.
The data is seeded and generated relative to ``as_of``, so the same ``as_of``
always gives the same numbers (tests and screenshots rely on that).

The teams' stories are in :mod:`scorecard.demo_stories` and their events come
from :mod:`scorecard.demo_events`; this module adds the org's config and its
sources' sync statuses (GitLab failed three days ago, so Mobile is stale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scorecard.demo_events import HISTORY_DAYS, SEED, generate
from scorecard.demo_stories import ORG, STORIES
from scorecard.request import utcnow
from scorecard.status import RequestStats, SourceStatus

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config

__all__ = ["HISTORY_DAYS", "ORG", "SEED", "DemoOrg", "demo_config", "demo_org", "generate"]


@dataclass(frozen=True)
class DemoOrg:
    """Everything the demo needs: events, config and sync statuses."""

    as_of: datetime
    frames: dict[str, pd.DataFrame]
    config: Config
    statuses: dict[str, SourceStatus]
    teams_by_source: dict[str, set[str]]


def demo_config() -> Config:
    """The demo org as a config: one team per story, the change class `ai`."""
    from scorecard.config import ChangeClassConfig, Config, SourceConfig, TeamConfig
    from scorecard.sources.registry import options_class

    teams = tuple(TeamConfig(name=s.name, repos=s.repos, services=s.services) for s in STORIES)
    options = options_class("demo")(refresh_minutes=60.0)
    sources = tuple(
        SourceConfig(name=name, kind="demo", options=options)
        for name in ("github", "gitlab", "pagerduty", "codecov", "prometheus")
    )
    ai = ChangeClassConfig(
        name="ai",
        repos=("acme/prompts",),
        labels=("prompt", "model"),
        paths=("prompts/**", "models/**"),
        title_patterns=("^Prompt:", "^Model:"),
        required_workflow="evals",
    )
    return Config(path=None, org=ORG, teams=teams, sources=sources, change_classes=(ai,))


def statuses(as_of: datetime, frames: dict[str, pd.DataFrame]) -> dict[str, SourceStatus]:
    """Every demo source synced ten minutes ago, except GitLab, which failed 3 days ago."""
    counts: dict[str, int] = {}
    for frame in frames.values():
        for name, count in frame["source"].value_counts().items():
            counts[str(name)] = counts.get(str(name), 0) + int(count)
    recent = as_of - timedelta(minutes=10)
    out = {
        name: SourceStatus(
            name=name,
            kind=kind,
            last_attempt_at=recent,
            last_success_at=recent,
            items=counts.get(name, 0),
            stats=RequestStats(rate_limit_remaining=remaining),
        )
        for name, kind, remaining in (
            ("github", "github", 4_612),
            ("pagerduty", "pagerduty", None),
            ("codecov", "codecov", None),
            ("prometheus", "prometheus", None),
        )
    }
    out["gitlab"] = SourceStatus(
        name="gitlab",
        kind="gitlab",
        last_attempt_at=as_of - timedelta(hours=2),
        last_success_at=as_of - timedelta(days=3, hours=4),
        last_error="503 Service Unavailable from gitlab.acme.example after 5 retries",
        items=counts.get("gitlab", 0),
    )
    return out


def demo_org(
    as_of: datetime | None = None, *, now: Callable[[], datetime] | None = None
) -> DemoOrg:
    """The whole demo org at ``as_of`` (default: now, to the minute)."""
    moment = as_of or (now or utcnow)()
    moment = moment.replace(second=0, microsecond=0)
    frames = generate(moment)
    teams_by_source: dict[str, set[str]] = {}
    for frame in frames.values():
        pairs = frame[["source", "team"]].drop_duplicates()
        for source, team in zip(pairs["source"], pairs["team"]):
            teams_by_source.setdefault(str(source), set()).add(str(team))
    return DemoOrg(
        as_of=moment,
        frames=frames,
        config=demo_config(),
        statuses=statuses(moment, frames),
        teams_by_source=teams_by_source,
    )
