"""Clock offsets from causality: every shared packet bounds the offset from one side.

The oracle is arithmetic done here: true offsets and one-way delays are chosen, sightings
made from them, and the estimate must hold the true offset within its uncertainty.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmipct_check.capture.clock import (
    ClockOffset,
    TapLog,
    estimate_offsets,
    pair_bounds,
    parse_clock_offset,
    signature,
)
from pmipct_check.capture.model import Carried

ADDR = {"lma": "2001:db8:ffff::1", "mag1": "2001:db8:ff01::1", "mag2": "2001:db8:ff02::1"}


def _logs(packets: list[tuple[str, str, int, int]], offsets: dict[str, int], others: bool = True
          ) -> dict[str, TapLog]:
    """(sender, receiver, true send time, delay) -> each node's tap with its clock ``offset`` ahead.

    With ``others`` each tap also sees one exchange with a node no other tap sees, as a real tap
    does (the LMA with a further MAG, a MAG with its neighbours): that tells the tapped node.
    """
    logs = {node: TapLog(f"{node}.pcap") for node in offsets}
    if others:
        for n, (node, log) in enumerate(logs.items()):
            log.add(Carried(log.file, 0, 0, ADDR[node], f"2001:db8:eeee::{n + 1}", "mh", b"elsewhere"))
    for i, (src, dst, t, delay) in enumerate(packets):
        data = i.to_bytes(4, "big") + b"PBU"
        for node, when in ((src, t), (dst, t + delay)):
            if node in logs:
                logs[node].add(Carried(f"{node}.pcap", i + 1, when + offsets[node], ADDR[src], ADDR[dst], "mh", data))
    return logs


def test_parse_clock_offset():
    assert parse_clock_offset("mag1.pcap=+1.250") == ("mag1.pcap", 1_250_000_000)
    assert parse_clock_offset("a=b.pcap=-0.000000001") == ("a=b.pcap", -1)
    assert parse_clock_offset("x=3") == ("x", 3_000_000_000)
    for bad in ("mag1.pcap", "=1", "mag1.pcap=soon", "mag1.pcap=nan", "mag1.pcap=inf"):
        with pytest.raises(ValueError, match="clock-offset"):
            parse_clock_offset(bad)


def test_signature_ignores_time_and_frame_but_not_octets_or_addresses():
    a = Carried("a", 1, 10, "::1", "::2", "mh", b"xyz", info={"hop_limit": 64})
    assert signature(a) == signature(Carried("b", 9, 99, "::1", "::2", "mh", b"xyz", info={"hop_limit": 63}))
    assert signature(a) != signature(Carried("a", 1, 10, "::1", "::2", "mh", b"xyw"))
    assert signature(a) != signature(Carried("a", 1, 10, "::2", "::1", "mh", b"xyz"))
    assert signature(a) != signature(Carried("a", 1, 10, "::1", "::2", "mh-old", b"xyz"))


def test_two_directions_give_an_interval_around_the_true_offset():
    offsets = {"lma": 0, "mag1": 3_200_000_000}
    packets = [("mag1", "lma", 1_000_000_000, 1_500_000), ("lma", "mag1", 1_004_000_000, 700_000),
               ("mag1", "lma", 2_000_000_000, 900_000)]
    logs = _logs(packets, offsets)
    bounds = pair_bounds(logs["lma"], logs["mag1"])
    # off_mag1 - off_lma <= true + smallest delay of mag1's packets; >= true - delay of the LMA's packet.
    assert bounds.upper == 3_200_000_000 + 700_000
    assert bounds.lower == 3_200_000_000 - 900_000
    assert (bounds.a_to_b, bounds.b_to_a) == (1, 2)
    lma, mag1 = estimate_offsets([logs["lma"], logs["mag1"]])
    assert lma.method == "reference" and lma.offset_ns == 0
    assert mag1.method == "estimated" and mag1.reference == "lma.pcap" and mag1.shared == 3
    assert mag1.offset_ns == 3_200_000_000 - 100_000  # the midpoint
    assert mag1.uncertainty_ns == 800_000  # the half-width
    assert "+3.199900 ± 0.000800 s against lma.pcap" in mag1.describe()


def test_one_direction_is_a_one_sided_bound_and_says_so():
    logs = _logs([("mag1", "lma", 1_000_000_000, 400_000), ("mag1", "lma", 2_000_000_000, 300_000)],
                 {"lma": 0, "mag1": -5_700_000_000})
    _, mag1 = estimate_offsets([logs["lma"], logs["mag1"]])
    assert mag1.method == "one-sided" and mag1.uncertainty_ns is None
    assert mag1.offset_ns == -5_700_000_000 - 300_000  # off by the smallest delay, and never above the truth
    assert "only packets mag1.pcap -> lma.pcap" in mag1.note and "at least" in mag1.note


def test_no_shared_packet_means_no_correction_and_a_note():
    logs = _logs([("mag1", "lma", 1_000_000_000, 400_000), ("lma", "mag1", 1_100_000_000, 400_000)],
                 {"lma": 0, "mag1": 1_000_000_000})
    lonely = TapLog("mag2.pcap")
    lonely.add(Carried("mag2.pcap", 1, 5, ADDR["mag2"], ADDR["mag1"], "sctp", b"other"))
    clocks = estimate_offsets([logs["lma"], logs["mag1"], lonely])
    assert clocks[2] == ClockOffset("mag2.pcap", 0, "none", None, None, 0, "no packet is shared with any other capture")
    assert clocks[2].describe() == "mag2.pcap: clock not corrected: no packet is shared with any other capture"


def test_offsets_chain_through_a_tap_that_sees_both_and_uncertainties_add():
    offsets = {"lma": 0, "mag1": 2_000_000_000, "mag2": -1_000_000_000}
    packets = [("mag1", "lma", 1_000_000_000, 1_000_000), ("lma", "mag1", 1_010_000_000, 1_000_000),
               ("mag1", "mag2", 1_020_000_000, 2_000_000), ("mag2", "mag1", 1_030_000_000, 2_000_000)]
    logs = _logs(packets, offsets)
    clocks = {c.file: c for c in estimate_offsets([logs["lma"], logs["mag1"], logs["mag2"]])}
    mag2 = clocks["mag2.pcap"]
    assert mag2.reference == "mag1.pcap"
    assert mag2.uncertainty_ns == clocks["mag1.pcap"].uncertainty_ns + 2_000_000
    assert abs(mag2.offset_ns - offsets["mag2"]) <= mag2.uncertainty_ns


def test_given_offsets_anchor_the_estimate():
    offsets = {"lma": 0, "mag1": 2_000_000_000}
    logs = _logs([("mag1", "lma", 1_000_000_000, 1_000_000), ("lma", "mag1", 1_010_000_000, 3_000_000)], offsets)
    lma, mag1 = estimate_offsets([logs["lma"], logs["mag1"]], {"mag1.pcap": 2_000_000_000})
    assert mag1.method == "given" and mag1.describe() == "mag1.pcap: clock offset +2.000000 s (given)"
    assert lma.method == "estimated" and lma.reference == "mag1.pcap"
    assert abs(lma.offset_ns) <= lma.uncertainty_ns


def test_conflicting_bounds_are_reported_not_hidden():
    logs = _logs([], {"lma": 0, "mag1": 0})
    # mag1 -> lma seen 2 s "before" it was sent, lma -> mag1 consistent with offset 0: impossible together.
    for node, t in (("mag1", 10), ("lma", 8)):
        logs[node].add(Carried(f"{node}.pcap", 1, t * 10**9, ADDR["mag1"], ADDR["lma"], "mh", b"a"))
    for node, t in (("lma", 20), ("mag1", 21)):
        logs[node].add(Carried(f"{node}.pcap", 2, t * 10**9, ADDR["lma"], ADDR["mag1"], "mh", b"b"))
    _, mag1 = estimate_offsets([logs["lma"], logs["mag1"]])
    assert mag1.method == "inconsistent" and "conflict" in mag1.note


def test_repeated_identical_packets_pair_in_order_and_ambiguous_counts_are_skipped():
    a, b = TapLog("a"), TapLog("b")
    a.add(Carried("a", 9, 0, ADDR["mag1"], "2001:db8:eeee::1", "mh", b"elsewhere"))
    b.add(Carried("b", 9, 0, ADDR["lma"], "2001:db8:eeee::2", "mh", b"elsewhere"))
    for t in (1, 2):
        a.add(Carried("a", t, t * 10**9, ADDR["mag1"], ADDR["lma"], "mh", b"same"))
        b.add(Carried("b", t, t * 10**9 + 5_000_000, ADDR["mag1"], ADDR["lma"], "mh", b"same"))
    a.add(Carried("a", 3, 3 * 10**9, ADDR["lma"], ADDR["mag1"], "mh", b"twice"))
    b.add(Carried("b", 3, 3 * 10**9, ADDR["lma"], ADDR["mag1"], "mh", b"twice"))
    b.add(Carried("b", 4, 4 * 10**9, ADDR["lma"], ADDR["mag1"], "mh", b"twice"))
    bounds = pair_bounds(a, b)
    assert bounds.a_to_b == 2 and bounds.b_to_a == 0 and bounds.upper == 5_000_000


@settings(max_examples=60, deadline=None)
@given(
    offset=st.integers(-10**10, 10**10),
    delays=st.lists(st.tuples(st.booleans(), st.integers(1, 50_000_000)), min_size=1, max_size=12),
)
def test_the_true_offset_is_always_within_the_interval(offset, delays):
    packets = [("mag1", "lma") if forward else ("lma", "mag1") for forward, _ in delays]
    logs = _logs([(s, d, 10**9 * (i + 1), delay) for i, ((s, d), (_, delay)) in enumerate(zip(packets, delays, strict=True))],
                 {"lma": 0, "mag1": offset})
    _, mag1 = estimate_offsets([logs["lma"], logs["mag1"]])
    if mag1.method == "estimated":
        assert abs(mag1.offset_ns - offset) <= mag1.uncertainty_ns
    else:
        assert mag1.method == "one-sided"
        smallest = min(d for _, d in delays)
        assert abs(mag1.offset_ns - offset) == smallest


def test_two_taps_that_see_only_each_other_tell_the_sender_by_the_order():
    """An LMA tap and one MAG tap with nothing else: the address counts tie, the delays do not."""
    offsets = {"lma": 0, "mag1": -5_700_000_000}
    packets = [("mag1", "lma", 1_000_000_000, 1_500_000), ("lma", "mag1", 1_003_000_000, 1_000_000),
               ("mag1", "lma", 3_000_000_000, 800_000), ("lma", "mag1", 3_003_000_000, 600_000)]
    logs = _logs(packets, offsets, others=False)
    assert logs["lma"].own == logs["mag1"].own  # the counts cannot tell
    _, mag1 = estimate_offsets([logs["lma"], logs["mag1"]])
    assert mag1.method == "estimated"
    assert abs(mag1.offset_ns - offsets["mag1"]) <= mag1.uncertainty_ns == 700_000
    one_way = _logs(packets[::2], offsets, others=False)
    _, unknown = estimate_offsets([one_way["lma"], one_way["mag1"]])
    assert unknown.method == "none" and "no direction" in unknown.note
