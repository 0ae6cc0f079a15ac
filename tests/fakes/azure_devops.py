"""A fake Azure DevOps Services REST API (7.1; the parts the azure-devops source
reads), served on 127.0.0.1 under ``/{organization}/{project}/_apis/...``.

Like the real service it wraps lists as ``{"count": N, "value": [...]}``, pages
builds, environments, deployment records and pull request commits with ``$top``
(``top``) and an ``x-ms-continuationtoken`` header passed back as
``continuationToken``, pages pull requests with ``$top``/``$skip``, filters
pull requests by ``searchCriteria.*``, refuses a request without ``api-version``
(400) or without the personal access token as Basic auth (401), and writes
times with seven fractional digits. Every list it serves is recorded with the
Swagger operation it answers (``served``), for schema checks.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from scorecard.sources.records import parse_time
from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
ORG = "fabrikam"


def ts(value: datetime) -> str:
    """Azure DevOps' timestamps: seven fractional digits and a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def guid(n: int, kind: int = 0) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


@dataclass
class FakeRepo:
    project: str
    name: str
    id: str
    default_branch: str = "main"
    pulls: list[dict[str, Any]] = field(default_factory=list)
    commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    paths: dict[int, list[tuple[str, str | None]]] = field(default_factory=dict)
    """Pull request -> (path, original path) of each change of its last iteration."""

    def pull(
        self,
        number: int,
        closed: datetime,
        first_commit: datetime,
        title: str = "change",
        target: str | None = None,
        commits: int = 3,
    ) -> dict[str, Any]:
        pull = {
            "repository": {
                "id": self.id,
                "name": self.name,
                "project": {"id": guid(1, 9), "name": self.project},
            },
            "pullRequestId": number,
            "codeReviewId": number,
            "status": "completed",
            "createdBy": {"id": guid(5, 5), "displayName": "Normal Paulk"},
            "creationDate": ts(first_commit + timedelta(hours=1)),
            "closedDate": ts(closed),
            "title": title,
            "description": "a change",
            "sourceRefName": f"refs/heads/feature/{number}",
            "targetRefName": f"refs/heads/{target or self.default_branch}",
            "mergeStatus": "succeeded",
            "mergeId": guid(number, 7),
            "lastMergeSourceCommit": {"commitId": f"{number:039x}s"},
            "lastMergeTargetCommit": {"commitId": f"{number:039x}t"},
            "lastMergeCommit": {"commitId": f"{number:040x}"},
            "labels": [{"id": guid(number, 3), "name": "backend", "active": True}],
            "reviewers": [],
            "url": f"https://dev.azure.com/{ORG}/_apis/git/repositories/{self.id}/pullRequests/{number}",
            "supportsIterations": True,
        }
        self.pulls.append(pull)
        self.paths[number] = [("/src/app.py", None), ("/prompts/rank.txt", "/prompts/old.txt")]
        # Azure DevOps lists a pull request's commits newest first.
        self.commits[number] = [
            {
                "commitId": f"{number:036x}{i:04x}",
                "author": {
                    "name": "Normal Paulk",
                    "email": "n@fabrikam.example",
                    "date": ts(first_commit + timedelta(hours=i)),
                },
                "committer": {
                    "name": "Normal Paulk",
                    "email": "n@fabrikam.example",
                    "date": ts(first_commit + timedelta(hours=i, minutes=5)),
                },
                "comment": f"commit {i}",
                "url": "https://dev.azure.com/commit",
            }
            for i in reversed(range(commits))
        ]
        return pull


@dataclass
class FakeProject:
    name: str
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    builds: list[dict[str, Any]] = field(default_factory=list)
    timelines: dict[int, dict[str, Any]] = field(default_factory=dict)
    environments: list[dict[str, Any]] = field(default_factory=list)
    records: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def repo(self, name: str, default_branch: str = "main") -> FakeRepo:
        repo = FakeRepo(self.name, name, guid(len(self.repos) + 1, 1), default_branch)
        self.repos[name] = repo
        return repo

    def build(
        self,
        id: int,
        repo: FakeRepo,
        finished: datetime,
        *,
        result: str = "succeeded",
        branch: str | None = None,
        pipeline: str = "ci",
        minutes: float = 8,
        repo_type: str = "TfsGit",
        running: bool = False,
    ) -> dict[str, Any]:
        started = finished - timedelta(minutes=minutes)
        build = {
            "_links": {
                "web": {
                    "href": f"https://dev.azure.com/{ORG}/{self.name}/_build/results?buildId={id}"
                }
            },
            "id": id,
            "buildNumber": f"2024.{id}",
            "status": "completed",
            "result": result,
            "queueTime": ts(started - timedelta(minutes=1)),
            "startTime": ts(started),
            "finishTime": ts(finished),
            "url": f"https://dev.azure.com/{ORG}/_apis/build/Builds/{id}",
            "definition": {
                "id": abs(hash(pipeline)) % 1000,
                "name": pipeline,
                "type": "build",
                "queueStatus": "enabled",
            },
            "project": {"id": guid(1, 9), "name": self.name},
            "uri": f"vstfs:///Build/Build/{id}",
            "sourceBranch": f"refs/heads/{branch or repo.default_branch}",
            "sourceVersion": f"{id:040x}",
            "priority": "normal",
            "reason": "individualCI",
            "repository": {"id": repo.id, "type": repo_type, "name": repo.name},
        }
        if running:  # a multi-stage run still going (e.g. waiting for an approval)
            build.update(status="inProgress")
            del build["result"], build["finishTime"]
        self.builds.append(build)
        return build

    def stage(
        self,
        build_id: int,
        name: str,
        result: str = "succeeded",
        minutes: float = 4,
        kind: str = "Stage",
    ) -> None:
        build = next(b for b in self.builds if b["id"] == build_id)
        finished = parse_time(build["finishTime"])
        assert finished is not None
        timeline = self.timelines.setdefault(
            build_id, {"id": guid(build_id, 4), "changeId": 1, "records": []}
        )
        timeline["records"].append(
            {
                "id": guid(len(timeline["records"]) + 1, 6),
                "type": kind,
                "name": name,
                "state": "completed",
                "result": result,
                "startTime": ts(finished - timedelta(minutes=minutes)),
                "finishTime": ts(finished),
                "order": len(timeline["records"]) + 1,
                "attempt": 1,
                "identifier": name.lower(),
            }
        )

    def environment(self, id: int, name: str) -> None:
        self.environments.append(
            {
                "id": id,
                "name": name,
                "createdOn": ts(datetime(2023, 1, 1, tzinfo=UTC)),
                "lastModifiedOn": ts(datetime(2023, 1, 1, tzinfo=UTC)),
                "project": {"id": guid(1, 9), "name": self.name},
            }
        )
        self.records[id] = []

    def deploy(
        self,
        env_id: int,
        record_id: int,
        build_id: int,
        started: datetime,
        *,
        result: str | None = "succeeded",
        minutes: float = 6,
    ) -> None:
        record: dict[str, Any] = {
            "id": record_id,
            "requestIdentifier": guid(record_id, 8),
            "environmentId": env_id,
            "serviceOwner": guid(1, 2),
            "scopeId": guid(1, 9),
            "resourceId": 0,
            "planType": "Build",
            "planId": guid(record_id, 10),
            "stageName": "Deploy",
            "jobName": "deploy",
            "stageAttempt": 1,
            "jobAttempt": 1,
            "definition": {"id": 7, "name": "payments-cd"},
            "owner": {"id": build_id, "name": f"2024.{build_id}"},
            "queueTime": ts(started - timedelta(minutes=1)),
            "startTime": ts(started),
        }
        if result is not None:
            record["result"] = result
            record["finishTime"] = ts(started + timedelta(minutes=minutes))
        self.records[env_id].append(record)


class FakeAzureDevOps:
    """Serves ``/fabrikam/{project}/_apis/...`` for the PAT ``token``."""

    def __init__(self, server: FakeServer, token: str) -> None:
        self.server = server
        self.token = token
        self.projects: dict[str, FakeProject] = {}
        self.served: list[tuple[str, str, Any]] = []
        """(spec file, Swagger path, list or object served)"""
        self.page_size_cap = 100
        server.route(lambda p: p.startswith(f"/{ORG}/"), self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    def project(self, name: str) -> FakeProject:
        self.projects[name] = FakeProject(name)
        return self.projects[name]

    # --- serving --------------------------------------------------------------------------

    def handle(self, request: Request, server: FakeServer) -> Reply:
        expected = "Basic " + base64.b64encode(f":{self.token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, {"message": "TF400813: The user is not authorized."})
        if request.query.get("api-version") != "7.1":
            return Reply(400, {"message": "No api-version was supplied for the request."})
        parts = [unquote(p) for p in request.path.split("/")[2:]]
        project = self.projects.get(parts[0])
        if project is None or parts[1:2] != ["_apis"]:
            return Reply(404, {"message": f"TF200016: The project {parts[0]} does not exist."})
        return self.route(project, parts[2:], request)

    def route(self, project: FakeProject, rest: list[str], request: Request) -> Reply:
        q = request.query
        if rest == ["git", "repositories"]:
            repos = [self.repository(project, r) for r in project.repos.values()]
            return self.whole("git", "/git/repositories", repos)
        if rest == ["build", "builds"]:
            return self.builds(project, q)
        if len(rest) == 4 and rest[:2] == ["build", "builds"] and rest[3] == "timeline":
            timeline = project.timelines.get(int(rest[2]))
            if timeline is None:
                return Reply(404, {"message": "timeline not found"})
            self.served.append(("build", "/build/builds/{buildId}/timeline/{timelineId}", timeline))
            return Reply(200, timeline)
        if rest == ["distributedtask", "environments"]:
            return self.paged(
                "distributedTask", "/distributedtask/environments", project.environments, q, "$top"
            )
        if len(rest) == 4 and rest[:2] == ["distributedtask", "environments"]:
            records = sorted(project.records.get(int(rest[2]), []), key=lambda r: -r["id"])
            spec = "/distributedtask/environments/{environmentId}/environmentdeploymentrecords"
            return self.paged("distributedTask", spec, records, q, "top")
        if len(rest) >= 4 and rest[:2] == ["git", "repositories"]:
            repo = next((r for r in project.repos.values() if rest[2] in (r.id, r.name)), None)
            if repo is None:
                return Reply(404, {"message": "TF401019: repository not found"})
            return self.repo_route(repo, rest[3:], q)
        return Reply(404, {"message": "not found"})

    def repo_route(self, repo: FakeRepo, rest: list[str], q: dict[str, str]) -> Reply:
        if rest == ["pullrequests"]:
            return self.pulls(repo, q)
        if len(rest) == 3 and rest[0] == "pullRequests" and rest[2] == "commits":
            spec = "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/commits"
            return self.paged("git", spec, repo.commits.get(int(rest[1]), []), q, "$top")
        if len(rest) == 3 and rest[0] == "pullRequests" and rest[2] == "iterations":
            iterations = [
                {
                    "id": i,
                    "description": f"iteration {i}",
                    "createdDate": ts(datetime(2024, 1, i, tzinfo=UTC)),
                }
                for i in (1, 2)
            ]
            spec = "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/iterations"
            return self.whole("git", spec, iterations)
        if len(rest) == 5 and rest[2] == "iterations" and rest[4] == "changes":
            return self.iteration_changes(repo, int(rest[1]), q)
        return Reply(404, {"message": "not found"})

    def iteration_changes(self, repo: FakeRepo, number: int, q: dict[str, str]) -> Reply:
        entries = [
            {
                "changeTrackingId": i + 1,
                "changeId": i + 1,
                "item": {"objectId": f"{i:040x}", "path": path},
                "changeType": "rename" if original else "edit",
                **({"originalPath": original} if original else {}),
            }
            for i, (path, original) in enumerate(repo.paths.get(number, []))
        ]
        top, skip = min(int(q.get("$top", 100)), 1), int(q.get("$skip", 0))  # one a page
        body: dict[str, Any] = {"changeEntries": entries[skip : skip + top]}
        if skip + top < len(entries):
            body.update(nextSkip=skip + top, nextTop=top)
        spec = (
            "/git/repositories/{repositoryId}/pullRequests/{pullRequestId}"
            "/iterations/{iterationId}/changes"
        )
        self.served.append(("git", spec, body))
        return Reply(200, body)

    @staticmethod
    def repository(project: FakeProject, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "name": repo.name,
            "url": f"https://dev.azure.com/{ORG}/_apis/git/repositories/{repo.id}",
            "project": {"id": guid(1, 9), "name": project.name, "state": "wellFormed"},
            "defaultBranch": f"refs/heads/{repo.default_branch}",
            "size": 1024,
            "remoteUrl": f"https://{ORG}@dev.azure.com/{ORG}/{project.name}/_git/{repo.name}",
            "webUrl": f"https://dev.azure.com/{ORG}/{project.name}/_git/{repo.name}",
            "isDisabled": False,
        }

    def builds(self, project: FakeProject, q: dict[str, str]) -> Reply:
        builds = project.builds
        if "buildIds" in q:
            wanted = {int(i) for i in q["buildIds"].split(",")}
            return self.whole("build", "/build/builds", [b for b in builds if b["id"] in wanted])
        if q.get("statusFilter") == "completed":
            builds = [b for b in builds if b["status"] == "completed"]
        if q.get("queryOrder") == "finishTimeDescending":
            builds = sorted(builds, key=lambda b: b["finishTime"], reverse=True)
        return self.paged("build", "/build/builds", builds, q, "$top")

    def pulls(self, repo: FakeRepo, q: dict[str, str]) -> Reply:
        pulls = [
            p
            for p in repo.pulls
            if q.get("searchCriteria.status") in (None, "all", p["status"])
            and q.get("searchCriteria.targetRefName") in (None, p["targetRefName"])
        ]
        if q.get("searchCriteria.minTime"):
            field_ = (
                "closedDate"
                if q.get("searchCriteria.queryTimeRangeType") == "closed"
                else "creationDate"
            )
            low = datetime.fromisoformat(q["searchCriteria.minTime"].replace("Z", "+00:00"))
            pulls = [p for p in pulls if (parse_time(p[field_]) or low) >= low]
        pulls.sort(key=lambda p: -p["pullRequestId"])  # newest created first
        top = min(int(q.get("$top", 101)), self.page_size_cap)
        skip = int(q.get("$skip", 0))
        return self.whole(
            "git", "/git/repositories/{repositoryId}/pullrequests", pulls[skip : skip + top]
        )

    def paged(
        self, spec: str, path: str, items: list[Any], q: dict[str, str], top_key: str
    ) -> Reply:
        top = min(int(q.get(top_key, 1000)), self.page_size_cap)
        start = int(q["continuationToken"].removeprefix("ct-")) if "continuationToken" in q else 0
        chunk = items[start : start + top]
        headers = {}
        if start + top < len(items):
            headers["x-ms-continuationtoken"] = f"ct-{start + top}"
        self.served.append((spec, path, chunk))
        return Reply(200, {"count": len(chunk), "value": chunk}, headers)

    def whole(self, spec: str, path: str, items: list[Any]) -> Reply:
        self.served.append((spec, path, items))
        return Reply(200, {"count": len(items), "value": items})
