"""A fake Buildkite REST API (the parts the buildkite source reads), served on 127.0.0.1.

Buildkite publishes no OpenAPI description of its REST API (see
``api-specs/buildkite/NOTICE.md``), so this follows the examples of its REST
docs (`pages/apis/rest_api/pipelines.md`, `builds.md`, pagination and rate
limits): a pipeline with `repository` and `default_branch`; builds newest first,
filtered by `branch` and `created_from`, `page`/`per_page` pages chained by a
``Link: <...>; rel="next"`` header; a Bearer token (401 otherwise); every
answer carries ``RateLimit-Remaining``/``RateLimit-Limit``/``RateLimit-Reset``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request, link_header, page_slice

UTC = timezone.utc
PREFIX = "/v2/organizations/"


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rate_limit(remaining: int = 199, reset: int = 42) -> dict[str, str]:
    return {
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Limit": "200",
        "RateLimit-Reset": str(reset),
    }


@dataclass
class FakePipeline:
    slug: str
    repository: str
    default_branch: str = "main"
    builds: list[dict[str, Any]] = field(default_factory=list)


class FakeBuildkite:
    """One organization's pipelines and their builds (with jobs)."""

    def __init__(self, server: FakeServer, token: str, org: str = "acme") -> None:
        self.server = server
        self.token = token
        self.org = org
        self.pipelines: dict[str, FakePipeline] = {}
        self.ids = 0
        server.route(lambda p: p.startswith(PREFIX), self.handle)

    @property
    def url(self) -> str:
        return self.server.url + "/v2"

    def uuid(self) -> str:
        self.ids += 1
        return str(uuid.UUID(int=self.ids))

    def pipeline(self, slug: str, repository: str, default_branch: str = "main") -> FakePipeline:
        self.pipelines[slug] = FakePipeline(slug, repository, default_branch)
        return self.pipelines[slug]

    def build(
        self,
        pipeline: FakePipeline,
        created: datetime,
        state: str = "passed",
        *,
        branch: str | None = None,
        message: str = "Ship it",
        jobs: list[tuple[str, str]] | None = None,
        minutes: float = 6,
    ) -> dict[str, Any]:
        """A build with script ``jobs`` (step key, state)."""
        number = len(pipeline.builds) + 1
        web = f"https://buildkite.com/{self.org}/{pipeline.slug}/builds/{number}"
        done = state not in ("running", "scheduled", "creating", "failing", "canceling")
        build = {
            "id": self.uuid(),
            "url": f"https://api.buildkite.com/v2/organizations/{self.org}/pipelines/"
            f"{pipeline.slug}/builds/{number}",
            "web_url": web,
            "number": number,
            "state": state,
            "blocked": False,
            "message": message,
            "commit": f"{self.ids:040x}",
            "branch": branch or pipeline.default_branch,
            "source": "webhook",
            "created_at": ts(created),
            "scheduled_at": ts(created),
            "started_at": ts(created + timedelta(seconds=30)),
            "finished_at": ts(created + timedelta(minutes=minutes)) if done else None,
            "jobs": [self._job(key, job_state, created, web) for key, job_state in jobs or []],
            "pipeline": {"slug": pipeline.slug, "repository": pipeline.repository},
        }
        pipeline.builds.append(build)
        return build

    def _job(self, key: str, state: str, created: datetime, web: str) -> dict[str, Any]:
        ident = self.uuid()
        return {
            "id": ident,
            "type": "script",
            "name": f":rocket: {key}",
            "step_key": key,
            "state": state,
            "web_url": f"{web}#{ident}",
            "created_at": ts(created),
            "started_at": ts(created + timedelta(minutes=2)),
            "finished_at": ts(created + timedelta(minutes=5)) if state == "passed" else None,
        }

    # --- serving ------------------------------------------------------------------------

    def handle(self, request: Request, server: FakeServer) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {"message": "Authentication required. Please supply a valid API Access Token"},
            )
        rest = request.path[len(PREFIX) :].strip("/").split("/")
        if rest[0] != self.org or len(rest) < 3 or rest[1] != "pipelines":
            return Reply(404, {"message": "No organization found"}, rate_limit())
        pipeline = self.pipelines.get(rest[2])
        if pipeline is None:
            return Reply(404, {"message": "No pipeline found"}, rate_limit())
        if len(rest) == 3:
            body = {
                "slug": pipeline.slug,
                "name": pipeline.slug,
                "repository": pipeline.repository,
                "default_branch": pipeline.default_branch,
                "web_url": f"https://buildkite.com/{self.org}/{pipeline.slug}",
            }
            return Reply(200, body, rate_limit())
        if rest[3:] == ["builds"]:
            return self.builds(request, pipeline)
        return Reply(404, {"message": "Not Found"}, rate_limit())

    def builds(self, request: Request, pipeline: FakePipeline) -> Reply:
        branch = request.query.get("branch")
        since = request.query.get("created_from")
        builds = [
            b
            for b in sorted(pipeline.builds, key=lambda b: -b["number"])
            if branch in (None, b["branch"])
            and (since is None or parse(b["created_at"]) >= parse(since))
        ]
        chunk, page, _per_page, last = page_slice(builds, request.query, default_per_page=30)
        headers = rate_limit()
        link = link_header(self.server.url, request.path, request.query, page, last)
        if link:
            headers["Link"] = link
        return Reply(200, chunk, headers)
