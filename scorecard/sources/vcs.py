"""What GitHub and GitLab share: their common options (canary environments,
rollback patterns) and, later, the helpers both use to read a repo.

Cheap to import: the config checker reads :class:`VcsOptions` through the
registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scorecard.options import HttpOptions, option

__all__ = ["DEFAULT_CANARY_ENVIRONMENTS", "DEFAULT_ROLLBACK_PATTERNS", "VcsOptions"]

DEFAULT_CANARY_ENVIRONMENTS: Final = ("canary*", "*-canary")
DEFAULT_ROLLBACK_PATTERNS: Final = (r"(?i)^revert\b", r"(?i)\brollback\b", r"(?i)\broll back\b")


@dataclass(frozen=True)
class VcsOptions(HttpOptions):
    """Options GitHub and GitLab sources share."""

    canary_environments: tuple[str, ...] = DEFAULT_CANARY_ENVIRONMENTS
    """Glob patterns (any case) of environments that mean "canary"; a production
    deployment of a commit that reached one of them first is a canary deployment."""
    rollback_patterns: tuple[str, ...] = option(DEFAULT_ROLLBACK_PATTERNS, check="regex_list")
    """Regexes on titles, descriptions and refs marking rollbacks (default: titles
    starting with "Revert", "rollback", "roll back")."""
