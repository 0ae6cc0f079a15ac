"""Sync: fetch every configured source concurrently into the cache.

Sources are independent, so they run side by side and each is fenced off: an
exception in one becomes that source's error (a one-line message, tokens
redacted) while the others finish and are stored. A failed source keeps its
last good data in the cache, so its teams show as stale rather than empty
(SPEC §10). The result is a summary the CLI prints and the TUI shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config, SourceConfig
    from scorecard.sources.base import SourceResult
    from scorecard.store import Store

Progress = Callable[[str, str], None]

MAX_PROBLEMS_SHOWN: Final = 10
"""Bad-row and other problem messages printed per source under the summary table."""

_BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (ESC included) shown as control
    pictures, C1 controls and bidirectional overrides as U+FFFD."""
    if text.isprintable() and not any(c in _BIDI_CONTROLS for c in text):
        return text

    def visible(char: str) -> str:
        code = ord(char)
        if code < 0x20:
            return chr(0x2400 + code)
        if code == 0x7F:
            return "\u2421"
        if 0x80 <= code <= 0x9F or char in _BIDI_CONTROLS:
            return "\ufffd"
        return char

    return "".join(visible(c) for c in text)


# Credentials that look like themselves even when we do not know the value.
_TOKEN_PATTERNS: Final = re.compile(
    r"\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(?:gh[pousr]_|github_pat_|glpat-|xox[abpr]-)[A-Za-z0-9_-]{8,}"
    r"|(?<=[?&\s])(?:access_token|api_key|apikey|token|private_token)=[^&\s]+",
    re.IGNORECASE,
)


@dataclass
class SourceOutcome:
    """How one source's sync went."""

    name: str
    kind: str
    items: int = 0
    skipped: int = 0
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    complete: bool = True
    stats: dict[str, int] = field(default_factory=dict)
    """Request counters from the source (see ``SourceResult.stats``)."""
    rate_limit_remaining: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status_text(self) -> str:
        """One short word or phrase for tables."""
        if self.error is not None:
            return f"error: {self.error}"
        if not self.complete:
            return "partial (stopped early)"
        if self.skipped:
            return f"ok ({self.skipped:,} bad rows skipped)"
        return "ok"

    @property
    def stats_text(self) -> str:
        """Requests, 304s, retries, rate limit left and items per stream, in one line."""
        stats = self.stats
        if not stats:
            return ""
        parts = [
            f"{stats.get('requests', 0):,} requests",
            f"{stats.get('not_modified', 0):,} not modified (304)",
            f"{stats.get('retries', 0):,} retries",
        ]
        if stats.get("malformed"):
            parts.append(f"{stats['malformed']:,} malformed answers skipped")
        remaining = stats.get("rate_limit_remaining", self.rate_limit_remaining)
        if remaining is not None:
            parts.append(f"rate limit {remaining:,} left")
        streams = [
            f"{key.removeprefix('items.')} {n:,}"
            for key, n in sorted(stats.items())
            if key.startswith("items.")
        ]
        text = ", ".join(parts)
        return text + ("; " + ", ".join(streams) if streams else "")


@dataclass
class SyncSummary:
    """All outcomes of one sync run."""

    outcomes: list[SourceOutcome] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """What the cache had to say (e.g. rebuilt because of another schema version)."""

    @property
    def all_failed(self) -> bool:
        """True only when there were sources and every one of them failed."""
        return bool(self.outcomes) and all(o.error is not None for o in self.outcomes)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def items(self) -> int:
        return sum(o.items for o in self.outcomes)

    def table(self) -> str:
        """A plain, aligned text table: source, kind, items, skipped, status, time."""
        header = ("source", "kind", "items", "skipped", "status", "time")
        rows = [
            (
                printable(o.name),
                printable(o.kind),
                f"{o.items:,}",
                f"{o.skipped:,}",
                printable(o.status_text),
                f"{o.duration_s:.1f}s",
            )
            for o in self.outcomes
        ]
        notes = [f"cache: {printable(notice)}" for notice in self.notices]
        if not rows:
            return "\n".join([*notes, "no sources to sync"])
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        numeric = {2, 3, 5}

        def line(cells: tuple[str, ...]) -> str:
            parts = [
                cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                for i, cell in enumerate(cells)
            ]
            return "  ".join(parts).rstrip()

        lines = [*notes, line(header), *(line(r) for r in rows)]
        lines.extend(f"{o.name}: {text}" for o in self.outcomes if (text := o.stats_text))
        for o in self.outcomes:
            shown = o.problems[:MAX_PROBLEMS_SHOWN]
            lines.extend(f"{printable(o.name)}: {printable(p)}" for p in shown)
            if len(o.problems) > len(shown):
                more = len(o.problems) - len(shown)
                lines.append(f"{printable(o.name)}: ... {more:,} more problem(s) not shown")
        return "\n".join(lines)


def history_start(config: Config, now: datetime, as_of: datetime | None = None) -> datetime:
    """Where a sync starts fetching (SPEC §9).

    ``history_days`` back from now, and always at least two windows before
    ``as_of`` so the current and previous window of a past ``--as-of`` are full.
    """
    end = as_of if as_of is not None else now
    return min(
        now - timedelta(days=config.history_days),
        end - timedelta(days=2 * config.window_days),
    )


def _secrets_for(cfg: SourceConfig) -> list[str]:
    """Token values ``cfg`` may use, to scrub from anything shown or stored."""
    found: list[str] = []
    if cfg.token and cfg.token != "keyring":
        found.append(cfg.token)
    if cfg.token_env:
        value = os.environ.get(cfg.token_env)
        if value:
            found.append(value)
    return found


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` with known token values and anything token-shaped replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _TOKEN_PATTERNS.sub("***", text)


def _error_message(exc: BaseException) -> str:
    """A one-line message for ``exc``, without traceback text."""
    from scorecard.sources.base import SourceError

    message = " ".join(str(exc).split())
    if isinstance(exc, SourceError):
        return message or type(exc).__name__
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"timed out{': ' + message if message else ''}"
    if isinstance(exc, OSError):
        return message or type(exc).__name__
    return f"unexpected error ({type(exc).__name__}){': ' + message if message else ''}"


def _stats_of(exc: BaseException) -> dict[str, int]:
    """The request counters a failing source's HTTP client attached to its error."""
    stats = getattr(exc, "stats", None)
    as_dict = getattr(stats, "as_dict", None)
    if not callable(as_dict):
        return {}
    counters = as_dict()
    return dict(counters) if isinstance(counters, dict) else {}


def _scrub_state(value: object, secrets: list[str]) -> object:
    """A copy of the state with any token value removed from its strings."""
    if isinstance(value, str):
        return redact_text(value, secrets) if secrets else value
    if isinstance(value, dict):
        return {str(k): _scrub_state(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_state(v, secrets) for v in value]
    return value


async def _sync_one(
    cfg: SourceConfig,
    store: Store,
    config: Config | None = None,
    *,
    since: datetime,
    until: datetime,
    full: bool,
    now: datetime,
    strict: bool,
    progress: Progress | None,
) -> SourceOutcome:
    from scorecard.sources.base import FetchContext, build_source

    secrets = _secrets_for(cfg)
    started = time.monotonic()

    def say(text: str) -> None:
        if progress is not None:
            # A broken progress display must not fail the sync.
            with contextlib.suppress(Exception):
                progress(cfg.name, redact_text(text, secrets))

    say("starting")
    result: SourceResult | None = None
    error: str | None = None
    failed_stats: dict[str, int] = {}
    try:
        source = build_source(cfg, strict=strict, config=config)

        def previous() -> dict[str, pd.DataFrame]:
            if full:
                return {}
            return store.load(sources=[cfg.name])

        ctx = FetchContext(
            since=since,
            until=until,
            full=full,
            state={} if full else store.state(cfg.name),
            progress=say,
            load_previous=previous,
        )
        result = await source.fetch(ctx)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        error = redact_text(_error_message(exc), secrets)
        failed_stats = _stats_of(exc)

    if result is not None:
        result.problems = [redact_text(p, secrets) for p in result.problems]
        state = _scrub_state(result.state, secrets)
        result.state = state if isinstance(state, dict) else {}
        try:
            await asyncio.to_thread(
                store.write_source, cfg.name, cfg.kind, result, attempted_at=now
            )
        except Exception as exc:
            error = redact_text(f"could not write the cache: {_error_message(exc)}", secrets)

    duration = time.monotonic() - started
    if error is not None:
        try:
            await asyncio.to_thread(
                store.record_failure, cfg.name, cfg.kind, error, attempted_at=now
            )
        except Exception as exc:
            error += f" (and the failure could not be recorded: {_error_message(exc)})"
        say(f"failed: {error}")
        return SourceOutcome(
            name=cfg.name,
            kind=cfg.kind,
            error=error,
            problems=list(result.problems) if result is not None else [],
            duration_s=duration,
            complete=False,
            stats=dict(result.stats) if result is not None else failed_stats,
        )
    assert result is not None
    say(
        f"done: {result.items:,} items"
        + (f", {result.skipped:,} skipped" if result.skipped else "")
    )
    return SourceOutcome(
        name=cfg.name,
        kind=cfg.kind,
        items=result.items,
        skipped=result.skipped,
        error=None,
        problems=list(result.problems),
        duration_s=duration,
        complete=result.complete,
        stats=dict(result.stats),
        rate_limit_remaining=result.rate_limit_remaining,
    )


async def sync(
    config: Config,
    store: Store,
    *,
    only: str | None = None,
    full: bool = False,
    as_of: datetime | None = None,
    now: datetime,
    progress: Progress | None = None,
    strict: bool = False,
) -> SyncSummary:
    """Fetch all configured sources (or just ``only``) concurrently into ``store``.

    ``now`` is the sync time (recorded as each source's attempt time); ``as_of``
    only widens how far back the fetch starts. Raises ``ConfigError`` when
    ``only`` names no configured source and ``RuntimeError`` for a read-only store.
    """
    if store.read_only:
        raise RuntimeError("cannot sync into a read-only cache")
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    sources = [config.source(only)] if only is not None else list(config.sources)
    since = history_start(config, now, as_of)
    outcomes = await asyncio.gather(
        *(
            _sync_one(
                cfg,
                store,
                config,
                since=since,
                until=now,
                full=full,
                now=now,
                strict=strict,
                progress=progress,
            )
            for cfg in sources
        )
    )
    return SyncSummary(outcomes=list(outcomes), notices=list(store.notices))


def sync_blocking(
    config: Config,
    store: Store,
    *,
    only: str | None = None,
    full: bool = False,
    as_of: datetime | None = None,
    now: datetime,
    progress: Progress | None = None,
    strict: bool = False,
) -> SyncSummary:
    """:func:`sync` for callers without an event loop (the CLI)."""
    return asyncio.run(
        sync(
            config,
            store,
            only=only,
            full=full,
            as_of=as_of,
            now=now,
            progress=progress,
            strict=strict,
        )
    )
