"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import FakeServer, running


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make HTTP retry and rate-limit waits instant; the list records each wait (seconds)."""
    from scorecard.sources import http

    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(http, "sleep", fake_sleep)
    return recorded


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A scripted HTTP server on 127.0.0.1 (see tests/fakes/server.py)."""
    with running(FakeServer()) as server:
        yield server
