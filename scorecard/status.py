"""How a source's last sync went: one type from the fetch to the Sources screen.

A source's client counts what it did in :class:`RequestStats`; the sync wraps
that with the outcome in a :class:`SourceStatus`; the store persists the status
as JSON beside the source's data; the CLI summary table, the Sources screen,
the standup's freshness line and the demo all read the same type. No flat
``"items.<stream>"`` keys, no ``getattr`` on look-alike classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

__all__ = ["MAX_PROBLEMS", "RequestStats", "SourceStatus", "Tick"]

MAX_PROBLEMS: Final = 50
"""Problem messages kept per source (the rest are counted, not stored)."""


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _moments(value: Any) -> dict[str, datetime]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, datetime] = {}
    for key, when in value.items():
        moment = _when(when)
        if moment is not None:
            out[str(key)] = moment
    return out


@dataclass(frozen=True)
class Tick:
    """How far a long fetch has got, for a progress bar: parts (repos) done of all,
    what they cost so far and the budget left."""

    done: int
    total: int
    spent: int
    """Requests answered in full plus GraphQL points, so far."""
    left: int | None = None
    """The smaller of the REST and GraphQL budgets left, when known."""


@dataclass
class RequestStats:
    """What one source's HTTP client did during a sync."""

    requests: int = 0
    """Requests sent (each retry counts)."""
    not_modified: int = 0
    """Conditional requests answered 304 Not Modified."""
    retries: int = 0
    """Requests sent again after a timeout, a 5xx or a rate limit."""
    malformed: int = 0
    """Answers that were not the JSON the API documents; skipped and counted."""
    waited_s: float = 0.0
    """Seconds spent waiting out rate limits."""
    rate_limit_remaining: int | None = None
    """Requests left in the vendor's budget after the last answer, when known."""
    queries: int = 0
    """GraphQL queries among the requests (charged in points, not as requests)."""
    points: int = 0
    """GraphQL points the queries cost (GitHub charges GraphQL in points, not requests)."""
    points_remaining: int | None = None
    """GraphQL points left in the token's budget after the last query, when known."""
    items: dict[str, int] = field(default_factory=dict)
    """Records read per stream (``deployments``, ``runs``, ...)."""

    def count(self, stream: str, n: int = 1) -> None:
        """Add ``n`` records read from ``stream``."""
        self.items[stream] = self.items.get(stream, 0) + n

    @property
    def spent(self) -> int:
        """What the sync cost the token: requests answered in full (a 304 costs
        nothing at GitHub) plus GraphQL points."""
        return self.requests - self.not_modified - self.queries + self.points

    @property
    def empty(self) -> bool:
        """True for a source that made no requests (files, demo)."""
        return not (self.requests or self.not_modified or self.retries or self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "not_modified": self.not_modified,
            "retries": self.retries,
            "malformed": self.malformed,
            "waited_s": self.waited_s,
            "rate_limit_remaining": self.rate_limit_remaining,
            "queries": self.queries,
            "points": self.points,
            "points_remaining": self.points_remaining,
            "items": dict(sorted(self.items.items())),
        }

    @classmethod
    def from_json(cls, data: Any) -> RequestStats:
        """Read :meth:`to_json`'s shape; anything else gives empty stats."""
        if not isinstance(data, Mapping):
            return cls()
        items = data.get("items")
        remaining = data.get("rate_limit_remaining")
        waited = data.get("waited_s")
        return cls(
            requests=_count(data.get("requests")),
            not_modified=_count(data.get("not_modified")),
            retries=_count(data.get("retries")),
            malformed=_count(data.get("malformed")),
            waited_s=float(waited) if isinstance(waited, (int, float)) else 0.0,
            rate_limit_remaining=_count(remaining) if isinstance(remaining, int) else None,
            queries=_count(data.get("queries")),
            points=_count(data.get("points")),
            points_remaining=_count(data.get("points_remaining"))
            if isinstance(data.get("points_remaining"), int)
            else None,
            items={str(k): _count(v) for k, v in items.items()}
            if isinstance(items, Mapping)
            else {},
        )


@dataclass
class SourceStatus:
    """The health of one source as of its last sync attempt."""

    name: str
    kind: str
    last_attempt_at: datetime | None = None
    """When the last sync of this source started."""
    last_success_at: datetime | None = None
    """When the last successful sync started (its data is what the cache holds)."""
    last_error: str | None = None
    """Why the last attempt failed (safe to show: no secrets), or None."""
    items: int = 0
    """Events delivered by the last successful sync."""
    skipped: int = 0
    """Bad rows or records skipped and counted by the last sync."""
    problems: list[str] = field(default_factory=list)
    """What was skipped and why (``deployments.csv:14: finished_at: not a timestamp``)."""
    complete: bool = True
    """False when the source stopped early (budget spent) and its data is partial."""
    complete_since: dict[str, datetime] = field(default_factory=dict)
    """Repo -> how far back its history is complete, for repos still backfilling older
    history (a first sync of a large org fills the present first)."""
    stats: RequestStats = field(default_factory=RequestStats)
    """What the source's client did during the last sync."""
    duration_s: float = 0.0
    """How long the last attempt took."""

    @property
    def ok(self) -> bool:
        """True when the last attempt succeeded."""
        return self.last_error is None and self.last_success_at is not None

    @property
    def rate_limit_remaining(self) -> int | None:
        """Requests left in the vendor's budget after the last sync, when known."""
        return self.stats.rate_limit_remaining

    def history_note(self, shown: int = 5) -> str | None:
        """Which repos still miss older history and how far back each is complete
        (None when every repo's history is whole)."""
        if not self.complete_since:
            return None
        ordered = sorted(self.complete_since.items(), key=lambda kv: (kv[1], kv[0]))
        named = ", ".join(f"{repo} from {when:%Y-%m-%d}" for repo, when in ordered[:shown])
        more = f" and {len(ordered) - shown:,} more" if len(ordered) > shown else ""
        return (
            f"older history still to fetch for {len(ordered):,} repo(s), complete back to: "
            f"{named}{more} (the next sync goes on where this one stopped)"
        )

    def failed(self, error: str, at: datetime) -> SourceStatus:
        """This status after an attempt at ``at`` that failed with ``error``: the last
        good data (and its counts) stay."""
        return replace(self, last_attempt_at=at, last_error=error)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "last_attempt_at": self.last_attempt_at.isoformat() if self.last_attempt_at else None,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_error": self.last_error,
            "items": self.items,
            "skipped": self.skipped,
            "problems": list(self.problems[:MAX_PROBLEMS]),
            "complete": self.complete,
            "complete_since": {k: v.isoformat() for k, v in sorted(self.complete_since.items())},
            "stats": self.stats.to_json(),
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SourceStatus:
        """Read :meth:`to_json`'s shape, tolerating missing or mistyped fields."""
        error = data.get("last_error")
        duration = data.get("duration_s")
        return cls(
            name=str(data["name"]),
            kind=str(data.get("kind", "")),
            last_attempt_at=_when(data.get("last_attempt_at")),
            last_success_at=_when(data.get("last_success_at")),
            last_error=error if isinstance(error, str) else None,
            items=_count(data.get("items")),
            skipped=_count(data.get("skipped")),
            problems=[str(p) for p in data.get("problems") or []][:MAX_PROBLEMS],
            complete=bool(data.get("complete", True)),
            complete_since=_moments(data.get("complete_since")),
            stats=RequestStats.from_json(data.get("stats")),
            duration_s=float(duration) if isinstance(duration, (int, float)) else 0.0,
        )
