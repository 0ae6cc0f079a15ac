"""Source tokens: environment variables, the OS keyring, or (discouraged) the
config file.

This is the only module that imports ``keyring``, and it does so lazily inside
functions: resolving backends is slow and most commands (``export --offline``,
``demo``) never need a token. Nothing here ever puts a token into a message;
:func:`redact` scrubs tokens from any text that might be shown.
"""

from __future__ import annotations

import os
from typing import Any, Final, Protocol

from scorecard.errors import SecretsError
from scorecard.options import KEYRING_MARKER, HttpOptions, SourceOptions
from scorecard.text import redact

__all__ = [
    "KEYRING_MARKER",
    "KEYRING_SERVICE",
    "SecretsError",
    "TokenSource",
    "delete_token",
    "redact",
    "resolve_token",
    "set_token",
    "token_origin",
    "token_settings",
    "token_values",
]

KEYRING_SERVICE: Final = "scorecard"


class TokenSource(Protocol):
    """What this module needs of a configured source (``config.SourceConfig``)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def options(self) -> SourceOptions: ...


def token_settings(source: TokenSource) -> tuple[str | None, str | None]:
    """``(token, token_env)`` as the source's config writes them."""
    options = source.options
    if isinstance(options, HttpOptions):
        return options.token, options.token_env
    return None, None


def token_values(source: TokenSource) -> list[str]:
    """Token values ``source`` may use (plain text or from its variable), to scrub from
    anything shown or stored. Never reads the keyring."""
    token, token_env = token_settings(source)
    found = [token] if token and token != KEYRING_MARKER else []
    value = os.environ.get(token_env) if token_env else None
    return [*found, value] if value else found


def _no_backend_message(source_name: str) -> str:
    return (
        f"no OS keyring is available to hold the token for source `{source_name}`. "
        f'Fix: set `token_env = "SOME_VARIABLE"` in [sources.{source_name}] and export '
        "the token in that environment variable, or install a keyring backend "
        "(e.g. run a Secret Service such as gnome-keyring or KWallet, or "
        "`pip install keyrings.alt`)."
    )


def _keyring(source_name: str) -> Any:
    """The keyring module, after checking that a usable backend exists."""
    try:
        import keyring
        import keyring.backends.fail
    except ImportError as exc:  # pragma: no cover - keyring is a dependency
        raise SecretsError(_no_backend_message(source_name)) from exc
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise SecretsError(_no_backend_message(source_name))
    if getattr(backend, "backends", None) == []:  # a chainer with nothing to chain
        raise SecretsError(_no_backend_message(source_name))
    return keyring


def _keyring_errors() -> tuple[type[BaseException], ...]:
    import keyring.errors

    return (keyring.errors.KeyringError,)


def _is_no_backend(exc: BaseException) -> bool:
    import keyring.errors

    return isinstance(exc, keyring.errors.NoKeyringError)


def _keyring_failure(exc: BaseException, source_name: str, doing: str) -> SecretsError:
    """The error to raise when the keyring failed ``doing`` (``read … from``)."""
    if _is_no_backend(exc):
        return SecretsError(_no_backend_message(source_name))
    return SecretsError(
        f"could not {doing} the OS keyring "
        f"({type(exc).__name__}). Fix: unlock the keyring, or use token_env instead."
    )


def _get(source_name: str) -> str | None:
    kr = _keyring(source_name)
    try:
        value = kr.get_password(KEYRING_SERVICE, source_name)
    except _keyring_errors() as exc:
        doing = f"read the token for source `{source_name}` from"
        raise _keyring_failure(exc, source_name, doing) from None
    return value if isinstance(value, str) and value else None


def resolve_token(source: TokenSource) -> str | None:
    """The token for ``source``, or None when none is configured or found.

    ``token_env`` reads the environment; ``token = "keyring"`` reads the OS
    keyring (SecretsError when there is no keyring); any other ``token`` is a
    plain-text token. With neither, the keyring is tried quietly.
    """
    if not isinstance(source.options, HttpOptions):
        return None
    token, token_env = token_settings(source)
    if token_env:
        return os.environ.get(token_env) or None
    if token == KEYRING_MARKER:
        return _get(source.name)
    if token:
        return token
    try:
        return _get(source.name)
    except SecretsError:
        return None


def set_token(source_name: str, token: str) -> None:
    """Store ``token`` for ``source_name`` in the OS keyring."""
    if not source_name:
        raise SecretsError("a source name is needed to store a token")
    if not token or not token.strip():
        raise SecretsError(f"refusing to store an empty token for source `{source_name}`")
    kr = _keyring(source_name)
    try:
        kr.set_password(KEYRING_SERVICE, source_name, token.strip())
    except _keyring_errors() as exc:
        doing = f"store the token for source `{source_name}` in"
        raise _keyring_failure(exc, source_name, doing) from None


def delete_token(source_name: str) -> bool:
    """Remove the stored token; False when there was none."""
    import keyring.errors

    kr = _keyring(source_name)
    if _get(source_name) is None:
        return False
    try:
        kr.delete_password(KEYRING_SERVICE, source_name)
    except keyring.errors.PasswordDeleteError:
        return False
    except _keyring_errors() as exc:
        raise SecretsError(
            f"could not delete the token for source `{source_name}` from the OS keyring "
            f"({type(exc).__name__}). Fix: unlock the keyring and try again."
        ) from None
    return True


def token_origin(source: TokenSource) -> str:
    """Where the token for ``source`` comes from, in words; never the token."""
    if not isinstance(source.options, HttpOptions):
        return "none needed"
    token, token_env = token_settings(source)
    if token_env:
        state = "" if os.environ.get(token_env) else " (not set)"
        return f"env {token_env}{state}"
    if token == KEYRING_MARKER:
        return _keyring_state(source.name, "keyring (not set)")
    if token:
        return "config file (plain text)"
    return _keyring_state(source.name, "none")


def _keyring_state(source_name: str, missing: str) -> str:
    try:
        found = _get(source_name) is not None
    except SecretsError:
        return "keyring (no backend available)" if missing != "none" else "none"
    return "keyring" if found else missing
