"""The state dir's contents never stop a command: journal lines of any shape, torn tails."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, sim_proc, spawn

__all__ = ["sim_proc"]

BAD_LINE = b'{"v":1,"ev":"update","t":"abc","clordid":"1700000000000001"}\n'


def _journal(home: Path) -> Path:
    return home / "state" / "orders.jsonl"


def test_a_wrong_shaped_journal_line_is_skipped_and_the_mass_cancel_still_goes(
        sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    sent = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.output
    clordid = json.loads(sent.stdout.strip().splitlines()[-1])["clordid"]
    with _journal(tmp_path).open("ab") as fh:
        fh.write(BAD_LINE)
    r = kfx("cancel", "--clordid", clordid, "-o", "compact", env=env)
    assert r.exit_status == 1 and "placed by another connection" in r.stderr, r.output  # the journal was read
    warnings = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and "skipped 1 unreadable line" in warnings[0], r.stderr
    t = kfx("tail", "--duration", "0.5", "-o", "compact", env=env)
    assert t.exit_status == 0, t.output
    m = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
    assert m.exit_status == 0, m.output
    assert "> OrderMassCancelRequest" in m.stdout and "530=7" in m.stdout
    assert "Traceback" not in r.stderr + t.stderr + m.stderr


def _wait_for_lock_holder(state: Path, holder: subprocess.Popen[bytes]) -> None:
    """Until a session store's lock file names its holder (a condition, not a time)."""
    while True:
        assert holder.poll() is None, holder.stderr.read() if holder.stderr else ""
        locks = list(state.glob("sessions/*/lock"))
        if locks and locks[0].read_bytes():
            return
        time.sleep(0.05)


#: A process that opens a session's store and keeps it, without serving the session (an older
#: krakenfix, a script on the library): commands cannot go through it.
STORE_SQUATTER = ("import sys, time\nfrom krakenfix_cli.session.filestore import FileStore\n"
                  "FileStore(sys.argv[1])\nprint('locked', flush=True)\ntime.sleep(120)\n")


def test_a_session_store_held_by_another_process_names_it_and_exits_75(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    assert kfx("logon", "-o", "compact", env=env).exit_status == 0  # creates the session's store
    store = next((tmp_path / "state").glob("sessions/*__KRAKEN-TRD"))
    holder = subprocess.Popen([sys.executable, "-c", STORE_SQUATTER, str(store)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    try:
        _wait_for_lock_holder(tmp_path / "state", holder)
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "compact", env=env)
        assert r.exit_status == 75, r.output
        errors = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: error:")]
        assert len(errors) == 1, r.stderr
        assert f"PID {holder.pid}:" in errors[0] and "STORE_SQUATTER" not in errors[0]
        assert "use a different --state-dir" in errors[0]
    finally:
        holder.terminate()
        holder.wait(30)


def test_a_corrupt_session_store_is_named_moved_aside_and_the_command_runs(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    assert kfx("logon", "-o", "compact", env=env).exit_status == 0
    seqnums = next((tmp_path / "state").glob("sessions/*/seqnums"))
    seqnums.write_bytes(b"\x13" * 128)
    r = kfx("logon", "-o", "compact", env=env)
    assert r.exit_status == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and str(seqnums.parent) in warnings[0] and "corrupt" in warnings[0], r.stderr
    assert list(seqnums.parent.glob("seqnums.corrupt-*")) and "moved it aside" in warnings[0]


#: A crash on purpose: ``send_message`` raises, after argv (with secrets) was parsed.
CRASH = ("import sys, krakenfix_cli.ops.send as s\n"
         "def boom(*a, **k):\n    raise RuntimeError('boom 554=INTRACE')\n"
         "s.send_message = boom\nfrom krakenfix_cli.cli.app import main\nsys.argv[0] = 'krakenfix'\nmain()\n")


def _modes(root: Path) -> dict[str, int]:
    out = {".": root.stat().st_mode & 0o777}
    for p in root.rglob("*"):
        if not p.is_symlink():
            out[str(p.relative_to(root))] = p.stat().st_mode & 0o777
    return out


def test_everything_under_the_state_dir_is_private_and_a_crash_log_is_redacted(
        sim_proc: SimProc, tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "debug").mkdir(parents=True, mode=0o755)  # left looser by an older version
    state.chmod(0o755)
    (state / "debug").chmod(0o755)
    (state / "debug" / "old.log").write_text("x")
    (state / "debug" / "old.log").chmod(0o644)
    env = sim_proc.env(tmp_path)
    assert kfx("logon", "-o", "compact", env=env).exit_status == 0
    assert kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "compact",
               env=env).exit_status == 0
    assert kfx("logon", "--sim", "-o", "compact", env=env).exit_status == 0
    raw = "35=D|11=1|55=BTC/USD|54=1|38=1|40=1|554=SIGNATURECLEAR|95=9|96=RAWSECRET"
    crash = subprocess.run([sys.executable, "-c", CRASH, "send", "--sim", "--raw", raw, "--state-dir", str(state)],
                           capture_output=True, text=True, env=env, timeout=90)
    assert crash.returncode == 70, crash.stderr
    logs = list((state / "debug").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in crash.stderr
    text = logs[0].read_text()
    assert "SIGNATURECLEAR" not in text and "RAWSECRET" not in text and "INTRACE" not in text
    assert "554=***" in text and "96=***" in text and "boom" in text
    modes = _modes(state)
    assert {"sessions", "logs", "orders.jsonl", "debug/old.log"} <= set(modes)
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (state / name).is_dir() else 0o600)}
    assert loose == {}


def _sent_clordid(result: object) -> str:
    return json.loads(result.stdout.strip().splitlines()[-1])["clordid"]  # type: ignore[attr-defined]


def test_a_too_high_clordid_never_stops_later_sends_or_the_mass_cancel(tmp_path: Path) -> None:
    from cli_harness import start_sim_proc

    from krakenfix_cli.kraken.clordid import is_increasing_number_clordid, is_valid_derivatives_clordid

    sim = start_sim_proc(tmp_path / "sim")  # its own: Kraken's ClOrdID sequence is per session
    try:
        env = sim.env(tmp_path)
        order = ("-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json")
        top = kfx("send", *order, "--clordid", "999999999999999999", env=env)
        assert top.exit_status == 0, top.output
        nxt = kfx("send", *order, env=env)
        assert nxt.exit_status == 0, nxt.output
        assert is_valid_derivatives_clordid(_sent_clordid(nxt))  # Spot's second format
        forced = kfx("cancel", "--clordid", "999999999999999999", "--force", "-o", "json", env=env)
        assert forced.exit_status in (0, 1) and "would exceed" not in forced.stderr, forced.output
        m = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
        assert m.exit_status == 0, m.output
        assert "> OrderMassCancelRequest" in m.stdout and "530=7" in m.stdout
        reset = kfx("logon", "--reset-clordid", "-o", "raw", env=env)
        assert reset.exit_status == 0 and "|5030=Y|" in reset.stdout, reset.output
        fresh = kfx("send", *order, env=env)
        assert fresh.exit_status == 0, fresh.output
        assert is_increasing_number_clordid(_sent_clordid(fresh))  # numbers again after the reset
        above = str(int(_sent_clordid(fresh)) + 10_000_000)
        raw = kfx("send", "--raw", f"35=D|11={above}|55=BTC/USD|54=1|38=0.01|40=2|44=1000.0|59=1", "-o", "json",
                  env=env)
        assert raw.exit_status == 0, raw.output
        after_raw = kfx("send", *order, env=env)  # the --raw ClOrdID moved the generator
        assert after_raw.exit_status == 0, after_raw.output
        assert int(_sent_clordid(after_raw)) > int(above)
    finally:
        sim.stop()


def test_a_reader_closing_stdout_does_not_stop_the_session_work(sim_proc: SimProc, tmp_path: Path) -> None:
    """``send ... | head -1``: the order is journalled as the gateway answered, logged out, exit 0.

    The reader is gone before the first line (closed read end), so every write meets EPIPE:
    deterministic, where a real ``head`` races the writer.
    """
    import os


    env = sim_proc.env(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = spawn("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "compact",
                 env=env, stdout=write_end)
    os.close(write_end)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert "krakenfix: error:" not in err and "Traceback" not in err
    records = [json.loads(line) for line in _journal(tmp_path).read_text().splitlines() if line.strip()]
    assert records[-1]["ev"] == "update" and records[-1]["state"] == "new"
    log = next((tmp_path / "state" / "logs").glob("*.messages.current.log")).read_bytes()
    assert b"\x0135=5\x0134=3\x0149=KFXCLIENT\x01" in log  # our Logout went out after the reader left


def test_a_stream_whose_reader_left_stops_as_if_interrupted(sim_proc: SimProc, tmp_path: Path) -> None:
    """``tail --file LOG --follow | head -1`` ends when head does (it does not stream into nothing)."""
    import os


    env = sim_proc.env(tmp_path)
    assert kfx("logon", "-o", "compact", env=env).exit_status == 0
    log = next((tmp_path / "state" / "logs").glob("*.messages.current.log"))
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = spawn("tail", "--file", str(log), "--follow", "-o", "compact", env=env, stdout=write_end)
    os.close(write_end)
    try:
        rc = proc.wait(120)  # --follow would otherwise run until a signal
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, proc.stderr.read().decode() if proc.stderr else ""


def test_a_mass_cancel_goes_whatever_the_clordid_watermark_holds(sim_proc: SimProc, tmp_path: Path) -> None:
    """An exhausted watermark (the largest UUID) stops a generated send, never the emergency command."""
    env = sim_proc.env(tmp_path)
    (tmp_path / "state").mkdir(parents=True, exist_ok=True)
    (tmp_path / "state" / "clordid.json").write_text(json.dumps({"spot": "ffffffff-ffff-4fff-bfff-ffffffffffff"}))
    s = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
    assert s.exit_status == 2 and "--reset-clordid" in s.stderr, s.output  # the generator is stuck: said so
    m = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
    assert m.exit_status == 0, m.output
    assert "> OrderMassCancelRequest" in m.stdout and "530=7" in m.stdout
    assert "Traceback" not in m.stderr
