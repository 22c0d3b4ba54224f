"""The decoder's shortcuts agree with the slow, obvious computations they replace.

* address text: ``inet_ntop`` against :mod:`ipaddress` (they differ on IPv4-mapped forms);
* the MH checksum: :func:`verify_checksum`'s running sum against the pseudo-header of
  :func:`mh_checksum` (RFC 6275 section 6.1.1) summed whole;
* option records built in one call (``compile_record``) against the per-field steps, for every
  fixed-size option of the registry, on random octets (warnings included);
* the option memo: a shared option at a position where its alignment rule fails still warns.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st
from test_decode_build import LMA, MAG1, carried, opt_hnp, opt_mn_id_nai, opt_ts, padn, pba, pbu

from pmipct_check import registry
from pmipct_check.decode import Message, decode_stream
from pmipct_check.decode.fields import Walk, compile_layout, compile_record, ipv4_text, ipv6_text
from pmipct_check.decode.mh import mh_checksum, option_table, verify_checksum
from pmipct_check.profile import DEFAULT_PROFILE

# Groups of 16 bits drawn mostly from 0 so that runs of zero groups (the "::" cases) are common.
_groups = st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0x0102, 0xABCD]) | st.integers(0, 0xFFFF),
                   min_size=8, max_size=8)


@given(_groups)
@settings(max_examples=400, deadline=None)
def test_ipv6_text_is_ipaddress_text(groups: list[int]) -> None:
    raw = b"".join(g.to_bytes(2, "big") for g in groups)
    ipv6_text.cache_clear()
    assert ipv6_text(raw) == str(ipaddress.IPv6Address(raw))


def test_ipv6_text_of_ipv4_mapped_and_compatible_forms() -> None:
    for text in ("::ffff:1.2.3.4", "::1.2.3.4", "::1:2", "::ffff:0:0", "64:ff9b::1.2.3.4", "::", "::1"):
        raw = ipaddress.IPv6Address(text).packed
        assert ipv6_text(raw) == str(ipaddress.IPv6Address(raw))
    assert ipv4_text(bytes((192, 0, 2, 1))) == "192.0.2.1"


_addresses = st.sampled_from(["2001:db8::1", "2001:db8:ff01::1", "fe80::1", "::", "192.0.2.1"])


@given(st.binary(min_size=0, max_size=80), _addresses, _addresses, st.sampled_from([135, 62]),
       st.none() | st.integers(0, 90), st.booleans())
@settings(max_examples=400, deadline=None)
def test_verify_checksum_is_the_pseudo_header_sum(data: bytes, src: str, dst: str, nh: int,
                                                  payload_len: int | None, fix: bool) -> None:
    v6 = ":" in src and ":" in dst
    length = len(data) if payload_len is None else payload_len
    whole = data[:length]
    if fix and v6 and len(whole) >= 6:  # a right checksum for next header nh
        zeroed = whole[:4] + b"\0\0" + whole[6:]
        good = mh_checksum(ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed, zeroed, nh)
        data = zeroed[:4] + good.to_bytes(2, "big") + data[6:]
        whole = data[:length]
    got = verify_checksum(data, src, dst, nh, payload_len)
    if not v6 or length > len(data):
        assert got is None
        return
    if len(whole) < 6:
        assert got is False
        return
    zeroed = whole[:4] + b"\0\0" + whole[6:]
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    expected = int.from_bytes(whole[4:6], "big")
    assert got is any(mh_checksum(s, d, zeroed, n) == expected for n in {nh, registry.IPPROTO_MH})
    if fix:
        assert got is True


def _fixed_options() -> list[tuple[int, object]]:
    table = option_table(DEFAULT_PROFILE)
    return [(wire, res) for wire, res in sorted(table.by_wire.items()) if res.record is not None]


def test_every_fixed_size_option_has_a_one_call_builder() -> None:
    keys = {res.spec.key for _, res in _fixed_options()}  # type: ignore[attr-defined]
    assert {"hnp", "handoff", "att", "timestamp", "lla", "mnp", "ipv4_hoa", "restart_counter"} <= keys


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_one_call_records_equal_the_field_steps(data: st.DataObject) -> None:
    _, res = data.draw(st.sampled_from(_fixed_options()))
    size = res.whole  # type: ignore[attr-defined]
    raw = data.draw(st.binary(min_size=size, max_size=size) | st.just(bytes(size)))
    fast_walk, step_walk = Walk("mh"), Walk("mh")
    fast = res.record(raw, 0, size, fast_walk)  # type: ignore[attr-defined]
    steps: dict = {**res.head, "length": size}  # type: ignore[attr-defined]
    pos = 0
    for step in compile_layout(res.spec.layout).steps:  # type: ignore[attr-defined]
        pos = step(raw, pos, size, steps, step_walk)
    if res.prefix_text:  # type: ignore[attr-defined]
        steps["prefix_text"] = f"{steps['prefix']}/{steps['prefix_len']}"
    if fast is None:  # a key of its own (reserved bits of a bits field): the caller takes the steps
        assert any(k.endswith("_reserved") for k in steps) and not fast_walk.problems
        return
    assert list(fast.items()) == list(steps.items())
    assert fast_walk.problems == step_walk.problems


def test_reserved_bits_of_a_bits_field_fall_back_to_the_steps() -> None:
    res = option_table(DEFAULT_PROFILE).by_wire[29]  # IPv4 Home Address: prefix_len 6 bits, P, 9 reserved
    assert res.record(bytes((0x60, 0x01)) + bytes(4), 0, 6, Walk("mh")) is None
    record = res.record(bytes((0x60, 0x00)) + bytes((192, 0, 2, 1)), 0, 6, Walk("mh"))
    assert record is not None and record["prefix_len"] == 24 and record["address"] == "192.0.2.1"


def test_compile_record_refuses_variable_layouts() -> None:
    assert compile_record(registry.OPTIONS[8].layout, {"type": 8}) is None  # MN Identifier


def test_a_shared_option_misaligned_later_still_warns() -> None:
    aligned = opt_mn_id_nai() + padn(6) + opt_hnp()  # HNP at MH octet 36 = 8n+4 (RFC 5213 8.3)
    misaligned = opt_mn_id_nai() + opt_hnp()  # at MH octet 30
    items = [carried(pbu(seq=i, options=o), frame=i) for i, o in enumerate((aligned, misaligned, aligned), 1)]
    records = list(decode_stream(items))
    assert all(isinstance(m, Message) for m in records)
    codes = [{w.code for w in m.warnings} for m in records]  # type: ignore[union-attr]
    assert ["mh.option-align" in c for c in codes] == [False, True, False]
    hnps = [next(o for o in m.fields["options"] if o["key"] == "hnp") for m in records]  # type: ignore[union-attr]
    assert hnps[0] == hnps[1] and hnps[0] is hnps[2]


def _ctdr(statuses: bytes) -> bytes:
    body = bytes.fromhex("20010db8000100000000000000000064") + statuses  # MN's previous address, status entries
    return bytes((0x25, 0x40)) + (4 + len(body)).to_bytes(2, "big") + body  # RFC 4067 2.3, S flag set


def test_cxtp_flags_and_status_lists_are_shared_in_a_stream_and_sctp_info_is_not() -> None:
    clean = (1).to_bytes(2, "big") + bytes((0, 0))  # FPT 1, success, reserved 0
    odd = (1).to_bytes(2, "big") + bytes((0, 7))  # reserved octet set: warns, so never shared
    datas = [_ctdr(clean), _ctdr(clean), _ctdr(odd), _ctdr(odd)]
    items = [carried(d, "sctp", frame=i, info={"sport": 5500, "dport": 5500, "tsn": 7, "ssn": i})
             for i, d in enumerate(datas, 1)]
    items[1] = carried(datas[1], "sctp", frame=2, info={"sport": 5500, "dport": 5500, "tsn": 7, "ssn": 1})
    streamed = list(decode_stream(items))
    alone = [decode_stream([c]).__next__() for c in items]
    assert [m.to_json() for m in streamed] == [m.to_json() for m in alone]  # type: ignore[union-attr]
    first, second, third, fourth = streamed
    assert first.fields["flags"] is second.fields["flags"] is third.fields["flags"]  # type: ignore[union-attr]
    assert first.fields["statuses"] is second.fields["statuses"]  # type: ignore[union-attr]
    assert third.fields["statuses"] is not fourth.fields["statuses"]  # type: ignore[union-attr]
    assert [{w.code for w in m.warnings} for m in (third, fourth)] == [{"cxtp.reserved-nonzero"}] * 2  # type: ignore[union-attr]
    assert first.info == second.info and first.info is not second.info  # type: ignore[union-attr]


def test_a_pba_echoing_its_pbus_options_shares_their_list_and_a_new_timestamp_is_decoded() -> None:
    options = opt_mn_id_nai() + padn(6) + opt_hnp() + padn(2) + opt_ts(1_700_000_001)  # Timestamp at 58 = 8n+2
    items = [carried(pbu(options=options)), carried(pba(options=options), src=LMA, dst=MAG1, frame=2),
             carried(pbu(seq=4712, options=options[:-10] + opt_ts(1_700_000_002)), frame=3)]
    streamed = list(decode_stream(items))
    alone = [next(decode_stream([c])) for c in items]
    assert [m.to_json() for m in streamed] == [m.to_json() for m in alone]  # type: ignore[union-attr]
    first, echo, later = (m.fields["options"] for m in streamed)  # type: ignore[union-attr]
    assert echo is first and later is not first
    stamps = [next(o for o in found if o["key"] == "timestamp") for found in (first, later)]
    assert later[0] is first[0] and [t["value"]["seconds"] for t in stamps] == [1_700_000_001, 1_700_000_002]
