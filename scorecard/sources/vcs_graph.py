"""Commit containment's network half for the VCS base: reading a repo's commit
history (the default branch's, and the ancestors of a commit deployed from another
ref) into the :class:`~scorecard.sources.containment.CommitGraph` a sync keeps per
repo. A mixin of :class:`~scorecard.sources.vcs.VcsSource`; vendors declare their
commit listing (:meth:`CommitHistory.history_pages`, its ref parameter and id field)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from scorecard.errors import FatalSourceError, RateLimitExhausted, SourceError
from scorecard.sources.containment import CommitGraph
from scorecard.sources.records import iso

if TYPE_CHECKING:
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.vcs_state import VcsRun

__all__ = ["CommitHistory"]


class CommitHistory:
    """Reads commit histories for containment (see the module docstring)."""

    production: tuple[str, ...]
    """Production environments (set by the source's ``setup``)."""

    history_ref: ClassVar[str] = "ref"
    """The commit listing's parameter naming the ref whose history it lists."""
    commit_key: ClassVar[str] = "id"
    """The field of a listed commit holding its id."""

    def history_pages(
        self, client: HttpClient, repo: str, params: dict[str, Any]
    ) -> AsyncIterator[Page] | None:
        """The pages of a repo's commit listing for ``params`` (None: the vendor has none)."""
        return None

    async def history(
        self,
        client: HttpClient,
        repo: str,
        ref: str,
        since: datetime,
        until: datetime | None = None,
    ) -> list[str]:
        """The ids of the commits reachable from ``ref`` committed since ``since`` (and
        until ``until``), newest first (empty when the vendor has no such listing)."""
        params: dict[str, Any] = {self.history_ref: ref, "since": iso(since), "per_page": 100}
        if until is not None:
            params["until"] = iso(until)
        pages = self.history_pages(client, repo, params)
        shas: list[str] = []
        if pages is None:
            return shas
        key = self.commit_key
        async for page in pages:
            items = page.data if isinstance(page.data, list) else []
            shas.extend(str(c[key]) for c in items if isinstance(c, dict) and c.get(key))
        return shas

    def shipped_commits(
        self, run: VcsRun, repo: str, since: datetime | None, default_branch: str
    ) -> list[Any]:
        """The commits of this sync's successful production deployments of ``repo``
        started since ``since`` (older ones ship commits older than the history read),
        except those deployed from the default branch, where the vendor says."""
        prod = {p.casefold() for p in self.production}
        refs = run.deploy_refs.get(repo) or {}
        return [
            sha
            for sha in self.production_commits(run, repo, since, prod)
            if refs.get(sha) != default_branch
        ]

    @staticmethod
    def production_commits(
        run: VcsRun, repo: str, since: datetime | None, prod: set[str]
    ) -> list[Any]:
        return [
            d.get("commit_sha")
            for d in run.collected.records.get("deployments", [])
            if d.get("repo") == repo
            and d.get("status") == "success"
            and str(d.get("environment") or "").casefold() in prod
            and (since is None or (d.get("started_at") is not None and d["started_at"] >= since))
        ]

    async def learn_graph(
        self, run: VcsRun, repo: str, default_branch: str, since: datetime
    ) -> None:
        """The default branch's history since ``since`` (unless a stream brought it
        already) and the ancestors of each deployed commit off it; a failure only costs
        the repo its containment (the time rule applies), noted as a problem."""
        graph = run.graphs.setdefault(repo, CommitGraph())
        fresh = any(
            r.get("repo") == repo
            for kind in ("deployments", "changes")
            for r in run.collected.records.get(kind, [])
        )
        if not fresh:
            return  # nothing new was merged or deployed: nothing to place
        try:
            if graph.since is None or graph.since > since:  # no stream brought it all
                until = graph.since if graph.trunk else None
                older = await self.history(run.client, repo, default_branch, since, until)
                graph.extend(older, since)
            if not graph.trunk:
                return
            shipped = self.shipped_commits(run, repo, graph.since, default_branch)
            for sha in graph.off_trunk(shipped):
                if sha in graph.ancestors:
                    continue
                seen = await self.history(run.client, repo, sha, since)
                graph.ancestors[sha] = frozenset(seen)
        except (RateLimitExhausted, FatalSourceError):
            raise
        except SourceError as exc:
            run.collected.problem(
                f"{repo}: commit history unavailable ({exc}); changes are matched to "
                "deployments by time"
            )
