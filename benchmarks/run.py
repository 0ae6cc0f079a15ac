"""``make bench``: the SPEC §11 benchmarks, their budgets and pass/fail.

    python -m benchmarks.run [--only metrics,paint,sync,quota] [--scale 1.0] [--runs 3]
                             [--seed 42] [--json PATH] [--strict]

``--scale`` shrinks the metrics data set (0.05 for a quick look; budgets are
judged at 1.0). ``--strict`` exits 1 when a budget is missed. Progress goes to
stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_metrics, bench_paint, bench_quota, bench_sync
from benchmarks.common import log, machine, mib, secs


def _verdict(passed: bool | None) -> str:
    return "skipped" if passed is None else ("PASS" if passed else "FAIL")


def report(results: dict[str, Any]) -> str:
    lines = [f"machine: {results['machine']}", ""]
    rows: list[tuple[str, str, str, str]] = []
    m = results.get("metrics")
    if m:
        size = m["size"]
        lines.append(
            f"metrics: {size['teams']} teams, {size['deployments']:,} deployments, "
            f"{size['ci_runs']:,} CI runs, {size['changes']:,} changes, "
            f"{size['incidents']:,} incidents, daily coverage of "
            f"{size['teams'] * size['repos_per_team']:,} repos, 2 years (seed {m['seed']})"
        )
        a = m["agreement"]
        lines.append(
            f"metrics: scorecard vs DuckDB on {a['teams']} teams x {a['metrics']} metrics: "
            f"max abs diff {a['max_abs_diff']:.3g} ({a['worst_metric'] or '-'}), "
            f"{a['empty_mismatches']} empty/non-empty mismatches"
        )
        rows += [
            (
                "metrics, fresh process",
                f"scorecard {secs(m['fresh_scorecard_s'])} vs DuckDB "
                f"{secs(m['fresh_duckdb_s'])} = {m['fresh_ratio']:.2f}x",
                f"<= {bench_metrics.BUDGET_RATIO:g}x DuckDB",
                _verdict(m["fresh_ratio"] <= bench_metrics.BUDGET_RATIO),
            ),
            (
                "metrics, in-process",
                f"scorecard {secs(m['inproc_scorecard_s'])} vs DuckDB "
                f"{secs(m['inproc_duckdb_s'])} = {m['inproc_ratio']:.2f}x",
                f"<= {bench_metrics.BUDGET_RATIO:g}x DuckDB",
                _verdict(m["inproc_ratio"] <= bench_metrics.BUDGET_RATIO),
            ),
            (
                "metrics, peak RSS",
                f"{mib(m['peak_rss_bytes'])} (DuckDB {mib(m['duckdb_peak_rss_bytes'])})",
                "< 1 GB",
                _verdict(m["peak_rss_bytes"] < bench_metrics.BUDGET_RSS),
            ),
        ]
        if m["scale"] != 1.0:
            lines.append(f"metrics: scale {m['scale']:g}: budgets are judged at scale 1")
    p = results.get("paint")
    if p:
        rows.append(
            (
                "first paint",
                f"scorecard demo: first start {secs(p['demo_cold_s'])}, later starts "
                f"{secs(p['demo_s'])} vs bare DataTable app {secs(p['bare_s'])} = "
                f"{p['ratio']:.2f}x (demo shell {secs(p['demo_shell_s'])}, fresh scores "
                f"{secs(p['demo_fresh_scores_s'])})",
                f"<= {bench_paint.BUDGET_RATIO:g}x bare",
                _verdict(p["passed"]),
            )
        )
    s = results.get("sync")
    if s:
        if s.get("skipped"):
            rows.append(("sync", s["skipped"], "-", "skipped"))
        else:
            rows += bench_sync.rows(s)
    q = results.get("quota")
    if q:
        rows += (
            [("quota", q["skipped"], "-", "skipped")] if q.get("skipped") else bench_quota.rows(q)
        )
    width = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    lines.append("")
    header = ("benchmark", "result", "budget", "")
    for row in [header, tuple("-" * w for w in width), *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip())
    lines.append("")
    lines.append(f"total time {secs(results['elapsed_s'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--only", default="metrics,paint,sync,quota")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    args = parser.parse_args(argv)
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine()}
    runners = {
        "metrics": lambda: bench_metrics.run(args.scale, args.seed, args.runs),
        "paint": lambda: bench_paint.run(max(args.runs, 5)),
        "sync": bench_sync.run,
        "quota": bench_quota.run,
    }
    failures: list[str] = []
    for name, runner in runners.items():
        if name not in wanted:
            continue
        log(f"{name}: starting")
        try:
            results[name] = runner()
        except Exception as exc:  # one broken benchmark must not hide the others
            log(f"{name}: failed: {exc}")
            failures.append(f"{name}: failed: {str(exc).strip().splitlines()[-1][:200]}")
            results[name] = {"passed": False, "error": str(exc)}
    results["elapsed_s"] = time.perf_counter() - started
    print(report({k: v for k, v in results.items() if not (isinstance(v, dict) and "error" in v)}))
    for failure in failures:
        print(failure)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    failed = [k for k in runners if results.get(k, {}).get("passed") is False]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
