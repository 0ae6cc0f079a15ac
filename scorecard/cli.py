"""The `scorecard` command line (SPEC §4): parse arguments, wire the core, exit.

Thin on purpose: every command is a few calls into config, secrets, service,
sync and export. Errors become one clear line and an exit code (0 ok, 1 runtime
failure, 2 usage or config error); a traceback only with `--debug`. Progress
goes to stderr so that stdout stays clean for pipes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from scorecard import __version__

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.service import Scorecard

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
WINDOWS = (7, 30, 90)


class UsageError(Exception):
    """Bad arguments: exit 2 with the message."""


class RuntimeFailure(Exception):
    """The command ran but failed (e.g. every source failed): exit 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# --------------------------------------------------------------------------- parsing


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    parser = _Parser(
        prog="scorecard",
        description="Per-team engineering scorecards: where shipping pressure outpaces rigor.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"scorecard {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: see README)")
    parser.add_argument("--readonly", action="store_true", help="write nothing at all")
    parser.add_argument(
        "--write", action="store_true", help="override read_only = true from the config"
    )
    parser.add_argument("--offline", action="store_true", help="use the cache, do not sync")
    parser.add_argument("--as-of", metavar="DATE", type=_as_of, help="score as of this time")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", parents=[common], help="open the TUI on the built-in demo org")
    # SUPPRESS: `scorecard --readonly demo` keeps the flag given before the command
    demo.add_argument(
        "--readonly", action="store_true", default=argparse.SUPPRESS, help="write nothing at all"
    )
    demo.add_argument(
        "--as-of",
        metavar="DATE",
        type=_as_of,
        default=argparse.SUPPRESS,
        help="score as of this time",
    )

    standup = sub.add_parser(
        "standup", parents=[common], help="read-only rotating standup view (one team at a time)"
    )
    source = standup.add_mutually_exclusive_group()
    source.add_argument("--config", metavar="PATH")
    source.add_argument("--demo", action="store_true", help="the built-in demo org")
    standup.add_argument(
        "--interval", metavar="S", type=_interval, default=15.0, help="seconds per team (15)"
    )
    standup.add_argument(
        "--team", metavar="NAME", action="append", default=[], help="only this team (repeatable)"
    )
    standup.add_argument(
        "--live", action="store_true", help="fetch the sources into memory (no cache needed)"
    )
    standup.add_argument(
        "--as-of",
        metavar="DATE",
        type=_as_of,
        default=argparse.SUPPRESS,
        help="score as of this time",
    )

    sync = sub.add_parser("sync", parents=[common], help="pull sources into the cache")
    sync.add_argument("--config", metavar="PATH")
    sync.add_argument("--source", metavar="NAME", help="sync only this source")
    sync.add_argument("--full", action="store_true", help="ignore bookmarks, re-fetch")
    sync.add_argument("--as-of", metavar="DATE", type=_as_of, help="cover two windows before it")
    sync.add_argument("--strict", action="store_true", help="bad input rows are fatal")

    export = sub.add_parser("export", parents=[common], help="write a report (CSV/JSON/Markdown)")
    where = export.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="PATH")
    where.add_argument("--demo", action="store_true", help="export the built-in demo org")
    export.add_argument("--format", choices=("csv", "json", "markdown"), default="csv")
    export.add_argument("--output", "-o", metavar="PATH", default="-", help="file, or - (stdout)")
    export.add_argument("--window", metavar="DAYS", type=_window, help="window length in days")
    export.add_argument("--as-of", metavar="DATE", type=_as_of, help="score as of this time")
    export.add_argument("--offline", action="store_true", help="use the cache, do not sync")
    export.add_argument(
        "--detail",
        choices=("summary", "weekly", "incidents", "deployments", "classes"),
        default="summary",
    )
    export.add_argument("--strict", action="store_true", help="bad input rows are fatal")

    auth = sub.add_parser("auth", parents=[common], help="tokens in the OS keyring")
    auth.add_argument("action", choices=("set", "delete", "status"))
    auth.add_argument("source", metavar="SOURCE", nargs="?", help="source name from the config")
    auth.add_argument("--config", metavar="PATH")
    auth.add_argument("--stdin", action="store_true", help="read the token from stdin")

    config = sub.add_parser("config", parents=[common], help="validate the config")
    config.add_argument("action", choices=("check",))
    config.add_argument("--config", metavar="PATH")
    config.add_argument("--offline", action="store_true", help="validate only, try no source")

    init = sub.add_parser("init", parents=[common], help="write a starter config")
    init.add_argument("path", metavar="PATH", nargs="?", help="default: the XDG config location")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    return parser


def _as_of(text: str) -> datetime:
    """A date or ISO 8601 time; naive means UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY-MM-DD or an ISO 8601 time)"
        ) from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _interval(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"interval must be 1..3600 seconds, got {text}")
    return seconds


def _window(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"window must be 1..3650 days, got {days}")
    return days


# --------------------------------------------------------------------------- commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scorecard` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        args = build_parser().parse_args(args_list)
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place errors become exit codes
        if debug:
            raise
        code, message = _classify(exc)
        from scorecard.sync import printable

        print(f"scorecard: {printable(message)}", file=sys.stderr)
        return code


def _classify(exc: BaseException) -> tuple[int, str]:
    from scorecard.config import ConfigError

    if isinstance(exc, (UsageError, ConfigError)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, RuntimeFailure):
        return EXIT_RUNTIME, str(exc)
    from scorecard.secrets import SecretsError

    if isinstance(exc, SecretsError):
        return EXIT_RUNTIME, str(exc)
    if isinstance(exc, OSError):
        return EXIT_RUNTIME, f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc)
    return EXIT_RUNTIME, f"{type(exc).__name__}: {exc} (run with --debug for details)"


def _dispatch(args: argparse.Namespace) -> int:
    handlers: dict[str | None, Callable[[argparse.Namespace], int]] = {
        None: cmd_tui,
        "demo": cmd_demo,
        "standup": cmd_standup,
        "sync": cmd_sync,
        "export": cmd_export,
        "auth": cmd_auth,
        "config": cmd_config,
        "init": cmd_init,
    }
    if getattr(args, "readonly", False) and _writes(args):
        raise UsageError(f"--readonly: `scorecard {args.command}` would write; nothing was done")
    return handlers[args.command](args)


def _writes(args: argparse.Namespace) -> bool:
    """Whether the command writes (cache, keyring, config or a report file)."""
    if args.command in ("sync", "init"):
        return True
    if args.command == "auth":
        return bool(args.action in ("set", "delete"))
    if args.command == "export":
        return bool(args.output != "-")
    return False


def _load(args: argparse.Namespace) -> Config:
    from scorecard.config import find_config_path, load_config

    config = load_config(find_config_path(getattr(args, "config", None)))
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def _progress(args: argparse.Namespace) -> Callable[[str, str], None] | None:
    if args.quiet:
        return None
    return lambda source, text: print(f"  {source}: {text}", file=sys.stderr, flush=True)


def cmd_tui(args: argparse.Namespace) -> int:
    """`scorecard`: the interactive TUI on the configured org."""
    config = _load(args)
    read_only = args.readonly or (config.read_only and not args.write)
    return _run_tui(config=config, demo=False, read_only=read_only, args=args)


def cmd_demo(args: argparse.Namespace) -> int:
    """`scorecard demo`: the TUI on the built-in demo org (no config, no network)."""
    return _run_tui(config=None, demo=True, read_only=args.readonly, args=args)


def _run_tui(*, config: Config | None, demo: bool, read_only: bool, args: Any) -> int:
    from scorecard.tui.app import TuiOptions, run

    options = TuiOptions(
        config=config,
        demo=demo,
        read_only=read_only,
        offline=bool(getattr(args, "offline", False)),
        as_of=getattr(args, "as_of", None),
        window_days=None,
        store_root=None,
    )
    return int(run(options))


def cmd_standup(args: argparse.Namespace) -> int:
    """`scorecard standup`: the read-only rotating standup view (never writes)."""
    from scorecard.tui.standup import StandupOptions, resolve_teams, run_standup

    as_of = getattr(args, "as_of", None)
    options = StandupOptions(interval=args.interval, live=args.live)
    if args.demo:
        from scorecard import service
        from scorecard.demo import demo_config

        known = [t.name for t in demo_config().teams]

        def loader() -> Scorecard:
            return service.demo_scorecard(as_of)

    else:
        config = _load(args)
        known = [t.name for t in config.teams]
        loader = _standup_loader(config, live=args.live, as_of=as_of)
    try:
        options.teams = resolve_teams(args.team, known)
    except ValueError as exc:
        raise UsageError(f"--team: {exc}") from None
    return int(run_standup(loader, options))


def _standup_loader(config: Config, *, live: bool, as_of: datetime | None) -> Callable[[], Any]:
    """Where standup's scorecard comes from: the cache (read-only) or a live fetch."""
    from scorecard import service

    if live:
        return lambda: service.live_scorecard(config, as_of=as_of)
    from scorecard.store import Store

    store = Store(read_only=True)
    if not store.has_data():
        raise RuntimeFailure(
            f"no cached data yet in {store.root}: run `scorecard sync` first, "
            "or use `scorecard standup --live`"
        )
    return lambda: service.cached_scorecard(config, store, as_of=as_of)


def cmd_sync(args: argparse.Namespace) -> int:
    """`scorecard sync`: pull every (or one) source into the cache."""
    from scorecard import sync
    from scorecard.service import utcnow
    from scorecard.store import Store

    config = _load(args)
    if args.source:
        config.source(args.source)
    if config.read_only:
        raise UsageError("the config says read_only = true: sync would write the cache")
    store = Store()
    if not args.quiet:
        print(f"syncing into {store.root}", file=sys.stderr)
    summary = sync.sync_blocking(
        config,
        store,
        only=args.source,
        full=args.full,
        as_of=args.as_of,
        now=utcnow(),
        progress=_progress(args),
        strict=args.strict,
    )
    if not args.quiet:
        print(summary.table(), file=sys.stderr)
    if summary.all_failed:
        raise RuntimeFailure(
            f"every source failed ({_failures(summary)}); the cache keeps its last good data"
        )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """`scorecard export`: sync (unless --offline), score, write the report."""
    from scorecard import export

    card = _export_scorecard(args)
    extras = None
    if args.format == "json" and not card.demo:
        from scorecard.service import extras as team_extras
        from scorecard.store import Store

        extras = team_extras(Store(read_only=True), card.config) or None
    text = export.render(card.report, args.format, args.detail, extras=extras)
    _write_output(args.output, text, sys.stdout)
    if args.output != "-" and not args.quiet:
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _export_scorecard(args: argparse.Namespace) -> Scorecard:
    from scorecard import service

    if args.demo:
        return service.demo_scorecard(args.as_of, window_days=args.window)
    config = _load(args)
    from scorecard.store import Store

    if args.offline or config.read_only or getattr(args, "readonly", False):
        store = Store(read_only=True)
        card = service.cached_scorecard(config, store, as_of=args.as_of, window_days=args.window)
        for notice in card.notices:
            print(f"note: {notice}", file=sys.stderr)
        return card
    summary, card = service.sync_and_score(
        config,
        Store(),
        as_of=args.as_of,
        window_days=args.window,
        progress=_progress(args),
        strict=args.strict,
    )
    if not args.quiet:
        print(summary.table(), file=sys.stderr)
    if summary.all_failed:
        raise RuntimeFailure(
            f"every source failed ({_failures(summary)}); "
            "run `scorecard export --offline` to export the cached data"
        )
    return card


def _failures(summary: Any) -> str:
    """``gh: 503 Service Unavailable; local: no such folder`` for an error line."""
    from scorecard.sync import printable

    return "; ".join(f"{o.name}: {printable(o.error or 'failed')}" for o in summary.failed)


def _write_output(target: str, text: str, stdout: TextIO) -> None:
    if target == "-":
        stdout.write(text)
        stdout.flush()
        return
    from scorecard.export import write_text

    write_text(Path(target), text)


def cmd_auth(args: argparse.Namespace) -> int:
    """`scorecard auth set|delete|status SOURCE`: tokens in the OS keyring."""
    from scorecard import secrets

    config = _load(args)
    if args.action == "status":
        sources = [config.source(args.source)] if args.source else list(config.sources)
        width = max([len("source"), *(len(s.name) for s in sources)])
        print(f"{'source':<{width}}  {'kind':<12}  token")
        for source in sources:
            print(f"{source.name:<{width}}  {source.kind:<12}  {secrets.token_origin(source)}")
        return EXIT_OK
    if not args.source:
        raise UsageError(f"scorecard auth {args.action}: name the SOURCE")
    source = config.source(args.source)
    if config.read_only:
        raise UsageError("the config says read_only = true: auth would write the keyring")
    if args.action == "delete":
        removed = secrets.delete_token(source.name)
        print(f"{source.name}: token {'deleted' if removed else 'was not in the keyring'}")
        return EXIT_OK
    token = _read_token(source.name, from_stdin=args.stdin)
    if not token:
        raise UsageError("no token given; nothing stored")
    secrets.set_token(source.name, token)
    print(f"{source.name}: token stored in the keyring")
    return EXIT_OK


def _read_token(name: str, *, from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    import getpass

    return getpass.getpass(f"token for {name} (input hidden): ").strip()


def cmd_config(args: argparse.Namespace) -> int:
    """`scorecard config check`: validate, then try each source (a table of results)."""
    config = _load(args)
    print(f"{config.path}: valid ({len(config.teams)} teams, {len(config.sources)} sources)")
    if args.offline:
        return EXIT_OK
    rows = _check_sources(config)
    width = max([len("source"), *(len(r[0]) for r in rows)])
    print(f"{'source':<{width}}  {'kind':<12}  {'result':<6}  detail")
    for name, kind, ok, detail in rows:
        print(f"{name:<{width}}  {kind:<12}  {'ok' if ok else 'FAILED':<6}  {detail}")
    return EXIT_OK if all(r[2] for r in rows) else EXIT_RUNTIME


def _check_sources(config: Config) -> list[tuple[str, str, bool, str]]:
    """Try each source once, in memory (nothing is written)."""
    import asyncio

    from scorecard.secrets import redact
    from scorecard.service import utcnow
    from scorecard.sources.base import FetchContext, build_source

    now = utcnow()

    async def one(cfg: Any) -> tuple[str, str, bool, str]:
        try:
            source = build_source(cfg, config=config)
            probe = getattr(source, "probe", None)
            if probe is not None:
                detail = await asyncio.wait_for(probe(), timeout=max(cfg.timeout_s * 2, 10))
                return cfg.name, cfg.kind, True, detail
            # No light probe: fetch the last day, in memory only.
            since = now - timedelta(days=1)
            result = await asyncio.wait_for(
                source.fetch(FetchContext(since=since, until=now, full=True)),
                timeout=max(cfg.timeout_s * 2, 10),
            )
        except Exception as exc:  # reported per source, in the table
            return cfg.name, cfg.kind, False, redact(str(exc), [resolve_token_quietly(cfg)])
        detail = f"{result.items} events in the last day"
        if result.skipped:
            detail += f", {result.skipped} bad rows skipped"
        return cfg.name, cfg.kind, True, detail

    async def every() -> list[tuple[str, str, bool, str]]:
        return list(await asyncio.gather(*(one(cfg) for cfg in config.sources)))

    return asyncio.run(every())


def resolve_token_quietly(cfg: Any) -> str | None:
    """The source's token for redaction, or None when it cannot be had."""
    from scorecard.secrets import SecretsError, resolve_token

    try:
        return resolve_token(cfg)
    except SecretsError:
        return None


def cmd_init(args: argparse.Namespace) -> int:
    """`scorecard init [PATH]`: write a commented starter config (never overwrites)."""
    from scorecard.config import default_config_path, write_starter_config

    target = Path(args.path) if args.path else default_config_path()
    written = write_starter_config(target, force=args.force)
    print(f"wrote {written}")
    print("next: edit it, then `scorecard auth set <source>` and `scorecard sync`")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
