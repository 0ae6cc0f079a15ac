"""`kind = "codecov"`: daily line coverage per repo from Codecov's API v2.

Repos are the union of every team's ``repos`` and ``coverage_repos`` (each with
its owning team); ``owner/name`` is split at the last ``/`` (the ``owner``
option supplies it for bare names). ``service`` picks the git host
(``github``, ``gitlab``, ...). Per repo:

- **Current totals** from the repo detail (``totals.coverage`` at
  ``updatestamp``), which also names the default branch.
- **Daily coverage** over the sync range from the coverage trend endpoint
  (``interval=1d``; the bucket's ``avg``, timed at the end of its day so a
  sample never lies before the commits it measures). Where the trend is not
  available (an error, or no buckets), the branch's commits are read instead
  and the last commit of each UTC day with ``totals.coverage`` becomes the
  day's sample.

Every listing follows DRF's ``next`` links. Coverage is small, so each sync
reads the whole range again; a repo that fails keeps its previous samples.
Auth is ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal
from urllib.parse import quote

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.options import HttpOptions
from scorecard.sources.api import ApiSource
from scorecard.sources.paginate import paginate_body_next
from scorecard.sources.records import Collected, iso, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page

PAGE_SIZE: Final = 100
MAX_PAGES: Final = 1000
INTERVAL: Final = timedelta(days=1)


def coverage_repos(config: Config | None) -> list[tuple[str, str]]:
    """``(repo, team)`` for every team's ``repos`` and ``coverage_repos``; first owner wins."""
    out: dict[str, str] = {}
    for team in config.teams if config is not None else ():
        for repo in (*team.repos, *team.coverage_repos):
            out.setdefault(repo, team.name)
    return list(out.items())


def split_repo(repo: str, default_owner: str | None) -> tuple[str, str] | None:
    """``owner/name`` -> ``(owner, name)``; a bare name takes ``default_owner``."""
    owner, _, name = repo.rpartition("/")
    owner = owner or (default_owner or "")
    if not owner or not name:
        return None
    return owner, name


CodecovService = Literal[
    "github",
    "gitlab",
    "bitbucket",
    "github_enterprise",
    "gitlab_enterprise",
    "bitbucket_server",
]
"""The git hosts Codecov knows."""


@dataclass(frozen=True)
class CodecovOptions(HttpOptions):
    """Options of a `kind = "codecov"` source."""

    default_api_url: ClassVar[str | None] = "https://api.codecov.io"

    service: CodecovService = "github"
    """The git host: `github`, `gitlab`, `bitbucket`, `github_enterprise`,
    `gitlab_enterprise` or `bitbucket_server`."""
    owner: str | None = None
    """The Codecov org or user that completes bare repo names."""
    branch: str | None = None
    """The branch to read (default: each repo's default branch)."""


@register
class CodecovSource(ApiSource[CodecovOptions]):
    """Codecov coverage trend (or commit totals) per repo, plus current totals."""

    kind = "codecov"
    Options = CodecovOptions

    def setup(self, config: Config | None) -> None:
        self.repos = coverage_repos(config)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo known to Codecov."""
        client = self.client()
        async with client:
            for repo, _team in self.repos:
                parts = split_repo(repo, self.options.owner)
                if parts is not None:
                    await client.get(f"{self._base(*parts)}/", conditional=False)
        return f"{len(self.repos)} repos reachable"

    def _base(self, owner: str, name: str) -> str:
        service = self.options.service
        return f"api/v2/{service}/{quote(owner, safe='')}/repos/{quote(name, safe='')}"

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous = {} if ctx.full else ctx.load_previous()
        client = self.client()
        collected = Collected()
        fallbacks: list[str] = []
        if not self.repos:
            collected.problem(
                "no team lists a repo or coverage_repos, so there is nothing to fetch"
            )
        async with client:
            results, _failures = await self.gather(
                [
                    self._repo(client, ctx, repo, team, collected, fallbacks)
                    for repo, team in self.repos
                ]
            )
        failed = self._settle(results, collected, client)
        frames = _coverage_frames(collected, previous, failed)
        client.stats.count("coverage", len(collected.records.get("coverage", [])))
        extra = {"commit_fallbacks": len(fallbacks)} if fallbacks else {}
        ctx.progress(f"{client.stats.requests:,} requests")
        return self.result(collected, client, frames=frames, state={}, extra=extra)

    def _settle(self, results: list[Any], collected: Collected, client: HttpClient) -> list[str]:
        """The repos that failed (each a problem; the result is partial). When every
        repo failed, not just for a spent rate limit, the source fails."""
        failed: list[str] = []
        errors: list[BaseException] = []
        for (repo, _team), outcome in zip(self.repos, results):
            if isinstance(outcome, BaseException):
                failed.append(repo)
                errors.append(outcome)
                collected.complete = False
                if not isinstance(outcome, RateLimitExhausted):
                    collected.problem(f"{repo}: {outcome}")
        if client.exhausted is not None:
            collected.problem(client.exhausted)
        if (
            self.repos
            and len(failed) == len(self.repos)
            and not isinstance(errors[0], RateLimitExhausted)
        ):
            raise errors[0]
        return failed

    async def _repo(
        self,
        client: HttpClient,
        ctx: FetchContext,
        repo: str,
        team: str,
        collected: Collected,
        fallbacks: list[str],
    ) -> None:
        parts = split_repo(repo, self.options.owner)
        if parts is None:
            collected.problem(f"{repo}: not an owner/name repo and no `owner` is configured")
            return
        base = self._base(*parts)
        ctx.progress(f"{repo}: coverage")
        detail = await client.get(f"{base}/", conditional=False)
        data = detail.data if isinstance(detail.data, dict) else {}
        if detail.malformed or not data:
            collected.bad(f"{repo} repo detail", "malformed answer")
        branch = self.options.branch or (
            data.get("branch") if isinstance(data.get("branch"), str) else None
        )
        job = _RepoJob(client, ctx, collected, self.name, repo, team, base, branch)
        totals = data.get("totals") if isinstance(data.get("totals"), dict) else None
        if totals is not None and totals.get("coverage") is not None:
            at = parse_time(data.get("updatestamp")) or ctx.until
            job.sample(min(at, ctx.until), totals.get("coverage"), "totals")
        if await _trend(job):
            return
        fallbacks.append(repo)
        await _commits(job)


@dataclass(frozen=True)
class _RepoJob:
    """One repo's coverage in one fetch."""

    client: HttpClient
    ctx: FetchContext
    collected: Collected
    source: str
    repo: str
    team: str
    base: str
    """The repo's API path."""
    branch: str | None

    def params(self, **params: Any) -> dict[str, Any]:
        """``params`` plus a page size and the branch, when one is known."""
        out: dict[str, Any] = {**params, "page_size": PAGE_SIZE}
        if self.branch:
            out["branch"] = self.branch
        return out

    def sample(self, at: datetime, value: Any, what: str) -> bool:
        """Keep one coverage sample (a value that is no percentage is skipped)."""
        coverage = _percent(value)
        if coverage is None:
            self.collected.bad(
                f"{self.repo} {what} at {iso(at)}", f"coverage {value!r} is not a percentage"
            )
            return False
        record = {
            "source": self.source,
            "team": self.team,
            "repo": self.repo,
            "measured_at": at,
            "line_coverage": coverage,
        }
        return self.collected.add("coverage", record, f"{self.repo} {what}")


async def _trend(job: _RepoJob) -> int:
    """Daily samples from the coverage trend; how many days had one (0 when the trend
    is unavailable, and the commits are read instead)."""
    ctx, repo = job.ctx, job.repo
    params = job.params(interval="1d", start_date=iso(ctx.since), end_date=iso(ctx.until))
    buckets = 0
    try:
        async for page in _pages(job.client, f"{job.base}/coverage/", params):
            for item in _results(page, job.collected, f"{repo} coverage trend"):
                start = parse_time(item.get("timestamp"))
                if start is None:
                    job.collected.bad(f"{repo} coverage trend", "missing timestamp")
                    continue
                value = item.get("avg", item.get("max"))
                if job.sample(min(start + INTERVAL, ctx.until), value, "trend"):
                    buckets += 1
    except (RateLimitExhausted, FatalSourceError):
        raise
    except SourceError as exc:
        job.collected.problem(f"{repo}: coverage trend unavailable ({exc}); using commit totals")
    return buckets


async def _commits(job: _RepoJob) -> None:
    """The last commit of each day with totals, newest first down to the range."""
    ctx = job.ctx
    latest: dict[str, tuple[datetime, Any]] = {}
    async for page in _pages(job.client, f"{job.base}/commits/", job.params()):
        oldest: datetime | None = None
        for item in _results(page, job.collected, f"{job.repo} commits"):
            at = parse_time(item.get("timestamp"))
            if at is None:
                where = f"{job.repo} commit {item.get('commitid', '?')}"
                job.collected.bad(where, "missing timestamp")
                continue
            oldest = at if oldest is None else min(oldest, at)
            if at < ctx.since or at > ctx.until:
                continue
            totals = item.get("totals")
            value = totals.get("coverage") if isinstance(totals, dict) else None
            if value is None:
                continue  # not processed yet, or the upload failed: no number to keep
            day = at.date().isoformat()
            if day not in latest or latest[day][0] < at:
                latest[day] = (at, value)
        if oldest is not None and oldest < ctx.since:
            break  # newest first: the rest is older than the range
    for at, value in latest.values():
        job.sample(at, value, "commit")


def _percent(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    number = float(value)
    return number if 0.0 <= number <= 100.0 else None


def _pages(client: HttpClient, path: str, params: Mapping[str, Any]) -> AsyncIterator[Page]:
    """DRF page-number pagination: follow the body's ``next`` URL to the end."""
    return paginate_body_next(client, path, params, max_pages=MAX_PAGES)


def _results(page: Page, collected: Collected, where: str) -> list[dict[str, Any]]:
    data = page.data if isinstance(page.data, dict) else None
    results = data.get("results") if data is not None else None
    if page.malformed or not isinstance(results, list):
        collected.bad(where, "malformed answer")
        return []
    out: list[dict[str, Any]] = []
    for item in results:
        if isinstance(item, dict):
            out.append(item)
        else:
            collected.bad(where, "a result is not an object")
    return out


def _previous_rows(previous: Mapping[str, pd.DataFrame], repos: list[str]) -> pd.DataFrame | None:
    frame = previous.get("coverage")
    if frame is None or frame.empty or not repos:
        return None
    return frame[frame["repo"].astype(object).isin(repos)]


def _coverage_frames(
    collected: Collected, previous: Mapping[str, pd.DataFrame], failed: list[str]
) -> dict[str, pd.DataFrame]:
    """Fresh samples plus the previous ones of the repos that failed, one per repo and
    moment, in order."""
    from scorecard import model

    frames = collected.frames()
    kept = _previous_rows(previous, failed)
    if kept is not None and len(kept):
        fresh = frames.get("coverage")
        frames["coverage"] = model.concat("coverage", [f for f in (kept, fresh) if f is not None])
    if "coverage" in frames:
        frames["coverage"] = (
            frames["coverage"]
            .drop_duplicates(["repo", "measured_at"], keep="last")
            .sort_values(["repo", "measured_at"], kind="stable")
            .reset_index(drop=True)
        )
    else:
        frames["coverage"] = model.empty_frame("coverage")
    return frames
