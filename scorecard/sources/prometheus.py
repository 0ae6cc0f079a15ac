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
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Final

from scorecard.errors import FatalSourceError, SourceError
from scorecard.model import UNASSIGNED
from scorecard.sources.http import HttpClient
from scorecard.sources.monitoring import MonitoringSource, PrometheusOptions
from scorecard.sources.prometheus_alerts import AlertRun, alert_history, drop_ids
from scorecard.sources.promql import (
    ARGO_QUERY,
    FLAGGER_QUERY,
    FLAGGER_TOTAL_QUERY,
    NO_STRATEGY,
    ROLLOUT_STEP_S,
    PrometheusClient,
    grid,
    instant,
    query_range,
    rollout_changes,
    strategy_of,
)
from scorecard.sources.records import Collected, iso, merge_frames
from scorecard.sources.registry import register

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.sources.contract import FetchContext, SourceResult

_TEMPLATE_RE: Final = re.compile(r"\$(team|services)\b")

Workloads = dict[tuple[str, str], dict[str, dict[int, float]]]
"""(namespace, name) -> strategy -> {sample time: first seen}."""


@dataclass
class _Outcome:
    """What the concurrent parts of one fetch produced."""

    ok: int = 0
    failed: list[BaseException] = field(default_factory=list)
    rollouts_ok: bool = False


@register
class PrometheusSource(MonitoringSource[PrometheusOptions]):
    """Argo Rollouts / Flagger rollout samples, alert incidents and team queries."""

    kind = "prometheus"
    Options = PrometheusOptions
    client_class: ClassVar[type[HttpClient]] = PrometheusClient

    async def probe(self) -> str:
        """A light check for `scorecard config check`: the server answers, and every
        team query evaluates (a templated one for the first team)."""
        client = self.client()
        now = datetime.now(timezone.utc)
        failed: list[str] = []
        queries = self.options.queries
        async with client:
            page = await client.get("api/v1/status/buildinfo", conditional=False)
            data = page.data.get("data") if isinstance(page.data, dict) else None
            version = data.get("version") if isinstance(data, dict) else None
            for name, promql in queries.items():
                if _TEMPLATE_RE.search(promql) and self.matcher.teams:
                    promql = self._render(promql, self.matcher.teams[0])
                try:
                    await instant(client, promql, now, self.options.timeout_s)
                except FatalSourceError:
                    raise
                except SourceError as exc:
                    failed.append(f"query '{name}': {client.redact(str(exc))}")
        detail = f"Prometheus {version}" if version else "a Prometheus-compatible API"
        if queries:
            detail += f"; {len(queries) - len(failed)} of {len(queries)} queries ok"
        if failed:
            raise SourceError(detail + "; " + "; ".join(failed))
        return detail

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        previous, old_state = self.start(ctx)
        client = self.client()
        collected = Collected()
        outcome = _Outcome()
        slo: dict[str, list[dict[str, Any]]] = {}
        alerts = AlertRun()
        async with client:
            parts = [
                self._rollouts(client, ctx, collected, outcome),
                self._queries(client, ctx, slo, collected, outcome),
            ]
            if self.options.alert_incidents:
                parts.append(alert_history(self, client, ctx, old_state, previous, alerts))
            results = await asyncio.gather(*parts, return_exceptions=True)
        _settle(results, outcome, collected)
        frames = self._frames(previous, collected, outcome, alerts)
        state: dict[str, Any] = {"version": self.state_version}
        if self.options.alert_incidents:
            if alerts.done:
                state["alerts"] = alerts.state
            elif "alerts" in old_state:
                state["alerts"] = old_state["alerts"]
        state["slo"] = slo
        state["slo_at"] = iso(ctx.until)
        ctx.progress(f"{client.stats.requests:,} queries")
        return self.result(collected, client, frames=frames, state=state)

    def _frames(
        self,
        previous: Mapping[str, pd.DataFrame],
        collected: Collected,
        outcome: _Outcome,
        alerts: AlertRun,
    ) -> dict[str, pd.DataFrame]:
        """Fresh rollouts (the last good history if their queries failed) and alert
        incidents merged into the cached ones."""
        frames = collected.frames()
        if "rollouts" not in frames:
            from scorecard import model

            frames["rollouts"] = model.empty_frame("rollouts")
        if not outcome.rollouts_ok and "rollouts" in previous:
            frames["rollouts"] = previous["rollouts"]  # keep the last good history
        if not self.options.alert_incidents:
            return frames
        if not alerts.done:
            if "incidents" in previous:
                frames["incidents"] = previous["incidents"]
            return frames
        fresh = Collected()
        for record in alerts.incidents:
            fresh.add("incidents", record, f"alert {record.get('title')}")
        collected.skipped += fresh.skipped
        collected.problems.extend(fresh.problems)
        base = {}
        if alerts.incremental and "incidents" in previous:
            base = drop_ids({"incidents": previous["incidents"]}, alerts.replace)
        merged = merge_frames(base, fresh.frames())
        if "incidents" in merged:
            frames["incidents"] = merged["incidents"]
        return frames

    # --- rollouts -----------------------------------------------------------------------

    async def _rollouts(
        self, client: HttpClient, ctx: FetchContext, collected: Collected, outcome: _Outcome
    ) -> None:
        step = ROLLOUT_STEP_S
        start, end = grid(ctx.since, step, up=True), grid(ctx.until, step, up=False)
        timeout = self.options.timeout_s
        queries = {
            "Argo Rollouts (rollout_info)": (ARGO_QUERY, None),
            "Flagger (flagger_canary_status)": (FLAGGER_QUERY, "canary"),
        }
        answers = await asyncio.gather(
            *(query_range(client, q, start, end, step, timeout) for q, _ in queries.values()),
            return_exceptions=True,
        )
        workloads: Workloads = {}
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
            _add_workloads(workloads, what, default, answer, collected)
        matched = self._rollout_samples(workloads, step, end, collected, client)
        await self._flagger_namespaces(client, ctx, collected, matched)

    def _rollout_samples(
        self, workloads: Workloads, step: int, end: int, collected: Collected, client: HttpClient
    ) -> set[str]:
        """A sample per strategy change of every workload; the namespaces a team owns."""
        matched_namespaces: set[str] = set()
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
        return matched_namespaces

    async def _flagger_namespaces(
        self, client: HttpClient, ctx: FetchContext, collected: Collected, matched: set[str]
    ) -> None:
        """Say which namespaces run Flagger canaries that no team's services match."""
        try:
            series = await instant(client, FLAGGER_TOTAL_QUERY, ctx.until, self.options.timeout_s)
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
        for name, promql in self.options.queries.items():
            if _TEMPLATE_RE.search(promql):
                for each in self.matcher.teams:
                    jobs.append((name, self._render(promql, each), each))
            else:
                jobs.append((name, promql, None))
        answers = await asyncio.gather(
            *(instant(client, q, ctx.until, self.options.timeout_s) for _n, q, _t in jobs),
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


def _settle(results: list[Any], outcome: _Outcome, collected: Collected) -> None:
    """Each failed part is a problem (the result is partial); a fatal one, or every
    part failing, fails the source."""
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


def _add_workloads(
    workloads: Workloads,
    what: str,
    default: str | None,
    answer: Mapping[tuple[tuple[str, str], ...], dict[int, float]],
    collected: Collected,
) -> None:
    """The rollout series of one query, by workload and strategy."""
    for key, points in answer.items():
        labels = dict(key)
        strategy = strategy_of(labels.get("strategy"), default)
        where = f"{what} {labels.get('namespace', '')}/{labels.get('name', '')}"
        if strategy is None:
            if (labels.get("strategy") or "").casefold() not in NO_STRATEGY:
                collected.bad(where, f"unknown strategy {labels.get('strategy')!r}")
            continue
        workload = (labels.get("namespace", ""), labels.get("name", ""))
        if not workload[1]:
            collected.bad(where, "no `name` label")
            continue
        workloads.setdefault(workload, {}).setdefault(strategy, {}).update(points)


def _promql_regex_literal(text: str) -> str:
    """``text`` as a literal inside a regex inside a double-quoted PromQL string."""
    escaped = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')


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
