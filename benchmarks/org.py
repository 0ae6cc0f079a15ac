"""The benchmark org's shape and config, without heavy imports.

Worker processes import this to build the config, so a fresh-process timing
measures scorecard's own imports, not the generator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / ".data"
AS_OF = datetime(2026, 1, 1, tzinfo=timezone.utc)
HISTORY_DAYS = 730
WINDOW_DAYS = 30


@dataclass(frozen=True)
class Size:
    """How big the org is; ``scale`` shrinks every event count (not the teams)."""

    teams: int = 200
    repos_per_team: int = 5
    deployments: int = 1_000_000
    ci_runs: int = 5_000_000
    changes: int = 1_000_000
    incidents: int = 50_000

    def scaled(self, scale: float) -> Size:
        return Size(
            teams=self.teams,
            repos_per_team=self.repos_per_team,
            deployments=int(self.deployments * scale),
            ci_runs=int(self.ci_runs * scale),
            changes=int(self.changes * scale),
            incidents=int(self.incidents * scale),
        )

    @property
    def repos(self) -> int:
        return self.teams * self.repos_per_team

    def key(self, seed: int) -> str:
        return (
            f"v{GENERATOR_VERSION}-s{seed}-t{self.teams}-d{self.deployments}"
            f"-c{self.ci_runs}-ch{self.changes}-i{self.incidents}"
        )


@dataclass(frozen=True)
class Dataset:
    root: Path  # the cache root (the Store's root)
    size: Size
    seed: int
    as_of: datetime
    window_days: int

    @property
    def sources_dir(self) -> Path:
        return self.root / "v1"


def team_names(size: Size) -> list[str]:
    return [f"team-{i:03d}" for i in range(size.teams)]


def repo_names(size: Size) -> list[str]:
    # The last 2% of repos belong to nobody: their events are `unassigned`.
    return [f"acme/repo-{i:04d}" for i in range(size.repos)] + [
        f"acme/orphan-{i:02d}" for i in range(max(size.repos // 50, 1))
    ]


def service_names(size: Size) -> list[str]:
    return [f"svc-{i:04d}" for i in range(size.repos)] + [
        f"orphan-svc-{i:02d}" for i in range(max(size.repos // 50, 1))
    ]


def config_for(size: Size) -> Any:
    """The config a lead would write for this org: teams own repos and services."""
    from scorecard.config import Config, SourceConfig, TeamConfig
    from scorecard.sources.registry import options_class

    names = team_names(size)
    repos = repo_names(size)
    services = service_names(size)
    per = size.repos_per_team
    teams = tuple(
        TeamConfig(
            name=name,
            repos=tuple(repos[i * per : (i + 1) * per]),
            services=tuple(services[i * per : (i + 1) * per]),
        )
        for i, name in enumerate(names)
    )
    sources = tuple(
        SourceConfig(
            name=name,
            kind="files",
            options=options_class("files")(path=Path(), refresh_minutes=60.0),
        )
        for name in ("github", "pagerduty", "codecov", "prometheus")
    )
    return Config(path=None, org="Bench", teams=teams, sources=sources)
