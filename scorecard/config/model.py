"""The validated config as plain frozen objects (SPEC §5).

Everything downstream (sync, metrics, the TUI) reads these and never the TOML:
teams with what they own, sources with their kind's typed options, change
classes, and the scorecard settings. Parsing and checking live in
:mod:`scorecard.config.parse`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorecard import bands
from scorecard.config.toml_lines import quote_part
from scorecard.errors import ConfigError
from scorecard.options import KEYRING_MARKER, HttpOptions, SourceOptions
from scorecard.request import DEFAULT_HISTORY_DAYS, DEFAULT_WINDOW_DAYS

__all__ = [
    "KEYRING_MARKER",
    "ChangeClassConfig",
    "Config",
    "SourceConfig",
    "TeamConfig",
]


@dataclass(frozen=True)
class TeamConfig:
    """A team and everything that attributes events to it."""

    name: str
    repos: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    pagerduty_services: tuple[str, ...] = ()
    coverage_repos: tuple[str, ...] = ()
    opsgenie_teams: tuple[str, ...] = ()
    incidentio_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceConfig:
    """One configured connection: its name, its kind and the kind's typed options.

    ``options`` is an instance of the kind's ``Options`` class
    (:func:`scorecard.sources.registry.options_class`); sources read its typed
    attributes (``cfg.options.deploy_workflows``).
    """

    name: str
    kind: str
    options: SourceOptions

    @property
    def needs_token(self) -> bool:
        """Whether this kind talks to an API that may take a token."""
        return isinstance(self.options, HttpOptions)

    @property
    def has_plaintext_token(self) -> bool:
        """A token written in the config itself rather than the keyring or a variable."""
        token = self.options.token if isinstance(self.options, HttpOptions) else None
        return token is not None and token != KEYRING_MARKER


@dataclass(frozen=True)
class ChangeClassConfig:
    """A class of risky change (e.g. ``ai``), see SPEC §3."""

    name: str
    repos: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    title_patterns: tuple[str, ...] = ()
    required_workflow: str | None = None
    gated_floor: float = 0.9


@dataclass(frozen=True)
class Config:
    """The validated config file."""

    path: Path | None
    org: str = "scorecard"
    window_days: int = DEFAULT_WINDOW_DAYS
    benchmarks: str = "dora-2023"
    incident_link_hours: float = 24.0
    production_environments: tuple[str, ...] = ("production", "prod", "live")
    read_only: bool = False
    history_days: int = DEFAULT_HISTORY_DAYS
    service_aliases: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    teams: tuple[TeamConfig, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    change_classes: tuple[ChangeClassConfig, ...] = ()
    warnings: tuple[str, ...] = ()

    def bench(self) -> bands.Benchmarks:
        """The benchmark preset with the ``[thresholds]`` overrides applied."""
        return bands.benchmarks_for(self.benchmarks, self.thresholds)

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; ConfigError naming the known ones otherwise."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        close = difflib.get_close_matches(name, [s.name for s in self.sources], n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known sources: {known}"
        raise ConfigError(
            f"no source named `{name}` in the config",
            path=self.path,
            key=f"sources.{quote_part(name)}",
            hint=hint,
        )

    def team(self, name: str) -> TeamConfig | None:
        """The team called ``name`` (case-insensitive), or None."""
        folded = name.casefold()
        for team in self.teams:
            if team.name.casefold() == folded:
                return team
        return None
