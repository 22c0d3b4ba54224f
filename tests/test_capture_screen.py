"""The reader's user-plane screen changes how fast a capture is read, never what comes out.

Reference: every frame of the file read without a screen and fed to an extractor of its own, one
by one (the path every frame took before there was a screen).  Frames are laid out by hand from
RFC 8200 (IPv6), RFC 768 (UDP), RFC 2784 (GRE) and IEEE 802.3 (Ethernet II): user plane in
LMA-MAG tunnels whose flows switch MAG, flap, end in the middle of the file, share tunnels with
signalling, and every shape next to the screened one (short frames, inner extension headers,
ICMPv6, GRE, IPv4, other link types).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check import registry
from pmipct_check.capture import CaptureWriter, Extractor, PathSwitch, iter_file, iter_records
from pmipct_check.capture.link import LINKTYPE_ETHERNET, LINKTYPE_RAW

T0 = 1_700_000_000_000_000_000
LMA = bytes.fromhex("20010db8000200000000000000000001")
MAG1 = bytes.fromhex("20010db8000100000000000000000001")
MAG2 = bytes.fromhex("20010db8000100000000000000000002")
MAG3 = bytes.fromhex("20010db8000100000000000000000003")
CN = bytes.fromhex("20010db8ffff00000000000000000009")
MN = [bytes.fromhex(f"20010db800aa00{i:02x}0000000000000005") for i in range(4)]
MH_TYPE_PBU = 5


def ipv6(src: bytes, dst: bytes, nh: int, payload: bytes, version_octet: int = 0x60) -> bytes:
    return struct.pack("!BBHHBB", version_octet, 0, 0, len(payload), nh, 64) + src + dst + payload


def udp(sport: int, dport: int, payload: bytes = b"u" * 40) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ether(packet: bytes, ethertype: int = 0x86DD) -> bytes:
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", ethertype) + packet


def tunnelled(outer_src: bytes, outer_dst: bytes, inner: bytes, outer_nh: int = 41) -> bytes:
    return ether(ipv6(outer_src, outer_dst, outer_nh, inner))


def down(mag: bytes, mn: int, payload: bytes | None = None) -> bytes:
    """CN -> MN user plane, tunnelled LMA -> MAG."""
    return tunnelled(LMA, mag, ipv6(CN, MN[mn], 17, payload or udp(40000 + mn, 5001)))


def up(mag: bytes, mn: int) -> bytes:
    return tunnelled(mag, LMA, ipv6(MN[mn], CN, 17, udp(5001, 40000 + mn)))


def mh_pbu() -> bytes:
    body = struct.pack("!BBBBHHHH", 59, 1, MH_TYPE_PBU, 0, 0, 7, 0x8000, 100)
    return body


def palette() -> dict[str, tuple[int, bytes]]:
    """Every frame shape the tests draw from: (link type, frame)."""
    pmip_port = registry.PMIP6_UDP_PORT
    e = LINKTYPE_ETHERNET
    return {
        "down-mag1-0": (e, down(MAG1, 0)), "down-mag2-0": (e, down(MAG2, 0)),
        "down-mag1-1": (e, down(MAG1, 1)), "down-mag2-1": (e, down(MAG2, 1)),
        "down-mag3-1": (e, down(MAG3, 1)),
        "up-mag1-2": (e, up(MAG1, 2)), "up-mag2-2": (e, up(MAG2, 2)),
        "down-tcp-3": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[3], 6, b"t" * 60))),
        "down-tcp-3-mag2": (e, tunnelled(LMA, MAG2, ipv6(CN, MN[3], 6, b"t" * 60))),
        # the same flow with a traffic class in the version octets: still screened
        "down-tc-0": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 17, udp(1, 2), 0x6B), outer_nh=41)),
        # in the tunnel but signalling: UDP to the PMIPv6 port, an MH, ICMPv6 (CXTP), SCTP
        "down-pmip-udp": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 17, udp(pmip_port, 9, mh_pbu())))),
        "down-udp-from-pmip": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 17, udp(9, pmip_port, mh_pbu())))),
        "down-mh": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], registry.IPPROTO_MH, mh_pbu()))),
        "down-icmpv6-echo": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 58, bytes([128, 0]) + b"\0" * 60))),
        "down-dstopts": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 60, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp(1, 2)))),
        "down-in-down": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 41, ipv6(CN, MN[1], 17, udp(1, 2))))),
        "down-ipip": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[0], 4, b"\x45" + b"\0" * 59))),
        "pbu": (e, ether(ipv6(MAG1, LMA, registry.IPPROTO_MH, mh_pbu()))),
        # shapes the screen does not take: they go the extractor's way
        "short": (e, down(MAG1, 0)[:97]),
        "short-mag2": (e, down(MAG2, 0)[:97]),
        "gre": (e, ether(ipv6(LMA, MAG1, 47, struct.pack("!HH", 0, 0x86DD) + ipv6(CN, MN[0], 17, udp(1, 2))))),
        "outer-v4": (e, ether(struct.pack("!BBHHHBBH", 0x45, 0, 20 + 60, 0, 0, 64, 41, 0) + bytes(4) + bytes(4)
                              + ipv6(CN, MN[0], 17, udp(1, 2, b"x" * 12)), 0x0800)),
        "raw-link": (LINKTYPE_RAW, ipv6(LMA, MAG1, 41, ipv6(CN, MN[0], 17, udp(1, 2)))),
        "raw-link-mag2": (LINKTYPE_RAW, ipv6(LMA, MAG2, 41, ipv6(CN, MN[0], 17, udp(1, 2)))),
        "outer-version-4-claim": (e, tunnelled(LMA, MAG1, ipv6(CN, MN[1], 17, udp(1, 2), 0x40))),
        "garbage": (e, b"\xff" * 120),
    }


def write(path: Path, fmt: str, frames: list[tuple[int, int, bytes]]) -> None:
    """(time_ns, link type, frame) into a capture, one interface per link type."""
    with CaptureWriter(path, fmt, linktype=frames[0][1] if fmt == "pcap" else LINKTYPE_ETHERNET) as writer:
        ifaces = {LINKTYPE_ETHERNET: 0} if fmt == "pcapng" else {frames[0][1]: 0}
        for time_ns, linktype, data in frames:
            if linktype not in ifaces:
                ifaces[linktype] = writer.add_interface(linktype)
            writer.write(time_ns, data, ifaces[linktype])


def unscreened(path: str) -> tuple[list, int]:
    """Every frame through ``feed_raw``, as before the screen: the reference."""
    extractor = Extractor()
    out: list = []
    frames = 0
    for record in iter_records(path):
        if type(record) is tuple:
            frames = record[0]
            out += extractor.feed_raw(path, *record)
        else:
            out.append(record)
    return out + extractor.finish(), frames


def screened(path: str) -> tuple[list, int]:
    counts: dict[str, int] = {}
    items = list(iter_file(path, frame_counts=counts))
    return items, counts[path]


def scenario() -> list[str]:
    """Flows that start, run, switch, flap and stop, with signalling and other shapes between."""
    names = ["pbu"]
    names += ["down-mag1-0", "down-mag1-1", "up-mag1-2", "down-tcp-3"] * 20
    names += ["down-pmip-udp", "down-udp-from-pmip", "down-mh", "down-icmpv6-echo", "down-dstopts",
              "down-in-down", "down-ipip", "gre", "outer-v4", "raw-link", "short", "down-tc-0", "garbage",
              "outer-version-4-claim"]
    names += ["down-mag1-0", "down-mag1-1"] * 10
    names += ["pbu", "down-mag2-0", "up-mag2-2", "down-tcp-3-mag2"] + ["down-mag2-0", "up-mag2-2"] * 15
    names += ["raw-link-mag2", "raw-link", "short-mag2", "short"]
    names += ["down-mag1-1", "down-mag3-1"] * 12  # flaps: no longer followed after FLAP_LIMIT flips
    names += ["down-mag1-0"] * 30  # ends on screened frames: the frame count must still be the file's
    return names


@pytest.mark.parametrize("fmt", ["pcapng", "pcap"])
def test_screened_read_equals_frame_by_frame_extraction(tmp_path, fmt):
    shapes = palette()
    if fmt == "pcap":  # one link type per pcap file
        shapes = {k: v for k, v in shapes.items() if v[0] == LINKTYPE_ETHERNET}
    frames = [(T0 + i * 10_000_000, *shapes[name]) for i, name in enumerate(scenario()) if name in shapes]
    path = tmp_path / f"u.{fmt}"
    write(path, fmt, frames)
    items, count = screened(str(path))
    reference, reference_count = unscreened(str(path))
    assert items == reference
    assert count == reference_count == len(frames)
    switches = [i for i in items if isinstance(i, PathSwitch)]
    assert {(s.direction, s.prefix) for s in switches} >= {
        ("down", "2001:db8:aa::/64"), ("down", "2001:db8:aa:1::/64"), ("up", "2001:db8:aa:2::/64")}


def test_the_screen_passes_plain_tunnelled_user_plane_and_nothing_else(tmp_path):
    shapes = palette()
    names = ["down-mag1-0"] * 50 + ["down-pmip-udp", "down-mh", "short", "down-dstopts"] + ["down-mag2-0"] * 5
    frames = [(T0 + i * 1000, *shapes[n]) for i, n in enumerate(names)]
    path = tmp_path / "u.pcapng"
    write(path, "pcapng", frames)
    extractor = Extractor()
    handed_on = []
    records = iter_records(str(path), extractor.screen)
    while True:
        try:
            record = next(records)
        except StopIteration as stop:
            last_frame = stop.value
            break
        handed_on.append(record[0])
        extractor.feed_raw(str(path), *record)
    # the first packet of the flow (new), the four others, the switch; then the new tunnel's flow is followed
    assert handed_on == [1, 51, 52, 53, 54, 55]
    assert last_frame == len(names)  # the reader's value counts the frames it passed over too
    assert Extractor(track_user_plane=True).screen is None


def _big_endian_pcapng(frames: list[tuple[int, int, bytes]]) -> bytes:
    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        return struct.pack(">II", btype, len(body) + 12) + body + struct.pack(">I", len(body) + 12)

    out = block(0x0A0D0D0A, struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack(">HHI", LINKTYPE_ETHERNET, 0, 0))
    for time_ns, _linktype, data in frames:
        ticks = time_ns // 1000
        out += block(6, struct.pack(">IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data)
    return out


def test_big_endian_pcapng_is_screened_the_same(tmp_path):
    shapes = {k: v for k, v in palette().items() if v[0] == LINKTYPE_ETHERNET}
    frames = [(T0 + i * 10_000_000, *shapes[name]) for i, name in enumerate(scenario()) if name in shapes]
    path = tmp_path / "be.pcapng"
    path.write_bytes(_big_endian_pcapng(frames))
    assert screened(str(path)) == unscreened(str(path))
    le = tmp_path / "le.pcapng"
    write(le, "pcapng", frames)
    assert [getattr(i, "frame", None) for i in screened(str(path))[0]] == \
        [getattr(i, "frame", None) for i in screened(str(le))[0]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(palette())), st.integers(0, 3_000_000_000)), min_size=1,
                max_size=120))
def test_any_sequence_of_frames_reads_the_same_screened(tmp_path, draws):
    shapes = palette()
    time_ns = T0
    frames = []
    for name, step in draws:
        time_ns += step
        frames.append((time_ns, *shapes[name]))
    path = tmp_path / "h.pcapng"
    write(path, "pcapng", frames)
    assert screened(str(path)) == unscreened(str(path))
