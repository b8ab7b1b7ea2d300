"""User config (TOML) merged over the built-in profiles, resolved into a ConnectionSpec.

Precedence, highest first: command-line flags > ``KRAKENFIX_*`` environment variables >
the ``[profiles.NAME]`` table of the config file > the built-in profile it extends.
A commented default config is written on first use so users find every key documented
in place (pgcli's habit, STYLE.md rule 11).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from krakenfix_cli.fix.values import API_KEY_RE, COMP_ID_RE
from krakenfix_cli.kraken.auth import ApiSecret
from krakenfix_cli.kraken.profiles import (
    BUILTIN_PROFILES,
    DEFAULT_PROFILE,
    MD_SUFFIX,
    PROD_HOST,
    Profile,
    UnknownProfileError,
)
from krakenfix_cli.settings import paths
from krakenfix_cli.settings.credentials import KeyringGet, api_key_from, keyring_get, load_secret

ENV_PROFILE = "KRAKENFIX_PROFILE"
ENV_HOST = "KRAKENFIX_HOST"
ENV_PORT = "KRAKENFIX_PORT"
ENV_SENDER = "KRAKENFIX_SENDER_COMP_ID"
ENV_TARGET = "KRAKENFIX_TARGET_COMP_ID"

DEFAULT_CONFIG = """\
# krakenfix configuration (TOML). Every key is optional; uncomment to use.
# Precedence: command-line flags > KRAKENFIX_* environment variables > this file > built-ins.
# Built-in profiles: sim, sim-derivatives, uat-spot, uat-derivatives, prod-spot,
# prod-derivatives, each with a market-data twin named <profile>-md.

# Profile used when --profile is not given (also: KRAKENFIX_PROFILE).
# profile = "sim"

# Output mode when --output is not given: pretty, compact, raw or json.
# output = "pretty"

# Where API secrets may be kept (mode 0600 only) as [api_secrets] "<api key>" = "<secret>".
# Prefer KRAKENFIX_API_SECRET or the OS keyring (service "krakenfix", username = API key).
# secrets_file = "~/.config/krakenfix/secrets.toml"

# A profile of your own. "base" names the built-in it extends; a table named like a
# built-in (e.g. [profiles.uat-spot]) overrides that built-in. A market-data twin
# "<name>-md" is derived automatically from the base's twin.
# [profiles.my-uat]
# base = "uat-spot"
# sender_comp_id = "MYCOMPID"          # SenderCompID(49) Kraken assigned to you
# target_comp_id = "KRAKEN-TRD"        # TargetCompID(56)
# api_key = "..."                      # Username(553); never put the secret here
# host = "colo-london.vip-fix.uat.kraken.com"
# port = 4001
# tls = true
# insecure = false                     # skip certificate checks (UAT only)
# ca_file = "~/corp-proxy-ca.pem"      # trust this CA bundle for TLS (also --ca-file, KRAKENFIX_CA_FILE)
# heartbeat = 60                       # HeartBtInt(108), seconds
# cancel_on_disconnect = true          # 8674=0: Kraken cancels this session's orders on a drop
"""

_PROFILE_KEYS = {
    "base": str,
    "description": str,
    "host": str,
    "port": int,
    "tls": bool,
    "insecure": bool,
    "ca_file": str,
    "sender_comp_id": str,
    "target_comp_id": str,
    "api_key": str,
    "heartbeat": int,
    "market_data": bool,
    "derivatives": bool,
    "production": bool,
    "cancel_on_disconnect": bool,
}
_TOP_KEYS = {"profile", "output", "secrets_file", "profiles"}


class ConfigError(ValueError):
    """The config file or the flags make no usable connection; the text says how to fix it."""


@dataclass(frozen=True)
class ProfileSettings:
    """A profile plus the per-profile settings that are not about where to connect."""

    profile: Profile
    api_key: str | None = None
    insecure: bool = False
    cancel_on_disconnect: bool | None = None
    ca_file: str | None = None


@dataclass(frozen=True)
class Config:
    """The parsed user config, with the built-in profiles merged in."""

    path: Path | None
    default_profile: str = DEFAULT_PROFILE
    output: str | None = None
    secrets_file: Path | None = None
    profiles: Mapping[str, ProfileSettings] = field(default_factory=dict)

    def profile(self, name: str) -> ProfileSettings:
        """The merged settings of profile ``name``; UnknownProfileError lists the known ones."""
        try:
            return self.profiles[name]
        except KeyError:
            raise UnknownProfileError(name, sorted(self.profiles)) from None


def _where(path: Path | None) -> str:
    return str(path) if path is not None else "config"


def _check_table(table: Mapping[str, Any], name: str, path: Path | None) -> None:
    for key, value in table.items():
        kind = _PROFILE_KEYS.get(key)
        if kind is None:
            raise ConfigError(
                f"{_where(path)}: unknown key {key!r} in [profiles.{name}]; known keys: {', '.join(_PROFILE_KEYS)}"
            )
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"{_where(path)}: [profiles.{name}] {key} must be a number, got {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise ConfigError(f"{_where(path)}: [profiles.{name}] {key} must be a {kind.__name__}, got {value!r}")


def _apply(base: ProfileSettings, name: str, table: Mapping[str, Any]) -> ProfileSettings:
    p = base.profile
    host = table.get("host", p.host)
    prof = replace(
        p,
        name=name,
        host=host,
        port=table.get("port", p.port),
        tls=table.get("tls", p.tls),
        sender=table.get("sender_comp_id", p.sender),
        target=table.get("target_comp_id", p.target),
        market_data=table.get("market_data", p.market_data),
        derivatives=table.get("derivatives", p.derivatives),
        # Production cannot be configured away for Kraken's production host.
        production=bool(table.get("production", p.production)) or host == PROD_HOST,
        heartbeat=table.get("heartbeat", p.heartbeat),
        description=table.get("description", p.description if name == p.name else f"{p.description} ({name})"),
    )
    return ProfileSettings(
        profile=prof,
        api_key=table.get("api_key", base.api_key),
        insecure=table.get("insecure", base.insecure),
        cancel_on_disconnect=table.get("cancel_on_disconnect", base.cancel_on_disconnect),
        ca_file=table.get("ca_file", base.ca_file),
    )


def parse_config(text: str, path: Path | None = None) -> Config:
    """Parse config text (TOML) and merge its profiles over the built-ins."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_where(path)} is not valid TOML: {exc}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{_where(path)}: unknown setting(s) {', '.join(sorted(unknown))}")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(f"{_where(path)}: profiles must be tables, e.g. [profiles.my-uat]")

    merged: dict[str, ProfileSettings] = {n: ProfileSettings(p) for n, p in BUILTIN_PROFILES.items()}
    pending = dict(tables)
    # Resolve in dependency order so a profile may extend another user profile.
    for _ in range(len(pending) + 1):
        progressed = False
        for name, table in list(pending.items()):
            _check_table(table, name, path)
            base_name = table.get("base", name if name in merged else None)
            if base_name is None:
                missing = [k for k in ("host", "port", "target_comp_id") if k not in table]
                if missing:
                    raise ConfigError(
                        f'{_where(path)}: [profiles.{name}] needs base = "<built-in>" or {", ".join(missing)}'
                    )
                base = ProfileSettings(Profile(name=name, host="", port=0, tls=True, sender=None, target=""))
            elif base_name in merged and (base_name not in pending or base_name == name):
                base = merged[base_name]
            elif base_name in pending:
                continue
            else:
                raise ConfigError(
                    f"{_where(path)}: [profiles.{name}] base {base_name!r} is not a known profile; "
                    f"known: {', '.join(sorted(merged))}"
                )
            merged[name] = _apply(base, name, table)
            twin = base.profile.twin_name
            if (
                base_name is not None
                and not name.endswith(MD_SUFFIX)
                and twin in merged
                and name + MD_SUFFIX not in tables
            ):
                md_table = {k: v for k, v in table.items() if k not in ("port", "target_comp_id", "market_data")}
                merged[name + MD_SUFFIX] = _apply(merged[twin], name + MD_SUFFIX, md_table)
            del pending[name]
            progressed = True
        if not pending or not progressed:
            break
    if pending:
        raise ConfigError(f"{_where(path)}: profiles {', '.join(sorted(pending))} extend each other in a cycle")

    default_profile = data.get("profile", DEFAULT_PROFILE)
    if not isinstance(default_profile, str) or default_profile not in merged:
        raise ConfigError(f"{_where(path)}: profile = {default_profile!r} names no known profile")
    output = data.get("output")
    if output is not None and output not in ("pretty", "compact", "raw", "json"):
        raise ConfigError(f"{_where(path)}: output must be pretty, compact, raw or json, got {output!r}")
    secrets = data.get("secrets_file")
    if secrets is not None and not isinstance(secrets, str):
        raise ConfigError(f"{_where(path)}: secrets_file must be a path string")
    return Config(
        path=path,
        default_profile=default_profile,
        output=output,
        secrets_file=Path(secrets).expanduser() if secrets else None,
        profiles=merged,
    )


def load_config(
    path: Path | None = None, *, env: Mapping[str, str] | None = None, write_default: bool = True
) -> Config:
    """Read the user config (writing the commented default first if there is none)."""
    path = path if path is not None else paths.config_file(env)
    if not path.exists():
        if write_default:
            try:
                paths.ensure_private_dir(path.parent)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(DEFAULT_CONFIG)
            except OSError:
                pass  # read-only home or a race with another process: the defaults still apply
        config = parse_config("", path)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        config = parse_config(text, path)
    if config.secrets_file is None:
        config = replace(config, secrets_file=paths.secrets_file(env))
    return config


@dataclass(frozen=True)
class ConnectionFlags:
    """What the command line said; None means "not given"."""

    profile: str | None = None
    host: str | None = None
    port: int | None = None
    tls: bool | None = None
    insecure: bool | None = None
    sender: str | None = None
    target: str | None = None
    api_key: str | None = None
    heartbeat: int | None = None
    state_dir: Path | None = None
    cancel_on_disconnect: bool | None = None
    ca_file: Path | None = None


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to connect and log on; ``secret`` prints as ``***``."""

    profile: str
    host: str
    port: int
    tls: bool
    insecure: bool
    sender: str
    target: str
    api_key: str | None
    secret: ApiSecret | None
    heartbeat: int
    production: bool
    derivatives: bool
    market_data: bool
    state_dir: Path
    cancel_on_disconnect: bool | None
    secret_source: str | None = None
    "Where the secret came from (env, keyring, a file path), for `logon` to report."
    ca_file: Path | None = None
    "A CA bundle to trust for TLS (--ca-file, KRAKENFIX_CA_FILE or the profile's ca_file)."

    @property
    def needs_credentials(self) -> bool:
        """Trading sessions sign the Logon; market-data sessions do not (SPEC §3.1)."""
        return not self.market_data


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


ENV_CA_FILE = "KRAKENFIX_CA_FILE"


def _ca_file(flag: Path | None, environ: Mapping[str, str], configured: str | None, profile: str) -> Path | None:
    """The CA bundle to trust, flag > env > profile; a missing or unreadable file is a usage error."""
    raw = flag if flag is not None else environ.get(ENV_CA_FILE) or configured
    if not raw:
        return None
    path = Path(raw).expanduser()
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ConfigError(f"cannot read the CA file {path}: {exc.strerror or exc}; fix --ca-file, "
                          f"{ENV_CA_FILE} or ca_file in profile {profile!r}") from None
    return path


def _check_value(value: object, rule: re.Pattern[str], what: str, flag: str, env_name: str, profile: str) -> None:
    """Every value that goes into a field or a file name passes here, wherever it came from.

    SOH in a value would put extra fields on the wire (``553=KEY<SOH>8674=1``); ``/`` or ``..``
    in a CompID would build a log path outside the state dir.
    """
    if not rule.match(str(value)):
        shown = str(value).encode("unicode_escape").decode("ascii")
        raise ConfigError(f"{what} '{shown}' is not usable: it may hold only {_allowed(rule)}; "
                          f"fix {flag}, {env_name} or profile {profile!r}")


def check_flag_values(flags: ConnectionFlags) -> None:
    """The field values typed on the command line, checked on their own: ``--sim`` resolves no
    profile (a broken config must not stop it), yet a bad value is still refused, not ignored."""
    for value, rule, what, flag in ((flags.sender, COMP_ID_RE, "SenderCompID", "--sender-comp-id"),
                                    (flags.target, COMP_ID_RE, "TargetCompID", "--target-comp-id"),
                                    (flags.api_key, API_KEY_RE, "API key", "--api-key")):
        if value is not None and not rule.match(str(value)):
            shown = str(value).encode("unicode_escape").decode("ascii")
            raise ConfigError(f"{what} '{shown}' is not usable: it may hold only {_allowed(rule)}; fix {flag}")


def _allowed(rule: re.Pattern[str]) -> str:
    return ("letters, digits, '.', '_' and '-' (at most 64, not starting with '.')" if rule is COMP_ID_RE
            else "printable ASCII without spaces or control characters")


def resolve(
    flags: ConnectionFlags | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: Config | None = None,
    keyring: KeyringGet | None = keyring_get,
) -> ConnectionSpec:
    """Flags > env > config > built-in profile → a ConnectionSpec (ConfigError explains failures)."""
    flags = flags or ConnectionFlags()
    environ: Mapping[str, str] = os.environ if env is None else env
    config = config if config is not None else load_config(env=environ)
    name = flags.profile or environ.get(ENV_PROFILE) or config.default_profile
    settings = config.profile(name)
    prof = settings.profile

    def pick(flag: Any, env_name: str | None, configured: Any) -> Any:
        if flag is not None:
            return flag
        if env_name is not None and environ.get(env_name):
            return environ[env_name]
        return configured

    host = pick(flags.host, ENV_HOST, prof.host)
    port = flags.port if flags.port is not None else _env_int(environ, ENV_PORT) or prof.port
    sender = pick(flags.sender, ENV_SENDER, prof.sender)
    target = pick(flags.target, ENV_TARGET, prof.target)
    insecure = bool(flags.insecure) if flags.insecure is not None else settings.insecure
    production = prof.production or host == PROD_HOST
    if not sender:
        raise ConfigError(
            f"profile {name!r} has no SenderCompID: pass --sender-comp-id, set {ENV_SENDER}, or set "
            f"sender_comp_id in [profiles.{name}] of {_where(config.path)}"
        )
    if not host or not port or not target:
        raise ConfigError(f"profile {name!r} needs a host, a port and a TargetCompID")
    if not 0 < int(port) < 65536:
        raise ConfigError(f"port {port} is out of range")
    if insecure and production:
        raise ConfigError(
            f"--insecure skips certificate checks and is refused for the production profile {name!r}; "
            "it is for UAT and the simulator only"
        )
    _check_value(sender, COMP_ID_RE, "SenderCompID", "--sender-comp-id", ENV_SENDER, name)
    _check_value(target, COMP_ID_RE, "TargetCompID", "--target-comp-id", ENV_TARGET, name)
    ca_file = _ca_file(flags.ca_file, environ, settings.ca_file, name)
    heartbeat = flags.heartbeat if flags.heartbeat is not None else prof.heartbeat
    if heartbeat <= 0:
        raise ConfigError(f"heartbeat must be a positive number of seconds, got {heartbeat}")

    api_key = secret = source = None
    if not prof.market_data:
        api_key = api_key_from(flags.api_key, environ, settings.api_key)
        if api_key is not None:
            _check_value(api_key, API_KEY_RE, "API key", "--api-key", "KRAKENFIX_API_KEY", name)
        secret, source = load_secret(api_key, env=environ, secrets_path=config.secrets_file, keyring=keyring)
    return ConnectionSpec(
        profile=name,
        host=str(host),
        port=int(port),
        tls=flags.tls if flags.tls is not None else prof.tls,
        insecure=insecure,
        sender=str(sender),
        target=str(target),
        api_key=api_key,
        secret=secret,
        heartbeat=int(heartbeat),
        production=production,
        derivatives=prof.derivatives,
        market_data=prof.market_data,
        state_dir=paths.state_dir(flags.state_dir, environ),
        cancel_on_disconnect=(
            flags.cancel_on_disconnect if flags.cancel_on_disconnect is not None else settings.cancel_on_disconnect
        ),
        secret_source=source,
        ca_file=ca_file,
    )
