"""Change classes (SPEC §3): a rigor lens on risky kinds of change.

A lead configures classes such as ``ai`` (model, prompt and eval changes) and
sees, per team, whether that class's deploys get the rigor they need compared
with the team's other deploys: canary share, change failure rate, recovery
time, and ``gated_share``, the share of the class's deploys preceded by a
passing run of the class's ``required_workflow`` (e.g. an eval suite) on the
deployed commit.

Pure and vectorized like :mod:`scorecard.metrics`: labels and paths are
exploded once, each distinct path is matched once per class, and the only
Python loops run over the handful of configured classes. No I/O.

Decisions (see docs/metrics.md, "Change classes"):
- a deploy belongs to a class when its repo or service is listed in the class,
  or when a change it shipped (the change's deployment as linked by
  :func:`scorecard.metrics.prepare`) matches the class's labels (exact,
  case-insensitive), path globs (whole repo-relative path; ``*`` and ``?`` stay
  within a directory, ``**`` crosses directories, ``**/`` also matches no
  directory) or title patterns (regular expressions, searched anywhere in the
  title);
- a change also counts for the deployment it names (``deployment_id``), which
  may be a failed attempt, and every deployment of the same repo and commit
  as a member is a member too (a failed deploy and its retry ship the same
  change);
- a deploy is *gated* when a run of ``required_workflow`` (workflow name
  compared case-insensitively) with conclusion ``success`` on the same commit
  finished at or before the deploy started (finished, when it has no start);
- the "other changes" of a team for a class are the team's production deploys
  in the window that are not in the class.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from scorecard.bands import EPS
from scorecard.metrics import DECIDED, Prepared, between, incidents_by

if TYPE_CHECKING:
    from scorecard.config import ChangeClassConfig

SIDE_COLUMNS: Final[tuple[str, ...]] = (
    "deploys",
    "gated_deploys",
    "gated_share",
    "canary_share",
    "change_failure_rate",
    "recovery_time_p50_hours",
    "incidents",
)
"""What is measured on each side: the class's deploys, and the team's other deploys."""

COMPARED_COLUMNS: Final[tuple[str, ...]] = (
    "other_deploys",
    "other_canary_share",
    "other_change_failure_rate",
    "other_recovery_time_p50_hours",
)
"""The other deploys' measures a class row shows beside its own."""

CLASS_COLUMNS: Final[tuple[str, ...]] = (
    "team",
    "class",
    "required_workflow",
    "gated_floor",
    *SIDE_COLUMNS,
    *COMPARED_COLUMNS,
    "ungated",
    "riskier",
)

# A class is riskier than the team's other changes when its canary share is at
# least this much lower, or its change failure rate at least this much higher
# (the same sizes the spec calls a material decline), or it is ungated.
CANARY_MARGIN: Final = 0.10
FAILURE_MARGIN: Final = 0.05


# --------------------------------------------------------------------------- matching


def glob_to_regex(pattern: str) -> str:
    """A path glob as a regex for ``fullmatch`` over repo-relative paths.

    ``*`` and ``?`` match within one directory, ``**`` matches across
    directories, ``**/`` also matches no directory at all (``**/*.py`` matches
    ``a.py``), ``[abc]``/``[!abc]`` are character classes. A leading ``/`` or
    ``./`` is ignored: paths are always relative to the repository root.
    """
    pattern = pattern.removeprefix("./").lstrip("/")
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            if j - i == 1:
                out.append("[^/]*")
            elif (i == 0 or pattern[i - 1] == "/") and j < n and pattern[j] == "/":
                out.append("(?:.*/)?")
                j += 1
            else:
                out.append(".*")
            i = j
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                elif body.startswith("^"):
                    body = "\\" + body
                out.append(f"[{body}]")
                i = end + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def paths_regex(globs: Sequence[str]) -> str | None:
    """One regex (for ``fullmatch``) matching any of ``globs``; None without globs."""
    if not globs:
        return None
    return "|".join(f"(?:{glob_to_regex(g)})" for g in globs)


def _exploded(changes: pd.DataFrame, column: str) -> pd.Series:
    """One row per (change, list item), indexed by the change's row label."""
    if changes.empty:
        return pd.Series([], dtype=object)
    items = changes[column].explode()
    return items[items.notna()].astype(str)


def matching_changes(
    changes: pd.DataFrame,
    cls: ChangeClassConfig,
    *,
    labels: pd.Series | None = None,
    paths: pd.Series | None = None,
) -> pd.Series:
    """Which changes match the class's labels, path globs or title patterns.

    ``labels``/``paths`` are the exploded list columns (pass them when matching
    several classes so the explode happens once).
    """
    hit = pd.Series(False, index=changes.index)
    if changes.empty:
        return hit
    if cls.labels:
        labels = _exploded(changes, "labels") if labels is None else labels
        wanted = {label.casefold() for label in cls.labels}
        hit |= changes.index.isin(labels.index[labels.str.casefold().isin(wanted)])
    regex = paths_regex(cls.paths)
    if regex is not None:
        paths = _exploded(changes, "paths") if paths is None else paths
        distinct = pd.Series(paths.unique(), dtype=object).astype(str)
        matched = distinct[distinct.str.fullmatch(regex)]
        hit |= changes.index.isin(paths.index[paths.isin(matched)])
    if cls.title_patterns:
        titles = changes["title"].astype("string")
        with warnings.catch_warnings():  # groups in a pattern are fine: we only test for a match
            warnings.filterwarnings("ignore", "This pattern .* has match groups")
            for pattern in cls.title_patterns:
                hit |= titles.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
    return hit


def membership(prep: Prepared, classes: Sequence[ChangeClassConfig]) -> pd.DataFrame:
    """One boolean column per class, one row per deployment (``prep.deployments``' index).

    A change counts for the deployment that shipped it (``deployed_id``) and for
    the one it names (``deployment_id``, which may be a failed attempt). Every
    deployment of the same repo and commit as a member joins it too: a failed
    deploy and its retry ship the same change.
    """
    dep = prep.deployments
    changes = prep.changes
    shipped_id = changes["deployed_id"] if "deployed_id" in changes else changes["deployment_id"]
    linked = changes[shipped_id.notna() | changes["deployment_id"].notna()]
    shipped_id = shipped_id.loc[linked.index]
    labels = _exploded(linked, "labels")
    paths = _exploded(linked, "paths")
    repo = dep["repo"].astype(object)
    service = dep["service"].astype(object)
    commit = repo + "\x00" + dep["commit_sha"].astype(object)
    out: dict[str, np.ndarray[Any, Any]] = {}
    for cls in classes:
        member = repo.isin(list(cls.repos)) | service.isin(list(cls.services))
        if cls.labels or cls.paths or cls.title_patterns:
            hit = matching_changes(linked, cls, labels=labels, paths=paths)
            ids = pd.concat([shipped_id[hit], linked.loc[hit, "deployment_id"]]).dropna()
            by_change = dep["id"].isin(pd.unique(ids))
            if by_change.any():
                by_change |= commit.isin(pd.unique(commit[by_change].dropna()))
            member |= by_change
        out[cls.name] = member.fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(out, index=dep.index, columns=[c.name for c in classes])


def gated(prep: Prepared, workflow: str) -> pd.Series:
    """Per deployment: a passing ``workflow`` run on its commit finished before it started.

    "Before" is at or before the deploy's ``started_at`` (its ``finished_at`` when
    it has no start). A run that passed after the deploy, a failed run, or a run
    on another commit does not gate it.
    """
    dep = prep.deployments
    ci = prep.ci_runs
    names = pd.Series(ci["workflow"].dropna().unique(), dtype=object).astype(str)
    wanted = names[names.str.casefold() == workflow.casefold()]
    ok = (
        ci["workflow"].astype(object).isin(list(wanted))
        & (ci["conclusion"] == "success")
        & ci["commit_sha"].notna()
        & ci["finished_at"].notna()
    )
    runs = ci.loc[ok, ["commit_sha", "finished_at"]]
    if runs.empty:
        return pd.Series(False, index=dep.index)
    first_pass = runs.groupby(runs["commit_sha"].astype(object))["finished_at"].min()
    passed_at = pd.to_datetime(dep["commit_sha"].astype(object).map(first_pass), utc=True)
    reference = dep["started_at"].fillna(dep["finished_at"])
    result = passed_at.notna() & reference.notna() & (passed_at <= reference)
    return result.fillna(False).astype(bool)


# --------------------------------------------------------------------------- metrics


def empty_classes() -> pd.DataFrame:
    """The class table with no rows (no classes configured, or no class deploys)."""
    frame = pd.DataFrame({name: pd.Series(dtype=float) for name in CLASS_COLUMNS})
    types = {"team": object, "class": object, "required_workflow": object}
    return frame.astype(types | {"ungated": bool, "riskier": bool})


def class_metrics(
    prep: Prepared,
    classes: Sequence[ChangeClassConfig],
    start: datetime,
    end: datetime,
) -> pd.DataFrame:
    """Per team and class, ``[start, end)``: the class's deploys vs the team's other deploys.

    One row per team and class with at least one production deploy of the
    class (success or failure) in the window, teams in report order and classes
    in config order. Columns: :data:`CLASS_COLUMNS`; ``other_*`` are the same
    metrics over the team's deploys outside the class.
    """
    if not classes:
        return empty_classes()
    scope = _Scope(prep, classes, membership(prep, classes), pd.Timestamp(start), pd.Timestamp(end))
    keys = ["team", "class", "in_class"]
    deploys = _class_deploys(scope)
    stats = deploys.groupby(keys, sort=False).agg(
        decided=("failed", "size"),
        deploys=("success", "sum"),
        gated_deploys=("gated", "sum"),
        gated_share=("gated", "mean"),
        canary_share=("safe", "mean"),
        change_failure_rate=("failed", "mean"),
    )
    incidents = _class_incidents(scope)
    inc_stats = incidents.groupby(keys, sort=False).agg(
        incidents=("hours", "size"), recovery_time_p50_hours=("hours", "median")
    )
    stats = stats.join(inc_stats, how="left")
    stats["incidents"] = stats["incidents"].fillna(0)
    rows = _inside_vs_outside(stats.reset_index())
    if rows.empty:
        return empty_classes()
    return _in_report_order(_judged(rows, classes), prep)


@dataclass(frozen=True)
class _Scope:
    """What the class table is computed over: the classes, each deployment's membership
    (:func:`membership`) and the window ``[start, end)``."""

    prep: Prepared
    classes: Sequence[ChangeClassConfig]
    member: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def _class_deploys(scope: _Scope) -> pd.DataFrame:
    """One row per class and decided production deploy of the window: its team, whether
    it is in the class, and 0/1 columns to average (success, safe, gated, failed)."""
    prep, member = scope.prep, scope.member
    dep = prep.deployments
    in_window = dep["is_prod"] & between(dep["t"], scope.start, scope.end)
    in_window &= dep["status"].isin(DECIDED)
    window = dep.loc[in_window, ["team", "id", "status", "safe"]]
    success = (window["status"] == "success").to_numpy(dtype=bool)
    hit_ids = pd.unique(incidents_by(prep, scope.end)["attributed_deployment"].dropna())
    failed = ~success | window["id"].isin(hit_ids).to_numpy(dtype=bool)
    parts = []
    for cls in scope.classes:
        gate = (
            gated(prep, cls.required_workflow).loc[in_window].to_numpy(dtype=float)
            if cls.required_workflow
            else np.full(len(window), np.nan)
        )
        parts.append(
            pd.DataFrame(
                {
                    "team": window["team"].astype(object).to_numpy(),
                    "class": cls.name,
                    "in_class": member.loc[in_window, cls.name].to_numpy(dtype=bool),
                    "success": success.astype(float),
                    "safe": np.where(success, window["safe"].to_numpy(dtype=float), np.nan),
                    "gated": np.where(success, gate, np.nan),
                    "failed": failed.astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _class_incidents(scope: _Scope) -> pd.DataFrame:
    """One row per class and incident of the window that names (or was linked to) a
    deployment: the deployment's team and class membership decide where it counts;
    ``hours`` is its recovery time when it was resolved in the window."""
    dep, member = scope.prep.deployments, scope.member
    known = incidents_by(scope.prep, scope.end)
    created = known[known["created_at"].ge(scope.start) & known["attributed_deployment"].notna()]
    by_id = ~dep["id"].duplicated(keep="last")
    owner = pd.Series(dep.loc[by_id, "team"].astype(object).to_numpy(), index=dep.loc[by_id, "id"])
    member_by_id = member.loc[by_id].set_axis(dep.loc[by_id, "id"].to_numpy())
    attributed = created["attributed_deployment"].astype(object)
    resolved = created["resolved_at"].notna() & created["resolved_at"].lt(scope.end)
    hours = created["duration_hours"].where(resolved).to_numpy(dtype=float)
    team = attributed.map(owner).to_numpy()
    parts = [
        pd.DataFrame(
            {
                "team": team,
                "class": cls.name,
                "in_class": attributed.map(member_by_id[cls.name]).to_numpy(),
                "hours": hours,
            }
        )
        for cls in scope.classes
    ]
    incidents = pd.concat(parts, ignore_index=True)
    incidents = incidents[incidents["team"].notna() & incidents["in_class"].notna()]
    return incidents.astype({"in_class": bool})


def _inside_vs_outside(flat: pd.DataFrame) -> pd.DataFrame:
    """One row per team and class with deploys in the class: its stats beside the
    ``other_*`` stats of the team's deploys outside the class."""
    inside = flat[flat["in_class"]].drop(columns=["in_class", "decided"])
    outside = flat[~flat["in_class"]][["team", "class", *SIDE_COLUMNS]]
    outside = outside.rename(columns={c: f"other_{c}" for c in SIDE_COLUMNS})
    return inside.merge(outside, on=["team", "class"], how="left")


def _judged(rows: pd.DataFrame, classes: Sequence[ChangeClassConfig]) -> pd.DataFrame:
    """``rows`` with each class's configuration and the ``ungated``/``riskier`` verdicts."""
    config = pd.DataFrame(
        {
            "class": [c.name for c in classes],
            "required_workflow": [c.required_workflow for c in classes],
            "gated_floor": [float(c.gated_floor) for c in classes],
            "class_order": range(len(classes)),
        }
    )
    rows = rows.merge(config, on="class", how="left")
    rows["other_deploys"] = rows["other_deploys"].fillna(0)
    has_gate = rows["required_workflow"].notna()
    rows["gated_share"] = rows["gated_share"].where(has_gate)
    rows["gated_deploys"] = rows["gated_deploys"].where(has_gate & (rows["deploys"] > 0))
    rows["ungated"] = (
        has_gate & (rows["deploys"] >= 1) & (rows["gated_share"] < rows["gated_floor"] - EPS)
    ).astype(bool)
    canary_gap = rows["other_canary_share"] - rows["canary_share"]
    failure_gap = rows["change_failure_rate"] - rows["other_change_failure_rate"]
    rows["riskier"] = (
        rows["ungated"]
        | (canary_gap >= CANARY_MARGIN - EPS).fillna(False)
        | (failure_gap >= FAILURE_MARGIN - EPS).fillna(False)
    ).astype(bool)
    return rows


def _in_report_order(rows: pd.DataFrame, prep: Prepared) -> pd.DataFrame:
    """``rows`` sorted by team (report order) then class (config order), CLASS_COLUMNS only."""
    team_order = {str(t): i for i, t in enumerate(prep.teams.categories)}
    rows["team_order"] = rows["team"].astype(str).map(team_order).fillna(len(team_order))
    rows = rows.sort_values(["team_order", "class_order"], kind="stable")
    rows["team"] = rows["team"].astype(str)
    return rows[list(CLASS_COLUMNS)].reset_index(drop=True)


__all__ = [
    "CANARY_MARGIN",
    "CLASS_COLUMNS",
    "COMPARED_COLUMNS",
    "FAILURE_MARGIN",
    "SIDE_COLUMNS",
    "class_metrics",
    "empty_classes",
    "gated",
    "glob_to_regex",
    "matching_changes",
    "membership",
    "paths_regex",
]
