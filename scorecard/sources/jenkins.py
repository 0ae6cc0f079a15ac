"""`kind = "jenkins"`: builds of configured Jenkins jobs, as CI runs or deployments.

Jenkins knows jobs, not repos, and a job can build anything: ``jobs`` maps each
job's full name (folders included, `payments/api/main`) to the team repo it
builds, and the team listing that repo owns its builds. A job whose repo no
team lists is reported, not read. For a multibranch pipeline, list the job of
the default branch (`payments/api/main`): every build of a listed job counts as
a default-branch build.

Per job, the builds come from the JSON API with a ``tree`` that names only the
fields read and a ``{from,to}`` range, 100 builds a request, newest first, down
to the job's bookmark (``allBuilds``, so jobs with more than 100 kept builds
are read in full on the first sync). A build's outcome is its ``result``
(`SUCCESS`, `FAILURE`, `UNSTABLE` counts as a failure, `ABORTED`,
`NOT_BUILT`); builds still ``building`` are read again at the next sync.
Builds of jobs matching ``deploy_jobs`` are production deployments (a deploy
job named by ``canary_environments`` deploys a canary); the others are CI runs.
The commit is the git plugin's ``lastBuiltRevision``. Unknown results are
counted and named, never guessed.

Auth is HTTP Basic with ``user`` and an API token (anonymous without either),
sent to the configured host only; 5xx answers (a restarting controller) are
retried through the shared client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.errors import FatalSourceError
from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import Vocabulary
from scorecard.sources.paginate import LoopGuard
from scorecard.sources.records import deployment_event, glob_match, matches_any
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
    "JenkinsOptions",
    "JenkinsSource",
    "build_deployment",
    "build_run",
    "builds_tree",
    "job_path",
]

PAGE: Final = 100
RUNNING: Final = "running"
"""Our word for a build that has not finished: read again next time."""

RESULTS: Final[Mapping[str, str]] = {
    "SUCCESS": "success",
    "FAILURE": "failure",
    "UNSTABLE": "failure",
    "ABORTED": "cancelled",
    "NOT_BUILT": "skipped",
}
"""Jenkins build ``result`` -> CI conclusion (UNSTABLE: tests failed)."""

DEPLOY_STATUSES: Final[Mapping[str, str]] = {
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
    RUNNING: "in_progress",
}
"""A deploy build's outcome -> Deployment status; NOT_BUILT deploys nothing."""

BUILD_FIELDS: Final = (
    "number,url,result,building,timestamp,duration,displayName,description,"
    "actions[lastBuiltRevision[SHA1]]"
)


def builds_tree(start: int, end: int) -> str:
    """The ``tree`` of one range of a job's builds: only the fields read."""
    return f"allBuilds[{BUILD_FIELDS}]{{{start},{end}}}"


def job_path(name: str) -> str:
    """A job's path under the controller: `a/b` -> `job/a/job/b`."""
    return "/".join(f"job/{quote(part, safe='')}" for part in name.strip("/").split("/"))


@dataclass(frozen=True)
class JenkinsOptions(VcsOptions):
    """Options of a `kind = "jenkins"` source (`api_url` is the controller's URL)."""

    user: str | None = None
    """The Jenkins user the API token belongs to (HTTP Basic); anonymous without it."""
    jobs: Mapping[str, str] = option(
        default_factory=dict, required=True, example='{ "payments/api/main" = "acme/payments-api" }'
    )
    """Job full name (folders with `/`) -> the team repo it builds."""
    deploy_jobs: tuple[str, ...] = ()
    """Job full names (globs, any case) whose builds are production deployments (and
    not CI runs)."""
    canary_environments: tuple[str, ...] = DEFAULT_CANARY_ENVIRONMENTS
    """Deploy job names (globs, any case) that deploy a canary; a production
    deployment of a commit that went through one first is a canary deployment."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        """The controller's URL and at least one job are written."""
        if self.api_url is None:
            yield OptionProblem(
                "api_url",
                "a Jenkins source needs `api_url`",
                'add `api_url = "https://ci.acme.com"`',
            )
        if not self.jobs:
            yield OptionProblem(
                "jobs", "no jobs", 'add `[sources.NAME.jobs]` `"api/main" = "acme/api"`'
            )


# --- parsing (pure) -------------------------------------------------------------------------


def _times(build: Mapping[str, Any]) -> tuple[datetime, datetime | None] | None:
    """When the build started and, once it is done, finished (epoch milliseconds)."""
    start, duration = build.get("timestamp"), build.get("duration")
    if not isinstance(start, int) or isinstance(start, bool) or start <= 0:
        return None
    started = datetime.fromtimestamp(start / 1000, tz=timezone.utc)
    if build.get("building") or not isinstance(duration, int) or duration < 0:
        return started, None
    return started, started + timedelta(milliseconds=duration)


def commit_sha(build: Mapping[str, Any]) -> str | None:
    """The git plugin's last built revision, when the build has one."""
    for action in build.get("actions") or []:
        revision = action.get("lastBuiltRevision") if isinstance(action, dict) else None
        sha = revision.get("SHA1") if isinstance(revision, dict) else None
        if isinstance(sha, str) and sha:
            return sha
    return None


def build_run(
    build: Mapping[str, Any],
    *,
    conclusion: str,
    job: str,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``CIRun`` from a finished build (None without number or start)."""
    times = _times(build)
    if times is None or build.get("number") is None:
        return None
    return {
        "id": f"{job}/builds/{build['number']}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": job,
        "branch": None,
        "is_default_branch": True,
        "commit_sha": commit_sha(build),
        "conclusion": conclusion,
        "started_at": times[0],
        "finished_at": times[1],
        "attempt": 1,
    }


def build_deployment(
    build: Mapping[str, Any],
    *,
    status: str,
    environment: str,
    job: str,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` from a build of a deploy job (``status`` already ours)."""
    times = _times(build)
    if times is None or build.get("number") is None:
        return None
    return deployment_event(
        f"{job}/builds/{build['number']}",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=times[0],
        finished_at=times[1] if status != "in_progress" else None,
        commit_sha=commit_sha(build),
        url=build.get("url"),
    )


# --- the source -----------------------------------------------------------------------------


@register
class JenkinsSource(VcsSource[JenkinsOptions]):
    """Builds of the configured Jenkins jobs."""

    kind = "jenkins"
    Options = JenkinsOptions
    repo_word: ClassVar[str] = "job"
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True

    def setup(self, config: Config | None) -> None:
        super().setup(config)
        owners = dict(repos_of(config))
        self.repo_of = {job.strip("/"): repo for job, repo in self.options.jobs.items()}
        self.unowned = [
            f"job {job}: no team lists repo {repo}; not read"
            for job, repo in self.repo_of.items()
            if repo not in owners
        ]
        self.repos = [(job, owners[repo]) for job, repo in self.repo_of.items() if repo in owners]
        self.results = Vocabulary("Jenkins build result", RESULTS, case_sensitive=True)

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """HTTP Basic with ``user`` and the token; anonymous with neither."""
        import base64

        user = self.options.user
        if not token and not user:
            return {}, []
        if not token or not user:
            missing = "an API token" if user else "`user` (whose API token it is)"
            raise FatalSourceError(f"source '{self.name}': Jenkins needs {missing} as well")
        pair = base64.b64encode(f"{user}:{token}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}, [token, pair]

    def repo_path(self, repo: str) -> str:
        return job_path(repo)

    def streams(self) -> dict[str, Stream]:
        return {"builds": Stream(self._builds, cursor="timestamp")}

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each job reachable."""
        paths = [f"{job_path(job)}/api/json?tree=fullName" for job, _ in self.repos]
        return await self.probe_each(paths, "jobs")

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """What the coming sync of ``ctx``'s range should cost (``sync --plan``)."""
        from scorecard.sources.jenkins_plan import plan

        return await plan(self, ctx)

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        self.results.unknown.clear()
        result = await super().fetch(ctx)
        result.problems[:0] = self.unowned
        for value, n in sorted(self.results.unknown.items()):
            result.problems.append(f"unknown {self.results.name} {value!r} on {n} (skipped)")
            result.stats.count("unknown_result", n)
        return result

    async def default_branch(self, client: HttpClient, repo: str, old: Mapping[str, Any]) -> str:
        """Jobs build one branch each: nothing to ask."""
        return str(old.get("default_branch") or "")

    def environment(self, name: str) -> str:
        """Where a deploy job goes: itself when it names a canary, else production."""
        if glob_match(name, self.canary_environments):
            return name
        return self.production[0] if self.production else "production"

    # --- the stream ---------------------------------------------------------------------

    async def recent_builds(self, job: RepoJob) -> AsyncIterator[dict[str, Any]]:
        """The job's builds newest first, a ``{from,to}`` range a request, down to the
        bookmark."""
        path = f"{job_path(job.repo)}/api/json"
        guard = LoopGuard(path)
        start = 0
        while True:
            query = {"tree": builds_tree(start, start + PAGE)}
            guard.check(f"{path}?{query['tree']}")
            page = await job.client.get(path, query, conditional=False)
            data = page.data if isinstance(page.data, dict) else None
            builds = data.get("allBuilds") if data is not None else None
            if page.malformed or not isinstance(builds, list):
                job.collected.bad(f"{job.repo} builds {start}", "malformed answer")
                return
            oldest: datetime | None = None
            for build in builds:
                times = _times(build) if isinstance(build, dict) else None
                if times is None:
                    job.collected.bad(f"{job.repo} builds", "a build without a start")
                    continue
                oldest = times[0] if oldest is None else min(oldest, times[0])
                if times[0] >= job.lower:
                    yield build
            if len(builds) < PAGE or (oldest is not None and oldest < job.lower):
                return
            start += PAGE

    async def _builds(self, job: RepoJob) -> datetime | None:
        pending: list[datetime] = []
        count = 0
        async for build in self.recent_builds(job):
            count += 1
            if self._add_build(job, build):
                times = _times(build)
                if times is not None:
                    pending.append(times[0])
        job.client.stats.count("builds", count)
        return min(pending) if pending else None

    def _add_build(self, job: RepoJob, build: dict[str, Any]) -> bool:
        """Record one build; True while it still runs."""
        if build.get("building") or build.get("result") is None:
            return True
        outcome = self.results.get(build.get("result"))
        if outcome is None:
            job.collected.skipped += 1
            return False
        name, repo = job.repo, self.repo_of[job.repo]
        where = f"{name} build {build.get('number')}"
        if not glob_match(name, self.options.deploy_jobs):
            run = build_run(
                build, conclusion=outcome, job=name, repo=repo, team=job.team, source=self.name
            )
            if run is None:
                job.collected.bad(where, "unreadable build")
                return False
            job.client.stats.count("ci_runs")
            job.collected.add("ci_runs", run, where)
            return False
        status = DEPLOY_STATUSES.get(outcome)
        if status is None:
            return False  # not built: nothing was deployed
        record = build_deployment(
            build,
            status=status,
            environment=self.environment(name),
            job=name,
            repo=repo,
            team=job.team,
            source=self.name,
        )
        if record is None:
            job.collected.bad(where, "unreadable build")
            return False
        texts = (build.get("displayName"), build.get("description"))
        record["is_rollback"] = any(matches_any(t, self.rollback_patterns) for t in texts)
        job.client.stats.count("deployments")
        job.collected.add("deployments", record, where)
        return False
