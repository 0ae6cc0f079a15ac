"""``sync --plan`` for Jenkins: the coming sync's requests, from one small request per
job (see :mod:`scorecard.sources.delivery`).

A Jenkins sync reads each job's builds newest first, 100 a request, down to the
job's bookmark. The plan asks for the same first 100 builds with only their start
times (a small answer, and a light one for the controller) and extrapolates from
the time they cover to the range. Jenkins reports no rate limit: the plan has no
budget, only requests and time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.delivery import PlanEstimate, items_in_range, plan_state
from scorecard.sources.vcs import lower_bound

if TYPE_CHECKING:
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient
    from scorecard.sources.jenkins import JenkinsSource
    from scorecard.sources.plan import SourcePlan

__all__ = ["PAGE", "TIMES_TREE", "plan", "started"]

PAGE: Final = 100
"""Builds a request in the sync (the jenkins source's range)."""
TIMES_TREE: Final = f"allBuilds[timestamp]{{0,{PAGE}}}"
"""The ``tree`` of the plan's request: the newest page's start times only."""


def started(build: Mapping[str, Any]) -> datetime | None:
    """When a build started (``timestamp``, epoch milliseconds)."""
    value = build.get("timestamp")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


async def plan(source: JenkinsSource, ctx: FetchContext) -> SourcePlan:
    """Requests and records of the coming sync of ``source`` (one request per job)."""
    state = plan_state(source, ctx)
    estimate = PlanEstimate()
    client = source.client()
    async with client:
        for job, _team in source.repos:
            old = (state.get("repos") or {}).get(job) or {}
            await _job(source, client, ctx, old, job, estimate)
    return estimate.plan(source, client, f"{len(source.repos)} jobs")


async def _job(
    source: JenkinsSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    job: str,
    estimate: PlanEstimate,
) -> None:
    """One job's builds since its bookmark, from the start times of its newest page."""
    lower = lower_bound(ctx, old, "builds")
    path = f"{source.repo_path(job)}/api/json"
    page = await client.get(path, {"tree": TIMES_TREE}, conditional=False)
    data = page.data if isinstance(page.data, dict) else {}
    builds = [b for b in data.get("allBuilds") or [] if isinstance(b, dict)]
    times = [started(b) for b in builds]
    more = len(builds) >= PAGE
    n = items_in_range(times, more=more, lower=lower, until=ctx.until)
    estimate.listing("builds", n, page_size=PAGE, more=more)
