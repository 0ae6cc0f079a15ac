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
from scorecard.sources.vcs import RepoJob, Stream, VcsOptions, VcsSource, note_oldest, stop_at

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient

PER_PAGE: Final = 100
RESULT_CAP: Final = 1000
"""GitHub's search-backed listings (workflow runs with filters) stop at 1,000 results."""
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


@register("github")
class GitHubSource(VcsSource[GitHubOptions]):
    """GitHub (cloud or Enterprise Server) deployments, Actions runs and pull requests."""

    kind = "github"
    Options = GitHubOptions
    client_headers: ClassVar[Mapping[str, str]] = GITHUB_HEADERS
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True

    def repo_path(self, repo: str) -> str:
        return f"repos/{repo}"

    def streams(self) -> dict[str, Stream]:
        return {"deployments": self._deployments, "runs": self._runs, "pulls": self._pulls}

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo reachable with the token."""
        return await self.probe_each([self.repo_path(r) for r, _ in self.repos], "repos")

    def finished(self, ctx: FetchContext, client: HttpClient) -> None:
        ctx.progress(
            f"{client.stats.requests:,} requests, {client.stats.not_modified:,} not modified"
        )

    # --- deployments ----------------------------------------------------------------------

    async def _deployments(
        self,
        client: HttpClient,
        ctx: FetchContext,
        job: RepoJob,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> datetime | None:
        known = previous_deployments(previous, job.repo)
        wanted = await self._listed_deployments(client, job, known, collected)
        wanted.update(_still_running(known, wanted, ctx.until - RECHECK_PENDING))
        results = await asyncio.gather(
            *(
                self._deployment(client, job, ident, item, collected)
                for ident, item in wanted.items()
            )
        )
        still_running = [when for when in results if when is not None]
        return min(still_running) if still_running else None

    async def _listed_deployments(
        self,
        client: HttpClient,
        job: RepoJob,
        known: Mapping[str, dict[str, Any]],
        collected: Collected,
    ) -> dict[str, dict[str, Any]]:
        """Deployments listed since ``job.lower`` whose outcome is not known yet."""
        repo = job.repo
        wanted: dict[str, dict[str, Any]] = {}
        count = 0
        async for page in paginate_link(
            client, f"repos/{repo}/deployments", {"per_page": PER_PAGE}
        ):
            if stop_at(page, job.lower):
                break
            items = json_list(page, collected, f"{repo} deployments")
            if items is None:
                continue
            oldest = note_oldest(client, page, items, "created_at")
            for item in items:
                count += 1
                created = parse_time(item.get("created_at")) if isinstance(item, dict) else None
                if created is None or created < job.lower:
                    if created is None:
                        collected.bad(f"{repo} deployment", "missing created_at")
                    continue
                if not self.relevant_env(item.get("environment")):
                    continue
                ident = f"{repo}/deployments/{item.get('id')}"
                old = known.get(ident)
                if old is not None and old.get("status") != "in_progress":
                    continue  # already final: its statuses cannot change its outcome
                wanted[ident] = item
            if oldest is not None and oldest < job.lower:
                break
        client.stats.count("deployments", count)
        return wanted

    async def _deployment(
        self,
        client: HttpClient,
        job: RepoJob,
        ident: str,
        item: dict[str, Any],
        collected: Collected,
    ) -> datetime | None:
        """Fetch one deployment's statuses and record it; returns its start if still running."""
        repo = job.repo
        page = await client.get(
            f"repos/{repo}/deployments/{item.get('id')}/statuses",
            {"per_page": PER_PAGE},
            conditional=True,  # kept for deployments still running: rechecked next sync
        )
        if page.not_modified:
            return parse_time(item.get("created_at"))  # unchanged: still in progress
        statuses = json_list(page, collected, f"{repo} deployment {item.get('id')} statuses") or []
        record = deployment_record(item, statuses, repo=repo, team=job.team, source=self.name)
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

    async def _runs(
        self,
        client: HttpClient,
        ctx: FetchContext,
        job: RepoJob,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> datetime | None:
        pending: datetime | None = None
        count = 0
        target = self.production[0] if self.production else "production"
        async for run in self._iter_runs(client, job, collected):
            count += 1
            if self._is_deploy_workflow(run):
                # A deploy workflow's default-branch runs are deployments, not CI.
                if run.get("head_branch") != job.default_branch:
                    continue
                deploy = workflow_deployment_record(
                    run, repo=job.repo, team=job.team, source=self.name, environment=target
                )
                if deploy is None:
                    collected.bad(f"{job.repo} run {run.get('id')}", "unreadable workflow run")
                    continue
                if deploy["status"] == "in_progress":
                    started = deploy["started_at"]
                    pending = started if pending is None else min(pending, started)
                    continue
                deploy["is_rollback"] = matches_any(
                    run.get("display_title"), self.rollback_patterns
                ) or matches_any(
                    (run.get("head_commit") or {}).get("message"), self.rollback_patterns
                )
                collected.add("deployments", deploy, f"{job.repo} run {run.get('id')}")
                continue
            record = run_record(run, repo=job.repo, team=job.team, source=self.name)
            if record is None:
                collected.bad(f"{job.repo} run {run.get('id')}", "unreadable workflow run")
                continue
            if record.get("pending"):
                started = record["started_at"]
                pending = started if pending is None else min(pending, started)
                continue
            record["is_default_branch"] = record["branch"] == job.default_branch
            collected.add("ci_runs", record, f"{job.repo} run {run.get('id')}")
        client.stats.count("ci_runs", count)
        if job.saw_unchanged and job.old_pending is not None:
            # Runs pending on an unchanged page are still pending.
            pending = job.old_pending if pending is None else min(pending, job.old_pending)
        return pending

    async def _iter_runs(
        self, client: HttpClient, job: RepoJob, collected: Collected
    ) -> AsyncIterator[dict[str, Any]]:
        """Default-branch runs created since ``job.lower``, each once, cap-safe.

        Newest first through the plain listing (stable URLs, so later syncs get
        304s); when that reaches the 1,000-result cap, the rest of the range is
        fetched by ``created`` ranges split until none holds more than 1,000.
        """
        what = "workflow runs"
        runs: list[dict[str, Any]] = []
        path = f"repos/{job.repo}/actions/runs"
        base = {
            "branch": job.default_branch,
            "per_page": PER_PAGE,
            "exclude_pull_requests": "true",
        }
        seen = 0
        oldest: datetime | None = None
        reached = False
        async for page in paginate_link(client, path, base):
            if stop_at(page, job.lower):
                reached = True
                break
            if page.not_modified:
                job.saw_unchanged = True
                seen += PER_PAGE
                continue
            body = page.data if isinstance(page.data, dict) else None
            items = body.get("workflow_runs") if body is not None else None
            if not isinstance(items, list):
                collected.bad(f"{job.repo} {what}", "malformed answer")
                continue
            page_oldest = note_oldest(client, page, items, "created_at")
            seen += len(items)
            for run in items:
                created = parse_time(run.get("created_at")) if isinstance(run, dict) else None
                if created is not None and created >= job.lower:
                    runs.append(run)
            if page_oldest is not None:
                oldest = page_oldest if oldest is None else min(oldest, page_oldest)
                if page_oldest < job.lower:
                    reached = True
                    break
        if not reached and seen >= RESULT_CAP and oldest is not None:
            # The listing stopped at the cap: fetch the rest of the range by date.
            until = oldest - timedelta(seconds=1)
            runs.extend(await self._runs_range(client, job, base, job.lower, until, collected))
        unique: dict[Any, dict[str, Any]] = {}
        for run in runs:
            unique[run.get("id")] = run
        for run in unique.values():
            yield run

    async def _runs_range(
        self,
        client: HttpClient,
        job: RepoJob,
        base: dict[str, Any],
        start: datetime,
        end: datetime,
        collected: Collected,
    ) -> list[dict[str, Any]]:
        """Runs created in ``[start, end]`` (whole seconds), splitting past the cap."""
        if end < start:
            return []
        query = {**base, "created": f"{iso(start)}..{iso(end)}"}
        path = f"repos/{job.repo}/actions/runs"
        out: list[dict[str, Any]] = []
        first = True
        async for page in paginate_link(client, path, query, conditional=False):
            body = page.data if isinstance(page.data, dict) else None
            if body is None or not isinstance(body.get("workflow_runs"), list):
                collected.bad(f"{job.repo} workflow runs", "malformed answer")
                if first:
                    return out
                continue
            total = body.get("total_count")
            if first and isinstance(total, int) and total > RESULT_CAP and end > start:
                middle = start + (end - start) / 2
                middle = middle.replace(microsecond=0)
                left = await self._runs_range(client, job, base, start, middle, collected)
                right = await self._runs_range(
                    client, job, base, middle + timedelta(seconds=1), end, collected
                )
                return left + right
            if first and isinstance(total, int) and total > RESULT_CAP:
                collected.complete = False
                collected.problem(
                    f"{job.repo}: more than {RESULT_CAP} runs created within one second; "
                    "some were not fetched"
                )
            first = False
            out.extend(r for r in body["workflow_runs"] if isinstance(r, dict))
        return out

    # --- pull requests --------------------------------------------------------------------

    async def _pulls(
        self,
        client: HttpClient,
        ctx: FetchContext,
        job: RepoJob,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        repo = job.repo
        cache = self.change_cache(previous, repo)
        merged = await self._merged_pulls(client, job, collected)

        async def one(pr: dict[str, Any]) -> None:
            number = pr.get("number")
            record = change_record(pr, repo=repo, team=job.team, source=self.name)
            if record is None:
                collected.bad(f"{repo} pull {number}", "unreadable pull request")
                return
            await cache.fill(
                record,
                lambda: self._first_commit(client, repo, number, collected),
                lambda: self._pull_files(client, repo, number, collected),
            )
            collected.add("changes", record, f"{repo} pull {number}")

        await asyncio.gather(*(one(pr) for pr in merged))

    async def _merged_pulls(
        self, client: HttpClient, job: RepoJob, collected: Collected
    ) -> list[dict[str, Any]]:
        """Pull requests merged and updated since ``job.lower``, newest first."""
        repo = job.repo
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
        merged: list[dict[str, Any]] = []
        count = 0
        async for page in paginate_link(client, f"repos/{repo}/pulls", params):
            if stop_at(page, job.lower):
                break
            items = json_list(page, collected, f"{repo} pulls")
            if items is None:
                continue
            oldest = note_oldest(client, page, items, "updated_at")
            for pr in items:
                count += 1
                if not isinstance(pr, dict) or not pr.get("merged_at"):
                    continue
                updated = parse_time(pr.get("updated_at"))
                if updated is not None and updated < job.lower:
                    continue
                merged.append(pr)
            if oldest is not None and oldest < job.lower:
                break
        client.stats.count("changes", count)
        return merged

    async def _first_commit(
        self, client: HttpClient, repo: str, number: Any, collected: Collected
    ) -> datetime | None:
        """When a pull request's first commit was written."""
        page = await client.get(
            f"repos/{repo}/pulls/{number}/commits", {"per_page": PER_PAGE}, conditional=False
        )
        return first_commit_time(json_list(page, collected, f"{repo} pull {number} commits") or [])

    async def _pull_files(
        self, client: HttpClient, repo: str, number: Any, collected: Collected
    ) -> list[str]:
        """The paths a merged pull request touched (both sides of a rename)."""
        paths: list[str] = []
        where = f"{repo} pull {number} files"
        async for page in paginate_link(
            client, f"repos/{repo}/pulls/{number}/files", {"per_page": PER_PAGE}
        ):
            for item in json_list(page, collected, where) or []:
                if isinstance(item, dict):
                    paths.extend(
                        str(item[key])
                        for key in ("filename", "previous_filename")
                        if isinstance(item.get(key), str)
                    )
        return paths


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
