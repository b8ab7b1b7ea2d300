"""Shared pytest setup: make ``tests/support`` importable as plain modules (``from run import run_cli``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "support"))
