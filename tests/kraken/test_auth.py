"""Kraken Logon signature against every kraken-fix/SPEC.md §3.4 vector, nonce rules, secrecy."""

from __future__ import annotations

import copy
import hashlib

import pytest

from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.kraken.auth import (
    ApiSecret,
    NonceSource,
    check_nonce,
    kraken_password,
    logon_auth_fields,
    message_input,
    verify_password,
)

KEY = "kfx-demo-key-0001"
SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
PW1 = "zJ+q6AFRjvIU/gtvwsZeY7xPNFVqQcef9SLJEHGsA+US8Ptmi9xVzbcmbvTk/Rs59SCUdFuG70jIO5fp9jkHGQ=="

VECTORS = [
    (1, "KFXCLIENT", "KRAKEN-TRD", 1700000000000, PW1),
    (
        7,
        "KFXCLIENT",
        "KRAKEN-TRD",
        1700000000123,
        "TpD0benpR4YgrGDZGsg6mF7ovvNBzKla1Cx4leY4Sw+/t4TZDu6gVofTvB0v6A/H3FcMg+/A3hMdfj08XkmLIw==",
    ),
    (
        1,
        "KFXCLIENT_DRV",
        "KRAKEN-DRV-TRD",
        1700000000000,
        "WzW3oIwhCdJlykW+k+tH2/r1don9vxmsoTOpJsBIEbMq0nTxKb/PIJCelhEfRZ+6a8hC6YNkg0dMf50HoIuTlQ==",
    ),
]

LOGON_FRAME_1 = (
    "8=FIX.4.4|9=221|35=A|34=1|49=KFXCLIENT|52=20231114-22:13:20.000|56=KRAKEN-TRD|98=0|108=60|141=Y|"
    "553=kfx-demo-key-0001|554=zJ+q6AFRjvIU/gtvwsZeY7xPNFVqQcef9SLJEHGsA+US8Ptmi9xVzbcmbvTk/Rs59SCUdFuG70jIO5fp9jkHGQ==|"
    "5025=1700000000000|8674=0|10=045|"
)


@pytest.mark.parametrize(("seq", "sender", "target", "nonce", "expected"), VECTORS)
def test_password_matches_spec_vector(seq: int, sender: str, target: str, nonce: int, expected: str) -> None:
    assert kraken_password(ApiSecret(SECRET), seq, sender, target, KEY, nonce) == expected
    assert kraken_password(SECRET, seq, sender, target, KEY, nonce) == expected


def test_message_input_and_hashed_digest_match_the_worked_example() -> None:
    text = message_input(1, "KFXCLIENT", "KRAKEN-TRD", KEY)
    assert text == "35=A\x0134=1\x0149=KFXCLIENT\x0156=KRAKEN-TRD\x01553=kfx-demo-key-0001\x01"
    digest = hashlib.sha256((text + "1700000000000").encode()).hexdigest()
    assert digest == "a67217682d12337fd37f03c83d94199ae6a61778c0c666d3d5a5f3ed38db6eb6"


def test_full_logon_frame_for_vector_one_encodes_byte_for_byte() -> None:
    header = [
        (35, "A"),
        (34, "1"),
        (49, "KFXCLIENT"),
        (52, "20231114-22:13:20.000"),
        (56, "KRAKEN-TRD"),
        (98, "0"),
        (108, "60"),
        (141, "Y"),
    ]
    auth = logon_auth_fields(KEY, ApiSecret(SECRET), "KFXCLIENT", "KRAKEN-TRD", 1, 1700000000000, True)
    frame = encode_fields(header + auth)
    assert frame == LOGON_FRAME_1.replace("|", "\x01").encode()
    assert b"\x019=221\x01" in frame and frame.endswith(b"\x0110=045\x01")


def test_auth_fields_carry_key_signature_nonce_in_order() -> None:
    fields = logon_auth_fields(KEY, SECRET, "KFXCLIENT", "KRAKEN-TRD", 1, 1700000000000, None)
    assert fields == [(553, KEY), (554, PW1), (5025, "1700000000000")]


@pytest.mark.parametrize(("cod", "value"), [(True, "0"), (False, "1")])
def test_cancel_on_disconnect_maps_to_8674(cod: bool, value: str) -> None:
    fields = dict(logon_auth_fields(KEY, SECRET, "S", "T", 1, 1, cod))
    assert fields[8674] == value


def test_force_reset_clordid_adds_5030_y() -> None:
    fields = dict(logon_auth_fields(KEY, SECRET, "S", "T", 1, 1, None, force_reset_clordid=True))
    assert fields[5030] == "Y"
    assert 8674 not in fields


def test_verify_accepts_the_right_signature_and_refuses_any_change() -> None:
    assert verify_password(SECRET, PW1, 1, "KFXCLIENT", "KRAKEN-TRD", KEY, 1700000000000)
    assert not verify_password(SECRET, PW1, 2, "KFXCLIENT", "KRAKEN-TRD", KEY, 1700000000000)
    assert not verify_password(SECRET, PW1, 1, "KFXCLIENT", "KRAKEN-MD", KEY, 1700000000000)
    assert not verify_password(SECRET, PW1, 1, "KFXCLIENT", "KRAKEN-TRD", KEY, 1700000000001)
    assert not verify_password(SECRET, "garbage", 1, "KFXCLIENT", "KRAKEN-TRD", KEY, 1700000000000)
    assert not verify_password("not base64!", PW1, 1, "KFXCLIENT", "KRAKEN-TRD", KEY, 1700000000000)


def test_secret_prints_as_stars_everywhere() -> None:
    s = ApiSecret(SECRET)
    assert repr(s) == str(s) == f"{s}" == "***"
    assert SECRET not in repr([s]) and SECRET not in repr({"secret": s})
    assert s.reveal() == SECRET
    assert copy.deepcopy(s) == s


def test_invalid_secret_error_does_not_echo_it() -> None:
    with pytest.raises(ValueError) as info:
        kraken_password("s3cret-not-base64!", 1, "S", "T", KEY, 1)
    assert "s3cret" not in str(info.value)
    assert "base64" in str(info.value)


def test_nonce_source_never_repeats_even_when_the_clock_stands_still_or_steps_back() -> None:
    src = NonceSource()
    assert [src.next(1000), src.next(1000), src.next(900), src.next(5000)] == [1000, 1001, 1002, 5000]
    assert src.last == 5000
    assert NonceSource(last=7000).next(5000) == 7001


def test_nonce_within_window_and_increasing_is_accepted() -> None:
    assert check_nonce(1_700_000_004_000, 1_700_000_000_000, 1_699_999_999_000) is None
    assert check_nonce(1_700_000_000_000, 1_700_000_000_000, None) is None


def test_nonce_outside_window_is_refused_with_the_skew() -> None:
    reason = check_nonce(1_700_000_006_000, 1_700_000_000_000, None)
    assert reason is not None and "6000 ms ahead" in reason and "Invalid nonce" in reason
    behind = check_nonce(1_699_999_990_000, 1_700_000_000_000, None)
    assert behind is not None and "behind" in behind
    assert check_nonce(1_700_000_059_000, 1_700_000_000_000, None, window_ms=60_000) is None


def test_nonce_not_above_the_last_accepted_is_refused() -> None:
    reason = check_nonce(1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000)
    assert reason is not None and "not greater" in reason
