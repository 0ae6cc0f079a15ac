"""The demo org's ten teams: the knobs that give each one its story.

Data only, kept apart from the generator in :mod:`scorecard.demo` so that a new
story (or a retuned one) is an edit here. The stories: Payments is clearly
outpacing (deploys up sharply while canary share and coverage fall), Search is
steady and elite, Ledger is slow but rigorous, Checkout is unstable (incident
spike, slow recovery), Ranker ships prompt and model changes fast with few
canaries, and Mobile's source is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "AI_TITLES",
    "HISTORY_DAYS",
    "INCIDENT_TITLES",
    "ORG",
    "SEED",
    "STORIES",
    "TITLES",
    "Curve",
    "TeamStory",
]

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
