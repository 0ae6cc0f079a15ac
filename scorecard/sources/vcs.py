"""What GitHub and GitLab share: their common options, the per-repo sync loop
(default branch, one bookmark per stream, failure triage), the bookmarks it
keeps, reading listings newest first down to a bookmark, caching each merged
change's first commit and paths, and deciding canaries and rollbacks.

A VCS source declares its streams (``deployments``, ``runs``, ...) as methods
taking a :class:`RepoJob`; :class:`VcsSource` runs them for every repo of every
team, concurrently, and builds the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.options import HttpOptions, option
from scorecard.sources.api import ApiSource
from scorecard.sources.containment import CommitGraph, shipped_by
from scorecard.sources.records import (
    Collected,
    glob_match,
    iso,
    json_list,
    merge_frames,
    parse_time,
)
from scorecard.sources.vcs_deployments import (
    DEFAULT_CANARY_ENVIRONMENTS,
    DEFAULT_ROLLBACK_PATTERNS,
    compile_patterns,
    resolve_deployments,
)
from scorecard.sources.vcs_graph import CommitHistory
from scorecard.sources.vcs_state import (
    OVERLAP,
    Reader,
    RepoJob,
    RepoState,
    Stream,
    VcsRun,
    lower_bound,
    recent_first,
    repos_of,
    short_histories,
)
from scorecard.status import Tick

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page

__all__ = [
    "DEFAULT_CANARY_ENVIRONMENTS",
    "DEFAULT_ROLLBACK_PATTERNS",
    "OVERLAP",
    "Reader",
    "RepoJob",
    "RepoState",
    "Stream",
    "VcsOptions",
    "VcsRun",
    "VcsSource",
    "compile_patterns",
    "lower_bound",
    "note_oldest",
    "owned_by",
    "previous_first_commits",
    "previous_paths",
    "repos_of",
    "resolve_deployments",
    "stop_at",
]

DEFAULT_PRODUCTION: Final = ("production", "prod", "live")
"""Production environments when no config is at hand (the config's own default)."""
HISTORY_MARGIN: Final = timedelta(days=7)
"""The default branch's history is read from this much before the streams' start, so a
change merged a few days before a sync and deployed after it is still placed."""


@dataclass(frozen=True)
class VcsOptions(HttpOptions):
    """Options GitHub and GitLab sources share."""

    canary_environments: tuple[str, ...] = DEFAULT_CANARY_ENVIRONMENTS
    """Glob patterns (any case) of environments that mean "canary"; a production
    deployment of a commit that reached one of them first is a canary deployment."""
    rollback_patterns: tuple[str, ...] = option(DEFAULT_ROLLBACK_PATTERNS, check="regex_list")
    """Regexes on titles, descriptions and refs marking rollbacks (default: titles
    starting with "Revert", "rollback", "roll back")."""


VcsOptionsT = TypeVar("VcsOptionsT", bound=VcsOptions)


def owned_by(repo: str, owners: Sequence[str]) -> bool:
    """Whether ``repo`` is under one of ``owners`` (any case); True when none are given."""
    return not owners or any(repo.casefold().startswith(f"{o.casefold()}/") for o in owners)


# --- listings newest first ----------------------------------------------------------------


def note_oldest(client: HttpClient, page: Page, items: list[Any], key: str) -> datetime | None:
    """The oldest ``key`` timestamp on the page, remembered with its validators."""
    times = [parse_time(i.get(key)) for i in items if isinstance(i, dict)]
    known = [t for t in times if t is not None]
    oldest = min(known) if known else None
    if oldest is not None:
        client.remember(page, oldest=iso(oldest))
    return oldest


def stop_at(page: Page, lower: datetime) -> bool:
    """True for an unchanged (304) page that lies entirely before ``lower``."""
    if not page.not_modified:
        return False
    oldest = parse_time(page.meta.get("oldest"))
    return oldest is None or oldest < lower


# --- cached changes -----------------------------------------------------------------------


def previous_paths(previous: Mapping[str, pd.DataFrame], repo: str) -> dict[str, list[str]]:
    """Paths of this repo's cached changes (a merged change's files never change)."""
    frame = previous.get("changes")
    if frame is None or frame.empty or "paths" not in frame.columns:
        return {}
    rows = frame[frame["repo"].astype(object) == repo]
    return {str(i): list(p) for i, p in zip(rows["id"], rows["paths"]) if len(p)}


def previous_first_commits(previous: Mapping[str, pd.DataFrame], repo: str) -> dict[str, datetime]:
    """First-commit times of this repo's cached changes (fetched once per change)."""
    frame = previous.get("changes")
    if frame is None or frame.empty:
        return {}
    rows = frame[(frame["repo"].astype(object) == repo) & frame["first_commit_at"].notna()]
    return {str(i): t.to_pydatetime() for i, t in zip(rows["id"], rows["first_commit_at"])}


@dataclass
class ChangeCache:
    """What the cache already knows of a repo's merged changes."""

    first_commits: dict[str, datetime]
    paths: dict[str, list[str]] | None
    """None when no change class matches on paths (then paths are not fetched)."""

    async def fill(
        self,
        record: dict[str, Any],
        first_commit: Callable[[], Awaitable[datetime | None]],
        paths: Callable[[], Awaitable[list[str]]],
    ) -> None:
        """Set ``record``'s first commit (and paths), fetching only what is not cached."""
        first = self.first_commits.get(record["id"])
        record["first_commit_at"] = first if first is not None else await first_commit()
        if self.paths is not None:
            known = self.paths.get(record["id"])
            record["paths"] = known if known is not None else await paths()


# --- the source ---------------------------------------------------------------------------


class VcsSource(CommitHistory, ApiSource[VcsOptionsT]):
    """A GitHub-like source: streams per repo of every team, merged into the cache."""

    repo_word: ClassVar[str] = "repo"
    """What the vendor calls a repo, for messages ("project" on GitLab)."""
    keeps_pending: ClassVar[bool] = False
    """Whether streams report events still running (kept as ``pending`` bookmarks)."""
    skipped_page_keeps_bookmark: ClassVar[bool] = False
    """Whether a stream that skipped a malformed page keeps its old bookmark."""

    def setup(self, config: Config | None) -> None:
        self.repos = [(repo, team) for repo, team in repos_of(config) if self.reads_repo(repo)]
        self.production: tuple[str, ...] = (
            config.production_environments if config is not None else DEFAULT_PRODUCTION
        )
        self.canary_environments: list[str] = list(
            self.options.canary_environments or DEFAULT_CANARY_ENVIRONMENTS
        )
        self.rollback_patterns = compile_patterns(self.options.rollback_patterns)
        self.fetch_paths = config is not None and (
            any(c.paths for c in config.change_classes) or bool(config.path_repos)
        )
        """Only a change class matching on path globs, or a CODEOWNERS repo whose changes
        are split between teams by their paths, needs each change's files."""

    def reads_repo(self, repo: str) -> bool:
        """Whether a team repo is this source's (all of them unless options say)."""
        return True

    def repo_path(self, repo: str) -> str:
        """The API path of one repo (its default branch is read there)."""
        raise NotImplementedError

    def streams(self) -> dict[str, Stream]:
        """The streams read per repo, by bookmark name, with their cursor fields."""
        raise NotImplementedError

    def relevant_env(self, env: Any) -> bool:
        """A production or canary environment."""
        if not isinstance(env, str) or not env:
            return False
        prod = {p.casefold() for p in self.production}
        return env.casefold() in prod or glob_match(env, self.canary_environments)

    def change_cache(self, previous: Mapping[str, pd.DataFrame], repo: str) -> ChangeCache:
        paths = previous_paths(previous, repo) if self.fetch_paths else None
        return ChangeCache(previous_first_commits(previous, repo), paths)

    def finished(self, ctx: FetchContext, client: HttpClient) -> None:
        """Called once every repo is done (a progress line, say)."""

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous, state = self.start(ctx, needs_previous=True)
        client = self.client(validators=state.get("http") or {})
        run = VcsRun(client, ctx, previous, Collected(), dict(state.get("repos") or {}))
        if not self.repos:
            run.collected.problem(f"no team lists a {self.repo_word}, so there is nothing to fetch")
        async with client:
            failures = await self.sync_all(run)
        self.settle(failures, run.collected, client, total=len(self.repos))
        self.finished(ctx, client)
        new_state = {
            "version": self.state_version,
            "repos": {r: run.repo_states[r] for r, _ in self.repos if r in run.repo_states},
            "http": client.validators,
        }
        frames = self.frames(previous, run.collected, run.graphs)
        result = self.result(run.collected, client, frames=frames, state=new_state)
        result.complete_since = short_histories(run, [r for r, _ in self.repos])
        return result

    def backfills(self) -> bool:
        """Whether every stream can read an older range alone (``RepoJob.upper`` and
        ``after``): then a first sync reads the current and previous windows of every
        repo before any older history, and a stopped backfill resumes where it stopped."""
        return False

    async def sync_all(self, run: VcsRun) -> list[Exception]:
        """Every repo, newest history first where the source backfills; the failures
        (each repo counted once)."""
        ctx = run.ctx
        recent = ctx.recent_since
        if not (self.backfills() and recent is not None and recent > ctx.since):
            total = len(self.repos)
            _, failures = await self.gather(
                [self.counted(run, self.sync_repo(run, r, t), total) for r, t in self.repos]
            )
            return failures
        total = 2 * len(self.repos)
        results, failures = await self.gather(
            [
                self.counted(
                    run, self.sync_repo(run, r, t, recent_first(ctx, run.repo_states.get(r))), total
                )
                for r, t in self.repos
            ]
        )
        if run.client.exhausted is not None:
            return failures
        ok = [(r, t) for (r, t), res in zip(self.repos, results) if not isinstance(res, Exception)]
        run.done += len(self.repos) - len(ok)
        _, more = await self.gather(
            [self.counted(run, self.backfill_repo(run, r, t), total) for r, t in ok]
        )
        return failures + more

    @staticmethod
    async def counted(run: VcsRun, work: Awaitable[None], total: int) -> None:
        """``work``, then a progress tick (repos done of ``total``, cost, budget left)."""
        try:
            await work
        finally:
            run.done += 1
            stats = run.client.stats
            budgets = [
                b for b in (stats.rate_limit_remaining, stats.points_remaining) if b is not None
            ]
            run.ctx.tick(Tick(run.done, total, stats.spent, min(budgets) if budgets else None))

    async def backfill_repo(self, run: VcsRun, repo: str, team: str | None) -> None:
        """The history of ``repo`` older than what it has, back to the range's start,
        stream by stream from where an earlier backfill stopped."""
        ctx, state = (
            run.ctx,
            RepoState.resume(run.ctx, run.repo_states.get(repo) or {}, pending=False),
        )
        saved = dict(run.repo_states.get(repo) or {})
        history_from = parse_time(saved.get("history_from")) or ctx.since
        if history_from <= ctx.since:
            return
        ctx.progress(f"{repo}: backfilling history before {iso(history_from)[:10]}")
        done = True
        for stream, spec in self.streams().items():
            mark = state.backfill.get(stream) or {}
            upper = parse_time(mark.get("reached")) or history_from
            if upper <= ctx.since:
                continue
            job = RepoJob(
                run,
                repo,
                team,
                lower=ctx.since,
                default_branch=str(saved.get("default_branch") or "main"),
                cursor=spec.cursor,
                upper=upper,
                after=mark.get("after"),
            )
            try:
                await spec.read(job)
            except SourceError as exc:
                stopped = job.reached or upper
                state.backfill[stream] = {"reached": iso(stopped), "after": job.after or ""}
                saved["backfill"] = state.backfill
                run.repo_states[repo] = saved
                if isinstance(exc, (RateLimitExhausted, FatalSourceError)):
                    raise
                run.collected.complete = False
                run.collected.problem(f"{repo} {stream} (older history): {exc}")
                done = False
                continue
            state.backfill[stream] = {"reached": iso(ctx.since), "after": ""}
        if done:
            saved["history_from"] = iso(ctx.since)
            saved.pop("backfill", None)
        else:
            saved["backfill"] = state.backfill
        run.repo_states[repo] = saved
        await self.learn_graph(run, repo, saved.get("default_branch") or "main", ctx.since)

    def frames(
        self,
        previous: Mapping[str, pd.DataFrame],
        collected: Collected,
        graphs: Mapping[str, CommitGraph] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """Fresh records merged into the cached events, canaries and rollbacks decided,
        and each change's deployment found by commit containment where ``graphs`` can
        tell (the time rule stays the fallback)."""
        frames = merge_frames(previous, collected.frames())
        if "deployments" in frames:
            frames["deployments"] = resolve_deployments(
                frames["deployments"],
                frames.get("changes"),
                production=self.production,
                canary_environments=self.canary_environments,
                rollback_patterns=self.rollback_patterns,
            )
        changes = frames.get("changes")
        if graphs and changes is not None and "deployments" in frames:
            found = shipped_by(frames["deployments"], changes, graphs, self.production)
            kept = changes["deployment_id"]
            changes = changes.copy()
            changes["deployment_id"] = found.where(found.notna(), kept.astype(object))
            frames["changes"] = changes.astype({"deployment_id": kept.dtype})
        return frames

    async def default_branch(self, client: HttpClient, repo: str, old: Mapping[str, Any]) -> str:
        """The repo's default branch (remembered with its validators; "main" if unknown)."""
        page = await client.get(self.repo_path(repo))
        if page.not_modified:
            branch = page.meta.get("default_branch")
        else:
            data = page.data if isinstance(page.data, dict) else {}
            branch = data.get("default_branch")
            if isinstance(branch, str):
                client.remember(page, default_branch=branch)
        if not isinstance(branch, str) or not branch:
            branch = old.get("default_branch") or "main"
        return str(branch)

    async def sync_repo(
        self, run: VcsRun, repo: str, team: str | None, ctx: FetchContext | None = None
    ) -> None:
        """Every stream of one repo over ``ctx``'s range (default: the run's); raises
        only when all of them failed."""
        ctx = ctx or run.ctx
        old = dict(run.repo_states.get(repo) or {}) if not ctx.full else {}
        new = RepoState.resume(ctx, old, pending=self.keeps_pending)
        ctx.progress(f"{repo}: fetching")
        new.default_branch = await self.default_branch(run.client, repo, old)
        streams = self.streams()
        errors: list[Exception] = []
        history_since = ctx.until
        for stream, spec in streams.items():
            job = RepoJob(
                run,
                repo,
                team,
                lower=lower_bound(ctx, old, stream),
                default_branch=new.default_branch,
                cursor=spec.cursor,
                old_pending=parse_time((new.pending or {}).get(stream)),
            )
            job.fresh = job.lower <= ctx.since
            margin = timedelta(0) if job.fresh else HISTORY_MARGIN  # undeployed cached changes
            history_since = min(history_since, job.lower - margin)
            error = await self.sync_stream(job, stream, spec.read, new)
            if error is None and job.lower <= run.ctx.since:
                new.backfill.pop(stream, None)  # read back to the range's start
            elif error is None and job.fresh and job.reached is not None:
                new.backfill[stream] = {"reached": iso(job.reached), "after": job.after or ""}
            if error is not None:
                errors.append(error)
        if len(errors) == len(streams):
            run.repo_states[repo] = new.to_json()
            raise errors[0]
        await self.learn_graph(run, repo, new.default_branch, history_since)
        run.repo_states[repo] = new.to_json()

    async def sync_stream(
        self, job: RepoJob, stream: str, read: Reader, state: RepoState
    ) -> Exception | None:
        """One stream of one repo, its bookmark moved on success; the error otherwise
        (a spent rate limit and fatal errors stop the repo)."""
        collected = job.collected
        malformed_before = job.client.stats.malformed
        try:
            pending = await read(job)
        except (RateLimitExhausted, FatalSourceError):
            raise
        except SourceError as exc:
            collected.complete = False
            collected.problem(f"{job.repo} {stream}: {exc}")
            return exc
        if self.skipped_page_keeps_bookmark and job.client.stats.malformed > malformed_before:
            # A skipped page may hold events: keep the old bookmark so the next
            # sync reads this range again.
            collected.complete = False
            collected.problem(f"{job.repo} {stream}: a malformed page was skipped")
            return None
        state.bookmarks[stream] = iso(job.run.ctx.until)
        if state.pending is not None:
            if pending is not None:
                state.pending[stream] = iso(pending)
            else:
                state.pending.pop(stream, None)
        return None

    # --- listings and changes -------------------------------------------------------------

    @staticmethod
    async def newest_first(
        job: RepoJob, pages: AsyncIterator[Page], what: str
    ) -> AsyncIterator[Any]:
        """Every item of a listing sorted newest first (by the stream's cursor), page by page,
        until a page reaches past ``job.lower`` (an unchanged page that does stops
        the listing at once)."""
        async for page in pages:
            if stop_at(page, job.lower):
                return
            items = json_list(page, job.collected, what)
            if items is None:
                continue
            oldest = note_oldest(job.client, page, items, job.cursor)
            for item in items:
                yield item
            if oldest is not None and oldest < job.lower:
                return

    change_noun: ClassVar[str] = "change"
    """What the vendor calls a merged change ("pull request")."""
    change_short: ClassVar[str] = "change"
    """How messages name one ("pull", as in "acme/api pull 12")."""
    change_number: ClassVar[str] = "number"
    """The field numbering a change within its repo."""

    def change_record(self, item: dict[str, Any], job: RepoJob) -> dict[str, Any] | None:
        """A ``Change`` event from a merged change (None when unreadable)."""
        raise NotImplementedError

    async def first_commit(self, job: RepoJob, number: Any) -> datetime | None:
        """When the change's first commit was written."""
        raise NotImplementedError

    async def changed_paths(self, job: RepoJob, number: Any) -> list[str]:
        """The paths the change touched (both sides of a move)."""
        raise NotImplementedError

    async def add_changes(self, job: RepoJob, merged: Sequence[dict[str, Any]]) -> None:
        """Record merged changes, each with its first commit (and paths), fetched only
        when the cache does not have them yet."""
        cache = self.change_cache(job.run.previous, job.repo)

        async def one(item: dict[str, Any]) -> None:
            number = item.get(self.change_number)
            where = f"{job.repo} {self.change_short} {number}"
            record = self.change_record(item, job)
            if record is None:
                job.collected.bad(where, f"unreadable {self.change_noun}")
                return
            await cache.fill(
                record,
                lambda: self.first_commit(job, number),
                lambda: self.changed_paths(job, number),
            )
            job.collected.add("changes", record, where)

        await asyncio.gather(*(one(item) for item in merged))
