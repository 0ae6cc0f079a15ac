"""`kind = "gitlab"`: deployments, pipelines and merged MRs (gitlab.com or self-hosted).

Per project (a team's ``repos`` entry, ``group/project``, URL-encoded as the id):

- **Deployments** of production and canary environments: the deployment's
  status decides the outcome, ``finished_at`` is the job's
  ``deployable.finished_at``, else ``updated_at`` once finished. Projects that
  deploy from plain jobs are configured with ``deploy_jobs`` (name globs): their
  default-branch jobs become deployments to the first production environment.
- **CI runs**: pipelines on the default branch (start ``created_at``, finish
  ``updated_at`` once the pipeline is done).
- **Changes**: merged MRs with ``first_commit_at`` from the MR's commits,
  fetched once per merged MR and then kept from the cache.

Every listing is ordered by ``updated_at`` (newest first), paged with
``x-next-page`` and requested conditionally, so a later sync stops at the
bookmark and an unchanged project costs only 304s. The token is sent as
``PRIVATE-TOKEN``, to the configured host only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.sources.base import (
    DEFAULT_CANARY_ENVIRONMENTS,
    Collected,
    FatalSourceError,
    FetchContext,
    HttpClient,
    PaginationLoop,
    RateLimitExhausted,
    SourceError,
    SourceResult,
    api_client,
    compile_patterns,
    finish_api_result,
    glob_match,
    iso,
    matches_any,
    paginate_pages,
    parse_time,
    register,
)
from scorecard.sources.github import (
    _list,
    _note_oldest,
    _previous_first_commits,
    _previous_paths,
    _stop_at,
    lower_bound,
    repos_of,
)
from scorecard.sources.vcs import VcsOptions

if TYPE_CHECKING:
    import re
    from collections.abc import AsyncIterator

    import pandas as pd

    from scorecard.config import Config, SourceConfig

PER_PAGE: Final = 100
STATE_VERSION: Final = 1

_DEPLOY_STATUSES: Final = {
    "success": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "running": "in_progress",
    "created": "in_progress",
    "blocked": "in_progress",
}
_PIPELINE_CONCLUSIONS: Final = {
    "success": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "skipped": "skipped",
    "manual": "other",
    "scheduled": "other",
}
_JOB_STATUSES: Final = {"success": "success", "failed": "failure", "canceled": "cancelled"}


def project_id(path: str) -> str:
    """A project path as the API's id: ``group/sub/project`` -> ``group%2Fsub%2Fproject``."""
    return quote(path, safe="")


@dataclass(frozen=True)
class GitLabOptions(VcsOptions):
    """Options of a `kind = "gitlab"` source (gitlab.com or self-hosted:
    `api_url = "https://gitlab.acme.com/api/v4"`)."""

    default_api_url: ClassVar[str | None] = "https://gitlab.com/api/v4"

    deploy_jobs: tuple[str, ...] = ()
    """CI jobs (name globs) whose default-branch runs are production deployments."""


@register("gitlab")
class GitLabSource:
    """GitLab (cloud or self-hosted) deployments, pipelines and merge requests."""

    kind = "gitlab"
    Options = GitLabOptions

    def __init__(
        self, cfg: SourceConfig, *, strict: bool = False, config: Config | None = None
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.strict = strict
        self.repos = repos_of(config)
        self.production: tuple[str, ...] = (
            config.production_environments if config is not None else ("production", "prod", "live")
        )
        options = cfg.options
        self.deploy_jobs: list[str] = list(options.get("deploy_jobs") or [])
        self.canary_environments: list[str] = list(
            options.get("canary_environments") or DEFAULT_CANARY_ENVIRONMENTS
        )
        self.rollback_patterns: list[re.Pattern[str]] = compile_patterns(
            options.get("rollback_patterns")
        )
        self.fetch_paths = config is not None and any(c.paths for c in config.change_classes)
        """Only a change class matching on path globs needs each MR's changed files."""
        self.transport: Any = None

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each project reachable with the token."""
        client = api_client(
            self.cfg,
            lambda t: {"PRIVATE-TOKEN": t},
            transport=self.transport,
        )
        async with client:
            for repo, _team in self.repos:
                await client.get(f"projects/{quote(repo, safe='')}", conditional=False)
        detail = f"{len(self.repos)} projects reachable"
        if client.stats.rate_limit_remaining is not None:
            detail += f", rate limit {client.stats.rate_limit_remaining:,} left"
        return detail

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous = {} if ctx.full else ctx.load_previous()
        state = {} if ctx.full else dict(ctx.state)
        if state.get("version") != STATE_VERSION or not any(len(f) for f in previous.values()):
            state = {}
        repo_states: dict[str, Any] = dict(state.get("repos") or {})
        client = api_client(
            self.cfg,
            lambda t: {"PRIVATE-TOKEN": t},
            validators=state.get("http") or {},
            transport=self.transport,
        )
        collected = Collected()
        if not self.repos:
            collected.problem("no team lists a project, so there is nothing to fetch")
        async with client:
            results = await asyncio.gather(
                *(
                    self._sync_project(client, ctx, repo, team, repo_states, previous, collected)
                    for repo, team in self.repos
                ),
                return_exceptions=True,
            )
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            if isinstance(failure, FatalSourceError) or not isinstance(failure, Exception):
                raise failure
        broken = [f for f in failures if not isinstance(f, RateLimitExhausted)]
        if broken and len(broken) == len(self.repos):
            raise broken[0]
        for failure in broken:
            collected.complete = False
            collected.problem(str(failure))
        if client.exhausted is not None:
            collected.complete = False
            collected.problem(client.exhausted)
        new_state = {
            "version": STATE_VERSION,
            "repos": {repo: repo_states[repo] for repo, _ in self.repos if repo in repo_states},
        }
        return finish_api_result(
            collected,
            previous,
            client,
            state=new_state,
            production=self.production,
            canary_environments=self.canary_environments,
            rollback_patterns=self.rollback_patterns,
        )

    async def _sync_project(
        self,
        client: HttpClient,
        ctx: FetchContext,
        repo: str,
        team: str | None,
        repo_states: dict[str, Any],
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        old = dict(repo_states.get(repo) or {}) if not ctx.full else {}
        history_from = parse_time(old.get("history_from"))
        new: dict[str, Any] = {
            "history_from": iso(min(history_from or ctx.since, ctx.since)),
            "bookmarks": dict(old.get("bookmarks") or {}),
        }
        ctx.progress(f"{repo}: fetching")
        pid = project_id(repo)
        page = await client.get(f"projects/{pid}")
        if page.not_modified:
            branch = page.meta.get("default_branch")
        else:
            data = page.data if isinstance(page.data, dict) else {}
            branch = data.get("default_branch")
            if isinstance(branch, str):
                client.remember(page, default_branch=branch)
        if not isinstance(branch, str) or not branch:
            branch = old.get("default_branch") or "main"
        new["default_branch"] = branch
        streams = {
            "deployments": self._deployments,
            "pipelines": self._pipelines,
            "merge_requests": self._merge_requests,
        }
        if self.deploy_jobs:
            streams["deploy_jobs"] = self._deploy_jobs
        errors: list[Exception] = []
        for stream, fetch in streams.items():
            lower = lower_bound(ctx, old, stream)
            try:
                await fetch(client, repo, team, branch, lower, previous, collected)
            except (RateLimitExhausted, FatalSourceError):
                raise
            except (PaginationLoop, SourceError) as exc:
                collected.complete = False
                collected.problem(f"{repo} {stream}: {exc}")
                errors.append(exc)
                continue
            new["bookmarks"][stream] = iso(ctx.until)
        repo_states[repo] = new
        if len(errors) == len(streams):
            raise errors[0]

    async def _listing(
        self,
        client: HttpClient,
        path: str,
        params: dict[str, Any],
        lower: datetime,
        collected: Collected,
        what: str,
        key: str = "updated_at",
    ) -> AsyncIterator[dict[str, Any]]:
        """Items of a listing newest first (by ``key``) until past ``lower``."""
        async for page in paginate_pages(client, path, {**params, "per_page": PER_PAGE}):
            if _stop_at(page, lower):
                return
            items = _list(page, collected, what)
            if items is None:
                continue
            oldest = _note_oldest(client, page, items, key)
            for item in items:
                if not isinstance(item, dict):
                    collected.bad(what, "not an object")
                    continue
                when = parse_time(item.get(key))
                if when is not None and when < lower:
                    continue
                yield item
            if oldest is not None and oldest < lower:
                return

    def _relevant_env(self, env: Any) -> bool:
        if not isinstance(env, str) or not env:
            return False
        prod = {p.casefold() for p in self.production}
        return env.casefold() in prod or glob_match(env, self.canary_environments)

    async def _deployments(
        self,
        client: HttpClient,
        repo: str,
        team: str | None,
        branch: str,
        lower: datetime,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        path = f"projects/{project_id(repo)}/deployments"
        params = {"order_by": "updated_at", "sort": "desc"}
        count = 0
        async for item in self._listing(client, path, params, lower, collected, repo):
            count += 1
            env = (item.get("environment") or {}).get("name")
            if not self._relevant_env(env):
                continue
            record = deployment_record(item, repo=repo, team=team, source=self.name)
            if record is None:
                collected.bad(f"{repo} deployment {item.get('id')}", "unreadable deployment")
                continue
            deployable = item.get("deployable") or {}
            commit = deployable.get("commit") or {}
            record["is_rollback"] = matches_any(item.get("ref"), self.rollback_patterns) or (
                matches_any(commit.get("title"), self.rollback_patterns)
            )
            collected.add("deployments", record, f"{repo} deployment {item.get('id')}")
        client.stats.count("deployments", count)

    async def _deploy_jobs(
        self,
        client: HttpClient,
        repo: str,
        team: str | None,
        branch: str,
        lower: datetime,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        path = f"projects/{project_id(repo)}/jobs"
        params = {"scope[]": ["success", "failed", "canceled"]}
        target = self.production[0] if self.production else "production"
        async for job in self._listing(client, path, params, lower, collected, repo, "created_at"):
            if job.get("ref") != branch or not glob_match(job.get("name"), self.deploy_jobs):
                continue
            record = job_deployment_record(
                job, repo=repo, team=team, source=self.name, environment=target
            )
            if record is None:
                collected.bad(f"{repo} job {job.get('id')}", "unreadable job")
                continue
            commit = job.get("commit") or {}
            record["is_rollback"] = matches_any(commit.get("title"), self.rollback_patterns)
            collected.add("deployments", record, f"{repo} job {job.get('id')}")

    async def _pipelines(
        self,
        client: HttpClient,
        repo: str,
        team: str | None,
        branch: str,
        lower: datetime,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        path = f"projects/{project_id(repo)}/pipelines"
        params = {"ref": branch, "order_by": "updated_at", "sort": "desc"}
        count = 0
        async for item in self._listing(client, path, params, lower, collected, repo):
            count += 1
            record = pipeline_record(item, repo=repo, team=team, source=self.name)
            if record is None:
                collected.bad(f"{repo} pipeline {item.get('id')}", "unreadable pipeline")
                continue
            if record.pop("pending"):
                continue  # reappears (newly updated) once it finishes
            record["is_default_branch"] = record["branch"] == branch
            collected.add("ci_runs", record, f"{repo} pipeline {item.get('id')}")
        client.stats.count("ci_runs", count)

    async def _merge_requests(
        self,
        client: HttpClient,
        repo: str,
        team: str | None,
        branch: str,
        lower: datetime,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        pid = project_id(repo)
        path = f"projects/{pid}/merge_requests"
        params = {"state": "merged", "order_by": "updated_at", "sort": "desc"}
        cached = _previous_first_commits(previous, self.name, repo)
        cached_paths = _previous_paths(previous, repo) if self.fetch_paths else {}
        merged = [mr async for mr in self._listing(client, path, params, lower, collected, repo)]
        client.stats.count("changes", len(merged))

        async def one(mr: dict[str, Any]) -> None:
            record = change_record(mr, repo=repo, team=team, source=self.name)
            if record is None:
                collected.bad(f"{repo} merge request {mr.get('iid')}", "unreadable merge request")
                return
            first = cached.get(record["id"])
            if first is None:
                commits: list[Any] = []
                async for page in paginate_pages(
                    client,
                    f"projects/{pid}/merge_requests/{mr.get('iid')}/commits",
                    {"per_page": PER_PAGE},
                    conditional=False,
                ):
                    commits.extend(_list(page, collected, f"{repo} !{mr.get('iid')}") or [])
                first = first_commit_time(commits)
            record["first_commit_at"] = first
            if self.fetch_paths:
                paths = cached_paths.get(record["id"])
                if paths is None:
                    paths = []
                    async for page in paginate_pages(
                        client,
                        f"projects/{pid}/merge_requests/{mr.get('iid')}/diffs",
                        {"per_page": PER_PAGE},
                        conditional=False,
                    ):
                        for diff in _list(page, collected, f"{repo} !{mr.get('iid')} diffs") or []:
                            if isinstance(diff, dict):
                                paths.extend(_diff_paths(diff))
                record["paths"] = paths
            collected.add("changes", record, f"{repo} merge request {mr.get('iid')}")

        await asyncio.gather(*(one(mr) for mr in merged))


# --- parsing (pure) -------------------------------------------------------------------------


def _diff_paths(diff: dict[str, Any]) -> list[str]:
    """The new path of a changed file, and its old path when it moved."""
    new, old = diff.get("new_path"), diff.get("old_path")
    paths = [new] if isinstance(new, str) else []
    if isinstance(old, str) and old != new:
        paths.append(old)
    return paths


def deployment_record(
    item: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a GitLab deployment."""
    status = _DEPLOY_STATUSES.get(str(item.get("status")))
    started = parse_time(item.get("created_at"))
    if status is None or started is None or item.get("id") is None:
        return None
    deployable = item.get("deployable") or {}
    finished = None
    if status != "in_progress":
        finished = parse_time(deployable.get("finished_at"))
        if finished is None and status == "success":
            finished = parse_time(item.get("updated_at"))
        if finished is None:
            finished = parse_time(item.get("updated_at"))
    environment = (item.get("environment") or {}).get("name")
    return {
        "id": f"{repo}/deployments/{item['id']}",
        "source": source,
        "team": team,
        "service": repo.rsplit("/", 1)[-1],
        "repo": repo,
        "environment": environment,
        "status": status,
        "strategy": "unknown",
        "started_at": parse_time(deployable.get("started_at")) or started,
        "finished_at": finished,
        "commit_sha": item.get("sha") or (deployable.get("commit") or {}).get("id"),
        "is_rollback": False,
        "url": deployable.get("web_url"),
    }


def job_deployment_record(
    job: dict[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deploy job (``deploy_jobs``)."""
    status = _JOB_STATUSES.get(str(job.get("status")))
    started = parse_time(job.get("started_at")) or parse_time(job.get("created_at"))
    if status is None or started is None or job.get("id") is None:
        return None
    return {
        "id": f"{repo}/jobs/{job['id']}",
        "source": source,
        "team": team,
        "service": repo.rsplit("/", 1)[-1],
        "repo": repo,
        "environment": environment,
        "status": status,
        "strategy": "unknown",
        "started_at": started,
        "finished_at": parse_time(job.get("finished_at")),
        "commit_sha": (job.get("commit") or {}).get("id"),
        "is_rollback": False,
        "url": job.get("web_url"),
    }


def pipeline_record(
    item: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``CIRun`` event from a pipeline; ``pending`` is set while it runs."""
    started = parse_time(item.get("started_at")) or parse_time(item.get("created_at"))
    if started is None or item.get("id") is None:
        return None
    status = str(item.get("status"))
    conclusion = _PIPELINE_CONCLUSIONS.get(status)
    finished = parse_time(item.get("finished_at")) or parse_time(item.get("updated_at"))
    return {
        "id": f"{repo}/pipelines/{item['id']}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": item.get("name") or "pipeline",
        "branch": item.get("ref"),
        "is_default_branch": False,
        "commit_sha": item.get("sha"),
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": finished if conclusion is not None else None,
        "attempt": 1,
        "pending": conclusion is None,
    }


def change_record(
    mr: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Change`` event from a merged MR (``first_commit_at`` filled later)."""
    merged = parse_time(mr.get("merged_at"))
    if merged is None or mr.get("iid") is None:
        return None
    labels = [label for label in mr.get("labels") or [] if isinstance(label, str)]
    return {
        "id": f"{repo}/merge_requests/{mr['iid']}",
        "source": source,
        "team": team,
        "repo": repo,
        "title": mr.get("title"),
        "first_commit_at": None,
        "merged_at": merged,
        "merge_sha": mr.get("merge_commit_sha") or mr.get("squash_commit_sha") or mr.get("sha"),
        "deployment_id": None,
        "labels": labels,
        "paths": [],
    }


def first_commit_time(commits: list[Any]) -> datetime | None:
    """The earliest ``authored_date`` among an MR's commits."""
    times = [
        parse_time(c.get("authored_date")) or parse_time(c.get("created_at"))
        for c in commits
        if isinstance(c, dict)
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None
