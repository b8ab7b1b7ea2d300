"""REPL verbs: the grammar (line → command object) and the help, with no I/O.

``parse(line)`` is pure: it turns what the user typed into one of the frozen command
dataclasses below, or raises :class:`CommandError` with a line saying what to type
instead. The app (``repl/app.py``) runs a command by calling the same builders and ops
the subcommands use; nothing here builds a FIX message.

Order entry has two spellings that mean the same thing::

    buy 0.01 BTC/USD @ 50000 post-only        # short form
    order --side buy --qty 0.01 --symbol BTC/USD --price 50000 --post-only
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from krakenfix_cli.fix.errors import FixError
from krakenfix_cli.fix.values import parse_amount
from krakenfix_cli.repl.state import OUTPUT_MODES


class CommandError(ValueError):
    """The line is not a command we understand; the text says what to type."""


@dataclass(frozen=True)
class NewOrder:
    """NewOrderSingle(D) from ``buy``/``sell``/``order``."""

    side: str
    qty: str
    symbol: str
    ord_type: str = "limit"
    price: str | None = None
    stop_px: str | None = None
    tif: str = "gtc"
    post_only: bool = False
    reduce_only: bool = False
    clordid: str | None = None
    expire: str | None = None
    "ExpireTime(126) as typed (``+2h``, a timestamp): read when the order is sent."
    start: str | None = None
    "EffectiveTime(168) as typed: the order waits, Pending New, until then."


@dataclass(frozen=True)
class Amend:
    """OrderCancelReplaceRequest(G) for an order of this session."""

    ref: str
    qty: str | None = None
    price: str | None = None


@dataclass(frozen=True)
class Cancel:
    """OrderCancelRequest(F) by short index, ClOrdID or OrderID."""

    ref: str


@dataclass(frozen=True)
class MassCancel:
    """OrderMassCancelRequest(q): ``symbol`` (530=1), ``session`` (530=6) or ``all`` (530=7)."""

    scope: str
    symbol: str | None = None
    yes: bool = False


@dataclass(frozen=True)
class Status:
    """OrderStatusRequest(H) for one order."""

    ref: str


@dataclass(frozen=True)
class Orders:
    """Show this session's orders."""

    open_only: bool = False


@dataclass(frozen=True)
class Raw:
    """Any message from ``tag=value`` pairs; the engine fills in the header."""

    fields: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Replay:
    """ResendRequest(2) from ``begin`` to ``end`` (0: through the latest)."""

    begin: int
    end: int = 0


@dataclass(frozen=True)
class SessionAction:
    """``logon``, ``logout`` or ``reconnect``."""

    action: str


@dataclass(frozen=True)
class Seq:
    """Show (``which`` empty) or set a sequence number: ``seq in 12``, ``seq out 40``."""

    which: str = ""
    value: int = 0


@dataclass(frozen=True)
class Filter:
    """Change which inbound messages are printed."""

    action: str
    "``show``, ``all``, ``app``, ``none``, ``type``, ``symbol``, ``where`` (a ``log grep`` expression), ``clear``."
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """Switch the output mode (pretty, compact, raw, json); empty shows it."""

    mode: str = ""


@dataclass(frozen=True)
class Help:
    """The help screen, or one command's help, or ``keys``."""

    topic: str = ""


@dataclass(frozen=True)
class Quit:
    """Log out and leave."""


@dataclass(frozen=True)
class Empty:
    """A blank line."""


Command = (
    NewOrder | Amend | Cancel | MassCancel | Status | Orders | Raw | Replay | SessionAction | Seq | Filter | Output
    | Help | Quit | Empty
)


@dataclass(frozen=True)
class Verb:
    """One REPL verb: its usage line and a one-line summary (help and completion meta)."""

    name: str
    usage: str
    summary: str
    aliases: tuple[str, ...] = field(default=())


VERBS: tuple[Verb, ...] = (
    Verb("buy", "buy QTY SYMBOL [@ PRICE | market] [post-only] [ioc|fok|gtc] [reduce-only] [stop PX] "
                "[until WHEN] [start WHEN]", "new buy order (NewOrderSingle D), short form"),
    Verb("sell", "sell QTY SYMBOL [@ PRICE | market] [post-only] [ioc|fok|gtc] [reduce-only] [stop PX] "
                 "[until WHEN] [start WHEN]", "new sell order (NewOrderSingle D), short form"),
    Verb("order", "order --side buy|sell --qty Q --symbol S [--price P] [--type T] [--tif T] [--post-only] "
                  "[--reduce-only] [--stop-price P] [--clordid ID] [--expire-time WHEN] [--effective-time WHEN]",
         "new order, long option form; WHEN is +30s, +15m, +2h, +1d or a UTC time"),
    Verb("amend", "amend REF [qty Q] [price P]", "change qty/price of an order (OrderCancelReplaceRequest G)"),
    Verb("cancel", "cancel REF", "cancel an order of this session by #index, ClOrdID or OrderID (F)"),
    Verb("mass-cancel", "mass-cancel symbol SYMBOL | session | all [--yes]",
         "cancel many orders (OrderMassCancelRequest q), after a confirmation"),
    Verb("status", "status REF", "ask for an order's state (OrderStatusRequest H)"),
    Verb("orders", "orders [open]", "this session's orders and their states"),
    Verb("raw", "raw 35=D|11=...|55=BTC/USD ...", "send any message from tag=value pairs (header filled in)"),
    Verb("replay", "replay FROM [TO]", "ask the gateway to resend from a sequence number (ResendRequest 2)"),
    Verb("logon", "logon", "connect and log on (again)"),
    Verb("logout", "logout", "log out, stay in the REPL"),
    Verb("reconnect", "reconnect", "drop the connection and log on again (gap fill)"),
    Verb("seq", "seq [in N | out N]", "show or set the next sequence numbers (persisted)"),
    Verb("filter", "filter [all | app | none | type 8,j | symbol BTC/USD | where EXPR | clear]",
         "which inbound messages are printed"),
    Verb("output", "output [pretty | compact | raw | json]", "how messages are printed"),
    Verb("help", "help [COMMAND | keys]", "this screen, one command, or the key bindings"),
    Verb("quit", "quit", "log out and leave (also exit, Ctrl-D)", aliases=("exit",)),
)  # fmt: skip

VERB_NAMES: tuple[str, ...] = tuple(v.name for v in VERBS)
_BY_NAME: dict[str, Verb] = {n: v for v in VERBS for n in (v.name, *v.aliases)}
SHORT_KEYWORDS = ("@", "market", "limit", "post-only", "reduce-only", "ioc", "fok", "gtc", "stop", "clordid",
                  "until", "start")  # fmt: skip
ORDER_OPTIONS = ("--side", "--qty", "--symbol", "--price", "--type", "--tif", "--post-only", "--reduce-only",
                 "--stop-price", "--clordid", "--expire-time", "--effective-time")  # fmt: skip
FLAG_OPTIONS = frozenset({"--post-only", "--reduce-only"})
ORDER_TYPES = ("limit", "market", "stop-loss", "stop-loss-limit", "take-profit", "take-profit-limit",
               "trailing-stop", "trailing-stop-limit")  # fmt: skip
TIFS = ("gtc", "ioc", "fok", "gtd")
MASS_SCOPES = ("symbol", "session", "all")
FILTER_ACTIONS = ("show", "all", "app", "none", "type", "symbol", "where", "clear")
SEQ_WHICH = ("in", "out")


def verb(name: str) -> Verb | None:
    """The verb called ``name`` (or one of its aliases)."""
    return _BY_NAME.get(name.lower())


def help_text(topic: str = "") -> str:
    """The help screen (every verb and its usage), or one verb's usage."""
    if topic:
        v = verb(topic)
        if v is None:
            raise CommandError(f"no command {topic!r}; `help` lists them")
        return f"{v.usage}\n  {v.summary}"
    width = max(len(v.name) for v in VERBS)
    lines = ["Commands (Tab completes; REF is #index, ClOrdID or OrderID from `orders`):"]
    lines += [f"  {v.name:<{width}}  {v.summary}" for v in VERBS]
    lines.append("`help COMMAND` shows its usage; `help keys` lists the key bindings.")
    return "\n".join(lines)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot split the line: {exc}") from None


def _number(word: str, what: str) -> str:
    try:
        value = parse_amount(word)
    except FixError:
        raise CommandError(f"{what} must be a plain decimal like 0.01, got {word!r}") from None
    if value <= 0:
        raise CommandError(f"{what} must be positive, got {word!r}")
    return word


def parse(line: str) -> Command:
    """One REPL line → a command (raises :class:`CommandError` with what to type)."""
    text = line.strip()
    if not text:
        return Empty()
    head, _, rest = text.partition(" ")
    name = head.lower()
    rest = rest.strip()
    if name in ("buy", "sell"):
        return _parse_short_order(name, _words(rest))
    if name == "order":
        return _parse_long_order(_words(rest))
    if name == "raw":
        return Raw(parse_raw_fields(rest))
    v = verb(name)
    if v is None:
        raise CommandError(f"unknown command {head!r}; `help` lists the commands")
    words = _words(rest)
    if v.name == "amend":
        return _parse_amend(words)
    if v.name in ("cancel", "status"):
        if len(words) != 1:
            raise CommandError(f"usage: {v.usage}")
        return Cancel(words[0]) if v.name == "cancel" else Status(words[0])
    if v.name == "mass-cancel":
        return _parse_mass_cancel(words)
    if v.name == "orders":
        if words not in ([], ["open"], ["all"]):
            raise CommandError(f"usage: {v.usage}")
        return Orders(open_only=words == ["open"])
    if v.name == "replay":
        return _parse_replay(words)
    if v.name in ("logon", "logout", "reconnect"):
        if words:
            raise CommandError(f"`{v.name}` takes no arguments")
        return SessionAction(v.name)
    if v.name == "seq":
        return _parse_seq(words)
    if v.name == "filter":
        if words and words[0].lower() == "where":  # the rest is one `log grep` expression, as typed
            expr = rest[len(rest.split(None, 1)[0]):].strip()
            if not expr:
                raise CommandError("filter where needs an expression, e.g. `filter where 35=8 and Symbol ~ ^BTC`")
            return Filter("where", (expr,))
        return _parse_filter(words)
    if v.name == "output":
        if not words:
            return Output()
        if len(words) != 1 or words[0].lower() not in OUTPUT_MODES:
            raise CommandError(f"usage: {v.usage}")
        return Output(words[0].lower())
    if v.name == "help":
        return Help(words[0].lower() if words else "")
    return Quit()


def _parse_short_order(side: str, words: list[str]) -> NewOrder:
    if len(words) < 2:
        raise CommandError(f"usage: {_BY_NAME[side].usage}")
    qty = _number(words[0], "quantity")
    symbol = words[1].upper() if "/" in words[1] else words[1]
    if symbol.startswith(("@", "-")):
        raise CommandError(f"expected a symbol after the quantity, got {words[1]!r}")
    price: str | None = None
    stop: str | None = None
    clordid: str | None = None
    ord_type: str | None = None
    tif: str | None = None
    expire: str | None = None
    start: str | None = None
    post_only = reduce_only = False
    i = 2
    while i < len(words):
        w = words[i].lower()
        if w == "@" or (w.startswith("@") and len(w) > 1):
            if w == "@":
                i += 1
                if i >= len(words):
                    raise CommandError("a price must follow `@`")
                price = _number(words[i], "price")
            else:
                price = _number(w[1:], "price")
        elif w in ("market", "limit", *ORDER_TYPES):
            ord_type = w
        elif w in TIFS:
            tif = w
        elif w in ("post-only", "post"):
            post_only = True
        elif w in ("reduce-only", "reduce"):
            reduce_only = True
        elif w in ("stop", "trigger"):
            i += 1
            if i >= len(words):
                raise CommandError("a trigger price must follow `stop`")
            stop = _number(words[i], "trigger price")
        elif w == "clordid":
            i += 1
            if i >= len(words):
                raise CommandError("a ClOrdID must follow `clordid`")
            clordid = words[i]
        elif w in ("until", "start"):
            i += 1
            if i >= len(words):
                raise CommandError(f"a time must follow `{w}` (+30s, +15m, +2h, +1d or a UTC time)")
            if w == "until":
                expire = words[i]
            else:
                start = words[i]
        else:
            raise CommandError(
                f"unexpected {words[i]!r}; after QTY SYMBOL come: @ PRICE, market, post-only, ioc, fok, "
                "reduce-only, stop PX, clordid ID, until WHEN, start WHEN"
            )
        i += 1
    if tif is None:
        tif = "gtd" if expire is not None else "gtc"  # `until` is good-till-date
    if ord_type is None:
        ord_type = "limit" if price is not None else "market"
        if stop is not None:
            ord_type = "stop-loss-limit" if price is not None else "stop-loss"
    return NewOrder(side, qty, symbol, ord_type, price, stop, tif, post_only, reduce_only, clordid, expire, start)


def _parse_long_order(words: list[str]) -> NewOrder:
    opts: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(words):
        w = words[i]
        name, eq, value = w.partition("=")
        if name not in ORDER_OPTIONS:
            raise CommandError(f"unknown option {w!r}; options: {' '.join(ORDER_OPTIONS)}")
        if name in FLAG_OPTIONS:
            flags.add(name)
        elif eq:
            opts[name] = value
        else:
            i += 1
            if i >= len(words):
                raise CommandError(f"{name} needs a value")
            opts[name] = words[i]
        i += 1
    missing = [o for o in ("--side", "--qty", "--symbol") if o not in opts]
    if missing:
        raise CommandError(f"missing {' '.join(missing)}; usage: {_BY_NAME['order'].usage}")
    side = opts["--side"].lower()
    if side not in ("buy", "sell", "1", "2", "b", "s"):
        raise CommandError(f"--side is buy or sell, got {opts['--side']!r}")
    side = {"1": "buy", "b": "buy", "2": "sell", "s": "sell"}.get(side, side)
    price = _number(opts["--price"], "price") if "--price" in opts else None
    stop = _number(opts["--stop-price"], "trigger price") if "--stop-price" in opts else None
    ord_type = opts.get("--type", "").lower() or ("limit" if price is not None else "market")
    return NewOrder(
        side=side,
        qty=_number(opts["--qty"], "quantity"),
        symbol=opts["--symbol"],
        ord_type=ord_type,
        price=price,
        stop_px=stop,
        tif=opts.get("--tif", "gtd" if "--expire-time" in opts else "gtc").lower(),
        post_only="--post-only" in flags,
        reduce_only="--reduce-only" in flags,
        clordid=opts.get("--clordid"),
        expire=opts.get("--expire-time"),
        start=opts.get("--effective-time"),
    )


def _parse_amend(words: list[str]) -> Amend:
    if not words:
        raise CommandError(f"usage: {_BY_NAME['amend'].usage}")
    ref, rest = words[0], words[1:]
    qty = price = None
    i = 0
    while i < len(rest):
        w = rest[i].lower().lstrip("-")
        if w == "@":
            w = "price"
        if w not in ("qty", "price") or i + 1 >= len(rest):
            raise CommandError(f"usage: {_BY_NAME['amend'].usage}")
        if w == "qty":
            qty = _number(rest[i + 1], "quantity")
        else:
            price = _number(rest[i + 1], "price")
        i += 2
    if qty is None and price is None:
        raise CommandError("amend what? give `qty Q` and/or `price P`")
    return Amend(ref, qty, price)


def _parse_mass_cancel(words: list[str]) -> MassCancel:
    yes = any(w in ("--yes", "-y") for w in words)
    words = [w for w in words if w not in ("--yes", "-y")]
    usage = f"usage: {_BY_NAME['mass-cancel'].usage}"
    if not words:
        raise CommandError(usage)
    scope = words[0].lower()
    if scope == "--symbol":
        scope = "symbol"
    if scope == "symbol":
        if len(words) != 2:
            raise CommandError("mass-cancel symbol needs one SYMBOL (530=1)")
        return MassCancel("symbol", words[1], yes)
    if scope in ("session", "all") and len(words) == 1:
        return MassCancel(scope, None, yes)
    if len(words) == 1 and scope not in MASS_SCOPES and ("/" in scope or "_" in scope):
        return MassCancel("symbol", words[0], yes)
    raise CommandError(usage)


def _parse_replay(words: list[str]) -> Replay:
    words = [w for w in words if w not in ("--from", "--to")]
    if not 1 <= len(words) <= 2 or not all(w.isdigit() for w in words):
        raise CommandError(f"usage: {_BY_NAME['replay'].usage}")
    begin = int(words[0])
    end = int(words[1]) if len(words) == 2 else 0
    if begin < 1 or (end and end < begin):
        raise CommandError("replay needs FROM >= 1 and TO >= FROM (or no TO)")
    return Replay(begin, end)


def _parse_seq(words: list[str]) -> Seq:
    if not words:
        return Seq()
    if len(words) == 2 and words[0].lower() in SEQ_WHICH and words[1].isdigit() and int(words[1]) >= 1:
        return Seq(words[0].lower(), int(words[1]))
    raise CommandError(f"usage: {_BY_NAME['seq'].usage} (N >= 1)")


def _parse_filter(words: list[str]) -> Filter:
    if not words:
        return Filter("show")
    action = words[0].lower()
    if action not in FILTER_ACTIONS:
        raise CommandError(f"usage: {_BY_NAME['filter'].usage}")
    values = tuple(v for w in words[1:] for v in w.split(",") if v)
    if action in ("type", "symbol") and not values:
        raise CommandError(f"filter {action} needs at least one value")
    if action not in ("type", "symbol") and values:
        raise CommandError(f"filter {action} takes no values")
    return Filter(action, values)


_SEPARATORS = ("|", "\x01", "^A")


def split_raw(text: str) -> list[str]:
    """``35=D|11=1 55=BTC/USD`` → ``["35=D", "11=1", "55=BTC/USD"]`` (``|``, SOH, ``^A`` or spaces)."""
    for sep in _SEPARATORS[1:]:
        text = text.replace(sep, "|")
    out: list[str] = []
    for chunk in text.split("|"):
        out += chunk.split()
    return out


def parse_raw_fields(text: str, tag_for: object = None) -> tuple[tuple[int, str], ...]:
    """``tag=value`` pairs (tags by number or FIX name) → fields, header tags dropped.

    The engine owns BeginString(8), BodyLength(9), MsgSeqNum(34), SenderCompID(49),
    SendingTime(52), TargetCompID(56) and CheckSum(10); giving them is not an error,
    they are replaced.
    """
    from krakenfix_cli.render import default_dictionary

    lookup = tag_for if callable(tag_for) else default_dictionary().tag_for
    fields: list[tuple[int, str]] = []
    for item in split_raw(text):
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise CommandError(f"{item!r} is not tag=value")
        tag = lookup(name)
        if tag is None or tag <= 0:
            raise CommandError(f"unknown tag {name!r}; give a number or a FIX field name")
        if tag in _ENGINE_TAGS:
            continue
        fields.append((int(tag), value))
    if not fields or fields[0][0] != 35:
        msg_type = [v for t, v in fields if t == 35]
        if not msg_type:
            raise CommandError("a raw message needs MsgType(35), e.g. `raw 35=H|11=...`")
        fields = [(35, msg_type[0])] + [(t, v) for t, v in fields if t != 35]
    return tuple(fields)


_ENGINE_TAGS = frozenset({8, 9, 10, 34, 49, 52, 56})
