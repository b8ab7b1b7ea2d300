"""Secrets come from env, keyring or a 0600 file only, and never show up in text."""

from __future__ import annotations

from pathlib import Path

import pytest

from krakenfix_cli.kraken.auth import ApiSecret
from krakenfix_cli.settings.credentials import (
    KEYRING_SERVICE,
    CredentialsError,
    api_key_from,
    keyring_get,
    load_secret,
    missing_secret_message,
    read_secrets_file,
)

SECRET = "c3VwZXItc2VjcmV0LXZhbHVl"  # base64("super-secret-value")


def _secrets_file(tmp_path: Path, mode: int, body: str | None = None) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(body if body is not None else f'[api_secrets]\n"my-key" = "{SECRET}"\n')
    path.chmod(mode)
    return path


def test_secrets_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, 0o644)
    with pytest.raises(CredentialsError) as info:
        load_secret("my-key", env={}, secrets_path=path, keyring=None)
    text = str(info.value)
    assert f"chmod 600 {path}" in text and "group/others" in text
    assert SECRET not in text


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o620])
def test_any_group_or_other_access_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(CredentialsError):
        read_secrets_file(_secrets_file(tmp_path, mode))


def test_secrets_file_0600_is_accepted(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, 0o600)
    secret, source = load_secret("my-key", env={}, secrets_path=path, keyring=None)
    assert secret is not None and secret.reveal() == SECRET
    assert source == str(path)


def test_secrets_file_without_the_key_gives_none(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, 0o600)
    assert load_secret("other-key", env={}, secrets_path=path, keyring=None) == (None, None)


def test_malformed_secrets_file_error_hides_the_value(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, 0o600, f'[api_secrets]\n"my-key" = {SECRET}\n')
    with pytest.raises(CredentialsError, match="not valid TOML") as info:
        read_secrets_file(path)
    assert SECRET not in str(info.value)


def test_env_secret_wins_over_keyring_and_file(tmp_path: Path) -> None:
    path = _secrets_file(tmp_path, 0o600)
    secret, source = load_secret(
        "my-key", env={"KRAKENFIX_API_SECRET": "ZW52"}, secrets_path=path, keyring=lambda s, u: "a2V5cmluZw=="
    )
    assert (secret, source) == (ApiSecret("ZW52"), "env")


def test_keyring_is_asked_with_service_and_api_key(tmp_path: Path) -> None:
    asked: list[tuple[str, str]] = []

    def fake_keyring(service: str, user: str) -> str | None:
        asked.append((service, user))
        return "a2V5cmluZw=="

    secret, source = load_secret("my-key", env={}, secrets_path=None, keyring=fake_keyring)
    assert asked == [(KEYRING_SERVICE, "my-key")]
    assert source == "keyring" and secret == ApiSecret("a2V5cmluZw==")


def test_keyring_can_be_switched_off_by_env() -> None:
    def exploding(service: str, user: str) -> str | None:
        raise AssertionError("keyring must not be asked")

    assert load_secret("k", env={"KRAKENFIX_NO_KEYRING": "1"}, keyring=exploding) == (None, None)


def test_a_broken_keyring_backend_is_treated_as_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    def broken(service: str, user: str) -> str:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    monkeypatch.setattr(keyring, "get_password", broken)
    assert keyring_get(KEYRING_SERVICE, "k") is None


def test_api_key_precedence_flag_env_config() -> None:
    env = {"KRAKENFIX_API_KEY": "env-key"}
    assert api_key_from("flag-key", env, "cfg-key") == "flag-key"
    assert api_key_from(None, env, "cfg-key") == "env-key"
    assert api_key_from(None, {}, "cfg-key") == "cfg-key"
    assert api_key_from(None, {}, None) is None


def test_no_api_key_means_no_secret_lookup_beyond_env() -> None:
    assert load_secret(None, env={}, keyring=lambda s, u: "x") == (None, None)


def test_secret_never_appears_in_repr_str_or_messages(tmp_path: Path) -> None:
    secret = ApiSecret(SECRET)
    assert SECRET not in repr(secret) and SECRET not in str(secret) and SECRET not in f"{secret!r} {secret}"
    msg = missing_secret_message("my-key", tmp_path / "secrets.toml")
    assert "KRAKENFIX_API_SECRET" in msg and "keyring" in msg and "chmod 600" in msg
    assert "--api-key" in missing_secret_message(None, None)
