"""``sync --plan`` for CircleCI: the coming sync's requests, estimated from the first
page of each project's pipeline listing (see :mod:`scorecard.sources.delivery`).

A CircleCI sync costs per project its page (the default branch), the pages of its
default-branch pipelines since the bookmark, one workflow listing per pipeline, and
with ``deploy_jobs`` one job listing per finished workflow. The first pipeline page
tells how many pipelines the range holds; how many finished workflows a pipeline
has is read from a few of them (:data:`SAMPLE`), and only when jobs will be read.
CircleCI publishes neither the size nor the window of its rate limit; the budget its
``RateLimit-*`` headers report is taken as an hourly one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.delivery import PlanEstimate, header_budget, items_in_range, plan_state
from scorecard.sources.records import parse_time
from scorecard.sources.vcs import lower_bound

if TYPE_CHECKING:
    from scorecard.sources.circleci import CircleCISource
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

__all__ = ["PAGE_SIZE", "SAMPLE", "plan", "sample_of"]

PAGE_SIZE: Final = 20
"""CircleCI's page size (fixed by the API)."""
SAMPLE: Final = 3
"""Pipelines whose workflows are read to learn how many finished workflows (and so
job listings) a pipeline brings, spread over the first page."""


def sample_of(items: Sequence[Any], size: int = SAMPLE) -> list[Any]:
    """Up to ``size`` items spread evenly from the first to the last."""
    if len(items) <= size:
        return list(items)
    step = (len(items) - 1) / (size - 1)
    return [items[round(k * step)] for k in range(size)]


async def plan(source: CircleCISource, ctx: FetchContext) -> SourcePlan:
    """Requests and records of the coming sync of ``source`` (reads the first pipeline
    page of each project, and a few workflow listings when jobs are read)."""
    state = plan_state(source, ctx)
    estimate = PlanEstimate()
    client = source.client()
    last: Page | None = None
    async with client:
        for repo, _team in source.repos:
            old = (state.get("repos") or {}).get(repo) or {}
            last = await _project(source, client, ctx, old, repo, estimate) or last
    budget = header_budget(last.headers, ctx.until) if last is not None else None
    return estimate.plan(source, client, f"{len(source.repos)} projects", budget)


async def _project(
    source: CircleCISource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    repo: str,
    estimate: PlanEstimate,
) -> Page | None:
    """One project's pipelines, workflows and jobs; the last page read."""
    branch = await source.default_branch(client, repo, old)
    estimate.fixed(1)
    lower = lower_bound(ctx, old, "pipelines")
    path = f"{source.repo_path(repo)}/pipeline"
    page = await client.get(path, {"branch": branch}, conditional=False)
    data = page.data if isinstance(page.data, dict) else {}
    items = [i for i in data.get("items") or [] if isinstance(i, dict)]
    more = bool(data.get("next_page_token"))
    times = [parse_time(i.get("created_at")) for i in items]
    n = items_in_range(times, more=more, lower=lower, until=ctx.until)
    estimate.listing("pipelines", n, page_size=PAGE_SIZE, more=more, per_item=1)
    if not source.options.deploy_jobs or n == 0:
        return page
    inside = [i for i, at in zip(items, times) if at is not None and at >= lower]
    finished = 0
    sampled = sample_of(inside)
    for pipeline in sampled:
        page = await client.get(f"pipeline/{pipeline.get('id')}/workflow", conditional=False)
        finished += _finished_workflows(source, page)
    estimate.fixed(round(n * finished / max(1, len(sampled))))  # one job listing each
    return page


def _finished_workflows(source: CircleCISource, page: Page) -> int:
    """Workflows of one pipeline the sync would read the jobs of (the finished ones:
    known statuses other than "running", the source's word for unfinished)."""
    data = page.data if isinstance(page.data, dict) else {}
    statuses = [w.get("status") for w in data.get("items") or [] if isinstance(w, dict)]
    ours = [source.workflow_statuses.get(s, count=False) for s in statuses]
    return sum(1 for status in ours if status not in (None, "running"))
