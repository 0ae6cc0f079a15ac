"""The detail tables of a window: its incidents and its production deployments, one
row each with what the scorecard made of them (attribution, resolved strategy,
incidents per deployment), for ``export --detail`` and the TUI's team screen.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from scorecard.metrics.prepare import Prepared, deferred_deployment_columns
from scorecard.metrics.windows import between, incidents_by
from scorecard.model import SCHEMAS

__all__ = ["deployment_rows", "incident_rows"]


def incident_rows(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Incidents created in ``[start, end)`` with their attribution."""
    inc = prep.incidents
    mask = between(inc["created_at"], pd.Timestamp(start), pd.Timestamp(end))
    return inc.loc[mask].sort_values(["team", "created_at"], kind="stable")


def deployment_rows(prep: Prepared, start: datetime, end: datetime) -> pd.DataFrame:
    """Production deployments in ``[start, end)`` with resolved strategy and incident counts."""
    dep = prep.deployments
    mask = dep["is_prod"] & between(dep["t"], pd.Timestamp(start), pd.Timestamp(end))
    rows = dep.loc[mask]
    extra = deferred_deployment_columns(prep)
    if extra is not None:
        rows = rows.assign(**{c: extra.loc[mask, c] for c in extra.columns})
        schema = [c for c in SCHEMAS["deployments"] if c in rows.columns]
        rows = rows[[*schema, *(c for c in rows.columns if c not in SCHEMAS["deployments"])]]
    counts = incidents_by(prep, pd.Timestamp(end))["attributed_deployment"].value_counts()
    attributed = rows["id"].map(counts).fillna(0).astype("int64")
    return rows.assign(incidents=attributed).sort_values(["team", "t"], kind="stable")
