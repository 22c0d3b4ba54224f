"""Random and mutated octets through the scapy layers, the extractor and the decoder (issue 9).

Every layer of :mod:`pmipct_check.layers` dissects any octets without raising (and shows and
rebuilds what it dissected); full frames with random upper layers go through scapy's own
dissector with our bindings; the extractor and decoder take any frame on any link type, and
every Carried payload of every capture mutated at random, without a ``decode.internal-error``.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import pmipct_check.layers as L
from pmipct_check.capture import Carried, Extractor, iter_file
from pmipct_check.capture.link import LINK_PARSERS
from pmipct_check.decode import Message, decode_carried
from pmipct_check.layers.bind import CXTPGuess
from pmipct_check.layers.record import to_fields
from pmipct_check.notices import Notice

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = sorted((ROOT / "captures").glob("*.pcap*"))
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

#: Layers a user may point at arbitrary octets.
ENTRY_LAYERS = [L.MobilityHeader, L.CXTP, CXTPGuess, L.CDB, L.ICMPv6ExpMobility, L.ICMPExpMobility,
                L.BU, L.BA, L.HI, L.HAck, L.BRI, L.CTD, L.CTDR, L.PCTD, L.CTReq, L.CTAR, L.CTAA, L.CTC,
                L.PMAGAddress, L.PMAGID, L.UnknownOption]


def signalling_octets() -> st.SearchStrategy[bytes]:
    """Random octets, often with a plausible first octets (MH payload proto 59, CXTP version 1)."""
    head = st.one_of(st.just(b""), st.tuples(st.sampled_from([59, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 150, 41]),
                                             st.integers(0, 40), st.integers(0, 20)).map(bytes))
    return st.tuples(head, st.binary(max_size=160)).map(lambda t: t[0] + t[1])


def exercise(pkt) -> None:
    pkt.summary()
    pkt.show(dump=True)
    bytes(pkt)


@SETTINGS
@given(st.sampled_from(ENTRY_LAYERS), signalling_octets())
def test_every_layer_dissects_any_octets(layer, data: bytes) -> None:
    exercise(layer(data))


@SETTINGS
@given(st.sampled_from([135, 62, 132, 58, 17, 41, 47]), signalling_octets())
def test_frames_with_random_upper_layers_dissect_and_give_records(nh: int, data: bytes) -> None:
    if nh == 17:
        pkt = IP(bytes(IP() / UDP(sport=5436, dport=5436)) + data)
    else:
        pkt = IPv6(bytes(IPv6(nh=nh, plen=len(data))) + data)
    exercise(pkt)
    _protocol, _type, fields, warnings = to_fields(pkt)
    json.dumps(fields, default=str)
    assert isinstance(warnings, list)


@SETTINGS
@given(st.sampled_from(ENTRY_LAYERS), signalling_octets())
def test_any_layer_on_any_octets_gives_a_record(layer, data: bytes) -> None:
    """``BU(octets of type 108)`` once raised KeyError in to_fields: a type's layout, another's code."""
    _protocol, _type, fields, _warnings = to_fields(layer(data))
    json.dumps(fields, default=str)


@SETTINGS
@given(st.sampled_from(sorted({1, 0, 101, 113, 276, 228, 229, 108, 147, *LINK_PARSERS})),
       st.binary(max_size=200), st.sampled_from([b"", b"\x60", b"\x45", b"\x86\xdd"]))
def test_extractor_and_decoder_take_any_frame(linktype: int, data: bytes, head: bytes) -> None:
    ex = Extractor()
    for item in [*ex.feed_raw("f", 1, 0, linktype, head + data), *ex.finish()]:
        if isinstance(item, Carried):
            result = decode_carried(item)
            warnings = result.warnings if isinstance(result, Message) else (result,)
            assert all(w.code != "decode.internal-error" for w in warnings), warnings
        elif isinstance(item, Notice):
            assert item.file == "f"


def carried_payloads() -> list[Carried]:
    out = []
    for path in CAPTURES:
        out += [c for c in iter_file(str(path)) if isinstance(c, Carried)]
    return out


PAYLOADS = carried_payloads()


@SETTINGS
@given(st.sampled_from(PAYLOADS), st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=6),
       st.integers(0, 4096))
def test_mutated_real_payloads_decode_without_internal_errors(item: Carried, edits, cut: int) -> None:
    data = bytearray(item.data)
    for pos, value in edits:
        if data:
            data[pos % len(data)] = value
    mutated = Carried(item.file, item.frame, item.time_ns, item.src, item.dst, item.transport,
                      bytes(data[: cut % (len(data) + 1)]), item.frames, item.info)
    result = decode_carried(mutated)
    warnings = result.warnings if isinstance(result, Message) else (result,)
    assert all(w.code != "decode.internal-error" for w in warnings), warnings
    if isinstance(result, Message):
        json.dumps(result.to_json(), default=str)
        assert all(w.file == item.file and w.frame == item.frame for w in result.warnings)


def test_icmp_wrappers_cut_short_do_not_raise() -> None:
    """Found by the property above: scapy's plain fields raised struct.error on 1-3 octets."""
    for data in (b"", b"\x96", b"\x96\x00\x00", b"\x29\x00"):
        exercise(L.ICMPv6ExpMobility(data))
        exercise(L.ICMPExpMobility(data))
    wrapped = struct.pack("!BBHB3x", 150, 0, 0, 1) + b"\x22\x00\x00\x04"
    assert L.ICMPv6ExpMobility(wrapped).subtype == 1
