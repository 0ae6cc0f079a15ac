"""`scorecard standup --serve`: the read-only standup in a browser, for a TV or a kiosk.

The screens on office walls are usually browsers, not terminals. textual-serve
runs the very same `scorecard standup` (read-only, writes nothing) once per
browser that connects and streams it to the page, so the browser shows exactly
what a terminal would and can change nothing. It listens on 127.0.0.1 unless
``--host`` says otherwise, and says which it is: anyone who can reach the port
can watch the standup. It imports no textual itself (the standup it runs does), so it
sits with the command line, not in the TUI package.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

__all__ = ["LOCAL_HOSTS", "ServeOptions", "serve", "standup_command"]

LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServeOptions:
    """What the served standup shows and where it listens."""

    host: str = "127.0.0.1"
    port: int = 8000
    config: str | None = None
    demo: bool = False
    live: bool = False
    interval: float = 15.0
    teams: Sequence[str] = field(default_factory=tuple)
    as_of: datetime | None = None


def standup_command(options: ServeOptions) -> str:
    """The shell command each browser session runs: the plain (terminal) standup."""
    argv = [sys.executable, "-m", "scorecard", "standup", "--interval", f"{options.interval:g}"]
    if options.demo:
        argv.append("--demo")
    elif options.config:
        argv += ["--config", options.config]
    if options.live:
        argv.append("--live")
    for team in options.teams:
        argv += ["--team", team]
    if options.as_of is not None:
        argv += ["--as-of", options.as_of.isoformat()]
    return shlex.join(argv)


def listening_note(options: ServeOptions) -> str:
    """Where the standup is served, and who can see it."""
    url = f"http://{options.host}:{options.port}"
    if options.host in LOCAL_HOSTS:
        reach = "this machine only; --host 0.0.0.0 to show it on the network"
    else:
        reach = "anyone who can reach this address can watch it (it stays read-only)"
    return f"serving the read-only standup at {url} ({reach}); ctrl+c stops"


def serve(options: ServeOptions) -> int:
    """Serve the standup until interrupted; the exit code."""
    from textual_serve.server import Server

    print(listening_note(options), file=sys.stderr, flush=True)
    server = Server(
        standup_command(options), host=options.host, port=options.port, title="scorecard standup"
    )
    server.serve()
    return 0
