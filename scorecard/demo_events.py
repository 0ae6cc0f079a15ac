"""The demo org's events: ten teams' stories turned into the six event tables.

Seeded and generated relative to ``as_of``, so the same ``as_of`` always gives
the same events (tests and screenshots rely on that). Pure: numpy, pandas and
the event model only, so the `demo` source kind and the built-in demo org
(:mod:`scorecard.demo`) both draw on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from scorecard.demo_stories import (
    AI_TITLES,
    HISTORY_DAYS,
    INCIDENT_TITLES,
    SEED,
    STORIES,
    TITLES,
    Curve,
    TeamStory,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["HISTORY_DAYS", "SEED", "generate"]


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
    ai_deploy, strategy = _strategies(story, rng, deploy_day)
    slug = story.name.lower().replace(" ", "-")
    ids = np.array([f"{slug}-d{i:05d}" for i in range(n)], dtype=object)
    shas = np.array([f"{(seed * 7919 + i * 104729) % (16**12):012x}" for i in range(n)])
    rollback = np.zeros(n, dtype=bool)
    rollback[1:] = failed[:-1] & (rng.random(n - 1) < 0.6)
    in_future = finished >= as_of
    keep = ~np.asarray(in_future)
    dep = {
        "id": ids,
        "service": service,
        "repo": repo,
        "status": np.where(failed, "failure", "success"),
        "strategy": strategy,
        "started_at": started,
        "finished_at": finished,
        "commit_sha": shas,
        "is_rollback": rollback,
    }
    ok = keep & ~failed
    out: dict[str, dict[str, Any]] = {"deployments": _deployments(story, dep, keep)}
    out["changes"] = _changes(
        story, rng, ids[ok], repo[ok], service[ok], started[ok], ai_deploy[ok]
    )
    out["incidents"] = _incidents(
        story, rng, ids[ok], service[ok], finished[ok], deploy_day[ok], as_of, ai_deploy[ok]
    )
    out["incidents"]["started_at"] = _impact_starts(
        story, np.random.default_rng(seed + IMPACT_SEED), out["incidents"]["created_at"]
    )
    out["ci_runs"] = _ci_runs(
        story, rng, start, as_of, shas[ok], repo[ok], started[ok], ai_deploy[ok]
    )
    out["coverage"] = _coverage(story, rng, start, as_of)
    out["rollouts"] = _rollouts(story, start, as_of)
    return out


def _strategies(
    story: TeamStory, rng: np.random.Generator, deploy_day: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per deploy: whether it ships model/prompt work, and its rollout strategy."""
    import numpy as np

    n = len(deploy_day)
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
    return ai_deploy, strategy


def _deployments(
    story: TeamStory, columns: dict[str, Any], keep: np.ndarray[Any, Any]
) -> dict[str, Any]:
    """The deployments table: ``columns`` for the deploys kept, in the model's order."""
    kept = {name: values[keep] for name, values in columns.items()}
    return {
        "id": kept["id"],
        "source": story.source,
        "team": story.name,
        "service": kept["service"],
        "repo": kept["repo"],
        "environment": "production",
        "status": kept["status"],
        "strategy": kept["strategy"],
        "started_at": kept["started_at"],
        "finished_at": kept["finished_at"],
        "commit_sha": kept["commit_sha"],
        "is_rollback": kept["is_rollback"],
        "url": [
            f"https://github.example/{r}/deployments/{i}" for r, i in zip(kept["repo"], kept["id"])
        ],
    }


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


IMPACT_SEED = 7_001
"""Impact starts draw from their own generator: the rest of the demo stays as it was."""


def _impact_starts(
    story: TeamStory, rng: np.random.Generator, created: pd.DatetimeIndex
) -> np.ndarray[Any, Any]:
    """When each incident's impact began, for 70% of them (the rest: the pager did not
    say). Model and prompt changes degrade quietly, so the AI team finds them late."""
    import numpy as np
    import pandas as pd

    k = len(created)
    lag_hours = rng.lognormal(np.log(5.0 if story.ai_share else 0.4), 0.8, k)
    known = rng.random(k) < 0.7
    starts = pd.DatetimeIndex(created) - pd.to_timedelta(lag_hours, unit="h")
    return np.where(known, starts.to_numpy(), np.datetime64("NaT"))


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
