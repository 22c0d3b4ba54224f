"""The analysis's short cuts give what the long way gives: echoed option lists, one verdict per
distinct set of facts, prefix lengths kept in order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_analysis_fixtures import MAG1, MAG2, PREV, Lab, att, handoff, hnp, mn_id, scenario
from test_analysis_handovers import FOUR_AND_MORE

from pmipct_check.analysis import analyze, load_cases
from pmipct_check.analysis.classify import Classifier, classify, facts, transfer_messages
from pmipct_check.analysis.correlate import UNIDENTIFIED
from pmipct_check.analysis.evidence import option, options
from pmipct_check.analysis.timings import _EXACT_NS, seconds
from pmipct_check.profile import DEFAULT_PROFILE


def _pairs(lab: Lab) -> list[tuple[int, int | None, str]]:
    return [(ex.pbu.frame, ex.pba.frame if ex.pba else None, ex.mn) for ex in analyze(lab.out).exchanges]


@pytest.mark.parametrize("echo", [True, False])
def test_a_pba_answers_its_own_pbu_when_another_mns_pbu_has_its_sequence_number(echo: bool) -> None:
    lab = Lab()
    first = lab.pbu(MAG1, "mn1@lab.example", 5, prefix="2001:db8:1::")
    second = lab.wait(1).pbu(MAG1, "mn2@lab.example", 5, prefix="2001:db8:2::")  # newer, same seq
    lab.wait(1)
    for pbu in (first, second):  # the older one is answered first
        lab.pba(pbu, options=pbu.fields["options"] if echo else None)
    assert _pairs(lab) == [(1, 3, "mn1@lab.example"), (2, 4, "mn2@lab.example")]
    assert analyze(lab.out).mns == ("mn1@lab.example", "mn2@lab.example", "mn1@lab.example", "mn2@lab.example")


def test_an_echo_of_an_unidentified_mn_is_paired_as_a_copy_is() -> None:
    shared, copied = Lab(), Lab()
    for lab, echo in ((shared, True), (copied, False)):
        pbu = lab.pbu(MAG1, None, 9, prefix=None, options=[handoff(1), att()])
        lab.wait(2).pba(pbu, options=pbu.fields["options"] if echo else [dict(o) for o in pbu.fields["options"]])
    assert _pairs(shared) == _pairs(copied) == [(1, 2, UNIDENTIFIED)]


def test_an_echoed_pba_reads_its_options_through_its_pbus_index() -> None:
    lab = Lab()
    pbu = lab.pbu(MAG1, "mn1@lab.example", 3, ts=100)
    pba = lab.wait(2).pba(pbu, options=pbu.fields["options"])
    analyze(lab.out)
    assert pba.option_index is pbu.option_index is not None
    assert option(pba, "mn_id") is pbu.fields["options"][0]
    assert [o["key"] for o in options(pba, "timestamp")] == ["timestamp"]


def test_echoed_handovers_read_as_copied_ones() -> None:
    def run(echo: bool) -> list[tuple[object, ...]]:
        lab = Lab()
        for number, case in enumerate(FOUR_AND_MORE):
            scenario(case, lab, nai=f"mn{number}@lab.example", prefix=f"2001:db8:{number + 1}::",
                     prev=f"2001:db8:{number + 1}::100", seq=10 * number + 10)
            lab.wait(2000)
        if echo:  # as the decoder hands them on: a PBA repeating its PBU's options shares its list
            by_frame = {m.frame: m for m in lab.out}
            echoes = [ex for ex in analyze(lab.out).exchanges
                      if ex.pba is not None and ex.pba.fields["options"] == ex.pbu.fields["options"]]
            assert len(echoes) >= len(FOUR_AND_MORE)
            for ex in echoes:
                by_frame[ex.pba.frame].fields["options"] = ex.pbu.fields["options"]
            for m in lab.out:
                m.option_index = None
        analysis = analyze(lab.out)
        return [(h.id, h.mn, h.case, h.case_reason, dict(h.timings), [m.frame for m in h.messages])
                for h in analysis.handovers] + [analysis.mns, analysis.handover_of]

    assert run(echo=True) == run(echo=False)


def test_one_classifier_gives_what_a_fresh_one_gives_for_every_handover() -> None:
    cases = load_cases()
    seen = []
    for case in FOUR_AND_MORE:
        for drop in ((), ("cxtp",), ("fmipv6",), ("cxtp", "fmipv6")):
            (h,) = analyze([m for m in scenario(case).out if m.protocol not in drop]).handovers
            moves = transfer_messages(h.cxtp, h.fho)
            seen.append(facts(pmag=h.pmag, nmag=h.nmag, pbu=h.pbu, pba=h.pba, deregs=h.deregs, cxtp=h.cxtp,
                              fho=h.fho, profile=DEFAULT_PROFILE, moves=moves))
    shared = Classifier(cases)
    verdicts = set()
    for f, visible in itertools.product(seen, (True, False)):
        fresh = classify(f, cases, inter_mag_visible=visible)
        assert shared(f, inter_mag_visible=visible) == fresh
        verdicts.add(fresh[0])
    assert {"unknown", "reactive-1", "proactive-2", "rfc5949-reactive", "none"} <= verdicts


def test_reasons_name_each_handovers_own_first_message() -> None:
    lab = Lab()
    for number in range(3):
        scenario("reactive-1", lab, nai=f"mn{number}@lab.example", prefix=f"2001:db8:{number + 1}::",
                 prev=f"2001:db8:{number + 1}::100", seq=10 * number + 10)
        lab.wait(2000)
    handovers = analyze(lab.out).handovers
    assert [h.case for h in handovers] == ["reactive-1"] * 3
    for h in handovers:
        assert f"(frame {h.cxtp[0].frame})" in h.case_reason


@pytest.mark.parametrize("order", [(48, 64), (64, 48)])
def test_a_cxtp_address_finds_the_longest_prefix_whatever_order_they_were_seen(order: tuple[int, int]) -> None:
    lab = Lab()
    owners = {48: "wide@lab.example", 64: "narrow@lab.example"}
    prefixes = {48: "2001:db8:5::", 64: "2001:db8:5:1::"}
    for length in order:
        lab.register(MAG1, owners[length], length,
                     options=[mn_id(owners[length]), hnp(prefixes[length], length), att()])
        lab.wait(10)
    for address in ("2001:db8:5:1::7", "2001:db8:5:2::7", PREV):
        lab.ct_req(MAG2, MAG1, address)
    # an address no binding holds: the orphan transfer is named by the address itself
    assert analyze(lab.out).mns[-3:] == ("narrow@lab.example", "wide@lab.example", PREV)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.integers(-(10**12), 10**12), st.integers(-(2**53), 2**53),
                 st.integers(_EXACT_NS - 10**7, _EXACT_NS + 10**7), st.integers(-_EXACT_NS - 10**7, -_EXACT_NS + 10**7)))
def test_seconds_are_what_round_gives(ns: int) -> None:
    assert seconds(ns) == round(ns / 1e9, 9)


def test_seconds_near_the_bound() -> None:
    for ns in (*range(_EXACT_NS - 20_000, _EXACT_NS + 20_000), *range(-_EXACT_NS - 20_000, -_EXACT_NS + 20_000)):
        assert seconds(ns) == round(ns / 1e9, 9), ns
