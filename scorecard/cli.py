"""The `scorecard` command line (SPEC §4): parse arguments, wire the core, exit.

Thin on purpose: every command is a few calls into config, secrets, service,
sync and export, with the period to score resolved once into a
:class:`~scorecard.request.ScoreRequest`. Errors become one clear line and an
exit code (0 ok, 1 runtime failure, 2 usage or config error): every error
scorecard raises on purpose is a :class:`~scorecard.errors.ScorecardError`
carrying its code, mapped in :func:`exit_for`; a traceback only with `--debug`.
Progress goes to stderr so that stdout stays clean for pipes. The global
options (``--config``, ``--quiet``, ``--debug``, ``--readonly``, ``--offline``,
``--as-of``) work before or after the command.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeVar

from scorecard import __version__
from scorecard.errors import (
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    RuntimeFailure,
    ScorecardError,
    UsageError,
)
from scorecard.report_cli import add_reports, after_sync, report_handlers, serve_or
from scorecard.request import ScoreRequest, utcnow
from scorecard.shared_cache_cli import publishable, shared
from scorecard.text import printable

if TYPE_CHECKING:
    from scorecard.cli_progress import SyncMeter
    from scorecard.config import Config, SourceConfig
    from scorecard.service import Scorecard
    from scorecard.sync import Progress, SyncSummary

__all__ = [
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "RuntimeFailure",
    "UsageError",
    "build_parser",
    "exit_for",
    "main",
]

Handler = Callable[[argparse.Namespace], int]
Number = TypeVar("Number", int, float)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# --------------------------------------------------------------------------- parsing


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after its name.

    On the top-level parser they carry the defaults; on a command's parser they
    are SUPPRESSed unless given, so `scorecard -q sync` keeps the ``-q``."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    add = parser.add_argument
    dest = "global_config" if top else "config"
    add("--config", metavar="PATH", dest=dest, default=default(None), help="config file")
    add("--quiet", "-q", action="store_true", default=default(False), help="no progress")
    add("--debug", action="store_true", default=default(False), help="tracebacks on errors")
    add("--readonly", action="store_true", default=default(False), help="write nothing at all")
    add("--offline", action="store_true", default=default(False), help="use the cache, no sync")
    add("--as-of", metavar="DATE", type=as_of_date, default=default(None), help="score as of")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    parser = Parser(
        prog="scorecard",
        description="Per-team engineering scorecards: where shipping pressure outpaces rigor.",
    )
    parser.add_argument("--version", action="version", version=f"scorecard {__version__}")
    parser.add_argument(
        "--write", action="store_true", help="override read_only = true from the config"
    )
    add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        found: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        add_global_options(found, top=False)
        return found

    command("demo", "open the TUI on the built-in demo org")
    add_standup(command("standup", "read-only rotating standup view (one team at a time)"))
    add_sync(publishable(command("sync", "pull sources into the cache")))
    add_export(command("export", "write a report (CSV/JSON/Markdown)"))
    add_auth(command("auth", "tokens in the OS keyring"))
    command("config", "validate the config (--offline: try no source)").add_argument(
        "action", choices=("check",)
    )
    add_init(command("init", "write a starter config"))
    explain = command("explain", "the events behind one number of one team (TEAM METRIC)")
    explain.add_argument("team", metavar="TEAM")
    explain.add_argument("metric", metavar="METRIC", help="a summary column, e.g. deploys")
    explain.add_argument("--demo", action="store_true", help="explain the built-in demo org")
    explain.add_argument("--format", choices=("table", "csv", "json"), default="table")
    explain.add_argument("--window", metavar="DAYS", type=window, help="window length in days")
    explain.add_argument("--strict", action="store_true", help="bad input rows are fatal")
    teams = command("teams", "the resolved team map with origins, then what has no team")
    teams.add_argument("--format", choices=("table", "csv", "json"), default="table")
    add_reports(command, sub.choices["standup"], window, as_of_date)
    return parser


def add_standup(standup: argparse.ArgumentParser) -> None:
    standup.add_argument("--demo", action="store_true", help="the built-in demo org")
    standup.add_argument(
        "--interval", metavar="S", type=interval, default=15.0, help="seconds per team (15)"
    )
    standup.add_argument(
        "--team", metavar="NAME", action="append", default=[], help="only this team (repeatable)"
    )
    standup.add_argument(
        "--live", action="store_true", help="fetch the sources into memory (no cache needed)"
    )


def add_sync(sync: argparse.ArgumentParser) -> None:
    sync.add_argument("--source", metavar="NAME", help="sync only this source")
    sync.add_argument("--full", action="store_true", help="ignore bookmarks, re-fetch")
    sync.add_argument("--strict", action="store_true", help="bad input rows are fatal")
    sync.add_argument(
        "--plan",
        action="store_true",
        help="estimate each source's requests, points and time; write nothing",
    )


def add_export(export: argparse.ArgumentParser) -> None:
    export.add_argument("--demo", action="store_true", help="export the built-in demo org")
    export.add_argument("--format", choices=("csv", "json", "markdown"), default="csv")
    export.add_argument("--output", "-o", metavar="PATH", default="-", help="file, or - (stdout)")
    export.add_argument("--window", metavar="DAYS", type=window, help="window length in days")
    export.add_argument(
        "--detail",
        choices=("summary", "weekly", "incidents", "deployments", "classes"),
        default="summary",
    )
    export.add_argument("--strict", action="store_true", help="bad input rows are fatal")


def add_auth(auth: argparse.ArgumentParser) -> None:
    auth.add_argument("action", choices=("set", "delete", "status"))
    auth.add_argument("source", metavar="SOURCE", nargs="?", help="source name from the config")
    auth.add_argument("--stdin", action="store_true", help="read the token from stdin")


def add_init(init: argparse.ArgumentParser) -> None:
    init.add_argument("path", metavar="PATH", nargs="?", help="default: the XDG config location")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def as_of_date(text: str) -> datetime:
    """A date or ISO 8601 time; naive means UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY-MM-DD or an ISO 8601 time)"
        ) from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def interval(text: str) -> float:
    """Seconds per standup card, 1..3600."""
    return number_in(text, float, 1, 3600, "a number of seconds", "interval", "seconds")


def window(text: str) -> int:
    """A window length in days, 1..3650."""
    return number_in(text, int, 1, 3650, "a number of days", "window", "days")


def number_in(
    text: str, kind: Callable[[str], Number], low: int, high: int, noun: str, name: str, unit: str
) -> Number:
    """``text`` read as ``kind`` and checked against ``low..high``, or a usage message."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{name} must be {low}..{high} {unit}, got {text}")
    return value


# --------------------------------------------------------------------------- commands


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scorecard` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        return dispatch(parse_arguments(args_list))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place errors become exit codes
        if debug:
            raise
        code, message = exit_for(exc)
        print(f"scorecard: {printable(message)}", file=sys.stderr)
        return code


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed, with ``--config`` merged from either side of the command.

    A command's own ``--config`` wins over one given before the command, and
    ``--demo`` ignores the latter, so `alias scorecard="scorecard --config …"`
    still runs `scorecard export --demo`; ``--config`` after ``--demo`` is an error."""
    args = build_parser().parse_args(argv)
    own: str | None = vars(args).pop("config", None)
    given_before: str | None = vars(args).pop("global_config")
    if vars(args).get("demo"):
        if own is not None:
            raise UsageError("argument --config: not allowed with argument --demo")
        given_before = None
    args.config = own if own is not None else given_before
    return args


def exit_for(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message for an error that ended a command."""
    if isinstance(exc, ScorecardError):
        return exc.exit_code, str(exc)
    if isinstance(exc, OSError):
        return EXIT_RUNTIME, f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc)
    return EXIT_RUNTIME, f"{type(exc).__name__}: {exc} (run with --debug for details)"


def dispatch(args: argparse.Namespace) -> int:
    """Run the command ``args`` names (the TUI when none)."""
    handlers: dict[str | None, Handler] = {
        None: cmd_tui,
        "demo": cmd_demo,
        "standup": serve_or(cmd_standup),
        "sync": cmd_sync,
        "export": cmd_export,
        "auth": cmd_auth,
        "config": cmd_config,
        "init": cmd_init,
        "explain": cmd_explain,
        "teams": cmd_teams,
        **report_handlers(export_scorecard, load, write_output),
    }
    if args.readonly and writes(args):
        raise UsageError(f"--readonly: `scorecard {args.command}` would write; nothing was done")
    return shared(handlers[args.command])(args)


def writes(args: argparse.Namespace) -> bool:
    """Whether the command writes (cache, keyring, config or a report file)."""
    if args.command in ("sync", "init", "snapshot"):
        return True
    if args.command == "auth":
        return bool(args.action in ("set", "delete"))
    if args.command in ("export", "report"):
        return bool(args.output != "-")
    return False


def load(args: argparse.Namespace) -> Config:
    """The config ``--config`` (or the default location) names; its warnings to stderr."""
    from scorecard.config import find_config_path, load_config

    config = load_config(find_config_path(args.config))
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return config


def score_request(
    args: argparse.Namespace, config: Config, *, window_days: int | None = None
) -> ScoreRequest:
    """The period the command scores, resolved once from its options and the config."""
    from scorecard.service import score_request as resolve

    return resolve(config, as_of=args.as_of, window_days=window_days, offline=args.offline)


def progress_printer(args: argparse.Namespace) -> Progress | None:
    """Progress lines on stderr, unless ``--quiet``."""
    if args.quiet:
        return None
    return lambda source, text: print(f"  {source}: {text}", file=sys.stderr, flush=True)


def sync_meter(args: argparse.Namespace) -> SyncMeter | None:
    """Progress bars on stderr when it is a terminal (and not ``--quiet``)."""
    if args.quiet or not sys.stderr.isatty():
        return None
    from scorecard.cli_progress import SyncMeter

    return SyncMeter()


def say(args: argparse.Namespace, text: str) -> None:
    """A line on stderr, unless ``--quiet``."""
    if not args.quiet:
        print(text, file=sys.stderr)


def cmd_tui(args: argparse.Namespace) -> int:
    """`scorecard`: the interactive TUI on the configured org."""
    config = load(args)
    read_only = args.readonly or (config.read_only and not args.write)
    return run_tui(args, config=config, read_only=read_only)


def cmd_demo(args: argparse.Namespace) -> int:
    """`scorecard demo`: the TUI on the built-in demo org (no config, no network)."""
    return run_tui(args, config=None, read_only=args.readonly)


def run_tui(args: argparse.Namespace, *, config: Config | None, read_only: bool) -> int:
    from scorecard.tui.app import TuiOptions, run

    options = TuiOptions(
        config=config,
        demo=config is None,
        read_only=read_only,
        offline=args.offline,
        as_of=args.as_of,
        window_days=None,
        store_root=None,
    )
    return int(run(options))


def cmd_standup(args: argparse.Namespace) -> int:
    """`scorecard standup`: the read-only rotating standup view (never writes)."""
    from scorecard.tui.standup import StandupOptions, resolve_teams, run_standup

    options = StandupOptions(interval=args.interval, live=args.live)
    if args.demo:
        from scorecard.demo import demo_config

        config = demo_config()
        loader = demo_loader(score_request(args, config))
    else:
        config = load(args)
        loader = standup_loader(config, score_request(args, config), live=args.live)
    try:
        options.teams = resolve_teams(args.team, [t.name for t in config.teams])
    except ValueError as exc:
        raise UsageError(f"--team: {exc}") from None
    return int(run_standup(loader, options))


def demo_loader(request: ScoreRequest) -> Callable[[], Scorecard]:
    """The demo org, scored again (at the time of each call) whenever standup asks."""
    from scorecard import service

    return lambda: service.demo_scorecard(request=request.at(utcnow()))


def standup_loader(config: Config, request: ScoreRequest, *, live: bool) -> Callable[[], Scorecard]:
    """Where standup's scorecard comes from: the cache (read-only) or a live fetch."""
    from scorecard import service

    if live:
        return lambda: service.live_scorecard(config, request.at(utcnow()))
    from scorecard.store import Store

    store = Store(read_only=True)
    if not store.has_data():
        raise RuntimeFailure(
            f"no cached data yet in {store.root}: run `scorecard sync` first, "
            "or use `scorecard standup --live`"
        )
    return lambda: service.cached_scorecard(config, store, request=request.at(utcnow()))


def cmd_sync(args: argparse.Namespace) -> int:
    """`scorecard sync`: pull every (or one) source into the cache."""
    from scorecard import sync
    from scorecard.store import Store

    config = load(args)
    if args.source:
        config.source(args.source)
    if args.plan:
        return sync_plan(args, config)
    if config.read_only:
        raise UsageError("the config says read_only = true: sync would write the cache")
    store = Store()
    say(args, f"syncing into {store.root}")
    meter = sync_meter(args)
    with meter or contextlib.nullcontext():
        summary = sync.sync_blocking(
            config,
            store,
            score_request(args, config),
            only=args.source,
            full=args.full,
            progress=meter.say if meter is not None else progress_printer(args),
            strict=args.strict,
            meter=meter,
        )
    say(args, summary.table())
    if summary.all_failed:
        raise RuntimeFailure(
            f"every source failed ({failures(summary)}); the cache keeps its last good data"
        )
    say(args, after_sync(config, store, score_request(args, config)))
    return EXIT_OK


def sync_plan(args: argparse.Namespace, config: Config) -> int:
    """`scorecard sync --plan`: the coming sync's cost per source; writes nothing."""
    from scorecard import sync
    from scorecard.sources.plan import plan_table
    from scorecard.store import Store

    request = score_request(args, config)
    plans = sync.plan_blocking(config, Store(read_only=True), request, only=args.source)
    print(plan_table(plans, request.now))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """`scorecard export`: sync (unless --offline), score, write the report."""
    from scorecard import export

    card = export_scorecard(args)
    extras = None
    if args.format == "json" and not card.demo:
        from scorecard.service import extras as team_extras
        from scorecard.store import Store

        extras = team_extras(Store(read_only=True), card.config) or None
    text = export.render(card.report, args.format, args.detail, extras=extras)
    write_output(args.output, text, sys.stdout)
    if args.output != "-":
        say(args, f"wrote {args.output}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """`scorecard explain TEAM METRIC`: the events behind one number (SPEC §13)."""
    from scorecard.service import explain_text

    return explain_text(export_scorecard(args), args.team, args.metric, args.format, sys.stdout)


def cmd_teams(args: argparse.Namespace) -> int:
    """`scorecard teams`: who owns what and who said so, then what has no team (§12)."""
    from scorecard.service import teams_text

    config = load(args)
    read_only = args.offline or args.readonly or config.read_only
    text, stale = teams_text(config, score_request(args, config), args.format, read_only)
    for line in stale:
        say(args, f"stale: {line}")
    sys.stdout.write(text)
    return EXIT_OK


def export_scorecard(args: argparse.Namespace) -> Scorecard:
    """The scorecard to export: the demo, the cache, or a sync then the cache."""
    from scorecard import service
    from scorecard.store import Store

    if args.demo:
        from scorecard.demo import demo_config

        request = score_request(args, demo_config(), window_days=args.window)
        return service.demo_scorecard(request=request)
    config = load(args)
    request = score_request(args, config, window_days=args.window)
    if args.offline or config.read_only or args.readonly:
        card = service.cached_scorecard(config, Store(read_only=True), request=request)
        for notice in card.notices:
            print(f"note: {notice}", file=sys.stderr)
        return card
    summary, card = service.sync_and_score(
        config, Store(), request, progress=progress_printer(args), strict=args.strict
    )
    say(args, summary.table())
    if summary.all_failed:
        raise RuntimeFailure(
            f"every source failed ({failures(summary)}); "
            "run `scorecard export --offline` to export the cached data"
        )
    return card


def failures(summary: SyncSummary) -> str:
    """``gh: 503 Service Unavailable; local: no such folder`` for an error line."""
    return "; ".join(f"{o.name}: {printable(o.last_error or 'failed')}" for o in summary.failed)


def write_output(target: str, text: str, stdout: TextIO) -> None:
    """``text`` to stdout (``-``) or, atomically, to the file ``target``."""
    if target == "-":
        stdout.write(text)
        stdout.flush()
        return
    from scorecard.fs import atomic_write_text

    atomic_write_text(Path(target), text)


def cmd_auth(args: argparse.Namespace) -> int:
    """`scorecard auth set|delete|status SOURCE`: tokens in the OS keyring."""
    from scorecard import secrets

    config = load(args)
    if args.action == "status":
        print_token_origins([config.source(args.source)] if args.source else config.sources)
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
    token = read_token(source.name, from_stdin=args.stdin)
    if not token:
        raise UsageError("no token given; nothing stored")
    secrets.set_token(source.name, token)
    print(f"{source.name}: token stored in the keyring")
    return EXIT_OK


def print_token_origins(sources: Sequence[SourceConfig]) -> None:
    """A table: each source, its kind and where its token comes from (never the token)."""
    from scorecard.secrets import token_origin

    width = max([len("source"), *(len(s.name) for s in sources)])
    print(f"{'source':<{width}}  {'kind':<12}  token")
    for source in sources:
        print(f"{source.name:<{width}}  {source.kind:<12}  {token_origin(source)}")


def read_token(name: str, *, from_stdin: bool) -> str:
    """The token from stdin (``--stdin`` or a pipe) or a hidden prompt."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    import getpass

    return getpass.getpass(f"token for {name} (input hidden): ").strip()


def cmd_config(args: argparse.Namespace) -> int:
    """`scorecard config check`: validate, then try each source and discovery section."""
    import asyncio

    from scorecard.config.check import check_all, check_table

    config = load(args)
    print(f"{config.path}: valid ({len(config.teams)} teams, {len(config.sources)} sources)")
    if args.offline:
        return EXIT_OK
    rows = asyncio.run(check_all(config))
    print(check_table(rows))
    return EXIT_OK if all(r[2] for r in rows) else EXIT_RUNTIME


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
