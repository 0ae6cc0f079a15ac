"""A fake Sentry API (project releases, release deploys, project issues) on 127.0.0.1.

Shapes follow Sentry's published OpenAPI description (``api-specs/sentry``;
tests validate the answers against it). Listings page with Sentry's ``Link``
header: a ``rel="previous"`` and a ``rel="next"`` part, each with
``results="true|false"`` and a ``cursor`` (``0:<offset>:0``); the next part is
always present and says ``results="false"`` on the last page. Issue searches
understand ``firstRelease:"<v>"``, ``environment:"<e>"`` and ``level:[a,b]``.
A bad token gets 401 ``{"detail": ...}``; throttling is a 429 with the
``X-Sentry-Rate-Limit-*`` headers.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc
TOKEN = "sntrys_SENTINEL_0123456789abcdef"
ORG = "acme"
RELEASES = re.compile(r"^/api/0/projects/([^/]+)/([^/]+)/releases/$")
DEPLOYS = re.compile(r"^/api/0/organizations/([^/]+)/releases/([^/]+)/deploys/$")
ISSUES = re.compile(r"^/api/0/projects/([^/]+)/([^/]+)/issues/$")


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def release(
    version: str,
    created: datetime,
    *,
    project: str = "payments-api",
    last_deploy: dict[str, Any] | None = None,
    sha: str | None = "a1b2c3d4e5f6",
) -> dict[str, Any]:
    return {
        "id": zlib.crc32(version.encode()) % 100_000,
        "version": version,
        "shortVersion": version,
        "status": "open",
        "versionInfo": {
            "package": project,
            "version": {"raw": version},
            "description": version,
            "buildHash": None,
        },
        "ref": None,
        "url": None,
        "dateReleased": None,
        "dateCreated": ts(created),
        "data": {},
        "newGroups": 0,
        "owner": None,
        "commitCount": 1 if sha else 0,
        "lastCommit": (
            {"id": sha, "message": "Fix", "repository": {"name": f"acme/{project}"}}
            if sha
            else None
        ),
        "deployCount": 1 if last_deploy else 0,
        "lastDeploy": last_deploy,
        "authors": [],
        "projects": [
            {
                "id": 1,
                "slug": project,
                "name": project,
                "newGroups": 0,
                "platform": "python",
                "platforms": ["python"],
                "hasHealthData": False,
            }
        ],
        "firstEvent": None,
        "lastEvent": None,
        "currentProjectMeta": {},
        "userAgent": None,
    }


def deploy(ident: str, finished: datetime, *, environment: str = "production") -> dict[str, Any]:
    return {
        "id": ident,
        "environment": environment,
        "dateStarted": ts(finished.replace(second=0)),
        "dateFinished": ts(finished),
        "name": f"deploy {ident}",
        "url": None,
    }


def issue(
    ident: str,
    first_seen: datetime,
    *,
    release_version: str,
    environment: str = "production",
    level: str = "error",
    status: str = "unresolved",
    last_seen: datetime | None = None,
    project: str = "payments-api",
) -> dict[str, Any]:
    return {
        "annotations": [],
        "assignedTo": None,
        "count": "12",
        "culprit": "payments.views in charge",
        "firstSeen": ts(first_seen),
        "hasSeen": False,
        "id": ident,
        "isBookmarked": False,
        "isPublic": False,
        "isSubscribed": True,
        "lastSeen": ts(last_seen or first_seen),
        "level": level,
        "logger": None,
        "metadata": {"title": "KeyError: 'amount'"},
        "numComments": 0,
        "permalink": f"https://acme.sentry.io/issues/{ident}/",
        "project": {"id": "2", "name": project, "slug": project},
        "shareId": None,
        "shortId": f"PAY-{ident}",
        "stats": {"24h": [[1541455200, 4]]},
        "status": status,
        "statusDetails": {},
        "subscriptionDetails": None,
        "title": "KeyError: 'amount'",
        "type": "error",
        "userCount": 3,
        # Not in Sentry's answer; what the fake's search matches on.
        "_release": release_version,
        "_environment": environment,
    }


@dataclass
class FakeSentry:
    server: FakeServer
    releases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Project slug -> releases."""
    deploys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Release version -> deploys."""
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Project slug -> issues."""
    answers: list[tuple[str, Any]] = field(default_factory=list)
    per_page: int = 100

    def __post_init__(self) -> None:
        for pattern, handler in (
            (RELEASES, self._releases),
            (DEPLOYS, self._deploys),
            (ISSUES, self._issues),
        ):
            self.server.route(_matcher(pattern), self._guarded(pattern, handler))

    @property
    def url(self) -> str:
        return self.server.url

    def _guarded(self, pattern: re.Pattern[str], handler: Any) -> Any:
        def serve(request: Request, server: FakeServer) -> Reply:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return Reply(401, {"detail": "Invalid token"})
            found = pattern.match(request.path)
            assert found is not None
            items = handler(*[unquote(g) for g in found.groups()], request)
            return self._page(request, items, pattern)

        return serve

    def _page(self, request: Request, items: list[dict[str, Any]], kind: Any) -> Reply:
        limit = int(request.query.get("per_page") or request.query.get("limit") or self.per_page)
        limit = min(limit, self.per_page)
        cursor = request.query.get("cursor", "0:0:0")
        offset = int(cursor.split(":")[1])
        page = [
            {k: v for k, v in item.items() if not k.startswith("_")}
            for item in items[offset : offset + limit]
        ]
        self.answers.append((kind.pattern, page))

        def part(rel: str, at: int, results: bool) -> str:
            query = urlencode({**request.query, "cursor": f"0:{at}:0"})
            return (
                f'<{self.url}{request.path}?{query}>; rel="{rel}"; '
                f'results="{str(results).lower()}"; cursor="0:{at}:0"'
            )

        link = ", ".join(
            [
                part("previous", max(0, offset - limit), offset > 0),
                part("next", offset + limit, offset + limit < len(items)),
            ]
        )
        return Reply(200, page, {"Link": link})

    def _releases(self, org: str, project: str, request: Request) -> list[dict[str, Any]]:
        found = self.releases.get(project, []) if org == ORG else []
        return sorted(found, key=lambda r: r["dateCreated"], reverse=True)

    def _deploys(self, org: str, version: str, request: Request) -> list[dict[str, Any]]:
        return self.deploys.get(version, []) if org == ORG else []

    def _issues(self, org: str, project: str, request: Request) -> list[dict[str, Any]]:
        query = request.query.get("query", "")
        version = re.search(r'firstRelease:"((?:[^"\\]|\\.)*)"', query)
        env = re.search(r'environment:"([^"]*)"', query)
        levels = re.search(r"level:\[([^\]]*)\]", query)
        out = []
        for item in self.issues.get(project, []) if org == ORG else []:
            if version and item["_release"] != version.group(1).replace('\\"', '"'):
                continue
            if env and item["_environment"] != env.group(1):
                continue
            if levels and item["level"] not in levels.group(1).split(","):
                continue
            out.append(item)
        return out


def _matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda path: pattern.match(path) is not None


def throttled() -> Reply:
    """Sentry's 429 with its rate-limit headers (the reset is epoch seconds)."""
    return Reply(
        429,
        {"detail": "You are attempting to use this endpoint too frequently."},
        {
            "X-Sentry-Rate-Limit-Limit": "40",
            "X-Sentry-Rate-Limit-Remaining": "0",
            "X-Sentry-Rate-Limit-Reset": "1710072000",
            "X-Sentry-Rate-Limit-ConcurrentLimit": "25",
            "X-Sentry-Rate-Limit-ConcurrentRemaining": "24",
        },
    )
