"""Mobility options: every registry option round-trips, the walk follows Length, the draft's
pMAG options sit where protocol-notes (g) or the profile put them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from scapy.config import conf

from pmipct_check import layers as L
from pmipct_check.layers.options import OPTION_CLASSES, UnknownOption, option_from_bytes, walk_options
from pmipct_check.layers.record import option_record, to_fields
from pmipct_check.profile import DEFAULT_PROFILE
from pmipct_check.registry import OPTIONS


def h(text: str) -> bytes:
    return bytes.fromhex(re.sub(r"\s+|#.*", "", text))


@pytest.fixture
def profile_binding() -> Iterator[None]:
    yield
    L.bind_profile(None)


@pytest.mark.parametrize("option_type", sorted(OPTIONS))
def test_every_registry_option_round_trips_with_its_length(option_type: int) -> None:
    spec = OPTIONS[option_type]
    cls = OPTION_CLASSES[option_type]
    wire = bytes(cls())
    assert wire[0] == option_type and wire[1] == len(wire) - 2
    if spec.lengths:
        assert wire[1] in spec.lengths
    again = option_from_bytes(wire)
    assert type(again) is cls and bytes(again) == wire
    record = option_record(again, warnings := [])
    # GRE Key's registry field is itself called "key" and, as in the decoder, overwrites the
    # record's key (reported; the registry owner decides the rename).
    clash = any(f.name == "key" for f in spec.layout)
    assert (record["type"], record["key"], record["length"]) == (option_type, 0 if clash else spec.key, wire[1])
    assert not [w for w in warnings if w != "reserved-nonzero"]


def test_rfc5213_option_bytes() -> None:
    assert bytes(L.hnp_option("2001:db8:1::/64")) == h("16 12 00 40 20010db8000100000000000000000000")
    assert bytes(L.mn_id_option("mn@x")) == h("08 05 01 6d6e4078")
    assert bytes(L.mn_id_option(("IPv6 Address", "2001:db8::5"))) == h("08 11 02 20010db8000000000000000000000005")
    assert bytes(L.timestamp_option(1.5)) == h("1b 08 000000000001 8000")
    assert bytes(L.options.MNLinkLayerID(identifier="00:11:22:33:44:55")) == h("19 08 0000 001122334455")
    assert bytes(L.options.LinkLocalAddress(address="fe80::1")) == h("1a 10 fe800000000000000000000000000001")
    assert bytes(L.options.ContextRequest(requests=[L.options.ContextRequestTLV(type=22, data=b"")])) == h(
        "28 04 0000 16 00"
    )


def test_walk_follows_length_and_never_desyncs() -> None:
    handoff, att = h("17 02 00 01"), h("18 02 00 04")
    unknown = h("63 03 aabbcc")  # type 99, kept raw, its octets skipped by Length
    long_hi = h("17 03 00 05 ee")  # a Handoff Indicator one octet too long: the octet is 'extra'
    walked = walk_options(handoff + unknown + long_hi + h("00") + att)
    assert [type(o).__name__ for o in walked] == ["HandoffIndicator", "UnknownOption", "HandoffIndicator", "Pad1",
                                                  "AccessTechnologyType"]
    assert option_record(walked[2], []) ["extra"] == "ee"
    overrun = walk_options(handoff + h("16 12 00 40 2001"))  # HNP says 18, 4 octets left
    assert type(overrun[-1]) is conf.raw_layer and overrun[-1].load == h("16 12 00 40 2001")
    assert option_record(overrun[-1], []) == {"type": 22, "name": "Home Network Prefix", "key": "truncated",
                                              "length": 18, "truncated": True, "data": "00402001"}
    short = option_from_bytes(h("16 02 00 40"))  # HNP Length 2: its prefix never comes
    assert short.cut_short == "prefix" and bytes(short) == h("16 02 00 40")
    assert option_record(short, []) == {"type": 22, "name": "Home Network Prefix", "key": "hnp", "length": 2,
                                        "reserved": 0, "prefix_len": 64}
    assert isinstance(option_from_bytes(h("63 00")), UnknownOption)


def test_alignment_helper_puts_hnp_lla_and_timestamp_where_rfc5213_says() -> None:
    msg = L.pbu(1, 40, "x", ["2001:db8::/64", "2001:db8:1::/64"], 1, 4, timestamp=2.0, lla="fe80::2")
    wire = bytes(msg)
    offsets = {}
    pos = 12
    while pos < len(wire):
        if wire[pos] == 0:
            pos += 1
            continue
        offsets.setdefault(wire[pos], []).append(pos)
        pos += 2 + wire[pos + 1]
    assert all(p % 8 == 4 for p in offsets[22]) and len(offsets[22]) == 2
    assert all(p % 8 == 6 for p in offsets[26]) and all(p % 8 == 2 for p in offsets[27])
    assert bytes(L.pbu(1, 40, "x", ["2001:db8::/64"], 1, 4, align=False))[12 + 4] == 22  # right after MN-ID


def test_pmag_options_default_to_the_experimental_option() -> None:
    """protocol-notes (g): type 18, sub-type 1 + code + reserved + address; sub-type 2 + reserved + id."""
    assert bytes(L.pmag_address_option("2001:db8::9")) == h("12 13 01 01 00 20010db8000000000000000000000009")
    assert bytes(L.pmag_address_option("192.0.2.9")) == h("12 07 01 02 00 c0000209")
    assert bytes(L.pmag_id_option("mag-a")) == h("12 07 02 00 6d61672d61")
    parsed = walk_options(h("12 13 01 01 00 20010db8000000000000000000000009 12 07 02 00 6d61672d61 12 02 07 00"))
    assert [type(o) for o in parsed] == [L.PMAGAddress, L.PMAGID, L.options.Experimental]
    record = option_record(parsed[0], [])
    assert (record["key"], record["subtype"], record["code_name"], record["address"]) == (
        "pmag_address", 1, "IPv6", "2001:db8::9")
    assert option_record(parsed[1], [])["identifier"] == b"mag-a".hex()


def test_pmag_options_in_profile_chosen_dedicated_types(profile_binding: None) -> None:
    profile = replace(DEFAULT_PROFILE, pmag_address_option=200, pmag_id_option=201)
    assert bytes(L.pmag_address_option("2001:db8::9", profile)) == h("c8 12 01 00 20010db8000000000000000000000009")
    assert bytes(L.pmag_id_option(b"\x07", profile)) == h("c9 02 00 07")
    wire = bytes(L.pba(L.pbu(1, 40, "x", [], 1, 4), extra=[L.pmag_address_option("2001:db8::9", profile)]))
    before = to_fields(L.MobilityHeader(wire))[2]["options"][-2]
    assert before["key"] == "option_200"  # unbound: kept raw
    L.bind_profile(profile)
    after = to_fields(L.MobilityHeader(wire))[2]["options"][-2]
    assert (after["type"], after["key"], after["address"]) == (200, "pmag_address", "2001:db8::9")
    assert "subtype" not in after


def test_profile_type_map_and_dialect_remap_wire_types(profile_binding: None) -> None:
    remapped = h("3b 01 06 00 0000 00 20 0001 000a  e0 02 00 03 0000")  # BA with option 224 = HI
    L.bind_profile(replace(DEFAULT_PROFILE, option_type_map={224: 23}))
    option = to_fields(L.MobilityHeader(remapped))[2]["options"][0]
    assert (option["type"], option["wire_type"], option["key"], option["value"]) == (23, 224, "handoff", 3)
    L.bind_profile(replace(DEFAULT_PROFILE, dialect="pmip6d-2010"))
    hnp7 = h("3b 03 05 00 0000 0001 8200 000a 07 12 00 40 20010db8000100000000000000000000 0000")
    option = to_fields(L.MobilityHeader(hnp7))[2]["options"][0]
    assert (option["type"], option["wire_type"], option["dialect"], option["prefix"]) == (
        22, 7, "pmip6d-2010", "2001:db8:1::")


def test_address_options_take_their_option_code_from_the_address() -> None:
    """RFC 5949 6.2.2 LMA Address: code 1 + 16 octets (Length 18) or code 2 + 4 octets (Length 6)."""
    assert bytes(L.lmaa_option("192.0.2.1")) == h("29 06 02 00 c0000201")
    assert bytes(L.options.LMAAddress(address="2001:db8::1")) == h("29 12 01 00 20010db8000000000000000000000001")
    assert bytes(L.options.LMAAddress(code=0, address="192.0.2.1")) == h("29 06 00 00 c0000201")  # as told
    assert bytes(L.PMAGAddress(type=200, address="192.0.2.1")) == h("c8 06 02 00 c0000201")
