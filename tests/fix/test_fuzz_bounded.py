"""The fuzz target, run for a bounded number of plain random cases (no atheris in CI)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TARGET = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_framer.py"


def load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_framer", TARGET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fuzz_target_finds_no_failure_in_bounded_random_cases() -> None:
    target = load_target()
    assert target.run_bounded(4000, seed=1) == 4000


def test_fuzz_target_checks_its_seeds_directly() -> None:
    target = load_target()
    for seed in target.SEEDS:
        target.check(b"\x03\x01\x02\x03\x04" + seed)
        target.check(b"\x00" + seed)
