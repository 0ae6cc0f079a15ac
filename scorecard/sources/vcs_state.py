"""The bookkeeping of the VCS base (:mod:`scorecard.sources.vcs`): what each repo
keeps between syncs (bookmarks per stream, events still running, how far back its
history is complete and where an interrupted backfill resumes), what one fetch
shares, and what one stream of one repo is asked to read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.containment import CommitGraph
from scorecard.sources.records import iso, parse_time

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient
    from scorecard.sources.records import Collected

__all__ = [
    "OVERLAP",
    "Reader",
    "RepoJob",
    "RepoState",
    "Stream",
    "VcsRun",
    "lower_bound",
    "recent_first",
    "repos_of",
    "short_histories",
]

OVERLAP: Final = timedelta(days=1)
"""Incremental syncs re-read this much before the bookmark (late statuses, clock skew)."""


@dataclass
class RepoState:
    """What a VCS source keeps per repo between syncs (saved as the same JSON object)."""

    history_from: str
    """The oldest moment this repo's cached events cover (ISO)."""
    bookmarks: dict[str, str] = field(default_factory=dict)
    """Stream -> when it was last read completely (ISO)."""
    pending: dict[str, str] | None = None
    """Stream -> the start of its oldest event still in progress (GitHub only)."""
    default_branch: str | None = None
    backfill: dict[str, dict[str, str]] = field(default_factory=dict)
    """Stream -> how far an older-history backfill got: ``reached`` (ISO; everything
    newer is read) and, where the listing has one, the ``after`` cursor to resume at."""

    @classmethod
    def resume(cls, ctx: FetchContext, old: Mapping[str, Any], *, pending: bool) -> RepoState:
        """The state a sync of ``[ctx.since, ctx.until)`` starts from."""
        history_from = parse_time(old.get("history_from"))
        return cls(
            history_from=iso(ctx.since if history_from is None else min(history_from, ctx.since)),
            bookmarks=dict(old.get("bookmarks") or {}),
            pending=dict(old.get("pending") or {}) if pending else None,
            backfill={str(k): dict(v) for k, v in (old.get("backfill") or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"history_from": self.history_from, "bookmarks": self.bookmarks}
        if self.pending is not None:
            out["pending"] = self.pending
        out["default_branch"] = self.default_branch
        if self.backfill:
            out["backfill"] = self.backfill
        return out


@dataclass
class VcsRun:
    """One fetch of a VCS source: what every repo's streams share."""

    client: HttpClient
    ctx: FetchContext
    previous: dict[str, pd.DataFrame]
    """The cached events the fresh ones merge into."""
    collected: Collected
    repo_states: dict[str, Any] = field(default_factory=dict)
    """Repo -> its saved :class:`RepoState` JSON (updated as repos finish)."""
    graphs: dict[str, CommitGraph] = field(default_factory=dict)
    """Repo -> what this sync learned of its commits (for commit containment)."""
    done: int = 0
    """Repos (and backfills) finished, for the progress bar."""
    deploy_refs: dict[str, dict[str, str]] = field(default_factory=dict)
    """Repo -> deployed commit -> the ref it was deployed from, where the vendor says
    (only deployments of refs other than the default branch need an ancestry check)."""

    def note_ref(self, repo: str, sha: Any, ref: Any) -> None:
        """Remember that ``sha`` of ``repo`` was deployed from ``ref``."""
        if isinstance(sha, str) and isinstance(ref, str):
            self.deploy_refs.setdefault(repo, {})[sha] = ref


@dataclass
class RepoJob:
    """One stream of one repo in one fetch: where it starts and what it learned."""

    run: VcsRun
    repo: str
    team: str | None
    lower: datetime
    """Fetch events from here on (bookmark minus overlap, or the history start)."""
    default_branch: str
    cursor: str = "updated_at"
    """The stream's cursor field (see :class:`Stream`)."""
    old_pending: datetime | None = None
    saw_unchanged: bool = False
    fresh: bool = True
    """No bookmark: the stream reads its whole range (full pages, not small ones)."""
    upper: datetime | None = None
    """Backfill: only events older than this are wanted (newer ones are cached)."""
    after: str | None = None
    """Backfill: the listing cursor to resume at (None: from the top)."""
    reached: datetime | None = None
    """Backfill: set by readers as pages complete, with ``after``, so a stop can resume."""

    def checkpoint(self, after: str | None, reached: datetime | None) -> None:
        """Everything newer than ``reached`` is read; the listing goes on at ``after``."""
        if reached is not None:
            self.after = after
            self.reached = reached if self.reached is None else min(self.reached, reached)

    @property
    def client(self) -> HttpClient:
        return self.run.client

    @property
    def collected(self) -> Collected:
        return self.run.collected


Reader = Callable[[RepoJob], Awaitable["datetime | None"]]
"""Reads one stream of one repo; returns the start of its oldest event still running."""


@dataclass(frozen=True)
class Stream:
    """One stream a VCS source reads per repo, as the source declares it."""

    read: Reader
    cursor: str
    """The timestamp field its listing is sorted by (newest first) and bookmarked on."""


def repos_of(config: Config | None) -> list[tuple[str, str]]:
    """``(repo, team)`` for every repo of every team, first owner wins."""
    out: dict[str, str] = {}
    for team in config.teams if config is not None else ():
        for repo in team.repos:
            out.setdefault(repo, team.name)
    return list(out.items())


def lower_bound(ctx: FetchContext, repo_state: Mapping[str, Any], stream: str) -> datetime:
    """Where a stream of one repo starts: its bookmark minus the overlap, or ``ctx.since``."""
    if ctx.full:
        return ctx.since
    history_from = parse_time(repo_state.get("history_from"))
    bookmark = parse_time((repo_state.get("bookmarks") or {}).get(stream))
    if bookmark is None or history_from is None or history_from > ctx.since:
        return ctx.since  # never synced, or asked for older history than we have
    pending = parse_time((repo_state.get("pending") or {}).get(stream))
    lower = bookmark - OVERLAP
    if pending is not None:
        lower = min(lower, pending)
    return max(lower, ctx.since)


def recent_first(ctx: FetchContext, old: Mapping[str, Any] | None) -> FetchContext:
    """The range a repo reads first: for a repo whose history is not complete back to
    ``ctx.since``, the current and previous windows (and anything since its oldest
    bookmark), the rest being left to the backfill; otherwise ``ctx`` itself."""
    history_from = parse_time((old or {}).get("history_from"))
    if ctx.recent_since is None or (
        not ctx.full and history_from is not None and history_from <= ctx.since
    ):
        return ctx
    marks = [parse_time(v) for v in ((old or {}).get("bookmarks") or {}).values()]
    since = min([ctx.recent_since, *(m - OVERLAP for m in marks if m is not None)])
    return replace(ctx, since=max(since, ctx.since))


def short_histories(run: VcsRun, repos: Sequence[str]) -> dict[str, datetime]:
    """Repo -> how far back its history is complete, for repos short of the range."""
    out: dict[str, datetime] = {}
    for repo in repos:
        history_from = parse_time((run.repo_states.get(repo) or {}).get("history_from"))
        if history_from is not None and history_from > run.ctx.since:
            out[repo] = history_from
    return out
