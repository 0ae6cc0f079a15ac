"""``sync --plan`` for Bitbucket Cloud: the coming sync's requests, estimated from
the first page of each listing it would read (see :mod:`scorecard.sources.delivery`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.delivery import PlanEstimate, items_in_range, page_values, plan_state
from scorecard.sources.records import Collected, parse_time
from scorecard.sources.vcs import lower_bound

if TYPE_CHECKING:
    from scorecard.sources.bitbucket import BitbucketSource
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient
    from scorecard.sources.plan import SourcePlan

__all__ = ["PAGE_LEN", "PULLS_PAGE_LEN", "created_on", "plan", "started_on", "updated_on"]

PAGE_LEN: Final = 100
"""``pagelen`` of pipelines, deployments, environments and commits (their maximum)."""
PULLS_PAGE_LEN: Final = 50
"""``pagelen`` of pull requests (Bitbucket's maximum there)."""


def started_on(item: Mapping[str, Any]) -> datetime | None:
    """When a deployment started (its listing's order)."""
    return parse_time((item.get("state") or {}).get("started_on"))


def created_on(item: Mapping[str, Any]) -> datetime | None:
    """When a pipeline was created (its listing's order)."""
    return parse_time(item.get("created_on"))


def updated_on(item: Mapping[str, Any]) -> datetime | None:
    """When a pull request was last updated (its listing's order)."""
    return parse_time(item.get("updated_on"))


async def plan(source: BitbucketSource, ctx: FetchContext) -> SourcePlan:
    """Requests and records of the coming sync of ``source`` (reads one page per listing)."""
    state = plan_state(source, ctx)
    estimate = PlanEstimate()
    client = source.client()
    async with client:
        for repo, _team in source.repos:
            old = (state.get("repos") or {}).get(repo) or {}
            await _repo(source, client, ctx, old, repo, estimate)
    return estimate.plan(source, client, f"{len(source.repos)} repos")


async def _repo(
    source: BitbucketSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    repo: str,
    estimate: PlanEstimate,
) -> None:
    """One repo's listings: its environments' deployments, pipelines, pull requests."""
    base = source.repo_path(repo)
    page = await client.get(base, conditional=False)
    data = page.data if isinstance(page.data, dict) else {}
    branch = (data.get("mainbranch") or {}).get("name") or "main"
    estimate.fixed(2)  # the repo and its environments
    envs = await client.get(f"{base}/environments/", {"pagelen": PAGE_LEN}, conditional=False)
    for item in page_values(envs, Collected(), repo, "values") or []:
        env = source.environment_of(item) if isinstance(item, dict) else None
        if env is not None:
            params = {"environment": env.uuid, "sort": "-state.started_on", "pagelen": PAGE_LEN}
            path = f"{base}/deployments/"
            n, more = await _count(client, ctx, old, "deployments", path, params, started_on)
            estimate.listing("deployments", n, page_size=PAGE_LEN, more=more)
    params = {"sort": "-created_on", "pagelen": PAGE_LEN, "target.branch": branch}
    n, more = await _count(client, ctx, old, "pipelines", f"{base}/pipelines/", params, created_on)
    estimate.listing("pipelines", n, page_size=PAGE_LEN, more=more)
    params = {"state": "MERGED", "sort": "-updated_on", "pagelen": PULLS_PAGE_LEN}
    path = f"{base}/pullrequests"
    n, more = await _count(client, ctx, old, "pull_requests", path, params, updated_on)
    per_pull = 2 if source.fetch_paths else 1  # commits (and diffstat) of each pull request
    estimate.listing("pull requests", n, page_size=PULLS_PAGE_LEN, more=more, per_item=per_pull)


async def _count(
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    stream: str,
    path: str,
    params: Mapping[str, Any],
    when: Callable[[Mapping[str, Any]], datetime | None],
) -> tuple[int, bool]:
    """Items of one newest-first listing the sync would read, from its first page, and
    whether older ones exist."""
    lower = lower_bound(ctx, old, stream)
    page = await client.get(path, params, conditional=False)
    items = [i for i in page_values(page, Collected(), path, "values") or [] if isinstance(i, dict)]
    more = isinstance(page.data, dict) and bool(page.data.get("next"))
    times = [when(i) for i in items]
    return items_in_range(times, more=more, lower=lower, until=ctx.until), more
