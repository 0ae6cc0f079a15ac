"""The GitHub source's GraphQL half on the wire: deployments (with their statuses and
the default branch's history) and merged pull requests (with labels, first commit
and, when needed, files), page by page, at a fraction of REST's requests (SPEC §14).

The documents and the reading of answers are pure and live in
:mod:`scorecard.sources.github_graphql`; this module sends them through the
source's :class:`~scorecard.sources.http.HttpClient` (retries, 502s and secondary
limits as for REST), counts the points each query cost, waits out
``RATE_LIMITED`` answers like REST's primary limit (up to ``max_wait_s``, then the
sync stops with partial data) and turns each page into the records the REST path
would have produced.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from scorecard.errors import RateLimitExhausted, SourceError
from scorecard.sources import http
from scorecard.sources.containment import CommitGraph
from scorecard.sources.github_graphql import (
    DEPLOYMENTS_QUERY,
    PAGE_SIZE,
    PULLS_QUERY,
    Answer,
    RepoRef,
    deployment_page,
    history_page,
    pull_page,
    read_answer,
    repo_variables,
)
from scorecard.sources.records import iso
from scorecard.sources.vcs import HISTORY_MARGIN

if TYPE_CHECKING:
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.vcs import RepoJob, VcsSource

__all__ = ["INCREMENTAL_PAGE", "ask", "read_deployments", "read_pulls"]

INCREMENTAL_PAGE: Final = 25
"""Items per page once a stream has a bookmark: a re-sync usually finds a handful of new
items, and a page this size costs 1 point where a full one costs 2 (pull requests)."""
MAX_RATE_LIMIT_ROUNDS: Final = 3


async def ask(client: HttpClient, url: str, document: str, variables: dict[str, Any]) -> Answer:
    """One query's answer: its cost counted, a ``RATE_LIMITED`` answer waited out and
    asked again; a whole failure (no ``data``) is a :class:`SourceError`."""
    answer = Answer(None)
    for _ in range(MAX_RATE_LIMIT_ROUNDS):
        page = await client.post_json(url, {"query": document, "variables": variables})
        client.stats.queries += 1
        answer = read_answer(page.data)
        limit = answer.rate_limit
        if limit is not None:
            client.stats.points += limit.cost
            client.stats.points_remaining = limit.remaining
        if not answer.rate_limited:
            break
        await _wait_out(client, page)
    if answer.failed:
        raise SourceError(client.redact(f"GraphQL: {answer.message()}"))
    return answer


async def _wait_out(client: HttpClient, page: Page) -> None:
    """Wait until the GraphQL budget resets, or stop when that is past ``max_wait_s``."""
    reset = page.headers.get("x-ratelimit-reset")
    try:
        wait = max(0.0, float(reset) - http.clock()) + 1.0 if reset else client.max_wait_s
    except ValueError:
        wait = client.max_wait_s
    if wait > client.max_wait_s:
        message = (
            f"{client.name}: GraphQL rate limit spent; it resets in {wait:.0f}s, more than "
            f"max_wait_s = {client.max_wait_s:g}; stopped early with partial data"
        )
        client.exhausted = message
        raise RateLimitExhausted(message)
    await client.wait(wait)


def _page_size(job: RepoJob) -> int:
    return PAGE_SIZE if job.fresh else INCREMENTAL_PAGE


def _advance(job: RepoJob, cursor: str | None, oldest: datetime | None) -> bool:
    """Note how far the listing got (a backfill resumes there) and whether to read on:
    pages are kept whole down to the range's start, and reading stops at the page
    that reaches past ``job.lower``."""
    if cursor is None:  # the listing ended, or reached past the range's start
        job.checkpoint(None, job.run.ctx.since)
        return False
    job.checkpoint(cursor, oldest)
    return not (oldest is not None and oldest < job.lower)


def _repository(answer: Answer, repo: str) -> dict[str, Any]:
    data = answer.data or {}
    repository = data.get("repository")
    if not isinstance(repository, dict):
        raise SourceError(f"{repo}: {answer.message()}")
    return repository


async def read_deployments(
    source: VcsSource[Any], job: RepoJob, url: str, api_url: str
) -> datetime | None:
    """A repo's deployments since ``job.lower`` (and, for containment, its default
    branch's history from a little earlier); returns the oldest start still running.
    ``api_url`` is the REST base the records' URLs point into, as REST's do."""
    repo, collected = job.repo, job.collected
    variables = repo_variables([RepoRef(repo, job.after, _page_size(job))], single=True)
    margin = HISTORY_MARGIN if not job.fresh else timedelta(0)  # undeployed cached changes
    variables.update(withHistory=True, historySince=iso(job.lower - margin))
    if job.upper is not None:  # a backfill: only the older history
        variables["historyUntil"] = iso(job.upper)
    trunk: list[str] = []
    running: list[datetime] = []
    deployments, history = True, True
    while deployments or history:
        variables.update(withDeployments=deployments, withHistory=history)
        repository = _repository(await ask(job.client, url, DEPLOYMENTS_QUERY, variables), repo)
        if deployments:
            page = deployment_page(
                repository,
                repo=repo,
                team=job.team,
                source=source.name,
                api_url=api_url,
                since=job.run.ctx.since,
                relevant=source.relevant_env,
                rollback_patterns=source.rollback_patterns,
            )
            job.client.stats.count("deployments", len(page.items))
            for item in page.items:
                job.run.note_ref(repo, item.get("sha"), item.get("ref"))
            for where in page.bad:
                collected.bad(where, "unreadable deployment")
            for record in page.records:
                if record["status"] == "in_progress":
                    running.append(record["started_at"])
                collected.add("deployments", record, f"{repo} deployment {record['id']}")
            variables["after"] = page.cursor
            deployments = _advance(job, page.cursor, page.oldest)
        if history:
            _, oids, cursor = history_page(repository)
            trunk.extend(oids)
            variables["historyAfter"], history = cursor, cursor is not None
    graph = job.run.graphs.setdefault(repo, CommitGraph())
    graph.extend(trunk, job.lower - margin)
    return min(running) if running else None


async def read_pulls(source: VcsSource[Any], job: RepoJob, url: str) -> None:
    """A repo's pull requests merged and updated since ``job.lower``, each recorded with
    its first commit (the cache's when known) and, when change classes need them, its
    paths (over REST for the few GraphQL cannot give whole)."""
    repo = job.repo
    cache = source.change_cache(job.run.previous, repo)
    with_files = cache.paths is not None
    ref = RepoRef(repo, job.after, _page_size(job))
    variables = repo_variables([ref], single=True, with_files=with_files)
    while True:
        repository = _repository(await ask(job.client, url, PULLS_QUERY, variables), repo)
        page = pull_page(
            repository,
            repo=repo,
            team=job.team,
            source=source.name,
            since=job.run.ctx.since,
            with_files=with_files,
        )
        job.client.stats.count("changes", len(page.records))
        for where in page.bad:
            job.collected.bad(where, "unreadable pull request")
        elsewhere = set(page.files_elsewhere)
        for record in page.records:
            known = cache.first_commits.get(record["id"])
            if known is not None:
                record["first_commit_at"] = known
            if cache.paths is not None:
                number = int(str(record["id"]).rsplit("/", 1)[-1])
                kept = cache.paths.get(record["id"])
                if kept is not None:
                    record["paths"] = kept
                elif number in elsewhere:
                    record["paths"] = await source.changed_paths(job, number)
            job.collected.add("changes", record, f"{repo} pull {record['id']}")
        if not _advance(job, page.cursor, page.oldest):
            return
        variables["after"] = page.cursor
