"""The Mobility Header (RFC 6275 6.1) and every message body the registry lays out.

Each message class is its field list: the common header, the registry body, the options.
Building fills Header Len, pads the header to a multiple of 8 octets with Pad1/PadN and computes
the checksum over the IPv6 pseudo-header (0 when no IPv6 header is below, e.g. RFC 5844 UDP).
Dissecting :class:`MobilityHeader` picks the class by MH Type (and B.R. Type); a body too short
for its layout stays a generic header with raw data, so no input raises.
"""

from __future__ import annotations

from typing import Any

from scapy.fields import ByteEnumField, ByteField, StrLenField, XShortField
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6, in6_chksum, ipv6nh
from scapy.packet import Packet

from ..registry import (
    BR_BODIES,
    IPPROTO_MH,
    IPPROTO_NONE,
    MH_BODIES,
    MH_HEADER_LEN,
    MH_TYPES,
    PMIP6_UDP_PORT,
    TABLES,
)
from .fields import TolerantPacket, fixed_size, layout_fields
from .options import CODEPOINTS, MobilityOptionsField, padding_bytes

BINDING_REVOCATION = next(t for t, v in MH_TYPES.items() if v.short == "BR")


def mh_header(mh_type: int) -> list[Any]:
    """Payload Proto, Header Len, MH Type, Reserved, Checksum (RFC 6275 6.1.1)."""
    return [
        ByteEnumField("payload_proto", IPPROTO_NONE, ipv6nh),
        ByteField("header_len", None),
        ByteEnumField("mh_type", mh_type, dict(TABLES["mh_type"])),
        ByteField("mh_reserved", 0),
        XShortField("checksum", None),
    ]


def _options(body_octets: int) -> MobilityOptionsField:
    start = MH_HEADER_LEN + body_octets
    return MobilityOptionsField("options", lambda pkt: (pkt.header_len + 1) * 8 - start)


def mh_fields(mh_type: int) -> list[Any]:
    """Header, the registry body of ``mh_type``, then the mobility options."""
    body = MH_BODIES[mh_type]
    return [*mh_header(mh_type), *layout_fields(body), _options(fixed_size(body))]


def br_fields(br_type: int) -> list[Any]:
    """Binding Revocation (RFC 5846 6.1): the body chosen by its B.R. Type octet."""
    body = BR_BODIES[br_type]
    fields = [*mh_header(BINDING_REVOCATION), *layout_fields(body), _options(fixed_size(body))]
    fields[5].default = br_type  # br_type, the first body field
    return fields


def mh_checksum(mh: Packet, octets: bytes) -> int:
    """RFC 6275 6.1.1 checksum of ``octets`` under ``mh``'s IPv6 header; 0 without one."""
    lower = mh.underlayer
    while lower is not None and not isinstance(lower, IPv6):
        lower = lower.underlayer
    if lower is None:
        return 0
    return in6_chksum(IPPROTO_MH, mh.underlayer, octets)


class _MobilityHeader(TolerantPacket):
    overload_fields = {  # noqa: RUF012 - scapy reads this class attribute
        IPv6: {"nh": IPPROTO_MH},
        UDP: {"sport": PMIP6_UDP_PORT, "dport": PMIP6_UDP_PORT},
    }

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.header_len is None:
            p += padding_bytes(-len(p) % 8)
            p = p[:1] + bytes([(len(p) // 8 - 1) & 0xFF]) + p[2:]
        if self.checksum is None:
            csum = mh_checksum(self, p)
            p = p[:4] + csum.to_bytes(2, "big") + p[6:]
        return p + pay

    def do_dissect(self, s: bytes) -> bytes:
        """The message ends where Header Len says; what follows is not part of it."""
        declared = (s[1] + 1) * 8 if len(s) >= 2 else len(s)
        if declared < len(s):
            return super().do_dissect(s[:declared]) + s[declared:]
        return super().do_dissect(s)

    def mysummary(self) -> str:
        return f"MH {self.name}"


class MobilityHeader(_MobilityHeader):
    """Any MH message; dissecting it yields the class of its MH Type."""

    name = "Mobility Header"
    fields_desc = (
        *mh_header(255),
        StrLenField("data", b"", length_from=lambda pkt: (pkt.header_len + 1) * 8 - MH_HEADER_LEN),
    )

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if cls is not MobilityHeader or not _pkt or len(_pkt) < 3:
            return cls
        mh_type = _pkt[2]
        if mh_type in CODEPOINTS[0].mh_type_names:  # a dialect's own message: body undocumented
            return cls
        if mh_type == BINDING_REVOCATION:
            target = BR_CLASSES.get(_pkt[MH_HEADER_LEN]) if len(_pkt) > MH_HEADER_LEN else None
        else:
            target = MH_CLASSES.get(mh_type)
        return target or cls


class BRR(_MobilityHeader):
    name = MH_TYPES[0].name
    fields_desc = mh_fields(0)


class HoTI(_MobilityHeader):
    name = MH_TYPES[1].name
    fields_desc = mh_fields(1)


class CoTI(_MobilityHeader):
    name = MH_TYPES[2].name
    fields_desc = mh_fields(2)


class HoT(_MobilityHeader):
    name = MH_TYPES[3].name
    fields_desc = mh_fields(3)


class CoT(_MobilityHeader):
    name = MH_TYPES[4].name
    fields_desc = mh_fields(4)


class BU(_MobilityHeader):
    """Binding Update; a Proxy Binding Update when the P flag is set (RFC 5213 8.1)."""

    name = MH_TYPES[5].name
    fields_desc = mh_fields(5)


class BA(_MobilityHeader):
    """Binding Acknowledgement; a Proxy Binding Acknowledgement when P is set (RFC 5213 8.2)."""

    name = MH_TYPES[6].name
    fields_desc = mh_fields(6)


class BE(_MobilityHeader):
    name = MH_TYPES[7].name
    fields_desc = mh_fields(7)


class FBU(_MobilityHeader):
    name = MH_TYPES[8].name
    fields_desc = mh_fields(8)


class FBack(_MobilityHeader):
    name = MH_TYPES[9].name
    fields_desc = mh_fields(9)


class FNA(_MobilityHeader):
    name = MH_TYPES[10].name
    fields_desc = mh_fields(10)


class HAS(_MobilityHeader):
    name = MH_TYPES[12].name
    fields_desc = mh_fields(12)


class HB(_MobilityHeader):
    name = MH_TYPES[13].name
    fields_desc = mh_fields(13)


class HI(_MobilityHeader):
    """Handover Initiate (RFC 5568, RFC 5949 6.1.1)."""

    name = MH_TYPES[14].name
    fields_desc = mh_fields(14)


class HAck(_MobilityHeader):
    """Handover Acknowledge (RFC 5568, RFC 5949 6.1.2)."""

    name = MH_TYPES[15].name
    fields_desc = mh_fields(15)


class BRI(_MobilityHeader):
    name = MH_TYPES[BINDING_REVOCATION].name + " Indication"
    fields_desc = br_fields(1)


class BRA(_MobilityHeader):
    name = MH_TYPES[BINDING_REVOCATION].name + " Acknowledgement"
    fields_desc = br_fields(2)


MH_CLASSES: dict[int, type[Packet]] = {
    cls.fields_desc[2].default: cls
    for cls in (BRR, HoTI, CoTI, HoT, CoT, BU, BA, BE, FBU, FBack, FNA, HAS, HB, HI, HAck)
}
BR_CLASSES: dict[int, type[Packet]] = {cls.fields_desc[5].default: cls for cls in (BRI, BRA)}
assert set(MH_CLASSES) == set(MH_BODIES), "every registry MH body needs a layer"
assert set(BR_CLASSES) == set(BR_BODIES), "every registry B.R. body needs a layer"
