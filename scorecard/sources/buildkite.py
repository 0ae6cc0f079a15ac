"""`kind = "buildkite"`: builds (CI) and deploy pipelines or steps (deployments)
from Buildkite's REST API.

A Buildkite pipeline builds one repository: its ``repository`` URL
(`git@github.com:acme/api.git`) names the repo (`acme/api`), and the team whose
``repos`` list it owns the pipeline's events (``pipeline_repos`` maps a pipeline
whose URL does not give the team's repo name). A pipeline whose repo no team
lists is reported, not read.

Per pipeline of ``pipelines`` in ``organization``:

- the pipeline itself (`GET /v2/organizations/{org}/pipelines/{slug}`): its
  repository and default branch;
- its **builds** on the default branch created since the pipeline's bookmark
  (`created_from`, 100 a page, ``Link: rel="next"`` pages), newest first;
- a finished build is a **CI run**, unless the pipeline matches
  ``deploy_pipelines``: then the build is a production **deployment**;
- jobs of any build whose step name or key matches ``deploy_steps`` are
  deployments too; a deploy named by ``canary_environments`` deploys a canary.

Builds still running are read again at the next sync (a pending bookmark).
Unknown states are counted and named, never guessed. The token is a Bearer API
access token (`read_builds`, `read_pipelines`), sent to the configured host
only; 429 answers with ``RateLimit-*`` headers are waited out through the
shared client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.errors import FatalSourceError, SourceError
from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import Vocabulary
from scorecard.sources.paginate import paginate_link
from scorecard.sources.records import (
    deployment_event,
    glob_match,
    iso,
    json_list,
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
    from scorecard.sources.http import HttpClient
    from scorecard.sources.plan import SourcePlan

__all__ = [
    "BuildkiteOptions",
    "BuildkiteSource",
    "PipelineRef",
    "build_deployment",
    "build_run",
    "repo_from_url",
    "step_deployment",
]

PER_PAGE: Final = 100
RUNNING: Final = "running"
"""Our word for a build or job that has not finished: read again next time."""

BUILD_STATES: Final[Mapping[str, str]] = {
    "passed": "success",
    "failed": "failure",
    "canceled": "cancelled",
    "skipped": "skipped",
    "not_run": "skipped",
    "blocked": "other",
    "creating": RUNNING,
    "scheduled": RUNNING,
    "running": RUNNING,
    "failing": RUNNING,
    "canceling": RUNNING,
}
"""Buildkite build state -> CI conclusion (a `blocked` build waits on a block step)."""

JOB_STATES: Final[Mapping[str, str]] = {
    "passed": "success",
    "failed": "failure",
    "timed_out": "failure",
    "canceled": "cancelled",
    "expired": "cancelled",
    "skipped": "skipped",
    "broken": "skipped",
    "waiting_failed": "skipped",
    "blocked_failed": "skipped",
    "unblocked_failed": "skipped",
    **dict.fromkeys(
        (
            "pending",
            "waiting",
            "blocked",
            "unblocked",
            "limiting",
            "limited",
            "scheduled",
            "assigned",
            "accepted",
            "reserved",
            "running",
            "canceling",
            "timing_out",
        ),
        RUNNING,
    ),
}
"""Buildkite job state -> deployment outcome (skipped: never ran, not a deployment)."""

DEPLOY_STATUSES: Final[Mapping[str, str]] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
    RUNNING: "in_progress",
}
"""A deploy's outcome -> Deployment status; others (skipped, other) deploy nothing."""

_REPO_URL = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?[^:/]+(?::\d+)?[:/](?P<path>.+?)(?:\.git)?/?$")


def repo_from_url(url: Any) -> str | None:
    """The repo a clone URL names: `git@github.com:acme/api.git` -> `acme/api`."""
    if not isinstance(url, str):
        return None
    match = _REPO_URL.match(url.strip())
    path = match.group("path").strip("/") if match else ""
    return path if "/" in path else None


@dataclass(frozen=True)
class BuildkiteOptions(VcsOptions):
    """Options of a `kind = "buildkite"` source."""

    default_api_url: ClassVar[str | None] = "https://api.buildkite.com/v2"

    organization: str = option("", required=True, example='"acme"')
    """The organization's slug."""
    pipelines: tuple[str, ...] = option((), required=True, example='["payments-api"]')
    """The pipeline slugs to read."""
    pipeline_repos: Mapping[str, str] = option(default_factory=dict)
    """Pipeline slug -> the team repo it builds, where its repository URL does not
    give that name."""
    deploy_pipelines: tuple[str, ...] = ()
    """Pipeline slugs (globs, any case) whose default-branch builds are production
    deployments (and not CI runs)."""
    deploy_steps: tuple[str, ...] = ()
    """Step names or keys (globs, any case) whose jobs in default-branch builds are
    production deployments."""
    canary_environments: tuple[str, ...] = DEFAULT_CANARY_ENVIRONMENTS
    """Deploy pipeline or step names (globs, any case) that deploy a canary; a
    production deployment of a commit that went through one first is a canary
    deployment."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """An organization and at least one pipeline are named."""
        if not self.organization.strip():
            yield OptionProblem("organization", "no organization", 'add `organization = "acme"`')
        if not self.pipelines:
            yield OptionProblem("pipelines", "no pipelines", 'add `pipelines = ["api"]`')


# --- parsing (pure) -------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineRef:
    """Where a build comes from, as its events name it."""

    org: str
    pipeline: str
    repo: str
    team: str | None
    source: str

    def build_id(self, build: Mapping[str, Any]) -> str:
        return f"{self.org}/{self.pipeline}/builds/{build['number']}"


def _commit(build: Mapping[str, Any]) -> str | None:
    commit = build.get("commit")
    return commit if isinstance(commit, str) and commit and commit != "HEAD" else None


def build_run(
    build: Mapping[str, Any], ref: PipelineRef, *, conclusion: str
) -> dict[str, Any] | None:
    """A ``CIRun`` from a finished build (None without number or start)."""
    started = parse_time(build.get("started_at")) or parse_time(build.get("created_at"))
    if started is None or build.get("number") is None:
        return None
    return {
        "id": ref.build_id(build),
        "source": ref.source,
        "team": ref.team,
        "repo": ref.repo,
        "workflow": ref.pipeline,
        "branch": build.get("branch"),
        "is_default_branch": True,
        "commit_sha": _commit(build),
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": parse_time(build.get("finished_at")),
        "attempt": 1,
    }


def build_deployment(
    build: Mapping[str, Any], ref: PipelineRef, *, status: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` from a build of a deploy pipeline (``status`` already ours)."""
    started = parse_time(build.get("started_at")) or parse_time(build.get("created_at"))
    if started is None or build.get("number") is None:
        return None
    return deployment_event(
        ref.build_id(build),
        ref.source,
        ref.team,
        ref.repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(build.get("finished_at")) if status != "in_progress" else None,
        commit_sha=_commit(build),
        url=build.get("web_url"),
    )


def step_deployment(
    job: Mapping[str, Any],
    build: Mapping[str, Any],
    ref: PipelineRef,
    *,
    status: str,
    environment: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` from a deploy step's job."""
    started = parse_time(job.get("started_at")) or parse_time(job.get("created_at"))
    if started is None or build.get("number") is None or not job.get("id"):
        return None
    return deployment_event(
        f"{ref.build_id(build)}/jobs/{job['id']}",
        ref.source,
        ref.team,
        ref.repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(job.get("finished_at")) if status != "in_progress" else None,
        commit_sha=_commit(build),
        url=job.get("web_url") or build.get("web_url"),
    )


# --- the source -----------------------------------------------------------------------------


@register
class BuildkiteSource(VcsSource[BuildkiteOptions]):
    """Buildkite builds of each pipeline's default branch, and its deploys."""

    kind = "buildkite"
    Options = BuildkiteOptions
    repo_word: ClassVar[str] = "pipeline"
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True

    def setup(self, config: Config | None) -> None:
        super().setup(config)
        self.owners = dict(repos_of(config))
        # The team follows the pipeline's repository, read at sync time (`owner`).
        self.repos = [(slug, "") for slug in dict.fromkeys(self.options.pipelines)]
        self.repo_of: dict[str, str] = {}
        """Pipeline slug -> the repo it builds (learnt from the pipeline)."""
        self.build_states = Vocabulary("Buildkite build state", BUILD_STATES)
        self.job_states = Vocabulary("Buildkite job state", JOB_STATES)

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        if not token:
            raise FatalSourceError(
                f"source '{self.name}': no Buildkite API token; store one with "
                f"`scorecard auth set {self.name}` or name it with `token_env`"
            )
        return super().origin_headers(token)

    @property
    def org(self) -> str:
        return self.options.organization

    def repo_path(self, repo: str) -> str:
        org, slug = quote(self.org, safe=""), quote(repo, safe="")
        return f"organizations/{org}/pipelines/{slug}"

    def streams(self) -> dict[str, Stream]:
        return {"builds": Stream(self._builds, cursor="created_at")}

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each pipeline reachable with the token."""
        return await self.probe_each([self.repo_path(r) for r, _ in self.repos], "pipelines")

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """What the coming sync of ``ctx``'s range should cost (``sync --plan``)."""
        from scorecard.sources.buildkite_plan import plan

        return await plan(self, ctx)

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        for vocabulary in (self.build_states, self.job_states):
            vocabulary.unknown.clear()
        result = await super().fetch(ctx)
        for vocabulary in (self.build_states, self.job_states):
            for value, n in sorted(vocabulary.unknown.items()):
                result.problems.append(f"unknown {vocabulary.name} {value!r} on {n} (skipped)")
                result.stats.count("unknown_state", n)
        return result

    async def default_branch(self, client: HttpClient, repo: str, old: Mapping[str, Any]) -> str:
        """The pipeline's default branch; learns the repo it builds on the way (a
        pipeline no team owns fails here, so it is reported and not read)."""
        page = await client.get(self.repo_path(repo), conditional=False)
        data = page.data if isinstance(page.data, dict) else {}
        built = self.options.pipeline_repos.get(repo) or repo_from_url(data.get("repository"))
        if built is None or built not in self.owners:
            raise SourceError(
                f"pipeline {repo}: no team lists its repo {built or data.get('repository')!r}; "
                "not read (add it to a team's repos or map it with pipeline_repos)"
            )
        self.repo_of[repo] = built
        branch = data.get("default_branch")
        if isinstance(branch, str) and branch:
            return branch
        return str(old.get("default_branch") or "main")

    def environment(self, name: Any) -> str:
        """Where a deploy named ``name`` goes: itself when it names a canary, else production."""
        if isinstance(name, str) and glob_match(name, self.canary_environments):
            return name
        return self.production[0] if self.production else "production"

    # --- the stream ---------------------------------------------------------------------

    async def _builds(self, job: RepoJob) -> datetime | None:
        params = {
            "branch": job.default_branch,
            "created_from": iso(job.lower),
            "per_page": PER_PAGE,
        }
        path = f"{self.repo_path(job.repo)}/builds"
        pending: list[datetime] = []
        count = 0
        async for page in paginate_link(job.client, path, params, conditional=False):
            for build in json_list(page, job.collected, f"{job.repo} builds") or []:
                count += 1
                if not isinstance(build, dict):
                    job.collected.bad(f"{job.repo} builds", "a build is not an object")
                elif self._add_build(job, build):
                    started = parse_time(build.get("created_at"))
                    if started is not None:
                        pending.append(started)
        job.client.stats.count("builds", count)
        return min(pending) if pending else None

    def _add_build(self, job: RepoJob, build: dict[str, Any]) -> bool:
        """Record one build (and its deploy steps); True while it still runs."""
        state = self.build_states.get(build.get("state"))
        if state is None:
            job.collected.skipped += 1
            return False
        if state == RUNNING:
            return True
        slug, repo = job.repo, self.repo_of[job.repo]
        where = f"{slug} build {build.get('number')}"
        ref = PipelineRef(self.org, slug, repo, self.owners.get(repo), self.name)
        if glob_match(slug, self.options.deploy_pipelines):
            status = DEPLOY_STATUSES.get(state)
            if status is not None:
                record = build_deployment(
                    build, ref, status=status, environment=self.environment(slug)
                )
                self._add_deployment(job, record, build, where)
        else:
            run = build_run(build, ref, conclusion=state)
            if run is None:
                job.collected.bad(where, "unreadable build")
            else:
                job.client.stats.count("ci_runs")
                job.collected.add("ci_runs", run, where)
        if self.options.deploy_steps:
            self._add_steps(job, build, ref)
        return False

    def _add_steps(self, job: RepoJob, build: dict[str, Any], ref: PipelineRef) -> None:
        patterns = self.options.deploy_steps
        for item in build.get("jobs") or []:
            if not isinstance(item, dict) or item.get("type") != "script":
                continue
            names = (item.get("step_key"), item.get("name"))
            name = next((n for n in names if glob_match(n, patterns)), None)
            if name is None:
                continue
            state = self.job_states.get(item.get("state"))
            if state is None:
                job.collected.skipped += 1
                continue
            status = DEPLOY_STATUSES.get(state)
            if status is None:
                continue
            record = step_deployment(
                item, build, ref, status=status, environment=self.environment(name)
            )
            self._add_deployment(job, record, build, f"{job.repo} job {item.get('id')}")

    def _add_deployment(
        self, job: RepoJob, record: dict[str, Any] | None, build: dict[str, Any], where: str
    ) -> None:
        if record is None:
            job.collected.bad(where, "unreadable deploy")
            return
        record["is_rollback"] = matches_any(build.get("message"), self.rollback_patterns)
        job.client.stats.count("deployments")
        job.collected.add("deployments", record, where)
