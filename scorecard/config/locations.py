"""Which config file to read, and reading it: ``--config``, then
``$SCORECARD_CONFIG``, then the platform's config folder (platformdirs).

A missing or unreadable file is a ConfigError that says where the path came
from and how to get a config (``scorecard init``, ``scorecard demo``).
"""

from __future__ import annotations

import os
from pathlib import Path

from scorecard.config.model import Config
from scorecard.config.parse import parse_config
from scorecard.errors import ConfigError

__all__ = ["default_config_path", "find_config_path", "load_config"]


def load_config(path: Path) -> Config:
    """Read and validate the config file at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            path=path,
            hint=f"write one with `scorecard init {path}`, or try `scorecard demo`",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            "is a folder, not a config file", path=path, hint="point to the .toml file"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file ({exc.strerror or exc})",
            path=path,
            hint="check the path and its permissions",
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            "the file is not valid UTF-8 text",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None
    return parse_config(text, path)


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/scorecard/config.toml`` (platformdirs)."""
    import platformdirs

    return platformdirs.user_config_path("scorecard") / "config.toml"


def find_config_path(explicit: str | Path | None) -> Path:
    """The config to use: ``--config``, then ``$SCORECARD_CONFIG``, then the
    default location. ConfigError when the chosen file does not exist."""
    if explicit is not None and str(explicit) != "":
        path, origin = Path(explicit).expanduser(), "--config"
    elif os.environ.get("SCORECARD_CONFIG"):
        path, origin = Path(os.environ["SCORECARD_CONFIG"]).expanduser(), "$SCORECARD_CONFIG"
    else:
        path, origin = default_config_path(), "the default location"
    if path.is_dir():
        raise ConfigError(
            f"is a folder, not a config file (from {origin})",
            path=path,
            hint="point to the .toml file",
        )
    if not path.exists():
        init = "scorecard init" if origin == "the default location" else f"scorecard init {path}"
        raise ConfigError(
            f"config file not found (from {origin})",
            path=path,
            hint=f"write a starter config with `{init}`, or try the built-in demo org "
            "with `scorecard demo`",
        )
    return path
