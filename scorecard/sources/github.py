"""`kind = "github"`: deployments, Actions runs and merged pull requests (github.com or GHES).

Per repo of every team:

- **Deployments** from the Deployments API with their statuses: the latest status
  decides the outcome (``inactive``, which only means "superseded", is looked
  through), ``finished_at`` is that status's ``created_at``. Only production and
  canary environments are kept. Repos that deploy from Actions are configured
  with ``deploy_workflows`` (name or path globs): their default-branch runs
  become deployments to the first production environment.
- **CI runs**: default-branch workflow runs, newest first; when a listing would
  run into GitHub's 1,000-result cap, the rest of the range is fetched with
  ``created`` date ranges split until each holds at most 1,000 runs.
- **Changes**: merged pull requests (closed, sorted by updated, stopping once
  past the range) with ``first_commit_at`` from the PR's commits, fetched once
  per merged PR and then kept from the cache.

Incremental: each stream of each repo keeps a bookmark; later syncs fetch from
the bookmark (minus an overlap) and merge into the cached events. Every listing
page is requested conditionally, so an unchanged repo costs only 304s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scorecard.sources.contract import http_options
from scorecard.sources.github_graph import read_deployments, read_pulls
from scorecard.sources.github_graphql import graphql_url
from scorecard.sources.github_records import (
    change_record,
    deployment_record,
    first_commit_time,
    run_record,
    workflow_deployment_record,
)
from scorecard.sources.paginate import paginate_link
from scorecard.sources.records import Collected, glob_match, iso, json_list, matches_any, parse_time
from scorecard.sources.registry import register
from scorecard.sources.vcs import (
    RepoJob,
    Stream,
    VcsOptions,
    VcsSource,
    note_oldest,
    owned_by,
    stop_at,
)

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

PER_PAGE: Final = 100
RESULT_CAP: Final = 1000
"""GitHub's search-backed listings (workflow runs with filters) stop at 1,000 results."""
LARGE_ORG: Final = 20
"""From this many repos on, `config check` points to `sync --plan` before a first sync."""
RECHECK_PENDING: Final = timedelta(days=7)
"""Deployments still in progress are re-checked for this long after they started."""

GITHUB_HEADERS: Final = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}


@dataclass(frozen=True)
class GitHubOptions(VcsOptions):
    """Options of a `kind = "github"` source (github.com or Enterprise Server:
    `api_url = "https://github.acme.com/api/v3"`)."""

    default_api_url: ClassVar[str | None] = "https://api.github.com"

    deploy_workflows: tuple[str, ...] = ()
    """Actions workflows (name or path globs) whose default-branch runs are production
    deployments, for repos that deploy from Actions rather than the Deployments API."""
    owners: tuple[str, ...] = ()
    """Only the team repos of these owners (organizations or users) are this source's;
    empty: every team repo. Needed when teams also list repos of other systems
    (Azure DevOps ``project/repo``, Bitbucket ``workspace/repo``)."""
    graphql: bool = True
    """Read deployments and merged pull requests through GitHub's GraphQL API (a page of
    100 deployments with their statuses costs 1 point where REST needs 101 requests);
    false reads everything over REST, e.g. for an Enterprise Server that blocks GraphQL."""


@register
class GitHubSource(VcsSource[GitHubOptions]):
    """GitHub (cloud or Enterprise Server) deployments, Actions runs and pull requests."""

    kind = "github"
    Options = GitHubOptions
    client_headers: ClassVar[Mapping[str, str]] = GITHUB_HEADERS
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True
    change_noun: ClassVar[str] = "pull request"
    change_short: ClassVar[str] = "pull"

    def reads_repo(self, repo: str) -> bool:
        return owned_by(repo, self.options.owners)

    def repo_path(self, repo: str) -> str:
        return f"repos/{repo}"

    def streams(self) -> dict[str, Stream]:
        graphql = self.options.graphql
        return {
            "deployments": Stream(
                self._graphql_deployments if graphql else self._deployments, cursor="created_at"
            ),
            "runs": Stream(self._runs, cursor="created_at"),
            "pulls": Stream(self._graphql_pulls if graphql else self._pulls, cursor="updated_at"),
        }

    def backfills(self) -> bool:
        return self.options.graphql  # REST's deployment and pull listings have no cursor

    @property
    def api_url(self) -> str:
        """The REST base (``https://api.github.com`` or ``https://HOST/api/v3``)."""
        return http_options(self.cfg).base_url or "https://api.github.com"

    async def _graphql_deployments(self, job: RepoJob) -> datetime | None:
        probe = f"repos/{job.repo}/deployments", {"per_page": 1}
        if await self._unchanged(job, *probe) and job.old_pending is None:
            return None
        return await read_deployments(self, job, graphql_url(self.api_url), self.api_url)

    async def _graphql_pulls(self, job: RepoJob) -> None:
        probe = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": 1}
        if not await self._unchanged(job, f"repos/{job.repo}/pulls", probe):
            await read_pulls(self, job, graphql_url(self.api_url))

    @staticmethod
    async def _unchanged(job: RepoJob, path: str, params: dict[str, Any]) -> bool:
        """Whether a listing's newest item is as it was at the last sync: a conditional
        REST request (a 304 is free), so an unchanged repo costs no GraphQL point. A
        first read asks too, to keep the validators for the next sync."""
        if job.upper is not None:
            return False  # a backfill reads older history: the newest item says nothing
        page = await job.client.get(path, params)
        return page.not_modified and not job.fresh

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """What the coming sync of ``ctx``'s range should cost (``sync --plan``)."""
        from scorecard.sources.github_plan import github_plan

        return await github_plan(self, ctx)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo reachable with the token
        (and, for a large org, where to see what its first sync will cost)."""
        detail = await self.probe_each([self.repo_path(r) for r, _ in self.repos], "repos")
        if len(self.repos) >= LARGE_ORG:
            detail += (
                f"; before a first sync of {len(self.repos):,} repos, "
                f"`scorecard sync --plan --source {self.name}` estimates its quota and time"
            )
        return detail

    def finished(self, ctx: FetchContext, client: HttpClient) -> None:
        ctx.progress(
            f"{client.stats.requests:,} requests, {client.stats.not_modified:,} not modified"
        )

    # --- deployments ----------------------------------------------------------------------

    async def _deployments(self, job: RepoJob) -> datetime | None:
        known = previous_deployments(job.run.previous, job.repo)
        wanted = await self._listed_deployments(job, known)
        wanted.update(_still_running(known, wanted, job.run.ctx.until - RECHECK_PENDING))
        results = await asyncio.gather(
            *(self._deployment(job, ident, item) for ident, item in wanted.items())
        )
        still_running = [when for when in results if when is not None]
        return min(still_running) if still_running else None

    async def _listed_deployments(
        self, job: RepoJob, known: Mapping[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """Deployments listed since ``job.lower`` whose outcome is not known yet."""
        repo = job.repo
        wanted: dict[str, dict[str, Any]] = {}
        count = 0
        pages = paginate_link(job.client, f"repos/{repo}/deployments", {"per_page": PER_PAGE})
        async for item in self.newest_first(job, pages, f"{repo} deployments"):
            count += 1
            created = parse_time(item.get(job.cursor)) if isinstance(item, dict) else None
            if created is None or created < job.lower:
                if created is None:
                    job.collected.bad(f"{repo} deployment", "missing created_at")
                continue
            if not self.relevant_env(item.get("environment")):
                continue
            ident = f"{repo}/deployments/{item.get('id')}"
            old = known.get(ident)
            if old is not None and old.get("status") != "in_progress":
                continue  # already final: its statuses cannot change its outcome
            wanted[ident] = item
        job.client.stats.count("deployments", count)
        return wanted

    async def _deployment(self, job: RepoJob, ident: str, item: dict[str, Any]) -> datetime | None:
        """Fetch one deployment's statuses and record it; returns its start if still running."""
        repo, collected = job.repo, job.collected
        page = await job.client.get(
            f"repos/{repo}/deployments/{item.get('id')}/statuses",
            {"per_page": PER_PAGE},
            conditional=True,  # kept for deployments still running: rechecked next sync
        )
        if page.not_modified:
            return parse_time(item.get("created_at"))  # unchanged: still in progress
        statuses = json_list(page, collected, f"{repo} deployment {item.get('id')} statuses") or []
        record = deployment_record(item, statuses, repo=repo, team=job.team, source=self.name)
        job.run.note_ref(repo, item.get("sha"), item.get("ref"))
        if record is None:
            collected.bad(f"{repo} deployment {item.get('id')}", "unreadable deployment")
            return None
        record["id"] = ident
        record["is_rollback"] = bool(item.get("_rollback")) or any(
            matches_any(item.get(k), self.rollback_patterns) for k in ("description", "ref", "task")
        )
        collected.add("deployments", record, f"{repo} deployment {item.get('id')}")
        return record["started_at"] if record["status"] == "in_progress" else None

    def _is_deploy_workflow(self, run: dict[str, Any]) -> bool:
        if not self.options.deploy_workflows:
            return False
        path = str(run.get("path") or "").split("@", 1)[0]
        names = [run.get("name"), path, path.rsplit("/", 1)[-1]]
        return any(
            glob_match(n, self.options.deploy_workflows) for n in names if isinstance(n, str)
        )

    # --- workflow runs ----------------------------------------------------------------------

    async def _runs(self, job: RepoJob) -> datetime | None:
        pending: datetime | None = None
        count = 0
        async for run in self._iter_runs(job):
            count += 1
            if self._is_deploy_workflow(run):
                started = self._workflow_deployment(job, run)
            else:
                started = self._run(job, run)
            if started is not None:
                pending = started if pending is None else min(pending, started)
        job.client.stats.count("ci_runs", count)
        if job.saw_unchanged and job.old_pending is not None:
            # Runs pending on an unchanged page are still pending.
            pending = job.old_pending if pending is None else min(pending, job.old_pending)
        return pending

    def _workflow_deployment(self, job: RepoJob, run: dict[str, Any]) -> datetime | None:
        """A deploy workflow's default-branch run is a deployment, not CI; returns its
        start while it is still running (it is recorded once it finished)."""
        if run.get("head_branch") != job.default_branch:
            return None
        target = self.production[0] if self.production else "production"
        where = f"{job.repo} run {run.get('id')}"
        deploy = workflow_deployment_record(
            run, repo=job.repo, team=job.team, source=self.name, environment=target
        )
        if deploy is None:
            job.collected.bad(where, "unreadable workflow run")
            return None
        if deploy["status"] == "in_progress":
            started: datetime = deploy["started_at"]
            return started
        deploy["is_rollback"] = matches_any(
            run.get("display_title"), self.rollback_patterns
        ) or matches_any((run.get("head_commit") or {}).get("message"), self.rollback_patterns)
        job.collected.add("deployments", deploy, where)
        return None

    def _run(self, job: RepoJob, run: dict[str, Any]) -> datetime | None:
        """A CI run; returns its start while it is still running (recorded once done)."""
        where = f"{job.repo} run {run.get('id')}"
        record = run_record(run, repo=job.repo, team=job.team, source=self.name)
        if record is None:
            job.collected.bad(where, "unreadable workflow run")
            return None
        if record.get("pending"):
            started: datetime = record["started_at"]
            return started
        record["is_default_branch"] = record["branch"] == job.default_branch
        job.collected.add("ci_runs", record, where)
        return None

    async def _iter_runs(self, job: RepoJob) -> AsyncIterator[dict[str, Any]]:
        """Default-branch runs created since ``job.lower``, each once, cap-safe.

        Newest first through the plain listing (stable URLs, so later syncs get
        304s); when that reaches the 1,000-result cap, the rest of the range is
        fetched by ``created`` ranges split until none holds more than 1,000.
        """
        runs: list[dict[str, Any]] = []
        base = {
            "branch": job.default_branch,
            "per_page": PER_PAGE,
            "exclude_pull_requests": "true",
        }
        if job.upper is not None:  # a backfill: the older range alone, by date
            older = await self._runs_range(job, base, job.lower, job.upper - timedelta(seconds=1))
            job.checkpoint(None, job.lower)
            for run in {r.get("id"): r for r in older}.values():
                yield run
            return
        seen = 0
        oldest: datetime | None = None
        reached = False
        async for page in paginate_link(job.client, f"repos/{job.repo}/actions/runs", base):
            if stop_at(page, job.lower):
                reached = True
                break
            if page.not_modified:
                job.saw_unchanged = True
                seen += PER_PAGE
                continue
            items = _workflow_runs(page, job.collected, job.repo)
            if items is None:
                continue
            page_oldest = note_oldest(job.client, page, items, job.cursor)
            seen += len(items)
            runs.extend(_created_since(items, job.run.ctx.since))  # pages are kept whole
            if page_oldest is not None:
                oldest = page_oldest if oldest is None else min(oldest, page_oldest)
                if page_oldest < job.lower:
                    reached = True
                    break
        if not reached and seen >= RESULT_CAP and oldest is not None:
            # The listing stopped at the cap: fetch the rest of the range by date.
            until = oldest - timedelta(seconds=1)
            runs.extend(await self._runs_range(job, base, job.lower, until))
            job.checkpoint(None, job.lower)
        elif reached and oldest is not None:
            job.checkpoint(None, max(oldest, job.run.ctx.since))
        else:
            job.checkpoint(None, job.run.ctx.since)  # the listing ended: nothing older
        unique: dict[Any, dict[str, Any]] = {}
        for run in runs:
            unique[run.get("id")] = run
        for run in unique.values():
            yield run

    async def _runs_range(
        self, job: RepoJob, base: dict[str, Any], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Runs created in ``[start, end]`` (whole seconds), splitting past the cap."""
        if end < start:
            return []
        query = {**base, "created": f"{iso(start)}..{iso(end)}"}
        path = f"repos/{job.repo}/actions/runs"
        out: list[dict[str, Any]] = []
        first = True
        async for page in paginate_link(job.client, path, query, conditional=False):
            body = page.data if isinstance(page.data, dict) else None
            if body is None or not isinstance(body.get("workflow_runs"), list):
                job.collected.bad(f"{job.repo} workflow runs", "malformed answer")
                if first:
                    return out
                continue
            total = body.get("total_count")
            if first and isinstance(total, int) and total > RESULT_CAP and end > start:
                middle = (start + (end - start) / 2).replace(microsecond=0)
                left = await self._runs_range(job, base, start, middle)
                right = await self._runs_range(job, base, middle + timedelta(seconds=1), end)
                return left + right
            if first and isinstance(total, int) and total > RESULT_CAP:
                job.collected.complete = False
                job.collected.problem(
                    f"{job.repo}: more than {RESULT_CAP} runs created within one second; "
                    "some were not fetched"
                )
            first = False
            out.extend(r for r in body["workflow_runs"] if isinstance(r, dict))
        return out

    # --- pull requests --------------------------------------------------------------------

    async def _pulls(self, job: RepoJob) -> None:
        await self.add_changes(job, await self._merged_pulls(job))

    async def _merged_pulls(self, job: RepoJob) -> list[dict[str, Any]]:
        """Pull requests merged and updated since ``job.lower``, newest first."""
        repo = job.repo
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
        pages = paginate_link(job.client, f"repos/{repo}/pulls", params)
        merged: list[dict[str, Any]] = []
        count = 0
        async for pr in self.newest_first(job, pages, f"{repo} pulls"):
            count += 1
            if not isinstance(pr, dict) or not pr.get("merged_at"):
                continue
            updated = parse_time(pr.get(job.cursor))
            if updated is not None and updated < job.lower:
                continue
            merged.append(pr)
        job.client.stats.count("changes", count)
        return merged

    def change_record(self, item: dict[str, Any], job: RepoJob) -> dict[str, Any] | None:
        return change_record(item, repo=job.repo, team=job.team, source=self.name)

    async def first_commit(self, job: RepoJob, number: Any) -> datetime | None:
        page = await job.client.get(
            f"repos/{job.repo}/pulls/{number}/commits", {"per_page": PER_PAGE}, conditional=False
        )
        where = f"{job.repo} pull {number} commits"
        return first_commit_time(json_list(page, job.collected, where) or [])

    history_ref: ClassVar[str] = "sha"
    commit_key: ClassVar[str] = "sha"

    def history_pages(
        self, client: HttpClient, repo: str, params: dict[str, Any]
    ) -> AsyncIterator[Page]:
        return paginate_link(client, f"repos/{repo}/commits", params, conditional=False)

    async def changed_paths(self, job: RepoJob, number: Any) -> list[str]:
        paths: list[str] = []
        where = f"{job.repo} pull {number} files"
        async for page in paginate_link(
            job.client, f"repos/{job.repo}/pulls/{number}/files", {"per_page": PER_PAGE}
        ):
            for item in json_list(page, job.collected, where) or []:
                if isinstance(item, dict):
                    paths.extend(
                        str(item[key])
                        for key in ("filename", "previous_filename")
                        if isinstance(item.get(key), str)
                    )
        return paths


def _workflow_runs(page: Page, collected: Collected, repo: str) -> list[Any] | None:
    """The page's ``workflow_runs`` (None, counted, when the answer is malformed)."""
    body = page.data if isinstance(page.data, dict) else None
    items = body.get("workflow_runs") if body is not None else None
    if not isinstance(items, list):
        collected.bad(f"{repo} workflow runs", "malformed answer")
        return None
    return items


def _created_since(items: list[Any], lower: datetime) -> list[dict[str, Any]]:
    """The runs created at or after ``lower``."""
    out = []
    for run in items:
        created = parse_time(run.get("created_at")) if isinstance(run, dict) else None
        if created is not None and created >= lower:
            out.append(run)
    return out


def _still_running(
    known: Mapping[str, dict[str, Any]], listed: Mapping[str, Any], recheck_after: datetime
) -> dict[str, dict[str, Any]]:
    """Deployments running at the last sync and started after ``recheck_after``: looked
    at again, even if the listing did not change."""
    out: dict[str, dict[str, Any]] = {}
    for ident, old in known.items():
        if ident in listed or old.get("status") != "in_progress":
            continue
        started = old.get("started_at")
        if started is None or started < recheck_after:
            continue
        out[ident] = {
            "id": ident.rsplit("/", 1)[-1],
            "environment": old.get("environment"),
            "sha": old.get("commit_sha"),
            "created_at": iso(started),
            "url": old.get("url"),
            "_rollback": bool(old.get("is_rollback")),
            "_recheck": True,
        }
    return out


def previous_deployments(
    previous: Mapping[str, pd.DataFrame], repo: str
) -> dict[str, dict[str, Any]]:
    frame = previous.get("deployments")
    if frame is None or frame.empty:
        return {}
    rows = frame[frame["repo"].astype(object) == repo]
    out: dict[str, dict[str, Any]] = {}
    for raw in rows.to_dict("records"):
        row: dict[str, Any] = {str(k): v for k, v in raw.items()}
        started: Any = row.get("started_at")
        with contextlib.suppress(AttributeError):
            started = started.to_pydatetime()
        row["started_at"] = started if isinstance(started, datetime) else None
        out[str(row["id"])] = row
    return out
