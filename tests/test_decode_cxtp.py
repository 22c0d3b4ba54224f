"""CXTP (RFC 4067) against byte strings written from the section 2.2-2.5 figures, one per type.

Octet 0 is Vers.(3) | Type(5): version 1 gives 0x21..0x27 (protocol-notes (g)); octet 1 holds
V (0x80) and A or S (0x40); Length is the whole message including the 4-octet header.
"""

from __future__ import annotations

import json
import struct

from test_decode_build import carried

from pmipct_check.decode import Message, decode_carried
from pmipct_check.notices import Notice
from pmipct_check.profile import parse_profile

PREV6 = bytes.fromhex("20010db8000100000000000000000064")  # 2001:db8:1::64
PAR6 = bytes.fromhex("20010db8000a00000000000000000001")  # 2001:db8:a::1
PREV4 = bytes((192, 0, 2, 64))
PAR4 = bytes((192, 0, 2, 1))
# RFC 4067 appendix B MLD context: subnet prefix (8 octets) + multicast address (16 octets).
MLD_DATA = bytes.fromhex("20010db800010000") + bytes.fromhex("ff0e0000000000000000000000000101")


def cxtp(first: int, flags: int, body: bytes) -> bytes:
    return bytes((first, flags)) + struct.pack("!H", 4 + len(body)) + body


def decode(data: bytes, transport: str = "sctp", profile=None) -> Message:
    args = (carried(data, transport, "2001:db8:b::1", "2001:db8:a::1"),)
    msg = decode_carried(*args) if profile is None else decode_carried(*args, profile)
    assert isinstance(msg, Message), msg
    json.dumps(msg.to_json(), default=str)  # the record is JSON-ready
    return msg


def codes(msg: Message) -> set[str]:
    return {w.code for w in msg.warnings}


def test_ctar_ipv6_with_request_cdb() -> None:
    # CDB: FPT 1, Length 1 (8 octets), P=0, four octets of zero padding (RFC 4067 2.4).
    cdb = struct.pack("!HBB", 1, 1, 0) + bytes(4)
    msg = decode(cxtp(0x21, 0x40, PREV6 + PAR6 + struct.pack("!II", 0x01020304, 0xCAFEF00D) + cdb), "icmpv6")
    assert (msg.protocol, msg.type) == ("cxtp", "CTAR")
    f = msg.fields
    assert (f["version"], f["type_code"], f["length"]) == (1, 1, 4 + 16 + 16 + 8 + 8)
    assert f["flags"] == {"V": False, "A": True}
    assert f["mn_prev_addr"] == "2001:db8:1::64" and f["ar_addr"] == "2001:db8:a::1"
    assert (f["seq"], f["token"]) == (0x01020304, 0xCAFEF00D)
    assert f["cdbs"] == [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "length": 1, "p": False,
                          "data": "00000000"}]
    assert not msg.warnings


def test_ctar_ipv4_when_v_is_set() -> None:
    msg = decode(cxtp(0x21, 0xC0, PREV4 + PAR4 + struct.pack("!II", 7, 0)), "icmpv4")
    f = msg.fields
    assert f["flags"] == {"V": True, "A": True}
    assert (f["mn_prev_addr"], f["ar_addr"], f["seq"], f["cdbs"]) == ("192.0.2.64", "192.0.2.1", 7, [])
    assert not msg.warnings


def test_ctaa_status_list() -> None:
    msg = decode(cxtp(0x22, 0x00, PREV6 + struct.pack("!HBB", 1, 1, 0)), "icmpv6")
    assert msg.type == "CTAA"
    assert msg.fields["statuses"] == [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "status": 1,
                                       "status_name": "BAD_CHECKSUM"}]


def test_ctd_with_presence_vector() -> None:
    # CDB: FPT 1, Length 4 (32 octets) = 4 header + 4 presence vector + 24 MLD data.
    cdb = struct.pack("!HBB", 1, 4, 0x80) + struct.pack("!I", 0xC0000000) + MLD_DATA
    msg = decode(cxtp(0x23, 0x40, struct.pack("!I", 150) + PREV6 + cdb))
    f = msg.fields
    assert msg.type == "CTD" and f["flags"] == {"V": False, "A": True}
    assert (f["elapsed_ms"], f["mn_prev_addr"], f["length"]) == (150, "2001:db8:1::64", 56)
    assert f["cdbs"] == [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "length": 4, "p": True,
                          "presence_vector": 0xC0000000, "data": MLD_DATA.hex()}]
    assert not msg.warnings


def test_ctd_ipv4_prev_address() -> None:
    cdb = struct.pack("!HBB", 1, 4, 0) + MLD_DATA + bytes(4)
    msg = decode(cxtp(0x23, 0x80, struct.pack("!I", 0) + PREV4 + cdb))
    assert msg.fields["mn_prev_addr"] == "192.0.2.64"
    assert msg.fields["cdbs"][0]["data"] == (MLD_DATA + bytes(4)).hex()


def test_pctd_key_fields() -> None:
    key = bytes(range(20))
    cdb = struct.pack("!HBB", 1, 4, 0) + MLD_DATA + bytes(4)
    msg = decode(cxtp(0x24, 0x40, struct.pack("!I", 3) + PREV6 + struct.pack("!HH", 1, 20) + key + cdb))
    f = msg.fields
    assert msg.type == "PCTD"
    assert (f["algorithm"], f["algorithm_name"], f["key_length"], f["key"]) == (1, "HMAC_SHA1", 20, key.hex())
    assert len(f["cdbs"]) == 1 and not msg.warnings


def test_ctdr_status_list_and_s_flag() -> None:
    msg = decode(cxtp(0x25, 0x40, PREV6 + struct.pack("!HBB", 1, 0, 0) + struct.pack("!HBB", 9, 3, 0)))
    f = msg.fields
    assert msg.type == "CTDR" and f["flags"] == {"V": False, "S": True}
    assert [(s["fpt"], s["status"]) for s in f["statuses"]] == [(1, 0), (9, 3)]
    assert f["statuses"][1]["fpt_name"] == "unassigned (9)"


def test_ctc() -> None:
    msg = decode(cxtp(0x26, 0x00, PREV6))
    assert (msg.type, msg.fields["mn_prev_addr"], msg.warnings) == ("CTC", "2001:db8:1::64", ())


def test_ct_req_header_only_request_cdb() -> None:
    # A request names the FPT only: the 4-octet CDB header, Length 0 (RFC 4067 2.5.1 / 2.5.6).
    msg = decode(cxtp(0x27, 0x00, PREV6 + struct.pack("!II", 0, 0) + struct.pack("!HBB", 1, 0, 0)))
    f = msg.fields
    assert msg.type == "CT-Req" and (f["seq"], f["token"]) == (0, 0)
    assert f["cdbs"] == [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "length": 0, "p": False,
                          "data": ""}]
    assert not msg.warnings


def test_length_without_header_decodes_with_warning() -> None:
    raw = bytearray(cxtp(0x26, 0x00, PREV6))
    raw[2:4] = struct.pack("!H", 16)
    msg = decode(bytes(raw))
    assert msg.fields["mn_prev_addr"] == "2001:db8:1::64"
    assert codes(msg) == {"cxtp.length-excludes-header"}
    profile = parse_profile("[cxtp]\nlength_includes_header = false\n")
    assert decode(bytes(raw), profile=profile).warnings == ()


def test_malformed_cxtp_is_reported_not_raised() -> None:
    assert "cxtp.version" in codes(decode(cxtp(0x46, 0x00, PREV6)))  # version 2, CTC
    assert "cxtp.reserved-nonzero" in codes(decode(cxtp(0x26, 0x01, PREV6)))
    assert "cxtp.reserved-nonzero" in codes(decode(cxtp(0x26, 0x40, PREV6)))  # A is not a CTC flag
    # CDB of Length 0 in a CTD, and one that overruns the message.
    assert "cxtp.cdb-length" in codes(decode(cxtp(0x23, 0, bytes(4) + PREV6 + struct.pack("!HBB", 1, 0, 0))))
    over = decode(cxtp(0x23, 0, bytes(4) + PREV6 + struct.pack("!HBB", 1, 9, 0) + bytes(4)))
    assert "cxtp.cdb-overrun" in codes(over) and over.fields["cdbs"][0]["length"] == 9
    # V says IPv4 but the address is 16 octets: the 12 left over are reported.
    assert "cxtp.trailing" in codes(decode(cxtp(0x26, 0x80, PREV6)))
    # V clear but only an IPv4 address present.
    assert "cxtp.address-size" in codes(decode(cxtp(0x26, 0x00, PREV4)))
    # Length larger than the octets present.
    raw = bytearray(cxtp(0x26, 0x00, PREV6))
    raw[2:4] = struct.pack("!H", 99)
    assert "cxtp.length" in codes(decode(bytes(raw)))


def test_unknown_type_or_too_short_is_a_notice() -> None:
    for data in (b"", b"\x21", bytes((0x29, 0, 0, 4)), bytes((0x20, 0, 0, 4))):
        result = decode_carried(carried(data, "sctp"))
        assert isinstance(result, Notice) and result.code == "cxtp.unknown-type" and result.frame == 1
