"""The command line's `report`, `snapshot` and `standup --serve`, declared in one place.

``scorecard.cli`` stays a table of commands: it hands this module its command
factory and helpers (the scorecard for a command's options, the config, the
output writer) and gets back the parsers and handlers. Nothing here imports
``scorecard.cli``; the bodies live in ``scorecard.reports`` and
``scorecard.serve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.request import ScoreRequest
    from scorecard.service import Scorecard
    from scorecard.store import Store

__all__ = ["add_reports", "after_sync", "report_handlers", "serve_or"]

Handler = Callable[[argparse.Namespace], int]


def add_reports(
    command: Callable[[str, str], argparse.ArgumentParser],
    standup: argparse.ArgumentParser,
    window: Callable[[str], int],
    date_type: Callable[[str], Any],
) -> None:
    """Declare `report` and `snapshot`, and `standup`'s ``--serve`` options."""
    report = command("report", "a self-contained HTML report or a Markdown digest, with trends")
    add = report.add_argument
    add("--demo", action="store_true", help="report on the built-in demo org")
    add("--format", choices=("html", "markdown"), default="html")
    add("--output", "-o", metavar="PATH", default="-", help="file, or - (stdout)")
    add("--window", metavar="DAYS", type=window, help="window length in days")
    add("--since", metavar="DATE", type=date_type, help="changes since (default: 7 days back)")
    add("--strict", action="store_true", help="bad input rows are fatal")
    command("snapshot", "keep today's scored summary of every team (for scheduled runs)")
    add = standup.add_argument
    add("--serve", action="store_true", help="serve the standup to a browser (textual-serve)")
    add("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    add("--port", type=port, default=8000, help="port to listen on (8000)")


def port(text: str) -> int:
    """A TCP port, 1..65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1..65535, got {text}")
    return value


def report_handlers(
    scorecard_for: Callable[[argparse.Namespace], Scorecard],
    load: Callable[[argparse.Namespace], Config],
    write_output: Callable[[str, str, TextIO], None],
) -> dict[str | None, Handler]:
    """The handlers of `report` and `snapshot`, built on the command line's helpers."""

    def report(args: argparse.Namespace) -> int:
        from scorecard.reports.build import report_text

        write_output(
            args.output, report_text(scorecard_for(args), args.format, args.since), sys.stdout
        )
        if args.output != "-" and not args.quiet:
            print(f"wrote {args.output}", file=sys.stderr)
        return 0

    def snapshot(args: argparse.Namespace) -> int:
        from scorecard.reports.build import snapshot_now
        from scorecard.request import ScoreRequest
        from scorecard.store import Store

        config = load(args)
        request = ScoreRequest.resolve(as_of=args.as_of, default_window_days=config.window_days)
        line = snapshot_now(config, Store(read_only=config.read_only), request)
        if not args.quiet:
            print(line, file=sys.stderr)
        return 0

    return {"report": report, "snapshot": snapshot}


def after_sync(config: Config, store: Store, request: ScoreRequest) -> str:
    """After a successful sync: the day's snapshot kept, or why it was not (a sync
    that worked never fails for its snapshot)."""
    from scorecard.service import snapshot

    try:
        return snapshot(config, store, request)
    except Exception as exc:  # the events are synced; say why the snapshot is missing
        return f"warning: no snapshot kept: {exc}"


def serve_or(standup: Handler) -> Handler:
    """`standup`, or with ``--serve`` the same standup served to browsers."""

    def run(args: argparse.Namespace) -> int:
        if not args.serve:
            return standup(args)
        from scorecard.serve import ServeOptions, serve

        config = None if args.demo else _checked_config(args.config, live=args.live)
        return serve(
            ServeOptions(
                host=args.host,
                port=args.port,
                config=config,
                demo=args.demo,
                live=args.live,
                interval=args.interval,
                teams=tuple(args.team),
                as_of=args.as_of,
            )
        )

    return run


def _checked_config(given: str | None, *, live: bool) -> str:
    """The config file the served standups will read (absolute), checked now so that a
    mistake is told here, not in a browser; and, unless ``live``, a cache to show."""
    from scorecard.config import find_config_path, load_config
    from scorecard.errors import RuntimeFailure
    from scorecard.store import Store

    path = find_config_path(given)
    load_config(path)
    store = Store(read_only=True)
    if not live and not store.has_data():
        raise RuntimeFailure(
            f"no cached data yet in {store.root}: run `scorecard sync` first, "
            "or serve `scorecard standup --live --serve`"
        )
    return str(path.expanduser().resolve())
