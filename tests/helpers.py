"""Tiny builders for hand-made event sets in tests.

Each builder returns ``(kind, record)``; :func:`frames` groups them into typed
frames (via ``model.frame_from_records``) and :func:`prepared` runs
``metrics.prepare`` on them. Times are given relative to :data:`AS_OF` with
:func:`ago` so that expected values can be worked out by hand.

    prep = prepared(deploy("d1", at=ago(days=2)), incident("i1", at=ago(days=1)))
    row = current(prep)  # team "Payments", window of 30 days ending at AS_OF
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from scorecard import metrics, model
from scorecard.bands import Benchmarks, benchmarks_for
from scorecard.model import EventKind

AS_OF = pd.Timestamp("2024-03-01T00:00:00Z")
WINDOW_DAYS = 30
WINDOW_START = AS_OF - pd.Timedelta(days=WINDOW_DAYS)  # 2024-01-31T00:00Z

TEAM = "Payments"
OTHER = "Search"
REPO = "acme/payments-api"
SERVICE = "payments-api"
OTHER_REPO = "acme/search"
OTHER_SERVICE = "search-api"

TEAM_MAP = metrics.TeamMap(
    teams=(TEAM, OTHER),
    repo_owner={REPO: TEAM, OTHER_REPO: OTHER},
    service_owner={SERVICE: TEAM, OTHER_SERVICE: OTHER},
)

Event = tuple[EventKind, dict[str, Any]]


def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> pd.Timestamp:
    """A time before AS_OF (negative values give times after it)."""
    return AS_OF - pd.Timedelta(days=days, hours=hours, minutes=minutes)


def deploy(
    id: str,
    *,
    at: pd.Timestamp | None,
    team: str | None = TEAM,
    service: str | None = SERVICE,
    repo: str | None = REPO,
    environment: str = "production",
    status: str = "success",
    strategy: str = "direct",
    started_at: pd.Timestamp | None = None,
    is_rollback: bool = False,
    commit_sha: str | None = None,
) -> Event:
    """A deployment finishing ``at`` (``at=None``: unfinished, placed by ``started_at``)."""
    if started_at is None:
        started_at = at - pd.Timedelta(minutes=5) if at is not None else None
    return "deployments", {
        "id": id,
        "source": "test",
        "team": team,
        "service": service,
        "repo": repo,
        "environment": environment,
        "status": status,
        "strategy": strategy,
        "started_at": started_at,
        "finished_at": at,
        "commit_sha": commit_sha or f"sha-{id}",
        "is_rollback": is_rollback,
    }


def change(
    id: str,
    *,
    merged_at: pd.Timestamp,
    first_commit_at: pd.Timestamp | None = None,
    team: str | None = TEAM,
    repo: str = REPO,
    deployment_id: str | None = None,
    title: str = "a change",
    labels: Sequence[str] = (),
    paths: Sequence[str] = (),
) -> Event:
    return "changes", {
        "id": id,
        "source": "test",
        "team": team,
        "repo": repo,
        "title": title,
        "first_commit_at": first_commit_at if first_commit_at is not None else merged_at,
        "merged_at": merged_at,
        "merge_sha": f"sha-{id}",
        "deployment_id": deployment_id,
        "labels": list(labels),
        "paths": list(paths),
    }


def ci_run(
    id: str,
    *,
    at: pd.Timestamp | None,
    conclusion: str = "success",
    minutes: float = 10.0,
    started_at: pd.Timestamp | None = None,
    team: str | None = TEAM,
    repo: str = REPO,
    workflow: str = "ci",
    default_branch: bool = True,
    commit_sha: str | None = None,
) -> Event:
    """A CI run finishing ``at`` after ``minutes`` (``at=None``: still running)."""
    if started_at is None and at is not None:
        started_at = at - pd.Timedelta(minutes=minutes)
    return "ci_runs", {
        "id": id,
        "source": "test",
        "team": team,
        "repo": repo,
        "workflow": workflow,
        "branch": "main" if default_branch else "feature",
        "is_default_branch": default_branch,
        "commit_sha": commit_sha or f"sha-{id}",
        "conclusion": conclusion,
        "started_at": started_at,
        "finished_at": at,
        "attempt": 1,
    }


def coverage(pct: float, *, at: pd.Timestamp, repo: str = REPO, team: str | None = TEAM) -> Event:
    return "coverage", {
        "source": "test",
        "team": team,
        "repo": repo,
        "measured_at": at,
        "line_coverage": pct,
    }


def incident(
    id: str,
    *,
    at: pd.Timestamp,
    resolved_at: pd.Timestamp | None = None,
    severity: str = "sev3",
    service: str | None = SERVICE,
    team: str | None = TEAM,
    deployment_id: str | None = None,
) -> Event:
    """An incident created ``at`` (open while ``resolved_at`` is None)."""
    return "incidents", {
        "id": id,
        "source": "test",
        "team": team,
        "service": service,
        "title": f"incident {id}",
        "severity": severity,
        "created_at": at,
        "resolved_at": resolved_at,
        "deployment_id": deployment_id,
    }


def rollout(
    strategy: str, *, at: pd.Timestamp, service: str = SERVICE, team: str | None = TEAM
) -> Event:
    return "rollouts", {
        "source": "test",
        "team": team,
        "service": service,
        "at": at,
        "strategy": strategy,
    }


def frames(events: Iterable[Event]) -> dict[str, pd.DataFrame]:
    """Typed frames for every event kind (kinds without events are empty frames)."""
    grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind in model.EVENT_KINDS}
    for kind, record in events:
        grouped[kind].append(record)
    return {kind: model.frame_from_records(kind, rows) for kind, rows in grouped.items()}  # type: ignore[arg-type]


def prepared(
    *events: Event,
    team_map: metrics.TeamMap = TEAM_MAP,
    production_environments: Sequence[str] = ("production", "prod", "live"),
    incident_link_hours: float = 24.0,
) -> metrics.Prepared:
    return metrics.prepare(
        frames(events),
        team_map,
        production_environments=production_environments,
        incident_link_hours=incident_link_hours,
    )


def team_row(
    *events: Event,
    team: str = TEAM,
    as_of: pd.Timestamp = AS_OF,
    window_days: int = WINDOW_DAYS,
    **prepare_options: Any,
) -> pd.Series:
    """The current-window metrics of one team (trends included)."""
    prep = prepared(*events, **prepare_options)
    return team_metrics_of(prep, as_of=as_of, window_days=window_days).current.loc[team]


def team_metrics_of(
    prep: metrics.Prepared, *, as_of: pd.Timestamp = AS_OF, window_days: int = WINDOW_DAYS
) -> metrics.TeamMetrics:
    return metrics.team_metrics(prep, as_of, window_days)


def metric_frame(rows: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """A metrics table (every METRIC_COLUMNS column, NaN unless given), one row per team."""
    table = pd.DataFrame(
        {name: [rows[t].get(name, float("nan")) for t in rows] for name in metrics.METRIC_COLUMNS},
        index=pd.Index(list(rows), name="team"),
        dtype=float,
    )
    return table


def dora(name: str = "dora-2023", **overrides: object) -> Benchmarks:
    return benchmarks_for(name, overrides or None)
