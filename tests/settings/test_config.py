"""Config file + env + flags → ConnectionSpec, and the built-in profiles behind them."""

from __future__ import annotations

from pathlib import Path

import pytest

from krakenfix_cli.kraken.profiles import BUILTIN_PROFILES, PROD_HOST, UAT_HOST, UnknownProfileError, get_profile
from krakenfix_cli.settings import paths
from krakenfix_cli.settings.config import (
    DEFAULT_CONFIG,
    ConfigError,
    ConnectionFlags,
    load_config,
    parse_config,
    resolve,
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "KRAKENFIX_CONFIG_DIR": str(tmp_path / "config"),
        "KRAKENFIX_STATE_DIR": str(tmp_path / "state"),
    }


def _write(env: dict[str, str], text: str) -> Path:
    path = paths.config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_builtin_has_a_market_data_twin() -> None:
    names = set(BUILTIN_PROFILES)
    for base in ("sim", "uat-spot", "uat-derivatives", "prod-spot", "prod-derivatives"):
        assert base in names and f"{base}-md" in names
        trd, md = BUILTIN_PROFILES[base], BUILTIN_PROFILES[f"{base}-md"]
        assert (trd.host, trd.sender, trd.derivatives) == (md.host, md.sender, md.derivatives)
        assert md.market_data and not trd.market_data
        assert trd.twin_name == md.name and md.twin_name == trd.name


def test_builtin_endpoints_follow_the_spec() -> None:
    assert (get_profile("prod-spot").host, get_profile("prod-spot").port) == (PROD_HOST, 4001)
    assert get_profile("uat-spot-md").port == 4000 and get_profile("uat-spot").host == UAT_HOST
    assert get_profile("uat-derivatives").target == "KRAKEN-DRV-TRD"
    assert get_profile("prod-derivatives-md").target == "KRAKEN-DRV-MD"
    assert get_profile("prod-derivatives").production and not get_profile("uat-derivatives").production
    assert all(p.tls for n, p in BUILTIN_PROFILES.items() if not n.startswith("sim"))


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(UnknownProfileError, match="uat-spot"):
        get_profile("nope")


def test_first_use_writes_the_commented_default_config(env: dict[str, str]) -> None:
    config = load_config(env=env)
    path = paths.config_file(env)
    assert path.read_text() == DEFAULT_CONFIG
    assert path.stat().st_mode & 0o077 == 0
    assert config.default_profile == "sim"
    assert set(BUILTIN_PROFILES) <= set(config.profiles)
    # The commented default parses to the same thing as no file at all.
    assert load_config(env=env).profiles == config.profiles


def test_default_config_resolves_to_the_simulator(env: dict[str, str]) -> None:
    spec = resolve(env=env, keyring=None)
    assert (spec.profile, spec.host, spec.port, spec.sender, spec.target) == (
        "sim",
        "127.0.0.1",
        14001,
        "KFXCLIENT",
        "KRAKEN-TRD",
    )
    assert spec.state_dir == Path(env["KRAKENFIX_STATE_DIR"])
    assert not spec.production and spec.heartbeat == 60


def test_user_profile_extends_a_builtin_and_gets_a_twin(env: dict[str, str]) -> None:
    _write(
        env,
        """
profile = "my-uat"
[profiles.my-uat]
base = "uat-spot"
sender_comp_id = "MYCOMPID"
api_key = "cfg-key"
heartbeat = 30
""",
    )
    spec = resolve(env=env, keyring=None)
    assert (spec.profile, spec.host, spec.port, spec.sender, spec.api_key) == (
        "my-uat",
        UAT_HOST,
        4001,
        "MYCOMPID",
        "cfg-key",
    )
    assert spec.heartbeat == 30
    md = resolve(ConnectionFlags(profile="my-uat-md"), env=env, keyring=None)
    assert (md.port, md.target, md.sender, md.market_data, md.api_key) == (4000, "KRAKEN-MD", "MYCOMPID", True, None)


def test_table_named_like_a_builtin_overrides_it(env: dict[str, str]) -> None:
    _write(env, '[profiles.uat-derivatives]\nsender_comp_id = "ME_DRV"\ntarget_comp_id = "KRAKEN-TRD"\n')
    spec = resolve(ConnectionFlags(profile="uat-derivatives"), env=env, keyring=None)
    assert (spec.sender, spec.target, spec.derivatives) == ("ME_DRV", "KRAKEN-TRD", True)
    md = resolve(ConnectionFlags(profile="uat-derivatives-md"), env=env, keyring=None)
    assert (md.sender, md.target) == ("ME_DRV", "KRAKEN-DRV-MD")


def test_flags_beat_env_beat_config(env: dict[str, str]) -> None:
    _write(env, '[profiles.uat-spot]\nsender_comp_id = "FROMCONFIG"\nport = 4101\n')
    env |= {"KRAKENFIX_SENDER_COMP_ID": "FROMENV", "KRAKENFIX_PORT": "4201", "KRAKENFIX_PROFILE": "uat-spot"}
    spec = resolve(env=env, keyring=None)
    assert (spec.sender, spec.port) == ("FROMENV", 4201)
    spec = resolve(ConnectionFlags(sender="FROMFLAG", port=4301, host="localhost"), env=env, keyring=None)
    assert (spec.sender, spec.port, spec.host) == ("FROMFLAG", 4301, "localhost")


def test_uat_without_sender_explains_how_to_set_it(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="--sender-comp-id"):
        resolve(ConnectionFlags(profile="uat-spot"), env=env, keyring=None)


def test_insecure_is_refused_for_production(env: dict[str, str]) -> None:
    flags = ConnectionFlags(profile="prod-spot", sender="ME", insecure=True)
    with pytest.raises(ConfigError, match="refused for the production"):
        resolve(flags, env=env, keyring=None)
    ok = resolve(ConnectionFlags(profile="uat-spot", sender="ME", insecure=True), env=env, keyring=None)
    assert ok.insecure


def test_a_custom_profile_on_the_production_host_is_production(env: dict[str, str]) -> None:
    _write(env, f'[profiles.sneaky]\nbase = "uat-spot"\nhost = "{PROD_HOST}"\nproduction = false\n')
    spec = resolve(ConnectionFlags(profile="sneaky", sender="ME"), env=env, keyring=None)
    assert spec.production


def test_secret_from_env_is_attached_and_hidden(env: dict[str, str]) -> None:
    env |= {"KRAKENFIX_API_KEY": "k", "KRAKENFIX_API_SECRET": "c2VjcmV0"}
    spec = resolve(env=env, keyring=None)
    assert spec.api_key == "k" and spec.secret is not None and spec.secret.reveal() == "c2VjcmV0"
    assert spec.secret_source == "env"
    assert "c2VjcmV0" not in repr(spec)


def test_state_dir_flag_overrides_env(env: dict[str, str], tmp_path: Path) -> None:
    spec = resolve(ConnectionFlags(state_dir=tmp_path / "elsewhere"), env=env, keyring=None)
    assert spec.state_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[profiles.x\n", "not valid TOML"),
        ('colour = "red"\n', "unknown setting"),
        ('[profiles.x]\nbase = "uat-spot"\nprot = 1\n', "unknown key 'prot'"),
        ('[profiles.x]\nbase = "uat-spot"\nport = "4001"\n', "must be a number"),
        ('[profiles.x]\nbase = "nowhere"\n', "not a known profile"),
        ('[profiles.x]\nhost = "h"\n', "needs base"),
        ('[profiles.a]\nbase = "b"\n[profiles.b]\nbase = "a"\n', "cycle"),
        ('profile = "ghost"\n', "names no known profile"),
        ('output = "loud"\n', "output must be"),
    ],
)
def test_bad_config_is_reported_with_the_file_and_the_problem(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_config(text, Path("/cfg/config.toml"))


def test_profiles_may_extend_user_profiles_in_any_order() -> None:
    config = parse_config('[profiles.b]\nbase = "a"\nport = 9\n[profiles.a]\nbase = "sim"\nsender_comp_id = "A"\n')
    b = config.profile("b").profile
    assert (b.sender, b.port, b.host) == ("A", 9, "127.0.0.1")


def test_paths_honour_env_overrides(env: dict[str, str]) -> None:
    assert paths.config_dir(env) == Path(env["KRAKENFIX_CONFIG_DIR"])
    assert paths.state_dir(None, env) == Path(env["KRAKENFIX_STATE_DIR"])
    assert paths.state_dir("/x", env) == Path("/x")
    assert paths.state_dir(None, {}).name == "krakenfix"
