"""GitHub's API objects as events (pure; checked against GitHub's OpenAPI examples).

Deployments with their statuses, deploy-workflow runs, workflow runs and merged
pull requests become the dicts :class:`~scorecard.sources.records.Collected`
keeps; nothing here talks to the network.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from scorecard.sources.records import change_event, deployment_event, parse_time

__all__ = [
    "change_record",
    "deployment_record",
    "first_commit_time",
    "run_record",
    "workflow_deployment_record",
]

_RUN_CONCLUSIONS: Final = {
    "success": "success",
    "failure": "failure",
    "timed_out": "failure",
    "startup_failure": "failure",
    "cancelled": "cancelled",
    "skipped": "skipped",
}
_DEPLOY_STATES: Final = {
    "success": "success",
    "failure": "failure",
    "error": "failure",
    "in_progress": "in_progress",
    "queued": "in_progress",
    "pending": "in_progress",
}


def deployment_record(
    deployment: dict[str, Any],
    statuses: list[Any],
    *,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deployment and its statuses (newest first)."""
    if not isinstance(deployment, dict):
        return None
    started = parse_time(deployment.get("created_at"))
    if started is None or deployment.get("id") is None:
        return None
    latest = None
    superseded = False
    for status in statuses:
        if not isinstance(status, dict):
            continue
        if status.get("state") == "inactive":
            superseded = True  # a later deployment replaced it; look at what it was before
            continue
        latest = status
        break
    state = latest.get("state") if latest is not None else None
    finished = parse_time(latest.get("created_at")) if latest is not None else None
    status_value = _DEPLOY_STATES.get(str(state)) if state is not None else None
    if status_value is None:
        # No decisive status: an inactive-only history was live once; otherwise still running.
        status_value = "success" if superseded else "in_progress"
    if status_value == "in_progress":
        finished = None
    env = (latest or {}).get("environment") or deployment.get("environment")
    return deployment_event(
        f"{repo}/deployments/{deployment['id']}",
        source,
        team,
        repo,
        environment=deployment.get("environment") or env,
        status=status_value,
        started_at=started,
        finished_at=finished,
        commit_sha=deployment.get("sha"),
        url=deployment.get("url"),
    )


def workflow_deployment_record(
    run: dict[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deploy workflow's run."""
    started = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    if started is None or run.get("id") is None:
        return None
    if run.get("status") != "completed":
        status, finished = "in_progress", None
    else:
        conclusion = _RUN_CONCLUSIONS.get(str(run.get("conclusion")), "other")
        status = {"success": "success", "cancelled": "cancelled", "skipped": "cancelled"}.get(
            conclusion, "failure"
        )
        finished = parse_time(run.get("updated_at"))
    ident = f"{repo}/actions/runs/{run['id']}"
    return deployment_event(
        ident,
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=finished,
        commit_sha=run.get("head_sha"),
        url=run.get("html_url"),
    )


def run_record(
    run: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``CIRun`` event; ``pending`` is set for runs that have not completed."""
    if not isinstance(run, dict) or run.get("id") is None:
        return None
    started = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    if started is None:
        return None
    completed = run.get("status") == "completed"
    attempt = run.get("run_attempt")
    return {
        "id": f"{repo}/actions/runs/{run['id']}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": run.get("name") or str(run.get("path") or "").split("@", 1)[0] or None,
        "branch": run.get("head_branch"),
        "is_default_branch": False,
        "commit_sha": run.get("head_sha"),
        "conclusion": _RUN_CONCLUSIONS.get(str(run.get("conclusion")), "other")
        if completed
        else None,
        "started_at": started,
        "finished_at": parse_time(run.get("updated_at")) if completed else None,
        "attempt": attempt if isinstance(attempt, int) and attempt > 0 else 1,
        "pending": not completed,
    }


def change_record(
    pr: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Change`` event from a merged pull request (``first_commit_at`` filled later)."""
    merged = parse_time(pr.get("merged_at"))
    if merged is None or pr.get("number") is None:
        return None
    labels = [
        label["name"]
        for label in pr.get("labels") or []
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    ]
    ident = f"{repo}/pull/{pr['number']}"
    return change_event(
        ident,
        source,
        team,
        repo,
        title=pr.get("title"),
        merged_at=merged,
        merge_sha=pr.get("merge_commit_sha"),
        labels=labels,
    )


def first_commit_time(commits: list[Any]) -> datetime | None:
    """The earliest author date among a PR's commits (``commit.author.date``)."""
    times = []
    for item in commits:
        if not isinstance(item, dict):
            continue
        commit = item.get("commit") or {}
        when = parse_time((commit.get("author") or {}).get("date")) or parse_time(
            (commit.get("committer") or {}).get("date")
        )
        if when is not None:
            times.append(when)
    return min(times) if times else None
