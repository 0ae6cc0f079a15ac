"""A fake Codecov API v2 (repo detail, coverage trend, commits), served on 127.0.0.1.

Shapes follow Codecov's API reference: DRF page-number pagination (``count``,
``next``, ``previous``, ``results``, ``total_pages``), trend buckets with
``timestamp``/``min``/``max``/``avg``, commits with ``totals.coverage``, and the
repo detail with ``branch``, ``updatestamp`` and ``totals``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Reply, Request

UTC = timezone.utc


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def totals(coverage: float | None) -> dict[str, Any]:
    return {
        "files": 12,
        "lines": 1000,
        "hits": int((coverage or 0) * 10),
        "misses": 1000 - int((coverage or 0) * 10),
        "partials": 0,
        "coverage": coverage,
        "branches": 0,
        "methods": 0,
        "messages": 0,
        "sessions": 1,
        "complexity": 0.0,
        "complexity_total": 0.0,
        "complexity_ratio": 0,
        "diff": 0,
    }


@dataclass
class FakeRepo:
    owner: str
    name: str
    branch: str = "main"
    coverage: float | None = 80.0
    updated: datetime | None = None
    daily: dict[datetime, float] = field(default_factory=dict)
    """Trend buckets: day start -> average coverage."""
    commits: list[tuple[datetime, float | None]] = field(default_factory=list)
    trend_available: bool = True


@dataclass
class FakeCodecov:
    server: FakeServer
    service: str = "github"
    repos: dict[str, FakeRepo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server.route(lambda p: p.startswith("/api/v2/"), self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def repo(self, full: str, **kw: Any) -> FakeRepo:
        owner, _, name = full.rpartition("/")
        repo = FakeRepo(owner, name, **kw)
        self.repos[f"{owner}/{name}"] = repo
        return repo

    def _page(self, request: Request, items: list[Any]) -> Reply:
        size = int(request.query.get("page_size", 20))
        page = int(request.query.get("page", 1))
        pages = max(1, -(-len(items) // size))

        def link(n: int) -> str | None:
            if n < 1 or n > pages:
                return None
            return f"{self.url}{request.path}?{urlencode({**request.query, 'page': str(n)})}"

        return Reply(
            200,
            {
                "count": len(items),
                "next": link(page + 1),
                "previous": link(page - 1),
                "results": items[(page - 1) * size : page * size],
                "total_pages": pages,
            },
        )

    def _handle(self, request: Request, server: FakeServer) -> Reply:
        parts = request.path.strip("/").split("/")
        # api v2 <service> <owner> repos <name> [coverage|commits]
        if len(parts) < 6 or parts[2] != self.service or parts[4] != "repos":
            return Reply(404, {"detail": "Not found."})
        repo = self.repos.get(f"{parts[3]}/{parts[5]}")
        if repo is None:
            return Reply(404, {"detail": "No Repository matches the given query."})
        what = parts[6] if len(parts) > 6 else ""
        if what == "":
            return Reply(
                200,
                {
                    "name": repo.name,
                    "private": False,
                    "updatestamp": ts(repo.updated) if repo.updated else None,
                    "author": {"service": self.service, "username": repo.owner, "name": repo.owner},
                    "language": "python",
                    "branch": repo.branch,
                    "active": True,
                    "activated": True,
                    "totals": totals(repo.coverage) if repo.coverage is not None else None,
                },
            )
        if what == "coverage":
            if not repo.trend_available:
                return Reply(404, {"detail": "Not found."})
            start = request.query.get("start_date", "")
            end = request.query.get("end_date", "9999")
            days = sorted(d for d in repo.daily if start[:10] <= d.date().isoformat() <= end[:10])
            items = [
                {"timestamp": ts(d), "min": v - 0.5, "max": v + 0.5, "avg": v}
                for d, v in ((d, repo.daily[d]) for d in days)
            ]
            return self._page(request, items)
        if what == "commits":
            items = [
                {
                    "commitid": f"{i:040x}",
                    "message": "change",
                    "timestamp": ts(at),
                    "ci_passed": True,
                    "author": {"service": self.service, "username": "dev", "name": "Dev"},
                    "branch": request.query.get("branch", repo.branch),
                    "totals": totals(cov) if cov is not None else None,
                    "state": "complete" if cov is not None else "pending",
                    "parent": None,
                }
                for i, (at, cov) in enumerate(
                    sorted(repo.commits, key=lambda c: c[0], reverse=True)
                )
            ]
            return self._page(request, items)
        return Reply(404, {"detail": "Not found."})


def days_back(now: datetime, n: int) -> list[datetime]:
    """The starts of the ``n`` UTC days before ``now``'s day, oldest first."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=k) for k in range(n, 0, -1)]
