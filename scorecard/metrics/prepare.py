"""Events -> joined tables, once per scorecard, whatever the window (SPEC §2).

Before any metric is counted, every event needs its team (its own, else its
repo's or service's owner, else ``unassigned``), every deployment its resolved
strategy (``unknown`` read from the service's rollout samples), every change
the deployment that shipped it, and every incident the deployment it is
attributed to. :func:`prepare` does these joins once, vectorized, and hands
:mod:`scorecard.metrics` a :class:`Prepared` that every window reads.

Pure: frames in, frames out, no I/O (the deferred-column loader is the
caller's, called only when a detail table asks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from scorecard.metrics.joins import Ids, asof_matches
from scorecard.model import EVENT_KINDS, UNASSIGNED, empty_frame

__all__ = [
    "SAFE_STRATEGIES",
    "Prepared",
    "TeamMap",
    "assign_teams",
    "defer_columns",
    "deferred_deployment_columns",
    "prepare",
    "team_map_from",
]

SAFE_STRATEGIES: Final = ("canary", "blue_green")

Frames = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class TeamMap:
    """How events find their team: configured names plus repo and service owners."""

    teams: tuple[str, ...]
    repo_owner: Mapping[str, str] = field(default_factory=dict)
    service_owner: Mapping[str, str] = field(default_factory=dict)
    service_aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def categories(self) -> list[str]:
        return [*self.teams, UNASSIGNED] if UNASSIGNED not in self.teams else list(self.teams)


@dataclass(frozen=True)
class Prepared:
    """Window-independent tables, joined once."""

    deployments: pd.DataFrame
    changes: pd.DataFrame
    ci_runs: pd.DataFrame
    coverage: pd.DataFrame
    incidents: pd.DataFrame
    teams: pd.CategoricalDtype
    has: Mapping[str, pd.Series]
    deferred: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Deployment columns left out of ``deployments`` (text no metric reads), with
    the loader that reads them when a detail table asks; see :func:`defer_columns`."""


def defer_columns(
    prep: Prepared, columns: Sequence[str], loader: Callable[[], pd.DataFrame]
) -> None:
    """Say that ``prep.deployments`` was built without ``columns``.

    ``loader`` returns the deployments again with ``id`` and ``columns``, in the
    same rows and order (as a second read of the same cache does); it is called
    once, the first time :func:`deployment_rows` needs them.
    """
    missing = [c for c in columns if c not in prep.deployments.columns]
    if missing:
        prep.deferred["deployments"] = (missing, loader)


def deferred_deployment_columns(prep: Prepared) -> pd.DataFrame | None:
    """The deferred deployment columns, aligned to ``prep.deployments`` (None: none)."""
    entry = prep.deferred.get("deployments")
    if entry is None:
        return None
    if isinstance(entry, pd.DataFrame):
        return entry
    columns, loader = entry
    dep = prep.deployments
    extra = loader()
    if len(extra) == len(dep) and extra["id"].reset_index(drop=True).equals(
        dep["id"].reset_index(drop=True)
    ):
        found: pd.DataFrame = extra[list(columns)].set_axis(dep.index)
    else:  # the cache changed since: match by id (the last row of an id wins)
        by_id = extra.drop_duplicates("id", keep="last").set_index("id")[list(columns)]
        found = by_id.reindex(dep["id"].to_numpy()).set_axis(dep.index)
        found = found.astype(object).where(found.notna(), None)
    prep.deferred["deployments"] = found
    return found


# --------------------------------------------------------------------------- attribution


def assign_teams(frames: Frames, team_map: TeamMap) -> dict[str, pd.DataFrame]:
    """Every event's team: its own when configured, else its repo's, else its service's.

    Anything left over is ``unassigned``, which is kept and shown, never dropped.
    Incident services are first translated through ``service_aliases`` so that
    vendor names match deployment services.
    """
    dtype = pd.CategoricalDtype(team_map.categories)
    teams = dtype.categories
    known = {t: t for t in team_map.teams}
    out: dict[str, pd.DataFrame] = {}
    for kind in EVENT_KINDS:
        frame = frames.get(kind)
        # Shallow: only whole columns are replaced below, never written into.
        frame = empty_frame(kind) if frame is None else frame.copy(deep=False)
        if "service" in frame.columns and team_map.service_aliases:
            frame["service"] = _aliased(frame["service"], team_map.service_aliases)
        # Team codes, rule by rule; _NO_OWNER falls through to the next rule.
        codes = _owner_codes(frame["team"], known, teams)
        if "repo" in frame.columns and team_map.repo_owner:
            _fill(codes, frame["repo"], team_map.repo_owner, teams)
        if "service" in frame.columns and team_map.service_owner:
            _fill(codes, frame["service"], team_map.service_owner, teams)
        codes[codes == _NO_OWNER] = teams.get_loc(UNASSIGNED)
        codes[codes == _NOT_A_TEAM] = -1  # an owner that is not a team: empty, as before
        frame["team"] = pd.Categorical.from_codes(codes, dtype=dtype)
        out[kind] = frame
    return out


_NO_OWNER: Final = -1
_NOT_A_TEAM: Final = -2


def _owner_codes(column: pd.Series, mapping: Mapping[str, str], teams: pd.Index) -> np.ndarray:
    """Each row's owner as a code into ``teams``, looked up once per distinct value.

    ``_NO_OWNER`` where the value is empty or unmapped; ``_NOT_A_TEAM`` where it
    maps to a name that is not one of ``teams``.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        values = column.cat.categories
    else:
        codes, values = pd.factorize(column.astype(object))
    owners = [mapping.get(v) for v in values.astype(object)]
    found = teams.get_indexer(pd.Index(owners, dtype=object))
    found[(found < 0) & np.array([o is not None for o in owners], dtype=bool)] = _NOT_A_TEAM
    found[(found < 0) & (found != _NOT_A_TEAM)] = _NO_OWNER
    # code -1 (an empty cell) reads the appended _NO_OWNER; int32 halves 5M-row temporaries
    return np.append(found, _NO_OWNER).astype(np.int32)[codes]


def _fill(
    codes: np.ndarray, column: pd.Series, mapping: Mapping[str, str], teams: pd.Index
) -> None:
    """Give ``codes``' _NO_OWNER rows the owner of ``column`` (looked up only when needed)."""
    missing = codes == _NO_OWNER
    if missing.any():
        codes[missing] = _owner_codes(column, mapping, teams)[missing]


def _aliased(column: pd.Series, aliases: Mapping[str, str]) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [aliases.get(c, c) for c in column.cat.categories]
        if len(set(categories)) == len(categories):
            return column.cat.rename_categories(categories)
    return column.astype(object).map(lambda v: aliases.get(v, v)).astype("category")


# --------------------------------------------------------------------------- prepare


def prepare(
    frames: Frames,
    team_map: TeamMap,
    *,
    production_environments: Sequence[str] = ("production", "prod", "live"),
    incident_link_hours: float = 24.0,
) -> Prepared:
    """Attribute teams and do every join that does not depend on the window."""
    tables = assign_teams(frames, team_map)
    dtype = pd.CategoricalDtype(team_map.categories)
    deployments = _prepared_deployments(
        tables["deployments"], tables["rollouts"], production_environments
    )
    # Only the columns the joins read: a copy of 1M deployments' text is not free.
    good_rows = deployments["is_prod"] & (deployments["status"] == "success")
    good_rows &= deployments["finished_at"].notna()
    good = deployments.loc[good_rows, ["id", "team", "service", "repo", "finished_at"]]
    # Deployment ids hashed once for both lookups by id (the costliest part at scale).
    ids = Ids(deployments["id"])
    in_good = np.cumsum(good_rows.to_numpy()) - 1  # a deployment's row among the good ones
    named = ids.last(tables["changes"]["deployment_id"], among=good_rows.to_numpy())
    named[named >= 0] = in_good[named[named >= 0]]
    changes = _prepared_changes(tables["changes"], good, named)
    named = ids.last(tables["incidents"]["deployment_id"])
    incidents = _prepared_incidents(
        tables["incidents"], deployments, good, incident_link_hours, named
    )
    ci = tables["ci_runs"]
    ci = ci.assign(
        t=ci["finished_at"].fillna(ci["started_at"]),
        minutes=_minutes_between(ci["started_at"], ci["finished_at"]),
    )
    coverage = tables["coverage"].sort_values("measured_at", kind="stable")
    has: dict[str, pd.Series] = {
        kind: tables[kind]["team"].value_counts(sort=False).reindex(dtype.categories).fillna(0) > 0
        for kind in EVENT_KINDS
    }
    return Prepared(deployments, changes, ci, coverage, incidents, teams=dtype, has=has)


def _prepared_deployments(
    deployments: pd.DataFrame, rollouts: pd.DataFrame, production: Sequence[str]
) -> pd.DataFrame:
    out = deployments.assign(
        t=deployments["finished_at"].fillna(deployments["started_at"]),
        is_prod=_is_production(deployments["environment"], production),
    )
    out["resolved_strategy"], out["strategy_sample_at"] = _resolved_strategy(out, rollouts)
    out["safe"] = out["resolved_strategy"].isin(SAFE_STRATEGIES)
    return out


def _is_production(environment: pd.Series, production: Sequence[str]) -> pd.Series:
    """Case-insensitive match against the production names, once per distinct environment."""
    prod_names = {p.lower() for p in production}
    if isinstance(environment.dtype, pd.CategoricalDtype):
        names = pd.Series(environment.cat.categories.astype(object)).str.lower()
        flags = np.append(names.isin(prod_names).fillna(False).to_numpy(dtype=bool), False)
        return pd.Series(flags[environment.cat.codes.to_numpy()], index=environment.index)
    env = environment.astype(object).str.lower()
    return env.isin(prod_names).fillna(False).astype(bool)


def _resolved_strategy(
    deployments: pd.DataFrame, rollouts: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """A deploy's strategy, with `unknown` taken from its service's latest rollout sample,
    and the time of that sample (NaT where the deploy's own field decided)."""
    strategy = deployments["strategy"].astype(object).fillna("unknown")
    sample_at = pd.Series(
        pd.NaT, index=deployments.index, dtype="datetime64[us, UTC]", name="strategy_sample_at"
    )
    unknown = (strategy == "unknown") & deployments["service"].notna() & deployments["t"].notna()
    samples = rollouts[rollouts["service"].notna() & rollouts["at"].notna()]
    if not unknown.any() or samples.empty:
        return strategy, sample_at
    rows = np.flatnonzero(unknown.to_numpy())
    wanted = (deployments["service"], deployments["t"])
    pos = asof_matches(rows, wanted, (samples["service"], samples["at"]), direction="backward")
    sampled = samples["strategy"].astype(object).to_numpy()
    found = pos >= 0
    found[found] = pd.notna(sampled[pos[found]])
    resolved = strategy.to_numpy(copy=True)
    resolved[rows[found]] = sampled[pos[found]]
    sample_at.iloc[rows[found]] = samples["at"].array[pos[found]]
    return pd.Series(resolved, index=deployments.index, dtype=object), sample_at


def _prepared_changes(
    changes: pd.DataFrame, good: pd.DataFrame, named: np.ndarray | None = None
) -> pd.DataFrame:
    """Each change with the deployment that shipped it (``deployed_id``) and its finish time.

    ``named``: per change, the row in ``good`` of the (last) deployment its
    ``deployment_id`` names, -1 for none; looked up here when not given.
    """
    if named is None:
        named = Ids(good["id"]).last(changes["deployment_id"])
    shipped = pd.Series(
        good["finished_at"].array.take(named, allow_fill=True), index=changes.index
    ).astype("datetime64[us, UTC]")
    deployed_id = changes["deployment_id"].astype(object).where(shipped.notna(), None)
    rule = pd.Series("explicit", index=changes.index, dtype=object).where(shipped.notna(), None)
    fallback = changes["deployment_id"].isna() | shipped.isna()
    fallback &= changes["merged_at"].notna() & changes["repo"].notna()
    if fallback.any() and not good.empty:
        candidates = good[good["repo"].notna()]
        rows = np.flatnonzero(fallback.to_numpy())
        merged = (changes["repo"], changes["merged_at"])
        shipping = (candidates["repo"], candidates["finished_at"])
        pos = asof_matches(rows, merged, shipping, direction="forward")
        found = pos >= 0
        # Unmatched rows were empty already; they stay so (an id of NaN, as merge_asof gives).
        shipped = shipped.copy()
        shipped.iloc[rows[found]] = candidates["finished_at"].array[pos[found]]
        ids = np.full(len(rows), np.nan, dtype=object)
        ids[found] = candidates["id"].to_numpy(dtype=object)[pos[found]]
        deployed_id.iloc[rows] = ids
        rule.iloc[rows[found]] = "after-merge"
    lead = (shipped - changes["first_commit_at"]).dt.total_seconds() / 3600
    return changes.assign(
        deployed_at=shipped,
        deployed_id=deployed_id,
        deploy_rule=rule,
        lead_hours=lead.where(lead >= 0),
    )


def _prepared_incidents(
    incidents: pd.DataFrame,
    deployments: pd.DataFrame,
    good: pd.DataFrame,
    link_hours: float,
    named: np.ndarray | None = None,
) -> pd.DataFrame:
    """Each incident with its attributed deployment and the rule that linked it.

    ``named``: per incident, the row in ``deployments`` its ``deployment_id``
    names, -1 for none; looked up here when not given.
    """
    if named is None:
        named = Ids(deployments["id"]).last(incidents["deployment_id"])
    explicit = pd.Series(named >= 0, index=incidents.index)
    attributed = incidents["deployment_id"].where(explicit).astype(object)
    rule = pd.Series([None] * len(incidents), index=incidents.index, dtype=object)
    rule[explicit] = "explicit"
    if not good.empty and (~explicit).any():
        tolerance = pd.Timedelta(hours=link_hours) // pd.Timedelta(microseconds=1)
        for key in ("service", "team"):
            pending = attributed.isna() & incidents["created_at"].notna()
            if key == "service":
                pending &= incidents["service"].notna()
            else:
                pending &= incidents["service"].isna()
            if not pending.any():
                continue
            rows = np.flatnonzero(pending.to_numpy())
            candidates = good[good[key].notna()]
            pos = asof_matches(
                rows,
                (incidents[key], incidents["created_at"]),
                (candidates[key], candidates["finished_at"]),
                direction="backward",
                tolerance=tolerance,
            )
            deploy_ids = candidates["id"].to_numpy(dtype=object)
            hit = pos >= 0
            hit[hit] = pd.notna(deploy_ids[pos[hit]])
            attributed.iloc[rows[hit]] = deploy_ids[pos[hit]]
            rule.iloc[rows[hit]] = "time"
    duration = (incidents["resolved_at"] - incidents["created_at"]).dt.total_seconds() / 3600
    return incidents.assign(
        attributed_deployment=attributed,
        link_rule=rule,
        duration_hours=duration,
        detection_hours=_detection_hours(incidents),
    )


def _detection_hours(incidents: pd.DataFrame) -> pd.Series:
    """``created_at - started_at`` in hours: how late the incident was found (empty when
    the source gives no impact start, or gives one after the incident was created)."""
    if "started_at" not in incidents.columns:
        return pd.Series(np.nan, index=incidents.index, dtype=float)
    found = (incidents["created_at"] - incidents["started_at"]).dt.total_seconds() / 3600
    return found.where(found >= 0)


def _minutes_between(start: pd.Series, end: pd.Series, chunk: int = 1 << 20) -> pd.Series:
    """``(end - start)`` in minutes, a slice at a time: no 5M-row temporaries for 5M CI runs."""
    out = np.empty(len(end), dtype=np.float64)
    for low in range(0, len(end), chunk):
        part = end.iloc[low : low + chunk] - start.iloc[low : low + chunk]
        out[low : low + chunk] = (part.dt.total_seconds() / 60).to_numpy(dtype=np.float64)
    return pd.Series(out, index=end.index)


def team_map_from(
    teams: Iterable[Any], service_aliases: Mapping[str, str] | None = None
) -> TeamMap:
    """A TeamMap from config team objects (anything with name, repos, services)."""
    names: list[str] = []
    repos: dict[str, str] = {}
    services: dict[str, str] = {}
    for team in teams:
        names.append(team.name)
        for repo in team.repos:
            repos[repo] = team.name
        for service in team.services:
            services[service] = team.name
    return TeamMap(tuple(names), repos, services, dict(service_aliases or {}))
