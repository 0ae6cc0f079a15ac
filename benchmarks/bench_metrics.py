"""Benchmark 1: metrics at scale, scorecard vs a DuckDB SQL reference (SPEC §11).

Both read the same Parquet cache. scorecard is timed as the TUI and exports
use it (``service.cached_scorecard``: load, attribute, every metric for the
current and previous windows, the weekly series, scores, flags and reasons);
DuckDB computes the same metrics in SQL. Each is timed in fresh processes
(interpreter start to exit) and in-process (imports done, median of runs).

Workers (run by the driver in child processes)::

    python -m benchmarks.bench_metrics scorecard ROOT SCALE SEED --runs N [--dump]
    python -m benchmarks.bench_metrics duckdb ROOT SCALE SEED --runs N [--dump]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Child, emit, log, median, mib, run_child, secs
from benchmarks.org import AS_OF, WINDOW_DAYS, Size, config_for

BUDGET_RATIO = 2.0
BUDGET_RSS = 10**9  # 1 GB


# --------------------------------------------------------------------------- workers


def _scorecard_worker(root: Path, size: Size, runs: int, dump: bool) -> dict[str, Any]:
    from datetime import timedelta

    from scorecard import service
    from scorecard.request import ScoreRequest
    from scorecard.store import Store

    config = config_for(size)
    times = []
    scorecard = None
    for _ in range(runs):
        start = time.perf_counter()
        request = ScoreRequest(
            as_of=AS_OF, window_days=WINDOW_DAYS, now=AS_OF + timedelta(minutes=5)
        )
        scorecard = service.cached_scorecard(config, Store(root, read_only=True), request=request)
        times.append(time.perf_counter() - start)
    out: dict[str, Any] = {"times": times}
    if dump and scorecard is not None:
        from benchmarks.duckdb_reference import METRICS

        table = scorecard.report.table
        out["table"] = {
            str(team): {m: _num(table.at[team, m]) for m in METRICS} for team in table.index
        }
    return out


def _duckdb_worker(root: Path, size: Size, runs: int, dump: bool) -> dict[str, Any]:
    from benchmarks.duckdb_reference import compute

    config = config_for(size)
    teams = [t.name for t in config.teams]
    repos = {r: t.name for t in config.teams for r in t.repos}
    services = {s: t.name for t in config.teams for s in t.services}
    times = []
    result: dict[str, dict[str, float]] = {}
    for _ in range(runs):
        start = time.perf_counter()
        result = compute(
            root,
            teams=teams,
            repo_owner=repos,
            service_owner=services,
            as_of=AS_OF,
            window_days=WINDOW_DAYS,
            production=config.production_environments,
            link_hours=config.incident_link_hours,
        )
        times.append(time.perf_counter() - start)
    out: dict[str, Any] = {"times": times}
    if dump:
        out["table"] = {team: {m: _num(v) for m, v in row.items()} for team, row in result.items()}
    return out


def _num(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


# --------------------------------------------------------------------------- driver


def agreement(ours: dict[str, dict[str, Any]], ref: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Largest absolute difference per metric over the teams both report."""
    worst: dict[str, float] = {}
    mismatched = 0
    teams = sorted(set(ours) & set(ref))
    for team in teams:
        for metric, value in ours[team].items():
            other = ref[team].get(metric)
            if (value is None) != (other is None):
                mismatched += 1
                continue
            if value is not None and other is not None:
                worst[metric] = max(worst.get(metric, 0.0), abs(value - other))
    # The relative error is what matters for large numbers (hours, counts).
    return {
        "teams": len(teams),
        "metrics": len(worst),
        "max_abs_diff": max(worst.values(), default=0.0),
        "worst_metric": max(worst, key=lambda m: worst[m]) if worst else "",
        "empty_mismatches": mismatched,
        "missing_teams": sorted(set(ours) ^ set(ref)),
    }


def run(scale: float, seed: int, runs: int) -> dict[str, Any]:
    """Generate (or reuse) the data set, time both sides, compare their numbers."""
    size = Size().scaled(scale)
    made = run_child("benchmarks.data", str(scale), str(seed))
    root = made.output["root"]
    args = [root, str(scale), str(seed)]
    log(f"metrics: data set {Path(root).name}")

    fresh_sc: list[Child] = []
    fresh_db: list[Child] = []
    for i in range(runs):
        fresh_db.append(run_child("benchmarks.bench_metrics", "duckdb", *args, "--runs", "1"))
        fresh_sc.append(run_child("benchmarks.bench_metrics", "scorecard", *args, "--runs", "1"))
        log(
            f"metrics: fresh run {i + 1}/{runs}: scorecard {secs(fresh_sc[-1].wall_s)} "
            f"({mib(fresh_sc[-1].max_rss_bytes)}), duckdb {secs(fresh_db[-1].wall_s)}"
        )
    # In-process: one warm-up run, then `runs` timed ones.
    loop_db = run_child(
        "benchmarks.bench_metrics", "duckdb", *args, "--runs", str(runs + 1), "--dump"
    )
    loop_sc = run_child(
        "benchmarks.bench_metrics", "scorecard", *args, "--runs", str(runs + 1), "--dump"
    )
    sc_times = loop_sc.output["times"][1:]
    db_times = loop_db.output["times"][1:]
    log(f"metrics: in-process scorecard {[round(t, 2) for t in sc_times]}")
    log(f"metrics: in-process duckdb    {[round(t, 2) for t in db_times]}")
    result = {
        "size": size.__dict__,
        "scale": scale,
        "seed": seed,
        "fresh_scorecard_s": median([c.wall_s for c in fresh_sc]),
        "fresh_duckdb_s": median([c.wall_s for c in fresh_db]),
        "inproc_scorecard_s": median(sc_times),
        "inproc_duckdb_s": median(db_times),
        "peak_rss_bytes": max(c.max_rss_bytes for c in fresh_sc),
        "duckdb_peak_rss_bytes": max(c.max_rss_bytes for c in fresh_db),
        "agreement": agreement(loop_sc.output["table"], loop_db.output["table"]),
    }
    result["fresh_ratio"] = result["fresh_scorecard_s"] / result["fresh_duckdb_s"]
    result["inproc_ratio"] = result["inproc_scorecard_s"] / result["inproc_duckdb_s"]
    result["passed"] = (
        result["fresh_ratio"] <= BUDGET_RATIO
        and result["inproc_ratio"] <= BUDGET_RATIO
        and result["peak_rss_bytes"] < BUDGET_RSS
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=["scorecard", "duckdb"])
    parser.add_argument("root", type=Path)
    parser.add_argument("scale", type=float)
    parser.add_argument("seed", type=int)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dump", action="store_true")
    args = parser.parse_args()
    size = Size().scaled(args.scale)
    worker = _scorecard_worker if args.side == "scorecard" else _duckdb_worker
    emit(worker(args.root, size, args.runs, args.dump))


if __name__ == "__main__":
    main()
