"""Which deployment shipped a merged change: commit containment (SPEC §2).

The time rule ("the first successful production deployment that finished after
the merge") is wrong wherever releases ship from branches: on pallets/flask's
real history it names another release than the one containing the merge for
39% of merged pull requests. Sources that can see the commit graph (GitHub,
GitLab) instead set a change's ``deployment_id`` to the first successful
production deployment whose commit *contains* the change's merge commit, and
leave the time rule as the fallback for what they cannot place.

Two cheap views of the graph are enough:

- the default branch's history (commit ids newest first, one listing page per
  100 commits; GitHub's GraphQL path gets it beside the deployments at no extra
  cost): a trunk deployment of commit D contains merge M exactly when M is D or
  older than D in that history;
- for the rare production deployments of other refs (hotfix and release
  branches, tags), the ancestors of the deployed commit, one listing each.

Pure: the network half is in the sources.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CommitGraph", "shipped_by"]


@dataclass
class CommitGraph:
    """What a sync learned of one repo's commits."""

    trunk: list[str] = field(default_factory=list)
    """The default branch's commit ids, newest first."""
    ancestors: dict[str, frozenset[str]] = field(default_factory=dict)
    """A deployed commit off the default branch -> the commits it contains (itself too)."""
    since: datetime | None = None
    """How far back :attr:`trunk` goes (None: not read yet)."""

    def extend(self, older: Sequence[str], since: datetime) -> None:
        """Add commits older than the trunk read so far (newest first), back to ``since``."""
        known = set(self.trunk)
        self.trunk.extend(sha for sha in older if sha not in known)
        self.since = since if self.since is None else min(self.since, since)

    def off_trunk(self, shas: Iterable[Any]) -> list[str]:
        """The commits of ``shas`` not on the default branch's history (each once)."""
        on = set(self.trunk)
        return list(dict.fromkeys(s for s in shas if isinstance(s, str) and s and s not in on))


def shipped_by(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    graphs: Mapping[str, CommitGraph],
    production: Sequence[str],
) -> pd.Series:
    """Per change (aligned to ``changes``), the id of the first successful production
    deployment of its repo whose commit contains its merge commit; None where the
    graphs cannot tell (then the time rule applies)."""
    import pandas as pd

    out = pd.Series([None] * len(changes), index=changes.index, dtype=object)
    if deployments.empty or changes.empty or not graphs:
        return out
    prod = {p.casefold() for p in production}
    env = deployments["environment"].astype(object)
    shipped = deployments[
        (deployments["status"].astype(object) == "success")
        & env.map(lambda e: isinstance(e, str) and e.casefold() in prod).astype(bool)
        & deployments["finished_at"].notna()
    ]
    repos = changes["repo"].astype(object)
    for repo, graph in graphs.items():
        mine = changes[(repos == repo) & changes["merge_sha"].notna()]
        deploys = shipped[shipped["repo"].astype(object) == repo]
        if mine.empty or deploys.empty:
            continue
        firsts = _first_containing(deploys, mine["merge_sha"].astype(str).tolist(), graph)
        out.loc[mine.index] = firsts
    return out


def _first_containing(
    deploys: pd.DataFrame, merges: list[str], graph: CommitGraph
) -> list[str | None]:
    """For each merge commit, the earliest-finished deployment containing it."""
    shas = deploys["commit_sha"].astype(object).tolist()
    finished = [t.value for t in deploys["finished_at"]]
    ids = deploys["id"].astype(str).tolist()
    position = {sha: i for i, sha in enumerate(graph.trunk)}
    # Trunk deployments by position (newest commit first); the best (earliest finished)
    # among the first k of them, for every k: a merge at position p is contained by
    # exactly the deployments at positions <= p.
    trunk = sorted((position[s], finished[i], ids[i]) for i, s in enumerate(shas) if s in position)
    keys = [p for p, _, _ in trunk]
    best: list[tuple[int, str]] = []
    for _, when, ident in trunk:
        best.append(min(best[-1], (when, ident)) if best else (when, ident))
    branch = [
        (finished[i], ids[i], graph.ancestors[s])
        for i, s in enumerate(shas)
        if s not in position and s in graph.ancestors
    ]
    out: list[str | None] = []
    for merge in merges:
        candidates: list[tuple[int, str]] = []
        if merge in position:
            k = bisect_right(keys, position[merge])
            if k:
                candidates.append(best[k - 1])
        candidates.extend((when, ident) for when, ident, seen in branch if merge in seen)
        out.append(min(candidates)[1] if candidates else None)
    return out
