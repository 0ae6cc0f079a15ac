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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scorecard.sources.base import (
    DEFAULT_CANARY_ENVIRONMENTS,
    Collected,
    FatalSourceError,
    FetchContext,
    HttpClient,
    Page,
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
    paginate_link,
    parse_time,
    register,
)
from scorecard.sources.vcs import VcsOptions

if TYPE_CHECKING:
    import re

    import pandas as pd

    from scorecard.config import Config, SourceConfig

PER_PAGE: Final = 100
RESULT_CAP: Final = 1000
"""GitHub's search-backed listings (workflow runs with filters) stop at 1,000 results."""
OVERLAP: Final = timedelta(days=1)
"""Incremental syncs re-read this much before the bookmark (late statuses, clock skew)."""
RECHECK_PENDING: Final = timedelta(days=7)
"""Deployments still in progress are re-checked for this long after they started."""
STATE_VERSION: Final = 1

_RUN_CONCLUSIONS: Final = {
    "success": "success",
    "failure": "failure",
    "timed_out": "failure",
    "startup_failure": "failure",
    "cancelled": "cancelled",
    "skipped": "skipped",
}
_DEPLOY_STATES: Final = {
    "success": "success",
    "failure": "failure",
    "error": "failure",
    "in_progress": "in_progress",
    "queued": "in_progress",
    "pending": "in_progress",
}


@dataclass
class _Repo:
    """One repo's sync: where it starts and what it learned."""

    repo: str
    team: str | None
    lower: datetime
    """Fetch events from here on (bookmark minus overlap, or the history start)."""
    default_branch: str | None = None
    old_pending: datetime | None = None
    saw_unchanged: bool = False


def repos_of(config: Config | None) -> list[tuple[str, str]]:
    """``(repo, team)`` for every repo of every team, first owner wins."""
    out: dict[str, str] = {}
    for team in config.teams if config is not None else ():
        for repo in team.repos:
            out.setdefault(repo, team.name)
    return list(out.items())


def lower_bound(ctx: FetchContext, repo_state: dict[str, Any], stream: str) -> datetime:
    """Where a stream of one repo starts: its bookmark minus the overlap, or ``ctx.since``."""
    if ctx.full:
        return ctx.since
    history_from = parse_time(repo_state.get("history_from"))
    bookmark = parse_time((repo_state.get("bookmarks") or {}).get(stream))
    if bookmark is None or history_from is None or history_from > ctx.since:
        return ctx.since  # never synced, or asked for older history than we have
    pending = parse_time((repo_state.get("pending") or {}).get(stream))
    lower = bookmark - OVERLAP
    if pending is not None:
        lower = min(lower, pending)
    return max(lower, ctx.since)


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
class GitHubSource:
    """GitHub (cloud or Enterprise Server) deployments, Actions runs and pull requests."""

    kind = "github"
    Options = GitHubOptions

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
        self.deploy_workflows: list[str] = list(options.get("deploy_workflows") or [])
        self.canary_environments: list[str] = list(
            options.get("canary_environments") or DEFAULT_CANARY_ENVIRONMENTS
        )
        self.rollback_patterns: list[re.Pattern[str]] = compile_patterns(
            options.get("rollback_patterns")
        )
        self.fetch_paths = config is not None and any(c.paths for c in config.change_classes)
        """Only a change class matching on path globs needs each PR's files."""
        self.transport: Any = None
        """An httpx transport to use instead of the network (tests)."""

    # --- the fetch ----------------------------------------------------------------------

    async def probe(self) -> str:
        """A light check for `scorecard config check`: each repo reachable with the token."""
        client = api_client(
            self.cfg,
            lambda t: {"Authorization": f"Bearer {t}"},
            headers=GITHUB_HEADERS,
            transport=self.transport,
        )
        async with client:
            for repo, _team in self.repos:
                await client.get(f"repos/{repo}", conditional=False)
        detail = f"{len(self.repos)} repos reachable"
        if client.stats.rate_limit_remaining is not None:
            detail += f", rate limit {client.stats.rate_limit_remaining:,} left"
        return detail

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous = {} if ctx.full else ctx.load_previous()
        state = {} if ctx.full else dict(ctx.state)
        if state.get("version") != STATE_VERSION or not any(len(f) for f in previous.values()):
            state = {}  # no usable bookmarks (or no cached data to merge into): start over
        repo_states: dict[str, Any] = dict(state.get("repos") or {})
        client = api_client(
            self.cfg,
            lambda t: {"Authorization": f"Bearer {t}"},
            headers=GITHUB_HEADERS,
            validators=state.get("http") or {},
            transport=self.transport,
        )
        collected = Collected()
        if not self.repos:
            collected.problem("no team lists a repo, so there is nothing to fetch")
        async with client:
            results = await asyncio.gather(
                *(
                    self._sync_repo(client, ctx, repo, team, repo_states, previous, collected)
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
            raise broken[0]  # nothing worked at all: a failure, not partial data
        for failure in broken:
            collected.complete = False
            collected.problem(str(failure))
        if client.exhausted is not None:
            collected.complete = False
            collected.problem(client.exhausted)
        ctx.progress(
            f"{client.stats.requests:,} requests, {client.stats.not_modified:,} not modified"
        )
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

    async def _sync_repo(
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
            "history_from": iso(
                ctx.since if history_from is None else min(history_from, ctx.since)
            ),
            "bookmarks": dict(old.get("bookmarks") or {}),
            "pending": dict(old.get("pending") or {}),
        }
        ctx.progress(f"{repo}: fetching")
        page = await client.get(f"repos/{repo}")
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
            "runs": self._runs,
            "pulls": self._pulls,
        }
        outcome: list[BaseException] = []
        for stream, fetch in streams.items():
            info = _Repo(
                repo=repo,
                team=team,
                lower=lower_bound(ctx, old, stream),
                default_branch=branch,
                old_pending=parse_time(new["pending"].get(stream)),
            )
            malformed_before = client.stats.malformed
            try:
                pending = await fetch(client, ctx, info, previous, collected)
            except RateLimitExhausted:
                raise
            except FatalSourceError:
                raise
            except (PaginationLoop, SourceError) as exc:
                collected.complete = False
                collected.problem(f"{repo} {stream}: {exc}")
                outcome.append(exc)
                continue
            if client.stats.malformed > malformed_before:
                # A skipped page may hold events: keep the old bookmark so the next
                # sync reads this range again.
                collected.complete = False
                collected.problem(f"{repo} {stream}: a malformed page was skipped")
                continue
            new["bookmarks"][stream] = iso(ctx.until)
            if pending is not None:
                new["pending"][stream] = iso(pending)
            else:
                new["pending"].pop(stream, None)
        repo_states[repo] = new
        if len(outcome) == len(streams):
            raise outcome[0]

    # --- deployments ----------------------------------------------------------------------

    async def _deployments(
        self,
        client: HttpClient,
        ctx: FetchContext,
        info: _Repo,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> datetime | None:
        repo = info.repo
        known = _previous_deployments(previous, self.name, repo)
        wanted: dict[str, dict[str, Any]] = {}
        count = 0
        async for page in paginate_link(
            client, f"repos/{repo}/deployments", {"per_page": PER_PAGE}
        ):
            if _stop_at(page, info.lower):
                break
            items = _list(page, collected, f"{repo} deployments")
            if items is None:
                continue
            oldest = _note_oldest(client, page, items, "created_at")
            for item in items:
                count += 1
                created = parse_time(item.get("created_at")) if isinstance(item, dict) else None
                if created is None or created < info.lower:
                    if created is None:
                        collected.bad(f"{repo} deployment", "missing created_at")
                    continue
                env = item.get("environment")
                if not self._relevant_env(env):
                    continue
                ident = f"{repo}/deployments/{item.get('id')}"
                old = known.get(ident)
                if old is not None and old.get("status") != "in_progress":
                    continue  # already final: its statuses cannot change its outcome
                wanted[ident] = item
            if oldest is not None and oldest < info.lower:
                break
        # Deployments still running last time: look again, even if the list did not change.
        recheck_after = ctx.until - RECHECK_PENDING
        for ident, old in known.items():
            if ident in wanted or old.get("status") != "in_progress":
                continue
            started = old.get("started_at")
            if started is None or started < recheck_after:
                continue
            wanted[ident] = {
                "id": ident.rsplit("/", 1)[-1],
                "environment": old.get("environment"),
                "sha": old.get("commit_sha"),
                "created_at": iso(started),
                "url": old.get("url"),
                "_rollback": bool(old.get("is_rollback")),
                "_recheck": True,
            }
        client.stats.count("deployments", count)
        results = await asyncio.gather(
            *(
                self._deployment(client, info, ident, item, collected)
                for ident, item in wanted.items()
            )
        )
        still_running = [when for when in results if when is not None]
        return min(still_running) if still_running else None

    def _relevant_env(self, env: Any) -> bool:
        if not isinstance(env, str) or not env:
            return False
        prod = {p.casefold() for p in self.production}
        return env.casefold() in prod or glob_match(env, self.canary_environments)

    async def _deployment(
        self,
        client: HttpClient,
        info: _Repo,
        ident: str,
        item: dict[str, Any],
        collected: Collected,
    ) -> datetime | None:
        """Fetch one deployment's statuses and record it; returns its start if still running."""
        repo = info.repo
        page = await client.get(
            f"repos/{repo}/deployments/{item.get('id')}/statuses",
            {"per_page": PER_PAGE},
            conditional=True,  # kept for deployments still running: rechecked next sync
        )
        if page.not_modified:
            return parse_time(item.get("created_at"))  # unchanged: still in progress
        statuses = _list(page, collected, f"{repo} deployment {item.get('id')} statuses") or []
        record = deployment_record(item, statuses, repo=repo, team=info.team, source=self.name)
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
        if not self.deploy_workflows:
            return False
        path = str(run.get("path") or "").split("@", 1)[0]
        names = [run.get("name"), path, path.rsplit("/", 1)[-1]]
        return any(glob_match(n, self.deploy_workflows) for n in names if isinstance(n, str))

    # --- workflow runs ----------------------------------------------------------------------

    async def _runs(
        self,
        client: HttpClient,
        ctx: FetchContext,
        info: _Repo,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> datetime | None:
        pending: datetime | None = None
        count = 0
        target = self.production[0] if self.production else "production"
        async for run in self._iter_runs(client, info, collected):
            count += 1
            if self._is_deploy_workflow(run):
                # A deploy workflow's default-branch runs are deployments, not CI.
                if run.get("head_branch") != info.default_branch:
                    continue
                deploy = workflow_deployment_record(
                    run, repo=info.repo, team=info.team, source=self.name, environment=target
                )
                if deploy is None:
                    collected.bad(f"{info.repo} run {run.get('id')}", "unreadable workflow run")
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
                collected.add("deployments", deploy, f"{info.repo} run {run.get('id')}")
                continue
            record = run_record(run, repo=info.repo, team=info.team, source=self.name)
            if record is None:
                collected.bad(f"{info.repo} run {run.get('id')}", "unreadable workflow run")
                continue
            if record.get("pending"):
                started = record["started_at"]
                pending = started if pending is None else min(pending, started)
                continue
            record["is_default_branch"] = record["branch"] == info.default_branch
            collected.add("ci_runs", record, f"{info.repo} run {run.get('id')}")
        client.stats.count("ci_runs", count)
        if info.saw_unchanged and info.old_pending is not None:
            # Runs pending on an unchanged page are still pending.
            pending = info.old_pending if pending is None else min(pending, info.old_pending)
        return pending

    async def _iter_runs(
        self, client: HttpClient, info: _Repo, collected: Collected
    ) -> AsyncIterator[dict[str, Any]]:
        """Default-branch runs created since ``info.lower``, each once, cap-safe.

        Newest first through the plain listing (stable URLs, so later syncs get
        304s); when that reaches the 1,000-result cap, the rest of the range is
        fetched by ``created`` ranges split until none holds more than 1,000.
        """
        what = "workflow runs"
        runs: list[dict[str, Any]] = []
        path = f"repos/{info.repo}/actions/runs"
        base = {
            "branch": info.default_branch,
            "per_page": PER_PAGE,
            "exclude_pull_requests": "true",
        }
        seen = 0
        oldest: datetime | None = None
        reached = False
        async for page in paginate_link(client, path, base):
            if _stop_at(page, info.lower):
                reached = True
                break
            if page.not_modified:
                info.saw_unchanged = True
                seen += PER_PAGE
                continue
            body = page.data if isinstance(page.data, dict) else None
            items = body.get("workflow_runs") if body is not None else None
            if not isinstance(items, list):
                collected.bad(f"{info.repo} {what}", "malformed answer")
                continue
            page_oldest = _note_oldest(client, page, items, "created_at")
            seen += len(items)
            for run in items:
                created = parse_time(run.get("created_at")) if isinstance(run, dict) else None
                if created is not None and created >= info.lower:
                    runs.append(run)
            if page_oldest is not None:
                oldest = page_oldest if oldest is None else min(oldest, page_oldest)
                if page_oldest < info.lower:
                    reached = True
                    break
        if not reached and seen >= RESULT_CAP and oldest is not None:
            # The listing stopped at the cap: fetch the rest of the range by date.
            until = oldest - timedelta(seconds=1)
            runs.extend(await self._runs_range(client, info, base, info.lower, until, collected))
        unique: dict[Any, dict[str, Any]] = {}
        for run in runs:
            unique[run.get("id")] = run
        for run in unique.values():
            yield run

    async def _runs_range(
        self,
        client: HttpClient,
        info: _Repo,
        base: dict[str, Any],
        start: datetime,
        end: datetime,
        collected: Collected,
    ) -> list[dict[str, Any]]:
        """Runs created in ``[start, end]`` (whole seconds), splitting past the cap."""
        if end < start:
            return []
        query = {**base, "created": f"{iso(start)}..{iso(end)}"}
        path = f"repos/{info.repo}/actions/runs"
        out: list[dict[str, Any]] = []
        first = True
        async for page in paginate_link(client, path, query, conditional=False):
            body = page.data if isinstance(page.data, dict) else None
            if body is None or not isinstance(body.get("workflow_runs"), list):
                collected.bad(f"{info.repo} workflow runs", "malformed answer")
                if first:
                    return out
                continue
            total = body.get("total_count")
            if first and isinstance(total, int) and total > RESULT_CAP and end > start:
                middle = start + (end - start) / 2
                middle = middle.replace(microsecond=0)
                left = await self._runs_range(client, info, base, start, middle, collected)
                right = await self._runs_range(
                    client, info, base, middle + timedelta(seconds=1), end, collected
                )
                return left + right
            if first and isinstance(total, int) and total > RESULT_CAP:
                collected.complete = False
                collected.problem(
                    f"{info.repo}: more than {RESULT_CAP} runs created within one second; "
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
        info: _Repo,
        previous: dict[str, pd.DataFrame],
        collected: Collected,
    ) -> None:
        repo = info.repo
        cached = _previous_first_commits(previous, self.name, repo)
        cached_paths = _previous_paths(previous, repo) if self.fetch_paths else {}
        params = {"state": "closed", "sort": "updated", "direction": "desc", "per_page": PER_PAGE}
        merged: list[dict[str, Any]] = []
        count = 0
        async for page in paginate_link(client, f"repos/{repo}/pulls", params):
            if _stop_at(page, info.lower):
                break
            items = _list(page, collected, f"{repo} pulls")
            if items is None:
                continue
            oldest = _note_oldest(client, page, items, "updated_at")
            for pr in items:
                count += 1
                if not isinstance(pr, dict) or not pr.get("merged_at"):
                    continue
                updated = parse_time(pr.get("updated_at"))
                if updated is not None and updated < info.lower:
                    continue
                merged.append(pr)
            if oldest is not None and oldest < info.lower:
                break
        client.stats.count("changes", count)

        async def one(pr: dict[str, Any]) -> None:
            record = change_record(pr, repo=repo, team=info.team, source=self.name)
            if record is None:
                collected.bad(f"{repo} pull {pr.get('number')}", "unreadable pull request")
                return
            first = cached.get(record["id"])
            if first is None:
                page = await client.get(
                    f"repos/{repo}/pulls/{pr.get('number')}/commits",
                    {"per_page": PER_PAGE},
                    conditional=False,
                )
                commits = _list(page, collected, f"{repo} pull {pr.get('number')} commits") or []
                first = first_commit_time(commits)
            record["first_commit_at"] = first
            if self.fetch_paths:
                paths = cached_paths.get(record["id"])
                if paths is None:
                    paths = await self._pull_files(client, repo, pr.get("number"), collected)
                record["paths"] = paths
            collected.add("changes", record, f"{repo} pull {pr.get('number')}")

        await asyncio.gather(*(one(pr) for pr in merged))

    async def _pull_files(
        self, client: HttpClient, repo: str, number: Any, collected: Collected
    ) -> list[str]:
        """The paths a merged pull request touched (both sides of a rename)."""
        paths: list[str] = []
        where = f"{repo} pull {number} files"
        async for page in paginate_link(
            client, f"repos/{repo}/pulls/{number}/files", {"per_page": PER_PAGE}
        ):
            for item in _list(page, collected, where) or []:
                if isinstance(item, dict):
                    paths.extend(
                        str(item[key])
                        for key in ("filename", "previous_filename")
                        if isinstance(item.get(key), str)
                    )
        return paths


# --- parsing (pure; checked against GitHub's OpenAPI examples) ---------------------------


def deployment_record(
    deployment: dict[str, Any],
    statuses: list[Any],
    *,
    repo: str,
    team: str | None,
    source: str,
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deployment and its statuses (newest first)."""
    if not isinstance(deployment, dict):
        return None
    started = parse_time(deployment.get("created_at"))
    if started is None or deployment.get("id") is None:
        return None
    latest = None
    superseded = False
    for status in statuses:
        if not isinstance(status, dict):
            continue
        if status.get("state") == "inactive":
            superseded = True  # a later deployment replaced it; look at what it was before
            continue
        latest = status
        break
    state = latest.get("state") if latest is not None else None
    finished = parse_time(latest.get("created_at")) if latest is not None else None
    status_value = _DEPLOY_STATES.get(str(state)) if state is not None else None
    if status_value is None:
        # No decisive status: an inactive-only history was live once; otherwise still running.
        status_value = "success" if superseded else "in_progress"
    if status_value == "in_progress":
        finished = None
    env = (latest or {}).get("environment") or deployment.get("environment")
    return {
        "id": f"{repo}/deployments/{deployment['id']}",
        "source": source,
        "team": team,
        "service": repo.rsplit("/", 1)[-1],
        "repo": repo,
        "environment": deployment.get("environment") or env,
        "status": status_value,
        "strategy": "unknown",
        "started_at": started,
        "finished_at": finished,
        "commit_sha": deployment.get("sha"),
        "is_rollback": False,
        "url": deployment.get("url"),
    }


def workflow_deployment_record(
    run: dict[str, Any], *, repo: str, team: str | None, source: str, environment: str
) -> dict[str, Any] | None:
    """A ``Deployment`` event from a deploy workflow's run."""
    started = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    if started is None or run.get("id") is None:
        return None
    if run.get("status") != "completed":
        status, finished = "in_progress", None
    else:
        conclusion = _RUN_CONCLUSIONS.get(str(run.get("conclusion")), "other")
        status = {"success": "success", "cancelled": "cancelled", "skipped": "cancelled"}.get(
            conclusion, "failure"
        )
        finished = parse_time(run.get("updated_at"))
    return {
        "id": f"{repo}/actions/runs/{run['id']}",
        "source": source,
        "team": team,
        "service": repo.rsplit("/", 1)[-1],
        "repo": repo,
        "environment": environment,
        "status": status,
        "strategy": "unknown",
        "started_at": started,
        "finished_at": finished,
        "commit_sha": run.get("head_sha"),
        "is_rollback": False,
        "url": run.get("html_url"),
    }


def run_record(
    run: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``CIRun`` event; ``pending`` is set for runs that have not completed."""
    if not isinstance(run, dict) or run.get("id") is None:
        return None
    started = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    if started is None:
        return None
    completed = run.get("status") == "completed"
    attempt = run.get("run_attempt")
    return {
        "id": f"{repo}/actions/runs/{run['id']}",
        "source": source,
        "team": team,
        "repo": repo,
        "workflow": run.get("name") or str(run.get("path") or "").split("@", 1)[0] or None,
        "branch": run.get("head_branch"),
        "is_default_branch": False,
        "commit_sha": run.get("head_sha"),
        "conclusion": _RUN_CONCLUSIONS.get(str(run.get("conclusion")), "other")
        if completed
        else None,
        "started_at": started,
        "finished_at": parse_time(run.get("updated_at")) if completed else None,
        "attempt": attempt if isinstance(attempt, int) and attempt > 0 else 1,
        "pending": not completed,
    }


def change_record(
    pr: dict[str, Any], *, repo: str, team: str | None, source: str
) -> dict[str, Any] | None:
    """A ``Change`` event from a merged pull request (``first_commit_at`` filled later)."""
    merged = parse_time(pr.get("merged_at"))
    if merged is None or pr.get("number") is None:
        return None
    labels = [
        label["name"]
        for label in pr.get("labels") or []
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    ]
    return {
        "id": f"{repo}/pull/{pr['number']}",
        "source": source,
        "team": team,
        "repo": repo,
        "title": pr.get("title"),
        "first_commit_at": None,
        "merged_at": merged,
        "merge_sha": pr.get("merge_commit_sha"),
        "deployment_id": None,
        "labels": labels,
        "paths": [],
    }


def first_commit_time(commits: list[Any]) -> datetime | None:
    """The earliest author date among a PR's commits (``commit.author.date``)."""
    times = []
    for item in commits:
        if not isinstance(item, dict):
            continue
        commit = item.get("commit") or {}
        when = parse_time((commit.get("author") or {}).get("date")) or parse_time(
            (commit.get("committer") or {}).get("date")
        )
        if when is not None:
            times.append(when)
    return min(times) if times else None


# --- helpers -----------------------------------------------------------------------------


def _list(page: Page, collected: Collected, where: str) -> list[Any] | None:
    """The page's JSON list, or None (malformed answers are counted and skipped)."""
    if page.not_modified:
        return None
    if page.malformed or not isinstance(page.data, list):
        collected.bad(where, "malformed answer")
        return None
    return page.data


def _note_oldest(client: HttpClient, page: Page, items: list[Any], key: str) -> datetime | None:
    """The oldest ``key`` timestamp on the page, remembered with its validators."""
    times = [parse_time(i.get(key)) for i in items if isinstance(i, dict)]
    known = [t for t in times if t is not None]
    oldest = min(known) if known else None
    if oldest is not None:
        client.remember(page, oldest=iso(oldest))
    return oldest


def _stop_at(page: Page, lower: datetime) -> bool:
    """True for an unchanged (304) page that lies entirely before ``lower``."""
    if not page.not_modified:
        return False
    oldest = parse_time(page.meta.get("oldest"))
    return oldest is None or oldest < lower


def _previous_deployments(
    previous: dict[str, pd.DataFrame], source: str, repo: str
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


def _previous_paths(previous: dict[str, pd.DataFrame], repo: str) -> dict[str, list[str]]:
    """Paths of this repo's cached pull requests (a merged PR's files never change)."""
    frame = previous.get("changes")
    if frame is None or frame.empty or "paths" not in frame.columns:
        return {}
    rows = frame[frame["repo"].astype(object) == repo]
    return {str(i): list(p) for i, p in zip(rows["id"], rows["paths"]) if len(p)}


def _previous_first_commits(
    previous: dict[str, pd.DataFrame], source: str, repo: str
) -> dict[str, datetime]:
    frame = previous.get("changes")
    if frame is None or frame.empty:
        return {}
    rows = frame[(frame["repo"].astype(object) == repo) & frame["first_commit_at"].notna()]
    return {str(i): t.to_pydatetime() for i, t in zip(rows["id"], rows["first_commit_at"])}
