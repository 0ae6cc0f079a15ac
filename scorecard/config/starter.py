"""``scorecard init``: a short, commented, valid config to start from.

The text is a template file (``scorecard/data/starter.toml``) rather than code,
so this package names no source kind; a test parses it and checks that every
key it writes is an option of its kind. Written atomically (temp file, fsync,
rename) and never over an existing file without ``force``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scorecard.errors import ConfigError
from scorecard.fs import atomic_write_text

__all__ = ["starter_config_text", "write_starter_config"]


def starter_config_text() -> str:
    """A short, commented, valid config for `scorecard init`."""
    return resources.files("scorecard").joinpath("data", "starter.toml").read_text("utf-8")


def write_starter_config(path: Path, force: bool = False) -> Path:
    """Write the starter config atomically; never overwrite without ``force``."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(
            "is a folder, not a file", path=path, hint="give a file name, e.g. config.toml"
        )
    if path.exists() and not force:
        raise ConfigError(
            "a config file already exists here; not overwriting it",
            path=path,
            hint="edit it, choose another path, or pass `--force` to replace it",
        )
    try:
        atomic_write_text(path, starter_config_text(), newline="\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write the config file ({exc.strerror or exc})",
            path=path,
            hint="check that the folder is writable",
        ) from None
    return path
