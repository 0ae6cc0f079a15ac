"""``sync --plan`` for Azure DevOps: the coming sync's requests, estimated from the
first page of each listing it would read (see :mod:`scorecard.sources.delivery`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scorecard.sources.azure_devops_records import PAGE_SIZE, build_ref
from scorecard.sources.delivery import PlanEstimate, items_in_range, page_values, plan_state
from scorecard.sources.records import Collected, iso, parse_time
from scorecard.sources.vcs import lower_bound

if TYPE_CHECKING:
    from datetime import datetime

    from scorecard.sources.azure_devops import AzureDevOpsSource
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

__all__ = ["plan"]


async def plan(source: AzureDevOpsSource, ctx: FetchContext) -> SourcePlan:
    """Requests and records of the coming sync of ``source`` (reads one page per listing)."""
    state = plan_state(source, ctx)
    estimate = PlanEstimate()
    client = source.client()
    async with client:
        for project, entries in source.projects().items():
            old = dict((state.get("projects") or {}).get(project) or {})
            page = await client.get(
                source.project_path(project, "git/repositories"), source.params()
            )
            estimate.fixed(1)
            repos = _repo_branches(page)
            await _builds(source, client, ctx, old, project, estimate)
            await _environments(source, client, ctx, old, project, estimate)
            for repo, _team in entries:
                branch = repos.get(repo.partition("/")[2].casefold())
                if branch is not None:
                    repo_state = (state.get("repos") or {}).get(repo) or {}
                    await _pulls(source, client, ctx, repo_state, repo, branch, estimate)
    projects = source.projects()
    what = f"{len(projects)} projects, {sum(len(e) for e in projects.values())} repos"
    return estimate.plan(source, client, what)


def _repo_branches(page: Page) -> dict[str, tuple[str, str]]:
    """Casefolded repo name -> (id, default branch)."""
    out = {}
    for item in page_values(page, Collected(), "repositories", "value") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            branch = str(item.get("defaultBranch") or "refs/heads/main").removeprefix("refs/heads/")
            out[item["name"].casefold()] = (str(item.get("id")), branch)
    return out


def _first_page(page: Page, key: str) -> tuple[list[dict[str, Any]], bool]:
    items = [
        i for i in page_values(page, Collected(), "plan", "value") or [] if isinstance(i, dict)
    ]
    return items, bool(page.headers.get("x-ms-continuationtoken"))


def _in_range(
    items: Sequence[Mapping[str, Any]], key: str, more: bool, ctx: FetchContext, lower: datetime
) -> int:
    times = [parse_time(i.get(key)) for i in items]
    return items_in_range(times, more=more, lower=lower, until=ctx.until)


async def _builds(
    source: AzureDevOpsSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    project: str,
    estimate: PlanEstimate,
) -> None:
    lower = lower_bound(ctx, old, "builds")
    params = source.params(
        queryOrder="finishTimeDescending", statusFilter="completed", **{"$top": PAGE_SIZE}
    )
    page = await client.get(source.project_path(project, "build/builds"), params, conditional=False)
    items, more = _first_page(page, "value")
    n = _in_range(items, "finishTime", more, ctx, lower)
    estimate.listing("runs", n, page_size=PAGE_SIZE, more=more)
    if source.options.deploy_stages and items:
        refs = [build_ref(i) for i in items]
        share = sum(1 for r in refs if r is not None and source.reads_timeline(r)) / len(items)
        estimate.fixed(round(n * share))  # one timeline per run that may deploy


async def _environments(
    source: AzureDevOpsSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    project: str,
    estimate: PlanEstimate,
) -> None:
    lower = lower_bound(ctx, old, "environments")
    path = source.project_path(project, "distributedtask/environments")
    page = await client.get(path, source.params(**{"$top": PAGE_SIZE}), conditional=False)
    estimate.fixed(1)
    envs, _ = _first_page(page, "value")
    for env in envs:
        if not (isinstance(env.get("id"), int) and source.relevant_env(env.get("name"))):
            continue
        records_path = f"{path}/{env['id']}/environmentdeploymentrecords"
        first = await client.get(records_path, source.params(top=PAGE_SIZE), conditional=False)
        items, more = _first_page(first, "value")
        n = _in_range(items, "startTime", more, ctx, lower)
        estimate.listing("deployment records", n, page_size=PAGE_SIZE, more=more)


async def _pulls(
    source: AzureDevOpsSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    repo: str,
    branch: tuple[str, str],
    estimate: PlanEstimate,
) -> None:
    lower = lower_bound(ctx, old, "pull_requests")
    project = repo.partition("/")[0]
    path = source.project_path(project, f"git/repositories/{branch[0]}/pullrequests")
    params = source.params(
        **{
            "searchCriteria.status": "completed",
            "searchCriteria.targetRefName": f"refs/heads/{branch[1]}",
            "searchCriteria.queryTimeRangeType": "closed",
            "searchCriteria.minTime": iso(lower),
            "$top": PAGE_SIZE,
            "$skip": 0,
        }
    )
    page = await client.get(path, params, conditional=False)
    items, _ = _first_page(page, "value")
    n = _in_range(items, "closedDate", len(items) >= PAGE_SIZE, ctx, lower)
    # All pages of the closed-since listing, one commit listing per pull request (and
    # its iterations and their changes when paths are needed).
    per_pull = 3 if source.fetch_paths else 1
    estimate.listing("pull requests", n, page_size=PAGE_SIZE, more=False, per_item=per_pull)
