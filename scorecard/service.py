"""The headless core: what the command line and the TUI both do.

Loading events (from the cache or the demo), attributing teams, scoring and
knowing which sources are stale all happen here, once, so that `scorecard
export` and the TUI can never disagree about a number. Nothing here imports
textual; the TUI calls these functions from workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from scorecard.request import ScoreRequest, utcnow
from scorecard.status import SourceStatus

if TYPE_CHECKING:
    import pandas as pd

    from scorecard.config import Config
    from scorecard.discovery.report import TeamsReport
    from scorecard.discovery.run import Resolved
    from scorecard.metrics import Explanation, Prepared, SourceCoverage
    from scorecard.scoring import Report
    from scorecard.store import Publication, Store
    from scorecard.sync import Progress, SyncSummary

__all__ = [
    "Scorecard",
    "cached_scorecard",
    "columns_to_load",
    "demo_scorecard",
    "explain",
    "explain_text",
    "extras",
    "live_scorecard",
    "overview_summary",
    "report_from_frames",
    "score_request",
    "snapshot",
    "source_coverage",
    "sync_and_score",
    "teams_by_source",
    "utcnow",
]


@dataclass(frozen=True)
class Scorecard:
    """A report plus the source statuses and notices it was built with."""

    report: Report
    config: Config
    statuses: Mapping[str, SourceStatus]
    notices: tuple[str, ...] = ()
    demo: bool = False
    loaded_at: datetime = field(default_factory=utcnow)
    teams: Resolved | None = None
    """The team map the report was scored with (``[[teams]]`` plus discovery)."""
    publication: Publication | None = None
    """The shared cache's publication it was read from (whose sync, when; SPEC §9)."""

    def failed_sources(self) -> list[str]:
        """Names of sources whose last sync failed."""
        return [n for n, s in self.statuses.items() if s.last_error]


def score_request(
    config: Config,
    *,
    as_of: datetime | None = None,
    window_days: int | None = None,
    now: datetime | None = None,
    offline: bool = False,
) -> ScoreRequest:
    """The request for what was asked; the window defaults to the config's."""
    return ScoreRequest.resolve(
        as_of=as_of,
        window_days=window_days,
        now=now,
        default_window_days=config.window_days,
        offline=offline,
    )


def report_from_frames(
    frames: Mapping[str, pd.DataFrame],
    config: Config,
    *,
    request: ScoreRequest,
    statuses: Mapping[str, SourceStatus] | None = None,
) -> Report:
    """Score every configured team from raw event frames, for ``request`` (build one
    from loose values with :func:`score_request`)."""
    from scorecard import metrics, scoring

    team_map = metrics.team_map_from(config.teams, config.service_aliases)
    prep = metrics.prepare(
        frames,
        team_map,
        production_environments=config.production_environments,
        incident_link_hours=config.incident_link_hours,
    )
    if statuses is not None:
        prep = metrics.with_coverage(
            prep, metrics.covered_kinds(source_coverage(config, statuses, prep))
        )
    stale = scoring.stale_reasons(
        statuses or {},
        teams_by_source(prep),
        [t.name for t in config.teams],
        {s.name: s.options.refresh_minutes for s in config.sources},
        request.now,
    )
    return scoring.build_report(
        prep,
        request,
        bench=config.bench(),
        org=config.org,
        stale=stale,
        change_classes=config.change_classes,
    )


# The kinds of event each source kind delivers whatever it found (files, demo and
# monitoring sources: the kinds they delivered), and the kinds that page the whole
# org: an incident source's silence about a team is a real zero (SPEC §13).
_DELIVERS: dict[str, tuple[str, ...]] = {
    "github": ("deployments", "changes", "ci_runs"),
    "gitlab": ("deployments", "changes", "ci_runs"),
    "pagerduty": ("incidents",),
    "incidentio": ("incidents",),
    "opsgenie": ("incidents",),
    "codecov": ("coverage",),
}
_ORG_WIDE = frozenset({"pagerduty", "incidentio", "opsgenie"})


def source_coverage(
    config: Config, statuses: Mapping[str, SourceStatus], prep: Prepared
) -> list[SourceCoverage]:
    """Each configured source that synced at least once: the kinds of event it delivers
    and the teams it covers (those it delivered events for; every team for a pager)."""
    from scorecard.metrics import SourceCoverage

    by_source = teams_by_source(prep)
    tables = {
        "deployments": prep.deployments,
        "changes": prep.changes,
        "ci_runs": prep.ci_runs,
        "coverage": prep.coverage,
        "incidents": prep.incidents,
    }
    found = {kind: set(table["source"].dropna().astype(str)) for kind, table in tables.items()}
    teams = frozenset(t.name for t in config.teams)
    out = []
    for source in config.sources:
        status = statuses.get(source.name)
        if status is None or status.last_success_at is None:
            continue
        kind = status.kind or source.kind  # the demo's sources stand in for real kinds
        kinds = {*_DELIVERS.get(kind, ()), *(k for k, s in found.items() if source.name in s)}
        covers = set(by_source.get(source.name, ())) | (teams if kind in _ORG_WIDE else set())
        out.append(SourceCoverage(source.name, frozenset(kinds), frozenset(covers)))
    return out


def explain(card: Scorecard, team: str, metric: str, store: Store | None = None) -> Explanation:
    """The events behind ``metric`` of ``team`` in ``card`` (SPEC §13).

    With ``store``, a card scored from a cache read without the columns only the
    explanation shows (change and CI run ids) is scored again from all of it.
    """
    from scorecard import metrics
    from scorecard.errors import UsageError

    report = card.report
    if metric not in metrics.EXPLAINABLE:
        hint = " (a score: its reasons say why)" if metric in report.table.columns else ""
        raise UsageError(
            f"cannot explain '{metric}'{hint}; choose a metric: {', '.join(metrics.EXPLAINABLE)}"
        )
    teams = [str(t) for t in report.table.index]
    if team not in teams:
        same = [t for t in teams if t.casefold() == team.casefold()]
        if len(same) != 1:
            raise UsageError(f"no team '{team}'; teams: {', '.join(teams)}")
        team = same[0]
    if store is not None and not card.demo and columns_to_load(card.config) is not None:
        request = score_request(card.config, as_of=report.as_of, window_days=report.window_days)
        card = cached_scorecard(card.config, store, request, all_columns=True)
    config = card.config
    return metrics.explain(
        card.report.prepared,
        team,
        metric,
        card.report.as_of,
        card.report.window_days,
        production_environments=config.production_environments,
        incident_link_hours=config.incident_link_hours,
    )


def explain_text(card: Scorecard, team: str, metric: str, fmt: str, out: TextIO) -> int:
    """``scorecard explain``: the explanation written to ``out`` as a table, CSV or JSON;
    a cached card is read again with every column (ids). Returns the exit code, 0."""
    from scorecard import export
    from scorecard.store import Store

    found = explain(card, team, metric, None if card.demo else Store(read_only=True))
    fmt_name: Any = fmt
    out.write(export.render_explanation(found, fmt_name, org=card.report.org))
    return 0


def teams_by_source(prep: Any) -> dict[str, set[str]]:
    """Which teams each source delivered events for (after team attribution)."""
    out: dict[str, set[str]] = {}
    for frame in (prep.deployments, prep.changes, prep.ci_runs, prep.coverage, prep.incidents):
        for source, team in _source_team_pairs(frame["source"], frame["team"]):
            out.setdefault(source, set()).add(team)
    return out


def _source_team_pairs(
    source: pd.Series, team: pd.Series, chunk: int = 1 << 20
) -> list[tuple[str, str]]:
    """The distinct (source, team) pairs of one table, both present.

    Categorical columns (the cache's and attribution's) are paired by their
    integer codes a slice at a time: no per-row strings, no big temporaries.
    """
    import numpy as np
    import pandas as pd

    if not (
        isinstance(source.dtype, pd.CategoricalDtype)
        and isinstance(team.dtype, pd.CategoricalDtype)
    ):
        pairs = pd.DataFrame({"source": source, "team": team}).dropna().drop_duplicates()
        return list(zip(pairs["source"].astype(str), pairs["team"].astype(str)))
    sources, teams = source.cat.categories, team.cat.categories
    seen = np.zeros((len(sources), len(teams)), dtype=bool)
    s_codes, t_codes = source.cat.codes.to_numpy(), team.cat.codes.to_numpy()
    for lo in range(0, len(s_codes), chunk):
        s, t = s_codes[lo : lo + chunk], t_codes[lo : lo + chunk]
        ok = (s >= 0) & (t >= 0)
        seen[s[ok], t[ok]] = True
    return [(str(sources[i]), str(teams[j])) for i, j in zip(*np.nonzero(seen))]


def demo_scorecard(request: ScoreRequest | None = None) -> Scorecard:
    """The built-in demo org, scored (no cache, no config, no network).

    Without ``request``, the demo's default request: today, from the clock, over
    the demo config's window. The demo's clock is its as-of, to the minute: its
    sources synced just before."""
    from scorecard import demo

    if request is None:
        request = score_request(demo.demo_config())
    org = demo.demo_org(request.as_of)
    report = report_from_frames(
        org.frames,
        org.config,
        request=replace(request, as_of=org.as_of, now=org.as_of),
        statuses=org.statuses,
    )
    return Scorecard(report=report, config=org.config, statuses=org.statuses, demo=True)


def cached_scorecard(
    config: Config, store: Store, request: ScoreRequest, *, all_columns: bool = False
) -> Scorecard:
    """Score from what the cache holds; stale sources are flagged, never hidden.

    ``all_columns``: read every cached column, not only those scoring needs."""
    store.reopen()  # a shared cache: its latest publication (a standup runs for days)
    resolved = discovered(config, store)
    config = resolved.config
    statuses = store.statuses()
    configured = {s.name for s in config.sources}
    sources = [n for n in statuses if n in configured]
    columns = None if all_columns else columns_to_load(config)
    frames = monorepo_frames(store.load(columns=columns, sources=sources), resolved)
    report = report_from_frames(
        frames,
        config,
        request=request,
        statuses={n: s for n, s in statuses.items() if n in configured}
        | {n: _never_synced(config, n) for n in configured - set(statuses)},
    )
    if columns is not None:
        # Read only if a deployments detail table is asked for (export, dialog).
        from scorecard import metrics

        deferred = ["id", *_DEFERRED_DEPLOYMENT_COLUMNS]
        metrics.defer_columns(
            report.prepared,
            _DEFERRED_DEPLOYMENT_COLUMNS,
            lambda: store.load(["deployments"], {"deployments": deferred}, sources)["deployments"],
        )
    notices = tuple(store.notices)
    return Scorecard(
        report, config, statuses, notices=notices, teams=resolved, publication=store.publication
    )


def discovered(config: Config, store: Store | None) -> Resolved:
    """The team map in force: ``[[teams]]`` plus the ``[discovery.*]`` sections' last
    answers in the cache (SPEC §12; no network)."""
    from scorecard.discovery.cache import cached_resolution

    return cached_resolution(config, store)


def monorepo_frames(frames: dict[str, pd.DataFrame], resolved: Resolved) -> dict[str, pd.DataFrame]:
    """Events in CODEOWNERS repos given to their teams by paths and services."""
    from scorecard.discovery.attribution import attribute_monorepos

    return attribute_monorepos(frames, resolved) if resolved.owners else frames


def teams_text(
    config: Config, request: ScoreRequest, fmt: str, read_only: bool
) -> tuple[str, list[str]]:
    """``scorecard teams`` as text, and a line per stale discovery section. Unless
    ``read_only``, the remote ``[discovery.*]`` sections are refreshed into the cache
    first (as a sync does)."""
    import asyncio

    from scorecard.discovery.cache import refresh
    from scorecard.discovery.report import render
    from scorecard.store import Store

    store = Store(read_only=read_only)
    if not read_only:
        asyncio.run(refresh(config, store, request.now))
    report = teams_report(cached_scorecard(config, store, request))
    stale = [f"{s.name}: {s.last_error}" for s in report.stale]
    return render(report, "json" if fmt == "json" else "csv" if fmt == "csv" else "table"), stale


def teams_report(card: Scorecard) -> TeamsReport:
    """``scorecard teams`` and the Teams view: the resolved map with origins, the
    repos and services with events but no team, problems and stale sections."""
    from scorecard.discovery.cache import cached_resolution
    from scorecard.discovery.report import TeamsReport, unassigned_rows

    resolved = card.teams or cached_resolution(card.config, None)
    prep = card.report.prepared
    tables = {"deployments": prep.deployments, "changes": prep.changes, "ci_runs": prep.ci_runs}
    tables |= {"coverage": prep.coverage, "incidents": prep.incidents}
    sections = {d.section for d in card.config.discovery}
    stale = [s for n, s in card.statuses.items() if n in sections and s.last_error]
    return TeamsReport(
        rows=resolved.resolution.rows,
        unassigned=unassigned_rows(tables),
        problems=resolved.resolution.problems,
        stale=tuple(stale),
    )


# The big tables (millions of CI runs and changes) are read without the columns
# that no metric, score or export uses: text that would only cost memory and time.
# Deployments' commit SHA and URL only appear in the deployments detail table:
# they are read when it is built (see ``metrics.defer_columns``).
_DEFERRED_DEPLOYMENT_COLUMNS = ["commit_sha", "url"]
_SCORED_COLUMNS: dict[str, list[str]] = {
    "deployments": [
        "id",
        "source",
        "team",
        "service",
        "repo",
        "environment",
        "status",
        "strategy",
        "started_at",
        "finished_at",
        "is_rollback",
    ],
    "changes": ["source", "team", "repo", "first_commit_at", "merged_at", "deployment_id"],
    "ci_runs": [
        "source",
        "team",
        "repo",
        "is_default_branch",
        "conclusion",
        "started_at",
        "finished_at",
    ],
}


def columns_to_load(config: Config) -> dict[str, list[str]] | None:
    """Per event kind, the cached columns a scorecard needs (kinds not named: all).

    Change classes match titles, labels and paths and gate on CI workflows per
    commit, so with classes configured everything is read.
    """
    if config.change_classes or config.path_repos:  # CODEOWNERS repos: changes by paths
        return None
    return {kind: list(names) for kind, names in _SCORED_COLUMNS.items()}


def _never_synced(config: Config, name: str) -> SourceStatus:
    return SourceStatus(name=name, kind=config.source(name).kind)


def sync_and_score(
    config: Config,
    store: Store,
    request: ScoreRequest,
    *,
    progress: Progress | None = None,
    strict: bool = False,
) -> tuple[SyncSummary, Scorecard]:
    """Sync every source into the cache (two full windows of ``request``), then score;
    unless every source failed, keep the day's snapshot (``scorecard.reports.history``)."""
    from scorecard import sync

    summary = sync.sync_blocking(config, store, request, progress=progress, strict=strict)
    card = cached_scorecard(config, store, request=request)
    if not summary.all_failed:
        try:
            snapshot(config, store, request, card)
        except (OSError, ValueError) as exc:  # the sync worked: say so, score anyway
            card = replace(card, notices=(*card.notices, f"no snapshot kept: {exc}"))
    return summary, card


def snapshot(
    config: Config, store: Store, request: ScoreRequest, card: Scorecard | None = None
) -> str:
    """Keep the scored summary of every team as the snapshot of ``request``'s day (over
    the config's window: ``card`` is used when it is that already). A line saying so."""
    from scorecard.reports.history import record_snapshot

    if card is None or card.report.window_days != config.window_days:
        card = cached_scorecard(config, store, replace(request, window_days=config.window_days))
    day = record_snapshot(card, store.root, keep_days=config.snapshot_days)
    return f"snapshot of {len(card.report.table)} teams kept for {day.isoformat()}"


def live_scorecard(config: Config, request: ScoreRequest) -> Scorecard:
    """Fetch every source into memory and score: the cache is neither read nor written.

    For read-only use (``scorecard standup --live``): the same fetch as a sync
    (:func:`scorecard.sync.fetch_all`), but the events stay in memory. A failed
    source becomes an in-memory status with its (redacted) error, so its teams
    show ``stale``.
    """
    import asyncio

    from scorecard import model, sync
    from scorecard.discovery.cache import refresh

    refreshed = asyncio.run(refresh(config, None, request.now))
    config = refreshed.resolved.config
    fetched = asyncio.run(sync.fetch_all(config, request))
    parts: dict[model.EventKind, list[pd.DataFrame]] = {kind: [] for kind in model.EVENT_KINDS}
    for result in (f.result for f in fetched if f.result is not None):
        for kind in model.EVENT_KINDS:
            if kind in result.frames:
                parts[kind].append(result.frames[kind])
    frames: dict[str, pd.DataFrame] = {k: model.concat(k, found) for k, found in parts.items()}
    statuses = {f.status.name: f.status for f in fetched}
    frames = monorepo_frames(frames, refreshed.resolved)
    report = report_from_frames(frames, config, request=request, statuses=statuses)
    statuses |= {status.name: status for status in refreshed.statuses}
    return Scorecard(report=report, config=config, statuses=statuses, teams=refreshed.resolved)


def extras(
    source: Store | Mapping[str, Mapping[str, Any]], config: Config | None = None
) -> dict[str, dict[str, Any]]:
    """Per team, what monitoring sources keep beside their events.

    ``firing``: the alerts firing now (alertmanager sources, with ``firing_at``);
    ``slo``: team query results such as SLO error-budget burn (prometheus sources,
    with ``slo_at``). ``source`` is the cache (its prometheus and alertmanager
    sources are read) or a mapping of source name to sync state. With ``config``,
    only its sources count. Teams with nothing are left out.
    """
    from scorecard.store import Store

    if isinstance(source, Store):
        kinds = {"prometheus", "alertmanager"}
        states: dict[str, Mapping[str, Any]] = {
            name: source.state(name)
            for name, status in sorted(source.statuses().items())
            if status.kind in kinds
        }
    else:
        states = dict(source)
    if config is not None:
        configured = {s.name for s in config.sources}
        states = {n: s for n, s in states.items() if n in configured}
    out: dict[str, dict[str, Any]] = {}
    for _name, state in sorted(states.items()):
        for alert in state.get("firing") or ():
            if isinstance(alert, Mapping):
                team = out.setdefault(str(alert.get("team") or "unassigned"), {})
                team.setdefault("firing", []).append(dict(alert))
                team["firing_at"] = state.get("firing_at")
        slo = state.get("slo")
        for team_name, entries in slo.items() if isinstance(slo, Mapping) else ():
            team = out.setdefault(str(team_name), {})
            team.setdefault("slo", []).extend(dict(e) for e in entries if isinstance(e, Mapping))
            team["slo_at"] = state.get("slo_at")
    return out


def overview_summary(
    scorecard: Scorecard, *, generated_at: datetime | None = None
) -> dict[str, Any]:
    """What the overview shows for ``scorecard``, JSON-ready (see ``scorecard.summary``)."""
    from scorecard import summary
    from scorecard.scoring import SCORING_VERSION

    report = scorecard.report
    synced = [
        s.last_success_at for s in scorecard.statuses.values() if s.last_success_at is not None
    ]
    return summary.build(
        org=report.org,
        as_of=report.as_of,
        window_days=int(report.window_days),
        demo=scorecard.demo,
        failed_sources=scorecard.failed_sources(),
        last_synced=max(synced) if synced else None,
        rows=summary.rows_from_report(report),
        generated_at=generated_at or utcnow(),
        scoring_version=SCORING_VERSION,
    )
