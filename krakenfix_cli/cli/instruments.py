"""``krakenfix instruments``: the gateway's InstrumentList(y), as a table, cached in the state dir.

Also the one home of "which market-data session lists this target's instruments"
(``cli.common.market_data_target``): ``send``/``amend``'s pre-send check (``cli/precheck.py``)
reads the cache this command writes, under the same key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from krakenfix_cli.cli.options import (
    DEFAULT_TIMEOUT,
    CaFile,
    Host,
    Insecure,
    Output,
    Port,
    Profile,
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
)
from krakenfix_cli.render import Mode

if TYPE_CHECKING:
    from krakenfix_cli.cli.common import Target
    from krakenfix_cli.ops.instruments import InstrumentInfo

HELP = """Show the InstrumentList(y): each pair's tick size, decimals, minimum, increment and status.

Asked of the profile's market-data session (its `-md` twin: no credentials needed) and kept
in the state dir, so later runs, and the pre-send check of `send`, `amend` and the REPL,
need no network; --refresh asks again. Name symbols to show only those (exit 1 when one is
not listed). -o json prints one object per instrument.

  krakenfix instruments
  krakenfix instruments BTC/USD --refresh -o json
"""

COLUMNS = ("symbol", "tick size", "price dp", "lot dp", "min qty", "qty increment", "status")


def instruments(
    symbols: Annotated[list[str] | None, typer.Argument(metavar="[SYMBOL]...", show_default=False,
                                                        help="Only these symbols (e.g. BTC/USD).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask the gateway again, even with a cached list.")]
    = False,
    profile: Profile = None,
    host: Host = None,
    port: Port = None,
    tls: Tls = None,
    insecure: Insecure = False,
    ca_file: CaFile = None,
    sender_comp_id: SenderCompId = None,
    target_comp_id: TargetCompId = None,
    state_dir: StateDir = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    sim: Sim = False,
    output: Output = Mode.PRETTY,
) -> None:
    """The InstrumentList as a table or JSON lines."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops import instruments_cache as cache
    from krakenfix_cli.render.console import write_error, write_note, write_warning
    from krakenfix_cli.transport import clock

    env = get_env()
    mode = Mode(output)
    flags = common.flags_from(profile=profile, host=host, port=port, tls=tls, insecure=insecure,
                              sender_comp_id=sender_comp_id, target_comp_id=target_comp_id, api_key=None,
                              state_dir=state_dir, ca_file=ca_file)
    target = common.market_data_target(flags, sim=sim)
    common.production_banner(env, target)
    key = cache_key(target)
    cached = None
    if not refresh:
        try:
            cached = cache.load(target.state_dir, key)
        except cache.CorruptCache as exc:
            write_warning(env, f"ignoring the instrument cache {exc.path} ({exc.why}); asking the gateway again")
    if cached is not None and symbols and any(cached.find(s) is None for s in symbols):
        cached = None  # a pair listed since the cache was written: ask once before saying it is not listed
    if cached is None:
        listed = common.run(_fetch(target, timeout))
        try:
            cached = cache.save(target.state_dir, key, listed, clock.now())
        except OSError as exc:
            write_warning(env, f"could not write the instrument cache under {target.state_dir} "
                               f"({exc.strerror or exc}); the pre-send check will not see this list")
            cached = cache.Cached(tuple(listed), clock.now(), cache.cache_path(target.state_dir, key))
        write_note(env, f"{len(cached.instruments)} instruments from {target.describe()}")
    else:
        write_note(env, f"{len(cached.instruments)} instruments cached {_age(clock.now() - cached.fetched_at)} ago "
                        f"from {target.describe()}; --refresh asks again")
    shown = list(cached.instruments)
    missing: list[str] = []
    if symbols:
        shown = [i for s in symbols if (i := cached.find(s)) is not None]
        missing = [s for s in symbols if cached.find(s) is None]
    if mode is Mode.JSON:
        for info in shown:
            common.emit_json(env, {**info.to_json(), "fetched_at": cached.fetched_at})
    elif shown:
        reporter = common.make_reporter(env, mode)
        reporter.table("InstrumentList", COLUMNS, [_row(i) for i in shown])
    if missing:
        write_error(env, f"not in the InstrumentList: {', '.join(missing)}; `krakenfix instruments` lists every pair")
        raise typer.Exit(ExitStatus.REJECTED)
    raise typer.Exit(ExitStatus.OK)


async def _fetch(target: Target, timeout: float) -> list[InstrumentInfo]:
    """The list from the target's market-data session (an embedded simulator with ``--sim``)."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.instruments import InstrumentListError, fetch_instruments
    from krakenfix_cli.ops.session import maybe_embedded

    reporter = common.make_reporter(get_env(), Mode.COMPACT)
    async with maybe_embedded(target.spec, reporter, target.embedded_sim) as (spec, _sim):
        try:
            return await fetch_instruments(spec, timeout)
        except InstrumentListError as exc:
            raise CliError(str(exc), "try again, or --refresh later", ExitStatus.REJECTED) from None


def _row(info: InstrumentInfo) -> list[str]:
    def s(v: object) -> str:
        return "" if v is None else (format(v, "f") if not isinstance(v, (int, str)) else str(v))

    return [info.symbol, s(info.tick), s(info.price_precision), s(info.qty_precision), s(info.qty_min),
            s(info.qty_increment), info.status_name]


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def cache_key(target: Target) -> str:
    """The instrument cache's key for a market-data target (``--sim``: the embedded simulator's)."""
    from krakenfix_cli.ops import instruments_cache as cache

    if target.embedded_sim:
        return cache.embedded_key(derivatives=target.spec.derivatives)
    return cache.key_for(target.spec)


def register(app: typer.Typer) -> None:
    """Add ``instruments`` to ``app``."""
    app.command("instruments", help=HELP)(instruments)
