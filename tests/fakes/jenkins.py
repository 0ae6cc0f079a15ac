"""A fake Jenkins controller's JSON API (what the jenkins source reads), on 127.0.0.1.

Jenkins publishes no schema for its remote-access API (``api-specs/jenkins/
NOTICE.md``: the shape is each model class's ``@Exported`` fields), so this
follows the documented behaviour of ``…/api/json?tree=…``: jobs nested in
folders as ``/job/a/job/b``, a job's ``allBuilds`` newest first, cut by the
``{from,to}`` range at the end of the ``tree``; HTTP Basic with a user and API
token (401 otherwise), 404 for unknown jobs.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

RANGE = re.compile(r"\{(\d+),(\d+)\}$")


class FakeJenkins:
    """Jobs by full name, each with its builds (oldest first, as they were added)."""

    def __init__(self, server: FakeServer, user: str, token: str) -> None:
        self.server = server
        self.auth = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        server.route(lambda p: p.startswith("/job/"), self.handle)

    @property
    def url(self) -> str:
        return self.server.url

    def job(self, name: str) -> list[dict[str, Any]]:
        self.jobs[name] = []
        return self.jobs[name]

    def build(
        self,
        name: str,
        started: datetime,
        result: str | None = "SUCCESS",
        *,
        minutes: float = 5,
        description: str | None = None,
        sha: str | None = None,
    ) -> dict[str, Any]:
        builds = self.jobs[name]
        number = len(builds) + 1
        path = "/".join(f"job/{part}" for part in name.split("/"))
        build = {
            "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
            "number": number,
            "url": f"{self.url}/{path}/{number}/",
            "result": result,
            "building": result is None,
            "timestamp": int(started.timestamp() * 1000),
            "duration": 0
            if result is None
            else int(timedelta(minutes=minutes).total_seconds() * 1000),
            "displayName": f"#{number}",
            "description": description,
            "actions": [
                {"_class": "hudson.model.CauseAction"},
                {
                    "_class": "hudson.plugins.git.util.BuildData",
                    "lastBuiltRevision": {"SHA1": sha or f"{len(name)}{number:039x}"[:40]},
                },
            ],
        }
        builds.append(build)
        return build

    def handle(self, request: Request, server: FakeServer) -> Reply:
        if request.headers.get("authorization") != self.auth:
            return Reply(401, b"<html><body>Unauthorized</body></html>")
        parts = request.path.strip("/").split("/")
        if parts[-2:] != ["api", "json"] or len(parts) % 2:
            return Reply(404, b"<html>Not Found</html>")
        names = parts[1:-2:2]
        if parts[:-2:2] != ["job"] * len(names):
            return Reply(404, b"<html>Not Found</html>")
        name = "/".join(names)
        if name not in self.jobs:
            return Reply(404, b"<html>Not Found</html>")
        tree = request.query.get("tree", "")
        if tree == "fullName":
            return Reply(200, {"_class": "WorkflowJob", "fullName": name})
        newest = list(reversed(self.jobs[name]))
        match = RANGE.search(tree)
        if match:
            newest = newest[int(match.group(1)) : int(match.group(2))]
        return Reply(
            200, {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "allBuilds": newest}
        )
