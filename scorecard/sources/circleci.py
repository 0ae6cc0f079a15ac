"""`kind = "circleci"`: workflows (CI) and deploy workflows or jobs (deployments)
from CircleCI's API v2.

Teams list repos, CircleCI lists projects: a project slug `gh/acme/api` builds
the repo `acme/api` (the slug minus its VCS prefix). Without ``projects`` every
team repo is read as `<vcs>/<repo>`; slugs that do not name their repo (GitHub
App and GitLab projects, `circleci/<org id>/<project id>`) are mapped with
``project_repos``. A project whose repo no team lists is reported, not read.

Per project:

- the **default branch** from `GET /project/{slug}` (`vcs_info.default_branch`);
- its **pipelines** on that branch, newest first (`next_page_token` pages), down
  to the project's bookmark, and each pipeline's **workflows**;
- a workflow is a **CI run** (`created_at` to `stopped_at`), unless its name
  matches ``deploy_workflows``: then it is a production **deployment**;
- with ``deploy_jobs``, each finished workflow's **jobs** are read too (one more
  request per workflow) and jobs matching it are deployments; a deploy whose
  name matches ``canary_environments`` deploys a canary.

Workflows still running are read again at the next sync (a pending bookmark).
Unknown statuses are counted and named, never guessed. The token is a personal
API token sent as ``Circle-Token``, to the configured host only; 429 answers
are waited out through the shared client (``Retry-After``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

from scorecard.errors import FatalSourceError
from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import Vocabulary
from scorecard.sources.paginate import paginate_cursor
from scorecard.sources.records import (
    deployment_event,
    glob_match,
    matches_any,
    parse_time,
)
from scorecard.sources.registry import register
from scorecard.sources.vcs import (
    DEFAULT_CANARY_ENVIRONMENTS,
    RepoJob,
    Stream,
    VcsOptions,
    VcsSource,
    repos_of,
)

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

__all__ = [
    "CircleCIOptions",
    "CircleCISource",
    "job_deployment",
    "slug_repo",
    "workflow_deployment",
    "workflow_run",
]

RUNNING: Final = "running"
"""Our word for a workflow or job that has not finished: read again next time."""

WORKFLOW_STATUSES: Final[Mapping[str, str]] = {
    "success": "success",
    "failed": "failure",
    "error": "failure",
    "canceled": "cancelled",
    "not_run": "skipped",
    "unauthorized": "other",
    "running": RUNNING,
    "failing": RUNNING,
    "on_hold": RUNNING,
}
"""CircleCI workflow status -> CI conclusion (or still running)."""

JOB_STATUSES: Final[Mapping[str, str]] = {
    "success": "success",
    "failed": "failure",
    "infrastructure_fail": "failure",
    "timedout": "failure",
    "terminated-unknown": "failure",
    "canceled": "cancelled",
    "not_run": "skipped",
    "retried": "skipped",
    "unauthorized": "skipped",
    "running": RUNNING,
    "queued": RUNNING,
    "not_running": RUNNING,
    "on_hold": RUNNING,
    "blocked": RUNNING,
}
"""CircleCI job status -> deployment status (skipped: never ran, not a deployment)."""

DEPLOY_STATUSES: Final[Mapping[str, str]] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
    RUNNING: "in_progress",
}
"""A deploy's conclusion -> Deployment status; others (skipped, other) deploy nothing."""

APP_URL: Final = "https://app.circleci.com"


def slug_repo(slug: str) -> str | None:
    """The repo a project slug names: `gh/acme/api` -> `acme/api` (None if malformed)."""
    parts = slug.strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return f"{parts[1]}/{parts[2]}"


@dataclass(frozen=True)
class CircleCIOptions(VcsOptions):
    """Options of a `kind = "circleci"` source (CircleCI cloud; CircleCI server:
    `api_url = "https://circleci.acme.com/api/v2"`)."""

    default_api_url: ClassVar[str | None] = "https://circleci.com/api/v2"

    projects: tuple[str, ...] = ()
    """Project slugs to read (`gh/acme/api`, `bb/acme/api`,
    `circleci/<org id>/<project id>`); default: every team repo as `<vcs>/<repo>`."""
    vcs: Literal["gh", "bb"] = "gh"
    """The VCS prefix of the default project slugs: `gh` (GitHub) or `bb` (Bitbucket)."""
    project_repos: Mapping[str, str] = option(default_factory=dict)
    """Project slug -> the team repo it builds, for slugs that do not name it
    (`"circleci/<org id>/<project id>" = "acme/api"`)."""
    deploy_workflows: tuple[str, ...] = ()
    """Workflow names (globs, any case) whose default-branch runs are production
    deployments (and not CI runs)."""
    deploy_jobs: tuple[str, ...] = ()
    """Job names (globs, any case) whose default-branch runs are production
    deployments; reading jobs costs one more request per workflow."""
    canary_environments: tuple[str, ...] = DEFAULT_CANARY_ENVIRONMENTS
    """Deploy workflow or job names (globs, any case) that deploy a canary; a
    production deployment of a commit that went through one first is a canary
    deployment."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """Every slug has three parts; `circleci/...` slugs are mapped to a repo."""
        for key, slugs in (("projects", self.projects), ("project_repos", self.project_repos)):
            for slug in slugs:
                if slug_repo(slug) is None:
                    yield OptionProblem(
                        key, f"`{slug}` is not a project slug", "write it as `gh/<org>/<repo>`"
                    )
                elif (
                    key == "projects"
                    and slug.startswith("circleci/")
                    and slug not in self.project_repos
                ):
                    yield OptionProblem(
                        key,
                        f"`{slug}` does not name its repo",
                        f'map it: `[project_repos] "{slug}" = "<org>/<repo>"`',
                    )


# --- parsing (pure) -------------------------------------------------------------------------


def _vcs(pipeline: Mapping[str, Any]) -> Mapping[str, Any]:
    vcs = pipeline.get("vcs")
    return vcs if isinstance(vcs, dict) else {}


def commit_subject(pipeline: Mapping[str, Any]) -> str | None:
    """The subject of the pipeline's commit message, when CircleCI knows it."""
    commit = _vcs(pipeline).get("commit")
    subject = commit.get("subject") if isinstance(commit, dict) else None
    return subject if isinstance(subject, str) else None


def workflow_url(pipeline: Mapping[str, Any], workflow: Mapping[str, Any]) -> str:
    """The workflow's page in the CircleCI app."""
    slug = pipeline.get("project_slug") or workflow.get("project_slug")
    number = pipeline.get("number") or workflow.get("pipeline_number")
    return f"{APP_URL}/pipelines/{slug}/{number}/workflows/{workflow.get('id')}"


def workflow_run(
    workflow: Mapping[str, Any],
    pipeline: Mapping[str, Any],
    *,
    conclusion: str,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``CIRun`` from a finished default-branch workflow (None without id or start)."""
    started = parse_time(workflow.get("created_at"))
    if started is None or not workflow.get("id"):
        return None
    return {
        "id": f"{repo}/workflows/{workflow['id']}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": workflow.get("name") or "workflow",
        "branch": _vcs(pipeline).get("branch"),
        "is_default_branch": True,
        "commit_sha": _vcs(pipeline).get("revision"),
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": parse_time(workflow.get("stopped_at")),
        "attempt": 1,
    }


def workflow_deployment(
    workflow: Mapping[str, Any],
    pipeline: Mapping[str, Any],
    *,
    status: str,
    environment: str,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` from a deploy workflow (``status`` already ours)."""
    started = parse_time(workflow.get("created_at"))
    if started is None or not workflow.get("id"):
        return None
    return deployment_event(
        f"{repo}/workflows/{workflow['id']}",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(workflow.get("stopped_at")) if status != "in_progress" else None,
        commit_sha=_vcs(pipeline).get("revision"),
        url=workflow_url(pipeline, workflow),
    )


def job_deployment(
    job: Mapping[str, Any],
    pipeline: Mapping[str, Any],
    workflow: Mapping[str, Any],
    *,
    status: str,
    environment: str,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` from a deploy job (numbered within its project)."""
    started = parse_time(job.get("started_at")) or parse_time(workflow.get("created_at"))
    number = job.get("job_number")
    if started is None or number is None:
        return None
    return deployment_event(
        f"{repo}/jobs/{number}",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(job.get("stopped_at")) if status != "in_progress" else None,
        commit_sha=_vcs(pipeline).get("revision"),
        url=f"{workflow_url(pipeline, workflow)}/jobs/{number}",
    )


# --- the source -----------------------------------------------------------------------------


@register
class CircleCISource(VcsSource[CircleCIOptions]):
    """CircleCI workflows on each project's default branch, and its deploys."""

    kind = "circleci"
    Options = CircleCIOptions
    repo_word: ClassVar[str] = "project"
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True

    def setup(self, config: Config | None) -> None:
        super().setup(config)
        owners = dict(repos_of(config))
        slugs = self.options.projects or tuple(f"{self.options.vcs}/{r}" for r in owners)
        self.slug_of: dict[str, str] = {}
        """Repo -> the project slug that builds it."""
        self.unowned: list[str] = []
        for slug in slugs:
            repo = self.options.project_repos.get(slug) or slug_repo(slug)
            if repo in owners:
                self.slug_of.setdefault(repo, slug)
            else:
                self.unowned.append(f"project {slug}: no team lists repo {repo}; not read")
        self.repos = [(repo, owners[repo]) for repo in self.slug_of]
        self.workflow_statuses = Vocabulary("CircleCI workflow status", WORKFLOW_STATUSES)
        self.job_statuses = Vocabulary("CircleCI job status", JOB_STATUSES)

    def auth(self, token: str) -> Mapping[str, str]:
        return {"Circle-Token": token}

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        if not token:
            raise FatalSourceError(
                f"source '{self.name}': no CircleCI token; store a personal API token with "
                f"`scorecard auth set {self.name}` or name it with `token_env`"
            )
        return super().origin_headers(token)

    def repo_path(self, repo: str) -> str:
        return f"project/{self.slug_of[repo]}"

    def streams(self) -> dict[str, Stream]:
        return {"pipelines": Stream(self._pipelines, cursor="created_at")}

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each project reachable with the token."""
        return await self.probe_each([self.repo_path(r) for r, _ in self.repos], "projects")

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """What the coming sync of ``ctx``'s range should cost (``sync --plan``)."""
        from scorecard.sources.circleci_plan import plan

        return await plan(self, ctx)

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        for vocabulary in (self.workflow_statuses, self.job_statuses):
            vocabulary.unknown.clear()
        result = await super().fetch(ctx)
        result.problems[:0] = self.unowned
        for vocabulary in (self.workflow_statuses, self.job_statuses):
            for value, n in sorted(vocabulary.unknown.items()):
                result.problems.append(f"unknown {vocabulary.name} {value!r} on {n} (skipped)")
                result.stats.count("unknown_status", n)
        return result

    async def default_branch(self, client: HttpClient, repo: str, old: Mapping[str, Any]) -> str:
        """The project's `vcs_info.default_branch` (remembered with its validators)."""
        page = await client.get(self.repo_path(repo))
        branch = page.meta.get("default_branch") if page.not_modified else None
        if isinstance(page.data, dict) and isinstance(page.data.get("vcs_info"), dict):
            branch = page.data["vcs_info"].get("default_branch")
            if isinstance(branch, str):
                client.remember(page, default_branch=branch)
        if not isinstance(branch, str) or not branch:
            branch = old.get("default_branch") or "main"
        return str(branch)

    def environment(self, name: Any) -> str:
        """Where a deploy named ``name`` goes: itself when it names a canary, else production."""
        if isinstance(name, str) and glob_match(name, self.canary_environments):
            return name
        return self.production[0] if self.production else "production"

    # --- listings -----------------------------------------------------------------------

    def pages(
        self, client: HttpClient, path: str, params: Mapping[str, Any]
    ) -> AsyncIterator[Page]:
        """A CircleCI listing: `items` pages chained by `next_page_token`."""
        return paginate_cursor(
            client, path, params, cursor_path=("next_page_token",), cursor_param="page-token"
        )

    async def every_item(self, job: RepoJob, path: str, where: str) -> list[dict[str, Any]]:
        """All items of a (short) listing, such as a pipeline's workflows."""
        out: list[dict[str, Any]] = []
        async for page in self.pages(job.client, path, {}):
            items = page_items(page, job, where)
            if items is None:
                break
            out.extend(items)
        return out

    async def recent_pipelines(self, job: RepoJob) -> AsyncIterator[dict[str, Any]]:
        """The project's default-branch pipelines created since the bookmark, newest first."""
        path = f"{self.repo_path(job.repo)}/pipeline"
        async for page in self.pages(job.client, path, {"branch": job.default_branch}):
            items = page_items(page, job, f"{job.repo} pipelines")
            if items is None:
                return
            created = [parse_time(p.get("created_at")) for p in items]
            for pipeline, at in zip(items, created):
                if at is None:
                    job.collected.bad(f"{job.repo} pipeline {pipeline.get('id')}", "no created_at")
                elif at >= job.lower:
                    yield pipeline
            known = [at for at in created if at is not None]
            if known and min(known) < job.lower:
                return

    # --- streams ------------------------------------------------------------------------

    async def _pipelines(self, job: RepoJob) -> datetime | None:
        pipelines = [p async for p in self.recent_pipelines(job)]
        job.client.stats.count("pipelines", len(pipelines))
        pending = await asyncio.gather(*(self._workflows(job, p) for p in pipelines))
        running = [at for at in pending if at is not None]
        return min(running) if running else None

    async def _workflows(self, job: RepoJob, pipeline: dict[str, Any]) -> datetime | None:
        """Each workflow of one pipeline as a CI run or a deployment; the pipeline's
        creation time while one of them still runs."""
        where = f"{job.repo} pipeline {pipeline.get('number')}"
        workflows = await self.every_item(job, f"pipeline/{pipeline.get('id')}/workflow", where)
        running = False
        for workflow in workflows:
            status = self.workflow_statuses.get(workflow.get("status"))
            if status is None:
                job.collected.skipped += 1
            elif status == RUNNING:
                running = True
            else:
                self._add_workflow(job, pipeline, workflow, status)
                if self.options.deploy_jobs:
                    await self._deploy_jobs(job, pipeline, workflow)
        return parse_time(pipeline.get("created_at")) if running else None

    def _add_workflow(
        self, job: RepoJob, pipeline: dict[str, Any], workflow: dict[str, Any], status: str
    ) -> None:
        where = f"{job.repo} workflow {workflow.get('id')}"
        name = workflow.get("name")
        if not glob_match(name, self.options.deploy_workflows):
            run = workflow_run(
                workflow,
                pipeline,
                conclusion=status,
                repo=job.repo,
                team=job.team,
                source=self.name,
            )
            if run is None:
                job.collected.bad(where, "unreadable workflow")
            else:
                job.client.stats.count("ci_runs")
                job.collected.add("ci_runs", run, where)
            return
        deploy_status = DEPLOY_STATUSES.get(status)
        if deploy_status is None:
            return  # not run: nothing was deployed
        record = workflow_deployment(
            workflow,
            pipeline,
            status=deploy_status,
            environment=self.environment(name),
            repo=job.repo,
            team=job.team,
            source=self.name,
        )
        self._add_deployment(job, record, pipeline, where)

    async def _deploy_jobs(
        self, job: RepoJob, pipeline: dict[str, Any], workflow: dict[str, Any]
    ) -> None:
        where = f"{job.repo} workflow {workflow.get('id')} jobs"
        for item in await self.every_item(job, f"workflow/{workflow.get('id')}/job", where):
            name = item.get("name")
            if item.get("type") == "approval" or not glob_match(name, self.options.deploy_jobs):
                continue
            status = self.job_statuses.get(item.get("status"))
            deploy_status = DEPLOY_STATUSES.get(status or "")
            if status is None:
                job.collected.skipped += 1
            if deploy_status is None:
                continue
            record = job_deployment(
                item,
                pipeline,
                workflow,
                status=deploy_status,
                environment=self.environment(name),
                repo=job.repo,
                team=job.team,
                source=self.name,
            )
            self._add_deployment(job, record, pipeline, f"{job.repo} job {item.get('job_number')}")

    def _add_deployment(
        self, job: RepoJob, record: dict[str, Any] | None, pipeline: dict[str, Any], where: str
    ) -> None:
        if record is None:
            job.collected.bad(where, "unreadable deploy")
            return
        record["is_rollback"] = matches_any(commit_subject(pipeline), self.rollback_patterns)
        job.client.stats.count("deployments")
        job.collected.add("deployments", record, where)


def page_items(page: Page, job: RepoJob, where: str) -> list[dict[str, Any]] | None:
    """The objects under a page's `items` (others counted); None when the answer is
    malformed (counted, and the listing stops)."""
    data = page.data if isinstance(page.data, dict) else None
    items = data.get("items") if data is not None else None
    if page.malformed or not isinstance(items, list):
        job.collected.bad(where, "malformed answer")
        return None
    objects = [i for i in items if isinstance(i, dict)]
    for _ in range(len(items) - len(objects)):
        job.collected.bad(where, "an item is not an object")
    return objects
