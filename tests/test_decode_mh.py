"""Mobility Header messages against byte strings written from the RFC figures.

RFC 5213 PBU/PBA with every option, RFC 5949 HI/HAck (Context Request, LMA Address, MN LLA
IID), RFC 5846 BRI/BRA, RFC 5847 HB, RFC 5844 options 36-39, the draft's pMAG options in their
protocol-notes (g) encodings, the pmip6d-2010 pre-RFC dialect, and malformed messages.
"""

from __future__ import annotations

import ipaddress
import json
import struct

from test_decode_build import (
    LMA,
    MAG1,
    MAG2,
    carried,
    mh,
    opt,
    opt_hnp,
    opt_mn_id_nai,
    padn,
    pba,
    pbu,
)

from pmipct_check.decode import Message, decode_carried, decode_stream
from pmipct_check.notices import Notice
from pmipct_check.profile import DEFAULT_PROFILE, parse_profile


def decode(data: bytes, transport: str = "mh", src: str = MAG1, dst: str = LMA, profile=DEFAULT_PROFILE,
           **info) -> Message:
    msg = decode_carried(carried(data, transport, src, dst, 7, info), profile)
    assert isinstance(msg, Message), msg
    json.dumps(msg.to_json(), default=str)
    return msg


def codes(msg: Message) -> set[str]:
    return {w.code for w in msg.warnings}


def by_key(msg: Message) -> dict[str, dict]:
    return {o["key"]: o for o in msg.fields["options"] if o["key"] not in ("pad1", "padn")}


def test_pbu_every_rfc5213_option() -> None:
    msg = decode(pbu())
    f = msg.fields
    assert (msg.protocol, msg.type) == ("pmipv6", "PBU")
    assert (f["payload_proto"], f["header_len"], f["mh_type"], f["checksum_ok"]) == (59, 12, 5, True)
    assert (f["seq"], f["lifetime"]) == (4711, 3600)
    assert f["flags"]["A"] and f["flags"]["P"] and not f["flags"]["H"] and "reserved" not in f["flags"]
    o = by_key(msg)
    assert o["mn_id"]["subtype_name"] == "NAI" and o["mn_id"]["identifier"] == "mn1@example.com"
    assert (o["hnp"]["prefix"], o["hnp"]["prefix_len"], o["hnp"]["prefix_text"]) == (
        "2001:db8:1::", 64, "2001:db8:1::/64")
    assert (o["handoff"]["value"], o["handoff"]["value_name"]) == (1, "Attachment over a new interface")
    assert (o["att"]["value"], o["att"]["value_name"]) == (4, "IEEE 802.11a/b/g")
    assert o["mn_ll_id"]["identifier"] == "00:16:3e:11:22:33"
    assert o["timestamp"]["value"] == {"seconds": 1_700_000_000, "fraction": 0x8000, "value": "1700000000.5"}
    assert o["lla"]["address"] == "fe80::1"
    assert not msg.warnings


def test_pba_status_name_and_bu_without_p() -> None:
    msg = decode(pba(status=158, lifetime_units=0, flags=0x20), src=LMA, dst=MAG1)
    assert (msg.type, msg.fields["status"], msg.fields["status_name"], msg.fields["lifetime"]) == (
        "PBA", 158, "MISSING_HOME_NETWORK_PREFIX_OPTION", 0)
    assert (decode(pbu(flags=0x8000)).type, decode(pbu(flags=0x8000)).protocol) == ("BU", "mipv6")
    ba = decode(pba(flags=0x00), src=LMA, dst=MAG1)
    assert (ba.type, ba.protocol) == ("BA", "mipv6")
    assert decode(pbu(flags=0x8203)).fields["flags"]["reserved"] == 3


def test_hi_hack_rfc5949() -> None:
    # HI: Sequence #, S|U|P|F|Resv, Code; options from octet 10.
    opts = (opt_mn_id_nai() + padn(8) + opt_hnp()
            + opt(40, b"\x00\x00" + bytes((22, 0, 25, 0, 19, 5)) + struct.pack("!IB", 10415, 7))
            + opt(41, b"\x01\x00" + ipaddress.IPv6Address(LMA).packed)
            + opt(41, b"\x02\x00" + bytes((192, 0, 2, 100)))
            + opt(42, b"\x00\x00" + bytes.fromhex("0216 3eff fe11 2233".replace(" ", ""))))
    msg = decode(mh(14, struct.pack("!HBB", 77, 0x30, 0) + opts, MAG1, MAG2), dst=MAG2)
    assert (msg.protocol, msg.type, msg.fields["seq"], msg.fields["code_name"]) == ("fmipv6", "HI", 77, "Default")
    assert msg.fields["flags"] == {"S": False, "U": False, "P": True, "F": True}
    o = [x for x in msg.fields["options"] if x["key"] not in ("pad1", "padn")]
    assert [x["type"] for x in o] == [8, 22, 40, 41, 41, 42]
    assert [(r["type"], r["length"], r["data"]) for r in o[2]["requests"]] == [
        (22, 0, ""), (25, 0, ""), (19, 5, "000028af07")]
    assert (o[3]["code_name"], o[3]["address"]) == ("IPv6", LMA)
    assert (o[4]["code"], o[4]["address"], o[4]["length"]) == (2, "192.0.2.100", 6)
    assert o[5]["iid"] == "02163efffe112233"
    assert "mh.option-length" not in codes(msg)
    hack = decode(mh(15, struct.pack("!HBB", 77, 0x40, 131), MAG2, MAG1), src=MAG2, dst=MAG1)
    assert (hack.type, hack.fields["code"], hack.fields["code_name"]) == ("HAck", 131,
                                                                          "Requested Context Not Available")
    assert hack.fields["flags"] == {"U": False, "P": True, "F": False}


def test_binding_revocation_rfc5846() -> None:
    bri = decode(mh(16, bytes((1, 2)) + struct.pack("!HH", 9, 0xA000), LMA, MAG1), src=LMA, dst=MAG1)
    assert (bri.type, bri.protocol, bri.fields["br_type"], bri.fields["trigger_name"], bri.fields["seq"]) == (
        "BRI", "pmipv6", 1, "Inter-MAG Handover - same Access Type", 9)
    assert bri.fields["flags"] == {"P": True, "V": False, "G": True}
    bra = decode(mh(16, bytes((2, 131)) + struct.pack("!HH", 9, 0x8000)))
    assert (bra.type, bra.fields["status_name"], bra.fields["flags"]["P"]) == (
        "BRA", "Revoked Mobility Session(s) Unknown", True)
    odd = decode(mh(16, bytes((7, 0)) + bytes(4)))
    assert odd.type == "BR" and "mh.unknown-br-type" in codes(odd) and "data" in odd.fields


def test_heartbeat_rfc5847() -> None:
    msg = decode(mh(13, struct.pack("!HI", 0x0001, 0xFFFFFFFE) + padn(4) + opt(28, struct.pack("!I", 3))))
    assert (msg.type, msg.protocol, msg.fields["seq"]) == ("HB", "pmipv6", 0xFFFFFFFE)
    assert msg.fields["flags"] == {"U": False, "R": True}
    assert by_key(msg)["restart_counter"]["counter"] == 3


def test_rfc5844_options() -> None:
    opts = (opt(36, struct.pack("!H", 24 << 10) + bytes((10, 1, 2, 3)))
            + opt(37, bytes((129, 24 << 2)) + bytes((10, 1, 2, 3)))
            + opt(38, b"\x00\x00" + bytes((10, 1, 2, 1)))
            + opt(39, struct.pack("!H", 1)))
    o = by_key(decode(pbu(options=opts)))
    assert (o["ipv4_hoa_req"]["prefix_len"], o["ipv4_hoa_req"]["address"]) == (24, "10.1.2.3")
    assert (o["ipv4_hoa_rep"]["status_name"], o["ipv4_hoa_rep"]["prefix_len"]) == ("Administratively prohibited", 24)
    assert o["ipv4_dra"]["address"] == "10.1.2.1"
    assert o["ipv4_dhcp"]["flags"] == {"S": True}


def test_pmag_options_default_encoding() -> None:
    """protocol-notes (g): Experimental Mobility Option 18, sub-type 1 address / 2 identifier."""
    opts = (opt(18, bytes((1, 1, 0)) + ipaddress.IPv6Address(MAG2).packed)
            + opt(18, bytes((1, 2, 0, 192, 0, 2, 2)))
            + opt(18, bytes((2, 0)) + b"mag-2")
            + opt(18, bytes((9, 0xAB))))
    msg = decode(pba(options=opts), src=LMA, dst=MAG1)
    o = [x for x in msg.fields["options"] if x["key"] not in ("pad1", "padn")]
    assert [x["key"] for x in o] == ["pmag_address", "pmag_address", "pmag_id", "experimental"]
    assert o[0]["name"] == "pMAG_Address (draft-liebsch-netlmm-proxymip6ct-00)"
    assert (o[0]["subtype"], o[0]["code_name"], o[0]["address"], o[0]["length"]) == (1, "IPv6", MAG2, 19)
    assert (o[1]["code"], o[1]["address"]) == (2, "192.0.2.2")
    assert o[2]["name"] == "pMAG_ID (draft-liebsch-netlmm-proxymip6ct-00)"
    assert bytes.fromhex(o[2]["identifier"]) == b"mag-2"
    assert o[3]["data"] == "09ab"  # sub-type 9 is not configured: stays raw
    assert not {c for c in codes(msg) if c != "mh.option-align"}


def test_pmag_options_dedicated_types_from_profile() -> None:
    profile = parse_profile("[codepoints]\npmag_address_option = 200\npmag_id_option = 201\n")
    opts = opt(200, bytes((1, 0)) + ipaddress.IPv6Address(MAG2).packed) + opt(201, b"\x00" + b"\x01\x02")
    o = by_key(decode(pba(options=opts), src=LMA, dst=MAG1, profile=profile))
    assert (o["pmag_address"]["type"], o["pmag_address"]["address"]) == (200, MAG2)
    assert (o["pmag_id"]["type"], o["pmag_id"]["identifier"]) == (201, "0102")
    # With the defaults, type 200 is unassigned and kept raw.
    raw = by_key(decode(pba(options=opts), src=LMA, dst=MAG1))
    assert raw["option_200"]["data"].startswith("0100")


# --- pre-RFC dialects ---------------------------------------------------------------------------------------

# A pmip6d-2010 PBU as its pmip_msgs.c builds it: MN ID (type 8: flags 16 + 64-bit IID, Length 10),
# HNP (type 7, Length 18), Timestamp (type 9, Length 8), link-local address (type 10, Length 16).
PMIP6D_OPTS = (opt(8, b"\x80\x00" + bytes.fromhex("0216 3eff fe11 2233".replace(" ", "")))
               + opt(7, b"\x00\x40" + bytes.fromhex("20010db8000100000000000000000000"))
               + opt(9, (1_300_000_000).to_bytes(6, "big") + b"\x00\x00")
               + opt(10, ipaddress.IPv6Address("fe80::216:3eff:fe11:2233").packed))


def test_pmip6d_dialect_selected_by_profile() -> None:
    profile = parse_profile('[codepoints]\ndialect = "pmip6d-2010"\n')
    msg = decode(pbu(options=PMIP6D_OPTS), profile=profile)
    o = by_key(msg)
    assert (o["hnp"]["type"], o["hnp"]["wire_type"], o["hnp"]["prefix_text"]) == (22, 7, "2001:db8:1::/64")
    assert (o["mn_id"]["type"], o["mn_id"]["flags"], o["mn_id"]["identifier"]) == (8, 0x8000, "02163efffe112233")
    assert (o["timestamp"]["wire_type"], o["timestamp"]["value"]["seconds"]) == (9, 1_300_000_000)
    assert (o["lla"]["wire_type"], o["lla"]["address"]) == (10, "fe80::216:3eff:fe11:2233")
    assert all(x.get("dialect") == "pmip6d-2010" for x in o.values())
    assert "mh.pre-rfc-dialect" not in codes(msg) and "mh.option-length" not in codes(msg)


def test_pmip6d_dialect_detected_without_profile() -> None:
    msg = decode(pbu(options=PMIP6D_OPTS))
    assert msg.type == "PBU"
    hint = [w for w in msg.warnings if w.code == "mh.pre-rfc-dialect"]
    assert len(hint) == 1 and "pmip6d-2010" in hint[0].message and hint[0].frame == 7
    assert [o["type"] for o in msg.fields["options"]] == [8, 7, 9, 10]  # walked by Length, no desync


def test_option_type_map_and_next_header_62() -> None:
    profile = parse_profile('[codepoints.option_type_map]\n"7" = 22\n')
    o = by_key(decode(pbu(options=opt(7, b"\x00\x40" + bytes(16))), profile=profile))
    assert (o["hnp"]["type"], o["hnp"]["wire_type"]) == (22, 7)
    old = decode(mh(5, struct.pack("!HHH", 1, 0x8000, 1), nh=62), transport="mh-old")
    assert "mh.pre-rfc-dialect" in codes(old) and old.fields["checksum_ok"] is True


# --- malformed ----------------------------------------------------------------------------------------------


def test_option_overrun_stops_walk_cleanly() -> None:
    data = pbu(options=opt_mn_id_nai() + bytes((22, 40)) + bytes(4))
    msg = decode(data)
    assert msg.type == "PBU" and "mh.option-overrun" in codes(msg)
    assert [o["key"] for o in msg.fields["options"]] == ["mn_id", "truncated"]
    assert all(w.frame == 7 and w.file == "test.pcap" for w in msg.warnings)


def test_wrong_option_length_decodes_what_it_can() -> None:
    msg = decode(pbu(options=opt(22, b"\x00\x40" + bytes(8)) + opt(23, b"\x00\x01\x02")))
    assert "mh.option-length" in codes(msg)
    kinds = [o["key"] for o in msg.fields["options"] if o["key"] not in ("pad1", "padn")]
    assert kinds == ["hnp", "handoff"]
    assert msg.fields["options"][1]["value"] == 1 and msg.fields["options"][1]["extra"] == "02"


def test_pad1_is_one_octet_and_alignment_is_checked() -> None:
    msg = decode(pbu(options=b"\x00" + opt_hnp()))
    assert [o["type"] for o in msg.fields["options"]][:2] == [0, 22]
    assert "mh.option-align" in codes(msg)


def test_header_problems_are_warnings_on_a_record() -> None:
    assert "mh.payload-proto" in codes(decode(mh(5, struct.pack("!HHH", 1, 0x8200, 1), proto=2)))
    assert "mh.checksum" in codes(decode(mh(5, struct.pack("!HHH", 1, 0x8200, 1), good_checksum=False)))
    short = decode(pbu()[:40])
    assert short.type == "PBU" and "mh.truncated" in codes(short)
    long = decode(pbu() + b"\0" * 3)
    assert {"mh.header-len", "mh.length-not-multiple-of-8"} <= codes(long)
    unknown = decode(mh(200, b"\x01\x02\x03\x04"))
    assert unknown.type == "MH-200" and unknown.fields["data"].startswith("01020304")
    assert "mh.unknown-type" in codes(unknown)
    emh = decode(mh(11, b"\x01\x02"))
    assert emh.type == "EMH" and "mh.unknown-type" not in codes(emh)
    tiny = decode_carried(carried(b"\x3b\x00", "mh"))
    assert isinstance(tiny, Notice) and tiny.code == "mh.truncated"


def test_udp_transport_has_no_checksum_verdict() -> None:
    msg = decode(pbu(), transport="mh-udp", src="192.0.2.1", dst="192.0.2.100")
    assert msg.fields["checksum_ok"] is None and msg.transport == "mh-udp" and not msg.warnings


def test_cut_short_capture_leaves_checksum_unknown() -> None:
    raw = pbu()
    assert decode(raw, ip_payload_len=len(raw) + 8).fields["checksum_ok"] is True  # MH whole: checkable
    cut = decode(raw[:48], ip_payload_len=len(raw))
    assert cut.fields["checksum_ok"] is None and "mh.truncated" in codes(cut)


def test_decode_stream_passes_other_records_through() -> None:
    note = Notice("capture.x", "x", "f", 1)
    items = [carried(pbu()), note, carried(b"", "sctp")]
    out = list(decode_stream(items))
    assert isinstance(out[0], Message) and out[1] is note and isinstance(out[2], Notice)


def test_checksum_equals_scapys_on_random_payloads() -> None:
    import random

    from scapy.layers.inet6 import IPv6, in6_chksum

    from pmipct_check.decode.mh import mh_checksum

    rng = random.Random(5213)
    for size in list(range(0, 40)) + [rng.randrange(40, 400) for _ in range(60)]:
        data = bytes(rng.randrange(256) for _ in range(size))
        src, dst = bytes(rng.randrange(256) for _ in range(16)), bytes(rng.randrange(256) for _ in range(16))
        ours = mh_checksum(src, dst, data, 135)
        theirs = in6_chksum(135, IPv6(src=str(ipaddress.IPv6Address(src)), dst=str(ipaddress.IPv6Address(dst))),
                            data)
        assert ours == theirs, size


def test_checksum_uses_home_address_from_the_capture_stage() -> None:
    """RFC 6275 6.1.1: with a Home Address option the pseudo-header source is the home address."""
    home = "2001:db8:1::99"
    raw = mh(5, struct.pack("!HHH", 1, 0x8000, 1), src=home, dst=LMA)
    assert decode(raw).fields["checksum_ok"] is False
    assert decode(raw, checksum_src=home).fields["checksum_ok"] is True


def test_decode_stream_decodes_nd_and_passes_other_transports_through() -> None:
    rs = carried(bytes((133, 0, 0, 0, 0, 0, 0, 0)), "nd")
    (record,) = decode_stream([rs])
    assert isinstance(record, Message) and record.protocol == "nd"
    odd = carried(b"x", "esp")  # type: ignore[arg-type]
    assert list(decode_stream([odd])) == [odd]


def test_gre_key_option_keeps_its_record_key() -> None:
    """RFC 5845 GRE Key: the identifier must not overwrite the option record's own ``key``."""
    import struct

    from pmipct_check.decode.mh import decode_mh, option_table
    from pmipct_check.profile import DEFAULT_PROFILE

    body = struct.pack("!HHH", 1, 0x8200, 10) + bytes([33, 6, 0, 0]) + struct.pack("!I", 0xDEADBEEF) + bytes([1, 2, 0, 0])
    mh = bytes([59, (6 + len(body)) // 8 - 1, 5, 0, 0, 0]) + body
    _type, _protocol, fields, _walk = decode_mh(mh, option_table(DEFAULT_PROFILE), transport="mh",
                                                src="2001:db8::1", dst="2001:db8::2", ip_payload_len=len(mh))
    (gre,) = [o for o in fields["options"] if o["type"] == 33]
    assert gre["key"] == "gre_key"
    assert gre["gre_key"] == 0xDEADBEEF
