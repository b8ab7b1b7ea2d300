"""The pre-send check as ``send`` and ``amend`` run it: which cache, and how a verdict is told.

The check is ``ops.precheck`` (pure) over the cache ``krakenfix instruments`` writes
(``ops.instruments_cache.check_message``), never the network: a send costs no extra
connection and works while the market-data session is down. No cache: one note line
saying so and how to get one, and the order goes as given; a damaged cache: one warning,
likewise. A refusal is a CliError (exit 2): one line naming the rule and the nearest
valid values; nothing has been sent.
"""

from __future__ import annotations

from krakenfix_cli.cli.common import Target
from krakenfix_cli.cli.errors import CliError
from krakenfix_cli.cli.exit import ExitStatus
from krakenfix_cli.cli.options import get_env
from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.instruments_cache import check_message
from krakenfix_cli.render.console import write_note, write_warning
from krakenfix_cli.settings.config import ConnectionFlags

SKIP_HINT = "--no-check sends it anyway"


def check_before_send(target: Target, flags: ConnectionFlags, msg: Message) -> None:
    """Raise CliError when ``msg`` (a D or G) breaks its pair's rules in the cached InstrumentList."""
    if msg.msg_type not in ("D", "G"):
        return
    from krakenfix_cli.cli.common import market_data_target
    from krakenfix_cli.cli.instruments import cache_key

    env = get_env()
    md = market_data_target(flags, sim=target.embedded_sim, base=target)
    verdict = check_message(md.state_dir, cache_key(md), msg, md.describe())
    if verdict.refusal is not None:
        raise CliError(verdict.refusal, SKIP_HINT, ExitStatus.USAGE)
    if verdict.skipped is not None:
        (write_warning if verdict.damaged else write_note)(env, verdict.skipped)
