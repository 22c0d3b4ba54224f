"""The per-shape CXTP decoders (decode.cxtp._make_shape) give the general path's records.

decode_stream learns a CXTP message's shape (its 4 header octets and its size) from a warning-free
message and decodes later messages of that shape with one generated function; ``decode_carried``
without a memo always takes the general path.  Their records and warnings must be equal whatever
the octets after the header, for every CXTP type, and a damaged message of a known shape must
still warn exactly as before.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_CAPTURES, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decode_build import carried

from pmipct_check.capture import iter_carried
from pmipct_check.capture.model import Carried
from pmipct_check.decode import Message, decode_carried, decode_stream
from pmipct_check.decode import cxtp as cxtp_module
from pmipct_check.profile import DEFAULT_PROFILE, Profile, parse_profile

_EXCLUDES = parse_profile("[cxtp]\nlength_includes_header = false\n")


def _same(items: list[Any], profile: Profile = DEFAULT_PROFILE) -> list[Any]:
    streamed = list(decode_stream(items, profile))
    alone = [decode_carried(c, profile) for c in items]
    assert [getattr(m, "to_json", lambda m=m: m)() for m in streamed] == \
        [getattr(m, "to_json", lambda m=m: m)() for m in alone]
    assert [getattr(m, "warnings", m) for m in streamed] == [getattr(m, "warnings", m) for m in alone]
    for s, a in zip(streamed, alone, strict=True):  # the key order the reports write too
        if isinstance(s, Message):
            assert list(s.fields) == list(a.fields) and s.type == a.type
    return streamed


def _cdbs(data: st.DataObject, request: bool) -> bytes:
    out = b""
    for _ in range(data.draw(st.integers(0, 3))):
        units = data.draw(st.integers(0 if request else 1, 4))
        p = data.draw(st.booleans()) and units > 0
        body = data.draw(st.binary(min_size=max(units * 8 - 4, 0), max_size=max(units * 8 - 4, 0)))
        out += struct.pack("!HBB", data.draw(st.sampled_from([1, 1, 2, 9])), units, 0x80 if p else 0) + body
    return out


def _body(data: st.DataObject, type_code: int, v4: bool) -> bytes:
    """A well-formed body of ``type_code`` (RFC 4067 section 2), with drawn values."""
    size = 4 if v4 else 16

    def addr() -> bytes:
        return data.draw(st.binary(min_size=size, max_size=size))

    def u32() -> bytes:
        return struct.pack("!I", data.draw(st.integers(0, 2**32 - 1)))

    if type_code in (2, 5):
        statuses = b"".join(struct.pack("!HBB", data.draw(st.integers(0, 3)), data.draw(st.integers(0, 4)), 0)
                            for _ in range(data.draw(st.integers(0, 3))))
        return addr() + statuses
    if type_code == 6:
        return addr()
    if type_code == 1:
        return addr() + addr() + u32() + u32() + _cdbs(data, True)
    if type_code == 7:
        return addr() + u32() + u32() + _cdbs(data, True)
    if type_code == 3:
        return u32() + addr() + _cdbs(data, False)
    key = data.draw(st.binary(min_size=0, max_size=24))
    return u32() + addr() + struct.pack("!HH", data.draw(st.integers(0, 3)), len(key)) + key + _cdbs(data, False)


def _damaged(data: st.DataObject, raw: bytes) -> bytes:
    """``raw`` with its header kept (its shape) and something after it changed, or as it is."""
    what = data.draw(st.integers(0, 5))
    if what == 0 and len(raw) > 4:  # any octets after the header: CDB lengths, reserved octets, key lengths
        return raw[:4] + data.draw(st.binary(min_size=len(raw) - 4, max_size=len(raw) - 4))
    if what == 1 and len(raw) > 4:  # one octet flipped
        at = data.draw(st.integers(4, len(raw) - 1))
        return raw[:at] + bytes((raw[at] ^ data.draw(st.integers(1, 255)),)) + raw[at + 1:]
    if what == 2:  # another header: reserved flag bits, another version or Length (general path)
        at = data.draw(st.integers(0, 3))
        return raw[:at] + bytes((raw[at] ^ data.draw(st.integers(1, 255)),)) + raw[at + 1:]
    if what == 3:  # cut short or trailing octets, Length unchanged
        return raw[:-1] if data.draw(st.booleans()) else raw + b"\0" * 4
    return raw


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_shape_decoders_give_the_general_paths_records(data: st.DataObject) -> None:
    includes = data.draw(st.booleans())
    shapes = []
    for _ in range(data.draw(st.integers(1, 3))):
        type_code, v4 = data.draw(st.integers(1, 7)), data.draw(st.booleans())
        flags = (0x80 if v4 else 0) | data.draw(st.sampled_from([0, 0x40]))
        shapes.append((type_code, flags, _body(data, type_code, v4)))
    items = []
    for frame in range(1, data.draw(st.integers(2, 10)) + 1):
        type_code, flags, body = shapes[data.draw(st.integers(0, len(shapes) - 1))]
        if data.draw(st.booleans()):  # the same shape, other values
            fresh = _body(data, type_code, bool(flags & 0x80))
            body = fresh if len(fresh) == len(body) else body
        raw = bytes((0x20 | type_code, flags)) + struct.pack("!H", len(body) + (4 if includes else 0)) + body
        items.append(carried(_damaged(data, raw), data.draw(st.sampled_from(["sctp", "udp", "icmpv6"])),
                             frame=frame))
    _same(items, DEFAULT_PROFILE if includes else _EXCLUDES)


def _ct_req(seq: int, cdb: bytes = b"\x00\x01\x00\x00") -> bytes:
    body = bytes(range(16)) + struct.pack("!II", seq, 7) + cdb
    return bytes((0x27, 0)) + struct.pack("!H", 4 + len(body)) + body


def _learned_then(anomalous: bytes) -> Message:
    """A CT-Req of the same shape as two clean ones before it, decoded in their stream."""
    streamed = _same([carried(_ct_req(1), "sctp", frame=1), carried(_ct_req(2), "sctp", frame=2),
                      carried(anomalous, "sctp", frame=3)])
    assert not streamed[0].warnings and not streamed[1].warnings
    return streamed[2]  # type: ignore[no-any-return]


def test_a_known_shape_with_a_bad_cdb_still_warns() -> None:
    last = _learned_then(_ct_req(3, b"\x00\x01\x00\x7f"))
    assert [w.code for w in last.warnings] == ["cxtp.reserved-nonzero"]
    assert last.fields["cdbs"][0]["reserved"] == 0x7F
    last = _learned_then(_ct_req(3, b"\x00\x01\x02\x00"))
    assert [w.code for w in last.warnings] == ["cxtp.cdb-overrun"]


def test_a_known_shape_takes_the_shape_decoder(monkeypatch: Any) -> None:
    general = []
    original = cxtp_module._decode_cxtp
    monkeypatch.setattr(cxtp_module, "_decode_cxtp", lambda *args: general.append(args[0]) or original(*args))
    items = [carried(_ct_req(seq), "sctp", frame=seq) for seq in range(1, 6)]
    streamed = list(decode_stream(items))
    assert len(general) == 1  # the first CT-Req teaches its shape; the others take its decoder
    monkeypatch.undo()
    assert streamed == _same(items)
    assert streamed[-1].fields["flags"] is streamed[0].fields["flags"]
    assert streamed[-1].fields["cdbs"] is streamed[0].fields["cdbs"]  # shared through the memo as before


def _captures() -> list[Path]:
    bench = ROOT / "bench" / "out" / "signalling-10000-seed1.pcapng"
    found = sorted(PROJECT_CAPTURES.glob("*.pcap*")) + sorted((ROOT / "tests" / "corpus").glob("reactive-*"))
    return found + ([bench] if bench.is_file() else [])


@pytest.mark.parametrize("path", _captures(), ids=lambda p: p.name)
def test_capture_records_equal_the_general_paths(path: Path) -> None:
    """Every CXTP message of the sample captures (clean, faulty, cut short), streamed and alone."""
    items = [c for c in iter_carried([path], DEFAULT_PROFILE)
             if isinstance(c, Carried) and c.transport in ("sctp", "udp", "icmpv6", "icmpv4")]
    _same(items)


def test_a_message_longer_than_its_length_field_can_say_is_no_known_shape() -> None:
    """A PCTD with a 1-octet key (an odd Length) teaches its shape; a message 64 KiB longer whose
    Length is one less must not be taken for it (the size is kept above the header in the key)."""
    body = struct.pack("!I", 1) + bytes(16) + struct.pack("!HH", 1, 1) + b"\x07"
    learnt = bytes((0x24, 0x40)) + struct.pack("!H", 4 + len(body)) + body
    other = bytes((0x24, 0x40)) + struct.pack("!H", 3 + len(body)) + body + bytes(1 << 16)
    streamed = _same([carried(learnt, "sctp", frame=1), carried(learnt, "sctp", frame=2),
                      carried(other, "sctp", frame=3)])
    assert not streamed[1].warnings and "cxtp.length" in [w.code for w in streamed[2].warnings]
