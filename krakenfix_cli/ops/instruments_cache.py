"""The InstrumentList(y) kept on disk, so that a pre-send check needs no network.

One JSON file per market-data target (profile, host and TargetCompID: a simulator's port
changes from run to run, its list does not) under the state dir's ``instruments/``,
written whole to a temporary file and renamed (0600), with the time it was fetched. A
file that cannot be read or parsed is :class:`CorruptCache`: the caller warns once and
fetches again; nothing here ever raises anything else at a reader.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.instruments import InstrumentInfo

FORMAT = 1
"Bumped when the file's layout changes; another value reads as corrupt (and is refetched)."
DIR_NAME = "instruments"
"Under the state dir: one ``<key>.json`` per market-data target."
EMBEDDED_PROFILE = "sim-embedded"
"The profile name ``--sim``'s in-process simulator goes by (ops.session.spec_for_simulator)."


class CorruptCache(Exception):
    """The cache file exists but is unreadable or damaged; ``why`` says how."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


@dataclass(frozen=True)
class Cached:
    """A cached InstrumentList: its instruments, when it was fetched (epoch seconds), its file."""

    instruments: tuple[InstrumentInfo, ...]
    fetched_at: float
    path: Path

    def find(self, symbol: str) -> InstrumentInfo | None:
        """The entry for ``symbol``, or None when the gateway does not list it."""
        for info in self.instruments:
            if info.symbol == symbol:
                return info
        return None


def key_for(spec: ClientSpec) -> str:
    """The file name (without ``.json``) of the market-data target ``spec`` points at."""
    profile = spec.profile or "custom"
    parts = [profile] if profile == EMBEDDED_PROFILE else [profile, spec.host]
    parts.append(spec.target_comp_id)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join(parts))


def embedded_key(*, derivatives: bool) -> str:
    """The key of ``--sim``'s simulator, known before it starts (the same for every run)."""
    from krakenfix_cli.kraken.profiles import target_comp_id

    return key_for(ClientSpec(host="127.0.0.1", port=1, sender_comp_id="-", profile=EMBEDDED_PROFILE,
                              target_comp_id=target_comp_id(derivatives=derivatives, market_data=True)))


def cache_path(state_dir: Path, key: str) -> Path:
    """Where the list of ``key`` lives."""
    return state_dir / DIR_NAME / f"{key}.json"


def load(state_dir: Path, key: str) -> Cached | None:
    """The cached list of ``key``; None when there is none; CorruptCache when it is damaged."""
    path = cache_path(state_dir, key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorruptCache(path, f"cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        obj = json.loads(text)
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ValueError("not an instrument cache of this version")
        fetched = obj["fetched_at"]
        if isinstance(fetched, bool) or not isinstance(fetched, (int, float)):
            raise ValueError("no fetch time")
        items = obj["instruments"]
        if not isinstance(items, list):
            raise ValueError("no instrument list")
        instruments = tuple(InstrumentInfo.from_json(i) for i in items)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CorruptCache(path, f"not a valid instrument cache ({exc})") from None
    return Cached(instruments, float(fetched), path)


def save(state_dir: Path, key: str, instruments: Sequence[InstrumentInfo], fetched_at: float) -> Cached:
    """Write the list of ``key`` (0600, atomically: a reader sees the old file or the new one)."""
    path = cache_path(state_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = json.dumps({"format": FORMAT, "fetched_at": fetched_at,
                       "instruments": [i.to_json() for i in instruments]}, indent=1).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Cached(tuple(instruments), fetched_at, path)


@dataclass(frozen=True)
class Verdict:
    """The pre-send check of one message against a cache: a refusal line, or why it was skipped."""

    refusal: str | None = None
    "The one line naming the rule and the nearest valid values (nothing must be sent)."
    skipped: str | None = None
    "Why the check did not run (no cache, a damaged one); the order goes as given."
    damaged: bool = False
    "``skipped`` because the cache is damaged (a warning rather than a note)."


def check_message(state_dir: Path, key: str, msg: Message, where: str) -> Verdict:
    """``msg`` (a D or G; anything else passes) against the cached list ``key`` of ``where``.

    Reads the cache only, never the network: the check costs a send no connection.
    """
    from krakenfix_cli.ops.precheck import OrderTerms, check_order

    terms = OrderTerms.from_message(msg)
    if terms is None:
        return Verdict()
    try:
        cached = load(state_dir, key)
    except CorruptCache as exc:
        return Verdict(skipped=f"ignoring the instrument cache {exc.path} ({exc.why}): the pre-send check is "
                               "skipped; `krakenfix instruments --refresh` writes it anew", damaged=True)
    if cached is None:
        return Verdict(skipped=f"no cached InstrumentList for {where}: the pre-send check is skipped; "
                               "`krakenfix instruments` fetches one")
    info = cached.find(terms.symbol)
    if info is None:
        return Verdict(refusal=f"{terms.symbol} is not in the InstrumentList of {where}; check the symbol "
                               "(`krakenfix instruments` lists them; --refresh if it was just listed)")
    refusal = check_order(info, terms)
    return Verdict(refusal=None if refusal is None else refusal.line)
