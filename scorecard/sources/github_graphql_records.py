"""GitHub's GraphQL answers as events: deployments with their statuses and merged
pull requests, read into the very records the REST path produces (through the
public functions of :mod:`scorecard.sources.github_records`). Pure; the
documents they answer are in :mod:`scorecard.sources.github_graphql`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from scorecard.sources.github_records import change_record, deployment_record, first_commit_time
from scorecard.sources.records import matches_any, parse_time

__all__ = [
    "FILES_PER_PULL",
    "DeploymentPage",
    "PullPage",
    "deployment_items",
    "deployment_page",
    "pull_items",
    "pull_page",
]

FILES_PER_PULL: Final = 100
"""Changed files asked per pull request (one page; more are fetched over REST)."""


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _next_cursor(connection: Any) -> str | None:
    info = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(info, dict) or not info.get("hasNextPage"):
        return None
    cursor = info.get("endCursor")
    return cursor if isinstance(cursor, str) and cursor else None


# --- deployments --------------------------------------------------------------------------


def deployment_items(
    node: Mapping[str, Any], *, repo: str, api_url: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A deployment node as REST's deployment object and its statuses (newest first),
    so :func:`~scorecard.sources.github_records.deployment_record` reads it as it
    reads REST's. ``url`` is the REST URL REST would give (from ``api_url``)."""
    ident = node.get("databaseId")
    ref = node.get("ref")
    item: dict[str, Any] = {
        "id": ident,
        "sha": node.get("commitOid"),
        "ref": ref.get("name") if isinstance(ref, dict) else None,
        "task": node.get("task"),
        "environment": node.get("environment"),
        "description": node.get("description"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "url": f"{api_url.rstrip('/')}/repos/{repo}/deployments/{ident}"
        if ident is not None
        else None,
    }
    statuses = [
        {
            "state": str(s.get("state") or "").lower() or None,
            "environment": s.get("environment"),
            "created_at": s.get("createdAt"),
        }
        for s in _nodes(node.get("statuses"))
    ]
    # GitHub lists a deployment's statuses oldest first; REST's records want the newest
    # first. Reverse, then order by time (stable) in case an answer is ordered otherwise.
    statuses.reverse()
    statuses.sort(key=lambda s: s["created_at"] or "", reverse=True)
    return item, statuses


@dataclass
class DeploymentPage:
    """One repo's page of deployments read from an answer."""

    records: list[dict[str, Any]]
    """``Deployment`` events, as REST's path records them (``relevant`` ones only)."""
    items: list[dict[str, Any]]
    """The same deployments as REST objects (for callers that look at more fields)."""
    cursor: str | None
    """Where the next page starts; None when this page was the last one or reached
    past ``since``."""
    oldest: datetime | None
    """The oldest ``createdAt`` on the page."""
    bad: list[str] = field(default_factory=list)
    """What could not be read (``"{repo} deployment {id}"``), for ``Collected.bad``."""


def deployment_page(
    repository: Any,
    *,
    repo: str,
    team: str | None,
    source: str,
    api_url: str,
    since: datetime | None = None,
    relevant: Callable[[Any], bool] | None = None,
    rollback_patterns: Sequence[re.Pattern[str]] = (),
) -> DeploymentPage:
    """A page of deployments from the ``repository`` object of an answer (``data
    ["repository"]``, or ``data[alias]`` of a batch).

    Deployments created before ``since`` are left out and end the listing (the
    page is newest first). ``relevant`` keeps only some environments (production
    and canaries); ``rollback_patterns`` mark rollbacks by description, ref or task,
    as the REST path does."""
    connection = repository.get("deployments") if isinstance(repository, dict) else None
    records: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    bad: list[str] = []
    oldest: datetime | None = None
    for node in _nodes(connection):
        item, statuses = deployment_items(node, repo=repo, api_url=api_url)
        created = parse_time(item["created_at"])
        if created is None:
            bad.append(f"{repo} deployment {item['id']}")
            continue
        oldest = created if oldest is None else min(oldest, created)
        if since is not None and created < since:
            continue
        if relevant is not None and not relevant(item["environment"]):
            continue
        record = deployment_record(item, statuses, repo=repo, team=team, source=source)
        if record is None:
            bad.append(f"{repo} deployment {item['id']}")
            continue
        record["is_rollback"] = any(
            matches_any(item.get(k), rollback_patterns) for k in ("description", "ref", "task")
        )
        items.append(item)
        records.append(record)
    cursor = _next_cursor(connection)
    if since is not None and oldest is not None and oldest < since:
        cursor = None
    return DeploymentPage(records, items, cursor, oldest, bad)


# --- merged pull requests -----------------------------------------------------------------


def pull_items(node: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A pull request node as REST's pull request object and its first commit as
    REST's commit object (a list of at most one)."""
    merge = node.get("mergeCommit")
    pr: dict[str, Any] = {
        "number": node.get("number"),
        "title": node.get("title"),
        "merged_at": node.get("mergedAt"),
        "updated_at": node.get("updatedAt"),
        "merge_commit_sha": merge.get("oid") if isinstance(merge, dict) else None,
        "labels": [{"name": label.get("name")} for label in _nodes(node.get("labels"))],
        "base": {"ref": node.get("baseRefName")},
    }
    commits = []
    for item in _nodes(node.get("commits")):
        commit = item.get("commit")
        if isinstance(commit, dict):
            commits.append(
                {
                    "commit": {
                        "author": {"date": commit.get("authoredDate")},
                        "committer": {"date": commit.get("committedDate")},
                    }
                }
            )
    return pr, commits


@dataclass
class PullPage:
    """One repo's page of merged pull requests read from an answer."""

    records: list[dict[str, Any]]
    """``Change`` events as REST's path records them, ``first_commit_at`` set, and
    ``paths`` set when the query asked for files."""
    cursor: str | None
    oldest: datetime | None
    """The oldest ``updatedAt`` on the page."""
    files_elsewhere: list[int] = field(default_factory=list)
    """Numbers of pull requests whose paths GraphQL cannot give completely: more
    than :data:`FILES_PER_PULL` files, or a renamed file (GraphQL has no previous
    path; REST's records list both sides of a move). Fetch their files over REST."""
    bad: list[str] = field(default_factory=list)


def pull_page(
    repository: Any,
    *,
    repo: str,
    team: str | None,
    source: str,
    since: datetime | None = None,
    with_files: bool = False,
) -> PullPage:
    """A page of merged pull requests from the ``repository`` object of an answer.

    Pull requests last updated before ``since`` are left out and end the listing
    (the page is most recently updated first), as REST's listing stops. With
    ``with_files`` (the query's ``withFiles``) each record's ``paths`` are the
    changed files; otherwise ``paths`` stays empty, as over REST."""
    connection = repository.get("pullRequests") if isinstance(repository, dict) else None
    records: list[dict[str, Any]] = []
    elsewhere: list[int] = []
    bad: list[str] = []
    oldest: datetime | None = None
    for node in _nodes(connection):
        pr, commits = pull_items(node)
        updated = parse_time(pr["updated_at"])
        if updated is not None:
            oldest = updated if oldest is None else min(oldest, updated)
            if since is not None and updated < since:
                continue
        if not pr["merged_at"]:
            continue
        record = change_record(pr, repo=repo, team=team, source=source)
        if record is None:
            bad.append(f"{repo} pull {pr['number']}")
            continue
        record["first_commit_at"] = first_commit_time(commits)
        if with_files:
            files = node.get("files")
            paths = [str(f["path"]) for f in _nodes(files) if isinstance(f.get("path"), str)]
            record["paths"] = paths
            info = files.get("pageInfo") if isinstance(files, dict) else None
            more = isinstance(info, dict) and bool(info.get("hasNextPage"))
            renamed = any(f.get("changeType") == "RENAMED" for f in _nodes(files))
            if (more or renamed) and isinstance(pr["number"], int):
                elsewhere.append(pr["number"])
        records.append(record)
    cursor = _next_cursor(connection)
    if since is not None and oldest is not None and oldest < since:
        cursor = None
    return PullPage(records, cursor, oldest, elsewhere, bad)
