"""Deciding what one deployment record cannot say alone: whether a production
deployment was a canary (the same commit reached a canary environment first) and
whether it was a rollback (it ships a revert's merge commit). Shared by every
source built on :mod:`scorecard.sources.vcs`; pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from scorecard.sources.records import glob_match

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CANARY_ENVIRONMENTS",
    "DEFAULT_ROLLBACK_PATTERNS",
    "compile_patterns",
    "resolve_deployments",
]

DEFAULT_CANARY_ENVIRONMENTS: Final = ("canary*", "*-canary")
DEFAULT_ROLLBACK_PATTERNS: Final = (r"(?i)^revert\b", r"(?i)\brollback\b", r"(?i)\broll back\b")


def compile_patterns(patterns: Sequence[str] | None) -> list[re.Pattern[str]]:
    """The rollback regexes (the defaults when none are configured)."""
    return [re.compile(p) for p in (patterns or DEFAULT_ROLLBACK_PATTERNS)]


def resolve_deployments(
    deployments: pd.DataFrame,
    changes: pd.DataFrame | None,
    *,
    production: Sequence[str],
    canary_environments: Sequence[str],
    rollback_patterns: Sequence[re.Pattern[str]],
) -> pd.DataFrame:
    """Strategies and rollbacks that need more than one event to decide.

    A production deployment is ``canary`` when the same commit reached a canary
    environment (success) no later than it started; otherwise ``unknown`` (left
    for rollout samples to resolve). A deployment is a rollback when it was
    recognised as one when parsed, or when it ships the merge commit of a revert
    change (a change whose title matches a rollback pattern).
    """
    if deployments.empty:
        return deployments
    import pandas as pd

    env = deployments["environment"].astype(object)
    prod_names = {p.casefold() for p in production}
    is_prod = env.map(lambda e: isinstance(e, str) and e.casefold() in prod_names)
    is_canary = env.map(lambda e: isinstance(e, str) and glob_match(e, canary_environments))
    canary_first: dict[tuple[Any, Any], Any] = {}
    ok = deployments["status"].astype(object) == "success"
    for repo, sha, at in zip(
        deployments.loc[is_canary & ok, "repo"].astype(object),
        deployments.loc[is_canary & ok, "commit_sha"],
        deployments.loc[is_canary & ok, "started_at"],
    ):
        if sha and pd.notna(at):
            key = (repo, sha)
            canary_first[key] = min(at, canary_first.get(key, at))
    strategy = deployments["strategy"].astype(object).copy()
    for idx in deployments.index[is_prod.to_numpy(dtype=bool)]:
        key = (deployments.at[idx, "repo"], deployments.at[idx, "commit_sha"])
        first = canary_first.get(key)
        started: Any = deployments.at[idx, "started_at"]
        if first is not None and pd.notna(started) and first <= started:
            strategy[idx] = "canary"
        elif strategy[idx] == "canary":
            strategy[idx] = "unknown"
    strategy[is_canary & ~is_prod] = "canary"
    out = deployments.copy()
    out["strategy"] = strategy.astype(deployments["strategy"].dtype)
    if changes is not None and not changes.empty:
        titles = changes["title"].astype(object).fillna("")
        reverts = titles.map(lambda t: any(p.search(t) for p in rollback_patterns))
        shas = set(changes.loc[reverts, "merge_sha"].dropna().astype(str))
        if shas:
            out["is_rollback"] = out["is_rollback"] | out["commit_sha"].isin(shas)
    return out
