"""The one exception tree of scorecard, and the exit code each error means.

Every error scorecard raises on purpose derives from :class:`ScorecardError`,
which carries the process exit code (SPEC §4: 1 runtime failure, 2 usage or
config error). The CLI catches the root in one place and prints the message;
callers catch exactly the level they can handle::

    ScorecardError            exit 1; the root
    ├── UsageError            exit 2; a command line that cannot run as given
    │   └── ConfigError       exit 2; file:line: key: what is wrong. Fix: what to do
    ├── RuntimeFailure        exit 1; the command ran and failed (every source failed)
    ├── SecretsError          exit 1; a token could not be read, stored or deleted
    ├── StoreError            exit 1; the cache cannot be read or written
    └── SourceError           exit 1; one source failed (others go on); ``retriable``
        ├── FatalSourceError      retrying cannot help (401, 404, bad config)
        ├── RateLimitExhausted    the wait for the vendor's limit exceeds ``max_wait_s``
        └── PaginationLoop        the API handed back a page it had already given
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from scorecard.status import RequestStats

__all__ = [
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "ConfigError",
    "FatalSourceError",
    "PaginationLoop",
    "RateLimitExhausted",
    "RuntimeFailure",
    "ScorecardError",
    "SecretsError",
    "SourceError",
    "StoreError",
    "UsageError",
]

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2


class ScorecardError(Exception):
    """The root: a message for the user and the exit code it means."""

    exit_code: ClassVar[int] = EXIT_RUNTIME


class UsageError(ScorecardError):
    """The command line cannot run as given (exit 2)."""

    exit_code: ClassVar[int] = EXIT_USAGE


class RuntimeFailure(ScorecardError):
    """The command ran and failed, e.g. every source failed (exit 1)."""


class SecretsError(ScorecardError):
    """A token could not be read, stored or deleted; the message says what to do."""


class StoreError(ScorecardError):
    """The cache could not be read or written."""


class SourceError(ScorecardError):
    """A source failed; the message is safe to show (no secrets).

    ``retriable`` says whether trying again later may help (a timeout, a 5xx)
    as opposed to a configuration problem (401, 404). ``stats`` holds the failing
    client's request counters, when an HTTP client raised it."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.stats: RequestStats | None = None


class FatalSourceError(SourceError):
    """Retrying cannot help: bad credentials, a missing repo, a bad config value."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=False)


class RateLimitExhausted(SourceError):
    """The vendor's rate limit needs a longer wait than the source's ``max_wait_s``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=True)


class PaginationLoop(SourceError):
    """A paginated listing handed back a page it had already given."""


class ConfigError(UsageError):
    """One clear message: file, line, key, what to do."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = " ".join(message.split())
        self.path = path
        self.line = line
        self.key = key
        self.hint = " ".join(hint.split()) if hint else None
        super().__init__(self.rendered())

    def rendered(self) -> str:
        """``file:line: key: message. Fix: hint`` with the parts that are known."""
        parts: list[str] = []
        if self.path is not None or self.line is not None:
            location = str(self.path) if self.path is not None else "<config>"
            if self.line is not None:
                location += f":{self.line}"
            parts.append(location + ":")
        if self.key:
            parts.append(self.key + ":")
        text = self.message
        if self.hint:
            if not text.endswith((".", "?", "!")):
                text += "."
            text += f" Fix: {self.hint}"
        parts.append(text)
        return " ".join(parts)

    def __str__(self) -> str:
        return self.rendered()
