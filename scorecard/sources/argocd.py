"""`kind = "argocd"`: production deployments from Argo CD applications' sync history.

One ``GET /api/v1/applications`` (Argo CD returns the whole list, optionally
narrowed to ``projects`` and a label ``selector``) gives every application with
its ``status.history`` and its current ``status.operationState``:

- **Applications -> services.** An application belongs to the team whose
  ``services`` list its name or ``namespace/name`` (the destination namespace);
  the deployment's service is that entry. Applications no team lists are counted
  and named in the sync's problems, never guessed.
- **Deployments.** Each history entry is a successful sync (Argo CD records only
  those): finished at ``deployedAt`` (the operation's end), started at
  ``deployStartedAt``, commit = its Git ``revision``. The current operation adds
  what history does not keep: a ``Failed``/``Error`` sync (a failure) or one still
  ``Running`` (in progress; replaced by its history entry once it succeeds). The
  environment is the first production environment, or the application's
  ``environment_label`` label. The repo is the team repo the application's source
  ``repoURL`` names (else that URL's ``owner/repo``).
- **Rollouts.** When an application manages an Argo Rollouts ``Rollout``, its
  strategy (``canary`` / ``blueGreen``, from the managed resource's live state) is
  the strategy of the new deployments, and a rollout sample records it.

Incremental: each application's newest history id is bookmarked, so only newer
entries become events and the Rollout is read only for applications that synced
since. Argo CD keeps ``revisionHistoryLimit`` entries (default 10) per application,
so a sync at least that often misses none. The token is a bearer token (an Argo CD
API key or account token), sent to the configured server only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.options import HttpOptions, OptionProblem, option
from scorecard.sources.api import ApiSource
from scorecard.sources.argocd_records import (
    App,
    app_of,
    finished_at,
    has_rollout,
    history_deployments,
    latest_history_id,
    operation_deployment,
    repo_path,
    rollout_strategy,
)
from scorecard.sources.delivery import PlanEstimate, plan_state
from scorecard.sources.monitoring import TeamMatcher
from scorecard.sources.records import Collected, merge_frames
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import Config
    from scorecard.sources.contract import FetchContext, SourceResult
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.plan import SourcePlan

APPLICATIONS = "api/v1/applications"
MAX_UNMAPPED_NAMED = 10


@dataclass(frozen=True)
class ArgoCDOptions(HttpOptions):
    """Options of a `kind = "argocd"` source."""

    api_url: str | None = option(
        None, check="url", required=True, example='"https://argocd.acme.com"'
    )
    """The Argo CD server's URL (the API is under `/api/v1`)."""
    projects: tuple[str, ...] = ()
    """Only applications of these Argo CD projects (default: every one the token sees)."""
    selector: str | None = None
    """Only applications with these labels (a Kubernetes label selector, e.g. `tier=prod`)."""
    environment_label: str | None = None
    """An application label naming its environment (e.g. `env`); without it, or on an
    application without the label, every sync is a production deployment."""

    def problems(self, team_names: Sequence[str]) -> Iterator[OptionProblem]:
        if self.environment_label is not None and not self.environment_label.strip():
            yield OptionProblem("environment_label", "is empty", 'e.g. `environment_label = "env"`')


@register
class ArgoCDSource(ApiSource[ArgoCDOptions]):
    """Argo CD sync history as deployments, applications mapped to services."""

    kind = "argocd"
    Options = ArgoCDOptions

    def setup(self, config: Config | None) -> None:
        self.matcher = TeamMatcher.from_config(config)
        self.production = config.production_environments if config is not None else ("production",)
        self.team_repos: dict[str, str] = {}
        """Casefolded repo -> the repo as a team lists it."""
        for team in config.teams if config is not None else ():
            for repo in team.repos:
                self.team_repos.setdefault(repo.casefold(), repo)

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.options.projects:
            params["projects"] = list(self.options.projects)
        if self.options.selector:
            params["selector"] = self.options.selector
        return params

    async def probe(self) -> str:
        """A light check for `scorecard config check`: the application list, and how many
        of its applications map to a team."""
        client = self.client()
        async with client:
            page = await client.get(APPLICATIONS, self.params(), conditional=False)
        apps = [a for a in (app_of(i) for i in _items(page)) if a is not None]
        mapped = sum(1 for a in apps if self.service_of(a) is not None)
        return f"{len(apps)} applications readable, {mapped} mapped to teams"

    def service_of(self, app: App) -> tuple[str, str] | None:
        """``(team, services entry)`` of an application, by ``namespace/name`` (its
        destination namespace, then its own) or its name."""
        for namespace in (app.destination_namespace, app.namespace):
            found = self.matcher.workload(namespace, app.name)
            if found is not None:
                return found
        return None

    def repo_of(self, app: App) -> str | None:
        path = repo_path(app.repo_url)
        if path is None:
            return None
        return self.team_repos.get(path.casefold(), path)

    def environment_of(self, app: App) -> str:
        label = self.options.environment_label
        if label and app.labels.get(label):
            return app.labels[label]
        return self.production[0] if self.production else "production"

    # --- the fetch ------------------------------------------------------------------------

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous, state = self.start(ctx, needs_previous=True)
        client = self.client(validators=state.get("http") or {})
        collected = Collected()
        bookmarks: dict[str, Any] = dict(state.get("apps") or {})
        async with client:
            ctx.progress("applications: fetching")
            page = await client.get(APPLICATIONS, self.params())
            if not page.not_modified:
                await self.read_apps(client, ctx, page, bookmarks, collected)
        new_state = {"version": self.state_version, "apps": bookmarks, "http": client.validators}
        frames = merge_frames(previous, collected.frames())
        return self.result(collected, client, frames=frames, state=new_state)

    async def read_apps(
        self,
        client: HttpClient,
        ctx: FetchContext,
        page: Page,
        bookmarks: dict[str, Any],
        collected: Collected,
    ) -> None:
        """Every application's new syncs (and current operation) as events."""
        if page.malformed or not isinstance(page.data, dict):
            collected.bad("applications", "malformed answer")
            collected.complete = False
            return
        unmapped: list[str] = []
        items = _items(page)
        client.stats.count("applications", len(items))
        for item in items:
            app = app_of(item)
            if app is None:
                collected.bad("applications", "an application without a name")
                continue
            owner = self.service_of(app)
            if owner is None:
                unmapped.append(app.key)
                continue
            old = (bookmarks.get(app.key) or {}) if not ctx.full else {}
            records = self.app_deployments(item, app, owner, old.get("last_id"))
            records = [r for r in records if (finished_at(r) or ctx.since) >= ctx.since]
            last = latest_history_id(item)
            if records and last != old.get("last_id") and has_rollout(item):
                strategy = await self.strategy(client, app, collected)
                self.add_strategy(records, strategy, collected)
            for record in records:
                collected.add("deployments", record, f"application {app.key}")
            bookmarks[app.key] = {"last_id": last if last is not None else old.get("last_id")}
        client.stats.count("deployments", len(collected.records.get("deployments", [])))
        if unmapped:
            client.stats.count("applications.unmapped", len(unmapped))
            named = ", ".join(sorted(unmapped)[:MAX_UNMAPPED_NAMED])
            more = (
                f" and {len(unmapped) - MAX_UNMAPPED_NAMED} more"
                if len(unmapped) > MAX_UNMAPPED_NAMED
                else ""
            )
            collected.problem(
                f"{len(unmapped)} applications map to no team's services: {named}{more} "
                "(add `name` or `namespace/name` to a team's services)"
            )

    def app_deployments(
        self, item: Mapping[str, Any], app: App, owner: tuple[str, str], after_id: Any
    ) -> list[dict[str, Any]]:
        """The application's syncs newer than its bookmark, plus its current operation."""
        fields = {
            "source": self.name,
            "team": owner[0],
            "service": owner[1],
            "repo": self.repo_of(app),
            "environment": self.environment_of(app),
            "url": f"{self.options.base_url or ''}".rstrip("/") + f"/applications/{app.name}",
        }
        after = after_id if isinstance(after_id, int) else None
        records = history_deployments(item, app, after_id=after, **fields)
        operation = operation_deployment(item, app, **fields)
        if (
            operation is not None
            and operation["id"] not in {r["id"] for r in records}
            and (operation["status"] != "success" or after is None)
        ):
            records.append(operation)
        return records

    async def strategy(self, client: HttpClient, app: App, collected: Collected) -> str | None:
        """The strategy of the application's Rollout (one managed-resources request)."""
        params: dict[str, Any] = {"group": "argoproj.io", "kind": "Rollout"}
        if app.namespace:
            params["appNamespace"] = app.namespace
        path = f"{APPLICATIONS}/{quote(app.name, safe='')}/managed-resources"
        try:
            page = await client.get(path, params, conditional=False)
        except (FatalSourceError, RateLimitExhausted):
            raise
        except SourceError as exc:  # the deployments stand without it
            collected.problem(f"application {app.key}: rollout strategy unavailable ({exc})")
            return None
        return rollout_strategy(page.data) if isinstance(page.data, dict) else None

    @staticmethod
    def add_strategy(
        records: list[dict[str, Any]], strategy: str | None, collected: Collected
    ) -> None:
        """The Rollout's strategy on the new deployments, and a rollout sample at each."""
        if strategy is None:
            return
        for record in records:
            record["strategy"] = strategy
            at = finished_at(record)
            sample = {
                "source": record["source"],
                "team": record["team"],
                "service": record["service"],
                "at": at,
                "strategy": strategy,
            }
            collected.add("rollouts", sample, f"rollout of {record['service']}")

    # --- sync --plan ----------------------------------------------------------------------

    async def plan(self, ctx: FetchContext) -> SourcePlan:
        """The coming sync's requests: the list (read now), plus one managed-resources
        request per mapped application with a Rollout and syncs newer than its bookmark."""
        state = plan_state(self, ctx)
        estimate = PlanEstimate()
        client = self.client()
        async with client:
            page = await client.get(APPLICATIONS, self.params(), conditional=False)
        estimate.fixed(1)
        bookmarks = state.get("apps") or {}
        for item in _items(page):
            app = app_of(item)
            owner = self.service_of(app) if app is not None else None
            if app is None or owner is None:
                continue
            after = (bookmarks.get(app.key) or {}).get("last_id")
            new = self.app_deployments(item, app, owner, after)
            estimate.items["deployments"] = estimate.items.get("deployments", 0) + len(new)
            if new and latest_history_id(item) != after and has_rollout(item):
                estimate.fixed(1)
        return estimate.plan(self, client, "the application list (read whole)")


def _items(page: Page) -> list[dict[str, Any]]:
    data = page.data if isinstance(page.data, dict) else {}
    return [i for i in data.get("items") or [] if isinstance(i, dict)]
