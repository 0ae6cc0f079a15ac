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

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal
from urllib.parse import quote

from scorecard.options import HttpOptions
from scorecard.sources.base import (
    Collected,
    FatalSourceError,
    FetchContext,
    HttpClient,
    Page,
    PaginationLoop,
    RateLimitExhausted,
    SourceError,
    SourceResult,
    api_client,
    iso,
    parse_time,
    register,
    request_key,
)

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config, SourceConfig

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

    service: Literal[
        "github",
        "gitlab",
        "bitbucket",
        "github_enterprise",
        "gitlab_enterprise",
        "bitbucket_server",
    ] = "github"
    """The git host: `github`, `gitlab`, `bitbucket`, `github_enterprise`,
    `gitlab_enterprise` or `bitbucket_server`."""
    owner: str | None = None
    """The Codecov org or user that completes bare repo names."""
    branch: str | None = None
    """The branch to read (default: each repo's default branch)."""


@register("codecov")
class CodecovSource:
    """Codecov coverage trend (or commit totals) per repo, plus current totals."""

    kind = "codecov"
    Options = CodecovOptions

    def __init__(
        self, cfg: SourceConfig, *, strict: bool = False, config: Config | None = None
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.strict = strict
        self.repos = coverage_repos(config)
        self.service: str = str(cfg.options.get("service") or "github")
        self.owner: str | None = cfg.options.get("owner")
        self.branch: str | None = cfg.options.get("branch")
        self.transport: Any = None
        """An httpx transport to use instead of the network (tests)."""

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo known to Codecov."""
        client = api_client(
            self.cfg,
            lambda t: {"Authorization": f"Bearer {t}"},
            transport=self.transport,
        )
        async with client:
            for repo, _team in self.repos:
                parts = split_repo(repo, self.owner)
                if parts is not None:
                    await client.get(f"{self._base(*parts)}/", conditional=False)
        return f"{len(self.repos)} repos reachable"

    def _base(self, owner: str, name: str) -> str:
        return f"api/v2/{self.service}/{quote(owner, safe='')}/repos/{quote(name, safe='')}"

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        from scorecard import model

        previous = {} if ctx.full else ctx.load_previous()
        client = api_client(
            self.cfg,
            lambda t: {"Authorization": f"Bearer {t}"},
            transport=self.transport,
        )
        collected = Collected()
        fallbacks: list[str] = []
        if not self.repos:
            collected.problem(
                "no team lists a repo or coverage_repos, so there is nothing to fetch"
            )
        async with client:
            results = await asyncio.gather(
                *(
                    self._repo(client, ctx, repo, team, collected, fallbacks)
                    for repo, team in self.repos
                ),
                return_exceptions=True,
            )
        failed: list[str] = []
        errors: list[BaseException] = []
        for (repo, _team), outcome in zip(self.repos, results):
            if isinstance(outcome, BaseException):
                if isinstance(outcome, FatalSourceError) or not isinstance(outcome, Exception):
                    raise outcome
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
        frames = collected.frames()
        kept = _previous_rows(previous, failed)
        if kept is not None and len(kept):
            fresh = frames.get("coverage")
            frames["coverage"] = model.concat(
                "coverage", [f for f in (kept, fresh) if f is not None]
            )
        if "coverage" in frames:
            frames["coverage"] = (
                frames["coverage"]
                .drop_duplicates(["repo", "measured_at"], keep="last")
                .sort_values(["repo", "measured_at"], kind="stable")
                .reset_index(drop=True)
            )
        else:
            frames["coverage"] = model.empty_frame("coverage")
        client.stats.count("coverage", len(collected.records.get("coverage", [])))
        stats = client.stats.as_dict()
        stats["skipped"] = collected.skipped
        if fallbacks:
            stats["commit_fallbacks"] = len(fallbacks)
        ctx.progress(f"{client.stats.requests:,} requests")
        return SourceResult(
            frames=frames,
            skipped=collected.skipped,
            problems=[client._redact(p) for p in collected.problems],
            state={},
            rate_limit_remaining=client.stats.rate_limit_remaining,
            complete=collected.complete,
            stats=stats,
        )

    async def _repo(
        self,
        client: HttpClient,
        ctx: FetchContext,
        repo: str,
        team: str,
        collected: Collected,
        fallbacks: list[str],
    ) -> None:
        parts = split_repo(repo, self.owner)
        if parts is None:
            collected.problem(f"{repo}: not an owner/name repo and no `owner` is configured")
            return
        owner, name = parts
        base = self._base(owner, name)
        ctx.progress(f"{repo}: coverage")
        detail = await client.get(f"{base}/", conditional=False)
        data = detail.data if isinstance(detail.data, dict) else {}
        if detail.malformed or not data:
            collected.bad(f"{repo} repo detail", "malformed answer")
        branch = self.branch or (
            data.get("branch") if isinstance(data.get("branch"), str) else None
        )
        totals = data.get("totals") if isinstance(data.get("totals"), dict) else None
        if totals is not None and totals.get("coverage") is not None:
            at = parse_time(data.get("updatestamp")) or ctx.until
            self._sample(
                collected, repo, team, min(at, ctx.until), totals.get("coverage"), "totals"
            )

        params: dict[str, Any] = {
            "interval": "1d",
            "start_date": iso(ctx.since),
            "end_date": iso(ctx.until),
            "page_size": PAGE_SIZE,
        }
        if branch:
            params["branch"] = branch
        buckets = 0
        try:
            async for page in _pages(client, f"{base}/coverage/", params):
                for item in _results(page, collected, f"{repo} coverage trend"):
                    start = parse_time(item.get("timestamp"))
                    if start is None:
                        collected.bad(f"{repo} coverage trend", "missing timestamp")
                        continue
                    value = item.get("avg", item.get("max"))
                    if self._sample(
                        collected, repo, team, min(start + INTERVAL, ctx.until), value, "trend"
                    ):
                        buckets += 1
        except RateLimitExhausted:
            raise
        except FatalSourceError:
            raise
        except SourceError as exc:
            collected.problem(f"{repo}: coverage trend unavailable ({exc}); using commit totals")
        if buckets:
            return
        fallbacks.append(repo)
        await self._commits(client, ctx, base, repo, team, branch, collected)

    async def _commits(
        self,
        client: HttpClient,
        ctx: FetchContext,
        base: str,
        repo: str,
        team: str,
        branch: str | None,
        collected: Collected,
    ) -> None:
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        if branch:
            params["branch"] = branch
        latest: dict[str, tuple[datetime, Any]] = {}
        async for page in _pages(client, f"{base}/commits/", params):
            oldest: datetime | None = None
            for item in _results(page, collected, f"{repo} commits"):
                at = parse_time(item.get("timestamp"))
                if at is None:
                    collected.bad(f"{repo} commit {item.get('commitid', '?')}", "missing timestamp")
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
            self._sample(collected, repo, team, at, value, "commit")

    def _sample(
        self, collected: Collected, repo: str, team: str, at: datetime, value: Any, what: str
    ) -> bool:
        coverage = _percent(value)
        if coverage is None:
            collected.bad(f"{repo} {what} at {iso(at)}", f"coverage {value!r} is not a percentage")
            return False
        return collected.add(
            "coverage",
            {
                "source": self.name,
                "team": team,
                "repo": repo,
                "measured_at": at,
                "line_coverage": coverage,
            },
            f"{repo} {what}",
        )


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


async def _pages(client: HttpClient, path: str, params: Mapping[str, Any]) -> AsyncIterator[Page]:
    """DRF page-number pagination: follow the body's ``next`` URL to the end."""
    seen: set[str] = set()
    url: str | None = client.url(path)
    query: Mapping[str, Any] | None = params
    while url is not None:
        key = request_key(url, query)
        if key in seen:
            raise PaginationLoop(f"pagination loop in {path}: {key} was already fetched")
        if len(seen) >= MAX_PAGES:
            raise PaginationLoop(f"more than {MAX_PAGES} pages in {path}; stopped")
        seen.add(key)
        page = await client.get(url, query, conditional=False)
        yield page
        data = page.data if isinstance(page.data, dict) else {}
        following = data.get("next")
        url, query = (following if isinstance(following, str) and following else None), None


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
