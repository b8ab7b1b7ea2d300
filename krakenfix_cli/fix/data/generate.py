"""Convert QuickFIX's ``FIX44.xml`` into the compact ``fix44.json`` the dictionary loads.

Run ``python -m krakenfix_cli.fix.data.generate [--xml PATH] [--check]``. Parsing the XML
at start-up would cost ~60 ms (ElementTree over 6,600 lines plus component expansion);
the JSON is pre-expanded so loading it is one ``json.loads``.

The expansion copies QuickFIX's ``DataDictionary::readFromURL`` rules, so that a message
is valid for us exactly when it is valid for QuickFIX with this file:

- a component's fields (and group count tags) belong to the message or group it is used
  in; a field is required only when it is required *and* its component is required;
- a nested component decides its own required-ness (it is not ANDed with its parent);
- a group's members are its fields, its components' fields and its nested groups' count
  tags; a member is required only when the group itself is required; fields of a
  component used inside a group are never required;
- a group's delimiter is its first field (for a leading component: that component's first
  direct field).

Output layout (all tags as decimal strings, required flags as 0/1)::

    fields:   {tag: [name, TYPE] | [name, TYPE, {enum: meaning}]}
    groups:   [[count_tag, delimiter, [members], [required members], {nested count: group index}]]
    header / trailer / messages[msg_type]:
              [name, admin(0/1), {tag: required}, {count_tag: group index}]

Enum meanings are QuickFIX's descriptions in title case ("PARTIALLY_FILLED" → "Partially Filled").
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "fix44.json"
#: Where the shared conformance kit keeps QuickFIX's dictionary, relative to the checkout.
#: The repository's unchanged copy of QuickFIX's spec/FIX44.xml (with its licence), next to the
#: acceptance scenarios that assume it.
DEFAULT_XML = HERE.parents[2] / "tests" / "conformance" / "suite" / "quickfix-fix44" / "FIX44.xml"

ABOUT = (
    "Derived from QuickFIX spec/FIX44.xml (quickfix/quickfix@50787185, The QuickFIX Software "
    "License 1.0, see LICENSE-quickfix) by krakenfix_cli/fix/data/generate.py. This product "
    "includes software developed by quickfixengine.org (http://www.quickfixengine.org/)."
)

_ACRONYMS = frozenset(
    {"ID", "GTC", "IOC", "FOK", "GTD", "GTX", "OTC", "UTC", "ISIN", "CUSIP", "SEDOL", "RIC", "ISO",
     "IPO", "ETF", "VWAP", "OCO", "FX", "CFI", "CP", "CD", "CS", "MBS", "ABS", "TBA", "TBD", "US",
     "UK", "EU", "DTC", "NSCC", "MD", "SOH", "XML", "FIX", "DVP", "RVP", "NDF", "PIN", "ATM", "DK",
     "ECN", "AON", "IOI", "BIC", "DNI", "DNR", "II", "III", "IV", "VI", "VII", "OK", "PUT", "CALL"}
)
_KEEP_WORDS = frozenset({"PUT", "CALL"})


def pretty(description: str) -> str:
    """``GOOD_TILL_CANCEL`` → ``Good Till Cancel``; known acronyms stay upper case."""
    words = [w for w in description.replace("-", "_").split("_") if w]
    out = []
    for w in words:
        up = w.upper()
        if up in _ACRONYMS and up not in _KEEP_WORDS:
            out.append(up)
        elif any(c.islower() for c in w):
            out.append(w[0].upper() + w[1:])
        else:
            out.append(w.capitalize())
    return " ".join(out) if out else description


class _Group:
    """Build-time twin of QuickFIX's per-group DataDictionary."""

    def __init__(self, count_tag: int) -> None:
        self.count_tag = count_tag
        self.delim = 0
        self.members: list[int] = []
        self.required: list[int] = []
        self.groups: dict[int, _Group] = {}

    def add_field(self, tag: int) -> None:
        if tag not in self.members:
            self.members.append(tag)

    def add_required(self, tag: int) -> None:
        if tag not in self.required:
            self.required.append(tag)


class _Msg:
    """Build-time twin of QuickFIX's root DataDictionary for one MsgType."""

    def __init__(self) -> None:
        self.fields: dict[int, bool] = {}
        self.required: list[int] = []
        self.groups: dict[int, _Group] = {}

    def add_field(self, tag: int) -> None:
        self.fields.setdefault(tag, False)

    def add_required(self, tag: int) -> None:
        if tag not in self.required:
            self.required.append(tag)


Container = _Msg | _Group


class Builder:
    """Expand messages the way QuickFIX's DataDictionary reads them."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.numbers: dict[str, int] = {}
        self.fields: dict[int, list[object]] = {}
        for f in root.iterfind("./fields/field"):
            tag = int(f.attrib["number"])
            name = f.attrib["name"]
            self.numbers[name] = tag
            enums = {v.attrib["enum"]: pretty(v.attrib.get("description", "")) for v in f.iterfind("value")}
            self.fields[tag] = [name, f.attrib["type"], enums] if enums else [name, f.attrib["type"]]
        self.components = {c.attrib["name"]: c for c in root.iterfind("./components/component")}
        #: Required tags QuickFIX attaches to the root of a message although they only occur
        #: inside a group (a quirk of addXMLComponentFields); counted for the docs.
        self.quirks: list[tuple[str, int]] = []

    @staticmethod
    def _required(node: ET.Element) -> bool:
        return node.attrib.get("required", "N") in ("Y", "y")

    def message(self, node: ET.Element) -> _Msg:
        msg = _Msg()
        for child in node:
            self._root_child(child, msg)
        return msg

    def _root_child(self, child: ET.Element, msg: _Msg) -> None:
        if child.tag in ("field", "group"):
            tag = self.numbers[child.attrib["name"]]
            msg.add_field(tag)
            if self._required(child):
                msg.add_required(tag)
            if child.tag == "group":
                self._group(child, msg, msg, self._required(child))
        elif child.tag == "component":
            self._component(child, msg, msg, self._required(child))

    def _component(self, node: ET.Element, root: _Msg, dd: Container, comp_required: bool) -> int:
        """QuickFIX addXMLComponentFields: returns the first direct field (0 if none)."""
        first = 0
        for child in self.components[node.attrib["name"]]:
            if child.tag in ("field", "group"):
                tag = self.numbers[child.attrib["name"]]
                if first == 0:
                    first = tag
                if self._required(child) and comp_required:
                    root.add_required(tag)
                    if isinstance(dd, _Group):
                        self.quirks.append((child.attrib["name"], tag))
                dd.add_field(tag)
            if child.tag == "component":
                self._component(child, root, dd, self._required(child))
            if child.tag == "group":
                self._group(child, root, dd, self._required(child))
        return first

    def _group(self, node: ET.Element, root: _Msg, dd: Container, group_required: bool) -> None:
        """QuickFIX addXMLGroup."""
        count = self.numbers[node.attrib["name"]]
        grp = _Group(count)
        for child in node:
            field = 0
            if child.tag == "field":
                field = self.numbers[child.attrib["name"]]
                grp.add_field(field)
                if self._required(child) and group_required:
                    grp.add_required(field)
            elif child.tag == "component":
                field = self._component(child, root, grp, False)
            elif child.tag == "group":
                field = self.numbers[child.attrib["name"]]
                grp.add_field(field)
                if self._required(child) and group_required:
                    grp.add_required(field)
                self._group(child, root, grp, self._required(child))
            if grp.delim == 0:
                grp.delim = field
        if grp.delim:
            dd.groups[count] = grp


def build(xml_path: Path) -> dict[str, object]:
    """The JSON document for ``xml_path``."""
    root = ET.parse(xml_path).getroot()
    b = Builder(root)
    groups: list[list[object]] = []
    index: dict[str, int] = {}

    def group_id(g: _Group) -> int:
        nested = {str(t): group_id(n) for t, n in g.groups.items()}
        item: list[object] = [g.count_tag, g.delim, g.members, sorted(g.required), nested]
        key = json.dumps(item)
        if key not in index:
            index[key] = len(groups)
            groups.append(item)
        return index[key]

    def layout(name: str, admin: bool, msg: _Msg) -> list[object]:
        for tag in msg.required:
            msg.fields[tag] = True
        return [
            name,
            1 if admin else 0,
            {str(t): 1 if r else 0 for t, r in msg.fields.items()},
            {str(t): group_id(g) for t, g in msg.groups.items()},
        ]

    header = b.message(root.find("header"))  # type: ignore[arg-type]
    trailer = b.message(root.find("trailer"))  # type: ignore[arg-type]
    messages: dict[str, object] = {}
    for m in root.iterfind("./messages/message"):
        msg = b.message(m)
        messages[m.attrib["msgtype"]] = layout(m.attrib["name"], m.attrib.get("msgcat") == "admin", msg)
    if b.quirks:
        # Not present in FIX44.xml; if a future file has them, QuickFIX would demand those tags
        # at the top level. We keep them as ordinary (top-level) required fields, as it does.
        print(f"note: {len(b.quirks)} component-in-group required fields: {b.quirks}", file=sys.stderr)
    fix = root.attrib
    return {
        "about": ABOUT,
        "begin_string": f"FIX.{fix['major']}.{fix['minor']}",
        "fields": {str(t): v for t, v in sorted(b.fields.items())},
        "groups": groups,
        "header": layout("StandardHeader", True, header),
        "trailer": layout("StandardTrailer", True, trailer),
        "messages": messages,
    }


def render(doc: dict[str, object]) -> str:
    """Compact but diff-friendly: one top-level entry per line."""
    lines = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(value, dict):
            lines.append(f"{json.dumps(key)}: {{")
            sub = list(value.items())
            for j, (k, v) in enumerate(sub):
                sep = "," if j < len(sub) - 1 else ""
                lines.append(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{sep}")
            lines.append("}" + end)
        elif isinstance(value, list) and key == "groups":
            lines.append(f"{json.dumps(key)}: [")
            for j, v in enumerate(value):
                sep = "," if j < len(value) - 1 else ""
                lines.append(json.dumps(v, separators=(",", ":")) + sep)
            lines.append("]" + end)
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) ``fix44.json``; exit 1 on drift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml", type=Path, default=DEFAULT_XML, help="QuickFIX FIX44.xml")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output is out of date")
    args = parser.parse_args(argv)
    text = render(build(args.xml))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python -m krakenfix_cli.fix.data.generate",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
