"""From frames to signalling: link types, IPv6 extension headers, tunnels, transports.

Frames are built with scapy (or laid out by hand from the RFCs where scapy has no layer) and
tshark says which frames hold a mobility header; the extractor must find exactly those.
"""

from __future__ import annotations

import socket
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

from scapy.layers.inet import GRE, ICMP, IP, UDP, IPOption_RR
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback, LoopbackOpenBSD

from pmipct_check.capture import CaptureWriter, Carried, Extractor, Tunnelled, iter_carried, read_packets
from pmipct_check.capture.extract import MAX_TUNNELS
from pmipct_check.notices import Notice
from pmipct_check.profile import DEFAULT_PROFILE

T0 = 1_700_000_000_000_000_000
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}
MAG, LMA = "2001:db8:1::1", "2001:db8:2::1"
HOME = "2001:db8:aa::5"
MH = MIP6MH_BU(seq=7, mhtime=100)  # any BU; its content is the decoder's business


def ipv6_mh(src: str = MAG, dst: str = LMA, hlim: int = 64) -> IPv6:
    return IPv6(src=src, dst=dst, hlim=hlim) / MH


def mh_bytes() -> bytes:
    return bytes(ipv6_mh())[40:]


def tshark_mipv6_frames(tshark: str, path: Path) -> list[int]:
    out = subprocess.run([tshark, "-r", str(path), "-Y", "mipv6", "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [int(line) for line in out.split()]


def write_frames(path: Path, frames: list[tuple[int, bytes]]) -> None:
    """(linktype, frame) pairs into one pcapng, an interface per link type."""
    with CaptureWriter(path, "pcapng", linktype=frames[0][0]) as writer:
        ifaces = {frames[0][0]: 0}
        for i, (linktype, data) in enumerate(frames):
            if linktype not in ifaces:
                ifaces[linktype] = writer.add_interface(linktype)
            writer.write(T0 + i * 1_000_000, data, ifaces[linktype])


def carried(path: Path, **kwargs: object) -> list[Carried | Tunnelled | Notice]:
    return list(iter_carried([str(path)], **kwargs))  # type: ignore[arg-type]


def routing_type2(home: str, nh: int) -> bytes:
    """RFC 6275 6.4: Type 2 Routing header (Hdr Ext Len 2, Segments Left 1, Reserved, Home Address)."""
    return bytes([nh, 2, 2, 1]) + bytes(4) + socket.inet_pton(socket.AF_INET6, home)


def ah(nh: int) -> bytes:
    """RFC 4302: Next Header, Payload Len 4 (24 octets), Reserved, SPI, Sequence, 12-octet ICV."""
    return bytes([nh, 4, 0, 0]) + struct.pack(">II", 0x100, 1) + bytes(12)


def raw_ipv6(nh: int, payload: bytes, src: str = MAG, dst: str = LMA) -> bytes:
    head = bytes(IPv6(src=src, dst=dst, nh=nh, plen=len(payload)))
    return head[:40] + payload


def link_matrix() -> list[tuple[int, bytes, str]]:
    """(linktype, frame, what) covering every link framing; each frame carries one MH."""
    ip = bytes(ipv6_mh())
    tag9100 = struct.pack(">HH", 0x9100, 300) + struct.pack(">HH", 0x8100, 30)
    return [
        (1, bytes(Ether(**MAC) / ipv6_mh()), "ethernet"),
        (1, bytes(Ether(**MAC) / Dot1Q(vlan=10) / ipv6_mh()), "802.1Q"),
        (1, bytes(Ether(**MAC) / Dot1AD(vlan=100) / Dot1Q(vlan=10) / ipv6_mh()), "QinQ 88a8"),
        (1, bytes(Ether(**MAC))[:12] + tag9100 + b"\x86\xdd" + ip, "QinQ 9100"),
        (113, bytes(CookedLinux(proto=0x86DD) / ipv6_mh()), "SLL"),
        (276, bytes(CookedLinuxV2(proto=0x86DD) / ipv6_mh()), "SLL2"),
        (101, ip, "raw"),
        (229, ip, "raw IPv6"),
        (0, bytes(Loopback(type=24) / ipv6_mh()), "NULL, host order"),
        (0, struct.pack(">I", 30) + ip, "NULL, other order"),
        (108, bytes(LoopbackOpenBSD(type=24) / ipv6_mh()), "LOOP"),
    ]


def test_every_link_type_finds_the_mobility_header_where_tshark_does(tmp_path, tshark):
    matrix = link_matrix()
    path = tmp_path / "links.pcapng"
    write_frames(path, [(lt, frame) for lt, frame, _ in matrix])
    found = [c for c in carried(path) if isinstance(c, Carried)]
    assert [c.frame for c in found] == tshark_mipv6_frames(tshark, path) == list(range(1, len(matrix) + 1))
    for c in found:
        assert (c.src, c.dst, c.transport, c.data) == (MAG, LMA, "mh", mh_bytes())
        assert c.info["ip_version"] == 6 and c.info["hop_limit"] == 64
        assert c.info["ip_payload_len"] == len(mh_bytes())
        assert "outer" not in c.info


def test_equal_carrier_infos_are_one_shared_dict(tmp_path):
    """Each decoded message keeps its carrier info: equal ones are one read-only dict."""
    tunnel = IPv6(src=LMA, dst=MAG) / ipv6_mh()
    frames = [ipv6_mh(), ipv6_mh(hlim=9), ipv6_mh(), tunnel, tunnel]
    path = tmp_path / "infos.pcapng"
    write_frames(path, [(1, bytes(Ether(**MAC) / f)) for f in frames])
    first, other, again, tunnelled, tunnelled_again = (c for c in carried(path) if isinstance(c, Carried))
    assert first.info is again.info and first.info == {"ip_version": 6, "hop_limit": 64, "ip_payload_len": len(mh_bytes())}
    assert other.info is not first.info and other.info["hop_limit"] == 9
    assert tunnelled.info is tunnelled_again.info and tunnelled.info["outer"] == ((LMA, MAG),)
    assert tunnelled.info is not first.info


def tunnel_matrix() -> list[tuple[bytes, dict[str, object]]]:
    """Raw-IP frames with extension headers and tunnels; what info each MH must come with."""
    outer4 = ("192.0.2.1", "192.0.2.2")
    outer6 = ("2001:db8:f::1", "2001:db8:f::2")
    return [
        (bytes(IPv6(src=MAG, dst=LMA) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOME)])
               / MH), {"checksum_src": HOME}),
        (raw_ipv6(43, routing_type2(HOME, 135) + mh_bytes()), {"checksum_dst": HOME}),
        (raw_ipv6(51, ah(135) + mh_bytes()), {}),
        (bytes(IPv6(src=outer6[0], dst=outer6[1]) / ipv6_mh()), {"outer": (outer6,)}),
        (bytes(IP(src=outer4[0], dst=outer4[1]) / ipv6_mh()), {"outer": (outer4,)}),
        (bytes(IPv6(src=outer6[0], dst=outer6[1]) / GRE(key_present=1, key=0x1234) / ipv6_mh()),
         {"outer": (outer6,), "gre_keys": (0x1234,)}),
        (bytes(IP(src=outer4[0], dst=outer4[1]) / GRE(chksum_present=1, seqnum_present=1, sequence_number=5)
               / ipv6_mh()), {"outer": (outer4,)}),
        (bytes(IP(src=outer4[0], dst=outer4[1]) / IPv6(src=outer6[0], dst=outer6[1])
               / GRE(key_present=1, key=7) / ipv6_mh()),
         {"outer": (outer4, outer6), "gre_keys": (7,)}),
    ]


def test_extension_headers_and_tunnels_are_opened_where_tshark_opens_them(tmp_path, tshark):
    matrix = tunnel_matrix()
    path = tmp_path / "tunnels.pcapng"
    write_frames(path, [(101, frame) for frame, _ in matrix])
    found = [c for c in carried(path) if isinstance(c, Carried)]
    assert [c.frame for c in found] == tshark_mipv6_frames(tshark, path) == list(range(1, len(matrix) + 1))
    for c, (_, expected) in zip(found, matrix, strict=True):
        unchecked = c.data[:4] + c.data[6:]  # the checksum differs when HAO / RH2 change the pseudo-header
        assert (c.src, c.dst, c.transport, unchecked) == (MAG, LMA, "mh", mh_bytes()[:4] + mh_bytes()[6:])
        for key, value in expected.items():
            assert c.info[key] == value, (c.frame, key)
        assert set(expected) >= {k for k in ("outer", "gre_keys", "checksum_src", "checksum_dst")
                                 if k in c.info}


def test_other_transports(tmp_path):
    cxtp = bytes([0x27, 0]) + struct.pack(">H", 28) + bytes(24)  # a CT-Req header and body
    frames = [
        bytes(IP(src="192.0.2.1", dst="192.0.2.2", ttl=9) / UDP(sport=5436, dport=5436) / mh_bytes()),
        bytes(IPv6(src=MAG, dst=LMA) / UDP(sport=40000, dport=7000) / cxtp),
        raw_ipv6(58, bytes([150, 0, 0, 0, 1, 0, 0, 0]) + cxtp),
        bytes(IP(src="192.0.2.1", dst="192.0.2.2") / ICMP(type=41, code=0, unused=0x01000000) / cxtp),
        raw_ipv6(58, bytes([150, 0, 0, 0, 2, 0, 0, 0]) + cxtp),  # another subtype: not CXTP
        bytes(IP(src="192.0.2.1", dst="192.0.2.2") / ICMP(type=8) / cxtp),  # an echo request
        bytes(IPv6(src=MAG, dst=LMA) / UDP(sport=40000, dport=7001) / cxtp),  # not a CXTP port
        raw_ipv6(62, mh_bytes()),
        bytes(IPv6(src=MAG, dst=LMA) / IP(src="192.0.2.1", dst="192.0.2.2", options=[IPOption_RR()])
              / UDP(sport=5436, dport=5436) / mh_bytes()),  # IPv4 with options, inside IPv6
    ]
    path = tmp_path / "transports.pcap"
    with CaptureWriter(path, linktype=101) as writer:
        for i, frame in enumerate(frames):
            writer.write(T0 + i, frame)
    profile = replace(DEFAULT_PROFILE, cxtp_udp_ports=frozenset({7000}))
    found = [c for c in carried(path, profile=profile) if isinstance(c, Carried)]
    assert [(c.frame, c.transport) for c in found] == [
        (1, "mh-udp"), (2, "udp"), (3, "icmpv6"), (4, "icmpv4"), (8, "mh-old"), (9, "mh-udp")]
    assert found[-1].data == mh_bytes() and found[-1].info["outer"] == ((MAG, LMA),)
    assert found[0].data == mh_bytes() and found[0].info == {
        "ip_version": 4, "hop_limit": 9, "sport": 5436, "dport": 5436}
    assert found[0].src == "192.0.2.1"
    assert all(c.data == cxtp for c in found[1:4])
    assert found[2].info["subtype"] == 1 and found[3].info["code"] == 0
    # without the profile's port, UDP 7000 is user plane
    assert [c.frame for c in carried(path) if isinstance(c, Carried)] == [1, 3, 4, 8, 9]


def test_fragments_esp_and_the_tunnel_bound(tmp_path):
    first = bytes(IPv6(src=MAG, dst=LMA) / IPv6ExtHdrFragment(m=1, offset=0, id=1) / MH)
    later = bytes(IPv6(src=MAG, dst=LMA) / IPv6ExtHdrFragment(m=0, offset=3, nh=135, id=1) / (b"x" * 16))
    v4later = bytes(IP(src="192.0.2.1", dst="192.0.2.2", frag=5, proto=17) / (b"y" * 16))
    esp = raw_ipv6(50, struct.pack(">II", 1, 1) + bytes(32))
    deep = ipv6_mh()
    for _ in range(MAX_TUNNELS + 1):
        deep = IPv6(src="2001:db8:f::1", dst="2001:db8:f::2") / deep
    at_bound = ipv6_mh()
    for _ in range(MAX_TUNNELS):
        at_bound = IPv6(src="2001:db8:f::1", dst="2001:db8:f::2") / at_bound
    path = tmp_path / "frag.pcap"
    with CaptureWriter(path, linktype=101) as writer:
        for i, frame in enumerate([first, later, v4later, esp, bytes(deep), bytes(at_bound)]):
            writer.write(T0 + i, frame)
    extractor = Extractor()
    items = [item for p in read_packets(str(path)) for item in extractor.feed(p)]  # type: ignore[arg-type]
    assert [(type(i).__name__, i.frame) for i in items] == [
        ("Notice", 1), ("Carried", 1), ("Notice", 5), ("Carried", 6)]
    assert items[0].code == "capture.fragmented-signalling" and items[1].info["fragmented"] is True
    assert items[2].code == "capture.tunnel-depth"
    assert len(items[3].info["outer"]) == MAX_TUNNELS
    assert extractor.stats["non_first_fragments"] == 2 and extractor.stats["esp"] == 1


def test_user_plane_in_tunnels_only_when_asked(tmp_path):
    user = IPv6(src="2001:db8:aa::5", dst="2001:db8:99::1") / UDP(sport=1, dport=2) / b"data"
    frames = [
        bytes(Ether(**MAC) / IPv6(src=LMA, dst=MAG) / user),
        bytes(Ether(**MAC) / IP(src="192.0.2.2", dst="192.0.2.1") / GRE(key_present=1, key=3) / user),
        bytes(Ether(**MAC) / user),  # not tunnelled
        bytes(Ether(**MAC) / IPv6(src=LMA, dst=MAG) / ipv6_mh()),
    ]
    path = tmp_path / "user.pcap"
    with CaptureWriter(path) as writer:
        for i, frame in enumerate(frames):
            writer.write(T0 + i, frame)
    assert [type(i).__name__ for i in carried(path)] == ["Carried"]
    tracked = carried(path, track_user_plane=True)
    assert [type(i).__name__ for i in tracked] == ["Tunnelled", "Tunnelled", "Carried"]
    assert tracked[0] == Tunnelled(str(path), 1, T0, LMA, MAG, "2001:db8:aa::5", "2001:db8:99::1")
    assert (tracked[1].outer_src, tracked[1].outer_dst) == ("192.0.2.2", "192.0.2.1")


def test_truncated_and_garbage_frames_never_raise(tmp_path):
    good = [bytes(Ether(**MAC) / IPv6(src=LMA, dst=MAG) / GRE(key_present=1) / ipv6_mh()),
            bytes(IP() / UDP(dport=5436) / mh_bytes()),
            bytes(IPv6() / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOME)]) / MH)]
    extractor = Extractor(track_user_plane=True)
    for frame in good:
        for cut in range(len(frame) + 1):
            for linktype in (1, 101, 0, 113, 276, 9999):
                for item in extractor.feed_raw("f", 1, 0, linktype, frame[:cut]):
                    assert isinstance(item, (Carried, Tunnelled, Notice))


def test_tcpdump_mobility_captures(tcpdump_mobility, tshark):
    path = tcpdump_mobility / "ipv6_mobility_1.pcap"
    items = carried(path)
    assert [i.frame for i in items if isinstance(i, Carried)] == list(range(1, 17))
    assert [i.frame for i in items if isinstance(i, Carried)] == tshark_mipv6_frames(tshark, path)
    assert not [i for i in items if isinstance(i, Notice)]
    for path in sorted(tcpdump_mobility.glob("*.pcap")):
        for item in carried(path, track_user_plane=True):
            assert isinstance(item, (Carried, Tunnelled, Notice))
