"""`kind = "prometheus"`: canary usage, alert-derived incidents and SLO queries.

Most teams' progressive delivery is only visible in their metrics, so this
source reads it from any Prometheus-compatible HTTP API (``/api/v1``):

- **Rollout samples** (SPEC §1 ``RolloutSample``) from Argo Rollouts
  (``rollout_info{namespace, name, strategy}``: ``canary`` / ``blueGreen``) and
  Flagger (``flagger_canary_status{namespace, name}``; a ``strategy`` label is
  used where present, otherwise a Flagger canary counts as ``canary``). One
  sample is written when a rollout appears or changes strategy, and an
  ``unknown`` one when it disappears, so a deploy takes the strategy its
  service had at the time. A rollout belongs to the team whose ``services``
  lists its ``name`` or ``namespace/name``; the sample's service is that entry.
- **Incidents from firing alerts** (``alert_incidents = true``): the history of
  ``ALERTS{alertstate="firing"}`` over the range via ``query_range``; each
  continuous firing period of one alert series is one incident, kept when it
  lasted at least ``alert_min_minutes``. Its severity comes from the
  ``alert_severity_label`` (default ``severity``) through ``severity_map``.
  Incremental: later syncs read only from the last sync on, and an alert still
  firing then continues the same incident.
- **Team queries** (``[sources.NAME.queries]``, name = PromQL): instant queries
  evaluated at the end of the sync range, e.g. SLO error-budget burn. A query
  that mentions ``$team`` or ``$services`` runs once per team (``$services``
  becomes a regex alternation of the team's service names); any other query
  runs once and each resulting series goes to the team named by its ``team``
  label or owning its ``service`` label. Results are kept in the sync state
  (``state["slo"]``) for the team screen and the JSON export.

A failing query (``bad_data``, ``execution``, ``timeout``) is reported with the
query's name and team; the other queries and sources go on. The source fails
only when nothing at all could be read.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from scorecard.model import UNASSIGNED
from scorecard.sources.base import (
    Collected,
    FatalSourceError,
    FetchContext,
    HttpClient,
    SourceError,
    SourceResult,
    iso,
    merge_frames,
    parse_time,
    register,
)
from scorecard.sources.monitoring import PrometheusOptions

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config, SourceConfig

STATE_VERSION: Final = 1
MAX_POINTS: Final = 10_000
"""Points per series per ``query_range`` request (Prometheus refuses more than 11,000)."""
ROLLOUT_STEP_S: Final = 600
"""Resolution of the rollout history; sample times are exact (``timestamp()``)."""
ALERT_STEP_S: Final = 60
"""Resolution of the alert history: an incident starts within a minute of the alert."""

ARGO_QUERY: Final = "min by (namespace, name, strategy) (timestamp(rollout_info))"
FLAGGER_QUERY: Final = "min by (namespace, name, strategy) (timestamp(flagger_canary_status))"
FLAGGER_TOTAL_QUERY: Final = "max by (namespace) (flagger_canary_total)"

_STRATEGIES: Final = {
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
_NO_STRATEGY: Final = frozenset({"", "none"})

DEFAULT_SEVERITIES: Final[Mapping[str, str]] = {
    "page": "sev1",
    "p1": "sev1",
    "critical": "sev2",
    "p2": "sev2",
    "error": "sev3",
    "high": "sev3",
    "major": "sev3",
    "p3": "sev3",
    "warning": "sev4",
    "warn": "sev4",
    "medium": "sev4",
    "p4": "sev4",
    "info": "sev5",
    "low": "sev5",
    "minor": "sev5",
    "none": "sev5",
    "p5": "sev5",
}
DEFAULT_SEVERITY: Final = "sev3"
_SEV_RE: Final = re.compile(r"^sev([1-5])$")
_TEMPLATE_RE: Final = re.compile(r"\$(team|services)\b")


# --- shared with the alertmanager source -----------------------------------------------


@dataclass(frozen=True)
class TeamMatcher:
    """Finds the team of a rollout, an alert or a query result by its labels."""

    teams: tuple[str, ...] = ()
    by_name: Mapping[str, str] = field(default_factory=dict)
    """casefolded team name -> team name"""
    by_service: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """casefolded ``name`` or ``namespace/name`` -> (team, the services entry as written)"""
    services: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """team -> its services entries"""

    @classmethod
    def from_config(cls, config: Config | None) -> TeamMatcher:
        by_name: dict[str, str] = {}
        by_service: dict[str, tuple[str, str]] = {}
        services: dict[str, tuple[str, ...]] = {}
        teams: list[str] = []
        for team in config.teams if config is not None else ():
            teams.append(team.name)
            by_name[team.name.casefold()] = team.name
            services[team.name] = tuple(team.services)
            for entry in team.services:
                by_service.setdefault(entry.casefold(), (team.name, entry))
        return cls(tuple(teams), by_name, by_service, services)

    def workload(self, namespace: str | None, name: str | None) -> tuple[str, str] | None:
        """(team, service entry) for a workload, by ``namespace/name`` first, then ``name``."""
        if not name:
            return None
        if namespace:
            found = self.by_service.get(f"{namespace}/{name}".casefold())
            if found is not None:
                return found
        return self.by_service.get(name.casefold())

    def labels(
        self, labels: Mapping[str, str], service_label: str = "service"
    ) -> tuple[str | None, str | None]:
        """(team, service) of a labelled series: its ``team`` label naming a configured
        team wins, then its service label (with ``namespace``) owned by a team. The
        service is the matching ``services`` entry, else the label's value."""
        raw_service = labels.get(service_label) or None
        found = self.workload(labels.get("namespace"), raw_service)
        team = self.by_name.get((labels.get("team") or "").casefold())
        if team is not None:
            return team, found[1] if found is not None and found[0] == team else raw_service
        if found is not None:
            return found
        return None, raw_service


def auth_headers(cfg: SourceConfig) -> tuple[dict[str, str], list[str]]:
    """Headers for the API's origin (``auth`` bearer|basic with the token, plus the
    configured ``headers``) and every secret value to redact from messages."""
    from scorecard.secrets import SecretsError, resolve_token

    try:
        token = resolve_token(cfg)
    except SecretsError as exc:
        raise FatalSourceError(str(exc)) from None
    headers: dict[str, str] = {}
    secrets: list[str] = []
    if token:
        secrets.append(token)
        if cfg.options.get("auth") == "basic":
            user = str(cfg.options.get("username") or "")
            pair = base64.b64encode(f"{user}:{token}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
            secrets.append(pair)
        else:
            headers["Authorization"] = f"Bearer {token}"
    for name, value in (cfg.options.get("headers") or {}).items():
        headers[str(name)] = str(value)
        if len(str(value)) >= 6:
            secrets.append(str(value))
    return headers, secrets


def severity_of(value: str | None, overrides: Mapping[str, str] | None = None) -> str:
    """``sev1..sev5`` for an alert's severity label value."""
    text = (value or "").strip().casefold()
    for key, sev in (overrides or {}).items():
        if key.casefold() == text:
            return sev
    if _SEV_RE.match(text):
        return text
    return DEFAULT_SEVERITIES.get(text, DEFAULT_SEVERITY)


def fingerprint(labels: Mapping[str, str]) -> str:
    """A short stable id for a label set."""
    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# --- the Prometheus HTTP API ------------------------------------------------------------


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

    async def _send(
        self, url: str, params: Mapping[str, Any] | None, headers: dict[str, str]
    ) -> Any:
        response = await super()._send(url, params, headers)
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


def _payload(page_data: Any, expected: Sequence[str]) -> tuple[str, list[Any]]:
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
    _kind, result = _payload(page.data, ("vector", "scalar"))
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
        _kind, result = _payload(page.data, ("matrix",))
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


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _grid(moment: datetime, step: int, *, up: bool) -> int:
    seconds = moment.timestamp()
    return int(math.ceil(seconds / step) * step if up else math.floor(seconds / step) * step)


def strategy_of(value: str | None, default: str | None) -> str | None:
    text = (value or "").strip().casefold()
    if text in _NO_STRATEGY:
        return default
    return _STRATEGIES.get(text)


# --- the source ---------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What the concurrent parts of one fetch produced."""

    ok: int = 0
    failed: list[BaseException] = field(default_factory=list)
    rollouts_ok: bool = False


@dataclass
class _AlertRun:
    """The alert history part of one fetch."""

    done: bool = False
    incremental: bool = False
    incidents: list[dict[str, Any]] = field(default_factory=list)
    replace: set[str] = field(default_factory=set)
    """Ids of previously stored incidents to drop (open ones now too short)."""
    state: dict[str, Any] = field(default_factory=dict)


@register("prometheus")
class PrometheusSource:
    """Argo Rollouts / Flagger rollout samples, alert incidents and team queries."""

    kind = "prometheus"
    Options = PrometheusOptions

    def __init__(
        self, cfg: SourceConfig, *, strict: bool = False, config: Config | None = None
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.strict = strict
        self.matcher = TeamMatcher.from_config(config)
        options = cfg.options
        self.queries: dict[str, str] = dict(options.get("queries") or {})
        self.alert_incidents = bool(options.get("alert_incidents", False))
        self.severity_label = str(options.get("alert_severity_label") or "severity")
        self.service_label = str(options.get("alert_service_label") or "service")
        self.min_minutes = float(options.get("alert_min_minutes") or 0.0)
        self.severity_map: dict[str, str] = dict(options.get("severity_map") or {})
        self.alert_teams = {t.casefold() for t in options.get("alert_teams") or ()}
        self.transport: Any = None
        """An httpx transport to use instead of the network (tests)."""

    async def probe(self) -> str:
        """A light check for `scorecard config check`: the server answers, and every
        team query evaluates (a templated one for the first team)."""
        headers, secrets = auth_headers(self.cfg)
        client = PrometheusClient(
            self.cfg, auth_headers=headers, secrets=secrets, transport=self.transport
        )
        now = datetime.now(timezone.utc)
        failed: list[str] = []
        async with client:
            page = await client.get("api/v1/status/buildinfo", conditional=False)
            data = page.data.get("data") if isinstance(page.data, dict) else None
            version = data.get("version") if isinstance(data, dict) else None
            for name, promql in self.queries.items():
                if _TEMPLATE_RE.search(promql) and self.matcher.teams:
                    promql = self._render(promql, self.matcher.teams[0])
                try:
                    await instant(client, promql, now, self.cfg.timeout_s)
                except FatalSourceError:
                    raise
                except SourceError as exc:
                    failed.append(f"query '{name}': {client._redact(str(exc))}")
        detail = f"Prometheus {version}" if version else "a Prometheus-compatible API"
        if self.queries:
            detail += f"; {len(self.queries) - len(failed)} of {len(self.queries)} queries ok"
        if failed:
            raise SourceError(detail + "; " + "; ".join(failed))
        return detail

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        headers, secrets = auth_headers(self.cfg)
        previous = {} if ctx.full else ctx.load_previous()
        old_state = {} if ctx.full else dict(ctx.state)
        if old_state.get("version") != STATE_VERSION:
            old_state = {}
        client = PrometheusClient(
            self.cfg, auth_headers=headers, secrets=secrets, transport=self.transport
        )
        collected = Collected()
        outcome = _Outcome()
        state: dict[str, Any] = {"version": STATE_VERSION}
        slo: dict[str, list[dict[str, Any]]] = {}
        alerts = _AlertRun()
        async with client:
            parts = [
                self._rollouts(client, ctx, collected, outcome),
                self._queries(client, ctx, slo, collected, outcome),
            ]
            if self.alert_incidents:
                parts.append(self._alerts(client, ctx, old_state, previous, alerts))
            results = await asyncio.gather(*parts, return_exceptions=True)
        for index, result in enumerate(results):
            if not isinstance(result, BaseException):
                if index == 2:
                    outcome.ok += 1
                continue
            if isinstance(result, FatalSourceError) or not isinstance(result, Exception):
                raise result
            outcome.failed.append(result)
            collected.complete = False
            collected.problem(str(result))
        if outcome.failed and outcome.ok == 0:
            first = outcome.failed[0]
            raise first if isinstance(first, SourceError) else SourceError(str(first))

        frames = collected.frames()
        if "rollouts" not in frames:
            from scorecard import model

            frames["rollouts"] = model.empty_frame("rollouts")
        if not outcome.rollouts_ok and "rollouts" in previous:
            frames["rollouts"] = previous["rollouts"]  # keep the last good history
        if self.alert_incidents:
            if alerts.done:
                fresh = Collected()
                for record in alerts.incidents:
                    fresh.add("incidents", record, f"alert {record.get('title')}")
                collected.skipped += fresh.skipped
                collected.problems.extend(fresh.problems)
                base = {}
                if alerts.incremental and "incidents" in previous:
                    base = _drop_ids({"incidents": previous["incidents"]}, alerts.replace)
                merged = merge_frames(base, fresh.frames())
                if "incidents" in merged:
                    frames["incidents"] = merged["incidents"]
                state["alerts"] = alerts.state
            else:
                if "incidents" in previous:
                    frames["incidents"] = previous["incidents"]
                if "alerts" in old_state:
                    state["alerts"] = old_state["alerts"]
        state["slo"] = slo
        state["slo_at"] = iso(ctx.until)
        stats = client.stats.as_dict()
        stats["skipped"] = collected.skipped
        ctx.progress(f"{client.stats.requests:,} queries")
        return SourceResult(
            frames=frames,
            skipped=collected.skipped,
            problems=[client._redact(p) for p in collected.problems],
            state=state,
            complete=collected.complete,
            stats=stats,
        )

    # --- rollouts -----------------------------------------------------------------------

    async def _rollouts(
        self, client: HttpClient, ctx: FetchContext, collected: Collected, outcome: _Outcome
    ) -> None:
        step = ROLLOUT_STEP_S
        start, end = _grid(ctx.since, step, up=True), _grid(ctx.until, step, up=False)
        timeout = self.cfg.timeout_s
        queries = {
            "Argo Rollouts (rollout_info)": (ARGO_QUERY, None),
            "Flagger (flagger_canary_status)": (FLAGGER_QUERY, "canary"),
        }
        answers = await asyncio.gather(
            *(query_range(client, q, start, end, step, timeout) for q, _ in queries.values()),
            return_exceptions=True,
        )
        workloads: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
        matched_namespaces: set[str] = set()
        for (what, (_query, default)), answer in zip(queries.items(), answers):
            if isinstance(answer, BaseException):
                if isinstance(answer, FatalSourceError) or not isinstance(answer, Exception):
                    raise answer
                outcome.failed.append(answer)
                collected.complete = False
                collected.problem(f"rollouts: {what} query failed: {answer}")
                continue
            outcome.ok += 1
            outcome.rollouts_ok = True
            for key, points in answer.items():
                labels = dict(key)
                strategy = strategy_of(labels.get("strategy"), default)
                where = f"{what} {labels.get('namespace', '')}/{labels.get('name', '')}"
                if strategy is None:
                    if (labels.get("strategy") or "").casefold() not in _NO_STRATEGY:
                        collected.bad(where, f"unknown strategy {labels.get('strategy')!r}")
                    continue
                workload = (labels.get("namespace", ""), labels.get("name", ""))
                if not workload[1]:
                    collected.bad(where, "no `name` label")
                    continue
                by_strategy = workloads.setdefault(workload, {})
                mine = by_strategy.setdefault(strategy, {})
                mine.update(points)
        unmatched = 0
        for (namespace, name), by_strategy in sorted(workloads.items()):
            found = self.matcher.workload(namespace, name)
            if found is None:
                unmatched += 1
                team, service = None, name
            else:
                team, service = found
                matched_namespaces.add(namespace)
            for at, strategy in rollout_changes(by_strategy, step, end):
                collected.add(
                    "rollouts",
                    {
                        "source": self.name,
                        "team": team,
                        "service": service,
                        "at": at,
                        "strategy": strategy,
                    },
                    f"rollout {namespace}/{name}",
                )
        client.stats.count("rollouts", len(workloads))
        if unmatched:
            client.stats.count("rollouts_unmatched", unmatched)
        await self._flagger_namespaces(client, ctx, collected, matched_namespaces)

    async def _flagger_namespaces(
        self, client: HttpClient, ctx: FetchContext, collected: Collected, matched: set[str]
    ) -> None:
        """Say which namespaces run Flagger canaries that no team's services match."""
        try:
            series = await instant(client, FLAGGER_TOTAL_QUERY, ctx.until, self.cfg.timeout_s)
        except FatalSourceError:
            raise
        except SourceError as exc:
            collected.problem(f"rollouts: Flagger (flagger_canary_total) query failed: {exc}")
            return
        for item in series:
            namespace = str((item.get("metric") or {}).get("namespace") or "")
            try:
                count = float((item.get("value") or [0, "0"])[1])
            except (TypeError, ValueError, IndexError):
                continue
            if count > 0 and namespace and namespace not in matched:
                collected.problem(
                    f"Flagger runs {count:g} canaries in namespace '{namespace}' but no team's "
                    "services list any of them (add `name` or `namespace/name` to a team)"
                )

    # --- alerts -> incidents ------------------------------------------------------------

    async def _alerts(
        self,
        client: HttpClient,
        ctx: FetchContext,
        old_state: Mapping[str, Any],
        previous: Mapping[str, pd.DataFrame],
        run: _AlertRun,
    ) -> None:
        step = ALERT_STEP_S
        incidents = run.incidents
        old = dict(old_state.get("alerts") or {})
        history_from = parse_time(old.get("history_from"))
        until = parse_time(old.get("until"))
        has_previous = "incidents" in previous and len(previous["incidents"]) > 0
        open_before: dict[str, str] = dict(old.get("open") or {})
        incremental = (
            not ctx.full
            and history_from is not None
            and until is not None
            and history_from <= ctx.since
            and until < ctx.until
            and has_previous
        )
        if incremental:
            assert until is not None and history_from is not None
            start = _grid(until, step, up=False)
            kept_from = history_from
        else:
            start, open_before, kept_from = _grid(ctx.since, step, up=True), {}, ctx.since
        end = _grid(ctx.until, step, up=False)
        query = 'timestamp(ALERTS{alertstate="firing"})'
        try:
            series = await query_range(client, query, start, end, step, self.cfg.timeout_s)
        except PromQLError as exc:
            raise SourceError(f"alert history query `{query}` failed: {exc}") from None
        now_open: dict[str, str] = {}
        continued: set[str] = set()
        replace: set[str] = set()
        for key, points in series.items():
            labels = {k: v for k, v in key if k not in ("alertstate", "__name__")}
            fp = fingerprint(labels)
            team, service = self.matcher.labels(labels, self.service_label)
            if self.alert_teams and (team or "").casefold() not in self.alert_teams:
                client.stats.count("alerts_other_teams")
                continue
            for period in runs(points, step):
                first, last = period[0], period[-1]
                created = _when(points[first])
                if first == start and fp in open_before:
                    created = parse_time(open_before[fp]) or created
                    continued.add(fp)
                still_open = last == end
                resolved = None if still_open else _when(points[last])
                lasted = ((resolved or _when(end)) - created).total_seconds() / 60
                ident = f"{self.name}:{fp}:{int(created.timestamp())}"
                if still_open:
                    now_open[fp] = iso(created)
                if lasted < self.min_minutes:
                    if not still_open:
                        client.stats.count("alerts_too_short")
                    else:
                        replace.add(ident)  # drop a too-short open one kept from before
                    continue
                incidents.append(
                    {
                        "id": ident,
                        "source": self.name,
                        "team": team,
                        "service": service,
                        "title": _alert_title(labels),
                        "severity": severity_of(labels.get(self.severity_label), self.severity_map),
                        "created_at": created,
                        "resolved_at": resolved,
                        "url": None,
                    }
                )
        # Alerts open at the last sync that no longer fire: they ended by its end.
        if incremental and until is not None and "incidents" in previous:
            frame = previous["incidents"]
            for fp, began in open_before.items():
                if fp in continued:
                    continue
                began_at = parse_time(began)
                if began_at is None:
                    continue
                ident = f"{self.name}:{fp}:{int(began_at.timestamp())}"
                match = frame[frame["id"] == ident]
                if len(match):
                    row = {str(k): v for k, v in match.iloc[0].to_dict().items()}
                    row["resolved_at"] = until
                    incidents.append(row)
        client.stats.count("incidents", len(incidents))
        run.state = {
            "history_from": iso(kept_from),
            "until": iso(_when(end)),
            "open": now_open,
        }
        run.replace = replace
        run.incremental = incremental
        run.done = True

    # --- team queries -------------------------------------------------------------------

    async def _queries(
        self,
        client: HttpClient,
        ctx: FetchContext,
        slo: dict[str, list[dict[str, Any]]],
        collected: Collected,
        outcome: _Outcome,
    ) -> None:
        jobs: list[tuple[str, str, str | None]] = []
        for name, promql in self.queries.items():
            if _TEMPLATE_RE.search(promql):
                for each in self.matcher.teams:
                    jobs.append((name, self._render(promql, each), each))
            else:
                jobs.append((name, promql, None))
        answers = await asyncio.gather(
            *(instant(client, q, ctx.until, self.cfg.timeout_s) for _n, q, _t in jobs),
            return_exceptions=True,
        )
        at = iso(ctx.until)
        for (name, promql, team), answer in zip(jobs, answers):
            if isinstance(answer, BaseException):
                if isinstance(answer, FatalSourceError) or not isinstance(answer, Exception):
                    raise answer
                outcome.failed.append(answer)
                collected.complete = False
                whose = f"team {team}" if team else "all teams"
                collected.problem(f"query '{name}' ({whose}): {answer}")
                for owner in [team] if team is not None else list(self.matcher.teams):
                    slo.setdefault(owner, []).append(
                        _slo_entry(name, promql, at, error=str(answer))
                    )
                continue
            outcome.ok += 1
            if team is not None:
                if not answer:
                    slo.setdefault(team, []).append(_slo_entry(name, promql, at))
                for item in answer:
                    slo.setdefault(team, []).append(_slo_entry(name, promql, at, item))
                continue
            for item in answer:
                labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
                found, _service = self.matcher.labels(labels)
                slo.setdefault(found or UNASSIGNED, []).append(_slo_entry(name, promql, at, item))
        client.stats.count("queries", len(jobs))

    def _render(self, promql: str, team: str) -> str:
        services = self.matcher.services.get(team, ())
        names = sorted({s.rsplit("/", 1)[-1] for s in services})
        alternation = "|".join(_promql_regex_literal(n) for n in names)
        return promql.replace("$services", alternation or "^$").replace(
            "$team", team.replace("\\", "\\\\").replace('"', '\\"')
        )


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
                out.append((_when(last_t + step), "unknown"))
                current = None
        # A strategy that just appeared wins: the old series lingers for Prometheus'
        # lookback after a switch.
        fresh = sorted(strategies - seen)
        kept = current if current in strategies else None
        choice = fresh[0] if fresh else kept or sorted(strategies)[0]
        if choice != current:
            exact = by_strategy[choice].get(t, float(t))
            out.append((_when(min(float(t), exact)), choice))
            current = choice
        seen = set(strategies)
        last_t = t
    if current is not None and last_t is not None and last_t < end:
        out.append((_when(last_t + step), "unknown"))
    return out


def _promql_regex_literal(text: str) -> str:
    """``text`` as a literal inside a regex inside a double-quoted PromQL string."""
    escaped = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')


def _alert_title(labels: Mapping[str, str]) -> str:
    name = labels.get("alertname") or "alert"
    detail = [f"{k}={labels[k]}" for k in ("service", "namespace", "job") if labels.get(k)]
    return f"{name} ({', '.join(detail)})" if detail else name


def _slo_entry(
    name: str,
    promql: str,
    at: str,
    item: Mapping[str, Any] | None = None,
    *,
    error: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "query": promql,
        "at": at,
        "labels": {},
        "value": None,
        "value_text": None,
        "error": error,
    }
    if item is None:
        if error is None:
            entry["value_text"] = "no data"
        return entry
    entry["labels"] = {
        str(k): str(v) for k, v in (item.get("metric") or {}).items() if k != "__name__"
    }
    raw = item.get("value")
    text = str(raw[1]) if isinstance(raw, (list, tuple)) and len(raw) > 1 else None
    entry["value_text"] = text
    try:
        number = float(text) if text is not None else math.nan
    except ValueError:
        number = math.nan
    entry["value"] = number if math.isfinite(number) else None
    return entry


def _drop_ids(frames: Mapping[str, pd.DataFrame], ids: set[str]) -> dict[str, pd.DataFrame]:
    if not ids:
        return dict(frames)
    return {k: f[~f["id"].isin(ids)].reset_index(drop=True) for k, f in frames.items()}
