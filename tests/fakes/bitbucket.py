"""A fake Bitbucket Cloud REST API 2.0 (the parts the bitbucket source reads), served
on 127.0.0.1 under ``/2.0/repositories/{workspace}/{repo_slug}``.

Like Bitbucket it pages every listing with ``page``/``pagelen`` (capped at the
endpoint's maximum) and puts the absolute ``next`` URL, ``size``, ``page`` and
``pagelen`` in the body; it sorts by ``sort`` (``-state.started_on``,
``-created_on``, ``-updated_on``), filters deployments by ``environment``,
pipelines by ``target.branch`` and pull requests by ``state``; it answers
errors as ``{"type": "error", "error": {"message": ...}}``, a wrong credential
with 401 and unknown repos with 404. Bitbucket publishes its OpenAPI only on
its own site (no copy could be verified), so the shapes follow the API
reference's examples.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
PREFIX = "/2.0/repositories/"
MAX_PAGELEN = {"pullrequests": 50}


def ts(value: datetime) -> str:
    """Bitbucket's timestamps: microseconds and an offset."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def uuid(n: int, kind: int = 0) -> str:
    return "{" + f"{kind:08x}-0000-4000-8000-{n:012x}" + "}"


def error(status: int, message: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"message": message}})


@dataclass
class FakeRepo:
    full_name: str
    mainbranch: str = "main"
    environments: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    diffstat: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def environment(self, n: int, name: str, kind: str = "Production") -> str:
        ident = uuid(n, 1)
        rank = {"Test": 0, "Staging": 1, "Production": 2}[kind]
        self.environments.append(
            {
                "type": "deployment_environment",
                "uuid": ident,
                "name": name,
                "slug": name.lower(),
                "environment_type": {
                    "type": "deployment_environment_type",
                    "name": kind,
                    "rank": rank,
                },
                "rank": n,
                "hidden": False,
                "restrictions": {"admin_only": False},
            }
        )
        return ident

    def deploy(
        self,
        n: int,
        env: str,
        sha: str,
        started: datetime,
        *,
        status: str = "SUCCESSFUL",
        state: str = "COMPLETED",
        minutes: float = 5,
        release: str | None = None,
    ) -> None:
        state_obj: dict[str, Any] = {
            "type": f"deployment_state_{state.lower()}",
            "name": state,
            "url": f"https://bitbucket.org/{self.full_name}/pipelines/results/{n}",
            "started_on": ts(started),
        }
        if state == "COMPLETED":
            state_obj["status"] = {"type": "deployment_state_completed_status", "name": status}
            state_obj["completed_on"] = ts(started + timedelta(minutes=minutes))
        if state == "UNDEPLOYED":
            del state_obj["started_on"]
        self.deployments.append(
            {
                "type": "deployment",
                "uuid": uuid(n, 2),
                "number": n,
                "key": f"deploy-{n}",
                "version": 1,
                "state": state_obj,
                "environment": {"type": "deployment_environment", "uuid": env},
                "release": {
                    "type": "deployment_release",
                    "uuid": uuid(n, 3),
                    "name": release or f"#{n}",
                    "url": f"https://bitbucket.org/{self.full_name}/pipelines/results/{n}",
                    "commit": {"type": "commit", "hash": sha},
                    "created_on": ts(started - timedelta(minutes=1)),
                },
                "deployable": {
                    "type": "deployment_deployable_pipeline",
                    "uuid": uuid(n, 4),
                    "name": f"#{n}",
                    "commit": {"type": "commit", "hash": sha},
                    "pipeline": {"type": "pipeline", "uuid": uuid(n, 5)},
                },
            }
        )

    def pipeline(
        self,
        n: int,
        created: datetime,
        *,
        result: str | None = "SUCCESSFUL",
        branch: str | None = None,
        minutes: float = 7,
    ) -> None:
        state: dict[str, Any] = {"type": "pipeline_state_in_progress", "name": "IN_PROGRESS"}
        if result is not None:
            state = {
                "type": "pipeline_state_completed",
                "name": "COMPLETED",
                "result": {"type": f"pipeline_state_completed_{result.lower()}", "name": result},
            }
        pipeline: dict[str, Any] = {
            "type": "pipeline",
            "uuid": uuid(n, 6),
            "build_number": n,
            "run_number": 1,
            "creator": {"type": "user", "display_name": "CI bot"},
            "repository": {"type": "repository", "full_name": self.full_name},
            "target": {
                "type": "pipeline_ref_target",
                "ref_type": "branch",
                "ref_name": branch or self.mainbranch,
                "commit": {"type": "commit", "hash": f"{n:040x}"},
                "selector": {"type": "branches", "pattern": branch or self.mainbranch},
            },
            "trigger": {"type": "pipeline_trigger_push", "name": "PUSH"},
            "state": state,
            "created_on": ts(created),
            "build_seconds_used": int(minutes * 60),
        }
        if result is not None:
            pipeline["completed_on"] = ts(created + timedelta(minutes=minutes))
            pipeline["duration_in_seconds"] = int(minutes * 60)
        self.pipelines.append(pipeline)

    def pull(
        self,
        n: int,
        merged: datetime,
        first_commit: datetime,
        *,
        title: str = "change",
        state: str = "MERGED",
        commits: int = 3,
    ) -> None:
        self.pulls.append(
            {
                "type": "pullrequest",
                "id": n,
                "title": title,
                "state": state,
                "author": {"type": "user", "display_name": "Dev"},
                "source": {"branch": {"name": f"feature/{n}"}, "commit": {"hash": f"{n:012x}"}},
                "destination": {"branch": {"name": self.mainbranch}, "commit": {"hash": "d" * 12}},
                "merge_commit": {"type": "commit", "hash": f"{n:012x}"}
                if state == "MERGED"
                else None,
                "comment_count": 0,
                "task_count": 0,
                "close_source_branch": True,
                "created_on": ts(first_commit + timedelta(hours=1)),
                "updated_on": ts(merged),
                "links": {
                    "html": {"href": f"https://bitbucket.org/{self.full_name}/pull-requests/{n}"}
                },
            }
        )
        # Bitbucket lists a pull request's commits newest first.
        self.commits[n] = [
            {
                "type": "commit",
                "hash": f"{n:036x}{i:04x}",
                "date": ts(first_commit + timedelta(hours=i)),
                "message": f"commit {i}",
                "author": {"type": "author", "raw": "Dev <dev@acme.example>"},
            }
            for i in reversed(range(commits))
        ]
        self.diffstat[n] = [
            {
                "type": "diffstat",
                "status": "modified",
                "lines_added": 3,
                "lines_removed": 1,
                "old": {"path": "src/app.py", "type": "commit_file"},
                "new": {"path": "src/app.py", "type": "commit_file"},
            }
        ]


class FakeBitbucket:
    """Serves ``/2.0/repositories/...`` for an app password (``username``) or access token."""

    def __init__(self, server: FakeServer, token: str, username: str | None = None) -> None:
        self.server = server
        self.token = token
        self.username = username
        self.repos: dict[str, FakeRepo] = {}
        server.route(lambda p: p.startswith(PREFIX), self.handle)

    @property
    def url(self) -> str:
        return self.server.url + "/2.0"

    def repo(self, full_name: str, mainbranch: str = "main") -> FakeRepo:
        self.repos[full_name.lower()] = FakeRepo(full_name, mainbranch)
        return self.repos[full_name.lower()]

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.username is not None:
            pair = base64.b64encode(f"{self.username}:{self.token}".encode()).decode()
            return header == f"Basic {pair}"
        return header == f"Bearer {self.token}"

    def handle(self, request: Request, server: FakeServer) -> Reply:
        if not self.authorized(request):
            return error(401, "Unauthorized")
        parts = request.path[len(PREFIX) :].strip("/").split("/")
        repo = self.repos.get("/".join(parts[:2]).lower())
        if repo is None:
            return error(404, "Repository not found")
        rest, q = parts[2:], request.query
        if not rest:
            return Reply(
                200,
                {
                    "type": "repository",
                    "full_name": repo.full_name,
                    "mainbranch": {"type": "branch", "name": repo.mainbranch},
                },
            )
        if rest == ["environments"]:
            return self.paged(request, "environments", repo.environments)
        if rest == ["deployments"]:
            items = [
                d
                for d in repo.deployments
                if q.get("environment") in (None, d["environment"]["uuid"])
            ]
            items.sort(key=lambda d: d["state"].get("started_on", ""), reverse=True)
            return self.paged(request, "deployments", items)
        if rest == ["pipelines"]:
            items = [
                p
                for p in repo.pipelines
                if q.get("target.branch") in (None, p["target"]["ref_name"])
            ]
            items.sort(key=lambda p: p["created_on"], reverse=True)
            return self.paged(request, "pipelines", items)
        if rest == ["pullrequests"]:
            items = [p for p in repo.pulls if p["state"] == q.get("state", "OPEN")]
            items.sort(key=lambda p: p["updated_on"], reverse=True)
            return self.paged(request, "pullrequests", items)
        if len(rest) == 3 and rest[0] == "pullrequests" and rest[2] in ("commits", "diffstat"):
            table = repo.commits if rest[2] == "commits" else repo.diffstat
            return self.paged(request, "commits", table.get(int(rest[1]), []))
        return error(404, "Resource not found")

    def paged(self, request: Request, what: str, items: list[Any]) -> Reply:
        pagelen = min(int(request.query.get("pagelen", 10)), MAX_PAGELEN.get(what, 100))
        page = int(request.query.get("page", 1))
        chunk = items[(page - 1) * pagelen : page * pagelen]
        body: dict[str, Any] = {
            "pagelen": pagelen,
            "page": page,
            "size": len(items),
            "values": chunk,
        }
        if page * pagelen < len(items):
            query = {**request.query, "page": str(page + 1)}
            body["next"] = f"{self.server.url}{request.path}?{urlencode(query)}"
        return Reply(200, body)
