"""Byte builders for the decoder tests, written from the RFC figures (not from our registry).

Every message here is spelled out field by field as the RFC draws it; the only arithmetic is
Header Len, padding to 8 octets and the checksum, which is itself checked against scapy's
``in6_chksum`` (an implementation no one here wrote).  Other decode tests import from here.
"""

from __future__ import annotations

import ipaddress
import struct

from pmipct_check.capture.model import Carried

MAG1 = "2001:db8:a::1"
MAG2 = "2001:db8:b::1"
LMA = "2001:db8:ffff::1"


def opt(otype: int, data: bytes) -> bytes:
    """A mobility option: Type, Length (of the data), data (RFC 6275 section 6.2.1)."""
    return bytes((otype, len(data))) + data


def padn(n: int) -> bytes:
    """n octets of padding: Pad1 for one, else PadN (Type 1, Length n-2, zeros)."""
    if n == 0:
        return b""
    if n == 1:
        return b"\x00"
    return bytes((1, n - 2)) + bytes(n - 2)


def checksum(src: str, dst: str, data: bytes, nh: int = 135) -> int:
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!I", len(data)) + b"\0\0\0" + bytes((nh,)))
    buf = pseudo + data + (b"\0" if len(data) % 2 else b"")
    total = sum(struct.unpack(f"!{len(buf) // 2}H", buf))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mh(mh_type: int, data: bytes, src: str = MAG1, dst: str = LMA, *, proto: int = 59, pad: bool = True,
       nh: int = 135, good_checksum: bool = True) -> bytes:
    """RFC 6275 6.1.1: Payload Proto, Header Len, MH Type, Reserved, Checksum, Message Data."""
    if pad:
        data += padn((-(6 + len(data))) % 8)
    hlen = (6 + len(data)) // 8 - 1
    raw = bytes((proto, hlen, mh_type, 0)) + b"\0\0" + data
    csum = checksum(src, dst, raw, nh) if good_checksum else 0xBAD0
    return raw[:4] + struct.pack("!H", csum) + raw[6:]


def carried(data: bytes, transport: str = "mh", src: str = MAG1, dst: str = LMA, frame: int = 1,
            info: dict | None = None) -> Carried:
    return Carried("test.pcap", frame, 1_700_000_000_123_456_789, src, dst, transport, data,  # type: ignore[arg-type]
                   (frame,), info or {})


# --- RFC 5213 section 8 options, exactly as drawn ------------------------------------------------------

NAI = b"mn1@example.com"
HNP = ipaddress.IPv6Address("2001:db8:1::").packed
LLA = ipaddress.IPv6Address("fe80::1").packed


def opt_mn_id_nai(nai: bytes = NAI) -> bytes:
    return opt(8, b"\x01" + nai)  # RFC 4283: Subtype 1 (NAI), Identifier


def opt_hnp(prefix: bytes = HNP, plen: int = 64) -> bytes:
    return opt(22, b"\x00" + bytes((plen,)) + prefix)  # Reserved, Prefix Length, Prefix


def opt_hi(value: int = 1) -> bytes:
    return opt(23, bytes((0, value)))  # Reserved, Handoff Indicator


def opt_att(value: int = 4) -> bytes:
    return opt(24, bytes((0, value)))  # Reserved, Access Technology Type


def opt_mn_ll_id(lladdr: bytes = bytes.fromhex("00163e112233")) -> bytes:
    return opt(25, b"\x00\x00" + lladdr)  # Reserved (16), Link-layer Identifier


def opt_lla(address: bytes = LLA) -> bytes:
    return opt(26, address)


def opt_ts(seconds: int = 1_700_000_000, fraction: int = 0x8000) -> bytes:
    return opt(27, seconds.to_bytes(6, "big") + fraction.to_bytes(2, "big"))


def pbu_options() -> bytes:
    """Every RFC 5213 PBU option, with the alignment padding section 8 asks for."""
    # Body is 6 octets (seq, flags, lifetime) after the 6-octet header: options start at 12.
    out = b""
    out += opt_mn_id_nai()  # 12: 2+16 = 18 -> 30
    out += padn(2)  # 30 -> 32 (HNP at 8n+4 = 36 needs two more)
    out += padn(2)  # 32 -> 34
    out += padn(2)  # 34 -> 36
    out += opt_hnp()  # 36 -> 56
    out += opt_hi(1) + opt_att(4)  # 56 -> 64
    out += opt_mn_ll_id()  # 64 -> 74
    out += opt_ts()  # 74 (8n+2) -> 84
    out += padn(2)  # 84 -> 86 (LLA at 8n+6)
    out += opt_lla()  # 86 -> 104
    return out


def pbu(seq: int = 4711, lifetime_units: int = 900, flags: int = 0x8000 | 0x0200, options: bytes | None = None,
        src: str = MAG1, dst: str = LMA) -> bytes:
    """RFC 5213 8.1: Sequence #, A|H|L|K|M|R|P|Reserved, Lifetime (4-second units), options."""
    body = struct.pack("!HHH", seq, flags, lifetime_units)
    return mh(5, body + (pbu_options() if options is None else options), src, dst)


def pba(status: int = 0, seq: int = 4711, lifetime_units: int = 900, flags: int = 0x20,
        options: bytes | None = None, src: str = LMA, dst: str = MAG1) -> bytes:
    """RFC 5213 8.2: Status, K|R|P|Reserved, Sequence #, Lifetime, options."""
    body = bytes((status, flags)) + struct.pack("!HH", seq, lifetime_units)
    if options is None:
        # body starts at 6, 6 octets: options at 12, same offsets as the PBU.
        options = pbu_options()
    return mh(6, body + options, src, dst)


def test_checksum_matches_scapy() -> None:
    """Our test builder's checksum equals scapy's in6_chksum on the same pseudo-header."""
    from scapy.layers.inet6 import IPv6, in6_chksum

    raw = pbu()
    zeroed = raw[:4] + b"\0\0" + raw[6:]
    assert in6_chksum(135, IPv6(src=MAG1, dst=LMA), zeroed) == int.from_bytes(raw[4:6], "big")


def test_pbu_options_are_aligned_as_rfc5213_asks() -> None:
    raw = pbu()
    assert len(raw) % 8 == 0
    assert raw[36] == 22 and raw[74] == 27 and raw[86] == 26
