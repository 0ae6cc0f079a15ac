"""Events -> per-team metrics, exactly as SPEC §2 defines them.

Pure and vectorized: every step is a pandas operation over whole tables, keyed
by a categorical ``team`` column, so a 200-team org with millions of events is
computed in seconds. No I/O happens here; callers hand in frames and get frames.

The work splits in two, over small modules:
- :mod:`.prepare` does the window-independent joins once (team attribution,
  unknown strategies resolved from rollout samples, each change's deployment,
  each incident's attributed deployment), with the id, key and as-of lookups of
  :mod:`.joins`;
- :mod:`.windows` computes every §2 metric for one ``[start, end)`` window from
  the prepared tables, so the current window, the previous one and the weekly
  series all share one definition; :mod:`.rows` lists a window's incidents and
  deployments for the detail exports;
- :mod:`.explain` takes one team's metric apart into the events behind it
  (SPEC §13), and :mod:`.coverage` decides empty versus zero by which teams a
  synced source covers.

Callers import everything from ``scorecard.metrics``.
"""

from __future__ import annotations

from scorecard.metrics.coverage import SourceCoverage, covered_kinds, with_coverage
from scorecard.metrics.explain import (
    AGGREGATES,
    EXPLAIN_COLUMNS,
    EXPLAINABLE,
    Explanation,
    aggregate,
    explain,
)
from scorecard.metrics.prepare import (
    SAFE_STRATEGIES,
    Prepared,
    TeamMap,
    assign_teams,
    defer_columns,
    prepare,
    team_map_from,
)
from scorecard.metrics.rows import deployment_rows, incident_rows
from scorecard.metrics.windows import (
    DECIDED,
    LINK_METRICS,
    METRIC_COLUMNS,
    PRESSURE_METRICS,
    RIGOR_METRICS,
    STABILITY_METRICS,
    WINDOW_COLUMNS,
    TeamMetrics,
    between,
    coverage_at,
    incidents_by,
    iso_week_starts,
    team_metrics,
    weekly_deploys,
    weekly_metrics,
    window_metrics,
)
from scorecard.model import EventKind

__all__ = [
    "AGGREGATES",
    "DECIDED",
    "EXPLAINABLE",
    "EXPLAIN_COLUMNS",
    "LINK_METRICS",
    "METRIC_COLUMNS",
    "PRESSURE_METRICS",
    "RIGOR_METRICS",
    "SAFE_STRATEGIES",
    "STABILITY_METRICS",
    "WINDOW_COLUMNS",
    "EventKind",
    "Explanation",
    "Prepared",
    "SourceCoverage",
    "TeamMap",
    "TeamMetrics",
    "aggregate",
    "assign_teams",
    "between",
    "coverage_at",
    "covered_kinds",
    "defer_columns",
    "deployment_rows",
    "explain",
    "incident_rows",
    "incidents_by",
    "iso_week_starts",
    "prepare",
    "team_map_from",
    "team_metrics",
    "weekly_deploys",
    "weekly_metrics",
    "window_metrics",
    "with_coverage",
]
