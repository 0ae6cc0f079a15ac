"""Benchmark 3: sync efficiency against a local fake GitHub (SPEC §11).

Needs the GitHub source (``scorecard.sources.github``); until it exists the
benchmark reports itself as skipped.
"""

from __future__ import annotations

import importlib.util
from typing import Any

SKIPPED = "skipped (github source not available)"


def available() -> bool:
    return importlib.util.find_spec("scorecard.sources.github") is not None


def run() -> dict[str, Any]:
    if not available():
        return {"skipped": SKIPPED, "passed": None}
    return {"skipped": SKIPPED, "passed": None}


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return []
