"""Normalized events (SPEC §1) and their pandas schemas.

Every source turns its vendor's vocabulary into these six tables, so metrics,
the cache and exports only ever see one shape. The schemas are plain data so
that importing this module stays cheap; pandas is imported only by the helpers
that build frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    import pandas as pd

EventKind = Literal["deployments", "changes", "ci_runs", "coverage", "incidents", "rollouts"]

EVENT_KINDS: Final[tuple[EventKind, ...]] = (
    "deployments",
    "changes",
    "ci_runs",
    "coverage",
    "incidents",
    "rollouts",
)

UNASSIGNED: Final = "unassigned"

DEPLOY_STATUSES: Final = ("success", "failure", "cancelled", "in_progress")
STRATEGIES: Final = ("canary", "blue_green", "rolling", "direct", "unknown")
CI_CONCLUSIONS: Final = ("success", "failure", "cancelled", "skipped", "other")
SEVERITIES: Final = ("sev1", "sev2", "sev3", "sev4", "sev5")

# Column kinds: "str" (free text, object), "cat" (categorical with open
# categories), "enum:<name>" (categorical with fixed categories), "ts" (UTC
# timestamp), "bool", "int", "float", "list" (list of strings).
ENUMS: Final[Mapping[str, tuple[str, ...]]] = {
    "status": DEPLOY_STATUSES,
    "strategy": STRATEGIES,
    "conclusion": CI_CONCLUSIONS,
    "severity": SEVERITIES,
}

SCHEMAS: Final[Mapping[EventKind, Mapping[str, str]]] = {
    "deployments": {
        "id": "str",
        "source": "cat",
        "team": "cat",
        "service": "cat",
        "repo": "cat",
        "environment": "cat",
        "status": "enum:status",
        "strategy": "enum:strategy",
        "started_at": "ts",
        "finished_at": "ts",
        "commit_sha": "str",
        "is_rollback": "bool",
        "url": "str",
    },
    "changes": {
        "id": "str",
        "source": "cat",
        "team": "cat",
        "repo": "cat",
        "title": "str",
        "first_commit_at": "ts",
        "merged_at": "ts",
        "merge_sha": "str",
        "deployment_id": "str",
        "labels": "list",
        "paths": "list",
    },
    "ci_runs": {
        "id": "str",
        "source": "cat",
        "team": "cat",
        "repo": "cat",
        "workflow": "cat",
        "branch": "str",
        "is_default_branch": "bool",
        "commit_sha": "str",
        "conclusion": "enum:conclusion",
        "started_at": "ts",
        "finished_at": "ts",
        "attempt": "int",
    },
    "coverage": {
        "source": "cat",
        "team": "cat",
        "repo": "cat",
        "measured_at": "ts",
        "line_coverage": "float",
    },
    "incidents": {
        "id": "str",
        "source": "cat",
        "team": "cat",
        "service": "cat",
        "title": "str",
        "severity": "enum:severity",
        "created_at": "ts",
        "resolved_at": "ts",
        "deployment_id": "str",
        "url": "str",
        "started_at": "ts",
    },
    "rollouts": {
        "source": "cat",
        "team": "cat",
        "service": "cat",
        "at": "ts",
        "strategy": "enum:strategy",
    },
}

# Fields a row must have for the event to mean anything; the rest may be empty.
REQUIRED: Final[Mapping[EventKind, tuple[str, ...]]] = {
    "deployments": ("id", "environment", "status", "started_at"),
    "changes": ("id", "repo", "merged_at"),
    "ci_runs": ("id", "repo", "conclusion", "started_at"),
    "coverage": ("repo", "measured_at", "line_coverage"),
    "incidents": ("id", "severity", "created_at"),
    "rollouts": ("service", "at", "strategy"),
}

# The time that places an event in a window (SPEC §2 membership).
TIME_COLUMN: Final[Mapping[EventKind, str]] = {
    "deployments": "finished_at",
    "changes": "merged_at",
    "ci_runs": "finished_at",
    "coverage": "measured_at",
    "incidents": "created_at",
    "rollouts": "at",
}


def columns(kind: EventKind) -> list[str]:
    """The column names of one event table, in schema order."""
    return list(SCHEMAS[kind])


def empty_frame(kind: EventKind) -> pd.DataFrame:
    """An empty table of the given kind with the right dtypes."""
    import pandas as pd

    return coerce(kind, pd.DataFrame({name: [] for name in SCHEMAS[kind]}))


def frame_from_records(kind: EventKind, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A typed table from already-validated records (missing fields become empty)."""
    import pandas as pd

    rows = list(records)
    data = {name: [row.get(name) for row in rows] for name in SCHEMAS[kind]}
    return coerce(kind, pd.DataFrame(data))


def coerce(kind: EventKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a frame to the schema of ``kind``: adds missing columns, drops extras."""
    import pandas as pd

    out: dict[str, Any] = {}
    n = len(frame)
    for name, spec in SCHEMAS[kind].items():
        col = frame[name] if name in frame.columns else pd.Series([None] * n, dtype=object)
        out[name] = _cast(col, spec)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _cast(col: pd.Series, spec: str) -> pd.Series:
    import pandas as pd

    values = col.reset_index(drop=True)
    if spec == "ts":
        return pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    if spec == "bool":
        return values.astype("boolean").fillna(False).astype(bool)
    if spec == "int":
        return pd.to_numeric(values).fillna(1).astype("int64")
    if spec == "float":
        return pd.to_numeric(values).astype("float64")
    if spec == "cat":
        return values.astype("string").astype("category")
    if spec.startswith("enum:"):
        categories = ENUMS[spec.removeprefix("enum:")]
        return values.astype(pd.CategoricalDtype(categories=list(categories)))
    if spec == "list":
        return values.map(_as_list).astype(object)
    return values.astype("string").astype(object).where(values.notna(), None)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return []


def concat(kind: EventKind, frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate tables of one kind, keeping categorical dtypes where possible."""
    import pandas as pd

    parts = [f for f in frames if len(f)]
    if not parts:
        return empty_frame(kind)
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    merged = pd.concat([p.astype(_widen(kind)) for p in parts], ignore_index=True)
    return coerce(kind, merged)


def _widen(kind: EventKind) -> dict[str, str]:
    """Open categoricals become object before concat so categories union cleanly."""
    return {name: "object" for name, spec in SCHEMAS[kind].items() if spec == "cat"}
