"""Azure DevOps answers as scorecard events (pure functions, no I/O).

The shapes are those of the Azure DevOps REST API 7.1 (``Build``,
``TimelineRecord``, ``EnvironmentDeploymentExecutionRecord``,
``GitPullRequest``, ``GitCommitRef``); lists arrive as ``{"count", "value"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from scorecard.sources.records import change_event, deployment_event, glob_match, parse_time

__all__ = [
    "PAGE_SIZE",
    "BuildRef",
    "build_record",
    "build_ref",
    "change_record",
    "deployment_from_json",
    "deployments_to_json",
    "environment_deployment",
    "first_commit_time",
    "iteration_paths",
    "run_deployment",
    "short_branch",
    "stage_deployments",
]

PAGE_SIZE: Final = 100
"""``$top`` of every listing."""

BUILD_CONCLUSIONS: Final[Mapping[str, str]] = {
    "succeeded": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "partiallySucceeded": "other",
}
"""A build's ``result``; ``partiallySucceeded`` (a step failed but was allowed to)
counts as neither success nor failure."""
BUILD_STATUSES: Final[Mapping[str, str]] = {
    "succeeded": "success",
    "partiallySucceeded": "success",
    "failed": "failure",
    "canceled": "cancelled",
}
"""A build's ``result`` when the whole run is the deployment."""
TASK_RESULTS: Final[Mapping[str, str]] = {
    "succeeded": "success",
    "succeededWithIssues": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "abandoned": "cancelled",
}
"""A timeline record's or deployment record's ``result`` (``skipped``: no deployment)."""


def short_branch(ref: Any) -> str | None:
    """``refs/heads/main`` -> ``main`` (other refs as they are)."""
    if not isinstance(ref, str) or not ref:
        return None
    return ref.removeprefix("refs/heads/")


@dataclass(frozen=True)
class BuildRef:
    """What a deployment needs of the build (pipeline run) that made it."""

    id: int
    repo_name: str | None
    """The repository's name, for Azure Repos Git (``TfsGit``) builds only."""
    branch: str | None
    sha: str | None
    url: str | None
    definition: str | None


def build_ref(build: Mapping[str, Any]) -> BuildRef | None:
    """The parts of a ``Build`` a deployment or run needs (None without an id)."""
    ident = build.get("id")
    if not isinstance(ident, int):
        return None
    repository = build.get("repository") or {}
    name = repository.get("name") if repository.get("type") in ("TfsGit", None) else None
    links = build.get("_links") or {}
    web = links.get("web") or {}
    return BuildRef(
        id=ident,
        repo_name=name if isinstance(name, str) else None,
        branch=short_branch(build.get("sourceBranch")),
        sha=build.get("sourceVersion") if isinstance(build.get("sourceVersion"), str) else None,
        url=web.get("href") if isinstance(web.get("href"), str) else None,
        definition=(build.get("definition") or {}).get("name"),
    )


def build_record(
    build: Mapping[str, Any], *, repo: str, team: str | None, source: str, default_branch: str
) -> dict[str, Any] | None:
    """A ``CIRun`` from a completed build; None when unreadable or without a result
    we count (``none``)."""
    ref = build_ref(build)
    conclusion = BUILD_CONCLUSIONS.get(str(build.get("result")))
    started = parse_time(build.get("startTime")) or parse_time(build.get("queueTime"))
    if ref is None or conclusion is None or started is None:
        return None
    return {
        "id": f"{repo}/builds/{ref.id}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": ref.definition or "pipeline",
        "branch": ref.branch,
        "is_default_branch": ref.branch == default_branch,
        "commit_sha": ref.sha,
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": parse_time(build.get("finishTime")),
        "attempt": 1,
    }


def run_deployment(
    build: Mapping[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A deployment from a whole run of a deploy pipeline (``deploy_pipelines``)."""
    ref = build_ref(build)
    status = BUILD_STATUSES.get(str(build.get("result")))
    started = parse_time(build.get("startTime")) or parse_time(build.get("queueTime"))
    if ref is None or status is None or started is None:
        return None
    return deployment_event(
        f"{repo}/builds/{ref.id}/run",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(build.get("finishTime")),
        commit_sha=ref.sha,
        url=ref.url,
    )


def stage_deployments(
    timeline: Mapping[str, Any],
    build: BuildRef,
    patterns: Sequence[str],
    *,
    repo: str,
    team: str | None,
    source: str,
    environment: str,
) -> list[dict[str, Any]]:
    """Deployments from a run's timeline: its stages named like ``patterns`` (any
    case, globs), else its jobs named so. Skipped ones deployed nothing."""
    records = [r for r in timeline.get("records") or [] if isinstance(r, dict)]
    for kind in ("Stage", "Job"):
        matched = [
            r for r in records if r.get("type") == kind and glob_match(r.get("name"), patterns)
        ]
        if matched:
            break
    out = []
    for record in matched:
        result = record.get("result")
        status = (
            "in_progress" if record.get("state") != "completed" else TASK_RESULTS.get(str(result))
        )
        started = parse_time(record.get("startTime"))
        if status is None or started is None:
            continue  # skipped (or never started): nothing was deployed
        out.append(
            deployment_event(
                f"{repo}/builds/{build.id}/stages/{record.get('name')}",
                source,
                team,
                repo,
                environment=environment,
                status=status,
                started_at=started,
                finished_at=parse_time(record.get("finishTime")),
                commit_sha=build.sha,
                url=build.url,
            )
        )
    return out


def environment_deployment(
    record: Mapping[str, Any],
    build: BuildRef | None,
    *,
    repo: str,
    team: str | None,
    source: str,
    environment: str,
) -> dict[str, Any] | None:
    """A deployment from an environment's deployment record (its run gives the commit);
    None when unreadable or skipped."""
    ident = record.get("id")
    result = record.get("result")
    finished = parse_time(record.get("finishTime"))
    started = parse_time(record.get("startTime")) or parse_time(record.get("queueTime"))
    if result is None and finished is None:
        status: str | None = "in_progress"
    else:
        status = TASK_RESULTS.get(str(result))
    if ident is None or status is None or started is None:
        return None
    return deployment_event(
        f"{repo}/deployments/{ident}",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=finished if status != "in_progress" else None,
        commit_sha=build.sha if build else None,
        url=build.url if build else None,
    )


def change_record(
    pull: Mapping[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Change`` from a completed pull request (``first_commit_at`` filled later)."""
    merged = parse_time(pull.get("closedDate"))
    number = pull.get("pullRequestId")
    if merged is None or number is None or pull.get("status") not in (None, "completed"):
        return None
    labels = [
        label.get("name")
        for label in pull.get("labels") or []
        if isinstance(label, dict)
        and isinstance(label.get("name"), str)
        and label.get("active", True)
    ]
    merge = pull.get("lastMergeCommit") or {}
    return change_event(
        f"{repo}/pullrequests/{number}",
        source,
        team,
        repo,
        title=pull.get("title"),
        merged_at=merged,
        merge_sha=merge.get("commitId") if isinstance(merge, dict) else None,
        labels=labels,
    )


def first_commit_time(commits: Sequence[Any]) -> datetime | None:
    """The earliest author date among a pull request's commits."""
    times = [
        parse_time((c.get("author") or {}).get("date"))
        or parse_time((c.get("committer") or {}).get("date"))
        for c in commits
        if isinstance(c, dict)
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def iteration_paths(changes: Mapping[str, Any]) -> list[str]:
    """The paths a pull request iteration's changes touch (both sides of a rename),
    without Azure's leading ``/``."""
    paths: list[str] = []
    for entry in changes.get("changeEntries") or []:
        if not isinstance(entry, dict):
            continue
        item = entry.get("item") or {}
        # The service sends a GitItem; the published Swagger types the generic item as a
        # string: take either.
        current = item.get("path") if isinstance(item, dict) else item
        for path in (current, entry.get("originalPath")):
            if isinstance(path, str) and path.strip("/") and path.lstrip("/") not in paths:
                paths.append(path.lstrip("/"))
    return paths


def deployments_to_json(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Deployment records as JSON (kept with a timeline's validators)."""
    return [
        {
            k: v.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(v, datetime) else v
            for k, v in r.items()
        }
        for r in records
    ]


def deployment_from_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record kept by :func:`deployments_to_json`, its times parsed again."""
    times = ("started_at", "finished_at")
    return {k: parse_time(v) if k in times and isinstance(v, str) else v for k, v in record.items()}
