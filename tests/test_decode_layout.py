"""The per-layout Mobility Header decoders (decode.mh._make_layout) give the general path's records.

decode_stream learns a message's shape (header octets, MH type, each option's type and Length)
from a warning-free message and decodes later messages of that shape with one generated
function; ``decode_carried`` without a memo always takes the general path.  Their records and
warnings must be equal, whatever the values, and any anomaly in a known shape must still warn.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_decode_build import (
    LMA,
    MAG1,
    carried,
    mh,
    opt,
    opt_att,
    opt_hi,
    opt_hnp,
    opt_mn_id_nai,
    opt_ts,
    padn,
    pbu,
)

from pmipct_check.decode import Message, decode_carried, decode_stream
from pmipct_check.decode import mh as mh_module
from pmipct_check.decode.mh import _BODY_PLANS
from pmipct_check.decode.model import options_layout

_BODY_TYPES = (5, 6, 14, 15)
_KIND = st.one_of(
    st.tuples(st.just("nai"), st.integers(1, 30)),
    st.tuples(st.sampled_from(["hnp", "hi", "att", "ts"]), st.just(0)),
    st.tuples(st.just("pad"), st.integers(1, 8)),
    st.tuples(st.just("raw"), st.integers(1, 50)),
)


def _option(data: st.DataObject, kind: tuple[str, int]) -> bytes:
    name, n = kind
    if name == "nai":
        return opt_mn_id_nai(data.draw(st.text("abmn@.x1", min_size=n, max_size=n)).encode())
    if name == "hnp":
        return opt_hnp(data.draw(st.binary(min_size=16, max_size=16)), data.draw(st.sampled_from([64, 64, 56, 200])))
    if name == "hi":
        return opt_hi(data.draw(st.integers(0, 255)))
    if name == "att":
        return opt_att(data.draw(st.integers(0, 255)))
    if name == "ts":
        return opt_ts(data.draw(st.integers(0, 2**48 - 1)), data.draw(st.integers(0, 0xFFFF)))
    if name == "pad":
        return padn(n)
    return opt(n, data.draw(st.binary(min_size=0, max_size=6)))  # unknown, misaligned, wrong Length...


def _message(data: st.DataObject, mh_type: int, kinds: list[tuple[str, int]], src: str, dst: str) -> bytes:
    size = _BODY_PLANS[mh_type].fast_size
    body = data.draw(st.sampled_from([bytes(size), b"\x00\x01" + bytes(size - 2)]))
    if data.draw(st.integers(0, 9)) == 0:
        body = data.draw(st.binary(min_size=size, max_size=size))  # reserved bits, odd flags
    if ":" not in src:  # IPv4 carries no checked checksum: any will do
        src, dst = MAG1, LMA
    raw = mh(mh_type, body + b"".join(_option(data, k) for k in kinds), src, dst,
             good_checksum=data.draw(st.integers(0, 19)) != 0)
    anomaly = data.draw(st.integers(0, 29))
    if anomaly == 0:
        raw = raw[:3] + b"\x01" + raw[4:]  # reserved octet
    elif anomaly == 1:
        raw = raw[:-1]  # cut short
    elif anomaly == 2:
        raw = b"\x3a" + raw[1:]  # Payload Proto
    return raw


def _same(items: list) -> list[Message]:
    streamed = list(decode_stream(items))
    alone = [decode_carried(c) for c in items]
    assert [m.to_json() for m in streamed] == [m.to_json() for m in alone]  # type: ignore[union-attr]
    assert [getattr(m, "warnings", m) for m in streamed] == [getattr(m, "warnings", m) for m in alone]
    for m in streamed:  # a layout decoder sets the option index the analysis would make
        if isinstance(m, Message) and m.option_index is not None:
            assert m.option_index == options_layout(m.fields["options"])
    return streamed  # type: ignore[return-value]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_layout_decoders_give_the_general_paths_records(data: st.DataObject) -> None:
    shapes = data.draw(st.lists(st.tuples(st.sampled_from(_BODY_TYPES), st.lists(_KIND, max_size=7)),
                                min_size=1, max_size=3))
    order = data.draw(st.lists(st.integers(0, len(shapes) - 1), min_size=2, max_size=12))
    items = []
    for frame, index in enumerate(order, 1):
        mh_type, kinds = shapes[index]
        src, dst = data.draw(st.sampled_from([(MAG1, LMA), (LMA, MAG1), ("192.0.2.1", "192.0.2.2")]))
        transport = data.draw(st.sampled_from(["mh", "mh", "mh", "mh-udp", "mh-old"]))
        items.append(carried(_message(data, mh_type, kinds, src, dst), transport, src, dst, frame))
    _same(items)


def _learned_then(anomalous: bytes) -> Message:
    """A PBU of the same shape as two clean ones before it, decoded in their stream."""
    items = [carried(pbu(seq=1), frame=1), carried(pbu(seq=2), frame=2), carried(anomalous, frame=3)]
    streamed = _same(items)
    assert not streamed[0].warnings and not streamed[1].warnings
    return streamed[2]


def test_a_known_shape_with_a_wrong_checksum_still_warns() -> None:
    raw = pbu(seq=3)
    last = _learned_then(raw[:4] + struct.pack("!H", raw[4] << 8 ^ 0x1234) + raw[6:])
    assert [w.code for w in last.warnings] == ["mh.checksum"] and last.fields["checksum_ok"] is False


def test_a_known_shape_with_reserved_flag_bits_still_warns() -> None:
    last = _learned_then(pbu(seq=3, flags=0x8000 | 0x0200 | 0x0001))
    assert [w.code for w in last.warnings] == ["mh.reserved-nonzero"]
    assert last.fields["flags"]["reserved"] == 1


def test_a_known_shape_with_a_bad_option_value_still_warns() -> None:
    clean = pbu(seq=3)
    at = clean.index(opt_mn_id_nai())
    bad = mh(5, clean[6:at - 6 + 6] + opt_mn_id_nai(b"\xff" * 15) + clean[at + len(opt_mn_id_nai()):], pad=False)
    last = _learned_then(bad)
    assert "mh.bad-text" in [w.code for w in last.warnings]


def test_a_known_shape_records_equal_and_share_what_the_general_path_shares(monkeypatch: Any) -> None:
    general = []
    original = mh_module._mh_message
    monkeypatch.setattr(mh_module, "_mh_message", lambda *args: general.append(args[0]) or original(*args))
    items = [carried(pbu(seq=s), frame=s) for s in range(1, 6)]
    streamed = list(decode_stream(items))
    assert len(general) == 1  # the first PBU teaches its shape; the others take the layout decoder
    monkeypatch.undo()
    assert streamed == _same(items)
    first, last = streamed[0].fields["options"], streamed[-1].fields["options"]
    assert all(a is b for a, b in zip(first, last, strict=True) if a["key"] not in ("timestamp", "pad1"))
    assert streamed[-1].fields["flags"] is streamed[0].fields["flags"]


def test_a_known_shape_carries_its_option_index() -> None:
    """Messages a layout decoder builds share one option index, the one options_layout gives."""
    items = [carried(pbu(seq=seq), frame=seq) for seq in (1, 2, 3)]
    first, second, third = _same(items)
    assert first.option_index is None  # the general path leaves it to the analysis
    assert second.option_index is third.option_index is not None
    assert second.option_index == options_layout(second.fields["options"])
    assert "mn_id" in second.option_index


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([8, 25, 1]), st.binary(min_size=0, max_size=40))
def test_sized_option_builders_give_the_plans_records(wire: int, octets: bytes) -> None:
    """fields.compile_sized_record (a layout decoder's builder for an option whose last field takes
    the rest, at a Length fixed by the shape) makes the plan's record, or None where it warns."""
    from pmipct_check import registry
    from pmipct_check.decode.fields import Walk, compile_sized_record
    from pmipct_check.decode.mh import _resolved

    res = _resolved(registry.OPTIONS[wire], wire)
    if len(octets) < res.min_length:
        return
    if wire == 8 and octets:  # every MN Identifier subtype, and a NAI that is no UTF-8
        octets = bytes((octets[0] % 10,)) + octets[1:]
    builder = compile_sized_record(res.spec.layout, res.head, len(octets), res.prefix_text)
    assert builder is not None
    buf = b"\x00\x00" + octets
    walk = Walk("mh")
    built = builder(buf, 2, len(octets), walk)
    planned: dict[str, Any] = {**res.head, "length": len(octets)}
    plan_walk = Walk("mh")
    res.plan.run(buf, 2, len(buf), planned, plan_walk)
    if built is None:
        assert plan_walk.problems
    else:
        assert built == planned and list(built) == list(planned) and walk.problems == plan_walk.problems
