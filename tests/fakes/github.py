"""A fake GitHub REST API (the parts the github source reads), served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request, link_header, page_slice

UTC = timezone.utc
CAP = 1000


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class FakeRepo:
    name: str
    default_branch: str = "main"
    deployments: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    trunk: list[tuple[str, str]] = field(default_factory=list)
    """The default branch's commits, oldest first: (sha, committed at)."""
    branches: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """A commit off the default branch -> its ancestors, newest first (itself first)."""

    def commit(self, sha: str, at: datetime) -> None:
        """A commit on the default branch (added in the order they were made)."""
        self.trunk.append((sha, ts(at)))

    def branch_commit(self, sha: str, at: datetime, parent: str) -> None:
        """A commit on another branch (a hotfix, a release) on top of ``parent``."""
        base = self.branches.get(parent) or self.history(parent)
        self.branches[sha] = [(sha, ts(at)), *base]

    def history(self, sha: str | None = None) -> list[tuple[str, str]]:
        """The commits reachable from ``sha`` (default: the branch head), newest first."""
        if sha in self.branches:
            return list(self.branches[sha])
        shas = [c[0] for c in self.trunk]
        end = len(shas) if sha in (None, self.default_branch) else shas.index(sha) + 1
        return list(reversed(self.trunk[:end]))

    def deploy(
        self,
        id: int,
        sha: str,
        environment: str,
        created: datetime,
        states: list[tuple[str, datetime]],
        description: str = "",
        *,
        ref: str | None = "main",
        task: str = "deploy",
    ) -> None:
        """A deployment with statuses given oldest first."""
        self.deployments.append(
            {
                "id": id,
                "sha": sha,
                "ref": ref,
                "task": task,
                "environment": environment,
                "description": description,
                "created_at": ts(created),
                "updated_at": ts(created),
                "url": f"https://api.github.example/repos/{self.name}/deployments/{id}",
            }
        )
        self.statuses[id] = [
            {"id": id * 100 + n, "state": state, "environment": environment, "created_at": ts(at)}
            for n, (state, at) in reversed(list(enumerate(states)))
        ]

    def run(
        self,
        id: int,
        created: datetime,
        *,
        conclusion: str | None = "success",
        minutes: float = 5,
        name: str = "CI",
        path: str = ".github/workflows/ci.yml",
        branch: str | None = None,
        sha: str | None = None,
        title: str = "build",
    ) -> None:
        self.runs.append(
            {
                "id": id,
                "name": name,
                "path": path,
                "head_branch": branch or self.default_branch,
                "head_sha": sha or f"{id:040x}",
                "status": "completed" if conclusion else "in_progress",
                "conclusion": conclusion,
                "display_title": title,
                "created_at": ts(created),
                "run_started_at": ts(created),
                "updated_at": ts(created + timedelta(minutes=minutes)),
                "run_attempt": 1,
                "html_url": f"https://github.example/{self.name}/actions/runs/{id}",
            }
        )

    def pull(
        self,
        number: int,
        merged: datetime | None,
        first_commit: datetime,
        *,
        merge_sha: str | None = None,
        title: str = "change",
        labels: tuple[str, ...] = (),
        updated: datetime | None = None,
        files: tuple[str, ...] = ("src/app.py",),
        renamed: Mapping[str, str] | None = None,
        commits: int = 3,
        base: str = "main",
    ) -> None:
        """A closed pull request (merged unless ``merged`` is None) with ``commits``
        commits an hour apart from ``first_commit``; ``renamed`` maps new paths to old."""
        self.pulls.append(
            {
                "number": number,
                "state": "closed",
                "title": title,
                "labels": [{"name": label} for label in labels],
                "created_at": ts(first_commit),
                "updated_at": ts(updated or merged or first_commit),
                "closed_at": ts(merged or first_commit),
                "merged_at": ts(merged) if merged else None,
                "merge_commit_sha": merge_sha or f"{number:040x}",
                "base": {"ref": base},
            }
        )
        moved = dict(renamed or {})
        self.files[number] = [
            {"filename": name, "status": "modified", "additions": 1, "deletions": 0}
            for name in files
        ] + [
            {
                "filename": new,
                "previous_filename": old,
                "status": "renamed",
                "additions": 0,
                "deletions": 0,
            }
            for new, old in moved.items()
        ]
        self.commits[number] = [
            {
                "sha": f"{number:038x}{i:02x}",
                "commit": {
                    "author": {"date": ts(first_commit + timedelta(hours=i))},
                    "committer": {"date": ts(first_commit + timedelta(hours=i, minutes=5))},
                    "message": f"commit {i}",
                },
            }
            for i in range(commits)
        ]


class FakeGitHub:
    """Serves ``/repos/...`` for the repos added with :meth:`repo`."""

    def __init__(self, server: FakeServer) -> None:
        from tests.fakes.github_graphql import FakeGitHubGraphQL

        self.server = server
        self.repos: dict[str, FakeRepo] = {}
        self.graphql = FakeGitHubGraphQL(self.repos)
        """``POST /graphql`` over the same repos (GitHub's schema, points, limits)."""
        server.route(lambda p: p.startswith("/repos/"), self.handle)
        server.route("/graphql", self.graphql.handler)
        server.route("/rate_limit", self.rate_limit)

    def repo(self, name: str, default_branch: str = "main") -> FakeRepo:
        self.repos[name] = FakeRepo(name, default_branch)
        return self.repos[name]

    @property
    def url(self) -> str:
        return self.server.url

    def handle(self, request: Request, server: FakeServer) -> Reply:
        parts = request.path.strip("/").split("/")
        name = "/".join(parts[1:3])
        repo = self.repos.get(name)
        if repo is None:
            return Reply(404, {"message": "Not Found"})
        rest = parts[3:]
        if not rest:
            return Reply(200, {"full_name": name, "default_branch": repo.default_branch})
        if rest == ["deployments"]:
            items = sorted(repo.deployments, key=lambda d: (d["created_at"], d["id"]), reverse=True)
            return self.paged(request, items)
        if len(rest) == 3 and rest[0] == "deployments" and rest[2] == "statuses":
            return self.paged(request, repo.statuses.get(int(rest[1]), []))
        if rest == ["actions", "runs"]:
            return self.runs(request, repo)
        if rest == ["pulls"]:
            closed = [p for p in repo.pulls if p["state"] == "closed"]
            items = sorted(closed, key=lambda p: p["updated_at"], reverse=True)
            return self.paged(request, items)
        if len(rest) == 3 and rest[0] == "pulls" and rest[2] == "commits":
            return self.paged(request, repo.commits.get(int(rest[1]), []))
        if rest == ["commits"]:
            return self.commits(request, repo)
        if len(rest) == 3 and rest[0] == "pulls" and rest[2] == "files":
            return self.paged(request, repo.files.get(int(rest[1]), []))
        return Reply(404, {"message": "Not Found"})

    def rate_limit(self, request: Request, server: FakeServer) -> Reply:
        """``GET /rate_limit``: REST requests answered in full so far count against 5,000."""
        used = sum(1 for r in server.log if r.method == "GET" and r.path.startswith("/repos/"))
        reset = int(self.graphql.reset_at.timestamp())
        graphql = self.graphql
        return Reply(
            200,
            {
                "resources": {
                    "core": {"limit": 5000, "remaining": 5000 - used, "reset": reset},
                    "graphql": {
                        "limit": graphql.limit,
                        "remaining": graphql.remaining,
                        "reset": reset,
                    },
                }
            },
            etag=False,
        )

    def paged(self, request: Request, items: list[Any]) -> Reply:
        chunk, page, _per_page, last = page_slice(items, request.query)
        link = link_header(self.server.url, request.path, request.query, page, last)
        return Reply(200, chunk, {"Link": link} if link else {})

    def commits(self, request: Request, repo: FakeRepo) -> Reply:
        """``GET /repos/{repo}/commits?sha=&since=``: a ref's history, newest first."""
        sha = request.query.get("sha")
        known = {c[0] for c in repo.trunk} | set(repo.branches)
        if sha not in (None, repo.default_branch) and sha not in known:
            return Reply(404, {"message": "No commit found for SHA: " + str(sha)})
        since, until = request.query.get("since"), request.query.get("until")
        low = ts(parse(since)) if since else ""
        high = ts(parse(until)) if until else "~"
        items = [
            {"sha": c, "commit": {"committer": {"date": at}, "author": {"date": at}}}
            for c, at in repo.history(sha)
            if low <= at <= high
        ]
        return self.paged(request, items)

    def runs(self, request: Request, repo: FakeRepo) -> Reply:
        runs = [
            r
            for r in repo.runs
            if r["head_branch"] == request.query.get("branch", r["head_branch"])
        ]
        created = request.query.get("created")
        if created:
            # Timestamps are all "YYYY-MM-DDTHH:MM:SSZ", so strings compare like times.
            if created.startswith(">="):
                low, high = ts(parse(created[2:])), None
            else:
                a, b = created.split("..")
                low, high = ts(parse(a)), ts(parse(b))
            runs = [
                r
                for r in runs
                if r["created_at"] >= low and (high is None or r["created_at"] <= high)
            ]
        runs.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        total = len(runs)
        capped = runs[:CAP]  # like GitHub: no result past the 1,000th
        chunk, page, _per_page, last = page_slice(capped, request.query)
        link = link_header(self.server.url, request.path, request.query, page, last)
        return Reply(
            200, {"total_count": total, "workflow_runs": chunk}, {"Link": link} if link else {}
        )
