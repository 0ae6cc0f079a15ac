"""A seeded, vectorized generator for the "metrics at scale" benchmark (SPEC §11).

A 200-team org over two years: 1,000 repos (five per team, one service each),
1,000,000 deployments, 5,000,000 CI runs, 1,000,000 merged changes, 50,000
incidents, daily coverage per repo and daily rollout samples for the services
whose deploys report no strategy. Events carry no team: like a real GitHub or
PagerDuty sync, they are attributed through the config's repo and service
owners, and 2% land in repos nobody owns (the ``unassigned`` row).

Everything is written through :class:`scorecard.store.Store`, so the benchmark
reads exactly the cache format a real sync leaves behind. The cache is kept
under ``benchmarks/.data/<key>/`` (gitignored), keyed by seed, scale and
generator version, and reused by later runs.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.org import (
    AS_OF,
    DATA_DIR,
    HISTORY_DAYS,
    WINDOW_DAYS,
    Dataset,
    Size,
    repo_names,
    service_names,
    team_names,
)

# --------------------------------------------------------------------------- helpers


def _cat(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(
        codes.astype(np.int32), categories=pd.Index(labels, dtype="string")
    )


def _enum(codes: np.ndarray, labels: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(labels))


def _ts(micros: np.ndarray) -> pd.Series:
    """Microseconds since the epoch (int64, NaT allowed via the int64 minimum) -> UTC."""
    return pd.Series(micros.astype("datetime64[us]")).dt.tz_localize("UTC")


def _strings(prefix: str, numbers: np.ndarray, suffix: str = "") -> pd.Series:
    """``prefix + str(n) + suffix`` for every n, built in Arrow (no Python loop)."""
    text = pc.cast(pa.array(numbers), pa.string())
    joined = pc.binary_join_element_wise(prefix, text, suffix, "")
    return pd.Series(joined.to_numpy(zero_copy_only=False), dtype=object)


def _hex_shas(rng: np.random.Generator, n: int) -> np.ndarray:
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = digits[rng.integers(0, 16, size=(n, 40), dtype=np.uint8)]
    return raw.view("S40").ravel().astype(str).astype(object)


def _choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cum = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _with_nulls(values: pd.Series, null: np.ndarray) -> pd.Series:
    out = values.copy()
    out[null] = None
    return out


MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


# --------------------------------------------------------------------------- generation


def generate(size: Size, seed: int, as_of: datetime = AS_OF) -> dict[str, dict[str, pd.DataFrame]]:
    """Source name -> event kind -> typed frame."""
    from scorecard.model import CI_CONCLUSIONS, DEPLOY_STATUSES, SEVERITIES, STRATEGIES

    rng = np.random.default_rng(seed)
    end = int(pd.Timestamp(as_of).value // 1000)
    begin = end - HISTORY_DAYS * DAY
    repos = repo_names(size)
    services = service_names(size)
    n_owned = size.repos
    n_repos = len(repos)
    n_teams = size.teams
    names = team_names(size)

    # Per-team character: how much it ships, how safely, how well.
    weight = rng.gamma(2.0, 1.0, n_teams)
    canary = rng.beta(2, 2, n_teams)
    fail = rng.beta(2, 30, n_teams)
    ci_ok = rng.beta(30, 3, n_teams)
    cov_base = rng.uniform(45, 92, n_teams)
    unknown_teams = rng.random(n_teams) < 0.2  # deploys report no strategy; rollouts tell
    # Repo weights: five repos per team share the team's weight; orphans get 2%.
    repo_w = np.concatenate(
        [np.repeat(weight / size.repos_per_team, size.repos_per_team), np.zeros(n_repos - n_owned)]
    )
    repo_w = repo_w / repo_w.sum() * 0.98
    repo_w[n_owned:] = 0.02 / (n_repos - n_owned)
    repo_team = np.concatenate(
        [np.repeat(np.arange(n_teams), size.repos_per_team), np.full(n_repos - n_owned, -1)]
    )

    def owner(repo_idx: np.ndarray) -> np.ndarray:
        team = repo_team[repo_idx]
        return np.where(team >= 0, team, rng.integers(0, n_teams, len(repo_idx)))

    # ---- deployments
    n = size.deployments
    d_repo = rng.choice(n_repos, size=n, p=repo_w)
    d_team = owner(d_repo)
    # more deploys recently for a third of the teams (pressure rising)
    rising = rng.random(n_teams) < 0.33
    u = rng.random(n)
    u = np.where(rising[d_team], np.sqrt(u), u)
    d_finished = begin + (u * (end - begin)).astype(np.int64)
    d_started = d_finished - rng.integers(2 * MINUTE, 40 * MINUTE, n)
    d_env = _choice(rng, np.tile([0.85, 0.05, 0.10], (n, 1)))  # production, prod, staging
    p_fail = fail[d_team]
    status_p = np.stack(
        [0.96 - p_fail, p_fail, np.full(n, 0.03), np.full(n, 0.01)], axis=1
    )  # success, failure, cancelled, in_progress
    d_status = _choice(rng, status_p)
    c = canary[d_team]
    unk = np.where(unknown_teams[d_team], 0.4, 0.0)
    strat_p = np.stack(
        [
            c * 0.8 * (1 - unk),
            c * 0.2 * (1 - unk),
            (1 - c) * 0.6 * (1 - unk),
            (1 - c) * 0.4 * (1 - unk),
            unk,
        ],
        axis=1,
    )
    d_strategy = _choice(rng, strat_p)
    in_progress = d_status == DEPLOY_STATUSES.index("in_progress")
    d_fin = _ts(d_finished)
    d_fin[in_progress] = pd.NaT
    d_ids = _strings("gh-deploy-", np.arange(n))
    d_id_values = d_ids.to_numpy()
    d_sha = _hex_shas(rng, n)
    deployments = pd.DataFrame(
        {
            "id": d_ids,
            "source": _cat(np.zeros(n), ["github"]),
            "team": _cat(np.full(n, -1), []),
            "service": _cat(d_repo, services),
            "repo": _cat(d_repo, repos),
            "environment": _cat(d_env, ["production", "prod", "staging"]),
            "status": _enum(d_status, DEPLOY_STATUSES),
            "strategy": _enum(d_strategy, STRATEGIES),
            "started_at": _ts(d_started),
            "finished_at": d_fin,
            "commit_sha": d_sha,
            "is_rollback": rng.random(n) < 0.03,
            "url": _strings("https://github.example/acme/deployments/", np.arange(n)),
        }
    )

    # ---- rollouts: daily samples for services of teams whose deploys say `unknown`
    svc_idx = np.flatnonzero(unknown_teams[repo_team[:n_owned]])
    days = np.arange(HISTORY_DAYS + 1)
    r_svc = np.repeat(svc_idx, len(days))
    r_at = begin + np.tile(days, len(svc_idx)) * DAY + rng.integers(0, DAY, len(r_svc))
    r_team = repo_team[r_svc]
    r_safe = rng.random(len(r_svc)) < canary[r_team]
    r_strategy = np.where(r_safe, STRATEGIES.index("canary"), STRATEGIES.index("rolling"))
    rollouts = pd.DataFrame(
        {
            "source": _cat(np.zeros(len(r_svc)), ["prometheus"]),
            "team": _cat(np.full(len(r_svc), -1), []),
            "service": _cat(r_svc, services),
            "at": _ts(r_at),
            "strategy": _enum(r_strategy, STRATEGIES),
        }
    )

    # ---- changes: shipped by a deploy of the same repo; 30% name it explicitly
    m = size.changes
    via = rng.integers(0, n, m)
    merged = d_finished[via] - (rng.exponential(3.0, m) * HOUR).astype(np.int64)
    first = merged - (rng.lognormal(np.log(20.0), 1.2, m) * HOUR).astype(np.int64)
    explicit = rng.random(m) < 0.3
    changes = pd.DataFrame(
        {
            "id": _strings("gh-pr-", np.arange(m)),
            "source": _cat(np.zeros(m), ["github"]),
            "team": _cat(np.full(m, -1), []),
            "repo": _cat(d_repo[via], repos),
            "title": _strings("Change ", np.arange(m)),
            "first_commit_at": _ts(first),
            "merged_at": _ts(merged),
            "merge_sha": d_sha[via],
            "deployment_id": _with_nulls(pd.Series(d_id_values[via], dtype=object), ~explicit),
            "labels": pd.Series([[] for _ in range(m)], dtype=object),
            "paths": pd.Series([[] for _ in range(m)], dtype=object),
        }
    )

    # ---- CI runs: default-branch and PR runs, five workflows
    k = size.ci_runs
    c_repo = rng.choice(n_repos, size=k, p=repo_w)
    c_team = owner(c_repo)
    c_finished = begin + (rng.random(k) * (end - begin)).astype(np.int64)
    c_started = c_finished - (rng.lognormal(np.log(9.0), 0.6, k) * MINUTE).astype(np.int64)
    ok = ci_ok[c_team]
    concl_p = np.stack(
        [ok * 0.95, (1 - ok) * 0.95, np.full(k, 0.03), np.full(k, 0.01), np.full(k, 0.01)], axis=1
    )
    c_concl = _choice(rng, concl_p)
    default = rng.random(k) < 0.6
    branch = np.where(default, "main", "feature")
    c_fin = _ts(c_finished)
    c_fin[rng.random(k) < 0.005] = pd.NaT  # still running
    ci_runs = pd.DataFrame(
        {
            "id": _strings("gh-run-", np.arange(k)),
            "source": _cat(np.zeros(k), ["github"]),
            "team": _cat(np.full(k, -1), []),
            "repo": _cat(c_repo, repos),
            "workflow": _cat(rng.integers(0, 5, k), ["ci", "lint", "e2e", "build", "evals"]),
            "branch": pd.Series(branch, dtype=object),
            "is_default_branch": default,
            "commit_sha": d_sha[rng.integers(0, n, k)],
            "conclusion": _enum(c_concl, CI_CONCLUSIONS),
            "started_at": _ts(c_started),
            "finished_at": c_fin,
            "attempt": rng.integers(1, 3, k).astype(np.int64),
        }
    )

    # ---- coverage: one sample per repo per day, a slow random walk per repo
    cov_repo = np.repeat(np.arange(n_owned), len(days))
    walk = rng.normal(0, 0.4, (n_owned, len(days))).cumsum(axis=1).ravel()
    cov_value = np.clip(cov_base[repo_team[cov_repo]] + walk, 0, 100)
    coverage = pd.DataFrame(
        {
            "source": _cat(np.zeros(len(cov_repo)), ["codecov"]),
            "team": _cat(np.full(len(cov_repo), -1), []),
            "repo": _cat(cov_repo, repos),
            "measured_at": _ts(
                begin + np.tile(days, n_owned) * DAY + rng.integers(0, 6 * HOUR, len(cov_repo))
            ),
            "line_coverage": cov_value.round(2),
        }
    )

    # ---- incidents: mostly soon after a production deploy of the same service
    q = size.incidents
    cause = rng.integers(0, n, q)
    kind = _choice(rng, np.tile([0.1, 0.7, 0.1, 0.1], (q, 1)))  # explicit, time, team, random
    created = np.where(
        kind == 3,
        begin + (rng.random(q) * (end - begin)).astype(np.int64),
        d_finished[cause] + (rng.exponential(6.0, q) * HOUR).astype(np.int64),
    )
    created = np.minimum(created, end + DAY)
    resolved = created + (rng.lognormal(np.log(2.0), 1.3, q) * HOUR).astype(np.int64)
    no_service = kind == 2
    i_service = _cat(np.where(no_service, -1, d_repo[cause]), services)
    i_team = _cat(np.where(no_service, d_team[cause], -1), names)
    i_resolved = _ts(resolved)
    i_resolved[rng.random(q) < 0.03] = pd.NaT
    incidents = pd.DataFrame(
        {
            "id": _strings("pd-", np.arange(q)),
            "source": _cat(np.zeros(q), ["pagerduty"]),
            "team": i_team,
            "service": i_service,
            "title": _strings("Incident ", np.arange(q)),
            "severity": _enum(
                _choice(rng, np.tile([0.03, 0.12, 0.35, 0.3, 0.2], (q, 1))), SEVERITIES
            ),
            "created_at": _ts(created),
            "resolved_at": i_resolved,
            "deployment_id": _with_nulls(pd.Series(d_id_values[cause], dtype=object), kind != 0),
            "url": _strings("https://acme.pagerduty.example/incidents/", np.arange(q)),
        }
    )
    return {
        "github": {"deployments": deployments, "changes": changes, "ci_runs": ci_runs},
        "pagerduty": {"incidents": incidents},
        "codecov": {"coverage": coverage},
        "prometheus": {"rollouts": rollouts},
    }


def ensure(size: Size, seed: int, *, log: Any = print) -> Dataset:
    """The cached data set for ``(size, seed)``, generated on first use."""
    from scorecard.sources import SourceResult
    from scorecard.store import Store

    root = DATA_DIR / size.key(seed)
    data = Dataset(root=root, size=size, seed=seed, as_of=AS_OF, window_days=WINDOW_DAYS)
    done = root / "complete.json"
    if done.exists():
        return data
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    log(f"generating {size.key(seed)} into {root} ...")
    by_source = generate(size, seed)
    store = Store(root)
    synced = AS_OF - timedelta(minutes=10)
    for name, frames in by_source.items():
        store.write_source(name, "files", SourceResult(frames=frames), attempted_at=synced)
    counts = {f"{s}.{k}": len(f) for s, fr in by_source.items() for k, f in fr.items()}
    done.write_text(json.dumps({"seed": seed, "counts": counts}, indent=2) + "\n")
    log(f"generated in {time.perf_counter() - started:.1f}s: {counts}")
    return data


if __name__ == "__main__":
    import sys

    from benchmarks.common import emit, log

    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    dataset = ensure(Size().scaled(scale), seed, log=log)
    emit({"root": str(dataset.root)})
