"""A fake HTTP server that misbehaves on purpose (fault injection for tests/test_faults.py).

Everything :class:`tests.fakes.server.FakeServer` does, plus faults that need the
socket: a connection that hangs before answering (read timeout), one that sends
headers and then trickles the body forever (a hanging response no per-read
timeout can catch), and one that resets the connection half way through the body.

``server.always(reply)`` answers *every* request with ``reply`` until
``server.always(None)``; ``server.fault(path, ...)`` (inherited) queues replies
for one path. Hanging handlers end as soon as the server stops.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeServer, Reply, Request


@dataclass
class Hang(Reply):
    """Accept the request and say nothing for ``seconds`` (then close)."""

    seconds: float = 3600.0


@dataclass
class Trickle(Reply):
    """Send the headers (a long Content-Length), then one byte every ``every_s`` forever."""

    every_s: float = 0.2


@dataclass
class Reset(Reply):
    """Send the headers and part of the body, then reset the connection (TCP RST)."""

    sent: bytes = b'[{"id": 1, "sha": "'


class FaultyServer(FakeServer):
    """A :class:`FakeServer` with socket-level faults and an "every request" switch."""

    def __init__(self) -> None:
        super().__init__()
        self.stopping = threading.Event()
        self._always: Reply | None = None

    def always(self, reply: Reply | None) -> None:
        """Answer every request with ``reply`` (``None``: back to normal)."""
        with self._lock:
            self._always = reply

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            forced = self._always
        if forced is not None:
            return forced
        return super()._answer(request)

    def start(self) -> None:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    method="GET",
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                with server._lock:
                    server.log.append(request)
                reply = server._answer(request)
                if isinstance(reply, Hang):
                    request.status = -1
                    server.stopping.wait(reply.seconds)
                    self.close_connection = True
                    return
                if isinstance(reply, Trickle):
                    request.status = 200
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(10_000_000))
                    self.end_headers()
                    self.wfile.write(b"[")
                    try:
                        while not server.stopping.wait(reply.every_s):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if isinstance(reply, Reset):
                    request.status = 200
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.sent) + 5000))
                    self.end_headers()
                    self.wfile.write(reply.sent)
                    self.wfile.flush()
                    time.sleep(0.05)
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.close_connection = True
                    self.connection.close()
                    return
                headers = dict(reply.headers)
                if isinstance(reply.body, bytes):
                    body = reply.body
                elif reply.body is None:
                    body = b""
                else:
                    body = json.dumps(reply.body).encode()
                    headers.setdefault("Content-Type", "application/json")
                status = reply.status
                if status == 200 and reply.etag:
                    import hashlib

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

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # resets and hang-ups are the point here

        self.stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        self.stopping.set()
        super().stop()
