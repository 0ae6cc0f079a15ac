"""Argo CD applications as scorecard events (pure functions, no I/O).

The shapes are those of Argo CD's API (``v1alpha1Application``: ``status.history``
entries of ``v1alpha1RevisionHistory``, ``status.operationState``, and the
managed resources' ``liveState`` JSON for Argo Rollouts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from scorecard.sources.records import parse_time

__all__ = [
    "OPERATION_STATUSES",
    "App",
    "app_of",
    "commit_of",
    "finished_at",
    "has_rollout",
    "history_deployments",
    "latest_history_id",
    "operation_deployment",
    "repo_path",
    "rollout_strategy",
]

OPERATION_STATUSES: Final[Mapping[str, str]] = {
    "Succeeded": "success",
    "Failed": "failure",
    "Error": "failure",
    "Running": "in_progress",
    "Terminating": "cancelled",
}
"""An operation's ``phase`` -> a deployment status."""
_SHA: Final = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True)
class App:
    """What the deployments of one application share."""

    name: str
    namespace: str | None
    """Where the Application lives (apps in any namespace), else None."""
    destination_namespace: str | None
    repo_url: str | None
    labels: Mapping[str, str]

    @property
    def key(self) -> str:
        """``namespace/name`` (or ``name``): unique across the Argo CD instance."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def app_of(item: Mapping[str, Any]) -> App | None:
    """The application's identity, destination and source repo; None without a name."""
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None
    source = spec.get("source") or next(iter(spec.get("sources") or []), None) or {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    namespace = meta.get("namespace")
    destination = (spec.get("destination") or {}).get("namespace")
    return App(
        name=name,
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        destination_namespace=destination if isinstance(destination, str) else None,
        repo_url=source.get("repoURL") if isinstance(source, dict) else None,
        labels={str(k): str(v) for k, v in (labels or {}).items()},
    )


def repo_path(url: str | None) -> str | None:
    """``owner/repo`` of a Git URL (``https://github.com/acme/api.git``,
    ``git@github.com:acme/api.git``); None for other sources (Helm, OCI)."""
    if not url:
        return None
    text = url.strip().removesuffix("/").removesuffix(".git")
    if "://" in text:
        text = text.split("://", 1)[1].split("/", 1)[1] if "/" in text.split("://", 1)[1] else ""
    elif ":" in text:
        text = text.split(":", 1)[1]
    parts = [p for p in text.split("/") if p]
    if len(parts) < 2 or parts[0] in ("_git",):
        return None
    if "_git" in parts:  # Azure Repos: org/project/_git/repo
        i = parts.index("_git")
        return f"{parts[i - 1]}/{parts[i + 1]}" if 0 < i < len(parts) - 1 else None
    return "/".join(parts[-2:])


def commit_of(entry: Mapping[str, Any]) -> str | None:
    """The revision synced, when it is a Git commit (a Helm chart version is not)."""
    revision = entry.get("revision")
    if not revision:
        revisions = entry.get("revisions") or []
        revision = revisions[0] if revisions else None
    return revision if isinstance(revision, str) and _SHA.match(revision) else None


def _event(app: App, ident: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"{app.key}/syncs/{ident}",
        "source": fields["source"],
        "team": fields["team"],
        "service": fields["service"],
        "repo": fields["repo"],
        "environment": fields["environment"],
        "status": fields["status"],
        "strategy": "unknown",
        "started_at": fields["started_at"],
        "finished_at": fields["finished_at"],
        "commit_sha": fields["commit_sha"],
        "is_rollback": False,
        "url": fields.get("url"),
    }


def history_deployments(
    item: Mapping[str, Any], app: App, *, after_id: int | None, **fields: Any
) -> list[dict[str, Any]]:
    """A successful deployment per sync in the application's history (Argo CD records
    only successful syncs there) newer than ``after_id``; each is identified by when its
    operation started, so the operation seen running earlier is replaced."""
    out = []
    for entry in (item.get("status") or {}).get("history") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
            continue
        if after_id is not None and entry["id"] <= after_id:
            continue
        finished = parse_time(entry.get("deployedAt"))
        started = parse_time(entry.get("deployStartedAt")) or finished
        if finished is None or started is None:
            continue
        ident = entry.get("deployStartedAt") or f"history-{entry['id']}"
        out.append(
            _event(
                app,
                str(ident),
                status="success",
                started_at=started,
                finished_at=finished,
                commit_sha=commit_of(entry),
                **fields,
            )
        )
    return out


def operation_deployment(item: Mapping[str, Any], app: App, **fields: Any) -> dict[str, Any] | None:
    """The application's current (last) sync operation as a deployment: how a failed or
    running sync is seen (history keeps successes only); None without one."""
    state = (item.get("status") or {}).get("operationState") or {}
    status = OPERATION_STATUSES.get(str(state.get("phase")))
    started = parse_time(state.get("startedAt"))
    if status is None or started is None or "sync" not in (state.get("operation") or {"sync": 1}):
        return None
    sync_result = state.get("syncResult") or {}
    revision = sync_result.get("revision") or (
        (state.get("operation") or {}).get("sync") or {}
    ).get("revision")
    return _event(
        app,
        str(state.get("startedAt")),
        status=status,
        started_at=started,
        finished_at=parse_time(state.get("finishedAt")) if status != "in_progress" else None,
        commit_sha=commit_of({"revision": revision}),
        **fields,
    )


def has_rollout(item: Mapping[str, Any]) -> bool:
    """Whether the application manages an Argo Rollouts ``Rollout``."""
    resources = (item.get("status") or {}).get("resources") or []
    return any(
        isinstance(r, dict) and r.get("kind") == "Rollout" and r.get("group") == "argoproj.io"
        for r in resources
    )


def rollout_strategy(managed: Mapping[str, Any]) -> str | None:
    """``canary`` or ``blue_green`` from a managed-resources answer's Rollouts (their
    ``liveState`` JSON); None when no Rollout says."""
    for item in managed.get("items") or []:
        if not isinstance(item, dict) or item.get("kind") != "Rollout":
            continue
        try:
            live = json.loads(item.get("liveState") or "null")
        except (TypeError, ValueError):
            continue
        strategy = ((live or {}).get("spec") or {}).get("strategy") or {}
        if "blueGreen" in strategy:
            return "blue_green"
        if "canary" in strategy:
            return "canary"
    return None


def latest_history_id(item: Mapping[str, Any]) -> int | None:
    ids = [
        e["id"]
        for e in (item.get("status") or {}).get("history") or []
        if isinstance(e, dict) and isinstance(e.get("id"), int)
    ]
    return max(ids) if ids else None


def finished_at(record: Mapping[str, Any]) -> datetime | None:
    value = record.get("finished_at") or record.get("started_at")
    return value if isinstance(value, datetime) else None
