"""How a QuickFIX harness process runs and leaves (shared by both harness scripts)."""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Callable


def run_and_leave(main: Callable[[], int]) -> None:
    """Run ``main`` with faulthandler on, then exit with its status, skipping finalization.

    A crash inside QuickFIX prints the Python stacks to stderr. Leaving without interpreter
    finalization matters because QuickFIX's C++ threads can still call into Python while it
    tears down, which segfaulted about one run in ten under load.
    """
    faulthandler.enable()
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
