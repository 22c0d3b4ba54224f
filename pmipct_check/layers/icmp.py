"""The ICMP Experimental Mobility wrapper that carries CTAR/CTAA between MN and router.

RFC 4065 section 8 / RFC 4067 section 3.2: ICMPv6 type 150 or ICMPv4 type 41, Code 0, a
Subtype octet (1 = CXTP), 24 reserved bits, then the CXTP message; IP Hop Limit 255.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import BitField, ByteEnumField, ByteField, XShortField
from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import IPv6, in6_chksum
from scapy.packet import Packet
from scapy.utils import checksum

from ..registry import CXTP_ICMP_SUBTYPE, CXTP_ICMPV4_TYPE, CXTP_ICMPV6_TYPE, TABLES
from .fields import TolerantPacket

IPPROTO_ICMPV6 = 58
IPPROTO_ICMP = 1


def exp_mobility_fields(icmp_type: int) -> list[Any]:
    return [
        ByteField("type", icmp_type),
        ByteField("code", 0),
        XShortField("cksum", None),
        ByteEnumField("subtype", CXTP_ICMP_SUBTYPE, dict(TABLES["exp_mobility_subtype"])),
        BitField("reserved", 0, 24),
    ]


class ICMPv6ExpMobility(TolerantPacket):  # a cut header dissects, never raises
    """ICMPv6 Experimental Mobility (type 150); the checksum covers the IPv6 pseudo-header."""

    name = "ICMPv6 Experimental Mobility"
    fields_desc = exp_mobility_fields(CXTP_ICMPV6_TYPE)
    overload_fields = {IPv6: {"nh": IPPROTO_ICMPV6, "hlim": 255}}  # noqa: RUF012 - scapy API

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        p += pay
        if self.cksum is None:
            p = p[:2] + in6_chksum(IPPROTO_ICMPV6, self.underlayer, p).to_bytes(2, "big") + p[4:]
        return p


class ICMPExpMobility(TolerantPacket):
    """ICMPv4 Experimental Mobility (type 41)."""

    name = "ICMP Experimental Mobility"
    fields_desc = exp_mobility_fields(CXTP_ICMPV4_TYPE)
    overload_fields = {IP: {"proto": IPPROTO_ICMP, "ttl": 255}}  # noqa: RUF012 - scapy API

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        p += pay
        if self.cksum is None:
            p = p[:2] + checksum(p).to_bytes(2, "big") + p[4:]
        return p


class ICMPv4Guess(Packet):
    """Bound under IPv4 protocol 1: type 41 is Experimental Mobility, the rest scapy's ICMP."""

    name = "ICMP"
    fields_desc = []  # noqa: RUF012 - never instantiated: dispatch_hook always answers

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if _pkt and _pkt[0] == CXTP_ICMPV4_TYPE and len(_pkt) >= 8:
            return ICMPExpMobility
        return ICMP
