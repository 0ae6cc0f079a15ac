"""The command line's side of the shared cache (SPEC §4, §9): ``sync --publish``
for the scheduled job, and every other command reading the latest publication.

Kept out of ``cli.py`` (which stays a thin list of commands): :func:`publishable`
adds ``--publish`` to the sync parser and :func:`shared` wraps the handler of the
command being run. With a ``cache_url``:

- ``sync --publish`` starts from the last publication when its local cache is
  empty (a CI runner or a CronJob pod starts afresh each time, and incremental
  sync needs the cursors), syncs into the local cache as always, then publishes;
- plain ``sync`` is refused: it would spend the API quota the shared cache is
  there to save, and publish nothing;
- the TUI, export, standup, explain, teams and reports read the publication,
  read-only and offline: no lead writes to the shared cache.

Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scorecard.config import Config
    from scorecard.shared_cache import Published, SharedCache

__all__ = ["publishable", "shared"]

Handler = Callable[[argparse.Namespace], int]

OWN_CACHE_COMMANDS = frozenset({"auth", "config", "init", "demo"})
"""Commands that never read the shared cache (they write or read other things)."""


def publishable(sync: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The sync parser with ``--publish``."""
    sync.add_argument(
        "--publish", action="store_true", help="then publish the cache to cache_url (shared)"
    )
    return sync


def shared(handler: Handler) -> Handler:
    """``handler`` for a config with a shared cache: publishing after ``sync
    --publish``, reading the publication for the others; as it is without one."""

    def run(args: argparse.Namespace) -> int:
        from scorecard.errors import ScorecardError, UsageError
        from scorecard.shared_cache import read_shared
        from scorecard.store import read_published

        read_published(None)  # the local cache, unless this command's config says otherwise
        if getattr(args, "demo", False) or args.command in OWN_CACHE_COMMANDS:
            return handler(args)
        if args.command == "sync":
            return handler(args) if args.plan else publish_sync(handler, args)
        try:
            config = config_of(args)
        except ScorecardError:
            return handler(args)  # which says what is wrong with the config its own way
        if read_shared(config):
            if args.command == "snapshot":
                raise UsageError(
                    "with a shared cache, `scorecard sync --publish` keeps the day's snapshot "
                    "in its own cache; readers keep none"
                )
            args.readonly = args.offline = True  # readers never write, nor sync
        return handler(args)

    return run


def config_of(args: argparse.Namespace) -> Config:
    from scorecard.config import find_config_path, load_config

    return load_config(find_config_path(args.config))


def publish_sync(handler: Handler, args: argparse.Namespace) -> int:
    """``scorecard sync [--publish]``: refused without ``--publish`` when the config has
    a shared cache; with it, seeded from the last publication, synced, then published."""
    from scorecard import shared_cache
    from scorecard.errors import EXIT_OK, UsageError
    from scorecard.store import Store

    config = config_of(args)
    url = shared_cache.cache_url(config)
    if url is None:
        if args.publish:
            raise UsageError(
                "sync --publish: no cache_url in [scorecard] (nor SCORECARD_CACHE_URL)"
            )
        return handler(args)
    if not args.publish:
        raise UsageError(
            f"this config reads the shared cache {url}: `scorecard sync --publish` (the "
            "scheduled job) writes it; readers need no sync"
        )
    if config.read_only:
        return handler(args)  # which refuses to write
    cache = shared_cache.SharedCache.of(config)
    for line in shared_cache.seed(cache, Store()):
        say(args, line)
    code = handler(args)
    if code == EXIT_OK:
        published = shared_cache.publish_now(cache, Store())
        for line in (published_text(cache, published), *published.notes):
            say(args, line)
    return code


def published_text(cache: SharedCache, published: Published) -> str:
    """``published to s3://…: publication 12 by nightly at 2026-12-03 06:00 UTC``."""
    when = published.published_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"published to {cache.url}: publication {published.version} by "
        f"{published.publisher} at {when}"
    )


def say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)
