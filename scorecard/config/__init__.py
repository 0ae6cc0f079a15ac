"""Loading and validating the scorecard TOML config (SPEC §5).

Every command starts here, so the package stays cheap to import: no pandas, no
httpx, no textual, no keyring. Mistakes in the config are the most common
failure a new user hits, so each one becomes a single :class:`ConfigError`
naming the file, the line, the dotted key and what to do about it.

Modules: :mod:`.model` (the validated objects), :mod:`.toml_lines` (the line of
a key), :mod:`.checker` (typed value checks), :mod:`.parse` (the sections),
:mod:`.source_section` (a ``[sources.NAME]`` section) and
:mod:`.options_schema` (a kind's ``Options`` as its schema), :mod:`.teams`,
:mod:`.locations` (which file; reading it), :mod:`.starter` (`scorecard init`).
"""

from __future__ import annotations

from scorecard.config.locations import default_config_path, find_config_path, load_config
from scorecard.config.model import (
    KEYRING_MARKER,
    ChangeClassConfig,
    Config,
    SourceConfig,
    TeamConfig,
)
from scorecard.config.parse import parse_config
from scorecard.config.starter import starter_config_text, write_starter_config
from scorecard.errors import ConfigError

__all__ = [
    "KEYRING_MARKER",
    "ChangeClassConfig",
    "Config",
    "ConfigError",
    "SourceConfig",
    "TeamConfig",
    "default_config_path",
    "find_config_path",
    "load_config",
    "parse_config",
    "starter_config_text",
    "write_starter_config",
]
