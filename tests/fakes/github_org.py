"""A fake of GitHub's org teams and contents API, served on 127.0.0.1.

Shapes follow GitHub's REST reference (and its OpenAPI description): ``GET
/orgs/{org}/teams`` (``slug``, ``parent``), ``GET /orgs/{org}/teams/{team_slug}/repos``
(``full_name``, ``permissions``), both paged with ``per_page``/``page`` and a
``Link`` header; ``GET /repos/{owner}/{repo}/contents/{path}`` (a file as base64
``content``, 404 when missing). A token is required (401 without one).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request, link_header, page_slice

PERMISSION_ORDER = ("admin", "maintain", "push", "triage", "pull")


def permissions(role: str) -> dict[str, bool]:
    """GitHub's ``permissions`` object for a role: it and every weaker one true."""
    rank = PERMISSION_ORDER.index(role)
    return {name: index >= rank for index, name in enumerate(PERMISSION_ORDER)}


@dataclass
class FakeGitHubOrg:
    server: FakeServer
    org: str = "acme"
    token: str = "ghp-org-SENTINEL-0123456789"
    teams: list[dict[str, Any]] = field(default_factory=list)
    repos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    """``(owner/repo, path)`` → file text."""

    def __post_init__(self) -> None:
        self.server.route(lambda p: p.startswith(f"/orgs/{self.org}/teams"), self.answer_teams)
        self.server.route(lambda p: p.startswith("/repos/"), self.answer_contents)

    def team(self, slug: str, parent: str | None = None, **repos: str) -> None:
        """An org team with its repos (``name=role``, ``__`` for ``/``)."""
        self.teams.append(
            {
                "id": len(self.teams) + 1,
                "slug": slug,
                "name": slug.title(),
                "parent": {"slug": parent} if parent else None,
            }
        )
        self.repos[slug] = [
            {"full_name": name.replace("__", "/"), "permissions": permissions(role)}
            for name, role in repos.items()
        ]

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") in (
            f"Bearer {self.token}",
            f"token {self.token}",
        )

    def answer_teams(self, request: Request, server: FakeServer) -> Reply:
        if not self.authorized(request):
            return Reply(401, {"message": "Bad credentials"})
        parts = request.path.split("/")  # "", orgs, org, teams[, slug, repos]
        if len(parts) == 4:
            items = self.teams
        elif len(parts) == 6 and parts[5] == "repos" and parts[4] in self.repos:
            items = self.repos[parts[4]]
        else:
            return Reply(404, {"message": "Not Found"})
        page, number, _per_page, last = page_slice(items, request.query)
        link = link_header(server.url, request.path, request.query, number, last)
        return Reply(200, page, headers={"Link": link} if link else {})

    def answer_contents(self, request: Request, server: FakeServer) -> Reply:
        if not self.authorized(request):
            return Reply(401, {"message": "Bad credentials"})
        owner, _, rest = request.path.removeprefix("/repos/").partition("/")
        repo, _, path = rest.partition("/contents/")
        text = self.files.get((f"{owner}/{repo}", path))
        if text is None:
            return Reply(404, {"message": "Not Found"})
        content = base64.b64encode(text.encode()).decode()
        return Reply(200, {"type": "file", "path": path, "encoding": "base64", "content": content})
