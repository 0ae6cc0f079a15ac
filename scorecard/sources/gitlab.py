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

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.sources.paginate import paginate_pages
from scorecard.sources.records import (
    change_event,
    deployment_event,
    glob_match,
    json_list,
    matches_any,
    parse_time,
)
from scorecard.sources.registry import register
from scorecard.sources.vcs import RepoJob, Stream, VcsOptions, VcsSource, owned_by

if TYPE_CHECKING:
    from scorecard.sources.http import HttpClient, Page

PER_PAGE: Final = 100

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
    owners: tuple[str, ...] = ()
    """Only the team projects under these groups (or users) are this source's; empty:
    every team repo. Needed when teams also list repos of other systems."""


@register
class GitLabSource(VcsSource[GitLabOptions]):
    """GitLab (cloud or self-hosted) deployments, pipelines and merge requests."""

    kind = "gitlab"
    Options = GitLabOptions
    repo_word: ClassVar[str] = "project"
    change_noun: ClassVar[str] = "merge request"
    change_short: ClassVar[str] = "merge request"
    change_number: ClassVar[str] = "iid"

    def auth(self, token: str) -> Mapping[str, str]:
        return {"PRIVATE-TOKEN": token}

    def reads_repo(self, repo: str) -> bool:
        return owned_by(repo, self.options.owners)

    def repo_path(self, repo: str) -> str:
        return f"projects/{project_id(repo)}"

    def streams(self) -> dict[str, Stream]:
        streams = {
            "deployments": Stream(self._deployments, cursor="updated_at"),
            "pipelines": Stream(self._pipelines, cursor="updated_at"),
            "merge_requests": Stream(self._merge_requests, cursor="updated_at"),
        }
        if self.options.deploy_jobs:
            streams["deploy_jobs"] = Stream(self._deploy_jobs, cursor="created_at")
        return streams

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each project reachable with the token."""
        return await self.probe_each([self.repo_path(r) for r, _ in self.repos], "projects")

    async def _listing(
        self, job: RepoJob, what: str, params: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """The project's ``what`` listing newest first until past its bookmark."""
        path = f"projects/{project_id(job.repo)}/{what}"
        pages = paginate_pages(job.client, path, {**params, "per_page": PER_PAGE})
        async for item in self.newest_first(job, pages, job.repo):
            if not isinstance(item, dict):
                job.collected.bad(job.repo, "not an object")
                continue
            when = parse_time(item.get(job.cursor))
            if when is not None and when < job.lower:
                continue
            yield item

    async def _deployments(self, job: RepoJob) -> None:
        repo, collected = job.repo, job.collected
        count = 0
        params = {"order_by": "updated_at", "sort": "desc"}
        async for item in self._listing(job, "deployments", params):
            count += 1
            env = (item.get("environment") or {}).get("name")
            if not self.relevant_env(env):
                continue
            record = deployment_record(item, repo=repo, team=job.team, source=self.name)
            if record is None:
                collected.bad(f"{repo} deployment {item.get('id')}", "unreadable deployment")
                continue
            deployable = item.get("deployable") or {}
            commit = deployable.get("commit") or {}
            record["is_rollback"] = matches_any(item.get("ref"), self.rollback_patterns) or (
                matches_any(commit.get("title"), self.rollback_patterns)
            )
            collected.add("deployments", record, f"{repo} deployment {item.get('id')}")
        job.client.stats.count("deployments", count)

    async def _deploy_jobs(self, job: RepoJob) -> None:
        repo, collected = job.repo, job.collected
        target = self.production[0] if self.production else "production"
        params = {"scope[]": ["success", "failed", "canceled"]}
        async for item in self._listing(job, "jobs", params):
            if item.get("ref") != job.default_branch or not glob_match(
                item.get("name"), self.options.deploy_jobs
            ):
                continue
            record = job_deployment_record(
                item, repo=repo, team=job.team, source=self.name, environment=target
            )
            if record is None:
                collected.bad(f"{repo} job {item.get('id')}", "unreadable job")
                continue
            commit = item.get("commit") or {}
            record["is_rollback"] = matches_any(commit.get("title"), self.rollback_patterns)
            collected.add("deployments", record, f"{repo} job {item.get('id')}")

    async def _pipelines(self, job: RepoJob) -> None:
        repo, collected = job.repo, job.collected
        count = 0
        params = {"ref": job.default_branch, "order_by": "updated_at", "sort": "desc"}
        async for item in self._listing(job, "pipelines", params):
            count += 1
            record = pipeline_record(item, repo=repo, team=job.team, source=self.name)
            if record is None:
                collected.bad(f"{repo} pipeline {item.get('id')}", "unreadable pipeline")
                continue
            if record.pop("pending"):
                continue  # reappears (newly updated) once it finishes
            record["is_default_branch"] = record["branch"] == job.default_branch
            collected.add("ci_runs", record, f"{repo} pipeline {item.get('id')}")
        job.client.stats.count("ci_runs", count)

    async def _merge_requests(self, job: RepoJob) -> None:
        params = {"state": "merged", "order_by": "updated_at", "sort": "desc"}
        merged = [mr async for mr in self._listing(job, "merge_requests", params)]
        job.client.stats.count("changes", len(merged))
        await self.add_changes(job, merged)

    def change_record(self, item: dict[str, Any], job: RepoJob) -> dict[str, Any] | None:
        return change_record(item, repo=job.repo, team=job.team, source=self.name)

    history_ref: ClassVar[str] = "ref_name"

    def history_pages(
        self, client: HttpClient, repo: str, params: dict[str, Any]
    ) -> AsyncIterator[Page]:
        return paginate_pages(
            client, f"projects/{project_id(repo)}/repository/commits", params, conditional=False
        )

    async def _mr_pages(self, job: RepoJob, iid: Any, what: str) -> list[Any]:
        """Every item of one merge request's ``what`` listing (commits, diffs)."""
        items: list[Any] = []
        where = f"{job.repo} !{iid}" + (" diffs" if what == "diffs" else "")
        async for page in paginate_pages(
            job.client,
            f"projects/{project_id(job.repo)}/merge_requests/{iid}/{what}",
            {"per_page": PER_PAGE},
            conditional=False,
        ):
            items.extend(json_list(page, job.collected, where) or [])
        return items

    async def first_commit(self, job: RepoJob, number: Any) -> datetime | None:
        return first_commit_time(await self._mr_pages(job, number, "commits"))

    async def changed_paths(self, job: RepoJob, number: Any) -> list[str]:
        diffs = await self._mr_pages(job, number, "diffs")
        return [path for diff in diffs if isinstance(diff, dict) for path in _diff_paths(diff)]


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
    return deployment_event(
        f"{repo}/deployments/{item['id']}",
        source,
        team,
        repo,
        environment=(item.get("environment") or {}).get("name"),
        status=status,
        started_at=parse_time(deployable.get("started_at")) or started,
        finished_at=finished,
        commit_sha=item.get("sha") or (deployable.get("commit") or {}).get("id"),
        url=deployable.get("web_url"),
    )


def job_deployment_record(
    job: dict[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deploy job (``deploy_jobs``)."""
    status = _JOB_STATUSES.get(str(job.get("status")))
    started = parse_time(job.get("started_at")) or parse_time(job.get("created_at"))
    if status is None or started is None or job.get("id") is None:
        return None
    ident = f"{repo}/jobs/{job['id']}"
    finished = parse_time(job.get("finished_at"))
    sha = (job.get("commit") or {}).get("id")
    return deployment_event(
        ident,
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=finished,
        commit_sha=sha,
        url=job.get("web_url"),
    )


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
    ident = f"{repo}/merge_requests/{mr['iid']}"
    sha = mr.get("merge_commit_sha") or mr.get("squash_commit_sha") or mr.get("sha")
    return change_event(
        ident,
        source,
        team,
        repo,
        title=mr.get("title"),
        merged_at=merged,
        merge_sha=sha,
        labels=labels,
    )


def first_commit_time(commits: list[Any]) -> datetime | None:
    """The earliest ``authored_date`` among an MR's commits."""
    times = [
        parse_time(c.get("authored_date")) or parse_time(c.get("created_at"))
        for c in commits
        if isinstance(c, dict)
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None
