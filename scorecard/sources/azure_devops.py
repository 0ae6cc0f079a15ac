"""`kind = "azure-devops"`: pipeline runs, deployments and completed pull requests
from Azure DevOps Services (``https://dev.azure.com/ORG``) or Azure DevOps Server
(``https://HOST/tfs/COLLECTION``), REST API 7.1.

Teams list Azure Repos Git repositories as ``project/repo``; a source reads the
repos of its ``projects`` (every ``project/repo`` of the teams when none are
given). Per project:

- **Repositories**: one listing gives each repo's id and default branch.
- **CI runs**: the project's completed builds (``queryOrder=finishTimeDescending``,
  ``$top`` pages, ``x-ms-continuationtoken``) on each repo's default branch; runs
  of ``deploy_pipelines`` are deployments instead.
- **Deployments** of production and canary environments: each environment's
  deployment records (newest first), with the commit and repo of the run that
  made them (runs not seen in the listing are read ``buildIds=`` at a time).
  Pipelines without environments are configured with ``deploy_stages`` (stage or
  job name globs: the run's timeline is read) or ``deploy_pipelines`` (the whole
  run deploys); those become deployments to the first production environment.
- **Changes**: completed pull requests into the default branch closed since the
  bookmark (``searchCriteria.queryTimeRangeType=closed``, ``$top``/``$skip``), with
  the first commit's author date (fetched once per pull request, then cached) and,
  when a change class or CODEOWNERS repo needs them, the paths of the last
  iteration's changes (``$compareTo=0``).

The personal access token goes as HTTP Basic (empty user name) to the configured
host only; every listing is requested conditionally and bookmarked per project
(runs, environments) and per repo (pull requests).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.options import OptionProblem, option
from scorecard.sources.azure_devops_records import (
    PAGE_SIZE,
    BuildRef,
    build_record,
    build_ref,
    change_record,
    deployment_from_json,
    deployments_to_json,
    environment_deployment,
    first_commit_time,
    iteration_paths,
    run_deployment,
    short_branch,
    stage_deployments,
)
from scorecard.sources.delivery import basic_auth, newest_values, page_values
from scorecard.sources.paginate import LoopGuard, paginate_continuation
from scorecard.sources.records import Collected, glob_match, iso, parse_time
from scorecard.sources.registry import register
from scorecard.sources.vcs import (
    RepoJob,
    RepoState,
    Stream,
    VcsOptions,
    VcsRun,
    VcsSource,
    lower_bound,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.plan import SourcePlan

BUILDS_PER_LOOKUP: Final = 50
"""Runs read at once by ``buildIds=`` for deployment records."""


def _finish(item: dict[str, Any]) -> datetime | None:
    return parse_time(item.get("finishTime"))


def _start(item: dict[str, Any]) -> datetime | None:
    return parse_time(item.get("startTime")) or parse_time(item.get("queueTime"))


def split_repo(repo: str) -> tuple[str, str] | None:
    """``project/repo`` -> ``(project, repo)``; None for any other shape."""
    project, _, name = repo.partition("/")
    if not project or not name or "/" in name:
        return None
    return project, name


@dataclass(frozen=True)
class AzureDevOpsOptions(VcsOptions):
    """Options of a `kind = "azure-devops"` source (Azure DevOps Server:
    `api_url = "https://tfs.acme.com/tfs"` and the collection as `organization`)."""

    default_api_url: ClassVar[str | None] = "https://dev.azure.com"

    organization: str = option("", required=True, example='"fabrikam"')
    """The organization (Azure DevOps Services) or collection (Server) in the URL."""
    projects: tuple[str, ...] = ()
    """Projects whose repos this source reads (the teams' `repos` are `project/repo`);
    default: every `project/repo` the teams list. Set it when other sources' repos
    (GitHub `owner/repo`) are listed too."""
    deploy_pipelines: tuple[str, ...] = ()
    """Pipelines (name globs) whose default-branch runs deploy to production: the whole
    run, or with `deploy_stages` its matching stages. Their runs are not CI runs."""
    deploy_stages: tuple[str, ...] = ()
    """Stages (else jobs) of default-branch runs, by name glob, that deploy to production;
    each such run's timeline is read (of `deploy_pipelines` only, when given)."""
    api_version: str = "7.1"
    """The REST API version sent with every request (Azure DevOps Server 2020: `6.0`)."""

    @property
    def base_url(self) -> str | None:
        """``api_url`` (or the cloud's) with the organization appended."""
        root = self.api_url or self.default_api_url
        if not root or not self.organization:
            return root
        return f"{root.rstrip('/')}/{quote(self.organization, safe='')}"

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        if not self.organization.strip():
            yield OptionProblem("organization", "is empty", 'e.g. `organization = "fabrikam"`')


@dataclass
class AzureRepo:
    """A configured repo as its project lists it."""

    repo: str
    """As the team lists it (``project/repo``): the events' ``repo``."""
    team: str | None
    id: str
    default_branch: str


@dataclass
class ProjectRun:
    """One project in one fetch: its repos and every run seen (for deployment records)."""

    run: VcsRun
    project: str
    repos: dict[str, AzureRepo] = field(default_factory=dict)
    """Casefolded repo name -> the repo."""
    builds: dict[int, BuildRef] = field(default_factory=dict)

    def repo_of(self, build: BuildRef | None) -> AzureRepo | None:
        if build is None or build.repo_name is None:
            return None
        return self.repos.get(build.repo_name.casefold())


@register
class AzureDevOpsSource(VcsSource[AzureDevOpsOptions]):
    """Azure DevOps (Services or Server) runs, deployments and pull requests."""

    kind = "azure-devops"
    Options = AzureDevOpsOptions
    change_noun: ClassVar[str] = "pull request"
    change_short: ClassVar[str] = "pull request"
    change_number: ClassVar[str] = "pullRequestId"
    skipped_page_keeps_bookmark: ClassVar[bool] = True

    def setup(self, config: Config | None) -> None:
        super().setup(config)
        self.repo_ids: dict[str, str] = {}
        """Configured repo -> its id, as the project's listing says."""
        wanted = {p.casefold() for p in self.options.projects}
        self.repos = [
            (repo, team)
            for repo, team in self.repos
            if (parts := split_repo(repo)) is not None
            and (not wanted or parts[0].casefold() in wanted)
        ]

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """A personal access token is the password of HTTP Basic with no user name."""
        return basic_auth("", token) if token else ({}, [])

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"api-version": self.options.api_version, **extra}

    def projects(self) -> dict[str, list[tuple[str, str | None]]]:
        """Project -> its configured ``(repo, team)`` pairs, in config order."""
        out: dict[str, list[tuple[str, str | None]]] = {}
        for repo, team in self.repos:
            parts = split_repo(repo)
            if parts is not None:
                out.setdefault(parts[0], []).append((repo, team))
        return out

    @staticmethod
    def project_path(project: str, rest: str) -> str:
        return f"{quote(project, safe='')}/_apis/{rest}"

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each project's repos listed."""
        version = quote(self.options.api_version, safe="")
        paths = [
            self.project_path(p, f"git/repositories?api-version={version}") for p in self.projects()
        ]
        return await self.probe_each(paths, "projects")

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """The coming sync's requests and records, from the first page of each listing."""
        from scorecard.sources.azure_devops_plan import plan

        return await plan(self, ctx)

    # --- the fetch ------------------------------------------------------------------------

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous, state = self.start(ctx, needs_previous=True)
        client = self.client(validators=state.get("http") or {})
        run = VcsRun(client, ctx, previous, Collected(), dict(state.get("repos") or {}))
        project_states: dict[str, Any] = dict(state.get("projects") or {})
        projects = self.projects()
        if not projects:
            run.collected.problem("no team lists a project/repo, so there is nothing to fetch")
        async with client:
            _, failures = await self.gather(
                [
                    self.sync_project(run, p, entries, project_states)
                    for p, entries in projects.items()
                ]
            )
        self.settle(failures, run.collected, client, total=len(projects))
        new_state = {
            "version": self.state_version,
            "projects": {p: project_states[p] for p in projects if p in project_states},
            "repos": {r: run.repo_states[r] for r, _ in self.repos if r in run.repo_states},
            "http": client.validators,
        }
        frames = self.frames(previous, run.collected)
        return self.result(run.collected, client, frames=frames, state=new_state)

    async def sync_project(
        self,
        run: VcsRun,
        project: str,
        entries: Sequence[tuple[str, str | None]],
        states: dict[str, Any],
    ) -> None:
        """The project's runs and environments, then each repo's pull requests; raises
        only when nothing of it could be read."""
        ctx = run.ctx
        ctx.progress(f"{project}: fetching")
        pr = ProjectRun(run, project)
        await self.repositories(pr, entries)
        old = dict(states.get(project) or {}) if not ctx.full else {}
        new = RepoState.resume(ctx, old, pending=False)
        errors: list[Exception] = []
        project_streams = {
            "builds": Stream(functools.partial(self._builds, pr), cursor="finishTime"),
            "environments": Stream(functools.partial(self._environments, pr), cursor="startTime"),
        }
        for stream, spec in project_streams.items():
            job = RepoJob(run, project, None, lower_bound(ctx, old, stream), "", spec.cursor)
            error = await self.sync_stream(job, stream, spec.read, new)
            if error is not None:
                errors.append(error)
        states[project] = new.to_json()
        results = await asyncio.gather(
            *(self.sync_pulls(run, repo) for repo in pr.repos.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
            if result is not None:
                errors.append(result)
        if errors and len(errors) == len(project_streams) + len(pr.repos):
            raise errors[0]

    async def repositories(self, pr: ProjectRun, entries: Sequence[tuple[str, str | None]]) -> None:
        """Each configured repo's id and default branch (one listing per project)."""
        path = self.project_path(pr.project, "git/repositories")
        page = await pr.run.client.get(path, self.params())
        found: dict[str, dict[str, Any]] = {}
        if page.not_modified:  # what was kept with the validators
            found = {str(k): dict(v) for k, v in (page.meta.get("repos") or {}).items()}
        for item in page_values(page, pr.run.collected, pr.project, "value") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("id"):
                found[item["name"].casefold()] = {
                    "id": str(item["id"]),
                    "branch": short_branch(item.get("defaultBranch")) or "main",
                }
        if not page.not_modified:
            pr.run.client.remember(page, repos=found)
        for repo, team in entries:
            name = repo.partition("/")[2]
            info = found.get(name.casefold())
            if info is None:
                pr.run.collected.complete = False
                pr.run.collected.problem(f"{repo}: no such Git repository in {pr.project}")
                continue
            pr.repos[name.casefold()] = AzureRepo(repo, team, info["id"], info["branch"])
            self.repo_ids[repo] = info["id"]

    # --- runs -----------------------------------------------------------------------------

    def deploys_by_run(self, build: BuildRef) -> bool:
        """Whether the build's pipeline is one of ``deploy_pipelines``."""
        return bool(self.options.deploy_pipelines) and glob_match(
            build.definition, self.options.deploy_pipelines
        )

    def reads_timeline(self, build: BuildRef) -> bool:
        """Whether the build's stages may deploy (``deploy_stages``)."""
        if not self.options.deploy_stages:
            return False
        return not self.options.deploy_pipelines or self.deploys_by_run(build)

    async def _builds(self, pr: ProjectRun, job: RepoJob) -> datetime | None:
        path = self.project_path(pr.project, "build/builds")
        params = self.params(
            queryOrder="finishTimeDescending", statusFilter="completed", **{"$top": PAGE_SIZE}
        )
        pages = paginate_continuation(job.client, path, params)
        timelines: list[tuple[BuildRef, AzureRepo]] = []
        count = 0
        async for build in newest_values(job, pages, key="value", when=_finish):
            count += 1
            ref = build_ref(build)
            repo = pr.repo_of(ref)
            if ref is None or repo is None:
                continue  # another repo's run (or not Azure Repos Git)
            pr.builds[ref.id] = ref
            if ref.branch != repo.default_branch:
                continue
            if self.reads_timeline(ref):
                timelines.append((ref, repo))
            if self.deploys_by_run(ref):
                if not self.options.deploy_stages:
                    self.add_run_deployment(job.collected, build, repo)
                continue
            record = build_record(
                build,
                repo=repo.repo,
                team=repo.team,
                source=self.name,
                default_branch=repo.default_branch,
            )
            if record is None:
                job.collected.bad(f"{repo.repo} build {ref.id}", "unreadable build")
                continue
            job.collected.add("ci_runs", record, f"{repo.repo} build {ref.id}")
        job.client.stats.count("ci_runs", count)
        await asyncio.gather(*(self.add_stages(pr, job, ref, repo) for ref, repo in timelines))
        return None

    def add_run_deployment(
        self, collected: Collected, build: dict[str, Any], repo: AzureRepo
    ) -> None:
        record = run_deployment(
            build, repo=repo.repo, team=repo.team, source=self.name, environment=self.target
        )
        where = f"{repo.repo} build {build.get('id')}"
        if record is None:
            collected.bad(where, "unreadable run")
        else:
            collected.add("deployments", record, where)

    @property
    def target(self) -> str:
        """The environment of deployments found in runs (the first production one)."""
        return self.production[0] if self.production else "production"

    async def add_stages(
        self, pr: ProjectRun, job: RepoJob, ref: BuildRef, repo: AzureRepo
    ) -> None:
        """The deployments in one run's timeline (``deploy_stages``)."""
        path = self.project_path(pr.project, f"build/builds/{ref.id}/timeline")
        page = await job.client.get(path, self.params())
        if page.not_modified:
            records = page.meta.get("deployments") or []
        else:
            timeline = page.data if isinstance(page.data, dict) and not page.malformed else None
            if timeline is None:
                job.collected.bad(f"{repo.repo} build {ref.id} timeline", "malformed answer")
                return
            records = stage_deployments(
                timeline,
                ref,
                self.options.deploy_stages,
                repo=repo.repo,
                team=repo.team,
                source=self.name,
                environment=self.target,
            )
            job.client.remember(page, deployments=deployments_to_json(records))
        for record in records:
            job.collected.add(
                "deployments", deployment_from_json(record), f"{repo.repo} build {ref.id}"
            )

    # --- environments ---------------------------------------------------------------------

    async def environments(self, pr: ProjectRun, job: RepoJob) -> list[tuple[int, str]]:
        """``(id, name)`` of the project's production and canary environments."""
        path = self.project_path(pr.project, "distributedtask/environments")
        out: list[tuple[int, str]] = []
        pages = paginate_continuation(job.client, path, self.params(**{"$top": PAGE_SIZE}))
        async for page in pages:
            items = page.meta.get("environments") if page.not_modified else None
            if items is None:
                values = page_values(page, job.collected, f"{pr.project} environments", "value")
                items = [
                    [e["id"], e["name"]]
                    for e in values or []
                    if isinstance(e, dict)
                    and isinstance(e.get("id"), int)
                    and isinstance(e.get("name"), str)
                ]
                job.client.remember(page, environments=items)
            out.extend((int(i), str(n)) for i, n in items if self.relevant_env(n))
        return out

    async def _environments(self, pr: ProjectRun, job: RepoJob) -> datetime | None:
        envs = await self.environments(pr, job)
        found = await asyncio.gather(*(self.env_records(pr, job, env) for env in envs))
        wanted = {r["owner_id"] for records in found for r in records} - set(pr.builds)
        await self.lookup_builds(pr, job, sorted(wanted))
        count = excluded = 0
        for (_, name), records in zip(envs, found):
            for record in records:
                count += 1
                build = pr.builds.get(record["owner_id"])
                repo = pr.repo_of(build)
                if repo is None:
                    excluded += 1  # a run of a repo no team lists
                    continue
                event = environment_deployment(
                    record,
                    build,
                    repo=repo.repo,
                    team=repo.team,
                    source=self.name,
                    environment=name,
                )
                where = f"{repo.repo} deployment record {record.get('id')}"
                if event is None:
                    job.collected.bad(where, "unreadable deployment record")
                else:
                    job.collected.add("deployments", event, where)
        job.client.stats.count("deployments", count)
        if excluded:
            job.client.stats.count("deployments.other_repos", excluded)
        return None

    async def env_records(
        self, pr: ProjectRun, job: RepoJob, env: tuple[int, str]
    ) -> list[dict[str, Any]]:
        """One environment's deployment records from ``job.lower`` on, newest first."""
        path = self.project_path(
            pr.project, f"distributedtask/environments/{env[0]}/environmentdeploymentrecords"
        )
        pages = paginate_continuation(job.client, path, self.params(top=PAGE_SIZE))
        out = []
        async for record in newest_values(job, pages, key="value", when=_start):
            owner = record.get("owner") or {}
            if isinstance(owner, dict) and isinstance(owner.get("id"), int):
                out.append({**record, "owner_id": owner["id"]})
            else:
                job.collected.bad(f"{env[1]} record {record.get('id')}", "no run named")
        return out

    async def lookup_builds(self, pr: ProjectRun, job: RepoJob, ids: Sequence[int]) -> None:
        """Runs named by deployment records but not in the run listing, a batch at a time."""
        path = self.project_path(pr.project, "build/builds")
        for start in range(0, len(ids), BUILDS_PER_LOOKUP):
            batch = ",".join(str(i) for i in ids[start : start + BUILDS_PER_LOOKUP])
            page = await job.client.get(path, self.params(buildIds=batch), conditional=False)
            for build in page_values(page, job.collected, f"{pr.project} runs", "value") or []:
                ref = build_ref(build) if isinstance(build, dict) else None
                if ref is not None:
                    pr.builds[ref.id] = ref

    # --- pull requests --------------------------------------------------------------------

    async def sync_pulls(self, run: VcsRun, repo: AzureRepo) -> Exception | None:
        """One repo's completed pull requests, its bookmark moved on success."""
        ctx = run.ctx
        old = dict(run.repo_states.get(repo.repo) or {}) if not ctx.full else {}
        new = RepoState.resume(ctx, old, pending=False)
        new.default_branch = repo.default_branch
        lower = lower_bound(ctx, old, "pull_requests")
        job = RepoJob(run, repo.repo, repo.team, lower, repo.default_branch, "closedDate")
        read = functools.partial(self._pull_requests, repo)
        error = await self.sync_stream(job, "pull_requests", read, new)
        run.repo_states[repo.repo] = new.to_json()
        return error

    def pulls_path(self, repo: AzureRepo, rest: str = "") -> str:
        project = repo.repo.partition("/")[0]
        return self.project_path(project, f"git/repositories/{repo.id}/pullrequests{rest}")

    async def _pull_requests(self, repo: AzureRepo, job: RepoJob) -> datetime | None:
        params = self.params(
            **{
                "searchCriteria.status": "completed",
                "searchCriteria.targetRefName": f"refs/heads/{repo.default_branch}",
                "searchCriteria.queryTimeRangeType": "closed",
                "searchCriteria.minTime": iso(job.lower),
                "$top": PAGE_SIZE,
            }
        )
        merged = [
            pull
            async for pull in self.skip_pages(job, self.pulls_path(repo), params)
            if (parse_time(pull.get("closedDate")) or job.lower) >= job.lower
        ]
        job.client.stats.count("changes", len(merged))
        await self.add_changes(job, merged)
        return None

    @staticmethod
    async def skip_pages(
        job: RepoJob, path: str, params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a ``$top``/``$skip`` listing (pull requests)."""
        guard = LoopGuard(path)
        skip = 0
        while True:
            query = {**params, "$skip": skip}
            guard.check(f"{path}?$skip={skip}")
            page = await job.client.get(path, query, conditional=False)
            items = page_values(page, job.collected, job.repo, "value") or []
            for item in items:
                if isinstance(item, dict):
                    yield item
            if len(items) < int(params.get("$top", PAGE_SIZE)) or not items:
                return
            skip += len(items)

    def change_record(self, item: dict[str, Any], job: RepoJob) -> dict[str, Any] | None:
        return change_record(item, repo=job.repo, team=job.team, source=self.name)

    async def first_commit(self, job: RepoJob, number: Any) -> datetime | None:
        project, _, name = job.repo.partition("/")
        repo_id = self.repo_ids.get(job.repo) or quote(name, safe="")  # a name works too
        path = self.project_path(
            project, f"git/repositories/{repo_id}/pullRequests/{number}/commits"
        )
        commits: list[Any] = []
        pages = paginate_continuation(
            job.client, path, self.params(**{"$top": PAGE_SIZE}), conditional=False
        )
        async for page in pages:
            commits.extend(page_values(page, job.collected, f"{job.repo} !{number}", "value") or [])
        return first_commit_time(commits)

    async def changed_paths(self, job: RepoJob, number: Any) -> list[str]:
        """The paths of the pull request's last iteration compared with its base."""
        project, _, name = job.repo.partition("/")
        repo_id = self.repo_ids.get(job.repo) or quote(name, safe="")
        base = self.project_path(
            project, f"git/repositories/{repo_id}/pullRequests/{number}/iterations"
        )
        where = f"{job.repo} !{number} iterations"
        page = await job.client.get(base, self.params(), conditional=False)
        ids = [
            i["id"]
            for i in page_values(page, job.collected, where, "value") or []
            if isinstance(i, dict) and isinstance(i.get("id"), int)
        ]
        if not ids:
            return []
        paths: list[str] = []
        guard = LoopGuard(f"{base}/{max(ids)}/changes")
        skip: Any = 0
        while isinstance(skip, int):
            guard.check(str(skip))
            params = self.params(**{"$compareTo": 0, "$top": 2000, "$skip": skip})
            page = await job.client.get(f"{base}/{max(ids)}/changes", params, conditional=False)
            data = page.data if isinstance(page.data, dict) and not page.malformed else {}
            paths.extend(p for p in iteration_paths(data) if p not in paths)
            skip = data.get("nextSkip") or None
        return paths

    def streams(self) -> dict[str, Stream]:
        return {}  # the fetch is per project (see sync_project)

    def repo_path(self, repo: str) -> str:
        parts = split_repo(repo)
        project, name = parts if parts is not None else ("", repo)
        return self.project_path(project, f"git/repositories/{quote(name, safe='')}")
