"""The Prometheus HTTP API (``/api/v1``) as the prometheus source reads it.

Instant and range queries (the range split into requests Prometheus accepts),
its error answers read as :class:`PromQLError` instead of being retried, the
step grid, and rollout samples from the rollout series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final

from scorecard.errors import SourceError
from scorecard.sources.http import HttpClient

__all__ = [
    "ALERT_STEP_S",
    "ARGO_QUERY",
    "FLAGGER_QUERY",
    "FLAGGER_TOTAL_QUERY",
    "MAX_POINTS",
    "NO_STRATEGY",
    "ROLLOUT_STEP_S",
    "PromQLError",
    "PrometheusClient",
    "grid",
    "instant",
    "payload",
    "query_range",
    "rollout_changes",
    "runs",
    "strategy_of",
    "when",
]

MAX_POINTS: Final = 10_000
"""Points per series per ``query_range`` request (Prometheus refuses more than 11,000)."""
ROLLOUT_STEP_S: Final = 600
"""Resolution of the rollout history; sample times are exact (``timestamp()``)."""
ALERT_STEP_S: Final = 60
"""Resolution of the alert history: an incident starts within a minute of the alert."""

ARGO_QUERY: Final = "min by (namespace, name, strategy) (timestamp(rollout_info))"
FLAGGER_QUERY: Final = "min by (namespace, name, strategy) (timestamp(flagger_canary_status))"
FLAGGER_TOTAL_QUERY: Final = "max by (namespace) (flagger_canary_total)"

STRATEGIES: Final = {
    "canary": "canary",
    "bluegreen": "blue_green",
    "blue_green": "blue_green",
    "blue-green": "blue_green",
    "abtesting": "canary",
    "ab": "canary",
    "rolling": "rolling",
    "rollingupdate": "rolling",
    "recreate": "direct",
    "direct": "direct",
}
NO_STRATEGY: Final = frozenset({"", "none"})


class PromQLError(SourceError):
    """Prometheus answered a query with an error (``bad_data``, ``execution``, ``timeout``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}", retriable=error_type == "timeout")
        self.error_type = error_type


class PrometheusClient(HttpClient):
    """The shared HTTP client, reading Prometheus' error bodies instead of retrying them.

    Prometheus answers a bad query with 400 (``bad_data``), 422 (``execution``) or
    503 (``timeout``, ``canceled``) and a JSON body saying what is wrong; retrying
    would not help, and the message is what the user needs to fix the query.
    """

    async def send(
        self, url: str, params: Mapping[str, Any] | None, headers: dict[str, str]
    ) -> Any:
        response = await super().send(url, params, headers)
        if response.status_code in (400, 422, 503):
            try:
                body = response.json()
            except (ValueError, UnicodeDecodeError):
                body = None
            if isinstance(body, dict) and body.get("status") == "error":
                error_type = str(body.get("errorType") or "error")
                if response.status_code != 503 or error_type in ("timeout", "canceled"):
                    raise PromQLError(error_type, str(body.get("error") or "").strip())
        return response


def payload(page_data: Any, expected: Sequence[str]) -> tuple[str, list[Any]]:
    if not isinstance(page_data, dict) or page_data.get("status") != "success":
        raise SourceError("not a Prometheus API answer (is `url` the Prometheus server?)")
    data = page_data.get("data")
    if not isinstance(data, dict):
        raise SourceError("not a Prometheus API answer: no `data`")
    kind = str(data.get("resultType") or "")
    if kind not in expected:
        raise PromQLError(
            "bad_data",
            f"the query returns a {kind or 'unknown result'}, expected {' or '.join(expected)}"
            + (" (an instant query needs an instant vector or scalar)" if kind == "matrix" else ""),
        )
    result = data.get("result")
    if kind == "scalar":
        return kind, [{"metric": {}, "value": result}]
    return kind, result if isinstance(result, list) else []


async def instant(
    client: HttpClient, promql: str, at: datetime, timeout_s: float
) -> list[dict[str, Any]]:
    """``GET /api/v1/query`` at ``at``: series as ``{"metric": {...}, "value": [t, "v"]}``."""
    page = await client.get(
        "api/v1/query",
        {"query": promql, "time": f"{at.timestamp():.3f}", "timeout": f"{timeout_s:g}s"},
        conditional=False,
    )
    if page.malformed:
        raise SourceError("the answer was not valid JSON")
    _kind, result = payload(page.data, ("vector", "scalar"))
    return [r for r in result if isinstance(r, dict)]


async def query_range(
    client: HttpClient, promql: str, start: int, end: int, step: int, timeout_s: float
) -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
    """``GET /api/v1/query_range`` over ``[start, end]`` (epoch seconds on the step grid),
    in requests of at most :data:`MAX_POINTS` points: series labels -> {t: value}."""
    out: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
    lo = start
    while lo <= end:
        hi = min(end, lo + step * (MAX_POINTS - 1))
        page = await client.get(
            "api/v1/query_range",
            {
                "query": promql,
                "start": str(lo),
                "end": str(hi),
                "step": str(step),
                "timeout": f"{timeout_s:g}s",
            },
            conditional=False,
        )
        if page.malformed:
            raise SourceError("the answer was not valid JSON")
        _kind, result = payload(page.data, ("matrix",))
        for series in result:
            if not isinstance(series, dict):
                continue
            metric = series.get("metric") or {}
            key = tuple(sorted((str(k), str(v)) for k, v in metric.items()))
            points = out.setdefault(key, {})
            for pair in series.get("values") or ():
                try:
                    points[round(float(pair[0]))] = float(pair[1])
                except (TypeError, ValueError, IndexError):
                    continue
        lo = hi + step
    return out


def runs(times: Iterable[int], step: int) -> list[list[int]]:
    """Consecutive grid points (``step`` apart) grouped into runs."""
    out: list[list[int]] = []
    for t in sorted(times):
        if out and t - out[-1][-1] <= step:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def grid(moment: datetime, step: int, *, up: bool) -> int:
    seconds = moment.timestamp()
    return int(math.ceil(seconds / step) * step if up else math.floor(seconds / step) * step)


def strategy_of(value: str | None, default: str | None) -> str | None:
    text = (value or "").strip().casefold()
    if text in NO_STRATEGY:
        return default
    return STRATEGIES.get(text)


def rollout_changes(
    by_strategy: Mapping[str, Mapping[int, float]], step: int, end: int
) -> list[tuple[datetime, str]]:
    """Samples for one workload: when each strategy run starts (at the exact sample
    time), and ``unknown`` when the workload disappears before ``end``."""
    timeline: dict[int, set[str]] = {}
    for strategy, points in by_strategy.items():
        for t in points:
            timeline.setdefault(t, set()).add(strategy)
    out: list[tuple[datetime, str]] = []
    current: str | None = None
    last_t: int | None = None
    seen: set[str] = set()
    for t in sorted(timeline):
        strategies = timeline[t]
        gap = last_t is not None and t - last_t > step
        if gap:
            seen = set()
            if current is not None:
                assert last_t is not None
                out.append((when(last_t + step), "unknown"))
                current = None
        # A strategy that just appeared wins: the old series lingers for Prometheus'
        # lookback after a switch.
        fresh = sorted(strategies - seen)
        kept = current if current in strategies else None
        choice = fresh[0] if fresh else kept or sorted(strategies)[0]
        if choice != current:
            exact = by_strategy[choice].get(t, float(t))
            out.append((when(min(float(t), exact)), choice))
            current = choice
        seen = set(strategies)
        last_t = t
    if current is not None and last_t is not None and last_t < end:
        out.append((when(last_t + step), "unknown"))
    return out
