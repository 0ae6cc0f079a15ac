"""`kind = "bitbucket"`: pipelines, deployments and merged pull requests from
Bitbucket Cloud (REST API 2.0, ``https://api.bitbucket.org/2.0``).

Teams list repos as ``workspace/repo-slug``; a source reads those of its
``workspace``. Per repo (its main branch from ``mainbranch``):

- **Deployments** of the repo's environments of type Production (and canary
  environments by name): ``/deployments/?environment={uuid}&sort=-state.started_on``
  newest first; the state decides the outcome (``COMPLETED`` with status
  ``SUCCESSFUL`` / ``FAILED`` / ``STOPPED``, ``IN_PROGRESS``; ``UNDEPLOYED`` is left
  out), the commit is the release's.
- **CI runs**: pipelines on the main branch (``sort=-created_on``), start
  ``created_on``, finish ``completed_on``; running ones are read again until done.
- **Changes**: merged pull requests (``state=MERGED``, ``sort=-updated_on``) with the
  first commit's date (fetched once per pull request, then cached). Bitbucket
  gives no merge time: ``updated_on`` of a merged pull request stands for it.

Every listing pages with the ``next`` URL in its body. An app password (or API
token) goes as HTTP Basic with ``username``; a repository, project or workspace
access token as a bearer token; either only to the configured host.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from scorecard.options import OptionProblem, option
from scorecard.sources.bitbucket_plan import (
    PAGE_LEN,
    PULLS_PAGE_LEN,
    created_on,
    plan,
    started_on,
    updated_on,
)
from scorecard.sources.delivery import basic_auth, newest_values, page_values
from scorecard.sources.paginate import paginate_body_next
from scorecard.sources.records import (
    change_event,
    deployment_event,
    glob_match,
    matches_any,
    parse_time,
)
from scorecard.sources.registry import register
from scorecard.sources.vcs import RepoJob, Stream, VcsOptions, VcsSource

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

DEPLOY_STATUSES: Final[Mapping[str, str]] = {
    "SUCCESSFUL": "success",
    "FAILED": "failure",
    "STOPPED": "cancelled",
}
PIPELINE_RESULTS: Final[Mapping[str, str]] = {
    "SUCCESSFUL": "success",
    "FAILED": "failure",
    "ERROR": "failure",
    "STOPPED": "cancelled",
    "EXPIRED": "other",
}


@dataclass(frozen=True)
class BitbucketOptions(VcsOptions):
    """Options of a `kind = "bitbucket"` source (Bitbucket Cloud)."""

    default_api_url: ClassVar[str | None] = "https://api.bitbucket.org/2.0"

    workspace: str = option("", required=True, example='"acme"')
    """The workspace (its ID, as in `bitbucket.org/acme/`); the teams' repos of this
    source are `acme/repo-slug`."""
    username: str | None = None
    """With an app password (or Atlassian API token) as the token: the Bitbucket
    username (API token: the account's email) it belongs to. Leave it out for a
    repository, project or workspace access token (sent as a bearer token)."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        if not self.workspace.strip() or "/" in self.workspace:
            yield OptionProblem("workspace", "must name one workspace", 'e.g. `workspace = "acme"`')


@dataclass(frozen=True)
class Environment:
    uuid: str
    name: str
    """The name deployments get (a Production environment's is a production name)."""


@register
class BitbucketSource(VcsSource[BitbucketOptions]):
    """Bitbucket Cloud deployments, pipelines and pull requests."""

    kind = "bitbucket"
    Options = BitbucketOptions
    keeps_pending: ClassVar[bool] = True
    skipped_page_keeps_bookmark: ClassVar[bool] = True
    change_noun: ClassVar[str] = "pull request"
    change_short: ClassVar[str] = "pull request"
    change_number: ClassVar[str] = "id"

    def setup(self, config: Config | None) -> None:
        super().setup(config)
        workspace = self.options.workspace.casefold()
        self.repos = [(r, t) for r, t in self.repos if r.casefold().split("/")[0] == workspace]
        self.repos = [(r, t) for r, t in self.repos if r.count("/") == 1]

    def origin_headers(self, token: str | None) -> tuple[dict[str, str], list[str]]:
        """An app password (or API token) with ``username`` as Basic, else a bearer token."""
        if not token:
            return {}, []
        if self.options.username:
            return basic_auth(self.options.username, token)
        return {"Authorization": f"Bearer {token}"}, [token]

    def repo_path(self, repo: str) -> str:
        workspace, _, slug = repo.partition("/")
        return f"repositories/{quote(workspace, safe='')}/{quote(slug, safe='')}"

    def streams(self) -> dict[str, Stream]:
        return {
            "deployments": Stream(self._deployments, cursor="started_on"),
            "pipelines": Stream(self._pipelines, cursor="created_on"),
            "pull_requests": Stream(self._pull_requests, cursor="updated_on"),
        }

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo reachable with the token."""
        return await self.probe_each([self.repo_path(r) for r, _ in self.repos], "repos")

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """The coming sync's requests and records, from the first page of each listing."""
        return await plan(self, ctx)

    async def default_branch(self, client: HttpClient, repo: str, old: Mapping[str, Any]) -> str:
        """The repo's main branch (``mainbranch.name``; remembered with its validators)."""
        page = await client.get(self.repo_path(repo))
        if page.not_modified:
            branch = page.meta.get("default_branch")
        else:
            data = page.data if isinstance(page.data, dict) else {}
            branch = (data.get("mainbranch") or {}).get("name")
            if isinstance(branch, str):
                client.remember(page, default_branch=branch)
        if not isinstance(branch, str) or not branch:
            branch = old.get("default_branch") or "main"
        return str(branch)

    def listing(self, job: RepoJob, what: str, params: Mapping[str, Any]) -> AsyncIterator[Page]:
        return paginate_body_next(job.client, f"{self.repo_path(job.repo)}/{what}", params)

    # --- deployments ----------------------------------------------------------------------

    def environment_of(self, item: Mapping[str, Any]) -> Environment | None:
        """A production or canary environment, named as its deployments will be."""
        name, uuid = item.get("name"), item.get("uuid")
        if not isinstance(name, str) or not isinstance(uuid, str):
            return None
        if glob_match(name, self.canary_environments):
            return Environment(uuid, name)
        kind = (item.get("environment_type") or {}).get("name")
        production = {p.casefold() for p in self.production}
        if name.casefold() in production:
            return Environment(uuid, name)
        if kind == "Production":
            return Environment(uuid, self.production[0] if self.production else "production")
        return None

    async def environments(self, job: RepoJob) -> list[Environment]:
        out = []
        pages = self.listing(job, "environments/", {"pagelen": PAGE_LEN})
        async for page in pages:
            for item in (
                page_values(page, job.collected, f"{job.repo} environments", "values") or []
            ):
                env = self.environment_of(item) if isinstance(item, dict) else None
                if env is not None:
                    out.append(env)
        return out

    async def _deployments(self, job: RepoJob) -> datetime | None:
        envs = await self.environments(job)
        pending = await asyncio.gather(*(self.env_deployments(job, env) for env in envs))
        known = [p for p in pending if p is not None]
        return min(known) if known else None

    async def env_deployments(self, job: RepoJob, env: Environment) -> datetime | None:
        """One environment's deployments newest first; the start of the oldest running."""
        params = {"environment": env.uuid, "sort": "-state.started_on", "pagelen": PAGE_LEN}
        oldest_running: datetime | None = None
        count = 0
        async for item in newest_values(
            job, self.listing(job, "deployments/", params), key="values", when=started_on
        ):
            if (item.get("environment") or {}).get("uuid") not in (None, env.uuid):
                continue  # another environment's (should the filter be ignored)
            count += 1
            where = f"{job.repo} deployment {item.get('number') or item.get('uuid')}"
            record = deployment_record(
                item, repo=job.repo, team=job.team, source=self.name, environment=env.name
            )
            if record is None:
                if (item.get("state") or {}).get("name") != "UNDEPLOYED":
                    job.collected.bad(where, "unreadable deployment")
                continue
            release = item.get("release") or {}
            record["is_rollback"] = matches_any(release.get("name"), self.rollback_patterns)
            if record["status"] == "in_progress":
                start = record["started_at"]
                oldest_running = start if oldest_running is None else min(oldest_running, start)
            job.collected.add("deployments", record, where)
        job.client.stats.count("deployments", count)
        return oldest_running

    # --- pipelines ------------------------------------------------------------------------

    async def _pipelines(self, job: RepoJob) -> datetime | None:
        params = {"sort": "-created_on", "pagelen": PAGE_LEN, "target.branch": job.default_branch}
        oldest_running: datetime | None = None
        count = 0
        async for item in newest_values(
            job, self.listing(job, "pipelines/", params), key="values", when=created_on
        ):
            target = item.get("target") or {}
            if target.get("ref_name") != job.default_branch:
                continue  # another branch's, a tag's or a pull request's
            count += 1
            where = f"{job.repo} pipeline {item.get('build_number')}"
            record = pipeline_record(item, repo=job.repo, team=job.team, source=self.name)
            if record is None:
                job.collected.bad(where, "unreadable pipeline")
                continue
            if record.pop("pending"):
                start = record["started_at"]
                oldest_running = start if oldest_running is None else min(oldest_running, start)
                continue
            record["is_default_branch"] = True
            job.collected.add("ci_runs", record, where)
        job.client.stats.count("ci_runs", count)
        return oldest_running

    # --- pull requests --------------------------------------------------------------------

    async def _pull_requests(self, job: RepoJob) -> datetime | None:
        params = {"state": "MERGED", "sort": "-updated_on", "pagelen": PULLS_PAGE_LEN}
        merged = [
            pull
            async for pull in newest_values(
                job, self.listing(job, "pullrequests", params), key="values", when=updated_on
            )
        ]
        job.client.stats.count("changes", len(merged))
        await self.add_changes(job, merged)
        return None

    def change_record(self, item: dict[str, Any], job: RepoJob) -> dict[str, Any] | None:
        return change_record(item, repo=job.repo, team=job.team, source=self.name)

    async def pull_items(self, job: RepoJob, number: Any, what: str) -> list[Any]:
        """Every item of one pull request's ``what`` listing (commits, diffstat)."""
        items: list[Any] = []
        pages = self.listing(job, f"pullrequests/{number}/{what}", {"pagelen": PAGE_LEN})
        async for page in pages:
            items.extend(page_values(page, job.collected, f"{job.repo} #{number}", "values") or [])
        return items

    async def first_commit(self, job: RepoJob, number: Any) -> datetime | None:
        return first_commit_time(await self.pull_items(job, number, "commits"))

    async def changed_paths(self, job: RepoJob, number: Any) -> list[str]:
        paths: list[str] = []
        for entry in await self.pull_items(job, number, "diffstat"):
            for side in ("new", "old"):
                path = ((entry or {}).get(side) or {}).get("path")
                if isinstance(path, str) and path not in paths:
                    paths.append(path)
        return paths


# --- parsing (pure) -------------------------------------------------------------------------


def deployment_record(
    item: Mapping[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` from a Bitbucket deployment; None when unreadable or undeployed."""
    state = item.get("state") or {}
    name = state.get("name")
    if name == "COMPLETED":
        status = DEPLOY_STATUSES.get(str((state.get("status") or {}).get("name")))
    else:
        status = "in_progress" if name == "IN_PROGRESS" else None
    started = parse_time(state.get("started_on"))
    ident = item.get("uuid")
    if status is None or started is None or not isinstance(ident, str):
        return None
    release = item.get("release") or {}
    deployable = item.get("deployable") or {}
    commit = release.get("commit") or deployable.get("commit") or {}
    return deployment_event(
        f"{repo}/deployments/{ident.strip('{}')}",
        source,
        team,
        repo,
        environment=environment,
        status=status,
        started_at=started,
        finished_at=parse_time(state.get("completed_on")) if status != "in_progress" else None,
        commit_sha=commit.get("hash"),
        url=state.get("url") or release.get("url") or deployable.get("url"),
    )


def pipeline_record(
    item: Mapping[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``CIRun`` from a pipeline; ``pending`` is set while it has not completed."""
    number = item.get("build_number")
    started = parse_time(item.get("created_on"))
    if number is None or started is None:
        return None
    state = item.get("state") or {}
    done = state.get("name") == "COMPLETED"
    conclusion = PIPELINE_RESULTS.get(str((state.get("result") or {}).get("name")))
    if done and conclusion is None:
        return None
    target = item.get("target") or {}
    selector = target.get("selector") or {}
    return {
        "id": f"{repo}/pipelines/{number}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": selector.get("pattern") or selector.get("type") or "pipeline",
        "branch": target.get("ref_name"),
        "is_default_branch": False,
        "commit_sha": (target.get("commit") or {}).get("hash"),
        "conclusion": conclusion,
        "started_at": started,
        "finished_at": parse_time(item.get("completed_on")) if done else None,
        "attempt": item.get("run_number") if isinstance(item.get("run_number"), int) else 1,
        "pending": not done,
    }


def change_record(
    pull: Mapping[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Change`` from a merged pull request (``first_commit_at`` filled later)."""
    merged = parse_time(pull.get("closed_on")) or parse_time(pull.get("updated_on"))
    if merged is None or pull.get("id") is None or pull.get("state") not in (None, "MERGED"):
        return None
    merge = pull.get("merge_commit") or {}
    return change_event(
        f"{repo}/pullrequests/{pull['id']}",
        source,
        team,
        repo,
        title=pull.get("title"),
        merged_at=merged,
        merge_sha=merge.get("hash") if isinstance(merge, dict) else None,
        labels=[],
    )


def first_commit_time(commits: Sequence[Any]) -> datetime | None:
    """The earliest ``date`` among a pull request's commits."""
    times = [parse_time(c.get("date")) for c in commits if isinstance(c, dict)]
    known = [t for t in times if t is not None]
    return min(known) if known else None
