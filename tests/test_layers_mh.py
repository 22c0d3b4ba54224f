"""Mobility-header layers: RFC byte layouts written out by hand, round trips, bindings, tshark.

Expected octets below are typed from the RFC figures (RFC 6275 6.1.1/6.1.7, RFC 5213 8.1-8.8,
RFC 5949 6.1-6.2), not produced by the code under test.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap

from pmipct_check import layers as L
from pmipct_check.layers.mh import MH_CLASSES, MobilityHeader
from pmipct_check.layers.record import to_fields
from pmipct_check.registry import MH_TYPES

SRC, DST = "2001:db8::10", "2001:db8::1"


def h(text: str) -> bytes:
    return bytes.fromhex(re.sub(r"\s+|#.*", "", text))


def rfc8200_sum(src: str, dst: str, upper: bytes, nh: int = 135) -> int:
    """RFC 8200 8.1 pseudo-header + upper-layer one's complement sum (0xFFFF when the checksum is right)."""
    import ipaddress

    pseudo = ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
    pseudo += struct.pack("!I3xB", len(upper), nh)
    data = pseudo + upper + b"\0" * (len(upper) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


PBU_BYTES = h(
    """
    3b 08 05 00 0000          # Payload Proto 59, Header Len 8 (72 octets), MH type 5, reserved, checksum
    1234 8200 0384            # Sequence #, A|P, Lifetime 900 x 4 s
    08 07 01 6d6e31406578     # MN Identifier: NAI "mn1@ex"
    01 05 0000000000          # PadN: HNP must start at 8n+4
    16 12 00 40 20010db8000100000000000000000000   # HNP 2001:db8:1::/64
    17 02 00 01               # Handoff Indicator 1
    18 02 00 04               # Access Technology Type 4 (802.11a/b/g)
    01 00                     # PadN: Timestamp must start at 8n+2
    1b 08 00005f5e1000 8000   # Timestamp 1600000000.5
    01 02 0000                # PadN to a multiple of 8
    """
)


def test_pbu_matches_rfc5213_layout_with_alignment_and_padding() -> None:
    msg = L.pbu(0x1234, 3600, "mn1@ex", ["2001:db8:1::/64"], hi=1, att=4, timestamp=(0x5F5E1000 << 16) | 0x8000)
    assert bytes(msg) == PBU_BYTES


def test_pba_echoes_the_pbu_rfc5213_5_3_6() -> None:
    request = L.pbu(7, 3600, "mn1@ex", ["2001:db8:1::/64"], 1, 4, timestamp=1.6e9, mn_ll_id="00:11:22:33:44:55")
    _, rtype, fields, warnings = to_fields(L.pba(request, 0, extra=[L.pmag_address_option("2001:db8::9")]))
    assert rtype == "PBA" and not warnings
    assert fields["seq"] == 7 and fields["lifetime"] == 3600 and fields["flags"]["P"]
    keys = [o["key"] for o in fields["options"] if o["key"] not in ("pad1", "padn")]
    assert keys == ["mn_id", "hnp", "handoff", "att", "mn_ll_id", "timestamp", "pmag_address"]
    ts = next(o for o in fields["options"] if o["key"] == "timestamp")
    assert ts["value"]["seconds"] == 1_600_000_000
    rejected = to_fields(L.pba(L.pbu(8, 0, "mn1@ex", [], 4, 4), 158))[2]
    hnps = [o for o in rejected["options"] if o["key"] == "hnp"]
    assert [(o["prefix"], o["prefix_len"]) for o in hnps] == [("::", 0)]  # one ALL_ZERO


HI_BYTES = h(
    """
    3b 07 0e 00 0000          # MH type 14 (HI), 64 octets
    0009 20 00                # Sequence #, P flag (0x20), Code 0
    08 07 01 6d6e31406578     # MN Identifier
    00                        # Pad1: HNP at 8n+4
    16 12 00 40 20010db8000100000000000000000000   # HNP
    29 12 01 00 20010db8000000000000000000000001   # LMA Address, code 1 (IPv6)
    01 02 0000                # PadN to a multiple of 8
    """
)
HACK_BYTES = h(
    """
    3b 02 0f 00 0000          # MH type 15 (HAck), 24 octets
    0009 40 05                # Sequence # copied, P flag (0x40), Code 5
    08 07 01 6d6e31406578     # MN Identifier copied
    01 03 000000              # PadN to a multiple of 8
    """
)


def test_hi_and_hack_match_rfc5949_layouts() -> None:
    request = L.hi(9, "mn1@ex", hnps=["2001:db8:1::/64"], lmaa="2001:db8::1")
    assert bytes(request) == HI_BYTES
    assert bytes(L.hack(request, 5)) == HACK_BYTES
    assert to_fields(MobilityHeader(HACK_BYTES))[1:3] == ("HAck", to_fields(L.hack(request, 5))[2])


@pytest.mark.parametrize("mh_type", sorted(MH_CLASSES))
def test_every_message_round_trips(mh_type: int) -> None:
    cls = MH_CLASSES[mh_type]
    built = IPv6(src=SRC, dst=DST) / cls(options=[L.hnp_option("2001:db8:5::/48")])
    wire = bytes(built)
    again = IPv6(wire)
    layer = again[cls]
    assert type(layer) is cls and bytes(again) == wire
    mh = wire[40:]
    assert len(mh) % 8 == 0 and (mh[1] + 1) * 8 == len(mh)
    assert rfc8200_sum(SRC, DST, mh) == 0xFFFF
    protocol, rtype, fields, warnings = to_fields(again)
    assert fields["mh_type"] == mh_type and fields["checksum_ok"] is True and not warnings
    assert [o["key"] for o in fields["options"] if o["key"] != "padn"] == ["hnp"]
    assert protocol == MH_TYPES[mh_type].protocol or rtype in ("BU", "BA")


@pytest.mark.parametrize("cls", [L.BRI, L.BRA])
def test_binding_revocation_dispatches_on_its_type_octet(cls: type) -> None:
    wire = bytes(cls(seq=3, flags="P"))
    assert type(MobilityHeader(wire)) is cls
    assert to_fields(MobilityHeader(wire))[1] == cls.__name__


def test_unknown_and_short_messages_stay_generic_and_never_raise() -> None:
    unknown = MobilityHeader(h("3b 00 63 00 0000 0102"))
    assert type(unknown) is MobilityHeader and unknown.data == b"\x01\x02"
    assert to_fields(unknown)[1] == "MH-99"
    cut = MobilityHeader(h("3b 01 05 00 0000 1234"))  # a BU cut inside its flags
    assert type(cut) is L.BU and cut.cut_short == "flags" and bytes(cut) == h("3b 01 05 00 0000 1234")
    assert to_fields(cut)[3] == ["mh.truncated"]


def test_checksum_covers_the_pseudo_header_and_extension_headers() -> None:
    plain = IPv6(src=SRC, dst=DST) / L.pbu(1, 40, "mn1@ex", ["2001:db8:1::/64"], 1, 4)
    assert rfc8200_sum(SRC, DST, bytes(plain)[40:]) == 0xFFFF
    with_dest = IPv6(src=SRC, dst=DST) / IPv6ExtHdrDestOpt() / L.pbu(1, 40, "mn1@ex", [], 1, 4)
    wire = bytes(with_dest)
    assert wire[6] == 60 and wire[40] == 135  # IPv6 -> DestOpt -> MH
    assert rfc8200_sum(SRC, DST, wire[48:]) == 0xFFFF
    assert to_fields(IPv6(wire))[2]["checksum_ok"] is True
    assert bytes(L.pbu(1, 40, "mn1@ex", [], 1, 4))[4:6] == b"\0\0"  # no IPv6 below: 0


def test_next_header_135_and_62_and_udp_5436_dissect_as_these_layers() -> None:
    wire = bytes(IPv6(src=SRC, dst=DST) / L.pbu(5, 40, "mn1@ex", ["2001:db8:1::/64"], 1, 4))
    assert isinstance(IPv6(wire).payload, L.BU)  # not scapy's MIP6MH_BU
    old = wire[:6] + bytes([62]) + wire[7:]
    assert isinstance(IPv6(old).payload, L.BU)
    v4 = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / UDP() / L.pbu(5, 40, "mn1@ex", [], 1, 4))
    assert v4[20:24] == struct.pack("!HH", 5436, 5436)
    parsed = IP(v4)
    assert isinstance(parsed[UDP].payload, L.BU) and parsed[L.BU].seq == 5
    assert to_fields(parsed)[2]["checksum_ok"] is None


def _tshark_fields(tshark: str, path: Path, *names: str) -> list[list[str]]:
    cmd = [tshark, "-r", str(path), "-Y", "mipv6", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;"]
    for name in names:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_tshark_reads_what_the_layers_build(tshark: str, tmp_path: Path) -> None:
    frames = [
        IPv6(src=SRC, dst=DST) / L.pbu(0x1234, 3600, "mn1@ex", ["2001:db8:1::/64"], 1, 4, timestamp=1.6e9),
        IPv6(src=DST, dst=SRC) / L.pba(L.pbu(0x1234, 3600, "mn1@ex", ["2001:db8:1::/64"], 1, 4), 0),
        IPv6(src=SRC, dst=DST) / L.hi(9, "mn1@ex", hnps=["2001:db8:1::/64"], lmaa="2001:db8::1"),
    ]
    path = tmp_path / "mh.pcap"
    wrpcap(str(path), frames)
    rows = _tshark_fields(
        tshark, path, "mip6.mhtype", "mip6.hlen", "mip6.csum", "mip6.bu.seqnr", "mip6.bu.lifetime",
        "mip6.bu.p_flag", "mip6.ba.status", "mip6.ba.seqnr", "mip6.mnid.identifier", "mip6.hi.seqnr",
        "mip6.lmaa.ipv6",
    )
    assert len(rows) == 3
    for frame, row in zip(frames, rows, strict=True):
        wire = bytes(frame)[40:]
        assert int(row[0]) == wire[2] and int(row[1]) == wire[1]
        assert int(row[2], 16) == int.from_bytes(wire[4:6], "big")
        assert rfc8200_sum(frame.src, frame.dst, wire) == 0xFFFF
    assert rows[0][3:6] == ["4660", "900", "1"]  # tshark shows the 4-second units
    assert rows[1][6:8] == ["0", "4660"] and rows[0][8] == "mn1@ex"
    assert rows[2][9] == "9" and rows[2][10] == "2001:db8::1"


def test_tcpdump_captures_dissect_without_raising(tcpdump_mobility: Path) -> None:
    for path in sorted(tcpdump_mobility.glob("*.pcap")):
        try:
            packets = rdpcap(str(path))
        except Exception:  # a link type scapy's reader does not know: not this layer's concern
            continue
        for packet in packets:
            layer = packet.getlayer(MobilityHeader) or next(
                (p for p in packet.iterpayloads() if p.__class__.__name__ in {c.__name__ for c in MH_CLASSES.values()}),
                None,
            )
            if layer is not None:
                to_fields(packet)  # never raises
                assert bytes(layer) == bytes(layer.__class__(bytes(layer)))


_TCPDUMP_OPTION = {"padn": "padn", "pad1": "pad1", "alt-CoA": "alt_coa", "ni": "nonce_indices",
                   "auth": "auth_data", "refresh": "refresh_advice"}


def test_ipv6_mobility_1_matches_tcpdump_out(tcpdump_mobility: Path) -> None:
    """Every value tcpdump -v prints for the 16 well-formed messages, option by option."""
    packets = rdpcap(str(tcpdump_mobility / "ipv6_mobility_1.pcap"))
    lines = (tcpdump_mobility / "ipv6_mobility_1-v.out").read_text().splitlines()
    assert len(packets) == len(lines) == 16
    for packet, line in zip(packets, lines, strict=True):
        _, rtype, fields, warnings = to_fields(packet)
        shown = line.split("mobility: ")[1]
        assert shown.split()[0] == rtype
        # The capture carries checksum 0 throughout: the layer says so, and rebuilding fixes it.
        assert fields["checksum"] == 0 and fields["checksum_ok"] is False and warnings == ["mh.checksum"]
        mh = packet[MobilityHeader] if MobilityHeader in packet else packet[IPv6].payload
        mh.checksum = None
        assert rfc8200_sum(packet[IPv6].src, packet[IPv6].dst, bytes(mh)) == 0xFFFF
        expected = dict(re.findall(r"(seq#|lifetime|status)=(\d+)", shown))
        for key, name in (("seq#", "seq"), ("lifetime", "lifetime"), ("status", "status")):
            if key in expected:
                assert fields[name] == int(expected[key])
        if rtype == "BU":
            assert fields["flags"]["A"] and not fields["flags"]["P"]
        if "homeaddr" in shown:
            assert fields["home_address"] == shown.split("homeaddr ")[1]
        if "nonce id=" in shown:
            nonce = int(shown.split("nonce id=")[1].split()[0], 16)
            assert nonce in (fields.get("home_nonce_index"), fields.get("care_of_nonce_index"))
        for label, value in re.findall(r"(Home Init|Care-of Init|Home Keygen|Care-of Keygen) (?:Cookie|Token)=(\S+)", shown):
            key = label.lower().replace("-", "_").replace(" ", "_") + ("_token" if "Keygen" in label else "_cookie")
            assert fields[key] == value.replace(":", "")
        options = re.findall(r"\(([^)]*)\)", shown)
        assert [_TCPDUMP_OPTION[o.split(":")[0]] for o in options] == [o["key"] for o in fields.get("options", [])]
        for text, option in zip(options, fields.get("options", []), strict=True):
            if text.startswith("alt-CoA"):
                assert option["address"] == text.split(": ")[1]
            if text.startswith("ni"):
                ho, co = re.findall(r"0x([0-9a-f]+)", text)
                assert (option["home_nonce_index"], option["care_of_nonce_index"]) == (int(ho, 16), int(co, 16))
            if text.startswith("refresh"):
                assert option["interval"] == int(text.split(": ")[1])


def test_raw_payload_after_header_len_is_not_part_of_the_message() -> None:
    wire = bytes(L.BRR()) + b"\xde\xad"
    parsed = MobilityHeader(wire)
    assert bytes(parsed) == wire and isinstance(parsed.payload, Raw)
    assert to_fields(parsed)[2]["options"] == []
