"""Tokens: keyring, environment, plain text; never shown. Uses an in-memory
keyring backend, never the real OS keyring."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from scorecard import secrets
from scorecard.config import SourceConfig
from scorecard.secrets import (
    KEYRING_SERVICE,
    SecretsError,
    delete_token,
    redact,
    resolve_token,
    set_token,
    token_origin,
)
from tests.source_config import source_config

TOKEN = "ghp_inMemoryTestToken0123456789"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("not found") from None


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_backend() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def gh(**kwargs: object) -> SourceConfig:
    return source_config(name="gh", kind="github", **kwargs)


def test_set_resolve_delete(memory: MemoryKeyring) -> None:
    source = gh(token="keyring")
    assert resolve_token(source) is None
    assert token_origin(source) == "keyring (not set)"

    set_token("gh", TOKEN)
    assert memory.store == {(KEYRING_SERVICE, "gh"): TOKEN}
    assert resolve_token(source) == TOKEN
    assert token_origin(source) == "keyring"
    # Without token or token_env the keyring is tried as well.
    assert resolve_token(gh()) == TOKEN
    assert token_origin(gh()) == "keyring"

    assert delete_token("gh") is True
    assert delete_token("gh") is False
    assert resolve_token(source) is None
    assert resolve_token(gh()) is None
    assert token_origin(gh()) == "none"


def test_tokens_are_per_source(memory: MemoryKeyring) -> None:
    set_token("gh", TOKEN)
    set_token("pd", "pd-token-value")
    other = source_config(name="pd", kind="pagerduty", token="keyring")
    assert resolve_token(other) == "pd-token-value"
    assert resolve_token(gh(token="keyring")) == TOKEN


def test_set_token_refuses_empty(memory: MemoryKeyring) -> None:
    with pytest.raises(SecretsError):
        set_token("gh", "   ")
    assert memory.store == {}


def test_env_token(memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    source = gh(token_env="SCORECARD_TEST_TOKEN")
    monkeypatch.delenv("SCORECARD_TEST_TOKEN", raising=False)
    set_token("gh", "keyring-value-ignored")
    assert resolve_token(source) is None
    assert token_origin(source) == "env SCORECARD_TEST_TOKEN (not set)"

    monkeypatch.setenv("SCORECARD_TEST_TOKEN", TOKEN)
    assert resolve_token(source) == TOKEN
    assert token_origin(source) == "env SCORECARD_TEST_TOKEN"


def test_plain_text_token(memory: MemoryKeyring) -> None:
    source = gh(token=TOKEN)
    assert resolve_token(source) == TOKEN
    assert token_origin(source) == "config file (plain text)"


def test_files_and_demo_need_no_token(memory: MemoryKeyring) -> None:
    set_token("local", TOKEN)
    for kind in ("files", "demo"):
        source = source_config(
            name="local", kind=kind, **({"path": Path()} if kind == "files" else {})
        )
        assert resolve_token(source) is None
        assert token_origin(source) == "none needed"


def test_token_origin_never_contains_the_token(
    memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN_FOR_TEST", TOKEN)
    set_token("gh", TOKEN)
    sources = [
        gh(),
        gh(token="keyring"),
        gh(token=TOKEN),
        gh(token_env="GH_TOKEN_FOR_TEST"),
        source_config(name="gh", kind="files", path=Path()),
    ]
    origins = [token_origin(s) for s in sources]
    assert all(TOKEN not in o and TOKEN[:10] not in o for o in origins)
    assert origins == [
        "keyring",
        "keyring",
        "config file (plain text)",
        "env GH_TOKEN_FOR_TEST",
        "none needed",
    ]


def test_no_backend_error_message(no_backend: None) -> None:
    with pytest.raises(SecretsError) as info:
        set_token("gh", TOKEN)
    message = str(info.value)
    assert "token_env" in message
    assert "keyring" in message
    assert "`gh`" in message
    assert TOKEN not in message

    with pytest.raises(SecretsError):
        resolve_token(gh(token="keyring"))
    with pytest.raises(SecretsError):
        delete_token("gh")
    # Nothing configured: no keyring is not an error, just no token.
    assert resolve_token(gh()) is None
    assert token_origin(gh()) == "none"
    assert token_origin(gh(token="keyring")) == "keyring (no backend available)"


def test_keyring_errors_become_secrets_errors(memory: MemoryKeyring) -> None:
    def locked(service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    memory.get_password = locked  # type: ignore[method-assign]
    with pytest.raises(SecretsError) as info:
        resolve_token(gh(token="keyring"))
    assert "unlock" in str(info.value)


def test_importing_config_and_secrets_stays_cheap() -> None:
    code = (
        "import sys, scorecard.config, scorecard.secrets; "
        "print(sorted(m for m in ('keyring', 'pandas', 'textual') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    assert secrets.KEYRING_SERVICE == "scorecard"


@pytest.mark.parametrize(
    ("text", "found", "expected"),
    [
        (f"Authorization: Bearer {TOKEN}", [TOKEN], "Authorization: Bearer ***"),
        ("a abcd b abcd", ["abcd"], "a *** b ***"),
        ("short abc stays", ["abc"], "short abc stays"),
        ("nothing", [], "nothing"),
        ("x-longtoken-y", ["longtoken", "long"], "x-***-y"),
    ],
)
def test_redact(text: str, found: list[str], expected: str) -> None:
    assert redact(text, found) == expected
