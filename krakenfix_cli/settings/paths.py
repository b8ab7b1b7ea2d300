"""Where krakenfix keeps its config, state (stores, logs, order journal) and REPL history.

Defaults come from platformdirs; ``--state-dir`` overrides the state dir, and the
``KRAKENFIX_STATE_DIR`` / ``KRAKENFIX_CONFIG_DIR`` environment variables override both
defaults (tests point them at a tmp dir so nothing touches the real home).

Everything under the state dir is private (0700 directories, 0600 files): the CLI sets a
0077 umask before it creates anything, and :func:`tighten_state_dir` fixes a dir made
looser by an older version or by hand.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "krakenfix"
ENV_STATE_DIR = "KRAKENFIX_STATE_DIR"
ENV_CONFIG_DIR = "KRAKENFIX_CONFIG_DIR"
CONFIG_FILE_NAME = "config.toml"
SECRETS_FILE_NAME = "secrets.toml"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$KRAKENFIX_CONFIG_DIR`` or the platform's user config dir for krakenfix."""
    override = _env(env).get(ENV_CONFIG_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs  # here, not above: a warm start (cli/warm.py) resolves the state dir first thing

    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def state_dir(override: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """``--state-dir``, else ``$KRAKENFIX_STATE_DIR``, else the platform's user state dir."""
    if override is not None and str(override):
        return Path(override).expanduser()
    from_env = _env(env).get(ENV_STATE_DIR)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def state_dir_from_args(args: list[str]) -> Path:
    """The state dir a command line names (``--state-dir`` before any ``--``), else the default.

    Read before the command is parsed: by the crash log and the umask set-up, and by a
    warm start looking for its server.
    """
    head = args[: args.index("--")] if "--" in args else args
    given: str | None = None
    for i, arg in enumerate(head):
        if arg == "--state-dir" and i + 1 < len(head):
            given = head[i + 1]
        elif arg.startswith("--state-dir="):
            given = arg.partition("=")[2]
    return state_dir(given)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The TOML user config."""
    return config_dir(env) / CONFIG_FILE_NAME


def secrets_file(env: Mapping[str, str] | None = None) -> Path:
    """The optional 0600 file mapping API keys to secrets."""
    return config_dir(env) / SECRETS_FILE_NAME


def history_file(state: Path) -> Path:
    """The REPL's (redacted) command history, kept with the other state."""
    return state / "history"


def session_dir(state: Path, sender: str, target: str, profile: str) -> Path:
    """One session's store directory (sequence numbers and sent frames)."""
    from krakenfix_cli.session.filestore import session_dir as _session_dir

    return _session_dir(state, sender, target, profile)


def log_dir(state: Path) -> Path:
    """Where the QuickFIX-layout message logs go."""
    return state / "logs"


def journal_file(state: Path) -> Path:
    """The order journal (JSON lines)."""
    return state / "orders.jsonl"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


#: Entries a tightening walk visits at most (a state dir holds tens; bound the cost anyway).
TIGHTEN_LIMIT = 10_000


def tighten_state_dir(root: Path) -> None:
    """Make ``root`` and everything in it that we own 0700 (directories) / 0600 (files).

    Symlinks are not followed; entries owned by another user, and errors, are left alone:
    tightening must never stop a command.
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    seen = 0
    stack = [root]
    while stack and seen < TIGHTEN_LIMIT:
        path = stack.pop()
        seen += 1
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if uid is not None and st.st_uid != uid:
            continue
        if stat.S_ISDIR(st.st_mode):
            want = 0o700
            try:
                stack.extend(path / name for name in os.listdir(path))
            except OSError:
                pass
        elif stat.S_ISREG(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            want = 0o600
        else:
            continue
        if stat.S_IMODE(st.st_mode) & ~want:
            try:
                os.chmod(path, stat.S_IMODE(st.st_mode) & want)
            except OSError:
                pass
