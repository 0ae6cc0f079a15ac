"""`kind = "demo"`: the built-in demo org as a source.

Lets a config (and the sync, cache and stale machinery) be tried end to end
without any account: `scorecard init` + a demo source + `scorecard sync`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scorecard.options import SourceOptions
from scorecard.sources.contract import FetchContext, SourceResult, typed_options
from scorecard.sources.registry import register

if TYPE_CHECKING:
    from scorecard.config.model import SourceConfig


@dataclass(frozen=True)
class DemoOptions(SourceOptions):
    """Options of a `kind = "demo"` source: the built-in, generated org."""

    seed: int | None = None
    """Varies the generated org (the same seed gives the same org)."""


@register
class DemoSource:
    """Yields the demo org's events as of the sync's end time."""

    kind = "demo"
    Options = DemoOptions

    def __init__(self, cfg: SourceConfig, *, strict: bool = False) -> None:
        self.name = cfg.name
        self.seed = typed_options(DemoOptions, cfg).seed or 0

    async def fetch(self, ctx: FetchContext) -> SourceResult:
        from scorecard import demo_events

        ctx.progress("generating the demo org")
        frames = demo_events.generate(ctx.until, seed=demo_events.SEED + self.seed)
        for frame in frames.values():
            frame["source"] = (
                frame["source"].astype(object).where(frame["source"].isna(), self.name)
            )
            frame["source"] = frame["source"].astype("category")
        return SourceResult(frames=frames, state={"as_of": ctx.until.isoformat()})
