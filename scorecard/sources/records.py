"""Records an API source collects, and the small helpers every source uses on them.

:class:`Collected` keeps fresh records with what was skipped and why (counted,
never silently dropped); :func:`merge_frames` merges them into the cached
events; the rest parse timestamps and match names and titles.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources.http import Page

__all__ = [
    "MAX_PROBLEMS_PER_SOURCE",
    "Collected",
    "change_event",
    "deployment_event",
    "glob_match",
    "iso",
    "json_list",
    "matches_any",
    "merge_frames",
    "parse_time",
]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as aware UTC (``Z`` and offsets accepted), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso(value: datetime) -> str:
    """``2024-03-10T12:00:00Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_frames(
    previous: Mapping[str, pd.DataFrame], fresh: Mapping[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Previous events plus fresh ones, deduplicated by ``id`` (fresh wins)."""
    from scorecard import model

    out: dict[str, pd.DataFrame] = {}
    for kind in sorted(set(previous) | set(fresh)):
        if kind not in model.SCHEMAS:
            continue
        event_kind: model.EventKind = kind  # type: ignore[assignment]
        parts = [f for f in (previous.get(kind), fresh.get(kind)) if f is not None and len(f)]
        merged = model.concat(event_kind, parts)
        if "id" in merged.columns and len(merged):
            merged = merged.drop_duplicates("id", keep="last").reset_index(drop=True)
        if len(merged) or kind in fresh:
            out[kind] = merged
    return out


def glob_match(value: str | None, patterns: Sequence[str]) -> bool:
    """Case-insensitive shell-glob match of ``value`` against any of ``patterns``."""
    if not value:
        return False
    folded = value.casefold()
    return any(fnmatch.fnmatchcase(folded, p.casefold()) for p in patterns)


# --- shared by the API sources (GitHub, GitLab) --------------------------------------------

MAX_PROBLEMS_PER_SOURCE: Final = 50


@dataclass
class Collected:
    """Fresh records of one API sync, plus what was skipped and why."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: int = 0
    excluded: int = 0
    """Records left out on purpose (merged, declined or test incidents), counted."""
    problems: list[str] = field(default_factory=list)
    complete: bool = True

    def add(self, kind: str, record: dict[str, Any], where: str) -> bool:
        """Keep ``record`` if it has every required field; else count it as skipped."""
        from scorecard import model

        event_kind: model.EventKind = kind  # type: ignore[assignment]
        missing = [f for f in model.REQUIRED[event_kind] if record.get(f) in (None, "")]
        if missing:
            self.bad(where, f"missing {', '.join(missing)}")
            return False
        self.records.setdefault(kind, []).append(record)
        return True

    def bad(self, where: str, message: str) -> None:
        self.skipped += 1
        self.problem(f"{where}: {message} (skipped)")

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_SOURCE:
            self.problems.append(message)
        elif len(self.problems) == MAX_PROBLEMS_PER_SOURCE:
            self.problems.append("... more problems not shown")

    def frames(self) -> dict[str, pd.DataFrame]:
        from scorecard import model

        out: dict[str, pd.DataFrame] = {}
        for kind, rows in self.records.items():
            event_kind: model.EventKind = kind  # type: ignore[assignment]
            out[kind] = model.frame_from_records(event_kind, rows)
        return out


def matches_any(text: Any, patterns: Sequence[re.Pattern[str]]) -> bool:
    return isinstance(text, str) and any(p.search(text) for p in patterns)


def json_list(page: Page, collected: Collected, where: str) -> list[Any] | None:
    """The page's JSON list, or None (malformed answers are counted and skipped)."""
    if page.not_modified:
        return None
    if page.malformed or not isinstance(page.data, list):
        collected.bad(where, "malformed answer")
        return None
    return page.data


def deployment_event(
    ident: str, source: str, team: str | None, repo: str, **fields: Any
) -> dict[str, Any]:
    """A ``Deployment`` event of ``repo`` (its service is the repo's name): ``fields``
    give environment, status, started_at, finished_at, commit_sha and url."""
    return {
        "id": ident,
        "source": source,
        "team": team,
        "service": repo.rsplit("/", 1)[-1],
        "repo": repo,
        "environment": fields.get("environment"),
        "status": fields.get("status"),
        "strategy": "unknown",
        "started_at": fields.get("started_at"),
        "finished_at": fields.get("finished_at"),
        "commit_sha": fields.get("commit_sha"),
        "is_rollback": False,
        "url": fields.get("url"),
    }


def change_event(
    ident: str, source: str, team: str | None, repo: str, **fields: Any
) -> dict[str, Any]:
    """A ``Change`` event (``first_commit_at`` and ``paths`` are filled in later):
    ``fields`` give title, merged_at, merge_sha and labels."""
    return {
        "id": ident,
        "source": source,
        "team": team,
        "repo": repo,
        "title": fields.get("title"),
        "first_commit_at": None,
        "merged_at": fields.get("merged_at"),
        "merge_sha": fields.get("merge_sha"),
        "deployment_id": None,
        "labels": fields.get("labels") or [],
        "paths": [],
    }
