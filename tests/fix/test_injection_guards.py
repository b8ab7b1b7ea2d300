"""Last guards behind settings validation: the encoder and the log-file namer refuse unsafe values."""

from __future__ import annotations

import pytest

from krakenfix_cli.fix.encode import FieldInjectionError, encode_fields
from krakenfix_cli.session.msglog import log_file_prefix


def test_a_value_holding_soh_is_never_encoded() -> None:
    with pytest.raises(FieldInjectionError, match="tag 553"):
        encode_fields([(35, "A"), (553, "KEY\x018674=1")])
    assert encode_fields([(35, "0")]).startswith(b"8=FIX.4.4\x01")


def test_the_session_engine_refuses_a_comp_id_holding_soh() -> None:
    from krakenfix_cli.session.config import Role, SessionConfig
    from krakenfix_cli.session.engine import Session
    from krakenfix_cli.session.store import MemoryStore

    config = SessionConfig(role=Role.INITIATOR, sender_comp_id="ME\x01" + "8674=1", target_comp_id="KRAKEN-TRD")
    with pytest.raises(FieldInjectionError):
        Session(config, MemoryStore()).connect(0.0)


@pytest.mark.parametrize("comp_id", ["../../x", "a/b", "A\x01B", ".hidden", ""])
def test_a_comp_id_that_cannot_name_a_file_is_refused(comp_id: str) -> None:
    with pytest.raises(ValueError, match="cannot name a log file"):
        log_file_prefix(comp_id, "KRAKEN-TRD")
    assert log_file_prefix("ME_DRV", "KRAKEN-TRD") == "FIX.4.4-ME_DRV-KRAKEN-TRD"


def test_a_data_field_may_carry_soh() -> None:
    # RawData(96) is length-prefixed by RawDataLength(95): SOH inside it is data, not a delimiter.
    frame = encode_fields([(35, "A"), (95, "3"), (96, "a\x01b")])
    assert b"\x0195=3\x0196=a\x01b\x01" in frame
