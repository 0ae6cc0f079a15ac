"""A fake CircleCI API v2 (the parts the circleci source reads), served on 127.0.0.1.

Shaped after CircleCI's OpenAPI description (``api-specs/circleci/openapi.json``,
which the tests validate these answers against): `items` plus an opaque
`next_page_token` that the next request sends as `page-token`, 20 items a page;
the token in the `Circle-Token` header (401 `{"message": ...}` otherwise), 404
for unknown projects, pipelines listed newest first. Answers carry the rate-limit
headers CircleCI's API gateway adds, in both styles (``RateLimit-*`` and
``X-RateLimit-*``; CircleCI publishes no numbers, these are made up).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
PREFIX = "/api/v2/"
PAGE_SIZE = 20
"""CircleCI serves 20 items a page."""


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def page_token(offset: int) -> str:
    """An opaque token, as CircleCI's are."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def token_offset(token: str) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])


def rate_limit(remaining: int = 9_990, limit: int = 10_000, reset: int = 1_800) -> dict[str, str]:
    """CircleCI's rate-limit headers, as its API gateway sends them."""
    values = {"Limit": limit, "Remaining": remaining, "Reset": reset}
    return {
        f"{prefix}RateLimit-{name}": str(value)
        for prefix in ("", "X-")
        for name, value in values.items()
    }


@dataclass
class FakeProject:
    slug: str
    default_branch: str = "main"
    pipelines: list[dict[str, Any]] = field(default_factory=list)


class FakeCircleCI:
    """Projects, pipelines, workflows and jobs; ``ids`` numbers every UUID in order."""

    def __init__(self, server: FakeServer, token: str) -> None:
        self.server = server
        self.token = token
        self.projects: dict[str, FakeProject] = {}
        self.workflows: dict[str, list[dict[str, Any]]] = {}
        """Pipeline id -> its workflows."""
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        """Workflow id -> its jobs."""
        self.ids = 0
        self.job_numbers = 0
        server.route(lambda p: p.startswith(PREFIX), self.handle)

    @property
    def url(self) -> str:
        return self.server.url + "/api/v2"

    def uuid(self) -> str:
        self.ids += 1
        return str(uuid.UUID(int=self.ids))

    def project(self, slug: str, default_branch: str = "main") -> FakeProject:
        self.projects[slug] = FakeProject(slug, default_branch)
        return self.projects[slug]

    def pipeline(
        self,
        project: FakeProject,
        created: datetime,
        workflows: list[tuple[str, str]],
        *,
        branch: str | None = None,
        subject: str = "ship it",
        jobs: dict[str, list[tuple[str, str]]] | None = None,
        minutes: float = 8,
    ) -> dict[str, Any]:
        """A pipeline with ``workflows`` (name, status), and per workflow name its
        ``jobs`` (name, status)."""
        number = len(project.pipelines) + 1
        pid = self.uuid()
        revision = f"{number:040x}"
        pipeline = {
            "id": pid,
            "errors": [],
            "project_slug": project.slug,
            "updated_at": ts(created),
            "number": number,
            "state": "created",
            "created_at": ts(created),
            "trigger": {
                "type": "webhook",
                "received_at": ts(created),
                "actor": {"login": "dev", "avatar_url": None},
            },
            "vcs": {
                "provider_name": "GitHub",
                "origin_repository_url": f"https://github.com/{project.slug.split('/', 1)[1]}",
                "target_repository_url": f"https://github.com/{project.slug.split('/', 1)[1]}",
                "revision": revision,
                "branch": branch or project.default_branch,
                "commit": {"subject": subject, "body": ""},
            },
        }
        project.pipelines.append(pipeline)
        self.workflows[pid] = []
        for name, status in workflows:
            workflow = self._workflow(project, pipeline, name, status, created, minutes)
            self.workflows[pid].append(workflow)
            for job_name, job_status in (jobs or {}).get(name, []):
                self.jobs[workflow["id"]].append(
                    self._job(project, job_name, job_status, created, minutes)
                )
        return pipeline

    def _workflow(
        self,
        project: FakeProject,
        pipeline: dict[str, Any],
        name: str,
        status: str,
        created: datetime,
        minutes: float,
    ) -> dict[str, Any]:
        done = status not in ("running", "failing", "on_hold")
        workflow = {
            "pipeline_id": pipeline["id"],
            "id": self.uuid(),
            "name": name,
            "project_slug": project.slug,
            "status": status,
            "started_by": self.uuid(),
            "pipeline_number": pipeline["number"],
            "created_at": ts(created),
            "stopped_at": ts(created + timedelta(minutes=minutes)) if done else None,
        }
        self.jobs[workflow["id"]] = []
        return workflow

    def _job(
        self, project: FakeProject, name: str, status: str, created: datetime, minutes: float
    ) -> dict[str, Any]:
        self.job_numbers += 1
        return {
            "dependencies": [],
            "job_number": self.job_numbers,
            "id": self.uuid(),
            "started_at": ts(created + timedelta(minutes=1)),
            "name": name,
            "project_slug": project.slug,
            "status": status,
            "type": "build",
            "stopped_at": ts(created + timedelta(minutes=minutes)) if status != "running" else None,
        }

    # --- serving ------------------------------------------------------------------------

    def handle(self, request: Request, server: FakeServer) -> Reply:
        if request.headers.get("circle-token") != self.token:
            return Reply(401, {"message": "You must log in first."})
        rest = request.path[len(PREFIX) :].strip("/").split("/")
        if rest[0] == "project" and len(rest) in (4, 5):
            project = self.projects.get("/".join(rest[1:4]))
            if project is None:
                return Reply(404, {"message": "Project not found"})
            if len(rest) == 4:
                return Reply(200, self.project_body(project), rate_limit())
            if rest[4] == "pipeline":
                branch = request.query.get("branch")
                items = [p for p in project.pipelines if branch in (None, p["vcs"]["branch"])]
                return self.paged(request, sorted(items, key=lambda p: -p["number"]))
        if len(rest) == 3 and rest[0] == "pipeline" and rest[2] == "workflow":
            if rest[1] not in self.workflows:
                return Reply(404, {"message": "Pipeline not found"})
            return self.paged(request, self.workflows[rest[1]])
        if len(rest) == 3 and rest[0] == "workflow" and rest[2] == "job":
            if rest[1] not in self.jobs:
                return Reply(404, {"message": "Workflow not found"})
            return self.paged(request, self.jobs[rest[1]])
        return Reply(404, {"message": "Not found"})

    @staticmethod
    def project_body(project: FakeProject) -> dict[str, Any]:
        vcs, org, name = project.slug.split("/")
        return {
            "slug": project.slug,
            "name": name,
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, project.slug)),
            "organization_name": org,
            "organization_slug": f"{vcs}/{org}",
            "organization_id": str(uuid.uuid5(uuid.NAMESPACE_URL, org)),
            "vcs_info": {
                "vcs_url": f"https://github.com/{org}/{name}",
                "provider": "GitHub",
                "default_branch": project.default_branch,
            },
        }

    @staticmethod
    def paged(request: Request, items: list[dict[str, Any]]) -> Reply:
        token = request.query.get("page-token")
        offset = token_offset(token) if token else 0
        chunk = items[offset : offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(items)
        body = {"items": chunk, "next_page_token": page_token(offset + PAGE_SIZE) if more else None}
        return Reply(200, body, rate_limit(), etag=False)
