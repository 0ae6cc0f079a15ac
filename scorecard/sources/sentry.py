"""`kind = "sentry"`: releases deployed to production as deployments, and (opt-in)
new issues after a release as incidents linked to its deployment, from Sentry's API.

Errors that start right after a release are often the first sign of a failed
change, well before anyone declares an incident.

- **Releases**: ``GET /api/0/projects/{org}/{project}/releases/`` per project,
  newest first, paged with Sentry's ``Link`` cursors (``rel="next"`` with
  ``results="false"`` on the last page). Releases created before the history
  start are not read; of the others, those whose ``lastDeploy`` finished
  before the sync's lower bound are not read again.
- **Deployments**: ``GET /api/0/organizations/{org}/releases/{version}/deploys/``,
  kept when the environment is one of ``environments`` (default: the config's
  ``production_environments``); others are left out (counted). The service is
  the project's slug, the team from ``team_map``; the commit is the release's
  ``lastCommit`` (with its repository) when Sentry knows it. Sentry records
  only deploys that happened, so each is a success.
- **Issues as incidents** (``issue_incidents = true``): for each production
  deploy, ``GET /api/0/projects/{org}/{project}/issues/`` with
  ``firstRelease:"<version>"`` and the levels from ``issue_level`` up, in that
  environment. An issue first seen within ``issue_window_hours`` after the
  deploy finished is an incident whose ``deployment_id`` is that deploy
  (explicit, not the time rule). Level ``fatal`` -> ``sev2``, ``error`` ->
  ``sev3``, ``warning`` -> ``sev4``, ``info``/``debug`` -> ``sev5``
  (``severity_map`` overrides). ``unresolved`` is open, ``resolved`` resolved
  at ``lastSeen`` (the list carries no resolution time), ``ignored`` left out.

Incremental: later syncs re-read from the last sync (minus a day and the issue
window). Auth is a Bearer token (an internal integration or auth token with
``project:read`` and ``org:read``); self-hosted Sentry is another ``api_url``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal
from urllib.parse import quote

from scorecard.options import OptionProblem, option
from scorecard.sources.incidents import (
    STATUS_WORDS,
    IncidentOptions,
    IncidentSource,
    Vocabulary,
    incident_range,
    mapping_problems,
)
from scorecard.sources.paginate import paginate_link
from scorecard.sources.records import Collected, json_list, parse_time
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page

PER_PAGE: int = 100
LEVELS: Final = ("debug", "info", "warning", "error", "fatal")
LEVEL_SEVERITIES: Final = {
    "fatal": "sev2",
    "error": "sev3",
    "warning": "sev4",
    "info": "sev5",
    "debug": "sev5",
}
ISSUE_STATUSES: Final = {"unresolved": "open", "resolved": "resolved", "ignored": "excluded"}
Level = Literal["debug", "info", "warning", "error", "fatal"]


@dataclass(frozen=True)
class SentryOptions(IncidentOptions):
    """Options of a `kind = "sentry"` source."""

    default_api_url: ClassVar[str | None] = "https://sentry.io"

    organization: str = option("", required=True, example='"acme"')
    """The organization's slug."""
    projects: tuple[str, ...] = option(default_factory=tuple, required=True, example='["api"]')
    """The project slugs to read."""
    environments: tuple[str, ...] = ()
    """The environments whose deploys count (default: the config's
    `production_environments`)."""
    team_map: Mapping[str, str] = option(default_factory=dict)
    """Project slug -> scorecard team (default: by the teams' `services`)."""
    issue_incidents: bool = False
    """Count new issues after a production deploy as incidents linked to it."""
    issue_level: Level = "error"
    """The lowest issue level counted (`fatal`, `error`, `warning`, `info`, `debug`)."""
    issue_window_hours: float = option(24.0, low=0, low_exclusive=True)
    """How long after a deploy a new issue of its release is still an incident."""
    status_map: Mapping[str, str] = option(default_factory=dict)
    """Issue status -> `open`, `resolved` or `excluded`, over the built-in table."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        yield from mapping_problems("team_map", self.team_map, team_names, "team")
        yield from mapping_problems("status_map", self.status_map, STATUS_WORDS, "status")


def has_more(page: Page) -> bool:
    """Whether Sentry's ``Link`` header says the next cursor has results."""
    for part in (page.headers.get("link") or "").split(","):
        if 'rel="next"' in part:
            return 'results="true"' in part
    return False


async def sentry_pages(
    client: HttpClient, path: str, params: Mapping[str, Any] | None = None
) -> AsyncIterator[Page]:
    """Every page of a Sentry listing: ``Link`` cursors until ``results="false"``."""
    async for page in paginate_link(client, path, params, conditional=False):
        yield page
        if not has_more(page):
            return


@dataclass(frozen=True)
class Deploy:
    """A production deploy read in this sync (what its issues are linked to)."""

    ident: str
    project: str
    version: str
    environment: str
    finished: datetime


@register
class SentrySource(IncidentSource[SentryOptions]):
    """Sentry release deploys (and, opt-in, the new issues after them)."""

    kind = "sentry"
    Options = SentryOptions

    def setup(self, config: Config | None) -> None:
        envs = self.options.environments or (
            config.production_environments if config is not None else ("production",)
        )
        self.environments = {e.casefold() for e in envs}
        self.team_map = {k.casefold(): v for k, v in self.options.team_map.items()}
        self.levels = Vocabulary("Sentry level", {**LEVEL_SEVERITIES, **self.options.severity_map})
        self.statuses = Vocabulary(
            "Sentry issue status", {**ISSUE_STATUSES, **self.options.status_map}
        )
        self.window = timedelta(hours=self.options.issue_window_hours)

    def vocabularies(self) -> tuple[Vocabulary, ...]:
        return (self.statuses, self.levels)

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each project's releases answer."""
        paths = [self.project_path(p, "releases/") for p in self.options.projects]
        return await self.probe_each(paths, "projects")

    def project_path(self, project: str, rest: str) -> str:
        org = quote(self.options.organization, safe="")
        return f"api/0/projects/{org}/{quote(project, safe='')}/{rest}"

    def org_path(self, rest: str) -> str:
        return f"api/0/organizations/{quote(self.options.organization, safe='')}/{rest}"

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        """Deploys (and issues) from the incremental lower bound on, merged into the cache."""
        from scorecard import model

        previous, state = self.start(ctx)
        cached = previous.get("incidents")
        if cached is None and any(len(f) for f in previous.values()):
            cached = model.empty_frame("incidents")
        lower = incident_range(ctx, state, {"incidents": cached} if cached is not None else {})
        client = self.client()
        collected = Collected()
        async with client:
            await self.guarded(self.read(client, ctx, lower, collected), collected)
        client.stats.count("deployments", len(collected.records.get("deployments", [])))
        return self.incident_result(ctx, state, collected, previous, client)

    async def read(
        self, client: HttpClient, ctx: FetchContext, lower: datetime, collected: Collected
    ) -> None:
        start = max(ctx.since, lower - self.window) if self.options.issue_incidents else lower
        for project in self.options.projects:
            deploys = await self.project_deploys(client, ctx, project, start, collected)
            if self.options.issue_incidents:
                for deploy in deploys:
                    await self.issues(client, ctx, deploy, collected)

    # --- releases and deploys -------------------------------------------------------------

    async def project_deploys(
        self,
        client: HttpClient,
        ctx: FetchContext,
        project: str,
        lower: datetime,
        collected: Collected,
    ) -> list[Deploy]:
        """The project's production deploys finished from ``lower`` on."""
        out: list[Deploy] = []
        path = self.project_path(project, "releases/")
        pages = 0
        async for page in sentry_pages(client, path, {"per_page": PER_PAGE}):
            pages += 1
            ctx.progress(f"{project}: releases page {pages}")
            releases = json_list(page, collected, f"{project} releases page {pages}")
            if releases is None:
                collected.complete = False
                return out
            older = False
            for release in releases:
                if not isinstance(release, dict):
                    continue
                created = parse_time(release.get("dateCreated"))
                older = older or (created is not None and created < ctx.since)
                if self.deployed_since(release, lower):
                    out += await self.release_deploys(client, project, release, lower, collected)
            if older:
                break
        return out

    @staticmethod
    def deployed_since(release: Mapping[str, Any], lower: datetime) -> bool:
        """Whether the release's last deploy finished from ``lower`` on."""
        last = release.get("lastDeploy")
        finished = parse_time(last.get("dateFinished")) if isinstance(last, dict) else None
        return finished is not None and finished >= lower

    async def release_deploys(
        self,
        client: HttpClient,
        project: str,
        release: Mapping[str, Any],
        lower: datetime,
        collected: Collected,
    ) -> list[Deploy]:
        """The release's production deploys from ``lower`` on, kept as deployments."""
        version = str(release.get("version") or "")
        path = self.org_path(f"releases/{quote(version, safe='')}/deploys/")
        out: list[Deploy] = []
        async for page in sentry_pages(client, path):
            for item in json_list(page, collected, f"{project} {version} deploys") or []:
                deploy = self.deploy(item, project, release, collected)
                if deploy is not None and deploy.finished >= lower:
                    out.append(deploy)
        return out

    def deploy(
        self, item: Any, project: str, release: Mapping[str, Any], collected: Collected
    ) -> Deploy | None:
        """One deploy kept as a deployment (None when skipped or not production)."""
        version = str(release.get("version") or "")
        where = f"{project} {version} deploy"
        if not isinstance(item, dict) or not item.get("id"):
            collected.bad(where, "not a deploy object")
            return None
        env = item.get("environment")
        if not isinstance(env, str) or env.casefold() not in self.environments:
            collected.excluded += 1
            return None
        finished = parse_time(item.get("dateFinished"))
        if finished is None:
            collected.bad(f"{where} {item['id']}", "missing dateFinished")
            return None
        started = parse_time(item.get("dateStarted")) or finished
        ident = f"sentry/{self.options.organization}/{project}/deploys/{item['id']}"
        raw_commit = release.get("lastCommit")
        commit: Mapping[str, Any] = raw_commit if isinstance(raw_commit, dict) else {}
        raw_repo = commit.get("repository")
        repo = raw_repo.get("name") if isinstance(raw_repo, dict) else None
        record = {
            "id": ident,
            "source": self.name,
            "team": self.team_map.get(project.casefold()),
            "service": project,
            "repo": repo if isinstance(repo, str) else None,
            "environment": env,
            "status": "success",
            "strategy": "unknown",
            "started_at": min(started, finished),
            "finished_at": finished,
            "commit_sha": commit.get("id") if isinstance(commit.get("id"), str) else None,
            "is_rollback": False,
            "url": item.get("url") if isinstance(item.get("url"), str) else None,
        }
        collected.add("deployments", record, where)
        return Deploy(ident, project, version, env, finished)

    # --- issues ---------------------------------------------------------------------------

    def issue_query(self, deploy: Deploy) -> str:
        """The issue search for new issues of the deploy's release and environment."""
        levels = ",".join(LEVELS[LEVELS.index(self.options.issue_level) :])
        version = deploy.version.replace('"', '\\"')
        return f'firstRelease:"{version}" environment:"{deploy.environment}" level:[{levels}]'

    async def issues(
        self, client: HttpClient, ctx: FetchContext, deploy: Deploy, collected: Collected
    ) -> None:
        """The new issues after ``deploy``, as incidents linked to it."""
        ctx.progress(f"{deploy.project}: issues of {deploy.version}")
        path = self.project_path(deploy.project, "issues/")
        params = {"query": self.issue_query(deploy), "limit": PER_PAGE, "statsPeriod": ""}
        async for page in sentry_pages(client, path, params):
            for item in json_list(page, collected, f"{deploy.project} issues") or []:
                where = f"issue {item.get('shortId') if isinstance(item, dict) else '?'}"
                record = self.issue_record(item, deploy) if isinstance(item, dict) else "bad"
                if record is None:
                    collected.excluded += 1
                elif isinstance(record, str):
                    collected.bad(where, record)
                else:
                    collected.add("incidents", record, where)

    def issue_record(self, item: Mapping[str, Any], deploy: Deploy) -> dict[str, Any] | str | None:
        """An incident from a new issue of ``deploy``'s release; None when left out
        (ignored, or first seen outside the window after the deploy)."""
        if not item.get("id"):
            return "missing id"
        status = self.statuses.get(item.get("status"))
        if status is None:
            return f"unknown status {item.get('status')!r}"
        first = parse_time(item.get("firstSeen"))
        if first is None:
            return "missing or bad firstSeen"
        if status == "excluded" or not deploy.finished <= first <= deploy.finished + self.window:
            return None
        severity = self.levels.get(item.get("level"))
        if severity is None:
            return f"unknown level {item.get('level')!r}"
        resolved = None
        if status == "resolved":
            resolved = max(parse_time(item.get("lastSeen")) or first, first)
        title = item.get("title")
        link = item.get("permalink")
        return {
            "id": f"sentry/{self.options.organization}/issues/{item.get('id')}",
            "source": self.name,
            "team": self.team_map.get(deploy.project.casefold()),
            "service": deploy.project,
            "title": title if isinstance(title, str) else None,
            "severity": severity,
            "created_at": first,
            "started_at": first,
            "resolved_at": resolved,
            "deployment_id": deploy.ident,
            "url": link if isinstance(link, str) else None,
        }
