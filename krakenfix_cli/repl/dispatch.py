"""What each REPL command does: the session and view commands here, the order commands in ``repl.actions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krakenfix_cli.ops.live import LiveSession
from krakenfix_cli.repl import actions
from krakenfix_cli.repl import commands as c
from krakenfix_cli.repl.state import ORDER_COLUMNS

if TYPE_CHECKING:
    from krakenfix_cli.repl.app import Repl


async def dispatch(repl: Repl, cmd: c.Command) -> None:
    """Run one parsed command."""
    if isinstance(cmd, c.Empty):
        return
    if isinstance(cmd, c.Quit):
        repl.quitting = True
    elif isinstance(cmd, c.Help):
        help_(repl, cmd.topic)
    elif isinstance(cmd, c.Output):
        if cmd.mode:
            repl.state.output = cmd.mode
        repl.note(f"output: {repl.state.output}")
    elif isinstance(cmd, c.Filter):
        filter_(repl, cmd)
    elif isinstance(cmd, c.Orders):
        orders(repl, cmd.open_only)
    elif isinstance(cmd, c.Seq):
        seq(repl, cmd)
    elif isinstance(cmd, c.SessionAction):
        await session_action(repl, cmd.action)
    elif isinstance(cmd, c.NewOrder):
        actions.new_order(repl, cmd)
    elif isinstance(cmd, c.Cancel):
        actions.cancel(repl, cmd.ref)
    elif isinstance(cmd, c.Amend):
        actions.amend(repl, cmd)
    elif isinstance(cmd, c.Status):
        actions.status(repl, cmd.ref)
    elif isinstance(cmd, c.MassCancel):
        await actions.mass_cancel(repl, cmd)
    elif isinstance(cmd, c.Raw):
        await actions.raw(repl, cmd)
    elif isinstance(cmd, c.Replay):
        repl.require_live()
        channel = await repl.request_channel()
        try:
            await channel.request_resend(cmd.begin, cmd.end)
        finally:
            await repl.release_channel(channel)
        repl.note(f"ResendRequest(2) {cmd.begin}..{cmd.end or 'latest'} sent; replays arrive with "
                  "PossDupFlag(43)=Y")

def help_(repl: Repl, topic: str) -> None:
    from krakenfix_cli.repl.keys import keys_help

    if topic == "keys":
        repl.line(keys_help(repl.keys) if repl.keys is not None else "")
        return
    repl.line(c.help_text(topic))
    if not topic:
        repl.line(keys_help(repl.keys) if repl.keys is not None else "")

def filter_(repl: Repl, cmd: c.Filter) -> None:
    f = repl.state.filter
    if cmd.action == "all":
        f.show_admin, f.muted = True, False
    elif cmd.action == "app":
        f.show_admin, f.muted = False, False
    elif cmd.action == "none":
        f.muted = True
    elif cmd.action == "type":
        f.msg_types = frozenset(cmd.values)
        f.muted = False
    elif cmd.action == "symbol":
        f.symbols = frozenset(cmd.values)
        f.muted = False
    elif cmd.action == "where":
        from krakenfix_cli.ops.logq.expr import ExprError, compile_expr

        try:
            f.where = compile_expr(cmd.values[0])
        except ExprError as exc:
            raise c.CommandError(f"bad expression at column {exc.column}: {exc.text}") from None
        f.where_text, f.muted = cmd.values[0], False
    elif cmd.action == "clear":
        repl.state.filter = type(f)()
    repl.note(f"filter: {repl.state.filter.describe()}")


def orders(repl: Repl, open_only: bool) -> None:
    rows = repl.state.order_rows(include_closed=not open_only)
    if not rows:
        repl.note("no orders from this session yet" if not open_only else "no open orders")
        return
    repl.screen.table("orders of this session", ORDER_COLUMNS, rows)

def own_session(repl: Repl) -> LiveSession:
    if repl.remote is not None:
        raise c.CommandError(f"the session is held by PID {repl.remote.info.pid} ({repl.remote.info.command}); "
                             "stop it with `krakenfix session stop` to manage the session from here")
    if repl.live is None or repl.live.client is None:
        raise c.CommandError("no session yet; `logon` first")
    return repl.live

def seq(repl: Repl, cmd: c.Seq) -> None:
    client = own_session(repl).client
    assert client is not None
    store = client.session.store
    if cmd.which == "out":
        store.set_next_sender_seq(cmd.value)
    elif cmd.which == "in":
        store.set_next_target_seq(cmd.value)
    where = f" (stored under {repl.spec.state_dir})" if repl.spec.state_dir else " (in memory)"
    repl.note(f"next outbound MsgSeqNum(34) {store.next_sender_seq}, next inbound "
              f"{store.next_target_seq}{where}")

async def session_action(repl: Repl, action: str) -> None:
    if action == "logon":
        await repl.logon()
        return
    live = own_session(repl) if repl.remote is not None or repl.live is not None else None
    if live is None or not live.is_logged_on:
        if action == "reconnect":
            await repl.logon()
        else:
            repl.note("not logged on")
        return
    if action == "logout":
        repl.state.status = "logging out"
        await repl.end()
        repl.state.status = "logged out"
        repl.note("logged out; `logon` to log on again")
    elif action == "reconnect" and live.client is not None:
        repl.note("dropping the connection; logging on again without a reset (gaps get filled)")
        live.client.drop()
