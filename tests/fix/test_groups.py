"""group_tree(): QuickFIX's entry rules, nesting, and a lossless round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenfix_cli.fix.dictionary import fix44
from krakenfix_cli.fix.groups import FieldNode, GroupNode, find_groups, flatten, group_tree, tree_items
from krakenfix_cli.fix.message import Message, parse_fields


def msg(text: str) -> Message:
    return Message(parse_fields(text.replace("|", "\x01")))


def test_market_data_request_groups_end_at_the_first_non_member() -> None:
    # Kraken's V puts the NoRelatedSym group first (SPEC §7.1)
    m = msg("35=V|146=1|55=BTC/USD|262=1|263=1|264=0|265=1|267=3|269=0|269=1|269=2|")
    tree = group_tree(m, fix44())
    assert tree == [
        FieldNode(35, "V"),
        GroupNode(146, [[FieldNode(55, "BTC/USD")]], "1"),
        FieldNode(262, "1"),
        FieldNode(263, "1"),
        FieldNode(264, "0"),
        FieldNode(265, "1"),
        GroupNode(267, [[FieldNode(269, "0")], [FieldNode(269, "1")], [FieldNode(269, "2")]], "3"),
    ]


def test_member_order_inside_an_entry_does_not_matter() -> None:
    # X entries start with the delimiter 279; Kraken's member order is not FIX's
    m = msg("35=X|55=PF_ETHUSD|262=1|268=2|279=0|271=0.084|269=0|270=2372.7|279=2|269=1|270=1|271=0|5041=1|")
    (group,) = find_groups(group_tree(m, fix44()), 268)
    assert [[n.tag for n in e if isinstance(n, FieldNode)] for e in group.entries] == [
        [279, 271, 269, 270],
        [279, 269, 270, 271],
    ]


def test_repeated_member_starts_a_new_entry_even_without_the_delimiter() -> None:
    # QuickFIX setGroup: a member already in the current entry opens the next one
    m = msg("35=D|453=2|447=D|452=1|447=C|11=X|")
    (group,) = find_groups(group_tree(m, fix44()), 453)
    assert len(group.entries) == 2
    assert group.entries[1] == [FieldNode(447, "C")]
    assert group_tree(m, fix44())[-1] == FieldNode(11, "X")


def test_count_value_is_kept_even_when_wrong() -> None:
    m = msg("35=D|386=3|336=PRE-OPEN|336=AFTER-HOURS|60=20240101-00:00:00|")
    (group,) = find_groups(group_tree(m, fix44()), 386)
    assert group.value == "3" and len(group.entries) == 2


def test_nested_groups_are_nested() -> None:
    m = msg("35=D|453=2|448=A|802=2|523=S1|803=1|523=S2|448=B|11=X|")
    tree = group_tree(m, fix44())
    (parties,) = find_groups(tree, 453)
    assert [e[0] for e in parties.entries] == [FieldNode(448, "A"), FieldNode(448, "B")]
    (subs,) = find_groups(tree, 802)
    assert subs.entries == [[FieldNode(523, "S1"), FieldNode(803, "1")], [FieldNode(523, "S2")]]


def test_header_group_uses_the_header_layout() -> None:
    m = msg("8=FIX.4.4|9=1|35=0|34=2|627=1|628=HOP|629=20240101-00:00:00|49=A|10=000|")
    items = tree_items(m.fields, fix44())
    assert (627, "1", [[(628, "HOP"), (629, "20240101-00:00:00")]]) in items


def test_unknown_message_type_is_flat() -> None:
    m = msg("35=ZZ|146=1|55=X|")
    assert all(isinstance(n, FieldNode) for n in group_tree(m, fix44()))


def test_count_tag_of_another_message_is_a_plain_field() -> None:
    m = msg("35=0|146=1|55=X|")
    assert group_tree(m, fix44()) == [FieldNode(35, "0"), FieldNode(146, "1"), FieldNode(55, "X")]


def test_group_node_defaults_its_value_to_the_entry_count() -> None:
    assert GroupNode(146, [[FieldNode(55, "X")]]).value == "1"


_TAGS = [35, 11, 55, 146, 267, 268, 269, 270, 279, 453, 448, 447, 802, 523, 386, 336, 78, 79, 454, 455, 999]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["D", "V", "W", "X", "8", "y", "0"]),
    st.lists(st.tuples(st.sampled_from(_TAGS), st.sampled_from(["0", "1", "2", "X", ""])), max_size=30),
)
def test_flatten_inverts_group_tree(msg_type: str, fields: list[tuple[int, str]]) -> None:
    m = Message([(35, msg_type), *fields])
    tree = group_tree(m, fix44())
    assert flatten(tree) == list(m.fields)
    for node in tree:
        if isinstance(node, GroupNode):
            for entry in node.entries:
                assert entry, "entries are never empty"
