"""What a sync will cost before it spends anything (``scorecard sync --plan``, SPEC §14).

A lead with hundreds of repos needs to know, before the first sync, whether it
fits in the token's quota and how long it will take: a 100-repo org over REST
alone needed hours of a 5,000 requests/hour token. A source that can estimate
cheaply (GitHub: one count query per 20 repos and one small request per repo)
answers :meth:`plan`; for the others the estimate is what their last sync cost.
Nothing here writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

__all__ = ["SECONDS_PER_REQUEST", "Budget", "SourcePlan", "pages", "plan_table"]

SECONDS_PER_REQUEST: Final = 0.3
"""A typical API round trip, for the time an estimate takes when no limit is hit."""


def pages(items: int, per_page: int, *, more: bool = True) -> int:
    """Pages a newest-first listing reads for ``items`` items: the page that reaches
    past the range ends it (``more``: older items exist), at least one."""
    if more:
        return items // per_page + 1
    return max(1, -(-items // per_page))


@dataclass(frozen=True)
class Budget:
    """One rate-limit budget of a token (REST requests or GraphQL points)."""

    limit: int | None
    """Per hour (GitHub: 5,000 for a user token, 15,000 for Enterprise Cloud apps)."""
    remaining: int | None
    reset_at: datetime | None

    def wait_s(self, cost: int, now: datetime) -> float:
        """How long ``cost`` must wait for this budget (0 when it fits now)."""
        if self.remaining is None or cost <= self.remaining or not self.limit:
            return 0.0
        until_reset = max(0.0, (self.reset_at - now).total_seconds()) if self.reset_at else 3600
        hours_more = (cost - self.remaining - 1) // self.limit
        return until_reset + 3600.0 * hours_more

    def text(self, unit: str) -> str:
        if self.remaining is None:
            return "unknown"
        limit = f" of {self.limit:,}" if self.limit else ""
        return f"{self.remaining:,}{limit} {unit} left"


@dataclass
class SourcePlan:
    """One source's estimate for the coming sync."""

    name: str
    kind: str
    requests: int | None = None
    """REST requests expected to cost quota (None: cannot tell)."""
    points: int = 0
    """GraphQL points expected."""
    rest: Budget | None = None
    graphql: Budget | None = None
    basis: str = ""
    """How the estimate was made, in words."""
    concurrency: int = 1
    spent: int = 0
    """What making the estimate itself cost (requests + points)."""
    error: str | None = None

    def seconds(self, now: datetime) -> float | None:
        """The time the sync should take at the token's current limits."""
        if self.requests is None:
            return None
        calls = self.requests + (self.points and max(1, self.points // 2))
        network = calls * SECONDS_PER_REQUEST / max(1, self.concurrency)
        waits = [
            budget.wait_s(cost, now)
            for budget, cost in ((self.rest, self.requests), (self.graphql, self.points))
            if budget is not None
        ]
        return network + max(waits, default=0.0)

    def to_json(self, now: datetime) -> dict[str, Any]:
        def budget(b: Budget | None) -> dict[str, Any] | None:
            if b is None:
                return None
            reset = b.reset_at.isoformat() if b.reset_at else None
            return {"limit": b.limit, "remaining": b.remaining, "reset_at": reset}

        return {
            "source": self.name,
            "kind": self.kind,
            "requests": self.requests,
            "points": self.points,
            "seconds": self.seconds(now),
            "rest_budget": budget(self.rest),
            "graphql_budget": budget(self.graphql),
            "basis": self.basis,
            "estimate_cost": self.spent,
            "error": self.error,
        }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    import humanize

    return "under a minute" if seconds < 60 else humanize.naturaldelta(timedelta(seconds=seconds))


def plan_table(plans: list[SourcePlan], now: datetime) -> str:
    """The plans as an aligned table, then each source's basis in words."""
    rows = [("source", "kind", "requests", "points", "budget", "time")]
    for plan in plans:
        budget = "; ".join(
            b.text(unit) for b, unit in ((plan.rest, "requests"), (plan.graphql, "points")) if b
        )
        rows.append(
            (
                plan.name,
                plan.kind,
                "?" if plan.requests is None else f"{plan.requests:,}",
                f"{plan.points:,}" if plan.points else "-",
                budget or "unknown",
                "failed" if plan.error else _duration(plan.seconds(now)),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    for plan in plans:
        note = plan.error or plan.basis
        if note:
            lines.append(f"{plan.name}: {note}")
    return "\n".join(lines)
