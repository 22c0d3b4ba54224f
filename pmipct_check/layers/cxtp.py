"""CXTP, the Context Transfer Protocol (RFC 4067 section 2), all seven message types.

Octet 0 holds the version (high 3 bits) and the type (low 5 bits); octet 1 the V flag (IPv4
addresses when set) and A or S.  Length counts the whole message including its 4-octet header
(protocol-notes (g)); building fills it.  Context Data Blocks (section 2.4) fill their Length in
8-octet units (the 4-octet head included), set P when a presence vector is given and zero-pad
their data to 64 bits.
"""

from __future__ import annotations

from typing import Any

from scapy.config import conf
from scapy.fields import (
    BitEnumField,
    BitField,
    ByteEnumField,
    ByteField,
    IntField,
    PacketListField,
    ShortEnumField,
    ShortField,
    StrField,
)
from scapy.packet import Packet

from ..registry import (
    CXTP_BODIES,
    CXTP_FLAGS,
    CXTP_HEADER_LEN,
    CXTP_REQUEST_TYPES,
    CXTP_VERSION,
    TABLES,
)
from .fields import TolerantPacket, layout_fields
from .options import CODEPOINTS

CDB_HEAD = 4  # FPT, Length, P and Reserved (RFC 4067 section 2.4)
PRESENCE_VECTOR = 4


class PresenceVectorField(IntField):
    """The 32-bit presence vector: there when P is set and the block has room for it."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, int | None]:
        if not pkt.P or len(s) < PRESENCE_VECTOR:
            return s, None
        return super().getfield(pkt, s)

    def addfield(self, pkt: Packet, s: bytes, val: int | None) -> bytes:
        return s if val is None else super().addfield(pkt, s, val)


class CDB(TolerantPacket):
    """A Context Data Block: FPT, Length (8-octet units), P, [Presence Vector], Data.

    Dissected inside :class:`CDBListField`, which hands each block exactly its octets."""

    name = "Context Data Block"
    fields_desc = (
        ShortEnumField("fpt", 0, dict(TABLES["cxtp_fpt"])),
        ByteField("length", None),
        BitField("P", 0, 1),
        BitField("reserved", 0, 7),
        PresenceVectorField("presence_vector", None),
        StrField("data", b""),
    )

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.length is None:  # (a request's 4-octet block is made with length=0: cdb_request)
            p += b"\x00" * (-len(p) % 8)
            p = p[:2] + bytes([(len(p) // 8) & 0xFF]) + p[3:]
        return p + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


class CDBListField(PacketListField):
    """Context Data Blocks, each walked by its own Length; a block that overruns takes what is
    left, a Length of 0 ends the walk (except a request's 4-octet block), and octets too few for a
    block header stay Raw."""

    def __init__(self, name: str) -> None:
        super().__init__(name, [], CDB)

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[Packet]]:
        request = pkt.getfieldval("cxtp_type") in CXTP_REQUEST_TYPES
        items: list[Packet] = []
        pos = 0
        while pos < len(s):
            if pos + CDB_HEAD > len(s):
                items.append(conf.raw_layer(load=s[pos:]))
                break
            size = s[pos + 2] * 8
            if size == 0:
                if not (request and not s[pos + 3] & 0x80):
                    items.append(CDB(s[pos : pos + CDB_HEAD]))
                    if pos + CDB_HEAD < len(s):
                        items.append(conf.raw_layer(load=s[pos + CDB_HEAD :]))
                    break
                size = CDB_HEAD
            items.append(CDB(s[pos : pos + size]))
            pos += size
        return b"", items


class CXTPStatus(Packet):
    """One (FPT, Status, Reserved) entry of a CTAA or CTDR (RFC 4067 2.5.2, 2.5.4)."""

    name = "CXTP status"
    fields_desc = (
        ShortEnumField("fpt", 0, dict(TABLES["cxtp_fpt"])),
        ByteEnumField("status", 0, dict(TABLES["cxtp_status"])),
        ByteField("reserved", 0),
    )

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


def _addr_size(pkt: Packet) -> int:
    return 4 if pkt.V else 16


def cxtp_fields(cxtp_type: int) -> list[Any]:
    """Version, Type, the type's flags, Reserved, Length, then the registry body."""
    flags = CXTP_FLAGS[cxtp_type]
    return [
        BitField("version", CXTP_VERSION, 3),
        BitEnumField("cxtp_type", cxtp_type, 5, dict(TABLES["cxtp_type"])),
        *(BitField(name, 0, 1) for name, _mask in flags),
        BitField("reserved", 0, 8 - len(flags)),
        ShortField("length", None),
        *layout_fields(
            CXTP_BODIES[cxtp_type],
            addr_size=_addr_size,
            lists={"statuses": CXTPStatus, "cdbs": CDBListField},
        ),
    ]


class _CXTPMessage(TolerantPacket):
    __slots__ = ["trailing"]

    def do_dissect(self, s: bytes) -> bytes:
        """The message ends where its Length says, read as the fast decoder reads it."""
        end = message_end(s, CODEPOINTS[0].cxtp_length_includes_header)
        rest = super().do_dissect(s[:end])
        self.trailing = b"" if self.cut_short else rest
        return rest + s[end:]

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.length is None:
            p = p[:2] + len(p).to_bytes(2, "big") + p[4:]
        return p + pay

    def mysummary(self) -> str:
        return f"CXTP {self.name}"


class CXTP(_CXTPMessage):
    """Any CXTP message; dissecting it yields the class of its type."""

    name = "CXTP"
    fields_desc = (
        BitField("version", CXTP_VERSION, 3),
        BitField("cxtp_type", 0, 5),
        BitField("flags", 0, 8),
        ShortField("length", None),
        StrField("data", b""),
    )

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if cls is not CXTP or not _pkt or len(_pkt) < CXTP_HEADER_LEN:
            return cls
        return CXTP_CLASSES.get(_pkt[0] & 0x1F, cls)


class CTAR(_CXTPMessage):
    name = "Context Transfer Activate Request"
    fields_desc = cxtp_fields(1)


class CTAA(_CXTPMessage):
    name = "Context Transfer Activate Acknowledge"
    fields_desc = cxtp_fields(2)


class CTD(_CXTPMessage):
    name = "Context Transfer Data"
    fields_desc = cxtp_fields(3)


class PCTD(_CXTPMessage):
    name = "Predictive Context Transfer Data"
    fields_desc = cxtp_fields(4)


class CTDR(_CXTPMessage):
    name = "Context Transfer Data Reply"
    fields_desc = cxtp_fields(5)


class CTC(_CXTPMessage):
    name = "Context Transfer Cancel"
    fields_desc = cxtp_fields(6)


class CTReq(_CXTPMessage):
    name = "Context Transfer Request"
    fields_desc = cxtp_fields(7)


CXTP_CLASSES: dict[int, type[Packet]] = {
    cls.fields_desc[1].default: cls for cls in (CTAR, CTAA, CTD, PCTD, CTDR, CTC, CTReq)
}
assert set(CXTP_CLASSES) == set(CXTP_BODIES), "every registry CXTP body needs a layer"


def message_end(data: bytes, length_includes_header: bool = True) -> int:
    """Where a message ends: its Length (with or without the 4-octet header, as the profile
    says, tolerating the other reading when it fits exactly); all the octets when Length is
    impossible."""
    total = len(data)
    if total < CXTP_HEADER_LEN:
        return total
    length = int.from_bytes(data[2:4], "big")
    with_header = length if length_includes_header else length + CXTP_HEADER_LEN
    if with_header == total or (length_includes_header and length + CXTP_HEADER_LEN == total):
        return total
    if not length_includes_header and length == total:
        return total
    return with_header if CXTP_HEADER_LEN <= with_header < total else total
