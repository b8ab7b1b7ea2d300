"""API key and secret lookup: the secret never comes from a flag or a world-readable file.

API key: ``--api-key``, else ``$KRAKENFIX_API_KEY``, else the profile's ``api_key`` in the
config. Secret, first found wins:

1. ``$KRAKENFIX_API_SECRET``;
2. the OS keyring, service ``krakenfix``, username = the API key (any keyring failure,
   such as no backend or a locked D-Bus, is treated as "not there");
3. a secrets file (default ``<config dir>/secrets.toml``) that only its owner can access::

       [api_secrets]
       "<api key>" = "<base64 secret>"

   A file whose mode lets group or others in is refused with the ``chmod 600`` to run,
   like ssh does with private keys.

Errors never contain the secret; ``ApiSecret`` prints as ``***``.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

from krakenfix_cli.kraken.auth import ApiSecret

ENV_API_KEY = "KRAKENFIX_API_KEY"
ENV_API_SECRET = "KRAKENFIX_API_SECRET"
ENV_NO_KEYRING = "KRAKENFIX_NO_KEYRING"
KEYRING_SERVICE = "krakenfix"

KeyringGet = Callable[[str, str], str | None]


class CredentialsError(Exception):
    """Credentials are missing or stored unsafely; the text says what to do."""


def api_key_from(flag: str | None, env: Mapping[str, str] | None = None, config_value: str | None = None) -> str | None:
    """``--api-key``, else ``$KRAKENFIX_API_KEY``, else the config's ``api_key``."""
    environ = os.environ if env is None else env
    for candidate in (flag, environ.get(ENV_API_KEY), config_value):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    return None


def keyring_get(service: str, username: str) -> str | None:
    """The OS keyring's password, or None on any failure (no backend, locked, missing)."""
    try:
        import keyring

        value = keyring.get_password(service, username)
    except Exception:  # keyring backends raise anything: NoKeyringError, DBus errors, ...
        return None
    return value if isinstance(value, str) and value else None


def keyring_set(api_key: str, secret: ApiSecret) -> None:
    """Store ``secret`` in the OS keyring; CredentialsError when there is no usable keyring."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, api_key, secret.reveal())
    except Exception as exc:
        raise CredentialsError(
            f"could not store the secret in the OS keyring ({type(exc).__name__}); "
            f"use {ENV_API_SECRET} or a secrets file with mode 0600 instead"
        ) from None


def _check_private(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows ACLs are not modes
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(
            f"refusing to read secrets file {path}: its mode {stat.filemode(mode)} "
            f"({mode & 0o777:04o}) lets group/others read it; run `chmod 600 {path}`"
        )


def read_secrets_file(path: Path) -> dict[str, ApiSecret]:
    """API key → secret from a 0600 secrets file; CredentialsError when unsafe or malformed."""
    _check_private(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message names a line and column, never the value.
        raise CredentialsError(f"secrets file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise CredentialsError(f"cannot read secrets file {path}: {exc.strerror}") from None
    table = data.get("api_secrets", {})
    if not isinstance(table, dict):
        raise CredentialsError(f'secrets file {path}: [api_secrets] must be a table of "api key" = "secret"')
    out: dict[str, ApiSecret] = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise CredentialsError(f"secrets file {path}: the secret for API key {key!r} must be a string")
        out[key] = ApiSecret(value)
    return out


def load_secret(
    api_key: str | None,
    *,
    env: Mapping[str, str] | None = None,
    secrets_path: Path | None = None,
    keyring: KeyringGet | None = keyring_get,
) -> tuple[ApiSecret | None, str | None]:
    """The secret for ``api_key`` and where it came from (``"env"``, ``"keyring"``, the file path).

    ``keyring=None`` (or ``KRAKENFIX_NO_KEYRING=1``) skips the OS keyring.
    """
    environ = os.environ if env is None else env
    from_env = environ.get(ENV_API_SECRET)
    if from_env and from_env.strip():
        return _usable(ApiSecret(from_env), ENV_API_SECRET), "env"
    if api_key is None:
        return None, None
    if keyring is not None and environ.get(ENV_NO_KEYRING, "") in ("", "0"):
        value = keyring(KEYRING_SERVICE, api_key)
        if value:
            return _usable(ApiSecret(value), f"the OS keyring (service {KEYRING_SERVICE!r})"), "keyring"
    if secrets_path is not None and secrets_path.exists():
        secret = read_secrets_file(secrets_path).get(api_key)
        if secret is not None:
            return _usable(secret, str(secrets_path)), str(secrets_path)
    return None, None


def _usable(secret: ApiSecret, where: str) -> ApiSecret:
    """A secret that cannot sign is a usage error found here, not a crash at logon."""
    try:
        secret.key_bytes()
    except ValueError:
        raise CredentialsError(
            f"the API secret from {where} is not valid base64; copy it again from Kraken Pro (Settings → API)"
        ) from None
    return secret


def missing_secret_message(api_key: str | None, secrets_path: Path | None) -> str:
    """The one-line explanation for a trading logon without credentials."""
    if api_key is None:
        return (
            f"no API key: pass --api-key, set {ENV_API_KEY}, or set api_key in your profile "
            "(the market-data profiles need none)"
        )
    where = f" or add it under [api_secrets] in {secrets_path} (chmod 600)" if secrets_path else ""
    return (
        f"no API secret for key {api_key!r}: set {ENV_API_SECRET}, store it in the OS keyring "
        f"(service {KEYRING_SERVICE!r}, username = the API key){where}"
    )
