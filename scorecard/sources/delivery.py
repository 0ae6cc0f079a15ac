"""What the Azure DevOps, Bitbucket and Argo CD sources share: HTTP Basic
credentials, the ``{"values": [...]}``-style pages of their listings, and the
``sync --plan`` estimate built from the first page of each listing.

A plan (``source.plan(ctx)``) reads only the newest page of every listing the
sync would read, and extrapolates from how much time that page covers to the
whole range, so it costs one request per listing instead of all of them. What it returns is a
:class:`~scorecard.sources.plan.SourcePlan`: the requests the sync is expected
to send, the records per stream in its basis, and the rate limit left now when
the vendor says.
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from scorecard.sources.plan import Budget, SourcePlan, pages
from scorecard.sources.records import iso
from scorecard.sources.vcs import stop_at

if TYPE_CHECKING:
    from scorecard.sources.api import ApiSource
    from scorecard.sources.contract import FetchContext
    from scorecard.sources.http import HttpClient, Page
    from scorecard.sources.records import Collected
    from scorecard.sources.vcs import RepoJob

__all__ = [
    "PlanEstimate",
    "basic_auth",
    "header_budget",
    "items_in_range",
    "newest_values",
    "page_values",
    "plan_state",
]

When = Callable[[dict[str, Any]], "datetime | None"]
"""The time a listing is sorted by, read from one item."""


def basic_auth(username: str, secret: str) -> tuple[dict[str, str], list[str]]:
    """An HTTP Basic ``Authorization`` header and both secret values to redact (the
    secret and its encoded pair: either in a message would give the token away)."""
    pair = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}, [secret, pair]


def page_values(page: Page, collected: Collected, where: str, key: str) -> list[Any] | None:
    """The items a listing page wraps under ``key`` (``value`` on Azure DevOps,
    ``values`` on Bitbucket), or None: a 304 has none, a malformed answer is counted
    and skipped."""
    if page.not_modified:
        return None
    data = page.data
    items = data.get(key) if isinstance(data, dict) else None
    if page.malformed or not isinstance(items, list):
        collected.bad(where, "malformed answer")
        return None
    return items


async def newest_values(
    job: RepoJob, pages: AsyncIterator[Page], *, key: str, when: When
) -> AsyncIterator[dict[str, Any]]:
    """The items of a newest-first listing of wrapped pages (see :func:`page_values`)
    from ``job.lower`` on, page by page, until a page reaches past it (an unchanged
    page that does stops the listing at once)."""
    async for page in pages:
        if stop_at(page, job.lower):
            return
        items = page_values(page, job.collected, job.repo, key)
        if items is None:
            continue
        known = [t for t in (when(i) for i in items if isinstance(i, dict)) if t is not None]
        oldest = min(known) if known else None
        if oldest is not None:
            job.client.remember(page, oldest=iso(oldest))
        for item in items:
            if not isinstance(item, dict):
                job.collected.bad(job.repo, "not an object")
                continue
            at = when(item)
            if at is None or at >= job.lower:
                yield item
        if oldest is not None and oldest < job.lower:
            return


def items_in_range(
    times: Sequence[datetime | None], *, more: bool, lower: datetime, until: datetime
) -> int:
    """How many items of a newest-first listing fall in ``[lower, until)``, from its
    first page: counted when the page reaches past ``lower`` or is the last one,
    else extrapolated from the span the page covers."""
    known = [t for t in times if t is not None]
    inside = sum(1 for t in known if t >= lower)
    if not more or not known or inside < len(known):
        return inside
    covered = (until - min(known)).total_seconds()
    wanted = (until - lower).total_seconds()
    if covered <= 0:
        return inside
    return max(inside, math.ceil(inside * wanted / covered))


class PlanEstimate:
    """The coming sync's requests and records, as the sync would count them."""

    def __init__(self) -> None:
        self.requests = 0
        self.items: dict[str, int] = {}

    def fixed(self, requests: int) -> None:
        """Requests the sync always sends (a repo's own page, a list of environments)."""
        self.requests += requests

    def listing(
        self, stream: str, items: int, *, page_size: int, more: bool = True, per_item: int = 0
    ) -> None:
        """A newest-first listing of ``items`` records read ``page_size`` at a time (the
        page reaching past the range ends it when ``more`` older records exist), plus
        ``per_item`` requests for each record (first commits)."""
        self.requests += pages(items, page_size, more=more) + items * per_item
        self.items[stream] = self.items.get(stream, 0) + items

    def plan(
        self,
        source: ApiSource[Any],
        client: HttpClient,
        what: str,
        budget: Budget | None = None,
    ) -> SourcePlan:
        """The estimate as ``sync --plan`` shows it: ``what`` was read (e.g. "2 repos");
        ``budget`` is the rate limit when the vendor's headers tell more than what is left."""
        counted = ", ".join(f"~{n:,} {stream}" for stream, n in sorted(self.items.items()))
        remaining = client.stats.rate_limit_remaining
        return SourcePlan(
            source.name,
            source.kind,
            requests=self.requests,
            rest=budget or (Budget(None, remaining, None) if remaining is not None else None),
            basis=f"{what}; from the first page of each listing since its bookmark or the "
            f"history start: {counted or 'nothing new'}",
            concurrency=source.options.max_concurrency,
            spent=client.stats.requests - client.stats.not_modified,
        )


def header_budget(
    headers: Mapping[str, str], now: datetime, *, window_s: float = 3600.0
) -> Budget | None:
    """The rate limit an answer's ``RateLimit-*`` (or ``X-RateLimit-*``) headers report
    (None without them). A :class:`Budget` counts per hour, so the limit of a shorter
    window (Buildkite: 200 requests a minute) is scaled to an hour; the reset is the
    seconds left in the window (an epoch time past 1e9)."""
    lowered = {k.lower(): v for k, v in headers.items()}

    def number(name: str) -> float | None:
        for prefix in ("ratelimit-", "x-ratelimit-"):
            value = lowered.get(prefix + name)
            if value is not None:
                with contextlib.suppress(ValueError):
                    return float(value)
        return None

    remaining, limit, reset = number("remaining"), number("limit"), number("reset")
    if remaining is None:
        return None
    reset_at = None
    if reset is not None:
        reset_at = (
            datetime.fromtimestamp(reset, tz=timezone.utc)
            if reset > 1e9
            else now + timedelta(seconds=reset)
        )
    hourly = round(limit * 3600 / window_s) if limit else None
    return Budget(hourly, int(remaining), reset_at)


def plan_state(source: ApiSource[Any], ctx: FetchContext) -> dict[str, Any]:
    """The saved state a plan reads bookmarks from (none when unusable or ``--full``)."""
    usable = ctx.state.get("version") == source.state_version and not ctx.full
    return dict(ctx.state) if usable else {}
