"""The GitHub source's estimate of its coming sync (``scorecard sync --plan``, SPEC §14).

Cheap by design: the token's budgets from ``GET /rate_limit`` (free), one GraphQL
count query per 20 repos (deployments, merged pull requests updated since each
repo's start, the first deployment's date; about a point each) and one
``per_page=1`` Actions listing per repo for its number of runs. From those, the
pages each stream will read, as the sync reads them (full pages for a first
sync, small ones once bookmarked), and the points GitHub charges for them.
Writes nothing: validators and bookmarks are only read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.github_graph import INCREMENTAL_PAGE, ask
from scorecard.sources.github_graphql import (
    MAX_REPOS_PER_QUERY,
    PAGE_SIZE,
    RepoCounts,
    counts_query,
    counts_variables,
    graphql_url,
    page_points,
    read_counts,
)
from scorecard.sources.plan import Budget, SourcePlan, pages
from scorecard.sources.records import iso
from scorecard.sources.vcs import HISTORY_MARGIN, lower_bound

if TYPE_CHECKING:
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.github import GitHubSource
    from scorecard.sources.http import HttpClient

__all__ = ["github_plan"]

RESULT_CAP: Final = 1000


@dataclass
class RepoEstimate:
    """What one repo's sync should cost."""

    requests: int
    points: int


async def github_plan(source: GitHubSource, ctx: FetchContext) -> SourcePlan:
    """The estimate for ``source``'s next sync of ``[ctx.since, ctx.until)``."""
    state = ctx.state if ctx.state.get("version") == source.state_version and not ctx.full else {}
    olds: dict[str, Any] = dict(state.get("repos") or {})
    client = source.client(validators=state.get("http") or {})
    repos = [repo for repo, _ in source.repos]
    plan = SourcePlan(source.name, source.kind, concurrency=source.options.max_concurrency)
    async with client:
        plan.rest, plan.graphql = await _budgets(client)
        lowers = {r: lower_bound(ctx, olds.get(r) or {}, "pulls") for r in repos}
        branches = await asyncio.gather(*(_branch(source, client, r, olds) for r in repos))
        known = [bool((olds.get(r) or {}).get("default_branch")) for r in repos]
        runs = await asyncio.gather(
            *(_runs(client, r, b, lowers[r]) for r, b in zip(repos, branches))
        )
        counts: dict[str, RepoCounts] = {}
        if source.options.graphql:
            counts = await _counts(client, graphql_url(source.api_url), repos, lowers)
    plan.spent = client.stats.spent
    requests, points = 0, 0
    for repo, run_count, known_branch in zip(repos, runs, known):
        estimate = _repo_estimate(
            source, ctx, lowers[repo], run_count, counts.get(repo), known_branch
        )
        requests, points = requests + estimate.requests, points + estimate.points
    plan.requests, plan.points = requests, points
    mode = "GraphQL + REST" if source.options.graphql else "REST only"
    plan.basis = (
        f"{len(repos)} repos ({mode}); counted per repo: runs, deployments and merged pull "
        f"requests since each repo's bookmark or the history start ({iso(ctx.since)[:10]})"
    )
    return plan


async def _budgets(client: HttpClient) -> tuple[Budget | None, Budget | None]:
    """The token's REST and GraphQL budgets (``GET /rate_limit`` costs nothing)."""
    page = await client.get("rate_limit", conditional=False)
    resources = page.data.get("resources") if isinstance(page.data, dict) else None
    if not isinstance(resources, dict):
        return None, None

    def budget(name: str) -> Budget | None:
        raw = resources.get(name)
        if not isinstance(raw, dict):
            return None
        reset = raw.get("reset")
        when = datetime.fromtimestamp(reset, tz=timezone.utc) if isinstance(reset, int) else None
        return Budget(raw.get("limit"), raw.get("remaining"), when)

    client.stats.requests -= 1  # GitHub does not count this one against the limit
    return budget("core"), budget("graphql")


async def _branch(source: GitHubSource, client: HttpClient, repo: str, olds: dict[str, Any]) -> str:
    old = olds.get(repo) or {}
    known = old.get("default_branch")
    if isinstance(known, str) and known:
        return known
    return await source.default_branch(client, repo, old)


async def _runs(client: HttpClient, repo: str, branch: str, lower: datetime) -> int:
    """Default-branch runs created since ``lower`` (one small request)."""
    params = {"branch": branch, "created": f">={iso(lower)}", "per_page": 1}
    page = await client.get(f"repos/{repo}/actions/runs", params, conditional=False)
    total = page.data.get("total_count") if isinstance(page.data, dict) else None
    return total if isinstance(total, int) else 0


async def _counts(
    client: HttpClient, url: str, repos: list[str], lowers: dict[str, datetime]
) -> dict[str, RepoCounts]:
    out: dict[str, RepoCounts] = {}
    for start in range(0, len(repos), MAX_REPOS_PER_QUERY):
        batch = repos[start : start + MAX_REPOS_PER_QUERY]
        variables = counts_variables(batch, min(lowers[r] for r in batch))
        for i, repo in enumerate(batch):
            variables[f"merged{i}"] = f"repo:{repo} is:pr is:merged updated:>={iso(lowers[repo])}"
        answer = await ask(client, url, counts_query(len(batch), since=True), variables)
        out.update(read_counts(answer.data, batch))
    return out


def _repo_estimate(
    source: GitHubSource,
    ctx: FetchContext,
    lower: datetime,
    runs: int,
    counts: RepoCounts | None,
    known_branch: bool,
) -> RepoEstimate:
    requests = (0 if known_branch else 1) + _run_pages(runs)
    if counts is None:
        return RepoEstimate(requests, 0)
    requests += 2  # the conditional probes of the deployment and pull request listings
    merged = counts.merged_since or 0
    deploys = _deployments_since(counts, lower, ctx.until)
    span = max(1.0, (ctx.until - lower).total_seconds())
    commits = int(merged * (1 + HISTORY_MARGIN.total_seconds() / span))
    first = PAGE_SIZE if lower <= ctx.since else INCREMENTAL_PAGE
    older = (counts.deployments or 0) > deploys
    deploy_queries = max(pages(deploys, first, more=older), pages(commits, PAGE_SIZE, more=False))
    pull_pages = pages(merged, first)
    per_pull_page = page_points("pulls", first=first, with_files=source.fetch_paths)
    per_deploy_page = page_points("deployments", first=first)
    return RepoEstimate(requests, deploy_queries * per_deploy_page + pull_pages * per_pull_page)


def _run_pages(runs: int) -> int:
    """Listing pages for ``runs`` runs: past GitHub's 1,000-result cap the rest comes
    by date range (its first page also says how many there are)."""
    if runs < RESULT_CAP:
        return pages(runs, PAGE_SIZE)
    return RESULT_CAP // PAGE_SIZE + pages(runs - RESULT_CAP, PAGE_SIZE, more=False)


def _deployments_since(counts: RepoCounts, lower: datetime, until: datetime) -> int:
    """Deployments created since ``lower``, at the repo's average rate since its first."""
    total = counts.deployments or 0
    oldest = counts.oldest_deployment
    if not total or oldest is None or oldest >= lower:
        return total
    share = (until - lower).total_seconds() / max(1.0, (until - oldest).total_seconds())
    return min(total, round(total * share))
