"""Pagination styles of the vendors' listings, each guarded against loops.

- :func:`paginate_link`: RFC 8288 ``Link: <…>; rel="next"`` (GitHub, GitLab keyset);
- :func:`paginate_pages`: page numbers with a next-page header (GitLab);
- :func:`paginate_offset`: ``offset``/``limit`` and a ``more`` flag (PagerDuty);
- :func:`paginate_cursor`: a cursor read from the body (incident.io);
- :func:`paginate_body_next`: a ``next`` URL in the body (Codecov, DRF style, Bitbucket);
- :func:`paginate_continuation`: a continuation token in a response header, sent back
  as a parameter (Azure DevOps' ``x-ms-continuationtoken``).

A listing that hands back a page (or cursor) it already served stops with
:class:`~scorecard.errors.PaginationLoop`, and none runs past :data:`MAX_PAGES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from scorecard.errors import PaginationLoop
from scorecard.sources.http import HttpClient, Page, request_key

__all__ = [
    "MAX_PAGES",
    "LoopGuard",
    "link_next",
    "paginate_body_next",
    "paginate_continuation",
    "paginate_cursor",
    "paginate_link",
    "paginate_offset",
    "paginate_pages",
]

MAX_PAGES: Final = 10_000
"""Hard ceiling on pages per listing, a last line of defence against runaway loops."""


def link_next(headers: Mapping[str, str]) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header."""
    value = headers.get("link")
    if not value:
        return None
    for part in value.split(","):
        section = part.split(";")
        if len(section) < 2:
            continue
        target = section[0].strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for attr in section[1:]:
            name, _, rel = attr.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in rel.strip().strip('"').split():
                return target[1:-1]
    return None


class LoopGuard:
    """Stops a listing that serves a page twice or runs past :data:`MAX_PAGES`."""

    def __init__(self, what: str, max_pages: int = MAX_PAGES) -> None:
        self.what = what
        self.max_pages = max_pages
        self.seen: set[str] = set()

    def check(self, key: str) -> None:
        if key in self.seen:
            raise PaginationLoop(f"pagination loop in {self.what}: {key} was already fetched")
        if len(self.seen) >= self.max_pages:
            raise PaginationLoop(f"more than {self.max_pages} pages in {self.what}; stopped")
        self.seen.add(key)


async def paginate_link(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    conditional: bool = True,
) -> AsyncIterator[Page]:
    """Follow ``Link: <...>; rel="next"`` (GitHub, GitLab keyset) page by page.

    Yields every page, 304s included (with the next URL stored last time).
    """
    guard = LoopGuard(path)
    url: str | None = client.url(path)
    query: Mapping[str, Any] | None = params
    while url is not None:
        guard.check(request_key(url, query))
        page = await client.get(url, query, conditional=conditional)
        if not page.not_modified:
            page.next_url = link_next(page.headers)
            client.remember(page, next_url=page.next_url or "")
        yield page
        url, query = (page.next_url or None), None


async def paginate_pages(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    page_param: str = "page",
    next_header: str = "x-next-page",
    conditional: bool = True,
) -> AsyncIterator[Page]:
    """Page-number pagination (GitLab's ``x-next-page``; ``page=N`` parameters)."""
    guard = LoopGuard(path)
    current: str | None = "1"
    while current:
        query = {**(params or {}), page_param: current}
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        if not page.not_modified:
            page.next_url = (page.headers.get(next_header) or "").strip() or None
            client.remember(page, next_url=page.next_url or "")
        yield page
        current = page.next_url


async def paginate_offset(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    limit: int = 100,
    more_key: str = "more",
    items_key: str,
    conditional: bool = False,
) -> AsyncIterator[Page]:
    """Offset + ``more`` pagination (PagerDuty style: ``offset``, ``limit``, ``more``)."""
    guard = LoopGuard(path)
    offset = 0
    while True:
        query = {**(params or {}), "offset": offset, "limit": limit}
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        yield page
        data = page.data if isinstance(page.data, dict) else {}
        items = data.get(items_key)
        if not data.get(more_key) or not isinstance(items, list) or not items:
            return
        offset += len(items)


async def paginate_cursor(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    cursor_path: tuple[str, ...],
    cursor_param: str = "after",
    conditional: bool = False,
) -> AsyncIterator[Page]:
    """Cursor pagination: the next cursor is read from the body at ``cursor_path``."""
    guard = LoopGuard(path)
    seen_cursors: set[str] = set()
    cursor: str | None = None
    while True:
        query = {**(params or {})}
        if cursor is not None:
            query[cursor_param] = cursor
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        yield page
        node: Any = page.data
        for part in cursor_path:
            node = node.get(part) if isinstance(node, dict) else None
        if not node:
            return
        cursor = str(node)
        if cursor in seen_cursors:
            raise PaginationLoop(f"pagination loop in {path}: cursor {cursor} repeated")
        seen_cursors.add(cursor)


async def paginate_body_next(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_pages: int = MAX_PAGES,
) -> AsyncIterator[Page]:
    """Page-number pagination that follows the body's ``next`` URL to the end."""
    guard = LoopGuard(path, max_pages)
    url: str | None = client.url(path)
    query: Mapping[str, Any] | None = params
    while url is not None:
        guard.check(request_key(url, query))
        page = await client.get(url, query, conditional=False)
        yield page
        data = page.data if isinstance(page.data, dict) else {}
        following = data.get("next")
        url, query = (following if isinstance(following, str) and following else None), None


async def paginate_continuation(
    client: HttpClient,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    header: str = "x-ms-continuationtoken",
    param: str = "continuationToken",
    conditional: bool = True,
) -> AsyncIterator[Page]:
    """Follow a continuation token the API sends in ``header`` (Azure DevOps), passed
    back as the ``param`` parameter, until an answer carries none.

    Yields every page, 304s included (with the token stored last time)."""
    guard = LoopGuard(path)
    seen_tokens: set[str] = set()
    token: str | None = None
    while True:
        query = {**(params or {})}
        if token is not None:
            query[param] = token
        guard.check(request_key(client.url(path), query))
        page = await client.get(path, query, conditional=conditional)
        if not page.not_modified:
            page.next_url = (page.headers.get(header) or "").strip() or None
            client.remember(page, next_url=page.next_url or "")
        yield page
        if not page.next_url:
            return
        token = page.next_url
        if token in seen_tokens:
            raise PaginationLoop(f"pagination loop in {path}: continuation token repeated")
        seen_tokens.add(token)
