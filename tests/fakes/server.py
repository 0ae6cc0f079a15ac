"""A small scripted HTTP server on 127.0.0.1 for source tests.

Routes map a path (and the parsed query) to a response. Every JSON answer gets
an ETag from its body and honours ``If-None-Match`` with a 304, like GitHub
(GET only; POSTed bodies, e.g. GraphQL queries, are in ``Request.body``).
``faults`` queue scripted answers (429, 5xx, truncated JSON, ...) that are
served before the real ones for a path. Every request is logged.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    """JSON-able data, or raw ``bytes`` sent as they are."""
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    body: bytes = b""
    """What was POSTed (GraphQL queries)."""

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


Handler = Callable[["Request", "FakeServer"], Reply]


class FakeServer:
    """Threaded HTTP server; ``routes`` are tried in order (exact path or prefix + handler)."""

    def __init__(self) -> None:
        self.routes: list[tuple[Callable[[str], bool], Handler]] = []
        self.faults: dict[str, list[Reply]] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # --- setup --------------------------------------------------------------------------

    def route(self, match: str | Callable[[str], bool], handler: Handler) -> None:
        test = (lambda p, m=match: p == m) if isinstance(match, str) else match
        self.routes.append((test, handler))

    def fault(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` (in order) for ``path`` before the real answers."""
        self.faults.setdefault(path, []).extend(replies)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def requests(self, path: str | None = None) -> list[Request]:
        return [r for r in self.log if path is None or r.path == path]

    # --- serving ------------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            queue = self.faults.get(request.path)
            if queue:
                return queue.pop(0)
        for test, handler in self.routes:
            if test(request.path):
                return handler(request, self)
        return Reply(404, {"message": "Not Found"})

    def start(self) -> None:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=method,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with server._lock:
                    server.log.append(request)
                reply = server._answer(request)
                headers = dict(reply.headers)
                if isinstance(reply.body, bytes):
                    body = reply.body
                elif reply.body is None:
                    body = b""
                else:
                    body = json.dumps(reply.body).encode()
                    headers.setdefault("Content-Type", "application/json")
                status = reply.status
                if status == 200 and reply.etag and method == "GET":
                    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                    headers["ETag"] = etag
                    if request.headers.get("if-none-match") == etag:
                        status, body = 304, b""
                request.status = status
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@contextmanager
def running(server: FakeServer) -> Iterator[FakeServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def page_slice(
    items: list[Any], query: dict[str, str], default_per_page: int = 30
) -> tuple[list[Any], int, int, int]:
    """``(items of the page, page, per_page, last page)`` for ``page``/``per_page`` queries."""
    per_page = int(query.get("per_page", default_per_page))
    page = int(query.get("page", 1))
    last = max(1, -(-len(items) // per_page))
    return items[(page - 1) * per_page : page * per_page], page, per_page, last


def link_header(base: str, path: str, query: dict[str, str], page: int, last: int) -> str:
    """A GitHub-style ``Link`` header for ``page`` of ``last``."""
    from urllib.parse import urlencode

    def target(n: int) -> str:
        return f"{base}{path}?{urlencode({**query, 'page': str(n)})}"

    links = []
    if page < last:
        links.append(f'<{target(page + 1)}>; rel="next"')
        links.append(f'<{target(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{target(1)}>; rel="first"')
        links.append(f'<{target(page - 1)}>; rel="prev"')
    return ", ".join(links)
