"""The built-in demo org: ten teams, 180 days, one story per team.

`scorecard demo` and `scorecard export --demo` run on this data so that anyone
can see what the product is for in one command, with no tokens and no config.
The data is seeded and generated relative to ``as_of``, so the same ``as_of``
always gives the same numbers (tests and screenshots rely on that).

The stories: Payments is clearly outpacing (deploys up sharply while canary
share and coverage fall), Search is steady and elite, Ledger is slow but
rigorous, Checkout is unstable (incident spike, slow recovery), Ranker ships
prompt and model changes fast with few canaries, and Mobile's source is stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from scorecard.config import Config

HISTORY_DAYS: Final = 180
ORG: Final = "Acme (demo)"
SEED: Final = 20261126

# A phase value: (value 180 days ago, value 30 days ago, value at as_of).
Curve = tuple[float, float, float]


@dataclass(frozen=True)
class TeamStory:
    """The knobs that give one demo team its shape over 180 days."""

    name: str
    repos: tuple[str, ...]
    services: tuple[str, ...]
    deploys_per_day: Curve
    canary: Curve
    coverage: Curve
    ci_success: Curve
    failure_rate: float = 0.03
    incident_rate: Curve = (0.02, 0.02, 0.02)
    recovery_hours: float = 2.0
    lead_hours: float = 20.0
    weekend: float = 0.1
    strategy_other: str = "rolling"
    unknown_share: float = 0.0
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    eval_share: float = 0.0
    # AI stories: the share of deploys that ship model/prompt changes, their
    # canary curve (the rest follow ``canary``), and the code path of the rest.
    ai_share: float = 0.0
    ai_canary: Curve = (0.0, 0.0, 0.0)
    code_paths: tuple[str, ...] = ()
    source: str = "github"
    extra: dict[str, Any] = field(default_factory=dict)


STORIES: Final[tuple[TeamStory, ...]] = (
    TeamStory(
        "Payments",
        ("acme/payments-api", "acme/payments-worker"),
        ("payments-api", "payments-worker"),
        deploys_per_day=(1.2, 1.6, 4.5),
        canary=(0.75, 0.7, 0.15),
        coverage=(79.0, 77.0, 66.0),
        ci_success=(0.95, 0.94, 0.86),
        failure_rate=0.05,
        incident_rate=(0.02, 0.03, 0.06),
        recovery_hours=3.0,
        lead_hours=30.0,
    ),
    TeamStory(
        "Search",
        ("acme/search", "acme/indexer"),
        ("search-api", "indexer"),
        deploys_per_day=(6.0, 6.0, 6.5),
        canary=(0.92, 0.93, 0.93),
        coverage=(86.0, 86.5, 87.0),
        ci_success=(0.97, 0.97, 0.975),
        failure_rate=0.01,
        incident_rate=(0.004, 0.004, 0.004),
        recovery_hours=0.6,
        lead_hours=5.0,
        weekend=0.2,
        strategy_other="canary",
        unknown_share=0.2,
    ),
    TeamStory(
        "Ledger",
        ("acme/ledger",),
        ("ledger",),
        deploys_per_day=(0.11, 0.11, 0.11),
        canary=(1.0, 1.0, 1.0),
        coverage=(91.0, 91.5, 92.0),
        ci_success=(0.98, 0.985, 0.985),
        failure_rate=0.0,
        incident_rate=(0.0, 0.0, 0.0),
        recovery_hours=1.5,
        lead_hours=240.0,
        weekend=0.0,
        strategy_other="blue_green",
    ),
    TeamStory(
        "Checkout",
        ("acme/checkout-web", "acme/cart"),
        ("checkout-web", "cart"),
        deploys_per_day=(1.5, 1.5, 1.7),
        canary=(0.45, 0.45, 0.4),
        coverage=(68.0, 67.5, 67.0),
        ci_success=(0.9, 0.88, 0.87),
        failure_rate=0.08,
        incident_rate=(0.03, 0.04, 0.35),
        recovery_hours=200.0,
        lead_hours=48.0,
    ),
    TeamStory(
        "Ranker",
        ("acme/ranker", "acme/prompts"),
        ("ranker",),
        deploys_per_day=(1.0, 2.0, 3.5),
        canary=(0.7, 0.6, 0.1),
        coverage=(62.0, 60.0, 55.5),
        ci_success=(0.92, 0.91, 0.9),
        failure_rate=0.02,
        incident_rate=(0.03, 0.05, 0.12),
        recovery_hours=6.0,
        lead_hours=8.0,
        strategy_other="direct",
        labels=("prompt", "model"),
        paths=("prompts/ranker.yaml", "models/ranker/config.json"),
        eval_share=0.35,
        ai_share=0.55,
        ai_canary=(0.15, 0.1, 0.03),
        code_paths=("src/ranker/score.py",),
    ),
    TeamStory(
        "Mobile API",
        ("mobile/api",),
        ("mobile-api",),
        deploys_per_day=(0.8, 0.8, 0.7),
        canary=(0.55, 0.55, 0.5),
        coverage=(72.0, 72.0, 71.5),
        ci_success=(0.93, 0.93, 0.92),
        failure_rate=0.03,
        incident_rate=(0.02, 0.02, 0.02),
        recovery_hours=4.0,
        lead_hours=40.0,
        source="gitlab",
    ),
    TeamStory(
        "Identity",
        ("acme/identity",),
        ("identity",),
        deploys_per_day=(0.9, 1.0, 1.0),
        canary=(0.6, 0.62, 0.64),
        coverage=(76.0, 76.5, 77.0),
        ci_success=(0.94, 0.94, 0.95),
        failure_rate=0.03,
        incident_rate=(0.02, 0.02, 0.02),
        recovery_hours=2.5,
        lead_hours=36.0,
    ),
    TeamStory(
        "Notifications",
        ("acme/notify",),
        ("notify",),
        deploys_per_day=(0.7, 0.7, 0.75),
        canary=(0.5, 0.5, 0.5),
        coverage=(74.0, 74.0, 73.5),
        ci_success=(0.96, 0.96, 0.8),
        failure_rate=0.04,
        incident_rate=(0.02, 0.02, 0.025),
        recovery_hours=3.0,
        lead_hours=26.0,
    ),
    TeamStory(
        "Platform",
        ("acme/platform", "acme/gateway"),
        ("gateway", "platform-api"),
        deploys_per_day=(2.5, 2.6, 2.8),
        canary=(0.85, 0.86, 0.88),
        coverage=(82.0, 82.0, 82.5),
        ci_success=(0.96, 0.96, 0.96),
        failure_rate=0.02,
        incident_rate=(0.01, 0.01, 0.01),
        recovery_hours=1.2,
        lead_hours=14.0,
        strategy_other="blue_green",
        unknown_share=0.6,
    ),
    TeamStory(
        "Data Pipeline",
        ("acme/pipeline",),
        ("pipeline",),
        deploys_per_day=(0.6, 0.6, 0.6),
        canary=(0.1, 0.1, 0.1),
        coverage=(64.0, 64.0, 64.5),
        ci_success=(0.89, 0.89, 0.9),
        failure_rate=0.05,
        incident_rate=(0.03, 0.03, 0.03),
        recovery_hours=8.0,
        lead_hours=60.0,
        strategy_other="rolling",
    ),
)

TITLES: Final = (
    "Fix retry budget on {svc}",
    "Add metrics for {svc} latency",
    "Bump dependencies",
    "Refactor {svc} handlers",
    "Tune connection pool",
    "Feature flag for new flow",
    "Update {svc} schema",
    "Remove dead code",
)
AI_TITLES: Final = (
    "Prompt: tighten ranking instructions",
    "Model: switch ranker to v{n}",
    "Prompt: add safety preamble",
    "Eval thresholds for ranker",
)
INCIDENT_TITLES: Final = (
    "{svc}: elevated 5xx after deploy",
    "{svc}: p99 latency above SLO",
    "{svc}: error budget burn",
    "{svc}: queue backlog growing",
)


@dataclass(frozen=True)
class DemoSourceStatus:
    """Sync status of a demo source, shaped like the store's SourceStatus."""

    name: str
    kind: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    items: int
    skipped: int = 0
    rate_limit_remaining: int | None = None
    complete: bool = True
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoOrg:
    """Everything the demo needs: events, config and sync statuses."""

    as_of: datetime
    frames: dict[str, pd.DataFrame]
    config: Config
    statuses: dict[str, DemoSourceStatus]
    teams_by_source: dict[str, set[str]]


def _curve(curve: Curve, days: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Piecewise-linear value per day (day 0 = 180 days ago, day 179 = yesterday)."""
    import numpy as np

    knee = HISTORY_DAYS - 30
    values: np.ndarray[Any, Any] = np.interp(days, [0, knee, HISTORY_DAYS - 1], list(curve))
    return values


def _quota(rng: np.random.Generator, p: Any) -> np.ndarray[Any, Any]:
    """Bernoulli-like picks whose running count tracks the running sum of ``p``.

    Plain coin flips make a 30-day window of 20 deploys swing by ±10 points;
    the demo should show its stories, not sampling noise.
    """
    import numpy as np

    probs = np.broadcast_to(np.asarray(p, dtype=float), np.shape(p) or (1,))
    counts = np.floor(np.cumsum(probs) + rng.random())
    return np.diff(counts, prepend=0) > 0


def _counts(rng: np.random.Generator, rate: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Whole counts per day whose running total tracks the running sum of ``rate``."""
    import numpy as np

    totals = np.floor(np.cumsum(rate) + rng.random())
    return np.diff(totals, prepend=0).astype(int)


def generate(as_of: datetime, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """All six event tables for the demo org at ``as_of`` (deterministic)."""
    import pandas as pd

    from scorecard import model

    tables: dict[model.EventKind, list[dict[str, Any]]] = {k: [] for k in model.EVENT_KINDS}
    start = pd.Timestamp(as_of).floor("D") - pd.Timedelta(days=HISTORY_DAYS)
    for index, story in enumerate(STORIES):
        events = _team_events(story, start, pd.Timestamp(as_of), seed + index)
        for kind in model.EVENT_KINDS:
            tables[kind].append(events[kind])
    return {
        kind: model.concat(kind, [model.coerce(kind, pd.DataFrame(p)) for p in parts])
        for kind, parts in tables.items()
    }


def _team_events(
    story: TeamStory, start: pd.Timestamp, as_of: pd.Timestamp, seed: int
) -> dict[str, dict[str, Any]]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = np.arange(HISTORY_DAYS)
    weekday = (start + pd.to_timedelta(days, unit="D")).day_of_week.to_numpy()
    day_factor = np.where(weekday >= 5, story.weekend, 1.0 + 2 * story.weekend / 5)
    rate = _curve(story.deploys_per_day, days) * day_factor
    per_day = _counts(rng, rate)
    deploy_day = np.repeat(days, per_day)
    n = len(deploy_day)
    started = (
        start
        + pd.to_timedelta(deploy_day, unit="D")
        + pd.to_timedelta(rng.uniform(7.5, 18.5, n), unit="h")
    )
    duration = pd.to_timedelta(rng.uniform(4, 25, n), unit="min")
    finished = started + duration
    service = rng.choice(story.services, n)
    repo = np.array([story.repos[story.services.index(s) % len(story.repos)] for s in service])
    failed = _quota(rng, np.full(n, story.failure_rate))
    status = np.where(failed, "failure", "success")
    canary_p = _curve(story.canary, deploy_day)
    ai_deploy = np.zeros(n, dtype=bool)
    if story.ai_share:
        ai_deploy = _quota(rng, np.full(n, story.ai_share))
        canary_p = np.where(ai_deploy, _curve(story.ai_canary, deploy_day), canary_p)
    canary = _quota(rng, canary_p)
    other = "direct" if story.strategy_other in ("canary", "blue_green") else story.strategy_other
    safe_kind = "blue_green" if story.strategy_other == "blue_green" else "canary"
    strategy = np.where(canary, safe_kind, other).astype(object)
    unknown = canary & (rng.random(n) < story.unknown_share)
    strategy[unknown] = "unknown"
    slug = story.name.lower().replace(" ", "-")
    ids = np.array([f"{slug}-d{i:05d}" for i in range(n)], dtype=object)
    shas = np.array([f"{(seed * 7919 + i * 104729) % (16**12):012x}" for i in range(n)])
    rollback = np.zeros(n, dtype=bool)
    rollback[1:] = failed[:-1] & (rng.random(n - 1) < 0.6)
    in_future = finished >= as_of
    keep = ~np.asarray(in_future)
    dep = {
        "id": ids[keep],
        "source": story.source,
        "team": story.name,
        "service": service[keep],
        "repo": repo[keep],
        "environment": "production",
        "status": status[keep],
        "strategy": strategy[keep],
        "started_at": started[keep],
        "finished_at": finished[keep],
        "commit_sha": shas[keep],
        "is_rollback": rollback[keep],
        "url": [
            f"https://github.example/{r}/deployments/{i}" for r, i in zip(repo[keep], ids[keep])
        ],
    }
    ok = keep & ~failed
    out: dict[str, dict[str, Any]] = {"deployments": dep}
    out["changes"] = _changes(
        story, rng, ids[ok], repo[ok], service[ok], started[ok], ai_deploy[ok]
    )
    out["incidents"] = _incidents(
        story, rng, ids[ok], service[ok], finished[ok], deploy_day[ok], as_of, ai_deploy[ok]
    )
    out["ci_runs"] = _ci_runs(
        story, rng, start, as_of, shas[ok], repo[ok], started[ok], ai_deploy[ok]
    )
    out["coverage"] = _coverage(story, rng, start, as_of)
    out["rollouts"] = _rollouts(story, start, as_of)
    return out


def _changes(
    story: TeamStory,
    rng: np.random.Generator,
    deploy_ids: np.ndarray[Any, Any],
    repos: np.ndarray[Any, Any],
    services: np.ndarray[Any, Any],
    started: pd.DatetimeIndex,
    ai_deploy: np.ndarray[Any, Any],
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    per = rng.integers(1, 4, len(deploy_ids))
    idx = np.repeat(np.arange(len(deploy_ids)), per)
    m = len(idx)
    merged = started[idx] - pd.to_timedelta(rng.uniform(0.2, 3.0, m), unit="h")
    lead = rng.lognormal(np.log(story.lead_hours), 0.6, m)
    first_commit = merged - pd.to_timedelta(lead, unit="h")
    # Ranker's PRs name their deploy (its changes must be told apart deploy by deploy).
    explicit = rng.random(m) < (0.9 if story.ai_share else 0.5)
    # A deploy of model/prompt work ships only model/prompt changes.
    ai = ai_deploy[idx] if story.labels else np.zeros(m, dtype=bool)
    titles = [
        (AI_TITLES[k % len(AI_TITLES)] if a else TITLES[k % len(TITLES)]).format(
            svc=services[i], n=3 + k % 4
        )
        for k, i, a in zip(rng.integers(0, 97, m), idx, ai)
    ]
    labels = [[story.labels[k % len(story.labels)]] if a else [] for k, a in enumerate(ai)]
    paths = [
        [story.paths[k % len(story.paths)]] if a else list(story.code_paths)
        for k, a in enumerate(ai)
    ]
    return {
        "id": [f"{deploy_ids[i]}-c{k}" for k, i in enumerate(idx)],
        "source": story.source,
        "team": story.name,
        "repo": repos[idx],
        "title": titles,
        "first_commit_at": first_commit,
        "merged_at": merged,
        "merge_sha": None,
        "deployment_id": pd.Series(deploy_ids[idx], dtype=object).where(explicit, None),
        "labels": labels,
        "paths": paths,
    }


def _incidents(
    story: TeamStory,
    rng: np.random.Generator,
    deploy_ids: np.ndarray[Any, Any],
    services: np.ndarray[Any, Any],
    finished: pd.DatetimeIndex,
    deploy_day: np.ndarray[Any, Any],
    as_of: pd.Timestamp,
    ai_deploy: np.ndarray[Any, Any],
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    rate = _curve(story.incident_rate, deploy_day)
    if story.ai_share:
        # Model/prompt changes "work" but degrade quietly: most incidents follow them.
        rate = rate * np.where(ai_deploy, 1.8, 0.15)
    hit = _quota(rng, rate)
    k = int(hit.sum())
    created = finished[hit] + pd.to_timedelta(rng.uniform(0.1, 18, k), unit="h")
    recovery = rng.lognormal(np.log(story.recovery_hours), 0.7, k)
    resolved = created + pd.to_timedelta(recovery, unit="h")
    resolved_values = pd.Series(resolved).where(np.asarray(resolved < as_of))
    keep = created < as_of
    severity = rng.choice(["sev1", "sev2", "sev3", "sev4"], k, p=[0.08, 0.27, 0.45, 0.2])
    # Ranker's pages carry deploy markers, so most incidents name their deploy.
    explicit = rng.random(k) < (0.8 if story.ai_share else 0.3)
    svc = services[hit]
    titles = [INCIDENT_TITLES[j % len(INCIDENT_TITLES)].format(svc=s) for j, s in enumerate(svc)]
    slug = story.name.lower().replace(" ", "-")
    ids = [f"{slug}-inc{j:04d}" for j in range(k)]
    return {
        "id": np.array(ids, dtype=object)[keep],
        "source": "pagerduty",
        "team": story.name,
        "service": svc[keep],
        "title": np.array(titles, dtype=object)[keep],
        "severity": severity[keep],
        "created_at": created[keep],
        "resolved_at": resolved_values[np.asarray(keep)].to_numpy(),
        "deployment_id": np.where(explicit, deploy_ids[hit], None)[keep],
        "url": [f"https://acme.pagerduty.example/incidents/{i}" for i in np.array(ids)[keep]],
    }


def _ci_runs(
    story: TeamStory,
    rng: np.random.Generator,
    start: pd.Timestamp,
    as_of: pd.Timestamp,
    shas: np.ndarray[Any, Any],
    repos: np.ndarray[Any, Any],
    deploy_started: pd.DatetimeIndex,
    ai_deploy: np.ndarray[Any, Any],
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    days = np.arange(HISTORY_DAYS)
    per_day = _counts(rng, np.maximum(_curve(story.deploys_per_day, days) * 3, 2.0))
    day = np.repeat(days, per_day)
    m = len(day)
    started = (
        start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.uniform(0, 24, m), unit="h")
    )
    minutes = rng.normal(12 if story.name != "Ledger" else 25, 3, m).clip(2)
    finished = started + pd.to_timedelta(minutes, unit="min")
    default = rng.random(m) < 0.6
    success = _quota(rng, _curve(story.ci_success, day))
    conclusion = np.where(success, "success", "failure").astype(object)
    conclusion[rng.random(m) < 0.03] = "cancelled"
    workflow = np.full(m, "ci", dtype=object)
    commit = np.array([f"{(i * 2654435761) % (16**12):012x}" for i in range(m)], dtype=object)
    repo = rng.choice(np.array(story.repos, dtype=object), m)
    # Eval runs on the deployed commit, before the deploy, for a share of the
    # model/prompt deploys.
    if story.eval_share:
        gated = (rng.random(len(shas)) < story.eval_share) & ai_deploy
        e = int(gated.sum())
        ev_start = deploy_started[gated] - pd.to_timedelta(rng.uniform(0.5, 3, e), unit="h")
        started = pd.DatetimeIndex(started.append(ev_start))
        finished = pd.DatetimeIndex(finished.append(ev_start + pd.to_timedelta(20, unit="min")))
        default = np.concatenate([default, np.ones(e, dtype=bool)])
        conclusion = np.concatenate([conclusion, np.full(e, "success", dtype=object)])
        workflow = np.concatenate([workflow, np.full(e, "evals", dtype=object)])
        commit = np.concatenate([commit, shas[gated]])
        repo = np.concatenate([repo, repos[gated]])
        m += e
    keep = np.asarray(finished < as_of)
    slug = story.name.lower().replace(" ", "-")
    return {
        "id": np.array([f"{slug}-r{i:06d}" for i in range(m)], dtype=object)[keep],
        "source": story.source,
        "team": story.name,
        "repo": repo[keep],
        "workflow": workflow[keep],
        "branch": np.where(default, "main", "feature")[keep],
        "is_default_branch": default[keep],
        "commit_sha": commit[keep],
        "conclusion": conclusion[keep],
        "started_at": started[keep],
        "finished_at": finished[keep],
        "attempt": 1,
    }


def _coverage(
    story: TeamStory, rng: np.random.Generator, start: pd.Timestamp, as_of: pd.Timestamp
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    days = np.arange(HISTORY_DAYS)
    at = start + pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=2)
    keep = np.asarray(at < as_of)
    parts: dict[str, list[Any]] = {"repo": [], "measured_at": [], "line_coverage": []}
    for offset, repo in enumerate(story.repos):
        value = _curve(story.coverage, days) + rng.normal(0, 0.25, len(days)) - offset * 1.5
        parts["repo"].extend([repo] * int(keep.sum()))
        parts["measured_at"].extend(at[keep])
        parts["line_coverage"].extend(np.clip(value, 0, 100)[keep].round(2))
    return {"source": "codecov", "team": story.name, **parts}


def _rollouts(story: TeamStory, start: pd.Timestamp, as_of: pd.Timestamp) -> dict[str, Any]:
    import pandas as pd

    if not story.unknown_share:
        return {"source": [], "team": [], "service": [], "at": [], "strategy": []}
    safe = "blue_green" if story.strategy_other == "blue_green" else "canary"
    at = pd.date_range(start, as_of, freq="6h", inclusive="left")
    services = [s for s in story.services for _ in at]
    return {
        "source": "prometheus",
        "team": story.name,
        "service": services,
        "at": list(at) * len(story.services),
        "strategy": safe,
    }


def demo_config() -> Config:
    """The demo org as a config: one team per story, the change class `ai`."""
    from scorecard.config import ChangeClassConfig, Config, SourceConfig, TeamConfig

    teams = tuple(TeamConfig(name=s.name, repos=s.repos, services=s.services) for s in STORIES)
    sources = tuple(
        SourceConfig(name=name, kind="demo", refresh_minutes=60.0)
        for name in ("github", "gitlab", "pagerduty", "codecov", "prometheus")
    )
    ai = ChangeClassConfig(
        name="ai",
        repos=("acme/prompts",),
        labels=("prompt", "model"),
        paths=("prompts/**", "models/**"),
        title_patterns=("^Prompt:", "^Model:"),
        required_workflow="evals",
    )
    return Config(path=None, org=ORG, teams=teams, sources=sources, change_classes=(ai,))


def statuses(as_of: datetime, frames: dict[str, pd.DataFrame]) -> dict[str, DemoSourceStatus]:
    """Every demo source synced ten minutes ago, except GitLab, which failed 3 days ago."""
    counts: dict[str, int] = {}
    for frame in frames.values():
        for name, count in frame["source"].value_counts().items():
            counts[str(name)] = counts.get(str(name), 0) + int(count)
    recent = as_of - timedelta(minutes=10)
    out = {
        name: DemoSourceStatus(
            name=name,
            kind=kind,
            last_attempt_at=recent,
            last_success_at=recent,
            last_error=None,
            items=counts.get(name, 0),
            rate_limit_remaining=remaining,
        )
        for name, kind, remaining in (
            ("github", "github", 4_612),
            ("pagerduty", "pagerduty", None),
            ("codecov", "codecov", None),
            ("prometheus", "prometheus", None),
        )
    }
    out["gitlab"] = DemoSourceStatus(
        name="gitlab",
        kind="gitlab",
        last_attempt_at=as_of - timedelta(hours=2),
        last_success_at=as_of - timedelta(days=3, hours=4),
        last_error="503 Service Unavailable from gitlab.acme.example after 5 retries",
        items=counts.get("gitlab", 0),
    )
    return out


def demo_org(
    as_of: datetime | None = None, *, now: Callable[[], datetime] | None = None
) -> DemoOrg:
    """The whole demo org at ``as_of`` (default: now, to the minute)."""
    moment = as_of or (now or _utcnow)()
    moment = moment.replace(second=0, microsecond=0)
    frames = generate(moment)
    teams_by_source: dict[str, set[str]] = {}
    for frame in frames.values():
        pairs = frame[["source", "team"]].drop_duplicates()
        for source, team in zip(pairs["source"], pairs["team"]):
            teams_by_source.setdefault(str(source), set()).add(str(team))
    return DemoOrg(
        as_of=moment,
        frames=frames,
        config=demo_config(),
        statuses=statuses(moment, frames),
        teams_by_source=teams_by_source,
    )


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
