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
    "DiscoveryConfig",
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
    github_team: str | None = None
    """The slug of the code host's org team this team is (``@org/slug`` in
    CODEOWNERS; an org team a discovery section found under that slug)."""


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
class DiscoveryConfig:
    """A ``[discovery.NAME]`` section (SPEC §12): where more teams come from.

    ``options`` is an instance of the kind's Options class
    (:data:`scorecard.discovery.options.DISCOVERY_KINDS`)."""

    name: str
    kind: str
    options: SourceOptions

    @property
    def section(self) -> str:
        """How rows and problems name it: ``discovery.NAME``."""
        return f"discovery.{self.name}"

    def as_source(self) -> SourceConfig:
        """The section as a connection: its token settings (``scorecard auth set
        discovery.NAME`` stores its keyring token), its name in messages."""
        return SourceConfig(name=self.section, kind=self.kind, options=self.options)


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
    snapshot_days: int = 730
    cache_url: str | None = None
    """A shared cache (``s3://``, ``gs://``, ``az://`` or a path) written by ``sync
    --publish`` and read by everyone else (SPEC §9); None: the local cache only."""
    cache_endpoint_url: str | None = None
    """The S3-compatible endpoint of ``cache_url`` (default: ``$AWS_ENDPOINT_URL``)."""
    service_aliases: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    teams: tuple[TeamConfig, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    change_classes: tuple[ChangeClassConfig, ...] = ()
    warnings: tuple[str, ...] = ()
    discovery: tuple[DiscoveryConfig, ...] = ()

    @property
    def path_repos(self) -> frozenset[str]:
        """Repos (casefolded) whose changes are attributed by their changed paths:
        those a ``codeowners`` discovery section reads. Their changes need ``paths``."""
        found: set[str] = set()
        for section in (s for s in self.discovery if s.kind == "codeowners"):
            options: Any = section.options  # CodeownersOptions: repos, local copies
            found.update(repo.casefold() for repo in (*options.repos, *options.files))
        return frozenset(found)

    @property
    def github_team_of(self) -> dict[str, str]:
        """Team name → its ``github_team`` slug, for the teams that have one."""
        return {team.name: team.github_team for team in self.teams if team.github_team}

    def bench(self) -> bands.Benchmarks:
        """The benchmark preset with the ``[thresholds]`` overrides applied."""
        return bands.benchmarks_for(self.benchmarks, self.thresholds)

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; ConfigError naming the known ones otherwise."""
        for source in self.sources:
            if source.name == name:
                return source
        for section in self.discovery:
            if section.section == name and isinstance(section.options, HttpOptions):
                return section.as_source()
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
