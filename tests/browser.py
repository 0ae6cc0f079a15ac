"""A small headless-Chromium driver for tests, over the DevTools protocol.

One browser launch per test: open a page, wait for something in it, collect
console errors (console.error, uncaught exceptions, failed loads), evaluate
JavaScript and take a screenshot. It talks to Chromium's DevTools websocket with
aiohttp (already installed with textual-serve), so no browser-automation
package is needed. Chromium is the Debian package `chromium` (``make
test-prereqs`` installs it as root); without it the test skips, and fails under
``CI=true``. Screenshots go to ``$SCORECARD_TEST_ARTIFACTS`` (default
``<tmp>/scorecard-test-artifacts``; never into the repository).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(
    os.environ.get("SCORECARD_TEST_ARTIFACTS")
    or Path(tempfile.gettempdir()) / "scorecard-test-artifacts"
)
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--remote-debugging-port=0",
)


def chromium_path() -> str:
    """The Chromium binary; skips the test without one (fails under CI=true)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class Page:
    """One tab, driven over a DevTools session."""

    def __init__(self, ws: Any, session: str) -> None:
        self.ws = ws
        self.session = session
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command to the tab; its result."""
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        message = {"id": ident, "method": method, "params": params, "sessionId": self.session}
        await self.ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 15)

    def receive(self, message: dict[str, Any]) -> None:
        """Route one message: a command's answer, or an event worth recording."""
        if "id" in message and message["id"] in self._waiting:
            future = self._waiting.pop(message["id"])
            if "error" in message:
                future.set_exception(RuntimeError(str(message["error"])))
            else:
                future.set_result(message.get("result", {}))
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(str(params["entry"].get("text")))

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 10) -> Any:
        """Poll ``expression`` until it is truthy; its value (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.1)

    async def screenshot(self, name: str) -> Path:
        """A PNG of the page under the artifacts folder."""
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@asynccontextmanager
async def open_page(
    url: str, *, before_load: str | None = None, size: tuple[int, int] = (1280, 900)
) -> AsyncIterator[Page]:
    """Launch headless Chromium, open ``url`` (running ``before_load`` first in the page)
    and yield the page; the browser is closed afterwards."""
    import aiohttp

    binary = chromium_path()
    with tempfile.TemporaryDirectory(prefix="scorecard-chromium-") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            endpoint = await _devtools_endpoint(Path(profile), process)
            async with (
                aiohttp.ClientSession() as client,
                client.ws_connect(endpoint, max_msg_size=0) as ws,
            ):
                yield await _attach(ws, url, before_load)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


async def _devtools_endpoint(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """The browser's DevTools websocket, from the port file it writes when ready."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 20
    while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("headless Chromium did not start")
        await asyncio.sleep(0.05)
    port, path = port_file.read_text().splitlines()[:2]
    return f"ws://127.0.0.1:{port}{path}"


async def _attach(ws: Any, url: str, before_load: str | None) -> Page:
    """A new tab on ``url`` with its events flowing into a :class:`Page`."""
    await ws.send_str(json.dumps({"id": 0, "method": "Target.createTarget",
                                  "params": {"url": "about:blank"}}))  # fmt: skip
    target = (await _answer(ws, 0))["targetId"]
    await ws.send_str(json.dumps({"id": 1, "method": "Target.attachToTarget",
                                  "params": {"targetId": target, "flatten": True}}))  # fmt: skip
    page = Page(ws, (await _answer(ws, 1))["sessionId"])
    asyncio.get_running_loop().create_task(_pump(ws, page))
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        await page.send(domain)
    if before_load:
        await page.send("Page.addScriptToEvaluateOnNewDocument", source=before_load)
    await page.send("Page.navigate", url=url)
    await page.wait_for("document.readyState === 'complete'")
    return page


async def _answer(ws: Any, ident: int) -> dict[str, Any]:
    while True:
        message = json.loads((await asyncio.wait_for(ws.receive(), 15)).data)
        if message.get("id") == ident:
            return dict(message["result"])


async def _pump(ws: Any, page: Page) -> None:
    async for message in ws:
        if isinstance(message.data, str):
            page.receive(json.loads(message.data))
