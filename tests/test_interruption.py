"""Data-path interruption (issue 6): tunnel path switches per flow, matched to handovers.

Expected values come from tshark's view of the synthesized captures (outer and inner addresses
and frame times per frame), computed here the way the issue defines them, never from our code;
the tracker's own unit tests use IP headers written out by hand (RFC 8200 / RFC 791 layouts).
"""

from __future__ import annotations

import ipaddress
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmipct_check.analysis.timings import context_timings
from pmipct_check.capture.model import PathSwitch
from pmipct_check.capture.paths import FLAP_LIMIT, PathTracker
from pmipct_check.cli import cli
from pmipct_check.notices import Notice
from pmipct_check.pipeline import check_files

LMA6, MAG1_6, MAG2_6 = "2001:db8:ffff::1", "2001:db8:ff01::1", "2001:db8:ff02::1"


def synth(tmp_path: Path, *args: str) -> Path:
    path = tmp_path / "c.pcapng"
    result = CliRunner().invoke(cli, ["synth", *args, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def tshark_rows(tshark: str, path: Path) -> list[tuple[Decimal, int, list[str], list[str]]]:
    """(time, frame, outer+inner sources, outer+inner destinations) of every tunnelled frame."""
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-E", "separator=/t", "-e", "frame.time_epoch",
                          "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        t, frame, ip_src, ip_dst, v6_src, v6_dst = line.split("\t")
        srcs = [a for a in (ip_src.split(",") + v6_src.split(",")) if a]
        dsts = [a for a in (ip_dst.split(",") + v6_dst.split(",")) if a]
        if len(srcs) == 2:  # one tunnel: outer then inner (IPv4 outer first in both lists)
            rows.append((Decimal(t), int(frame), srcs, dsts))
    return rows


def expected(rows, prefix: str, old: str, new: str, direction: str) -> Decimal:
    """Last packet on the old tunnel for the prefix -> the first on the new one, as the issue says."""
    net = ipaddress.ip_network(prefix)
    inner, mag = (1, 1) if direction == "down" else (1, 0)
    last_old = first_new = None
    for t, _, srcs, dsts in rows:
        inner_addr = dsts[inner] if direction == "down" else srcs[inner]
        mag_addr = dsts[0] if mag == 1 else srcs[0]
        if ipaddress.ip_address(inner_addr) not in net:
            continue
        if mag_addr == old and first_new is None:
            last_old = t
        elif mag_addr == new and first_new is None:
            first_new = t
    assert last_old is not None and first_new is not None
    return first_new - last_old


@pytest.mark.parametrize("transport", [(), ("--ipv4-transport",)], ids=["ipv6-in-ipv6", "ipv6-in-ipv4"])
def test_interruption_matches_the_trace(tmp_path: Path, tshark: str, transport: tuple[str, ...]) -> None:
    path = synth(tmp_path, "reactive-1", "--mns", "3", *transport)
    result = check_files([str(path)])
    rows = tshark_rows(tshark, path)
    assert len(result.handovers) == 3
    prefixes = {b.mn: b.prefixes[0] for b in result.bindings}
    assert len(set(prefixes.values())) == 3
    for h in result.handovers:
        down = expected(rows, prefixes[h.mn], h.pmag, h.nmag, "down")
        up = expected(rows, prefixes[h.mn], h.pmag, h.nmag, "up")
        assert Decimal(str(h.timings["interruption"])) == down, h.id
        assert Decimal(str(h.timings["interruption_up"])) == up, h.id
        # the synthesizer sends every 100 ms down and 200 ms up: a gap of about one period
        assert Decimal("0.05") < down < Decimal("0.2") and Decimal("0.1") < up < Decimal("0.4")


def test_interruption_in_every_report(tmp_path: Path) -> None:
    path = synth(tmp_path, "reactive-1")
    text = CliRunner().invoke(cli, ["check", str(path), "--format", "text"]).output
    assert "interruption" in text
    json_out = tmp_path / "r.json"
    CliRunner().invoke(cli, ["check", str(path), "--format", "json", "-o", str(json_out)])
    assert '"interruption"' in json_out.read_text()


# -- the tracker, on headers written out by hand --------------------------------------------------


def ipv6(src: str, dst: str, nh: int, payload: bytes) -> bytes:
    """RFC 8200 section 3: version 6, traffic class, flow label, payload length, next header, hop limit."""
    return (struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + ipaddress.IPv6Address(src).packed
            + ipaddress.IPv6Address(dst).packed + payload)


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    """RFC 791: version 4, IHL 5, total length, no fragmentation, TTL, protocol (checksum left 0)."""
    return (struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0)
            + ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + payload)


def feed(tracker: PathTracker, frames: list[tuple[int, bytes]]) -> list[PathSwitch | Notice]:
    out: list[PathSwitch | Notice] = []
    for n, (t, data) in enumerate(frames, 1):
        inner = 40 if data[0] >> 4 == 6 else 20
        out += tracker.packet("f", n, t, data, 0, inner)
    return out


def down(mag: str, t: int, mn: str = "2001:db8:1:1::100") -> tuple[int, bytes]:
    return t, ipv6(LMA6, mag, 41, ipv6("2001:db8:cafe::1", mn, 59, b""))


def test_tracker_reports_one_switch_per_move() -> None:
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)))
    got = feed(tracker, [down(MAG1_6, 0), down(MAG1_6, 100), down(MAG2_6, 250), down(MAG2_6, 300)])
    assert got == [PathSwitch("f", 3, 250, "down", "2001:db8:1:1::/64", MAG1_6, MAG2_6, 2, 150, LMA6)]


def test_tracker_ignores_the_other_leg_of_mn_to_mn_traffic() -> None:
    """MN1 -> MN2 seen going up (MAG1 -> LMA) and coming down (LMA -> MAG2): no path moved."""
    up_leg = ipv6(MAG1_6, LMA6, 41, ipv6("2001:db8:1:1::100", "2001:db8:1:2::100", 59, b""))
    down_leg = ipv6(LMA6, MAG2_6, 41, ipv6("2001:db8:1:1::100", "2001:db8:1:2::100", 59, b""))
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)))
    assert feed(tracker, [(t, up_leg if t % 2 else down_leg) for t in range(20)]) == []


def test_tracker_stops_following_a_flapping_flow() -> None:
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)))
    got = feed(tracker, [down(MAG1_6 if i % 2 else MAG2_6, i * 1000) for i in range(100)])
    assert len(got) == FLAP_LIMIT - 1 and tracker.flapping == 1


def test_tracker_bounds_its_state_and_switches() -> None:
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)), max_flows=4, max_switches=2)
    feed(tracker, [down(MAG1_6, i, f"2001:db8:1:{i}::1") for i in range(1, 10)])
    assert len(tracker.flows) <= 4 and tracker.resets >= 1
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)), max_switches=2)
    frames = [f for i in range(1, 5) for f in (down(MAG1_6, i, f"2001:db8:1:{i}::1"),
                                               down(MAG2_6, 10 + i, f"2001:db8:1:{i}::1"))]
    got = feed(tracker, frames)
    assert [type(g).__name__ for g in got] == ["PathSwitch", "PathSwitch", "Notice"]


def test_tracker_keys_an_ipv4_home_address_whole() -> None:
    frames = [(t, ipv4("192.0.2.1", mag, 4, ipv4("198.51.100.1", "10.0.0.7", 17, b"")))
              for t, mag in ((0, "192.0.2.11"), (50, "192.0.2.12"))]
    tracker = PathTracker(lambda raw: str(ipaddress.ip_address(raw)))
    assert feed(tracker, frames) == [PathSwitch("f", 2, 50, "down", "10.0.0.7/32", "192.0.2.11", "192.0.2.12",
                                                1, 50, "192.0.2.1")]


# -- context ready -> activated -----------------------------------------------------------------


def test_cr_ca_from_the_trace(tmp_path: Path, tshark: str) -> None:
    """reactive-1: [CR] at the PBA to the nMAG, [CA] at the CTD (first SCTP DATA pMAG -> nMAG)."""
    path = synth(tmp_path, "reactive-1")
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "ipv6.src",
                          "-e", "ipv6.dst", "-e", "mip6.mhtype", "-e", "sctp.data_tsn"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    pba = next(Decimal(t) for t, s, d, mh, _ in rows if mh == "6" and d == MAG2_6)
    ctd = next(Decimal(t) for t, s, d, _, tsn in rows if tsn and s == MAG1_6 and d == MAG2_6)
    (h,) = check_files([str(path)]).handovers
    assert Decimal(str(h.timings["cr_ca"])) == ctd - pba


def test_cr_ca_needs_both_events() -> None:
    from pmipct_check.analysis.cases import load_cases

    cases = load_cases()
    assert context_timings(cases["proactive-1"].steps, pba=None, transfer=[]) == {}
    assert context_timings(cases["reactive-1"].steps, pba=None, transfer=[]) == {}


# -- matching switches to handovers ----------------------------------------------------------------


def test_switches_match_by_prefix_pair_and_time(tmp_path: Path) -> None:
    from pmipct_check.analysis import analyze
    from pmipct_check.analysis.datapath import MATCH_WINDOW_NS, with_interruptions
    from pmipct_check.decode import Message
    from pmipct_check.pipeline import decode_files

    path = synth(tmp_path, "reactive-1", "--mns", "2")
    analysis = analyze(m for m in decode_files([str(path)]) if isinstance(m, Message))
    h1 = next(h for h in analysis.handovers if h.mn == "mn1@lab.example")
    pba = h1.pba.time_ns
    prefix = next(b.prefixes[0] for b in analysis.bindings if b.mn == h1.mn)
    other = next(b.prefixes[0] for b in analysis.bindings if b.mn != h1.mn)

    def switch(t: int, gap: int, pfx: str = prefix, old: str = MAG1_6, new: str = MAG2_6,
               direction: str = "down") -> PathSwitch:
        return PathSwitch("f", 1, t, direction, pfx, old, new, 1, gap, LMA6)

    found = with_interruptions(analysis, [
        switch(pba + 50_000_000, 80_000_000),  # flow 1: last old at pba - 30 ms
        switch(pba + 40_000_000, 60_000_000),  # flow 2: last old at pba - 20 ms, first new at +40 ms
        switch(pba + 1_000_000, 1_000, pfx=other),  # another MN's prefix: not H1's
        switch(pba + 2_000_000, 1_000, old=MAG2_6, new=MAG1_6),  # the other way round
        switch(pba + MATCH_WINDOW_NS + 1, 1_000, direction="up"),  # too far from the registration
    ])
    timings = next(h for h in found.handovers if h.id == h1.id).timings
    assert timings["interruption"] == 0.06  # first new (+40 ms) - last old (-20 ms), over both flows
    assert "interruption_up" not in timings


def test_ladder_marks_the_first_packet_on_the_new_path(tmp_path: Path, tshark: str) -> None:
    from pmipct_check.report.ladder import Note, build_ladders, to_text

    path = synth(tmp_path, "reactive-1")
    result = check_files([str(path)])
    (ladder,) = build_ladders(result)
    (h,) = result.handovers
    prefix = ipaddress.ip_network(result.bindings[0].prefixes[0])
    first_new = next(frame for _, frame, _, dsts in tshark_rows(tshark, path)
                     if dsts[0] == h.nmag and ipaddress.ip_address(dsts[1]) in prefix)
    (note,) = [r for r in ladder.rows if isinstance(r, Note) and r.text == "[DATA]"]
    lanes = {lane.address: i for i, lane in enumerate(ladder.lifelines)}
    assert note.lane == lanes[h.nmag] and note.frame == first_new
    assert f"#{first_new}" in to_text([ladder], width=120)


def test_extractor_follows_gre_tunnels_and_hands_switches_on() -> None:
    """RFC 5845 GRE keys between LMA and MAG (RFC 2784/2890 header by hand), through the extractor."""
    from pmipct_check.capture import Extractor

    def frame(mag: str) -> bytes:
        gre = struct.pack("!HHI", 0x2000, 0x86DD, 7)  # K bit, IPv6 payload, key 7
        inner = ipv6("2001:db8:cafe::1", "2001:db8:1:1::100", 59, b"")
        return bytes(12) + b"\x86\xdd" + ipv6(LMA6, mag, 47, gre + inner)

    ex = Extractor()
    got = [i for n, mag in enumerate((MAG1_6, MAG1_6, MAG2_6), 1)
           for i in ex.feed_raw("f", n, n * 1000, 1, frame(mag))]
    assert got == [PathSwitch("f", 3, 3000, "down", "2001:db8:1:1::/64", MAG1_6, MAG2_6, 2, 1000, LMA6)]
    assert Extractor(track_paths=False).feed_raw("f", 1, 0, 1, frame(MAG1_6)) == ()
