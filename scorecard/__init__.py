"""scorecard: per-team engineering scorecards that show where shipping pressure
is outpacing engineering rigor."""

__version__ = "0.1.0"
