"""json: one JSON object per message per line, for jq.

    {"time": "...", "direction": "in", "msg_type": "8", "msg_name": "ExecutionReport",
     "seq": 12, "kind": "fill", "fields": [{"tag": 35, "name": "MsgType", "value": "8",
     "enum": "ExecutionReport"}, {"tag": 453, "name": "NoPartyIDs", "value": "1",
     "entries": [[{...}, ...]]}, ...]}

``fields`` keeps wire order; a repeating group is one object whose ``entries`` holds a
list of fields per entry. ``enum`` appears only when the dictionary names the value.
Secrets are ``"***"``.
"""

from __future__ import annotations

import json
from typing import Any

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.redact import redact_fields
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.render.theme import classify


def _field(tag: int, value: str, d: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"tag": tag, "name": d.field_name(tag), "value": value}
    meaning = d.enum_meaning(tag, value)
    if meaning:
        out["enum"] = meaning
    return out


def _nodes(nodes: list[Any], d: Any) -> list[dict[str, Any]]:
    from krakenfix_cli.fix.groups import GroupNode

    out: list[dict[str, Any]] = []
    for node in nodes:
        if isinstance(node, GroupNode):
            count = getattr(node, "value", None) or str(len(node.entries))
            item = _field(node.count_tag, str(count), d)
            item["entries"] = [_nodes(list(entry), d) for entry in node.entries]
            out.append(item)
        else:
            out.append(_field(node.tag, node.value, d))
    return out


def message_object(msg: Message, d: Any, direction: str | None = None,
                   when: float | None = None) -> dict[str, Any]:
    """The JSON-ready dict for ``msg`` (secrets already masked)."""
    from krakenfix_cli.fix.groups import group_tree

    safe = Message(redact_fields(msg.fields))
    obj: dict[str, Any] = {}
    if when is not None:
        obj["time"] = format_utc_timestamp(when)
    if direction is not None:
        obj["direction"] = direction
    obj["msg_type"] = safe.msg_type
    obj["msg_name"] = d.msg_name(safe.msg_type)
    seq = safe.get_int(34)
    if seq is not None:
        obj["seq"] = seq
    obj["kind"] = classify(safe).value
    try:
        tree = group_tree(safe, d)
    except Exception:  # a malformed group must not hide the message: fall back to flat fields
        obj["fields"] = [_field(t, v, d) for t, v in safe.fields]
    else:
        obj["fields"] = _nodes(list(tree), d)
    return obj


def render_json(msg: Message, d: Any, direction: str | None = None, when: float | None = None) -> str:
    """One line of JSON for ``msg``."""
    return json.dumps(message_object(msg, d, direction, when), ensure_ascii=False, separators=(",", ":"))
