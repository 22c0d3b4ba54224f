"""CXTP layers against RFC 4067 figures written out by hand; ICMP and SCTP carriage; tshark.

Octet 0 is version (high 3 bits) and type (low 5); octet 1 holds V (0x80) and A or S (0x40);
Length counts the whole message with its 4-octet header (protocol-notes (g)).  CDB Length is in
8-octet units including the 4-octet head; data is zero-padded to 64 bits (RFC 4067 2.4).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkSACK
from scapy.packet import Raw
from scapy.utils import wrpcap

from pmipct_check import layers as L
from pmipct_check.capture.sctp import cxtp_header_ok
from pmipct_check.layers.cxtp import CXTP_CLASSES
from pmipct_check.layers.record import to_fields
from pmipct_check.profile import DEFAULT_PROFILE

PREV = "2001:db8:1::100"
PREV_HEX = "20010db8000100000000000000000100"
GROUP_HEX = "ff0e0000000000000000000000000101"


def h(text: str) -> bytes:
    return bytes.fromhex(re.sub(r"\s+|#.*", "", text))


@pytest.fixture
def profile_binding() -> Iterator[None]:
    yield
    L.bind_profile(None)


MLD_CDB = h(f"0001 04 00  20010db800010000 {GROUP_HEX} 00000000")  # FPT 1, 4 x 8 octets, zero pad

FIGURES = {
    "CTD": (
        lambda: L.cxtp_ctd(PREV, [L.mld_cdb("2001:db8:1::/64", "ff0e::101")], ack=True, elapsed_ms=150),
        h(f"23 40 0038  00000096  {PREV_HEX}") + MLD_CDB,
    ),
    "PCTD": (
        lambda: L.cxtp_pctd(PREV, b"k" * 20, [L.mld_cdb("2001:db8:1::/64", "ff0e::101")], ack=False),
        h(f"24 00 0050  00000000  {PREV_HEX}  0001 0014") + b"k" * 20 + MLD_CDB,
    ),
    "CT-Req": (
        lambda: L.cxtp_ct_req(PREV, [L.cdb_request(1)], seq=7, token=0),
        h(f"27 00 0020  {PREV_HEX}  00000007 00000000  0001 00 00"),
    ),
    "CTDR": (lambda: L.cxtp_ctdr(PREV, [(1, 0)]), h(f"25 40 0018  {PREV_HEX}  0001 00 00")),
    "CTC": (lambda: L.cxtp_ctc("192.0.2.100"), h("26 80 0008 c0000264")),
    "CTAR": (
        lambda: L.cxtp_ctar(PREV, "2001:db8::2", 0x01020304, token=0xAABBCCDD),
        h(f"21 40 002c  {PREV_HEX}  20010db8000000000000000000000002  01020304 aabbccdd"),
    ),
    "CTAA": (lambda: L.cxtp_ctaa(PREV, [(1, 1)]), h(f"22 00 0018  {PREV_HEX}  0001 01 00")),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_type_matches_the_rfc4067_figure(name: str) -> None:
    build, expected = FIGURES[name]
    msg = build()
    assert bytes(msg) == expected
    again = L.CXTP(expected)
    assert type(again) is type(msg) and bytes(again) == expected and cxtp_header_ok(expected)
    protocol, rtype, fields, warnings = to_fields(again)
    assert (protocol, rtype, fields["length"], warnings) == ("cxtp", name, len(expected), [])


def test_every_type_has_a_layer_and_round_trips_with_ipv4_addresses() -> None:
    for type_code, cls in CXTP_CLASSES.items():
        wire = bytes(cls(V=1, mn_prev_addr="192.0.2.1", **({"ar_addr": "192.0.2.2"} if type_code == 1 else {})))
        again = L.CXTP(wire)
        assert type(again) is cls and again.mn_prev_addr == "192.0.2.1" and bytes(again) == wire
        assert to_fields(again)[2]["flags"]["V"] is True


def test_cdb_length_presence_vector_and_padding() -> None:
    assert bytes(L.cdb(1, b"\xaa")) == h("0001 01 00 aa000000")
    assert bytes(L.cdb(1, b"\xaa" * 4)) == h("0001 01 00 aaaaaaaa")
    assert bytes(L.cdb(1, b"\xaa" * 5)) == h("0001 02 00 aaaaaaaaaa 00000000000000")
    assert bytes(L.cdb(1, b"", presence_vector=0x80000000)) == h("0001 01 80 80000000")
    assert bytes(L.cdb(1, b"\xbb", presence_vector=1)) == h("0001 02 80 00000001 bb 00000000000000")
    assert bytes(L.cdb_request(1)) == h("0001 00 00")
    ctd = to_fields(L.cxtp_ctd(PREV, [L.cdb(1, b"\xbb", presence_vector=1)]))[2]
    assert ctd["cdbs"] == [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "length": 2, "p": True,
                            "presence_vector": 1, "data": "bb00000000000000"}]


def test_flags_and_statuses() -> None:
    failed = to_fields(L.cxtp_ctdr(PREV, [(1, 1)]))[2]
    assert failed["flags"] == {"V": False, "S": False}
    assert failed["statuses"][0]["status_name"] == "BAD_CHECKSUM"
    assert to_fields(L.cxtp_ctd(PREV, ack=False))[2]["flags"] == {"V": False, "A": False}
    with pytest.raises(ValueError):
        L.cxtp_ctar(PREV, "192.0.2.2", 1)  # one address family per message (the V flag)


def test_icmpv6_150_and_icmpv4_41_carry_ctar_and_ctaa(tshark: str, tmp_path: Path) -> None:
    v6 = IPv6(src=PREV, dst="2001:db8::2") / L.ICMPv6ExpMobility() / L.cxtp_ctar(PREV, "2001:db8::2", 9)
    v4 = IP(src="192.0.2.1", dst="192.0.2.2") / L.ICMPExpMobility() / L.cxtp_ctaa("192.0.2.1")
    w6, w4 = bytes(v6), bytes(v4)
    assert w6[6] == 58 and w6[7] == 255 and w6[40:48] == h("96 00") + w6[42:44] + h("01 000000")
    assert w4[9] == 1 and w4[8] == 255 and w4[20:21] == b"\x29" and w4[24:28] == h("01 000000")
    assert type(IPv6(w6)[L.ICMPv6ExpMobility].payload) is L.CTAR
    assert type(IP(w4)[L.ICMPExpMobility].payload) is L.CTAA
    assert to_fields(IPv6(w6))[1] == "CTAR" and to_fields(IP(w4))[1] == "CTAA"
    path = tmp_path / "icmp.pcap"
    wrpcap(str(path), [v6])
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "icmpv6.type", "-e", "icmpv6.checksum.status"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["150", "1"]  # tshark: checksum status 1 = good
    path4 = tmp_path / "icmp4.pcap"
    wrpcap(str(path4), [v4])
    out4 = subprocess.run([tshark, "-r", str(path4), "-T", "fields", "-e", "icmp.type", "-e", "icmp.checksum.status"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert out4 == ["41", "1"]


def _sctp(*chunks: object, port: int = 5000) -> bytes:
    frame = IPv6(src="2001:db8::10", dst="2001:db8::20") / SCTP(sport=port, dport=port)
    for chunk in chunks:
        frame = frame / chunk
    return bytes(frame)


def _data(message: bytes, ppi: int = 0) -> SCTPChunkData:
    return SCTPChunkData(unordered=1, beginning=1, ending=1, tsn=1, stream_id=0, stream_seq=0,
                         proto_id=ppi, data=message)


def test_sctp_data_chunks_dissect_as_cxtp_by_header_check_ppi_and_port(profile_binding: None) -> None:
    ctd = bytes(L.cxtp_ctd(PREV, [L.mld_cdb("2001:db8:1::/64", "ff0e::101")]))
    odd = bytes([0x43]) + ctd[1:]  # version 2: fails the header check
    frame = IPv6(_sctp(SCTPChunkSACK(), _data(ctd)))
    assert type(frame[SCTPChunkData].data) is L.CTD  # header check (default on)
    assert to_fields(frame)[1] == "CTD"
    assert isinstance(IPv6(_sctp(_data(odd))) [SCTPChunkData].data, Raw)
    L.bind_profile(replace(DEFAULT_PROFILE, cxtp_sctp_ppis=frozenset({99}), cxtp_header_check=False))
    assert type(IPv6(_sctp(_data(odd, ppi=99)))[SCTPChunkData].data) is L.CTD  # by PPI, whatever its header
    assert isinstance(IPv6(_sctp(_data(ctd, ppi=98)))[SCTPChunkData].data, Raw)
    L.bind_profile(replace(DEFAULT_PROFILE, cxtp_sctp_ports=frozenset({7777}), cxtp_header_check=False))
    bundled = IPv6(_sctp(_data(odd), SCTPChunkSACK(), _data(ctd), port=7777))
    chunks = [c for c in bundled.iterpayloads() if isinstance(c, SCTPChunkData)]
    assert [type(c.data) for c in chunks] == [L.CTD, L.CTD]
    assert isinstance(IPv6(_sctp(_data(ctd), port=7778))[SCTPChunkData].data, Raw)


def test_udp_ports_from_the_profile(profile_binding: None) -> None:
    wire = bytes(IP() / UDP(sport=9000, dport=9001) / L.cxtp_ctc("192.0.2.1"))
    assert isinstance(IP(wire)[UDP].payload, Raw)
    L.bind_profile(replace(DEFAULT_PROFILE, cxtp_udp_ports=frozenset({9001})))
    assert type(IP(wire)[UDP].payload) is L.CTC


def test_tshark_sees_well_formed_sctp_around_cxtp(tshark: str, tmp_path: Path) -> None:
    message = bytes(L.cxtp_ct_req(PREV))
    path = tmp_path / "sctp.pcap"
    wrpcap(str(path), [IPv6(_sctp(_data(message)))])
    out = subprocess.run([tshark, "-r", str(path), "-o", "sctp.checksum:CRC-32C", "-T", "fields",
                          "-e", "sctp.checksum.status", "-e", "sctp.data_payload_proto_id", "-e", "data.data"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "1" and bytes.fromhex(out[-1].replace(":", "")) == message
