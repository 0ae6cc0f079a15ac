"""`scorecard standup --serve`: the read-only standup served to a browser (textual-serve),
on 127.0.0.1 unless told otherwise; a headless Chromium loads it and sees a team card."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scorecard import cli
from scorecard.demo import demo_config
from scorecard.serve import ServeOptions, listening_note, standup_command
from tests.browser import chromium_path, open_page

AS_OF = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

# Keeps the text the page's terminal receives, so the test can read what the browser shows
# (xterm.js draws on a canvas).
CAPTURE = """
window.__shown = "";
const Native = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new Native(...args);
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") window.__shown += new TextDecoder().decode(event.data);
  });
  return socket;
};
window.WebSocket.prototype = Native.prototype;
"""


def test_serve_listens_on_this_machine_unless_told_and_says_so() -> None:
    args = cli.parse_arguments(["standup", "--demo", "--serve"])
    assert (args.serve, args.host, args.port) == (True, "127.0.0.1", 8000)
    assert "this machine only" in listening_note(ServeOptions())
    assert "anyone who can reach" in listening_note(ServeOptions(host="0.0.0.0"))
    with pytest.raises(cli.UsageError, match="port must be"):
        cli.parse_arguments(["standup", "--serve", "--port", "70000"])


def test_each_browser_runs_the_plain_read_only_standup() -> None:
    options = ServeOptions(config="/etc/my org.toml", teams=("Payments",), interval=20, as_of=AS_OF)
    argv = shlex.split(standup_command(options))
    assert argv[:4] == [sys.executable, "-m", "scorecard", "standup"]
    assert "--serve" not in argv and "--config" in argv and "/etc/my org.toml" in argv
    assert argv[argv.index("--team") + 1] == "Payments"
    assert argv[argv.index("--interval") + 1] == "20"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, server: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stderr.read()!r}")  # type: ignore[union-attr]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the standup server did not listen")


async def test_the_standup_shows_a_team_card_in_a_browser(tmp_path: Path) -> None:
    chromium_path()  # skip (or fail under CI) before starting anything
    port = free_port()
    env = {**os.environ, "SCORECARD_CACHE_DIR": str(tmp_path / "cache")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    argv = ["standup", "--demo", "--serve", "--port", str(port), "--as-of", AS_OF.isoformat()]
    server = subprocess.Popen(
        [sys.executable, "-m", "scorecard", *argv],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port, server)
        async with open_page(f"http://127.0.0.1:{port}/", before_load=CAPTURE) as page:
            teams = [t.name for t in demo_config().teams]
            shown = await page.wait_for(
                f"{teams!r}.find(t => window.__shown.includes(t)) && "
                "document.body.classList.contains('-first-byte') && window.__shown",
                timeout=20,
            )
            await page.screenshot("standup.png")
    finally:
        server.terminate()
        server.wait(timeout=10)
    note = server.stderr.read().decode() if server.stderr else ""
    assert f"serving the read-only standup at http://127.0.0.1:{port}" in note
    assert "this machine only" in note
    assert "flagged" in shown.lower() or "grade" in shown.lower()
    assert not (tmp_path / "cache").exists() and list(tmp_path.iterdir()) == []
