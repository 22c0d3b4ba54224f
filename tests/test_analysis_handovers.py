"""The analysis stage on Message-level scenarios: cases, interleaved MNs, vantage, races, keys."""

from __future__ import annotations

import pytest
from test_analysis_fixtures import LMA, MAG1, MAG2, MAG3, PREV, Lab, hnp, mn_id, pmag_address, scenario

from pmipct_check.analysis import analyze, load_cases
from pmipct_check.analysis.model import CASES
from pmipct_check.profile import parse_profile

FOUR_AND_MORE = ["reactive-1", "reactive-2", "proactive-1", "proactive-2", "reactive-pmag",
                 "rfc5949-predictive", "rfc5949-reactive", "none"]


@pytest.mark.parametrize("case", FOUR_AND_MORE)
def test_each_case_is_found_with_its_roles(case: str) -> None:
    analysis = analyze(scenario(case).out)
    (h,) = analysis.handovers
    assert (h.case, h.mn, h.pmag, h.nmag, h.lma) == (case, "mn1@lab.example", MAG1, MAG2, LMA), h.case_reason
    assert h.pbu is not None and h.pba is not None and h.pbu.src == MAG2
    assert analysis.lmas == {LMA} and {MAG1, MAG2} <= analysis.mags
    assert 0 < h.timings["pbu_pba"] <= 0.005
    assert [b.mn for b in analysis.bindings] == ["mn1@lab.example"]


def test_cases_file_names_every_case_the_model_knows() -> None:
    cases = load_cases()
    assert set(cases) | {"unknown"} == set(CASES)
    assert [s.message for s in cases["reactive-1"].steps if s.message] == ["PBU", "PBA", "CT-Req", "CTD", "CTDR"]
    assert cases["reactive-1"].types_of("CTD") == ("CTD", "PCTD")
    assert any(s.optional for s in cases["reactive-1"].steps)


def test_timings_of_a_reactive_case_1() -> None:
    (h,) = analyze(scenario("reactive-1").out).handovers
    assert h.timings["ctreq_ctd"] == pytest.approx(0.003)
    assert h.timings["ctd_ctdr"] == pytest.approx(0.002)
    assert h.timings["attach_registered"] == pytest.approx(0.005)


def test_several_mns_interleaved_on_one_mag_pair() -> None:
    lab = Lab()
    for i in range(1, 4):
        lab.register(MAG1, f"mn{i}@lab.example", 10 * i, hi=1, prefix=f"2001:db8:{i}::")
    lab.wait(500)
    for i in (2, 1, 3):
        lab.register(MAG2, f"mn{i}@lab.example", 10 * i + 1, prefix=f"2001:db8:{i}::",
                     pba_extra=[pmag_address(MAG1)])
    for i in (3, 1, 2):
        lab.ct_req(MAG2, MAG1, f"2001:db8:{i}::100")
        lab.wait(1)
    for i in (1, 3, 2):
        lab.ctd(MAG1, MAG2, f"2001:db8:{i}::100")
        lab.wait(1)
    for i in (2, 3, 1):
        lab.ctdr(MAG2, MAG1, f"2001:db8:{i}::100")
        lab.wait(1)
    analysis = analyze(lab.out)
    by_mn = {h.mn: h for h in analysis.handovers}
    assert sorted(by_mn) == ["mn1@lab.example", "mn2@lab.example", "mn3@lab.example"]
    for i in range(1, 4):
        h = by_mn[f"mn{i}@lab.example"]
        assert h.case == "reactive-1"
        assert {m.fields["mn_prev_addr"] for m in h.cxtp} == {f"2001:db8:{i}::100"}
        assert [m.type for m in h.cxtp] == ["CT-Req", "CTD", "CTDR"]
    assert [h.id for h in analysis.handovers] == ["H1", "H2", "H3"]
    assert analysis.handovers[0].mn == "mn2@lab.example"  # numbered by the nMAG's registration


def test_lma_only_vantage_is_said_and_the_case_is_none() -> None:
    lab = scenario("reactive-1")
    only_lma = [m for m in lab.out if m.protocol != "cxtp"]
    analysis = analyze(only_lma)
    (h,) = analysis.handovers
    assert analysis.vantage == {"lma"}
    assert h.vantage == {"lma"}
    assert h.case == "unknown" and "no traffic between MAGs" in h.case_reason  # PBA named the pMAG


def test_lma_only_vantage_without_pmag_option_is_none() -> None:
    only_lma = [m for m in scenario("reactive-2").out if m.protocol != "cxtp"]
    (h,) = analyze(only_lma).handovers
    assert h.case == "none" and "no traffic between MAGs" in h.case_reason


def test_late_deregistration_race_is_part_of_the_handover() -> None:
    lab = scenario("reactive-1", late_dereg=True)
    (h,) = analyze(lab.out).handovers
    late = lab.out[-1]
    assert late.fields["lifetime"] == 0 and late.src == MAG1
    assert h.deregs == (late,)
    assert h.case == "reactive-1"


def test_deregistration_first_then_registration_is_a_handover() -> None:
    """RFC 5213 section 5.3.5: the binding waits MinDelayBeforeBCEDelete for the new MAG."""
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(100)
    dereg = lab.pbu(MAG1, "mn1@lab.example", 2, lifetime=0, hi=4)
    lab.wait(3)
    lab.pba(dereg)
    lab.wait(400)
    lab.register(MAG2, "mn1@lab.example", 3)
    (h,) = analyze(lab.out).handovers
    assert (h.pmag, h.nmag, h.case) == (MAG1, MAG2, "none")
    assert h.timings["dereg_pba"] == pytest.approx(0.003)


def test_reattachment_after_the_binding_was_deleted_is_no_handover() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    dereg = lab.pbu(MAG1, "mn1@lab.example", 2, lifetime=0, hi=4)
    lab.wait(3)
    lab.pba(dereg)
    lab.wait(20_000)
    lab.register(MAG2, "mn1@lab.example", 3, hi=1)
    assert analyze(lab.out).handovers == ()


def test_moving_back_and_forth_gives_one_handover_per_move() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    seq = 2
    for mag in (MAG2, MAG1, MAG2):
        lab.wait(2000)
        lab.register(mag, "mn1@lab.example", seq)
        lab.wait(3)
        lab.register(mag, "mn1@lab.example", seq + 1, hi=5)  # a re-registration moves nothing
        seq += 2
    moves = [(h.pmag, h.nmag) for h in analyze(lab.out).handovers]
    assert moves == [(MAG1, MAG2), (MAG2, MAG1), (MAG1, MAG2)]


def test_rejected_registration_is_no_handover() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(500)
    pbu = lab.pbu(MAG2, "mn1@lab.example", 2)
    lab.wait(2)
    lab.pba(pbu, status=154)
    assert analyze(lab.out).handovers == ()


def test_fallback_keys_link_layer_id_then_prefix() -> None:
    """RFC 5213 section 5.4.1: without an MN Identifier, MN-LL-ID + ATT, then the HNP."""
    lab = Lab()
    ll = {"type": 25, "key": "mn_ll_id", "name": "mn_ll_id", "length": 8, "reserved": 0,
          "identifier": "02:00:00:00:01:01"}
    lab.register(MAG1, None, 1, hi=1, extra=[ll])
    lab.wait(500)
    lab.register(MAG2, None, 2, extra=[ll])
    (h,) = analyze(lab.out).handovers
    assert h.mn == "ll:02:00:00:00:01:01/att:4" and h.mn_key == "ll-id+att"
    lab = Lab()
    lab.register(MAG1, None, 1, hi=1, prefix="2001:db8:7::")
    lab.wait(500)
    lab.register(MAG2, None, 2, prefix="2001:db8:7::")
    lab.ct_req(MAG2, MAG1, "2001:db8:7::42")
    (h,) = analyze(lab.out).handovers
    assert h.mn == "2001:db8:7::/64" and h.mn_key == "hnp"
    assert [m.type for m in h.cxtp] == ["CT-Req"]


def test_profile_nodes_make_several_addresses_one_mag_and_name_it() -> None:
    profile = parse_profile(f'[nodes.north]\naddresses = ["{MAG1}", "2001:db8:a::99"]\n'
                            f'[nodes.south]\naddresses = ["{MAG2}"]\n')
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(500)
    lab.register(MAG2, "mn1@lab.example", 2, pba_extra=[pmag_address(MAG1)])
    lab.ct_req(MAG2, "2001:db8:a::99", PREV)  # the pMAG's separate CXTP address
    lab.wait(2)
    lab.ctd("2001:db8:a::99", MAG2, PREV)
    analysis = analyze(lab.out, profile)
    (h,) = analysis.handovers
    assert h.case == "reactive-1"
    assert analysis.names[MAG1] == "north" and analysis.names[MAG2] == "south"


def test_profile_maps_an_mn_address_outside_the_prefix() -> None:
    profile = parse_profile('[mns."mn1@lab.example"]\naddresses = ["2001:db8:99::5"]\n')
    lab = scenario("none", late_dereg=False)
    lab.ct_req(MAG2, MAG1, "2001:db8:99::5")
    (h,) = analyze(lab.out, profile).handovers
    assert [m.type for m in h.cxtp] == ["CT-Req"]


def test_mag_side_capture_without_registrations_still_shows_the_transfer() -> None:
    lab = Lab()
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(3)
    lab.ctd(MAG1, MAG2, PREV)
    lab.wait(2)
    lab.ctdr(MAG2, MAG1, PREV)
    analysis = analyze(lab.out)
    (h,) = analysis.handovers
    assert (h.pmag, h.nmag, h.mn, h.pbu) == (MAG1, MAG2, PREV, None)
    assert h.case == "unknown" and "cannot be told" in h.case_reason
    assert analysis.vantage == {"inter-mag"}


def test_unknown_case_has_a_reason() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(500)
    lab.register(MAG2, "mn1@lab.example", 2)
    lab.ctd(MAG2, MAG1, PREV)  # the nMAG sends context: no case starts that way
    (h,) = analyze(lab.out).handovers
    assert h.case == "unknown" and "CTD from nmag" in h.case_reason


def test_ct_req_to_a_wrong_mag_still_joins_the_handover() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(500)
    lab.register(MAG2, "mn1@lab.example", 2, pba_extra=[pmag_address(MAG1)])
    lab.ct_req(MAG2, MAG3, PREV)
    (h,) = analyze(lab.out).handovers
    assert h.pmag == MAG1 and [m.dst for m in h.cxtp] == [MAG3] and h.case == "reactive-1"


def test_hi_hack_join_by_mn_identifier() -> None:
    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.register(MAG1, "mn2@lab.example", 5, hi=1, prefix="2001:db8:2::")
    lab.wait(500)
    hi2 = lab.hi(MAG1, MAG2, "mn2@lab.example", 70, options=[mn_id("mn2@lab.example"), hnp("2001:db8:2::")])
    hi1 = lab.hi(MAG1, MAG2, "mn1@lab.example", 71)
    lab.hack(hi1, options=[])  # no MN option: joined through its HI
    lab.hack(hi2)
    lab.register(MAG2, "mn1@lab.example", 2)
    lab.register(MAG2, "mn2@lab.example", 6, prefix="2001:db8:2::")
    by_mn = {h.mn: h for h in analyze(lab.out).handovers}
    assert [m.fields["seq"] for m in by_mn["mn1@lab.example"].fho] == [71, 71]
    assert [m.fields["seq"] for m in by_mn["mn2@lab.example"].fho] == [70, 70]
    assert {h.case for h in by_mn.values()} == {"rfc5949-predictive"}


def test_notices_in_the_stream_are_ignored_and_order_is_restored() -> None:
    from pmipct_check.notices import Notice

    lab = scenario("reactive-2")
    mixed = [Notice("capture.truncated-record", "cut", "lab.pcap"), *reversed(lab.out)]
    (h,) = analyze(mixed).handovers
    assert h.case == "reactive-2"
