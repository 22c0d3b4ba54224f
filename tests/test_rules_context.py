"""The rule Context's memoised lookups and the walks rules share (issue 8): same answers as without them.

A shared walk is built by whichever rule needs it first, so each rule of a pair must report the same
findings whether it runs with its sibling, alone, or after it.
"""

from __future__ import annotations

import dataclasses
import gc

import pytest
from test_analysis_fixtures import LMA, MAG1, MAG2, Lab, scenario
from test_rules_checks import NAI, PROFILE, VIOLATIONS, of, run

from pmipct_check.analysis import analyze
from pmipct_check.analysis.cases import load_cases
from pmipct_check.analysis.evidence import CXTP_TRANSFER, node_of, prev_addr, same_node
from pmipct_check.profile import parse_profile
from pmipct_check.rules.checks import CHECKS
from pmipct_check.rules.context import Context, layout_of
from pmipct_check.rules.engine import _inputs, load_rules

#: Rules whose checks read one per-Context walk (rules/checks/pmip.py) and the sibling that may build it first.
SHARED = {
    "PMIP-P14": "PMIP-P15", "PMIP-P15": "PMIP-P14", "PMIP-P16": "PMIP-P17", "PMIP-P17": "PMIP-P16",
    "PMIP-P18": "PMIP-P16", "PMIP-P9": "PMIP-P14", "PMIP-P10": "PMIP-P18", "PMIP-P11": "PMIP-P12",
    "PMIP-P12": "PMIP-P13", "PMIP-P13": "PMIP-P20", "PMIP-P20": "PMIP-P12", "PMIP-P8": "PMIP-P11",
    "DRAFT-D10": "PMIP-P3", "PMIP-P4": "DRAFT-D10",
    # the exchange walk's distinct flags, options and statuses, and the de-registrations DRAFT-D12 looks up
    "PMIP-P2": "PMIP-P6", "PMIP-P6": "PMIP-P2", "PMIP-P7": "PMIP-P22", "PMIP-P22": "PMIP-P7", "DRAFT-D12": "PMIP-P14",
}


def context(messages, profile=PROFILE) -> Context:
    return Context(analyze(messages, profile), (), profile, load_cases(), load_rules())


@pytest.mark.parametrize("rule_id", sorted(SHARED))
def test_a_rule_reading_a_shared_walk_finds_the_same_alone_or_with_others(rule_id: str) -> None:
    messages, notices, _ = VIOLATIONS[rule_id][0]()
    everything = of(run(messages, notices), rule_id)
    assert everything  # the violation is there to be found
    assert of(run(messages, notices, select=(rule_id,)), rule_id) == everything
    assert of(run(messages, notices, select=(SHARED[rule_id], rule_id)), rule_id) == everything


def test_reregistration_omitting_an_assigned_prefix_names_it() -> None:
    """PMIP-P14 compares prefixes as networks; the finding still shows them as text, sorted."""
    lab = Lab()
    pbu = lab.pbu(MAG1, NAI, 7, hi=1, prefix=None, extra=[
        {"type": 22, "name": "Home Network Prefix", "key": "hnp", "length": 18, "prefix_len": 64, "prefix": p}
        for p in ("2001:db8:2::", "2001:db8:1::")])
    lab.wait(5)
    lab.pba(pbu)
    lab.wait(500)
    again, _ = lab.register(MAG1, NAI, 8, hi=5, prefix="2001:db8:1::")
    found = of(run(lab.out), "PMIP-P14")
    assert [f.message for f in found] == [
        f"PBU (frame {again.frame}) is a re-registration but omits assigned prefix(es) ['2001:db8:2::/64']"]


def test_node_identity_is_the_evidence_one_asked_twice() -> None:
    profile = parse_profile(f'[nodes.lma]\naddresses = ["{LMA}"]\n[nodes.mag-a]\naddresses = ["{MAG1}"]\n')
    ctx = context(scenario("reactive-1").out, profile)
    spellings = [LMA, MAG1, MAG1.upper(), "2001:0db8:000a::1", MAG2, "192.0.2.1", "not an address", None]
    for _ in range(2):  # the second round answers from the memo
        assert [ctx.node(a) for a in spellings] == [node_of(profile, a) for a in spellings]
    assert ctx.node(MAG1.upper()) == "node:mag-a"
    pairs = [(a, b) for a in spellings for b in spellings]
    assert [ctx.same(a, b) for a, b in pairs] == [same_node(profile, a, b) for a, b in pairs]


def test_capture_end_per_file_and_overall() -> None:
    first, second = Lab(file="a.pcap"), Lab(file="b.pcap")
    first.register(MAG1, NAI, 1)
    second.wait(9000).register(MAG2, "mn2@lab.example", 1)
    first.wait(400).register(MAG1, NAI, 2)
    ctx = context(first.out + second.out)
    assert ctx.capture_end_ns("a.pcap") == first.out[-1].time_ns
    assert ctx.capture_end_ns("b.pcap") == second.out[-1].time_ns
    assert ctx.capture_end_ns() == max(m.time_ns for m in first.out + second.out) == second.out[-1].time_ns
    assert ctx.capture_end_ns("c.pcap") == 0
    assert context([]).capture_end_ns() == 0


def test_several_types_come_in_time_order_every_time() -> None:
    ctx = context(scenario("reactive-1").out)
    merged = list(ctx.of_type("CTD", "CT-Req", "CTDR"))
    assert [m.type for m in merged] == ["CT-Req", "CTD", "CTDR"]
    assert merged == sorted(merged, key=lambda m: m.time_ns)
    assert list(ctx.of_type("CTD", "CT-Req", "CTDR")) == merged


def test_shared_is_built_once_per_context() -> None:
    ctx = context(scenario("reactive-1").out)
    built: list[int] = []

    def build(c: Context) -> int:
        built.append(1)
        return len(c.messages)

    assert ctx.shared("count", build) == ctx.shared("count", build) == len(ctx.messages)
    assert built == [1]
    assert context(scenario("reactive-1").out).shared("count", build) == len(ctx.messages)
    assert built == [1, 1]


@pytest.mark.parametrize("shared", [True, False])
def test_a_pba_carrying_the_pbus_very_option_list_echoes_everything(shared: bool) -> None:
    """The decoder gives an echo equal option for option the PBU's list itself: PMIP-P8/P11 skip it."""
    lab = Lab()
    pbu = lab.pbu(MAG1, NAI, 7, hi=1, ts=1000)
    lab.wait(5)
    pba = lab.pba(pbu)
    pba.fields["options"] = pbu.fields["options"] if shared else [dict(o) for o in pbu.fields["options"]]
    assert (pba.fields["options"] is pbu.fields["options"]) == shared
    result = run(lab.out)
    assert of(result, "PMIP-P8") == of(result, "PMIP-P11") == []
    lab.pba(lab.wait(600).pbu(MAG1, NAI, 8, hi=5, ts=1001), options=[])  # an echo of nothing is found
    result = run(lab.out)
    assert len(of(result, "PMIP-P8")) == len(of(result, "PMIP-P11")) == 1


def test_messages_of_one_time_keep_the_analysis_order_whatever_the_type_order() -> None:
    """of_type(*frozenset) must not make the output depend on PYTHONHASHSEED (ties keep capture order)."""
    messages = scenario("reactive-1").out
    ctx = context(messages)
    cxtp = [m for m in ctx.analysis.messages if m.protocol == "cxtp"]
    kinds = sorted({m.type for m in cxtp})
    assert len(kinds) >= 2
    same_time = [type(m)(**{**{f: getattr(m, f) for f in m.__slots__ if not f.startswith("_")},
                            "time_ns": cxtp[0].time_ns}) for m in cxtp]
    ctx = context([m for m in messages if m.protocol != "cxtp"] + same_time)
    canonical = [m for m in ctx.analysis.messages if m.type in set(kinds)]
    for order in (kinds, kinds[::-1]):
        assert list(ctx.of_type(*order)) == canonical


@pytest.mark.parametrize("tied", [False, True])
def test_every_mix_of_types_is_the_analysis_order_sorted_by_time(tied: bool) -> None:
    """A mix of few messages is merged from the per-type lists, one of many filtered from the analysis:
    either way what of_type defines (ties in the analysis's order)."""
    lab = Lab(file="other.pcap")
    for seq in range(1, 6):
        lab.wait(700).register(MAG2, "mn2@lab.example", seq)
    messages = scenario("reactive-1").out + lab.out
    if tied:  # every message at one time: each mix is all ties
        messages = [dataclasses.replace(m, time_ns=messages[0].time_ns) for m in messages]
    ctx = context(messages)
    kinds = sorted({m.type for m in ctx.messages})
    mixes = [(a, b) for a in kinds for b in kinds if a != b] + [tuple(kinds), ("CTDR", "CT-Req", "CTD")]
    sizes = {len([m for m in ctx.messages if m.type in mix]) for mix in mixes}
    assert min(sizes) * 4 < len(ctx.messages) <= max(sizes) * 4  # both ways are taken
    for mix in mixes:
        expected = sorted([m for m in ctx.analysis.messages if m.type in mix], key=lambda m: m.time_ns)
        assert list(ctx.of_type(*mix)) == expected, mix


def test_per_layout_reads_each_distinct_option_layout_once() -> None:
    """What depends on a message's option keys alone is worked out once per layout, the same for every message."""
    lab = Lab()
    for seq in range(3):  # PBUs of one layout, then one with a second MN-ID option
        lab.register(MAG1, NAI, seq + 1)
        lab.wait(500)
    odd = lab.pbu(MAG1, NAI, 9, extra=[{"type": 8, "name": "Mobile Node Identifier", "key": "mn_id", "length": 2,
                                         "subtype": 1, "identifier": "x"}])
    ctx = context(lab.out + scenario("reactive-1").out)
    read: list[object] = []

    def keys(layout) -> tuple[str, ...]:
        read.append(layout)
        return tuple(sorted(key for key, at in layout.items() for _ in at))

    messages = list(ctx.messages)
    assert any(m.option_index is None for m in messages)  # CXTP: no index made yet
    for _ in range(2):
        assert [ctx.per_layout("keys", m, keys) for m in messages] == [
            tuple(sorted(o["key"] for o in m.fields.get("options", []))) for m in messages]
    assert len(read) == len({id(m.option_index) for m in messages}) < len(messages)
    assert ctx.per_layout("keys", odd, keys).count("mn_id") == 2
    pbus = list(ctx.of_type("PBU"))
    assert [id(layout) for layout in ctx.layouts("PBU")] == list(dict.fromkeys(id(m.option_index) for m in pbus))
    assert odd.option_index in ctx.layouts("PBU") and len(ctx.layouts("PBU")) < len(pbus)
    assert ctx.layouts("no such type") == []


def test_a_single_pbu_with_a_bad_layout_among_clean_ones_is_found() -> None:
    """PMIP-P3/P4 and DRAFT-D10 skip the walk when no PBU layout can fail: one that can must still be found."""
    lab = Lab()
    for seq in range(3):
        lab.register(MAG1, NAI, seq + 1)
        lab.wait(500)
    hnp = {"type": 22, "name": "Home Network Prefix", "key": "hnp", "length": 18, "prefix_len": 64}
    bad = lab.pbu(MAG1, NAI, 9, extra=[
        {"type": 8, "name": "Mobile Node Identifier", "key": "mn_id", "length": 2, "subtype": 1, "identifier": "x"},
        {**hnp, "prefix": "::"},
        {"type": 41, "name": "pMAG Address", "key": "pmag_address", "length": 18, "address": MAG2}])
    lab.wait(500)
    lab.register(MAG1, NAI, 10)
    result = run(lab.out)
    assert [f.refs[0].frame for f in of(result, "PMIP-P3")] == [bad.frame]
    assert [f.refs[0].frame for f in of(result, "PMIP-P4")] == [bad.frame]
    assert [f.refs[0].frame for f in of(result, "DRAFT-D10")] == [bad.frame]
    clean = [m for m in lab.out if m is not bad]
    assert not of(run(clean), "PMIP-P3") and not of(run(clean), "PMIP-P4") and not of(run(clean), "DRAFT-D10")


@pytest.mark.parametrize("enabled", [True, False])
def test_run_rules_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    """The engine holds the collector while the checks run (their memos are no cyclic garbage), then restores it."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        run(scenario("reactive-1").out)
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was else gc.disable()


def _without_exchanges(ctx: Context) -> Context:
    """The same messages with no exchanges: the rules that judge the exchanges' distinct records first
    cannot tell they cover every PBU/PBA, and walk the messages."""
    return Context(dataclasses.replace(ctx.analysis, exchanges=()), (), ctx.profile, ctx.cases, ctx.catalogue)


@pytest.mark.parametrize("rule_id", ["PMIP-P2", "PMIP-P6", "PMIP-P7", "PMIP-P22"])
def test_a_rule_judging_distinct_records_finds_what_the_walk_finds(rule_id: str) -> None:
    messages, _, _ = VIOLATIONS[rule_id][0]()
    ctx = context(messages)
    rule = next(r for r in ctx.catalogue if r.id == rule_id)
    found = [h.message for h in CHECKS[rule.check](ctx, rule)]
    assert found  # the violation is there to be found, from the exchanges' distinct records
    walked = [h.message for h in CHECKS[rule.check](_without_exchanges(ctx), rule)]
    if rule_id != "PMIP-P7":  # P7 without exchanges reports the PBA unanswered instead
        assert walked == found
    clean = context(VIOLATIONS[rule_id][1]())
    assert list(CHECKS[rule.check](clean, rule)) == []


def test_pair_keys_made_at_once_are_the_ones_made_one_by_one() -> None:
    messages = scenario("reactive-1").out
    odd = next(m for m in messages if m.type == "CTD")
    damaged = dataclasses.replace(odd, fields={**odd.fields, "mn_prev_addr": 7})  # no text: read as None
    messages = [damaged if m is odd else m for m in messages]
    ctx = context(messages)
    transfer = [m for m in ctx.analysis.messages if m.type in CXTP_TRANSFER]
    assert len(transfer) >= 3
    keys = [ctx.pair_key(m) for m in transfer]  # the first ask makes every transfer message's key
    assert len(ctx._pairs) >= len(transfer)
    assert keys == [(node_of(PROFILE, m.src), node_of(PROFILE, m.dst), prev_addr(m)) for m in transfer]
    assert (None in {k[2] for k in keys}) and any(m.fields.get("mn_prev_addr") == 7 for m in transfer)
    other = next(m for m in ctx.analysis.messages if m.type == "PBU")
    assert ctx.pair_key(other) == (node_of(PROFILE, other.src), node_of(PROFILE, other.dst), prev_addr(other))


def test_located_messages_answer_as_the_index_of_every_message() -> None:
    ctx, full = context(scenario("reactive-1").out), context(scenario("reactive-1").out)
    wanted = ctx.analysis.messages[1::2]
    ctx.locate(wanted)
    assert ctx._index is None
    assert [ctx.handover_of(m) for m in wanted] == [full.handover_of(m) for m in full.analysis.messages[1::2]]
    assert ctx._index is None  # answered from the located positions alone
    assert [ctx.mn_of(m) for m in ctx.analysis.messages] == [full.mn_of(m) for m in full.analysis.messages]
    stranger = dataclasses.replace(ctx.analysis.messages[0])
    assert ctx.handover_of(stranger) is None


def test_layouts_read_from_made_indexes_are_the_walks() -> None:
    ctx = context(scenario("reactive-1").out)
    for type_ in ("PBU", "PBA", "CTD"):
        walked: dict[int, object] = {}
        for m in ctx.of_type(type_):
            walked.setdefault(id(layout_of(m)), layout_of(m))
        assert [id(x) for x in ctx.layouts(type_)] == list(walked)


def test_inputs_of_one_capture_are_those_of_several() -> None:
    first, second = Lab(file="a.pcap"), Lab(file="b.pcap")
    first.register(MAG1, NAI, 1)
    second.wait(10).register(MAG2, "mn2@lab.example", 1)
    both = analyze(first.out + second.out, PROFILE)
    one = analyze(first.out, PROFILE)
    several = {i.file: i for i in _inputs(both, ())}
    assert _inputs(one, ()) == (several["a.pcap"],)
