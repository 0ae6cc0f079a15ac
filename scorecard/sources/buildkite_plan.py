"""``sync --plan`` for Buildkite: the coming sync's requests, from one small request
per pipeline listing (see :mod:`scorecard.sources.delivery`).

A Buildkite sync costs per pipeline its page (the repository and default branch)
and the pages of its default-branch builds created since the bookmark, 100 a page
(a build brings its jobs, so deploy steps cost nothing more). Asked for one build a
page, the same listing answers with a ``Link: <...page=N>; rel="last"``: N is the
number of builds in the range, exactly. The rate limit is the organization's, per
minute, from the ``RateLimit-*`` headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from scorecard.errors import SourceError
from scorecard.sources.delivery import PlanEstimate, header_budget, items_in_range, plan_state
from scorecard.sources.paginate import link_next
from scorecard.sources.records import iso, parse_time
from scorecard.sources.vcs import lower_bound

if TYPE_CHECKING:
    from scorecard.sources.buildkite import BuildkiteSource
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

__all__ = ["PER_PAGE", "WINDOW_S", "last_page", "plan"]

PER_PAGE: Final = 100
"""Builds a page in the sync (the buildkite source's ``per_page``)."""
WINDOW_S: Final = 60.0
"""Buildkite's rate limit is per organization and minute (REST API docs)."""


def last_page(headers: Mapping[str, str]) -> int | None:
    """The page number of a ``Link`` header's ``rel="last"`` target (None without one)."""
    import httpx

    link = headers.get("link")
    if not link:
        return None
    target = httpx.Response(200, headers={"link": link}).links.get("last", {}).get("url")
    try:
        return int(httpx.URL(target).params["page"]) if target else None
    except (KeyError, ValueError, httpx.InvalidURL):
        return None


async def plan(source: BuildkiteSource, ctx: FetchContext) -> SourcePlan:
    """Requests and records of the coming sync of ``source`` (reads each pipeline and
    one build of its listing)."""
    state = plan_state(source, ctx)
    estimate = PlanEstimate()
    client = source.client()
    last: Page | None = None
    async with client:
        for slug, _team in source.repos:
            old = (state.get("repos") or {}).get(slug) or {}
            last = await _pipeline(source, client, ctx, old, slug, estimate) or last
    budget = header_budget(last.headers, ctx.until, window_s=WINDOW_S) if last else None
    found = estimate.plan(source, client, f"{len(source.repos)} pipelines", budget)
    if budget is not None and budget.limit:
        found.basis += f"; Buildkite allows {round(budget.limit * WINDOW_S / 3600):,} a minute"
    return found


async def _pipeline(
    source: BuildkiteSource,
    client: HttpClient,
    ctx: FetchContext,
    old: Mapping[str, Any],
    slug: str,
    estimate: PlanEstimate,
) -> Page | None:
    """One pipeline's builds since its bookmark; the page read (None when the sync
    would stop at the pipeline itself: no team lists its repo)."""
    estimate.fixed(1)
    try:
        branch = await source.default_branch(client, slug, old)
    except SourceError:
        return None
    lower = lower_bound(ctx, old, "builds")
    params = {"branch": branch, "created_from": iso(lower), "per_page": 1}
    page = await client.get(f"{source.repo_path(slug)}/builds", params, conditional=False)
    data = page.data if isinstance(page.data, list) else []
    builds = [b for b in data if isinstance(b, dict)]
    n = last_page(page.headers)
    if n is None:
        more = link_next(page.headers) is not None
        times = [parse_time(b.get("created_at")) for b in builds]
        n = items_in_range(times, more=more, lower=lower, until=ctx.until)
    estimate.listing("builds", n, page_size=PER_PAGE, more=False)
    return page
