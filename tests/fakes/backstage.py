"""A fake Backstage catalog API (``GET /api/catalog/entities/by-query``) on 127.0.0.1.

Shapes follow Backstage's catalog REST reference: ``items``, ``totalItems`` and
``pageInfo.nextCursor``; the first request carries ``filter`` (repeated),
``fields`` and ``limit``, each next one only ``cursor`` (which encodes the rest).
A bearer token is required when one is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

PATH = "/api/catalog/entities/by-query"


@dataclass
class FakeCatalog:
    server: FakeServer
    entities: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = "backstage-SENTINEL-0123456789"
    limit: int = 2
    """Entities per page (small, so paging is exercised)."""
    failing: bool = False
    """Answer 404 (not retried), so the section fails."""

    def __post_init__(self) -> None:
        self.server.route(PATH, self.answer)

    def answer(self, request: Request, server: FakeServer) -> Reply:
        if self.failing:
            return Reply(404, {"error": {"name": "NotFoundError", "message": "gone"}})
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": {"name": "AuthenticationError", "message": "no"}})
        start = int(request.query.get("cursor", "0"))
        page = self.entities[start : start + self.limit]
        more = start + self.limit < len(self.entities)
        info = {"nextCursor": str(start + self.limit)} if more else {}
        return Reply(200, {"items": page, "totalItems": len(self.entities), "pageInfo": info})
