"""Where scorecard keeps files, and writing them so a crash never leaves half a file.

Every file scorecard writes outside the Parquet store (exports, the starter
config, saved overviews) goes through :func:`atomic_write_text`: a temp file in
the same folder, fsync, rename. A reader sees the old file or the new one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["atomic_write_text", "cache_dir", "fsync_dir"]


def cache_dir() -> Path:
    """Where the cache lives: ``$SCORECARD_CACHE_DIR`` or the platform's user cache dir."""
    override = os.environ.get("SCORECARD_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("scorecard")


def atomic_write_text(path: Path, text: str, *, newline: str = "") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: temp file, fsync, rename.

    The temp file sits beside ``path`` (same file system, so the rename is
    atomic) and gets the permissions a plain ``open`` would give. ``newline`` as
    for :func:`open` (``""`` writes the text's line ends unchanged). Returns
    ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("x", encoding="utf-8", newline=newline) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries (renames into it) to disk, where the OS allows."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
