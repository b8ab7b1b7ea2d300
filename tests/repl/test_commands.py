"""The REPL grammar: what a typed line means, and the error that says what to type instead."""

from __future__ import annotations

import pytest

from krakenfix_cli.repl import commands as c


def test_short_form_limit_buy_with_post_only() -> None:
    cmd = c.parse("buy 0.01 BTC/USD @ 50000 post-only")
    assert cmd == c.NewOrder("buy", "0.01", "BTC/USD", "limit", "50000", None, "gtc", True, False, None)


def test_short_form_market_ioc_sell() -> None:
    cmd = c.parse("sell 1 ETH/USD market ioc")
    assert isinstance(cmd, c.NewOrder)
    assert (cmd.side, cmd.qty, cmd.symbol, cmd.ord_type, cmd.price, cmd.tif) == ("sell", "1", "ETH/USD", "market",
                                                                              None, "ioc")


def test_short_form_without_price_is_market() -> None:
    cmd = c.parse("buy 2 btc/usd")
    assert isinstance(cmd, c.NewOrder) and cmd.ord_type == "market" and cmd.symbol == "BTC/USD"


def test_short_form_glued_at_price() -> None:
    cmd = c.parse("sell 0.5 BTC/USD @51000.5")
    assert isinstance(cmd, c.NewOrder) and cmd.price == "51000.5"


def test_short_form_stop_makes_a_stop_loss() -> None:
    cmd = c.parse("sell 1 BTC/USD stop 40000")
    assert isinstance(cmd, c.NewOrder) and (cmd.ord_type, cmd.stop_px) == ("stop-loss", "40000")


def test_long_form_means_the_same_as_short_form() -> None:
    long = c.parse("order --side buy --qty 0.01 --symbol BTC/USD --price 50000 --post-only")
    assert long == c.parse("buy 0.01 BTC/USD @ 50000 post-only")


def test_long_form_accepts_option_equals_value() -> None:
    cmd = c.parse("order --side=sell --qty=3 --symbol=ETH/USD --type market --tif ioc")
    assert isinstance(cmd, c.NewOrder) and (cmd.side, cmd.ord_type, cmd.tif) == ("sell", "market", "ioc")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("buy", "usage: buy QTY SYMBOL"),
        ("buy abc BTC/USD", "quantity must be a plain decimal"),
        ("buy 1 BTC/USD @", "a price must follow"),
        ("buy 1 BTC/USD banana", "unexpected 'banana'"),
        ("order --side buy --qty 1", "missing --symbol"),
        ("order --colour red", "unknown option"),
        ("frobnicate", "unknown command 'frobnicate'; `help` lists"),
        ("cancel", "usage: cancel REF"),
        ("replay x", "usage: replay FROM"),
        ("seq in 0", "usage: seq"),
        ("mass-cancel", "usage: mass-cancel"),
        ("output fancy", "usage: output"),
        ("amend 1", "amend what?"),
        ("raw 11=1", "needs MsgType(35)"),
        ("raw 35=D|nosuchtag=1", "unknown tag 'nosuchtag'"),
    ],
)
def test_bad_lines_say_what_to_type(line: str, words: str) -> None:
    with pytest.raises(c.CommandError, match=words.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        c.parse(line)


def test_cancel_and_status_take_a_reference() -> None:
    assert c.parse("cancel #2") == c.Cancel("#2")
    assert c.parse("status 1688738168") == c.Status("1688738168")


def test_amend_qty_and_price() -> None:
    assert c.parse("amend #1 qty 0.2 price 49000") == c.Amend("#1", "0.2", "49000")
    assert c.parse("amend 1 @ 48000") == c.Amend("1", None, "48000")


def test_mass_cancel_scopes() -> None:
    assert c.parse("mass-cancel symbol BTC/USD") == c.MassCancel("symbol", "BTC/USD", False)
    assert c.parse("mass-cancel session --yes") == c.MassCancel("session", None, True)
    assert c.parse("mass-cancel all") == c.MassCancel("all", None, False)
    assert c.parse("mass-cancel BTC/USD") == c.MassCancel("symbol", "BTC/USD", False)


def test_raw_fills_no_header_and_takes_names() -> None:
    cmd = c.parse("raw 8=FIX.4.4|35=H|34=99|ClOrdID=1|Symbol=BTC/USD|37=OX")
    assert cmd == c.Raw(((35, "H"), (11, "1"), (55, "BTC/USD"), (37, "OX")))


def test_raw_accepts_soh_caret_a_and_spaces() -> None:
    assert c.split_raw("35=0\x01112=a^A58=b c=d") == ["35=0", "112=a", "58=b", "c=d"]


def test_raw_puts_msgtype_first() -> None:
    cmd = c.parse("raw 11=5 35=F")
    assert isinstance(cmd, c.Raw) and cmd.fields[0] == (35, "F")


def test_session_seq_filter_output_help_quit() -> None:
    assert c.parse("logon") == c.SessionAction("logon")
    assert c.parse("reconnect") == c.SessionAction("reconnect")
    assert c.parse("seq") == c.Seq()
    assert c.parse("seq out 40") == c.Seq("out", 40)
    assert c.parse("filter type 8,j") == c.Filter("type", ("8", "j"))
    assert c.parse("filter") == c.Filter("show")
    assert c.parse("output compact") == c.Output("compact")
    assert c.parse("help cancel") == c.Help("cancel")
    assert c.parse("exit") == c.Quit()
    assert c.parse("   ") == c.Empty()
    assert c.parse("replay 10 20") == c.Replay(10, 20)
    assert c.parse("orders open") == c.Orders(open_only=True)


def test_help_lists_every_verb() -> None:
    text = c.help_text()
    for v in c.VERBS:
        assert f"  {v.name} " in text
    assert c.help_text("cancel").startswith("cancel REF")


def test_until_makes_a_good_till_date_order_and_start_an_effective_time() -> None:
    cmd = c.parse("buy 0.01 BTC/USD @ 50000 until +2h")
    assert isinstance(cmd, c.NewOrder) and (cmd.tif, cmd.expire, cmd.start) == ("gtd", "+2h", None)
    cmd = c.parse("sell 1 ETH/USD @ 3000 start 20261125-18:00:00 ioc")
    assert isinstance(cmd, c.NewOrder) and (cmd.tif, cmd.start) == ("ioc", "20261125-18:00:00")
    long = c.parse("order --side buy --qty 0.01 --symbol BTC/USD --price 50000 --expire-time +2h")
    assert long == c.parse("buy 0.01 BTC/USD @ 50000 until +2h")
    with pytest.raises(c.CommandError, match="a time must follow `until`"):
        c.parse("buy 0.01 BTC/USD @ 50000 until")


def test_filter_where_takes_the_log_grep_language_whole() -> None:
    assert c.parse("filter where ExecType in (Trade, Canceled) and Symbol ~ ^BTC") == c.Filter(
        "where", ("ExecType in (Trade, Canceled) and Symbol ~ ^BTC",))
    with pytest.raises(c.CommandError, match="needs an expression"):
        c.parse("filter where   ")


def test_a_where_filter_shows_only_what_the_expression_accepts() -> None:
    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.ops.logq.expr import compile_expr
    from krakenfix_cli.repl.state import MessageFilter

    f = MessageFilter(where=compile_expr("ExecType = Trade and Symbol ~ ^BTC"), where_text="...")
    trade = Message.new("8", (150, "F"), (55, "BTC/USD"))
    assert f.accepts(trade)
    assert not f.accepts(Message.new("8", (150, "0"), (55, "BTC/USD")))
    assert not f.accepts(Message.new("8", (150, "F"), (55, "ETH/USD")))
    assert "where ..." in f.describe()
