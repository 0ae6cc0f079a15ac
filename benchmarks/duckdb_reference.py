"""The §2 metrics as DuckDB SQL over the same Parquet cache: the speed reference.

It computes what scorecard computes for a report: every metric for the current
window and the previous one (trends and declines need it), plus the 12-week
deploy series, for every configured team and ``unassigned``, with the same
attribution rules (team by own name, repo owner, service owner; a change's
deployment by id or the first later successful production deploy of its repo;
an incident's deployment by id or the latest successful production deploy of
its service, or of its team when it has no service, within the link window;
unknown strategies from the latest rollout sample). Percentiles are
``quantile_cont`` (linear, like pandas).

DuckDB is a benchmark dependency only; scorecard itself never imports it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

METRICS = (
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


def _files(root: Path, kind: str) -> str:
    paths = sorted(str(p) for p in (root / "v1").glob(f"*/{kind}.parquet"))
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}], union_by_name = true)"


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def _team_expr(alias: str, repo: bool, service: bool) -> str:
    parts = [f"CASE WHEN {alias}.team IN (SELECT name FROM teams) THEN {alias}.team END"]
    if repo:
        parts.append(f"(SELECT team FROM repo_owner o WHERE o.repo = {alias}.repo)")
    if service:
        parts.append(f"(SELECT team FROM service_owner o WHERE o.service = {alias}.service)")
    return f"coalesce({', '.join(parts)}, 'unassigned')"


def compute(
    root: Path,
    *,
    teams: list[str],
    repo_owner: dict[str, str],
    service_owner: dict[str, str],
    as_of: datetime,
    window_days: int,
    production: tuple[str, ...] = ("production", "prod", "live"),
    link_hours: float = 24.0,
    threads: int | None = None,
) -> dict[str, dict[str, float]]:
    """Team -> metric -> value for the current window (previous window folded in)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    end = as_of
    start = end - timedelta(days=window_days)
    prev = start - timedelta(days=window_days)
    periods = window_days // 7
    E, S, P = _ts(end), _ts(start), _ts(prev)
    prod = ", ".join(f"'{p.lower()}'" for p in production)

    con.execute("CREATE TEMP TABLE teams AS SELECT unnest($1::VARCHAR[]) AS name", [teams])
    con.execute(
        "CREATE TEMP TABLE repo_owner AS SELECT unnest($1::VARCHAR[]) AS repo, "
        "unnest($2::VARCHAR[]) AS team",
        [list(repo_owner), list(repo_owner.values())],
    )
    con.execute(
        "CREATE TEMP TABLE service_owner AS SELECT unnest($1::VARCHAR[]) AS service, "
        "unnest($2::VARCHAR[]) AS team",
        [list(service_owner), list(service_owner.values())],
    )
    # The deployment table is used by every metric: attribute it once.
    con.execute(
        f"""
        CREATE TEMP TABLE dep AS
        SELECT d.id, {_team_expr("d", True, True)} AS team,
               CAST(d.service AS VARCHAR) AS service, CAST(d.repo AS VARCHAR) AS repo,
               CAST(d.status AS VARCHAR) AS status, CAST(d.strategy AS VARCHAR) AS strategy,
               d.finished_at, coalesce(d.finished_at, d.started_at) AS t,
               coalesce(lower(CAST(d.environment AS VARCHAR)) IN ({prod}), false) AS is_prod,
               d.is_rollback
        FROM {_files(root, "deployments")} d
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE good AS
        SELECT id, team, service, repo, finished_at FROM dep
        WHERE is_prod AND status = 'success' AND finished_at IS NOT NULL
        """
    )
    # Incidents with their attributed deployment (explicit, else by service or team in time).
    con.execute(
        f"""
        CREATE TEMP TABLE inc AS
        WITH i AS (
            SELECT {_team_expr("x", False, True)} AS team,
                   CAST(x.service AS VARCHAR) AS service, CAST(x.severity AS VARCHAR) AS severity,
                   x.created_at, x.resolved_at, x.deployment_id
            FROM {_files(root, "incidents")} x
        ),
        e AS (
            SELECT i.*, k.id AS explicit_id
            FROM i LEFT JOIN (SELECT DISTINCT id FROM dep) k ON i.deployment_id = k.id
        ),
        bs AS (
            SELECT e.*, g.id AS by_service, g.finished_at AS service_at
            FROM e ASOF LEFT JOIN good g
              ON e.service = g.service AND e.created_at >= g.finished_at
        ),
        bt AS (
            SELECT bs.*, g.id AS by_team, g.finished_at AS team_at
            FROM bs ASOF LEFT JOIN good g
              ON bs.team = g.team AND bs.created_at >= g.finished_at
        )
        SELECT team, severity, created_at, resolved_at,
               coalesce(
                   explicit_id,
                   CASE WHEN service IS NOT NULL
                         AND created_at - service_at <= INTERVAL {link_hours * 3600} SECOND
                        THEN by_service END,
                   CASE WHEN service IS NULL
                         AND created_at - team_at <= INTERVAL {link_hours * 3600} SECOND
                        THEN by_team END
               ) AS attributed
        FROM bt
        """
    )
    out: dict[str, dict[str, float]] = {t: {} for t in [*teams, "unassigned"]}
    previous: dict[str, dict[str, float]] = {t: {} for t in out}

    def put(rows: list[tuple[Any, ...]], names: list[str]) -> None:
        for row in rows:
            window, team = row[0], row[1]
            target = out if window == "cur" else previous
            for name, value in zip(names, row[2:]):
                target.setdefault(team, {})[name] = math.nan if value is None else float(value)

    label = f"""CASE WHEN {{t}} >= {S} AND {{t}} < {E} THEN 'cur'
                     WHEN {{t}} >= {P} AND {{t}} < {S} THEN 'prev' END"""
    # Deploy metrics, with unknown strategies resolved from rollout samples.
    put(
        con.execute(
            f"""
            WITH w AS (
                SELECT {label.format(t="t")} AS w, * FROM dep
                WHERE is_prod AND t >= {P} AND t < {E}
            ),
            r AS (
                SELECT CAST(service AS VARCHAR) AS service, "at",
                       CAST(strategy AS VARCHAR) AS sampled
                FROM {_files(root, "rollouts")} WHERE service IS NOT NULL AND "at" IS NOT NULL
            ),
            s AS (
                SELECT w.*, CASE WHEN coalesce(w.strategy, 'unknown') = 'unknown'
                                  AND r.sampled IS NOT NULL THEN r.sampled
                                 ELSE coalesce(w.strategy, 'unknown') END AS resolved
                FROM w ASOF LEFT JOIN r ON w.service = r.service AND w.t >= r."at"
            ),
            hits AS (SELECT DISTINCT attributed FROM inc
                     WHERE created_at < {E} AND attributed IS NOT NULL)
            SELECT w, team,
                   count(*) FILTER (status = 'success') AS deploys,
                   avg(CAST(resolved IN ('canary', 'blue_green') AS DOUBLE))
                       FILTER (status = 'success') AS canary_share,
                   avg(CAST(status = 'failure' OR (status = 'success' AND h.attributed IS NOT NULL)
                            AS DOUBLE)) FILTER (status IN ('success', 'failure'))
                       AS change_failure_rate,
                   avg(CAST(is_rollback AS DOUBLE)) FILTER (status IN ('success', 'failure'))
                       AS rework_rate
            FROM s LEFT JOIN hits h ON s.id = h.attributed
            GROUP BY ALL
            """
        ).fetchall(),
        ["deploys", "canary_share", "change_failure_rate", "rework_rate"],
    )
    # Deploy days per week: distinct UTC dates per 7-day period ending at the window end.
    for window, w_end in (("cur", end), ("prev", start)):
        if periods == 0:
            continue
        first = w_end - timedelta(days=7 * periods)
        rows = con.execute(
            f"""
            WITH c AS (
                SELECT team, CAST(ceil(epoch({_ts(w_end)} - t) / 604800.0) AS BIGINT) - 1 AS k,
                       least(count(DISTINCT CAST(t AS DATE)), 7) AS n
                FROM dep
                WHERE is_prod AND status = 'success'
                  AND t >= {_ts(first)} AND t < {_ts(w_end)}
                GROUP BY ALL
            ),
            grid AS (
                SELECT name AS team, k FROM (SELECT name FROM teams UNION ALL SELECT 'unassigned')
                CROSS JOIN range({periods}) AS r(k)
            )
            SELECT '{window}', grid.team, quantile_cont(coalesce(c.n, 0), 0.5)
            FROM grid LEFT JOIN c USING (team, k) GROUP BY ALL
            """
        ).fetchall()
        put(rows, ["deploy_days_per_week_p50"])
    # Lead time: each change's deployment by id, else the repo's next good deploy.
    put(
        con.execute(
            f"""
            WITH c AS (
                SELECT {_team_expr("x", True, False)} AS team, CAST(x.repo AS VARCHAR) AS repo,
                       x.first_commit_at, x.merged_at, g.finished_at AS explicit_at
                FROM {_files(root, "changes")} x LEFT JOIN good g ON x.deployment_id = g.id
            ),
            f AS (
                SELECT c.*, g.finished_at AS next_at
                FROM c ASOF LEFT JOIN (SELECT repo, finished_at FROM good) g
                  ON c.repo = g.repo AND g.finished_at >= c.merged_at
            ),
            l AS (
                SELECT team, coalesce(explicit_at, next_at) AS shipped,
                       epoch(coalesce(explicit_at, next_at) - first_commit_at) / 3600 AS hours
                FROM f
            )
            SELECT {label.format(t="shipped")} AS w, team,
                   quantile_cont(hours, 0.5), quantile_cont(hours, 0.9)
            FROM l WHERE shipped >= {P} AND shipped < {E} AND hours >= 0
            GROUP BY ALL
            """
        ).fetchall(),
        ["lead_time_p50_hours", "lead_time_p90_hours"],
    )
    # Coverage: mean over repos of each repo's latest sample at or before the window end.
    for window, w_end in (("cur", end), ("prev", start)):
        put(
            con.execute(
                f"""
                WITH c AS (
                    SELECT {_team_expr("x", True, False)} AS team, x.repo,
                           arg_max(x.line_coverage, x.measured_at) AS latest
                    FROM {_files(root, "coverage")} x
                    WHERE x.measured_at <= {_ts(w_end)}
                    GROUP BY ALL
                )
                SELECT '{window}', team, avg(latest) FROM c GROUP BY ALL
                """
            ).fetchall(),
            ["coverage_pct"],
        )
    # CI on the default branch.
    put(
        con.execute(
            f"""
            WITH c AS (
                SELECT x.team, x.repo, CAST(x.conclusion AS VARCHAR) AS conclusion,
                       coalesce(x.finished_at, x.started_at) AS t,
                       epoch(x.finished_at - x.started_at) / 60 AS minutes
                FROM {_files(root, "ci_runs")} x
                WHERE x.is_default_branch AND x.conclusion IN ('success', 'failure')
            )
            SELECT {label.format(t="t")} AS w, {_team_expr("c", True, False)} AS team,
                   avg(CAST(conclusion = 'success' AS DOUBLE)), median(minutes)
            FROM c WHERE t >= {P} AND t < {E}
            GROUP BY ALL
            """
        ).fetchall(),
        ["ci_success_rate", "ci_duration_p50_minutes"],
    )
    # Incidents created in the window; recovered when resolved before its end.
    for window, w_start, w_end in (("cur", start, end), ("prev", prev, start)):
        WS, WE = _ts(w_start), _ts(w_end)
        put(
            con.execute(
                f"""
                SELECT '{window}', team,
                       count(*),
                       count(*) FILTER (severity IN ('sev1', 'sev2')),
                       count(*) FILTER (NOT (resolved_at IS NOT NULL AND resolved_at < {WE})),
                       median(epoch(resolved_at - created_at) / 3600)
                           FILTER (resolved_at IS NOT NULL AND resolved_at < {WE})
                FROM inc WHERE created_at >= {WS} AND created_at < {WE}
                GROUP BY ALL
                """
            ).fetchall(),
            ["incidents", "incidents_sev1_2", "incidents_open", "recovery_time_p50_hours"],
        )
    has_dep = {r[0] for r in con.execute("SELECT DISTINCT team FROM dep").fetchall()}
    has_inc = {r[0] for r in con.execute("SELECT DISTINCT team FROM inc").fetchall()}
    # The 12-week deploy series (what the overview's sparklines show).
    monday = (end - timedelta(days=end.weekday())).replace(hour=0, minute=0, second=0)
    first_week = monday - timedelta(weeks=11)
    con.execute(
        f"""
        SELECT team, CAST(floor(epoch(t - {_ts(first_week)}) / 604800) AS BIGINT) AS week, count(*)
        FROM dep WHERE is_prod AND status = 'success'
          AND t >= {_ts(first_week)} AND t < {E}
        GROUP BY ALL
        """
    ).fetchall()
    con.close()

    days = float(window_days)
    for table in (out, previous):
        for team, values in table.items():
            for name in ("deploys",):
                values[name] = values.get(name, 0.0) if team in has_dep else math.nan
            for name in ("incidents", "incidents_sev1_2", "incidents_open"):
                values[name] = values.get(name, 0.0) if team in has_inc else math.nan
            values["deploys_per_day"] = values["deploys"] / days
            if team not in has_dep:
                values["deploy_days_per_week_p50"] = math.nan
    for team, values in out.items():
        before = previous[team]
        prev_deploys = before.get("deploys", math.nan)
        values["velocity_trend"] = (
            values["deploys"] / prev_deploys - 1 if prev_deploys > 0 else math.nan
        )
        values["coverage_delta_pts"] = values.get("coverage_pct", math.nan) - before.get(
            "coverage_pct", math.nan
        )
        for name in METRICS:
            values.setdefault(name, math.nan)
    return out
