"""The synthesizer's message octets against the RFC layouts written out by hand, and its MH
checksum against scapy's own pseudo-header checksum."""

from __future__ import annotations

import ipaddress

from scapy.layers.inet6 import in6_chksum

from pmipct_check.synth import wire

LMA = "2001:db8:ffff::1"
MAG = "2001:db8:ff01::1"


def test_pbu_layout_matches_rfc_5213_section_8_1() -> None:
    options = [wire.opt_mn_id("mn1@x"), wire.opt_hnp("2001:db8:1:1::/64"), wire.opt_handoff(3), wire.opt_att(4)]
    mh = wire.mobility_header("PBU", wire.pbu_body(0x1234, 3600), options)
    expected = bytes.fromhex(
        "3b"            # payload proto: IPPROTO_NONE (59)
        "05"            # header len: (48 / 8) - 1
        "05" "00"       # MH type 5 (BU), reserved
        "0000"          # checksum (zero until the IPv6 addresses are known)
        "1234"          # sequence number
        "8200"          # A (0x8000) | P (0x0200)
        "0384"          # lifetime 3600 s / 4
        "0806" "01" "6d6e314078"                                 # MN-ID: NAI "mn1@x" (HNP lands at 20 = 8n+4)
        "1612" "00" "40" "20010db8000100010000000000000000"      # HNP 2001:db8:1:1::/64
        "1702" "0003"                                            # Handoff Indicator 3
        "1802" "0004"                                            # ATT 4: 48 octets, no padding
    )
    assert mh == expected
    padded = wire.mobility_header("PBU", wire.pbu_body(1, 0), [wire.opt_mn_id("ab"), wire.opt_hnp("::/0")])
    # MN-ID ends at 17: a PadN of 3 moves the HNP to 20; it ends at 40, a multiple of 8.
    assert padded[17:20] == bytes.fromhex("010100") and padded[20:22] == bytes([22, 18]) and len(padded) == 40
    tail = wire.mobility_header("PBU", wire.pbu_body(1, 0), [wire.opt_handoff(1), wire.opt_att(4)])
    assert tail[20:] == bytes.fromhex("01020000") and tail[1] == 2  # 12 + 8 = 20: PadN(4) to 24
    assert mh.index(bytes([22, 18])) % 8 == 4


def test_pba_layout_and_timestamp_alignment() -> None:
    mh = wire.mobility_header("PBA", wire.pba_body(0, 0x1234, 3600),
                              [wire.opt_mn_id("a"), wire.opt_timestamp(1_704_067_200_500_000_000)])
    assert mh[2] == 6 and mh[6:12] == bytes.fromhex("0020" "1234" "0384")  # status 0, P flag 0x20
    ts = mh.index(bytes([27, 8]))
    assert ts % 8 == 2  # RFC 5213 8.8: 8n+2
    # 48-bit seconds since 1970 and 16 bits of 1/65536 s: half a second is 0x8000.
    assert mh[ts + 2:ts + 10] == (1_704_067_200).to_bytes(6, "big") + b"\x80\x00"
    assert len(mh) % 8 == 0 and mh[1] == len(mh) // 8 - 1


def test_mh_checksum_equals_scapy_pseudo_header_checksum() -> None:
    mh = wire.mobility_header("PBU", wire.pbu_body(7, 40), [wire.opt_mn_id("mn@lab"), wire.opt_hnp("2001:db8::/64")])
    ours = wire.mh_checksum(MAG, LMA, mh)
    from scapy.layers.inet6 import IPv6

    assert ours == in6_chksum(135, IPv6(src=MAG, dst=LMA), mh)
    # And the sum over pseudo-header + message with the checksum in place is 0xffff.
    assert wire.mh_checksum(MAG, LMA, wire.with_checksum(mh, ours)) in (0, 0xFFFF)


def test_pmag_address_default_encoding() -> None:
    otype, data = wire.opt_pmag_address(MAG)
    assert otype == 18  # RFC 5096 Experimental Mobility Option
    assert data == bytes([1, 1, 0]) + ipaddress.ip_address(MAG).packed  # sub-type 1, code 1 (IPv6)
    otype, data = wire.opt_pmag_address("192.0.2.11")
    assert data == bytes([1, 2, 0, 192, 0, 2, 11])


def test_cxtp_headers_and_cdbs_rfc_4067() -> None:
    prev = "2001:db8:1:1::100"
    req = wire.ct_req(prev, 0, 0, wire.cdb_request(1))
    assert req[:4] == bytes([0x27, 0x00, 0x00, 4 + 16 + 8 + 4])  # version 1 | type 7, Length with header
    assert req[4:20] == ipaddress.ip_address(prev).packed and req[-4:] == bytes.fromhex("00010000")
    mld = wire.mld_cdb("2001:db8:1:1::/64", "ff3e::8000:1")
    assert mld[:4] == bytes.fromhex("0001" "04" "00")  # FPT 1, 4 x 8 octets, P clear
    assert len(mld) == 32 and mld[4:12] == bytes.fromhex("20010db800010001")
    ctd = wire.ctd(prev, 0, mld, ack=True)
    assert ctd[:4] == bytes([0x23, 0x40, 0, len(ctd)]) and len(ctd) == 4 + 4 + 16 + 32
    ctdr = wire.ctdr(prev, [(1, 0)], success=True)
    assert ctdr[:2] == bytes([0x25, 0x40]) and ctdr[-4:] == bytes.fromhex("00010000")
    bad = wire.ctd(prev, 0, mld, ack=False, length_excludes_header=True)
    assert bad[1] == 0 and int.from_bytes(bad[2:4], "big") == len(bad) - 4
    key = bytes(20)
    pctd = wire.pctd(prev, 5, key, mld, ack=True)
    assert pctd[0] == 0x24 and pctd[24:28] == bytes.fromhex("0001" "0014")  # HMAC_SHA1, 20-octet key


def test_hi_hack_bodies_rfc_5949() -> None:
    assert wire.hi_body(9, ["P"], 0) == bytes.fromhex("0009" "20" "00")
    assert wire.hack_body(9, ["P"], 5) == bytes.fromhex("0009" "40" "05")
    assert wire.mobility_header("HI", wire.hi_body(1, ["P"], 0), [])[2] == 14
