"""The HTTP layer of API sources: retries, rate limits, conditional requests, pagination."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scorecard.config import SourceConfig
from scorecard.errors import FatalSourceError, PaginationLoop, RateLimitExhausted, SourceError
from scorecard.sources import http
from scorecard.sources.http import HttpClient, request_key
from scorecard.sources.paginate import (
    link_next,
    paginate_cursor,
    paginate_link,
    paginate_offset,
    paginate_pages,
)
from tests.fakes.server import FakeServer, Reply, Request, link_header, page_slice, running
from tests.source_config import source_config

TOKEN = "ghp_SENTINELtoken0123456789"


def cfg(url: str, **options: Any) -> SourceConfig:
    return source_config(
        name="gh", kind="github", api_url=url, timeout_s=5, max_concurrency=2, options=options
    )


def client_for(
    server: FakeServer,
    validators: dict[str, Any] | None = None,
    auth: dict[str, str] | None = None,
    **options: Any,
) -> HttpClient:
    return HttpClient(
        cfg(server.url, **options),
        auth_headers=auth or {"Authorization": f"Bearer {TOKEN}"},
        validators=validators,
        secrets=[TOKEN],
    )


def serve_list(server: FakeServer, path: str, items: list[Any]) -> None:
    def handler(request: Request, srv: FakeServer) -> Reply:
        chunk, page, _per_page, last = page_slice(items, request.query, 10)
        return Reply(200, chunk, {"Link": link_header(srv.url, path, request.query, page, last)})

    server.route(path, handler)


async def collect(pages) -> list[Any]:
    out = []
    async for page in pages:
        out.append(page)
    return out


async def test_link_pagination_fetches_each_page_once_then_only_conditional(
    fake_server: FakeServer,
) -> None:
    serve_list(fake_server, "/items", list(range(35)))
    async with client_for(fake_server) as client:
        pages = await collect(paginate_link(client, "/items", {"per_page": 10}))
        validators = client.validators
        assert client.stats.requests == 4
    assert [len(p.data) for p in pages] == [10, 10, 10, 5]
    assert sorted(r.query.get("page", "1") for r in fake_server.log) == ["1", "2", "3", "4"]
    assert len(validators) == 4

    fake_server.log.clear()
    async with client_for(fake_server, validators) as client:
        again = await collect(paginate_link(client, "/items", {"per_page": 10}))
        assert client.stats.not_modified == 4 and client.stats.requests == 4
        assert set(client.validators) == set(validators)
    assert all(p.not_modified for p in again)
    assert all(r.conditional and r.status == 304 for r in fake_server.log)


async def test_user_agent_and_auth_headers(fake_server: FakeServer) -> None:
    fake_server.route("/x", lambda r, s: Reply(200, {"ok": True}))
    async with client_for(fake_server) as client:
        page = await client.get("/x")
    assert page.data == {"ok": True}
    headers = fake_server.log[0].headers
    assert headers["user-agent"].startswith("scorecard/")
    assert headers["authorization"] == f"Bearer {TOKEN}"


async def test_429_retry_after_is_waited_out(fake_server: FakeServer, waits: list[float]) -> None:
    fake_server.route("/x", lambda r, s: Reply(200, {"ok": True}))
    fake_server.fault("/x", Reply(429, {"message": "slow down"}, {"Retry-After": "1"}))
    async with client_for(fake_server) as client:
        page = await client.get("/x")
        assert client.stats.retries == 1 and client.stats.requests == 2
    assert page.data == {"ok": True}
    assert waits == [1.0]


async def test_403_with_exhausted_rate_limit_waits_until_reset(
    fake_server: FakeServer, waits: list[float]
) -> None:
    fake_server.route("/x", lambda r, s: Reply(200, {"ok": True}, {"x-ratelimit-remaining": "57"}))
    reset = str(int(time.time()) + 1)
    fake_server.fault(
        "/x",
        Reply(
            403,
            {"message": "API rate limit exceeded"},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        ),
    )
    async with client_for(fake_server) as client:
        page = await client.get("/x")
        assert client.stats.rate_limit_remaining == 57
        assert client.stats.retries == 1
    assert page.data == {"ok": True}
    assert len(waits) == 1 and 0 < waits[0] <= 3


async def test_wait_longer_than_max_wait_stops_the_source(
    fake_server: FakeServer, waits: list[float]
) -> None:
    fake_server.fault("/x", Reply(429, {}, {"Retry-After": "3600"}))
    async with client_for(fake_server, max_wait_s=60) as client:
        with pytest.raises(RateLimitExhausted, match="max_wait_s"):
            await client.get("/x")
    assert waits == []


async def test_5xx_bursts_are_retried_with_backoff(
    fake_server: FakeServer, waits: list[float]
) -> None:
    fake_server.route("/x", lambda r, s: Reply(200, [1]))
    fake_server.fault("/x", Reply(502), Reply(503), Reply(500))
    async with client_for(fake_server) as client:
        page = await client.get("/x")
        assert client.stats.retries == 3
    assert page.data == [1]
    assert len(waits) == 3 and all(0 <= w <= http.BACKOFF_MAX_S for w in waits)


async def test_persistent_5xx_gives_up(fake_server: FakeServer, waits: list[float]) -> None:
    fake_server.route("/x", lambda r, s: Reply(503, {"message": "down"}))
    async with client_for(fake_server) as client:
        with pytest.raises(SourceError, match="HTTP 503") as info:
            await client.get("/x")
    assert info.value.retriable
    assert len(fake_server.log) == http.RETRY_ATTEMPTS


async def test_connect_errors_are_retried_then_reported(waits: list[float]) -> None:
    server = FakeServer()
    with running(server):
        url = server.url  # a port that is closed once the server stops
    client = HttpClient(
        cfg(url), auth_headers={"Authorization": f"Bearer {TOKEN}"}, secrets=[TOKEN]
    )
    async with client:
        with pytest.raises(SourceError) as info:
            await client.get("/x")
        assert client.stats.retries == http.RETRY_ATTEMPTS - 1
    assert "Connect" in str(info.value) and TOKEN not in str(info.value)


async def test_unauthorized_is_fatal_and_never_shows_the_token(fake_server: FakeServer) -> None:
    fake_server.route("/x", lambda r, s: Reply(401, {"message": "Bad credentials"}))
    async with client_for(fake_server) as client:
        with pytest.raises(FatalSourceError, match="HTTP 401") as info:
            await client.get("/x", {"q": TOKEN})
    assert TOKEN not in str(info.value) and "auth set gh" in str(info.value)


async def test_malformed_json_is_counted_and_skipped(fake_server: FakeServer) -> None:
    fake_server.route("/x", lambda r, s: Reply(200, b'[{"id": 1}, {"id":'))
    async with client_for(fake_server) as client:
        page = await client.get("/x")
        assert client.stats.malformed == 1
        assert client.validators == {}  # a broken answer is never a validator
    assert page.malformed and page.data is None


async def test_link_loop_is_detected(fake_server: FakeServer) -> None:
    def loop(request: Request, srv: FakeServer) -> Reply:
        page = int(request.query.get("page", 1))
        target = 1 if page == 2 else 2  # page 2 points back at page 1
        return Reply(200, [page], {"Link": f'<{srv.url}/loop?page={target}>; rel="next"'})

    fake_server.route("/loop", loop)
    async with client_for(fake_server) as client:
        with pytest.raises(PaginationLoop, match="loop"):
            await collect(paginate_link(client, "/loop", {"page": 1}))
    assert len(fake_server.log) == 2


async def test_next_link_to_another_host_is_refused(fake_server: FakeServer) -> None:
    fake_server.route(
        "/x", lambda r, s: Reply(200, [1], {"Link": '<https://evil.example/x?page=2>; rel="next"'})
    )
    async with client_for(fake_server) as client:
        with pytest.raises(SourceError, match="refusing to send credentials"):
            await collect(paginate_link(client, "/x"))


async def test_authorization_is_dropped_on_cross_origin_redirect(fake_server: FakeServer) -> None:
    other = FakeServer()
    with running(other):
        other.route("/landing", lambda r, s: Reply(200, {"where": "other"}))
        fake_server.route(
            "/moved", lambda r, s: Reply(302, None, {"Location": f"{other.url}/landing"})
        )
        fake_server.route("/same", lambda r, s: Reply(302, None, {"Location": "/here"}))
        fake_server.route("/here", lambda r, s: Reply(200, {"where": "same"}))
        async with client_for(fake_server) as client:
            assert (await client.get("/moved")).data == {"where": "other"}
            assert (await client.get("/same")).data == {"where": "same"}
        async with client_for(fake_server, auth={"PRIVATE-TOKEN": TOKEN}) as client:
            assert (await client.get("/moved")).data == {"where": "other"}
            assert (await client.get("/same")).data == {"where": "same"}
    assert len(other.log) == 2
    for request in other.log:
        assert "authorization" not in request.headers and "private-token" not in request.headers
        assert TOKEN not in str(request.headers)
    here = fake_server.requests("/here")
    assert here[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert here[1].headers["private-token"] == TOKEN


def test_plain_http_is_refused_except_to_localhost() -> None:
    with pytest.raises(FatalSourceError, match="plain http"):
        HttpClient(cfg("http://github.example.com/api/v3"))
    HttpClient(cfg("http://127.0.0.1:9/api"))
    HttpClient(cfg("http://localhost:9/api"))
    insecure = source_config(
        name="gh", kind="github", api_url="http://ghe.internal/api/v3", allow_insecure=True
    )
    HttpClient(insecure)


async def test_page_number_pagination_with_x_next_page(fake_server: FakeServer) -> None:
    items = list(range(25))

    def handler(request: Request, srv: FakeServer) -> Reply:
        chunk, page, _per, last = page_slice(items, request.query, 10)
        return Reply(200, chunk, {"x-next-page": str(page + 1) if page < last else ""})

    fake_server.route("/p", handler)
    async with client_for(fake_server) as client:
        pages = await collect(paginate_pages(client, "/p", {"per_page": 10}))
    assert [x for p in pages for x in p.data] == items
    assert len(fake_server.log) == 3

    fake_server.route("/stuck", lambda r, s: Reply(200, [], {"x-next-page": "1"}))
    async with client_for(fake_server) as client:
        with pytest.raises(PaginationLoop):
            await collect(paginate_pages(client, "/stuck"))


async def test_offset_and_more_pagination(fake_server: FakeServer) -> None:
    items = list(range(23))

    def handler(request: Request, srv: FakeServer) -> Reply:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        chunk = items[offset : offset + limit]
        return Reply(200, {"things": chunk, "more": offset + limit < len(items)})

    fake_server.route("/o", handler)
    async with client_for(fake_server) as client:
        pages = await collect(paginate_offset(client, "/o", limit=10, items_key="things"))
    assert [x for p in pages for x in p.data["things"]] == items
    assert [r.query["offset"] for r in fake_server.log] == ["0", "10", "20"]


async def test_cursor_pagination_and_cursor_loops(fake_server: FakeServer) -> None:
    def handler(request: Request, srv: FakeServer) -> Reply:
        after = request.query.get("after")
        nxt = {None: "b", "b": "c", "c": None}[after]
        return Reply(200, {"items": [after or "a"], "pagination_meta": {"after": nxt}})

    fake_server.route("/c", handler)
    async with client_for(fake_server) as client:
        pages = await collect(
            paginate_cursor(client, "/c", cursor_path=("pagination_meta", "after"))
        )
    assert [p.data["items"][0] for p in pages] == ["a", "b", "c"]

    fake_server.route("/cl", lambda r, s: Reply(200, {"items": [], "meta": {"after": "same"}}))
    async with client_for(fake_server) as client:
        with pytest.raises(PaginationLoop):
            await collect(paginate_cursor(client, "/cl", cursor_path=("meta", "after")))


def test_link_header_and_request_keys() -> None:
    header = '<https://x/y?page=2>; rel="next", <https://x/y?page=5>; rel="last"'
    assert link_next({"link": header}) == "https://x/y?page=2"
    assert link_next({"link": '<https://x/y?page=5>; rel="last"'}) is None
    assert link_next({}) is None
    assert request_key("https://x/y?b=2", {"a": 1}) == request_key("https://x/y?a=1&b=2")
