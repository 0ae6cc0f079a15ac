"""Whose events in a monorepo: each one's team by its paths or service (SPEC §12).

A repo read by a ``codeowners`` section holds many teams' code, so its events
do not all go to one team: a change goes to the team owning most of its changed
paths (ties: the earlier team in the config), a deployment to the team whose
``services`` list its service, else the repo root's owner, and a CI run (which
has no service) to the root owner. This runs over the event frames before
scoring, where the other team rules apply (an event whose team this leaves
empty falls through to the repo and service owners as usual).

Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scorecard.discovery.monorepo import RepoOwners, run_owner

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.discovery.run import Resolved

__all__ = ["attribute_monorepos"]


def attribute_monorepos(
    frames: Mapping[str, pd.DataFrame], resolved: Resolved
) -> dict[str, pd.DataFrame]:
    """``frames`` with the team of every change, deployment and CI run in a
    CODEOWNERS repo decided by its paths or service."""
    out = dict(frames)
    if not resolved.owners:
        return out
    services_of = {team.name: team.services for team in resolved.config.teams}
    for kind in ("changes", "deployments", "ci_runs"):
        frame = frames.get(kind)
        if frame is None or frame.empty or "repo" not in frame.columns:
            continue
        out[kind] = with_teams(frame, kind, resolved.owners, services_of)
    return out


def with_teams(
    frame: pd.DataFrame,
    kind: str,
    owners: Mapping[str, RepoOwners],
    services_of: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """One frame with its monorepo rows' teams replaced."""
    repo = frame["repo"].astype(object)
    folded = repo.where(repo.notna(), "").astype(str).str.casefold()
    rows = folded.isin(list(owners))
    if not rows.any():
        return frame
    team = frame["team"].astype(object).copy()
    for found in rows.to_numpy().nonzero()[0]:
        position = int(found)
        rules = owners[str(folded.iat[position])]
        team.iat[position] = row_owner(frame, kind, position, rules, services_of)
    return frame.assign(team=team)


def row_owner(
    frame: pd.DataFrame,
    kind: str,
    position: int,
    rules: RepoOwners,
    services_of: Mapping[str, Sequence[str]],
) -> str | None:
    """The team of one event in a CODEOWNERS repo."""
    if kind == "changes":
        return rules.change_owner(paths_of(frame, position))
    if kind == "deployments" and "service" in frame.columns:
        service = frame["service"].iat[position]
        return run_owner(service if isinstance(service, str) else None, services_of, None) or (
            rules.root_owner()
        )
    return rules.root_owner()


def paths_of(frame: pd.DataFrame, position: int) -> list[str]:
    """A change's paths (none when the column is missing or empty)."""
    if "paths" not in frame.columns:
        return []
    value: Any = frame["paths"].iat[position]
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return value.split()
    return [str(path) for path in value]
