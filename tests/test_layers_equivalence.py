"""The scapy layers and the fast decoder give the same record for the same octets.

Two decoders built independently from one registry: if either misreads a layout, the records
differ.  Checked on every signalling message of every capture in reach (the tcpdump captures,
the project's captures/), in full frames as scapy dissects them, and on hypothesis-generated
messages: structured-but-random octets (malformed ones included) under several profiles, and
messages made with the crafting API.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgReader, PcapReader

from pmipct_check import layers as L
from pmipct_check import registry
from pmipct_check.capture.extract import iter_file
from pmipct_check.capture.model import Carried
from pmipct_check.decode import decode_carried
from pmipct_check.decode.model import Message
from pmipct_check.layers.cxtp import _CXTPMessage
from pmipct_check.layers.mh import _MobilityHeader
from pmipct_check.layers.record import to_fields
from pmipct_check.profile import DEFAULT_PROFILE, Profile

ROOT = Path(__file__).resolve().parent.parent
TCPDUMP_MOBILITY = ROOT.parent / "shared" / "captures" / "tcpdump-mobility"  # as conftest.py finds them
PROJECT_CAPTURES = ROOT / "captures"
MH_TRANSPORTS = {"mh": registry.IPPROTO_MH, "mh-old": registry.IPPROTO_MH_OLD}
SRC, DST = "2001:db8::1", "2001:db8::2"

PROFILES = {
    "default": DEFAULT_PROFILE,
    "dedicated-pmag": replace(DEFAULT_PROFILE, pmag_address_option=200, pmag_id_option=201),
    "pmag-subtypes": replace(DEFAULT_PROFILE, pmag_address_subtype=7, pmag_id_subtype=8),
    "type-map": replace(DEFAULT_PROFILE, option_type_map={224: 23, 225: 22}),
    "pmip6d-2010": replace(DEFAULT_PROFILE, dialect="pmip6d-2010"),
    "length-excludes-header": replace(DEFAULT_PROFILE, cxtp_length_includes_header=False),
}


@pytest.fixture
def bound(request: pytest.FixtureRequest) -> Iterator[Profile]:
    profile = PROFILES[request.param]
    L.bind_profile(profile)
    yield profile
    L.bind_profile(None)


def decoder_view(carried: Carried, profile: Profile = DEFAULT_PROFILE) -> tuple[str, str, dict[str, Any]] | None:
    found = decode_carried(carried, profile)
    return (found.protocol, found.type, found.fields) if isinstance(found, Message) else None


def layers_view(pkt: Packet) -> tuple[str, str, dict[str, Any]] | None:
    protocol, rtype, fields, _warnings = to_fields(pkt)
    return (protocol, rtype, fields) if rtype else None


def _family(address: str) -> int:
    return ipaddress.ip_address(address).version


def packet_for(carried: Carried) -> Packet:
    """The carried octets under an IP header like the one they came in (what the checksum needs)."""
    data = carried.data
    if carried.transport in MH_TRANSPORTS:
        plen = carried.info.get("ip_payload_len", len(data))
        ip = IPv6(src=carried.src, dst=carried.dst, nh=MH_TRANSPORTS[carried.transport], plen=plen)
        return IPv6(bytes(ip / Raw(data)))
    if carried.transport == "mh-udp":
        udp = UDP(sport=int(carried.info.get("sport", 5436)), dport=int(carried.info.get("dport", 5436)), chksum=0)
        ip = IPv6(src=carried.src, dst=carried.dst) if _family(carried.src) == 6 else IP(src=carried.src, dst=carried.dst)
        return ip.__class__(bytes(ip / udp / Raw(data)))
    return L.CXTP(data)


def _captures() -> list[Path]:
    found = sorted(TCPDUMP_MOBILITY.glob("*.pcap")) if TCPDUMP_MOBILITY.is_dir() else []
    if PROJECT_CAPTURES.is_dir():
        found += sorted(p for p in PROJECT_CAPTURES.iterdir() if ".pcap" in p.name)
    return found


def _frames(path: Path) -> dict[int, Packet]:
    """Frames as scapy's own readers and dissectors see them (empty when scapy cannot read the file)."""
    try:
        reader = PcapNgReader(str(path)) if path.suffix == ".pcapng" else PcapReader(str(path))
        with reader:
            return {i: p for i, p in enumerate(reader, 1)}
    except Exception:
        return {}


def _mh_layer(frame: Packet) -> Packet | None:
    return next((p for p in frame.iterpayloads() if isinstance(p, _MobilityHeader)), None)


def _cxtp_layers(frame: Packet) -> list[Packet]:
    """CXTP messages scapy found in a frame: SCTP chunk user data, or an ICMP/UDP payload."""
    found = []
    for layer in frame.iterpayloads():
        data = layer.getfieldval("data") if "data" in layer.fields else None
        for candidate in (layer, data):
            if isinstance(candidate, _CXTPMessage) and candidate not in found:
                found.append(candidate)
    return found


@pytest.mark.parametrize("path", _captures(), ids=lambda p: p.name)
def test_every_capture_decodes_the_same_both_ways(path: Path) -> None:
    carried = [item for item in iter_file(str(path)) if isinstance(item, Carried)]
    frames = _frames(path)
    per_frame: dict[int, int] = {}
    for item in carried:
        per_frame[item.frame] = per_frame.get(item.frame, 0) + 1
    compared_frames = compared_cxtp = 0
    for item in carried:
        expected = decoder_view(item)
        assert layers_view(packet_for(item)) == expected, (path.name, item.frame)
        frame = frames.get(item.frame)
        if item.transport == "mh" and frame is not None and per_frame[item.frame] == 1 and IPv6 in frame:
            # scapy's link layers reached IPv6 (not every BSD loopback AF value does): nh 135 must
            # then reach these layers, not scapy's MIP6MH_*.
            layer = _mh_layer(frame)
            assert layer is not None, (path.name, item.frame, frame.summary())
            assert layers_view(frame) == expected, (path.name, item.frame)
            compared_frames += 1
        if item.transport not in MH_TRANSPORTS and frame is not None and item.frames in ((), (item.frame,)):
            # A whole CXTP message in one frame: where scapy's SCTP/ICMP/UDP layers hand it to
            # these layers (by header check, the default profile), the record is the decoder's.
            same = [c for c in _cxtp_layers(frame) if bytes(c) == item.data]
            for layer in same:
                assert layers_view(layer) == expected, (path.name, item.frame)
                compared_cxtp += 1
    if path.name == "ipv6_mobility_1.pcap":
        assert len(carried) == compared_frames == 16
    if path.name.startswith("reactive-1") and frames:
        assert compared_cxtp > 0  # the synthesized CT-Req/CTD/CTDR reach these layers in real frames


# -- hypothesis: structured random octets --------------------------------------------------------

_OPTION_TYPES = [*sorted(registry.OPTIONS), 0, 18, 18, 7, 8, 99, 200, 201, 224, 225]


@st.composite
def option_octets(draw: st.DrawFn) -> bytes:
    otype = draw(st.sampled_from(_OPTION_TYPES))
    if otype == 0:
        return b"\0"
    spec = registry.OPTIONS.get(otype)
    lengths = list(spec.lengths) if spec and spec.lengths else []
    length = draw(st.sampled_from(lengths) if lengths and draw(st.booleans()) else st.integers(0, 24))
    data = draw(st.binary(min_size=length, max_size=length))
    if otype in (18, 200, 201) and data and draw(st.booleans()):
        data = bytes([draw(st.sampled_from([1, 2, 7, 8]))]) + data[1:]
        if len(data) > 1 and draw(st.booleans()):
            data = data[:1] + bytes([draw(st.sampled_from([1, 2]))]) + data[2:]
    return bytes([otype, length]) + data


@st.composite
def mh_octets(draw: st.DrawFn) -> bytes:
    mh_type = draw(st.sampled_from([*sorted(registry.MH_BODIES), 16, 16, 11, 30]))
    body = draw(st.binary(max_size=14))
    if mh_type == 16 and body:
        body = bytes([draw(st.sampled_from([1, 2, 3]))]) + body[1:]
    elif mh_type in registry.MH_BODIES and draw(st.booleans()):
        size = sum(f.size for f in registry.MH_BODIES[mh_type])
        body = (body + bytes(size))[:size]
    options = b"".join(draw(st.lists(option_octets(), max_size=6)))
    mh = bytes([registry.IPPROTO_NONE, 0, mh_type, 0, 0, 0]) + body + options
    if draw(st.booleans()):
        mh += bytes(-len(mh) % 8)
    header_len = len(mh) // 8 - 1 if draw(st.integers(0, 9)) else draw(st.integers(0, 8))
    mh = mh[:1] + bytes([max(header_len, 0)]) + mh[2:]
    if draw(st.integers(0, 9)) == 0:
        mh = mh[: draw(st.integers(0, len(mh)))]
    return mh


@st.composite
def cxtp_octets(draw: st.DrawFn) -> bytes:
    type_code = draw(st.sampled_from([*sorted(registry.CXTP_BODIES), 0, 9]))
    v4 = draw(st.booleans())
    flags = (0x80 if v4 else 0) | draw(st.sampled_from([0, 0x40])) | draw(st.sampled_from([0, 0, 1]))
    address = 4 if v4 else 16
    body = draw(st.binary(min_size=address, max_size=address + 12))
    for _ in range(draw(st.integers(0, 3))):
        units, pvec = draw(st.integers(0, 3)), draw(st.booleans())
        body += bytes([0, draw(st.sampled_from([0, 1, 2])), units, 0x80 if pvec else 0])
        body += draw(st.binary(min_size=max(0, units * 8 - 4), max_size=max(0, units * 8 - 4)))
    total = 4 + len(body)
    length = draw(st.sampled_from([total, total, total - 4, draw(st.integers(0, 96))]))
    version = 1 if draw(st.integers(0, 9)) else draw(st.integers(0, 7))
    message = bytes([(version << 5) | type_code, flags]) + length.to_bytes(2, "big") + body
    if draw(st.integers(0, 19)) == 0:
        message = message[: draw(st.integers(0, len(message)))]
    return message


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("bound", sorted(PROFILES), indirect=True)
@FUZZ
@given(mh=mh_octets())
def test_random_mobility_headers_decode_the_same(bound: Profile, mh: bytes) -> None:
    carried = Carried("fuzz", 1, 0, SRC, DST, "mh", mh, info={"ip_payload_len": len(mh)})
    assert layers_view(packet_for(carried)) == decoder_view(carried, bound)


@pytest.mark.parametrize("bound", ["default", "length-excludes-header"], indirect=True)
@FUZZ
@given(message=cxtp_octets())
def test_random_cxtp_messages_decode_the_same(bound: Profile, message: bytes) -> None:
    carried = Carried("fuzz", 1, 0, SRC, DST, "sctp", message)
    assert layers_view(L.CXTP(message)) == decoder_view(carried, bound)


# -- hypothesis: messages made with the crafting API -----------------------------------------------

prefixes = st.builds(lambda n, plen: f"2001:db8:{n:x}::/{plen}", st.integers(0, 0xFFFF), st.integers(16, 64))
v6 = st.builds(lambda n: str(ipaddress.IPv6Address(0x20010DB8 << 96 | n)), st.integers(0, 2**32))
v4 = st.builds(lambda n: str(ipaddress.IPv4Address(0xC0000200 | n)), st.integers(0, 255))
nai = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789@.-", min_size=1, max_size=30)
mn_ids = st.one_of(nai, st.tuples(st.just("IMSI"), st.binary(min_size=8, max_size=8)),
                   st.tuples(st.just("IPv6 Address"), v6), st.tuples(st.just("EUI-48"), st.just("02:00:00:00:01:02")))


@st.composite
def crafted_mh(draw: st.DrawFn) -> Packet:
    profile = DEFAULT_PROFILE
    extra = draw(st.lists(st.one_of(
        st.builds(L.pmag_address_option, st.one_of(v6, v4), st.just(profile)),
        st.builds(L.pmag_id_option, st.binary(min_size=1, max_size=12), st.just(profile)),
    ), max_size=2))
    request = L.pbu(
        draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)) * 4, draw(mn_ids), draw(st.lists(prefixes, max_size=3)),
        draw(st.integers(0, 6)), draw(st.integers(0, 13)),
        timestamp=draw(st.none() | st.integers(0, 2**64 - 1)),
        mn_ll_id=draw(st.none() | st.binary(min_size=6, max_size=8)), lla=draw(st.none() | st.just("fe80::1")),
        extra=extra if draw(st.booleans()) else (), align=draw(st.booleans()),
    )
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return request
    if choice == 1:
        return L.pba(request, draw(st.sampled_from([0, 128, 155, 158])), extra=extra)
    handover = L.hi(draw(st.integers(0, 0xFFFF)), draw(mn_ids), hnps=draw(st.lists(prefixes, max_size=2)),
                    lmaa=draw(st.none() | v6 | v4), context_request=draw(st.none() | st.lists(
                        st.tuples(st.integers(1, 60), st.binary(max_size=6)), max_size=3)),
                    code=draw(st.integers(0, 3)))
    return handover if choice == 2 else L.hack(handover, draw(st.sampled_from([0, 5, 6, 131])))


@st.composite
def crafted_cxtp(draw: st.DrawFn) -> Packet:
    prev = draw(st.one_of(v6, v4))
    family = _family(prev)
    other = draw(v6 if family == 6 else v4)
    cdbs = draw(st.lists(st.one_of(
        st.builds(L.mld_cdb, prefixes, st.just("ff0e::101")),
        st.builds(L.cdb, st.integers(0, 3), st.binary(max_size=20), st.none() | st.integers(0, 2**32 - 1)),
    ), max_size=3))
    statuses = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=3))
    return draw(st.sampled_from([
        L.cxtp_ctd(prev, cdbs, ack=draw(st.booleans()), elapsed_ms=draw(st.integers(0, 2**32 - 1))),
        L.cxtp_pctd(prev, draw(st.binary(max_size=32)), cdbs),
        L.cxtp_ct_req(prev, [L.cdb_request(1)] if draw(st.booleans()) else [], seq=draw(st.integers(0, 2**32 - 1))),
        L.cxtp_ctdr(prev, statuses),
        L.cxtp_ctc(prev),
        L.cxtp_ctar(prev, other, draw(st.integers(0, 2**32 - 1)), cdbs=[L.cdb_request(1)]),
        L.cxtp_ctaa(prev, statuses),
    ]))


@settings(max_examples=150, deadline=None)
@given(message=crafted_mh())
def test_crafted_mobility_headers_decode_the_same_and_clean(message: Packet) -> None:
    wire = bytes(IPv6(src=SRC, dst=DST) / message)[40:]
    carried = Carried("craft", 1, 0, SRC, DST, "mh", wire, info={"ip_payload_len": len(wire)})
    found = decode_carried(carried)
    assert isinstance(found, Message)
    assert layers_view(packet_for(carried)) == (found.protocol, found.type, found.fields)
    assert found.fields["checksum_ok"] is True and len(wire) % 8 == 0
    assert not [w.code for w in found.warnings if w.severity != "info" and w.code != "mh.option-align"]


@settings(max_examples=150, deadline=None)
@given(message=crafted_cxtp())
def test_crafted_cxtp_decodes_the_same_and_clean(message: Packet) -> None:
    wire = bytes(message)
    found = decode_carried(Carried("craft", 1, 0, SRC, DST, "sctp", wire))
    assert isinstance(found, Message) and not found.warnings
    assert layers_view(L.CXTP(wire)) == (found.protocol, found.type, found.fields)
