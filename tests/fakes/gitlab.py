"""A fake GitLab REST API (v4; the parts the gitlab source reads), served on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakeServer, Reply, Request, page_slice

UTC = timezone.utc
PREFIX = "/api/v4/projects/"


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeProject:
    path: str
    default_branch: str = "main"
    deployments: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    diffs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)
    """A ref (branch name or commit id) -> the commit ids reachable from it, newest first."""
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def deploy(
        self,
        id: int,
        sha: str,
        environment: str,
        created: datetime,
        status: str = "success",
        minutes: float | None = 10,
        ref: str = "main",
    ) -> None:
        finished = created + timedelta(minutes=minutes) if minutes is not None else None
        self.deployments.append(
            {
                "id": id,
                "iid": id,
                "ref": ref,
                "sha": sha,
                "status": status,
                "created_at": ts(created),
                "updated_at": ts(finished or created),
                "environment": {"id": 1, "name": environment},
                "deployable": {
                    "id": id * 10,
                    "status": status,
                    "started_at": ts(created),
                    "finished_at": ts(finished) if finished and status != "running" else None,
                    "commit": {"id": sha, "title": "deploy"},
                    "web_url": f"https://gitlab.example/{self.path}/-/jobs/{id * 10}",
                },
            }
        )

    def pipeline(
        self, id: int, created: datetime, status: str = "success", ref: str | None = None
    ) -> None:
        self.pipelines.append(
            {
                "id": id,
                "iid": id,
                "sha": f"{id:040x}",
                "ref": ref or self.default_branch,
                "status": status,
                "source": "push",
                "created_at": ts(created),
                "updated_at": ts(created + timedelta(minutes=7)),
                "web_url": f"https://gitlab.example/{self.path}/-/pipelines/{id}",
            }
        )

    def merge_request(
        self, iid: int, merged: datetime, first_commit: datetime, title: str = "change"
    ) -> None:
        self.merge_requests.append(
            {
                "id": iid * 1000,
                "iid": iid,
                "title": title,
                "state": "merged",
                "labels": ["backend"],
                "merged_at": ts(merged),
                "updated_at": ts(merged),
                "merge_commit_sha": f"{iid:040x}",
                "sha": f"{iid + 1:040x}",
            }
        )
        self.diffs[iid] = [{"old_path": "src/app.rb", "new_path": "src/app.rb"}]
        # GitLab lists an MR's commits newest first.
        self.commits[iid] = [
            {"id": f"{iid:038x}{i:02x}", "authored_date": ts(first_commit + timedelta(hours=i))}
            for i in reversed(range(3))
        ]


class FakeGitLab:
    """Serves ``/api/v4/projects/...`` with ``x-next-page`` pagination."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.projects: dict[str, FakeProject] = {}
        server.route(lambda p: p.startswith(PREFIX), self.handle)

    @property
    def url(self) -> str:
        return self.server.url + "/api/v4"

    def project(self, path: str, default_branch: str = "main") -> FakeProject:
        self.projects[path] = FakeProject(path, default_branch)
        return self.projects[path]

    def handle(self, request: Request, server: FakeServer) -> Reply:
        rest = request.path[len(PREFIX) :].split("/")
        if "%2F" not in rest[0] and "%2f" not in rest[0]:
            return Reply(404, {"message": "404 Project Not Found (use an encoded path)"})
        project = self.projects.get(unquote(rest[0]))
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        tail = rest[1:]
        newest = lambda items: sorted(items, key=lambda x: x["updated_at"], reverse=True)  # noqa: E731
        if not tail:
            return Reply(
                200, {"path_with_namespace": project.path, "default_branch": project.default_branch}
            )
        if tail == ["deployments"]:
            return self.paged(request, newest(project.deployments))
        if tail == ["pipelines"]:
            ref = request.query.get("ref")
            return self.paged(
                request, newest([p for p in project.pipelines if ref is None or p["ref"] == ref])
            )
        if tail == ["merge_requests"]:
            return self.paged(request, newest(project.merge_requests))
        if len(tail) == 3 and tail[0] == "merge_requests" and tail[2] == "commits":
            return self.paged(request, project.commits.get(int(tail[1]), []))
        if len(tail) == 3 and tail[0] == "merge_requests" and tail[2] == "diffs":
            return self.paged(request, project.diffs.get(int(tail[1]), []))
        if tail == ["repository", "commits"]:
            ref = request.query.get("ref_name") or project.default_branch
            if ref not in project.history and project.history:
                return Reply(404, {"message": "404 Commit Not Found"})
            return self.paged(request, [{"id": c} for c in project.history.get(ref, [])])
        if tail == ["jobs"]:
            jobs = sorted(project.jobs, key=lambda j: j["id"], reverse=True)
            return self.paged(request, jobs)
        return Reply(404, {"message": "404 Not Found"})

    def paged(self, request: Request, items: list[Any]) -> Reply:
        chunk, page, _per_page, last = page_slice(items, request.query, 20)
        headers = {
            "x-page": str(page),
            "x-total-pages": str(last),
            "x-next-page": str(page + 1) if page < last else "",
            "RateLimit-Remaining": "1990",
        }
        return Reply(200, chunk, headers)
