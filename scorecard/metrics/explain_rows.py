"""The row builders of :mod:`scorecard.metrics.explain`: one per family of metrics.

Each builder takes one team's events from the prepared tables, exactly as
:mod:`scorecard.metrics.windows` selects them for a window, and says per event
whether it was counted, its value, a one-word rule and a plain-words detail
naming the linked ids. The joins are never redone here: a change's deployment
and how it was found (``deployed_id``, ``deploy_rule``), an incident's
deployment and its rule (``attributed_deployment``, ``link_rule``) and a
deploy's strategy and the rollout sample behind it (``resolved_strategy``,
``strategy_sample_at``) are read as :func:`~scorecard.metrics.prepare.prepare`
left them. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from scorecard.metrics.prepare import SAFE_STRATEGIES, Prepared
from scorecard.metrics.windows import DECIDED, between, incidents_by

__all__ = [
    "EXPLAIN_COLUMNS",
    "Scope",
    "ci_rows",
    "coverage_rows",
    "deploy_rows",
    "failure_rows",
    "incident_rows",
    "lead_rows",
    "strategy_rows",
]

EXPLAIN_COLUMNS: Final = ("kind", "id", "at", "counted", "value", "rule", "detail")
"""The columns of an explanation, in SPEC §13's order."""


@dataclass(frozen=True)
class Scope:
    """One team and one window over the prepared tables."""

    prep: Prepared
    team: str
    start: pd.Timestamp
    end: pd.Timestamp
    production: tuple[str, ...]
    link_hours: float

    def mine(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The team's rows (compared on the categorical codes: no per-row strings)."""
        return frame[(frame["team"] == self.team).to_numpy(dtype=bool)]

    def holds(self, times: pd.Series, previous: bool = False) -> pd.Series:
        if previous:
            return between(times, self.start - (self.end - self.start), self.start)
        return between(times, self.start, self.end)


def _frame(kind: str, rows: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    """An explanation table for ``rows`` (columns given as values or per-row sequences)."""
    data = {name: columns[name] for name in EXPLAIN_COLUMNS[1:]}
    data["counted"] = np.broadcast_to(np.asarray(data["counted"], dtype=bool), len(rows))
    data["value"] = np.broadcast_to(np.asarray(data["value"], dtype=float), len(rows))
    out = pd.DataFrame({"kind": kind, **data}, index=rows.index)
    out["at"] = pd.to_datetime(out["at"], utc=True).astype("datetime64[us, UTC]")
    return out


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an empty one when the table was read without it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _iso(moment: Any) -> str:
    return "—" if moment is None or pd.isna(moment) else f"{pd.Timestamp(moment):%Y-%m-%d %H:%M}"


def _quoted(value: Any) -> str:
    return (
        "none" if value is None or (not isinstance(value, str) and pd.isna(value)) else f"'{value}'"
    )


# --------------------------------------------------------------------------- deployments


def _deploy_words(rows: pd.DataFrame, production: Sequence[str]) -> list[str]:
    """Why each deploy is production (or not) and how its strategy was resolved."""
    names = ", ".join(production)
    out = []
    columns = ("id", "environment", "is_prod", "strategy", "resolved_strategy")
    picked = [rows[c].astype(object).to_numpy() for c in columns]
    sampled = rows["strategy_sample_at"].to_numpy(dtype=object)
    services = _col(rows, "service").astype(object).to_numpy()
    for (ident, env, prod, own, resolved), sample_at, service in zip(
        zip(*picked), sampled, services
    ):
        if prod and "/actions/runs/" in str(ident):
            where = f"production: a deploy workflow's run to environment {_quoted(env)}"
        elif prod:
            where = f"production: environment {_quoted(env)} is one of {names}"
        else:
            where = f"not production: environment {_quoted(env)} is none of {names}"
        if sample_at is not None and not pd.isna(sample_at):
            how = (
                f"strategy {own or 'unknown'} in its own field, {resolved} from the rollout "
                f"sample of service {_quoted(service)} at {_iso(sample_at)}"
            )
        elif resolved == "unknown" or resolved is None:
            how = f"strategy unknown (no rollout sample of service {_quoted(service)} before it)"
        else:
            how = f"strategy {resolved} from its own field"
        out.append(f"{where}; {how}")
    return out


def _window_deploys(scope: Scope, previous: bool = False) -> pd.DataFrame:
    dep = scope.mine(scope.prep.deployments)
    return dep[scope.holds(dep["t"], previous)]


def deploy_rows(scope: Scope, previous: bool = False) -> pd.DataFrame:
    """Every deployment of the window: counted when successful and production.

    With ``previous``, the previous window's too (rule ``previous``; the
    window's counted ones have rule ``current``), for the velocity trend.
    """
    parts = [(_window_deploys(scope), "current" if previous else "ok")]
    if previous:
        parts.append((_window_deploys(scope, previous=True), "previous"))
    out = []
    for dep, word in parts:
        counted = dep["is_prod"] & (dep["status"] == "success")
        status = dep["status"].astype(object).fillna("unknown")
        rule = np.where(counted, word, np.where(dep["is_prod"], status, "not-production"))
        words = _deploy_words(dep, scope.production)
        detail = [f"{w}; status {s}" for w, s in zip(words, status)]
        value = counted.astype(float)
        out.append(
            _frame("deployment", dep, id=dep["id"], at=dep["t"], counted=counted, value=value,
                   rule=rule, detail=detail)
        )  # fmt: skip
    return pd.concat(out) if len(out) > 1 else out[0]


def strategy_rows(scope: Scope) -> pd.DataFrame:
    """The window's successful production deploys: value 1 when canary or blue-green."""
    dep = _window_deploys(scope)
    dep = dep[dep["is_prod"] & (dep["status"] == "success")]
    sampled = dep["strategy_sample_at"].notna()
    unknown = dep["resolved_strategy"].astype(object).fillna("unknown") == "unknown"
    rule = np.where(sampled, "rollout-sample", np.where(unknown, "no-strategy", "own-field"))
    safe = dep["resolved_strategy"].isin(SAFE_STRATEGIES)
    return _frame("deployment", dep, id=dep["id"], at=dep["t"], counted=True,
                  value=safe.astype(float), rule=rule,
                  detail=_deploy_words(dep, scope.production))  # fmt: skip


def failure_rows(scope: Scope, rework: bool = False) -> pd.DataFrame:
    """The window's production deploys that succeeded or failed.

    Change failure rate: value 1 when it failed or an incident known by the
    window's end is attributed to it. ``rework``: value 1 for a rollback.
    """
    dep = _window_deploys(scope)
    dep = dep[dep["is_prod"] & dep["status"].isin(DECIDED)]
    words = _deploy_words(dep, scope.production)
    failed = (dep["status"] == "failure").to_numpy()
    if rework:
        back = dep["is_rollback"].astype(bool).to_numpy()
        rule = np.where(back, "rollback", "ok")
        detail = [f"{'a rollback' if b else 'not a rollback'}; {w}" for b, w in zip(back, words)]
        return _frame("deployment", dep, id=dep["id"], at=dep["t"], counted=True,
                      value=back.astype(float), rule=rule, detail=detail)  # fmt: skip
    linked = _incidents_by_deploy(scope, dep["id"])
    rules, details = [], []
    for ident, fail, w in zip(dep["id"], failed, words):
        found = linked.get(ident, []) if not fail else []
        if fail:
            rules.append("failure")
            details.append(f"the deploy failed; {w}")
        elif found:
            explicit = any(rule == "explicit" for _, rule in found)
            rules.append("incident-explicit" if explicit else "incident-time")
            details.append(f"{_linked_words(found, scope.link_hours)}; {w}")
        else:
            rules.append("ok")
            details.append(f"succeeded, no incident attributed to it; {w}")
    value = np.array([r != "ok" for r in rules], dtype=float)
    return _frame("deployment", dep, id=dep["id"], at=dep["t"], counted=True, value=value,
                  rule=rules, detail=details)  # fmt: skip


def _incidents_by_deploy(scope: Scope, deploys: pd.Series) -> dict[Any, list[tuple[str, str]]]:
    """Deployment id -> (incident id, link rule) of the incidents known at the window's
    end that are attributed to one of ``deploys`` (any team's incidents)."""
    known = incidents_by(scope.prep, scope.end)
    known = known[known["attributed_deployment"].isin(set(deploys.dropna()))]
    out: dict[Any, list[tuple[str, str]]] = {}
    for deploy, incident, rule in zip(
        known["attributed_deployment"], known["id"], known["link_rule"]
    ):
        out.setdefault(deploy, []).append((str(incident), str(rule)))
    return out


def _linked_words(found: list[tuple[str, str]], link_hours: float) -> str:
    named = [i for i, rule in found if rule == "explicit"]
    timed = [i for i, rule in found if rule != "explicit"]
    parts = []
    if named:
        parts.append(f"incident {', '.join(named)} names it")
    if timed:
        parts.append(
            f"incident {', '.join(timed)} was created within {link_hours:g} h after it "
            "(the latest successful production deploy before)"
        )
    return " and ".join(parts)


# --------------------------------------------------------------------------- changes


def lead_rows(scope: Scope) -> pd.DataFrame:
    """Changes whose deployment finished in the window: value the lead time in hours.

    Changes merged in the window that no deployment shipped yet are listed,
    not counted (rule ``no-deploy``).
    """
    changes = scope.mine(scope.prep.changes)
    shipped = changes[scope.holds(changes["deployed_at"])]
    hours = (shipped["deployed_at"] - shipped["first_commit_at"]).dt.total_seconds() / 3600
    counted = shipped["lead_hours"].notna()
    found = shipped["deploy_rule"].map({"explicit": "deploy-explicit"}).fillna("deploy-after-merge")
    rule = np.where(counted, found, np.where(hours < 0, "negative", "no-first-commit"))
    detail = [
        _change_words(d, how, r, repo, merged, first)
        for d, how, r, repo, merged, first in zip(
            shipped["deployed_id"], found, rule, shipped["repo"], shipped["merged_at"],
            shipped["first_commit_at"]
        )
    ]  # fmt: skip
    rows = _frame("change", shipped, id=_col(shipped, "id"), at=shipped["deployed_at"],
                  counted=counted, value=hours, rule=rule, detail=detail)  # fmt: skip
    waiting = changes[changes["deployed_at"].isna() & scope.holds(changes["merged_at"])]
    words = [
        f"merged {_iso(m)}; no successful production deploy of repo {_quoted(r)} named by "
        "its deployment_id or finished at or after its merge"
        for m, r in zip(waiting["merged_at"], waiting["repo"])
    ]
    unshipped = _frame("change", waiting, id=_col(waiting, "id"), at=waiting["merged_at"],
                       counted=False, value=np.nan, rule="no-deploy", detail=words)  # fmt: skip
    return pd.concat([rows, unshipped]) if len(unshipped) else rows


def _change_words(deploy: Any, found: str, rule: str, repo: Any, merged: Any, first: Any) -> str:
    if found == "deploy-explicit":
        how = f"shipped by deployment {deploy}: its deployment_id names it"
    else:
        how = (
            f"shipped by deployment {deploy}: the first successful production deploy of repo "
            f"{_quoted(repo)} that finished at or after its merge ({_iso(merged)})"
        )
    if rule == "negative":
        return f"{how}; its first commit ({_iso(first)}) is later: negative, discarded"
    if rule == "no-first-commit":
        return f"{how}; no first commit time, so no lead time"
    return f"{how}; first commit {_iso(first)}"


# --------------------------------------------------------------------------- coverage and CI


def coverage_rows(scope: Scope, start_too: bool = False) -> pd.DataFrame:
    """Per repo, the latest coverage sample at or before the window's end (rule ``latest``).

    ``start_too``: rule ``end`` for those, and the latest at or before the
    window's start too (rule ``start``), for the coverage delta.
    """
    moments = [(scope.end, "end" if start_too else "latest")]
    if start_too:
        moments.append((scope.start, "start"))
    cov = scope.mine(scope.prep.coverage)
    parts = []
    for moment, word in moments:
        latest = cov[cov["measured_at"].le(moment)].drop_duplicates(["team", "repo"], keep="last")
        detail = [
            f"repo {_quoted(r)}: its latest sample at or before {_iso(moment)}, {v:.1f}%"
            for r, v in zip(latest["repo"], latest["line_coverage"])
        ]
        counted = latest["line_coverage"].notna()
        parts.append(
            _frame("coverage", latest, id=latest["repo"].astype(object), at=latest["measured_at"],
                   counted=counted, value=latest["line_coverage"], rule=word, detail=detail)
        )  # fmt: skip
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def ci_rows(scope: Scope, durations: bool = False) -> pd.DataFrame:
    """The window's default-branch CI runs: value 1 for a success (or the duration in
    minutes); runs not decided (cancelled, skipped ...) are listed, not counted."""
    ci = scope.mine(scope.prep.ci_runs)
    runs = ci[ci["is_default_branch"].astype(bool) & scope.holds(ci["t"])]
    conclusion = runs["conclusion"].astype(object).fillna("other")
    decided = conclusion.isin(DECIDED)
    if durations:
        counted = decided & runs["minutes"].notna()
        rule = np.where(counted, "ok", np.where(decided, "no-duration", conclusion))
        value = runs["minutes"]
    else:
        counted = decided
        rule = conclusion.to_numpy()
        value = (conclusion == "success").astype(float)
    detail = [
        f"workflow {_quoted(w)} of repo {_quoted(r)} on its default branch: {c}, "
        + ("no duration" if pd.isna(m) else f"{m:.1f} min")
        for w, r, c, m in zip(_col(runs, "workflow"), runs["repo"], conclusion, runs["minutes"])
    ]
    return _frame("ci_run", runs, id=_col(runs, "id"), at=runs["t"], counted=counted,
                  value=value, rule=rule, detail=detail)  # fmt: skip


# --------------------------------------------------------------------------- incidents


def incident_rows(scope: Scope, which: str = "all") -> pd.DataFrame:
    """The incidents created in the window; ``rule`` says which rule linked each one.

    ``which`` picks what is counted and the value: ``all`` / ``severe`` /
    ``open`` / ``unlinked`` (counts, value 1), ``recovery`` (resolved by the
    window's end, value in hours) or ``detection`` (with an impact start,
    ``created_at - started_at`` in hours).
    """
    inc = scope.mine(incidents_by(scope.prep, scope.end))
    inc = inc[inc["created_at"].ge(scope.start)]
    resolved = inc["resolved_at"].notna() & inc["resolved_at"].lt(scope.end)
    unlinked = inc["attributed_deployment"].isna()
    counted, value = {
        "all": (pd.Series(True, index=inc.index), None),
        "severe": (inc["severity"].isin(("sev1", "sev2")), None),
        "open": (~resolved, None),
        "unlinked": (unlinked, None),
        "recovery": (resolved, inc["duration_hours"]),
        "detection": (inc["detection_hours"].notna(), inc["detection_hours"]),
    }[which]
    rule = inc["link_rule"].astype(object).where(~unlinked, "unlinked").fillna("unlinked")
    detail = [
        _incident_words(row, resolved_by, scope.link_hours)
        for row, resolved_by in zip(inc.itertuples(index=False), resolved)
    ]
    return _frame("incident", inc, id=inc["id"], at=inc["created_at"], counted=counted,
                  value=counted.astype(float) if value is None else value, rule=rule,
                  detail=detail)  # fmt: skip


def _incident_words(row: Any, resolved: bool, link_hours: float) -> str:
    """Which rule linked the incident (or that none did), its severity, recovery, detection."""
    deploy, rule, service = row.attributed_deployment, row.link_rule, row.service
    if rule == "explicit":
        link = f"linked to deployment {deploy}: the incident names it"
    elif rule == "time":
        scope = f"service {_quoted(service)}" if _present(service) else "the team"
        link = (
            f"linked to deployment {deploy}: the latest successful production deploy of "
            f"{scope} that finished within {link_hours:g} h before it"
        )
    else:
        named = (
            f"names deployment {row.deployment_id}, which is not a known deployment; "
            if (_present(row.deployment_id))
            else "names no deployment; "
        )
        scope = f"service {_quoted(service)}" if _present(service) else "the team"
        link = (
            f"unlinked: it {named}no successful production deploy of {scope} finished "
            f"within {link_hours:g} h before it"
        )
    state = f"resolved {_iso(row.resolved_at)}" if resolved else "open at the window's end"
    found = getattr(row, "detection_hours", float("nan"))
    detected = "" if pd.isna(found) else f"; found {found:.1f} h after impact began"
    return f"{row.severity}, {state}{detected}; {link}"


def _present(value: Any) -> bool:
    return value is not None and not (not isinstance(value, str) and pd.isna(value))
