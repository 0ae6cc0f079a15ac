"""A fake Argo CD API server (the parts the argocd source reads), on 127.0.0.1.

Like Argo CD it answers ``GET /api/v1/applications`` with the whole list (no
pagination; ``projects`` and a label ``selector`` narrow it) and
``/api/v1/applications/{name}/managed-resources`` with each resource's live
state as a JSON string (``group``/``kind`` narrow it); it wants a bearer token
(401 with a gRPC-style error otherwise) and writes RFC 3339 times. Every answer
is recorded (``served``) with the Swagger definition it follows, for checks
against Argo CD's published swagger.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
PREFIX = "/api/v1/applications"


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeApp:
    name: str
    namespace: str = "argocd"
    destination: str = "default"
    project: str = "default"
    repo_url: str = "https://github.com/acme/deploy.git"
    labels: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    operation: dict[str, Any] | None = None
    rollout: str | None = None
    """``canary`` or ``blueGreen``: the app manages an Argo Rollouts Rollout."""

    def sync(self, revision: str, started: datetime, minutes: float = 2) -> None:
        """A successful sync: a history entry and the current operation."""
        finished = started + timedelta(minutes=minutes)
        self.history.append(
            {
                "id": len(self.history),
                "revision": revision,
                "deployedAt": ts(finished),
                "deployStartedAt": ts(started),
                "source": {
                    "repoURL": self.repo_url,
                    "path": "apps/" + self.name,
                    "targetRevision": "HEAD",
                },
                "initiatedBy": {"automated": True},
            }
        )
        self.operate("Succeeded", revision, started, finished)

    def operate(
        self, phase: str, revision: str, started: datetime, finished: datetime | None
    ) -> None:
        """The current (last) operation, e.g. a failed or running sync."""
        self.operation = {
            "operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": True}},
            "phase": phase,
            "message": "successfully synced"
            if phase == "Succeeded"
            else "one or more objects failed",
            "startedAt": ts(started),
            "syncResult": {
                "revision": revision,
                "resources": [],
                "source": {"repoURL": self.repo_url},
            },
        }
        if finished is not None:
            self.operation["finishedAt"] = ts(finished)

    def body(self, limit: int) -> dict[str, Any]:
        resources = [
            {
                "group": "",
                "version": "v1",
                "kind": "Service",
                "namespace": self.destination,
                "name": self.name,
                "status": "Synced",
            }
        ]
        if self.rollout:
            resources.append(
                {
                    "group": "argoproj.io",
                    "version": "v1alpha1",
                    "kind": "Rollout",
                    "namespace": self.destination,
                    "name": self.name,
                    "status": "Synced",
                    "health": {"status": "Healthy"},
                }
            )
        status: dict[str, Any] = {
            "sync": {
                "status": "Synced",
                "revision": self.history[-1]["revision"] if self.history else "",
            },
            "health": {"status": "Healthy"},
            "history": self.history[-limit:],
            "resources": resources,
            "reconciledAt": ts(datetime(2024, 3, 10, tzinfo=UTC)),
        }
        if self.operation is not None:
            status["operationState"] = self.operation
        return {
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": self.labels,
                "uid": f"uid-{self.name}",
                "resourceVersion": "1",
                "creationTimestamp": ts(datetime(2023, 1, 1, tzinfo=UTC)),
            },
            "spec": {
                "project": self.project,
                "source": {
                    "repoURL": self.repo_url,
                    "path": "apps/" + self.name,
                    "targetRevision": "HEAD",
                },
                "destination": {
                    "server": "https://kubernetes.default.svc",
                    "namespace": self.destination,
                },
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
            },
            "status": status,
        }

    def managed(self) -> dict[str, Any]:
        if not self.rollout:
            return {"items": []}
        live = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": self.name, "namespace": self.destination},
            "spec": {"replicas": 3, "strategy": {self.rollout: {}}},
        }
        return {
            "items": [
                {
                    "group": "argoproj.io",
                    "kind": "Rollout",
                    "namespace": self.destination,
                    "name": self.name,
                    "liveState": json.dumps(live),
                    "targetState": json.dumps(live),
                    "modified": False,
                }
            ]
        }


class FakeArgoCD:
    """Serves ``/api/v1/applications`` for the bearer ``token``."""

    def __init__(self, server: FakeServer, token: str, history_limit: int = 10) -> None:
        self.server = server
        self.token = token
        self.history_limit = history_limit
        self.apps: dict[str, FakeApp] = {}
        self.served: list[tuple[str, Any]] = []
        server.route(lambda p: p.startswith(PREFIX), self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    def app(self, name: str, **fields: Any) -> FakeApp:
        self.apps[name] = FakeApp(name, **fields)
        return self.apps[name]

    def handle(self, request: Request, server: FakeServer) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {
                    "error": "invalid session: token is malformed",
                    "code": 16,
                    "message": "invalid session: token is malformed",
                },
            )
        rest = request.path[len(PREFIX) :].strip("/").split("/")
        if rest == [""]:
            apps = [a for a in self.apps.values() if self.wanted(a, request.query)]
            body = {
                "metadata": {"resourceVersion": "123"},
                "items": [a.body(self.history_limit) for a in apps],
            }
            self.served.append(("v1alpha1ApplicationList", body))
            return Reply(200, body)
        app = self.apps.get(unquote(rest[0]))
        if app is None:
            return Reply(404, {"error": "not found", "code": 5, "message": "application not found"})
        if rest[1:] == ["managed-resources"]:
            body = app.managed()
            if request.query.get("kind") not in (None, "Rollout"):
                body = {"items": []}
            self.served.append(("applicationManagedResourcesResponse", body))
            return Reply(200, body)
        return Reply(404, {"error": "not found", "code": 5, "message": "not found"})

    @staticmethod
    def wanted(app: FakeApp, query: dict[str, str]) -> bool:
        projects = query.get("projects")
        if projects and app.project != projects:
            return False
        selector = query.get("selector")
        if selector:
            key, _, value = selector.partition("=")
            return app.labels.get(key) == value
        return True
