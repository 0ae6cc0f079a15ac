"""Events -> per-team metrics, exactly as SPEC §2 defines them.

Pure and vectorized: every step is a pandas operation over whole tables, keyed
by a categorical ``team`` column, so a 200-team org with millions of events is
computed in seconds. No I/O happens here; callers hand in frames and get frames.

The work splits in two:
- :func:`prepare` does the window-independent joins once (team attribution,
  unknown strategies resolved from rollout samples, each change's deployment,
  each incident's attributed deployment);
- :func:`window_metrics` computes every §2 metric for one ``[start, end)``
  window from the prepared tables, so the current window, the previous one and
  the weekly series all share one definition.

Conventions (decided where the spec is silent; see docs/metrics.md):
- an event happens "by" a time ``t`` when its timestamp is ``< t``, except
  coverage samples, which count "at or before" (SPEC wording);
- a count is empty (NaN) only when the team has no events of that kind at all;
  otherwise a window without any is a real 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from scorecard.model import EVENT_KINDS, SCHEMAS, UNASSIGNED, EventKind, empty_frame

METRIC_COLUMNS: Final[tuple[str, ...]] = (
    "deploys",
    "deploys_per_day",
    "deploy_days_per_week_p50",
    "velocity_trend",
    "lead_time_p50_hours",
    "lead_time_p90_hours",
    "coverage_pct",
    "coverage_delta_pts",
    "canary_share",
    "ci_success_rate",
    "ci_duration_p50_minutes",
    "change_failure_rate",
    "recovery_time_p50_hours",
    "incidents",
    "incidents_sev1_2",
    "incidents_open",
    "rework_rate",
)

PRESSURE_METRICS: Final = (
    "deploys",
    "deploys_per_day",
    "deploy_days_per_week_p50",
    "velocity_trend",
    "lead_time_p50_hours",
    "lead_time_p90_hours",
)
RIGOR_METRICS: Final = (
    "coverage_pct",
    "coverage_delta_pts",
    "canary_share",
    "ci_success_rate",
    "ci_duration_p50_minutes",
)
STABILITY_METRICS: Final = (
    "change_failure_rate",
    "recovery_time_p50_hours",
    "incidents",
    "incidents_sev1_2",
    "incidents_open",
    "rework_rate",
)

SAFE_STRATEGIES: Final = ("canary", "blue_green")
HOUR: Final = pd.Timedelta(hours=1)
DAY: Final = pd.Timedelta(days=1)
WEEK: Final = pd.Timedelta(days=7)

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


def _deferred_deployment_columns(prep: Prepared) -> pd.DataFrame | None:
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
    ids = _Ids(deployments["id"])
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
    return Prepared(
        deployments=deployments,
        changes=changes,
        ci_runs=ci,
        coverage=coverage,
        incidents=incidents,
        teams=dtype,
        has=has,
    )


def _prepared_deployments(
    deployments: pd.DataFrame, rollouts: pd.DataFrame, production: Sequence[str]
) -> pd.DataFrame:
    out = deployments.assign(
        t=deployments["finished_at"].fillna(deployments["started_at"]),
        is_prod=_is_production(deployments["environment"], production),
    )
    out["resolved_strategy"] = _resolved_strategy(out, rollouts)
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


def _resolved_strategy(deployments: pd.DataFrame, rollouts: pd.DataFrame) -> pd.Series:
    """A deploy's strategy, with `unknown` taken from its service's latest rollout sample."""
    strategy = deployments["strategy"].astype(object).fillna("unknown")
    unknown = (strategy == "unknown") & deployments["service"].notna() & deployments["t"].notna()
    samples = rollouts[rollouts["service"].notna() & rollouts["at"].notna()]
    if not unknown.any() or samples.empty:
        return strategy
    rows = np.flatnonzero(unknown.to_numpy())
    service, sample_service = _key_codes(deployments["service"], samples["service"])
    pos = _asof_positions(
        service[rows],
        _micros(deployments["t"])[rows],
        sample_service,
        _micros(samples["at"]),
        direction="backward",
    )
    sampled = samples["strategy"].astype(object).to_numpy()
    found = pos >= 0
    found[found] = pd.notna(sampled[pos[found]])
    resolved = strategy.to_numpy(copy=True)
    resolved[rows[found]] = sampled[pos[found]]
    return pd.Series(resolved, index=deployments.index, dtype=object)


def _prepared_changes(
    changes: pd.DataFrame, good: pd.DataFrame, named: np.ndarray | None = None
) -> pd.DataFrame:
    """Each change with the deployment that shipped it (``deployed_id``) and its finish time.

    ``named``: per change, the row in ``good`` of the (last) deployment its
    ``deployment_id`` names, -1 for none; looked up here when not given.
    """
    if named is None:
        named = _Ids(good["id"]).last(changes["deployment_id"])
    shipped = pd.Series(
        good["finished_at"].array.take(named, allow_fill=True), index=changes.index
    ).astype("datetime64[us, UTC]")
    deployed_id = changes["deployment_id"].astype(object).where(shipped.notna(), None)
    fallback = changes["deployment_id"].isna() | shipped.isna()
    fallback &= changes["merged_at"].notna() & changes["repo"].notna()
    if fallback.any() and not good.empty:
        candidates = good[good["repo"].notna()]
        rows = np.flatnonzero(fallback.to_numpy())
        repo, candidate_repo = _key_codes(changes["repo"], candidates["repo"])
        pos = _asof_positions(
            repo[rows],
            _micros(changes["merged_at"])[rows],
            candidate_repo,
            _micros(candidates["finished_at"]),
            direction="forward",
        )
        found = pos >= 0
        # Unmatched rows were empty already; they stay so (an id of NaN, as merge_asof gives).
        shipped = shipped.copy()
        shipped.iloc[rows[found]] = candidates["finished_at"].array[pos[found]]
        ids = np.full(len(rows), np.nan, dtype=object)
        ids[found] = candidates["id"].to_numpy(dtype=object)[pos[found]]
        deployed_id.iloc[rows] = ids
    lead = (shipped - changes["first_commit_at"]).dt.total_seconds() / 3600
    return changes.assign(
        deployed_at=shipped, deployed_id=deployed_id, lead_hours=lead.where(lead >= 0)
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
        named = _Ids(deployments["id"]).last(incidents["deployment_id"])
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
            left_key, right_key = _key_codes(incidents[key], candidates[key])
            pos = _asof_positions(
                left_key[rows],
                _micros(incidents["created_at"])[rows],
                right_key,
                _micros(candidates["finished_at"]),
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
        attributed_deployment=attributed, link_rule=rule, duration_hours=duration
    )


def _minutes_between(start: pd.Series, end: pd.Series, chunk: int = 1 << 20) -> pd.Series:
    """``(end - start)`` in minutes, a slice at a time: no 5M-row temporaries for 5M CI runs."""
    out = np.empty(len(end), dtype=np.float64)
    for low in range(0, len(end), chunk):
        part = end.iloc[low : low + chunk] - start.iloc[low : low + chunk]
        out[low : low + chunk] = (part.dt.total_seconds() / 60).to_numpy(dtype=np.float64)
    return pd.Series(out, index=end.index)


class _Ids:
    """Deployment ids, hashed once, for every lookup by id.

    Ids are matched by 64-bit hashes in sorted arrays (no hash table of 1M
    Python objects), every hit is confirmed by comparing the ids themselves,
    and what a hash cannot settle falls back to a pandas index.
    """

    def __init__(self, ids: pd.Series) -> None:
        self.values = ids.to_numpy(dtype=object)
        self.hashes = _hashes(self.values)
        self._index: pd.Index | None = None

    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.values)
        return self._index

    def last(self, wanted: pd.Series, among: np.ndarray | None = None) -> np.ndarray:
        """Per ``wanted`` id, the row of its last occurrence (among the ``among`` rows).

        -1 where the id is empty or not there. One lookup per non-empty wanted
        id, nothing built per row.
        """
        out = np.full(len(wanted), -1, dtype=np.int64)
        asked = wanted.notna().to_numpy()
        if not asked.any() or len(self.values) == 0:
            return out
        values = wanted.to_numpy(dtype=object)[asked]
        rows = np.arange(len(self.values)) if among is None else np.flatnonzero(among)
        if len(rows) == 0:
            return out
        wanted_hashes = _hashes(values) if self.hashes is not None else None
        if self.hashes is None or wanted_hashes is None:
            out[asked] = self._last_by_index(values, rows)
            return out
        # Stable sort: among equal hashes the last one is the last occurrence.
        order = np.argsort(self.hashes[rows], kind="stable")
        ranked = self.hashes[rows][order]
        pos = np.searchsorted(ranked, wanted_hashes, side="right") - 1
        hit = pos >= 0
        hit[hit] = ranked[pos[hit]] == wanted_hashes[hit]
        found = np.full(len(values), -1, dtype=np.int64)
        found[hit] = rows[order[pos[hit]]]
        same = np.asarray(self.values[found[hit]] == values[hit], dtype=bool)
        if not same.all():  # two ids with one hash: settle those by the ids themselves
            unsure = np.flatnonzero(hit)[~same]
            found[unsure] = self._last_by_index(values[unsure], rows)
        out[asked] = found
        return out

    def _last_by_index(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        index = self.index[rows]
        keep = ~index.duplicated(keep="last")
        hit = index[keep].get_indexer(pd.Index(values, dtype=object))
        return np.where(hit >= 0, rows[keep][np.maximum(hit, 0)], -1)


def _hashes(values: np.ndarray, chunk: int = 1 << 16) -> np.ndarray | None:
    """64-bit hashes of ids (None when some cannot be hashed as text).

    A slice at a time: hashing encodes every id, and 1M encoded copies at
    once would outlive the call as fragmented interpreter memory.
    """
    out = np.empty(len(values), dtype=np.uint64)
    try:
        for low in range(0, len(values), chunk):
            part = values[low : low + chunk]
            out[low : low + chunk] = pd.util.hash_array(part, categorize=False)
    except Exception:  # text that cannot be encoded: compared as objects
        return None
    return out


def _key_codes(left: pd.Series, right: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for two key columns in one shared space (-1: empty or absent on the right).

    Joining on these instead of the labels saves building millions of Python
    strings; categorical columns need only their (few) categories matched.
    """
    if isinstance(left.dtype, pd.CategoricalDtype) and isinstance(right.dtype, pd.CategoricalDtype):
        left_codes = left.cat.codes.to_numpy().astype(np.int64)
        right_codes = right.cat.codes.to_numpy().astype(np.int64)
        if left.cat.categories.equals(right.cat.categories):
            return left_codes, right_codes
        remap = right.cat.categories.get_indexer(left.cat.categories.astype(object))
        return np.append(remap, -1).astype(np.int64)[left_codes], right_codes
    both = pd.concat([left.astype(object), right.astype(object)], ignore_index=True)
    codes, _ = pd.factorize(both)
    return codes[: len(left)].astype(np.int64), codes[len(left) :].astype(np.int64)


def _micros(values: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (NaT as int64's minimum)."""
    return np.asarray(pd.DatetimeIndex(values).as_unit("us").asi8)


def _asof_positions(
    left_key: np.ndarray,
    left_t: np.ndarray,
    right_key: np.ndarray,
    right_t: np.ndarray,
    *,
    direction: Literal["backward", "forward"],
    tolerance: int | None = None,
) -> np.ndarray:
    """Per left row, the position of its ``merge_asof`` match among the right rows (-1: none).

    Keys are integer codes and times int64 microseconds (no empty ones); ties go
    as in ``merge_asof`` over rows stably sorted by time.
    """
    left = pd.DataFrame({"key": left_key, "t": left_t, "row": np.arange(len(left_key))})
    right = pd.DataFrame({"key": right_key, "t": right_t, "pos": np.arange(len(right_key))})
    joined = pd.merge_asof(
        left.sort_values("t", kind="stable"),
        right.sort_values("t", kind="stable"),
        on="t",
        by="key",
        direction=direction,
        tolerance=tolerance,
    )
    pos = joined["pos"].to_numpy(dtype=float)
    found = ~np.isnan(pos)
    out = np.full(len(left_key), -1, dtype=np.int64)
    out[joined["row"].to_numpy()[found]] = pos[found].astype(np.int64)
    return out


# --------------------------------------------------------------------------- windows


def window_metrics(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Every §2 metric for ``[start, end)``, one row per team (trends left empty)."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    days = (end_ts - start_ts) / DAY
    teams = prep.teams.categories
    out = pd.DataFrame(index=pd.CategoricalIndex(teams, dtype=prep.teams, name="team"))

    dep = prep.deployments
    in_window = dep["t"].ge(start_ts) & dep["t"].lt(end_ts) & dep["is_prod"]
    window = dep.loc[in_window, ["team", "status", "safe", "is_rollback", "id", "t"]]
    success = window[window["status"] == "success"]
    decided = window[window["status"].isin(("success", "failure"))]
    has_deploys = _as_index(prep.has["deployments"], out)

    deploys = _count(success, out).where(has_deploys)
    out["deploys"] = deploys
    out["deploys_per_day"] = deploys / days
    out["deploy_days_per_week_p50"] = _deploy_days_p50(success, start_ts, end_ts, out).where(
        has_deploys
    )
    out["velocity_trend"] = np.nan

    changes = prep.changes
    shipped = changes["deployed_at"].ge(start_ts) & changes["deployed_at"].lt(end_ts)
    lead = changes.loc[shipped & changes["lead_hours"].notna(), ["team", "lead_hours"]]
    grouped = lead.groupby("team", observed=False)["lead_hours"]
    out["lead_time_p50_hours"] = grouped.quantile(0.5).reindex(teams).to_numpy()
    out["lead_time_p90_hours"] = grouped.quantile(0.9).reindex(teams).to_numpy()

    out["coverage_pct"] = coverage_at(prep, end_ts, inclusive=True).reindex(teams).to_numpy()
    out["coverage_delta_pts"] = np.nan
    out["canary_share"] = _mean(success, "safe", out)

    ci = prep.ci_runs
    ci_mask = (
        ci["is_default_branch"]
        & ci["t"].ge(start_ts)
        & ci["t"].lt(end_ts)
        & ci["conclusion"].isin(("success", "failure"))
    )
    runs = ci.loc[ci_mask, ["team", "conclusion", "minutes"]]
    runs = runs.assign(ok=runs["conclusion"] == "success")
    out["ci_success_rate"] = _mean(runs, "ok", out)
    durations = runs.loc[runs["minutes"].notna(), ["team", "minutes"]]
    out["ci_duration_p50_minutes"] = (
        durations.groupby("team", observed=False)["minutes"].median().reindex(teams).to_numpy()
    )

    inc = prep.incidents
    known = inc[inc["created_at"].lt(end_ts)]
    hit_ids = set(known["attributed_deployment"].dropna())
    failed = decided.assign(
        failed=(decided["status"] == "failure")
        | ((decided["status"] == "success") & decided["id"].isin(hit_ids))
    )
    out["change_failure_rate"] = _mean(failed, "failed", out)

    created = known[known["created_at"].ge(start_ts)]
    resolved = created["resolved_at"].notna() & created["resolved_at"].lt(end_ts)
    has_incidents = _as_index(prep.has["incidents"], out)
    recovery = created.loc[resolved, ["team", "duration_hours"]]
    out["recovery_time_p50_hours"] = (
        recovery.groupby("team", observed=False)["duration_hours"]
        .median()
        .reindex(teams)
        .to_numpy()
    )
    out["incidents"] = _count(created, out).where(has_incidents)
    severe = created[created["severity"].isin(("sev1", "sev2"))]
    out["incidents_sev1_2"] = _count(severe, out).where(has_incidents)
    out["incidents_open"] = _count(created[~resolved], out).where(has_incidents)
    out["rework_rate"] = _mean(decided, "is_rollback", out)
    return out[list(METRIC_COLUMNS)]


def _teams(out: pd.DataFrame) -> pd.Index:
    index = out.index
    assert isinstance(index, pd.CategoricalIndex)
    return index.categories


def _as_index(flags: pd.Series, out: pd.DataFrame) -> pd.Series:
    return pd.Series(flags.reindex(_teams(out)).to_numpy(), index=out.index).astype(bool)


def _count(frame: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    counts = frame.groupby("team", observed=False).size()
    return pd.Series(
        counts.reindex(_teams(out)).fillna(0).astype(float).to_numpy(), index=out.index
    )


def _mean(frame: pd.DataFrame, column: str, out: pd.DataFrame) -> np.ndarray[Any, Any]:
    values = frame[["team", column]].astype({column: float})
    means = values.groupby("team", observed=False)[column].mean()
    return means.reindex(_teams(out)).to_numpy(dtype=float)


def _deploy_days_p50(
    success: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, out: pd.DataFrame
) -> pd.Series:
    """Median, over the 7-day periods ending at ``end``, of distinct deploy dates."""
    periods = int((end - start) // WEEK)
    if periods == 0:
        return pd.Series(np.nan, index=out.index)
    first = end - periods * WEEK
    recent = success[success["t"].ge(first)]
    frame = pd.DataFrame(
        {
            "team": recent["team"],
            # period k is [end - (k + 1) weeks, end - k weeks): half-open like the window
            "period": (-((recent["t"] - end) // WEEK) - 1).astype("int64"),
            "date": recent["t"].dt.floor("D"),
        }
    ).drop_duplicates()
    counts = frame.groupby(["team", "period"], observed=False).size().unstack(fill_value=0)
    counts = counts.reindex(index=_teams(out), columns=range(periods), fill_value=0)
    # A period that does not start at midnight touches 8 UTC dates; a week has 7 days.
    return pd.Series(counts.clip(upper=7).median(axis=1).to_numpy(dtype=float), index=out.index)


def coverage_at(prep: Prepared, when: pd.Timestamp, *, inclusive: bool = True) -> pd.Series:
    """Team coverage: mean over its repos of each repo's latest sample at or before ``when``."""
    cov = prep.coverage
    mask = cov["measured_at"].le(when) if inclusive else cov["measured_at"].lt(when)
    latest = cov.loc[mask, ["team", "repo", "line_coverage"]].drop_duplicates(
        ["team", "repo"], keep="last"
    )
    return latest.groupby("team", observed=False)["line_coverage"].mean()


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class TeamMetrics:
    """The current window, the previous one, and the 12-week series."""

    current: pd.DataFrame
    previous: pd.DataFrame
    weekly_deploys: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def team_metrics(prep: Prepared, as_of: datetime, window_days: int) -> TeamMetrics:
    """Current-window metrics with trends against the previous window of the same length."""
    end = pd.Timestamp(as_of)
    start = end - pd.Timedelta(days=window_days)
    current = window_metrics(prep, start, end)
    previous = window_metrics(prep, start - pd.Timedelta(days=window_days), start)
    prev_deploys = previous["deploys"].where(previous["deploys"] > 0)
    current["velocity_trend"] = current["deploys"] / prev_deploys - 1
    current["coverage_delta_pts"] = current["coverage_pct"] - previous["coverage_pct"]
    previous["coverage_delta_pts"] = np.nan
    return TeamMetrics(
        current=current,
        previous=previous,
        weekly_deploys=weekly_deploys(prep, end),
        start=start,
        end=end,
    )


def iso_week_starts(as_of: datetime, weeks: int = 12) -> list[pd.Timestamp]:
    """Mondays (00:00 UTC) of the last ``weeks`` ISO weeks, the one holding ``as_of`` last."""
    end = pd.Timestamp(as_of)
    monday = (end - pd.Timedelta(days=end.weekday())).floor("D")
    return [monday - WEEK * k for k in range(weeks - 1, -1, -1)]


def weekly_deploys(prep: Prepared, as_of: datetime, weeks: int = 12) -> pd.DataFrame:
    """Successful production deploys per team per ISO week (columns: week starts)."""
    starts = iso_week_starts(as_of, weeks)
    end = pd.Timestamp(as_of)
    dep = prep.deployments
    mask = dep["is_prod"] & (dep["status"] == "success") & dep["t"].ge(starts[0]) & dep["t"].lt(end)
    recent = dep.loc[mask, ["team", "t"]]
    week = ((recent["t"] - starts[0]).dt.total_seconds() // WEEK.total_seconds()).astype("int64")
    counts = (
        pd.DataFrame({"team": recent["team"], "week": week})
        .groupby(["team", "week"], observed=False)
        .size()
        .unstack(fill_value=0)
        .reindex(index=prep.teams.categories, columns=range(weeks), fill_value=0)
    )
    counts.columns = pd.DatetimeIndex(starts)
    counts.index.name = "team"
    return counts


def weekly_metrics(prep: Prepared, as_of: datetime, weeks: int = 12) -> pd.DataFrame:
    """Long format: one row per team and ISO week, the §2 metrics over that week."""
    end = pd.Timestamp(as_of)
    parts = []
    for monday in iso_week_starts(end, weeks):
        week_end = min(monday + WEEK, end)
        frame = window_metrics(prep, monday, week_end)
        frame = frame.drop(columns=["velocity_trend", "coverage_delta_pts"])
        frame.insert(0, "week_end", week_end)
        frame.insert(0, "week_start", monday)
        parts.append(frame.reset_index())
    return pd.concat(parts, ignore_index=True)


def incident_rows(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Incidents created in ``[start, end)`` with their attribution."""
    inc = prep.incidents
    mask = inc["created_at"].ge(pd.Timestamp(start)) & inc["created_at"].lt(pd.Timestamp(end))
    return inc.loc[mask].sort_values(["team", "created_at"], kind="stable")


def deployment_rows(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Production deployments in ``[start, end)`` with resolved strategy and incident counts."""
    dep = prep.deployments
    mask = dep["is_prod"] & dep["t"].ge(pd.Timestamp(start)) & dep["t"].lt(pd.Timestamp(end))
    rows = dep.loc[mask]
    extra = _deferred_deployment_columns(prep)
    if extra is not None:
        rows = rows.assign(**{c: extra.loc[mask, c] for c in extra.columns})
        schema = [c for c in SCHEMAS["deployments"] if c in rows.columns]
        rows = rows[[*schema, *(c for c in rows.columns if c not in SCHEMAS["deployments"])]]
    known = prep.incidents[prep.incidents["created_at"].lt(pd.Timestamp(end))]
    counts = known["attributed_deployment"].value_counts()
    attributed = rows["id"].map(counts).fillna(0).astype("int64")
    return rows.assign(incidents=attributed).sort_values(["team", "t"], kind="stable")


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


__all__ = [
    "METRIC_COLUMNS",
    "EventKind",
    "Prepared",
    "TeamMap",
    "TeamMetrics",
    "assign_teams",
    "coverage_at",
    "deployment_rows",
    "incident_rows",
    "prepare",
    "team_map_from",
    "team_metrics",
    "weekly_deploys",
    "weekly_metrics",
    "window_metrics",
]
