"""Property tests: random bytes and mutations of valid messages never raise and never hit a decoder bug.

``decode_carried`` turns an internal exception into a ``decode.internal-error`` Notice so that a run
never dies; these tests fail on that Notice, so a bug cannot hide behind the safety net.
"""

from __future__ import annotations

import json
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_decode_build import carried, mh, opt, pba, pbu

from pmipct_check.decode import Message, decode_carried
from pmipct_check.notices import Notice
from pmipct_check.profile import parse_profile

PROFILES = [
    None,
    parse_profile('[codepoints]\ndialect = "pmip6d-2010"\n'),
    parse_profile("[codepoints]\npmag_address_option = 7\npmag_id_option = 8\n[codepoints.option_type_map]\n"
                  '"9" = 27\n"10" = 41\n[cxtp]\nlength_includes_header = false\n'),
]
TRANSPORTS = ["mh", "mh-old", "mh-udp", "sctp", "udp", "icmpv6", "icmpv4"]

SEEDS = [
    pbu(), pba(),
    mh(14, struct.pack("!HBB", 1, 0x20, 0) + opt(40, b"\0\0\x16\x00") + opt(41, b"\x02\x00\xc0\x00\x02\x01")),
    mh(16, bytes((1, 2)) + struct.pack("!HH", 9, 0xA000)),
    mh(13, struct.pack("!HI", 1, 5)),
    pba(options=opt(18, bytes((1, 1, 0)) + bytes(16)) + opt(18, b"\x02\x00ab")),
    bytes((0x23, 0x40, 0, 32)) + bytes(4) + bytes(16) + struct.pack("!HBB", 1, 1, 0x80) + bytes(4),
    bytes((0x24, 0x00, 0, 36)) + bytes(4) + bytes(16) + struct.pack("!HH", 1, 4) + bytes(4) + bytes(4),
    bytes((0x25, 0xC0, 0, 12)) + bytes(4) + struct.pack("!HBB", 1, 0, 0),
    bytes((0x27, 0x80, 0, 20)) + bytes(4) + bytes(8) + struct.pack("!HBB", 1, 0, 0),
]


def check(data: bytes, transport: str, profile) -> None:
    item = carried(data, transport, "2001:db8::1", "2001:db8::2")
    result = decode_carried(item) if profile is None else decode_carried(item, profile)
    if isinstance(result, Notice):
        assert result.code != "decode.internal-error", result.message
        return
    assert isinstance(result, Message)
    assert not any(w.code == "decode.internal-error" for w in result.warnings)
    json.dumps(result.to_json(), default=str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from(TRANSPORTS), st.sampled_from(PROFILES))
def test_random_bytes_never_raise(data: bytes, transport: str, profile) -> None:
    check(data, transport, profile)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at:]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(TRANSPORTS), st.sampled_from(PROFILES))
def test_mutated_messages_never_raise(data: bytes, transport: str, profile) -> None:
    check(data, transport, profile)


def test_every_truncation_of_every_seed() -> None:
    for seed in SEEDS:
        for cut in range(len(seed) + 1):
            for transport in ("mh", "sctp"):
                check(seed[:cut], transport, None)
