"""Registry layouts as scapy fields.

The registry states every wire layout once, as :class:`~pmipct_check.registry.Field` tuples;
this adapter turns a layout into a scapy ``fields_desc`` so the layer modules stay short field
lists that never restate a code point.  The few field classes here exist because scapy has no
equivalent: an address whose size the message decides, a 48.16 timestamp, values kept in
seconds while the wire carries 4-second units.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any

from scapy.fields import (
    BitField,
    ByteEnumField,
    ByteField,
    Field,
    FieldLenField,
    FieldListField,
    FlagsField,
    IntEnumField,
    IntField,
    IP6Field,
    IPField,
    LongField,
    PacketListField,
    ShortEnumField,
    ShortField,
    StrField,
    StrFixedLenField,
    StrLenField,
)
from scapy.packet import Packet

from .. import registry
from ..registry import TABLES

#: How many octets a variable field may take, given the packet and the field's offset.
RestLen = Callable[[Packet, int], int]
#: The size of an ``addr`` field (4 or 16), or ``None`` for "whatever is left".
AddrSize = Callable[[Packet], "int | None"]

_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def code_of(table: str, name: str) -> int:
    """A registry value by its name, so no layer restates a code point."""
    return next(v for v, n in TABLES[table].items() if n == name)


def address_text(raw: bytes) -> str | bytes:
    """4 or 16 octets as an address; other sizes stay octets (the caller warns)."""
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    if len(raw) == 16:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return raw


def address_octets(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return ipaddress.ip_address(value).packed


class ScaledField(Field[int, int]):
    """An unsigned integer kept in real units while the wire holds ``value // scale``."""

    __slots__ = ["scale"]

    def __init__(self, name: str, default: int | None, size: int, scale: int) -> None:
        Field.__init__(self, name, default, "!" + _FMT[size])
        self.scale = scale

    def m2i(self, pkt: Packet | None, x: int) -> int:
        return x * self.scale

    def i2m(self, pkt: Packet | None, x: int | None) -> int:
        return 0 if x is None else int(x) // self.scale

    def i2repr(self, pkt: Packet | None, x: int) -> str:
        return f"{x} s" if self.scale == 4 else str(x)


class AddrField(Field[Any, bytes]):
    """An IPv4 or IPv6 address whose size the packet decides (CXTP V flag, option code)."""

    __slots__ = ["size_from"]

    def __init__(self, name: str, default: Any, size_from: AddrSize) -> None:
        Field.__init__(self, name, default, "16s")
        self.size_from = size_from

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, Any]:
        size = self.size_from(pkt)
        if size is None:  # as the decoder does: what is left when that is an address, else 16
            size = len(s) if len(s) in (4, 16) else 16
        if len(s) < size:
            raise ValueError(f"{self.name}: {size} octets needed, {len(s)} left")
        return s[size:], self.m2i(pkt, s[:size])

    def addfield(self, pkt: Packet, s: bytes, val: Any) -> bytes:
        return s + self.i2m(pkt, val)

    def m2i(self, pkt: Packet | None, x: bytes) -> Any:
        return address_text(x)

    def i2m(self, pkt: Packet | None, x: Any) -> bytes:
        return address_octets(x)

    def i2len(self, pkt: Packet, x: Any) -> int:
        return len(self.i2m(pkt, x))

    def randval(self) -> Any:
        return "2001:db8::1"


class LLAddrField(StrLenField):
    """A link-layer address: octets on the wire, colon-separated hex for people."""

    def h2i(self, pkt: Packet | None, x: Any) -> bytes:
        if isinstance(x, str):
            return bytes.fromhex(x.replace(":", "").replace("-", ""))
        return super().h2i(pkt, x)

    def any2i(self, pkt: Packet | None, x: Any) -> bytes:
        return self.h2i(pkt, x)

    def i2repr(self, pkt: Packet | None, x: bytes) -> str:
        return ":".join(f"{b:02x}" for b in x or b"")


class IdentField(StrLenField):
    """An MN identifier: octets, shown as the preceding subtype says (RFC 4283, RFC 8371)."""

    def any2i(self, pkt: Packet | None, x: Any) -> bytes:
        return x.encode() if isinstance(x, str) else super().any2i(pkt, x)

    def i2repr(self, pkt: Packet | None, x: bytes) -> str:
        kind = registry.MN_ID_RENDER.get(getattr(pkt, "subtype", 0), "bytes")
        if kind == "text":
            return repr(x.decode("utf-8", "replace"))
        if kind == "ipv6" and len(x) == 16:
            return socket.inet_ntop(socket.AF_INET6, x)
        if kind == "lladdr":
            return ":".join(f"{b:02x}" for b in x)
        return x.hex()


class TextField(StrLenField):
    """UTF-8 text (an NAI, a service name): str in, octets on the wire."""

    def any2i(self, pkt: Packet | None, x: Any) -> bytes:
        return x.encode() if isinstance(x, str) else super().any2i(pkt, x)


class KeyField(StrLenField):
    """Octets counted by the preceding length field (CXTP PCTD Key).  When the message ends
    first, it keeps what there is and ends the dissection, as the decoder does."""

    def __init__(self, name: str, length_field: str) -> None:
        super().__init__(name, b"", length_from=lambda pkt: pkt.getfieldval(length_field) or 0)

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, bytes]:
        size = self.length_from(pkt)
        if size > len(s) and hasattr(pkt, "cut_short"):
            pkt.cut_short = self.name
        return s[size:], s[:size]


class Timestamp48Field(LongField):
    """RFC 5213 8.8 timestamp: 48-bit seconds and 16-bit 1/65536 fractions, kept as the raw 64 bits.

    Assign a float (epoch seconds) to set it; it shows as seconds.
    """

    def any2i(self, pkt: Packet | None, x: Any) -> int:
        if isinstance(x, float):
            return round(x * 65536)
        return super().any2i(pkt, x)

    def i2repr(self, pkt: Packet | None, x: int) -> str:
        return "None" if x is None else f"{x >> 16}+{x & 0xFFFF}/65536 s"


def _flag_names(bits: Sequence[tuple[str, int]], width: int) -> str | dict[int, str]:
    """One character per bit (LSB first, ``?`` reserved) so ``flags="AP"`` works; else a dict."""
    if all(len(name) == 1 for name, _ in bits):
        chars = ["?"] * width
        for name, mask in bits:
            chars[mask.bit_length() - 1] = name
        return "".join(chars)
    return {mask: name for name, mask in bits}


def _split_bits(f: registry.Field) -> list[Field[Any, Any]]:
    """A ``bits`` field: one BitField per named mask, reserved runs between them, MSB first."""
    width = f.size * 8
    owner = {}
    for name, mask in f.bits:
        for bit in range(width):
            if mask >> bit & 1:
                owner[bit] = name
    out: list[Field[Any, Any]] = []
    bit, gaps = width - 1, 0
    while bit >= 0:
        name = owner.get(bit)
        run = 0
        while bit - run >= 0 and owner.get(bit - run) == name:
            run += 1
        if name is None:
            gaps += 1
            name = f"{f.name}_reserved" + (str(gaps) if gaps > 1 else "")
        out.append(BitField(name, 0, run))
        bit -= run
    return out


def _uint(f: registry.Field) -> Field[Any, Any]:
    if f.scale != 1:
        return ScaledField(f.name, 0, f.size, f.scale)
    if f.table:
        enum = dict(TABLES[f.table])
        cls = {1: ByteEnumField, 2: ShortEnumField, 4: IntEnumField}[f.size]
        return cls(f.name, 0, enum)
    if f.size in (1, 2, 4):
        return {1: ByteField, 2: ShortField, 4: IntField}[f.size](f.name, 0)
    return BitField(f.name, 0, f.size * 8)


def layout_fields(
    layout: Sequence[registry.Field],
    *,
    rest: RestLen | None = None,
    addr_size: AddrSize | None = None,
    lists: dict[str, type[Packet]] | None = None,
) -> list[Field[Any, Any]]:
    """Scapy fields for a registry layout.

    ``rest(pkt, offset)`` bounds variable fields (an option's Length); without it they take all
    that is left.  ``addr_size`` sizes ``addr`` fields.  ``lists`` gives the packet class of each
    repeated kind (``tlvs``, ``statuses``, ``cdbs``).
    """
    out: list[Field[Any, Any]] = []
    offset: int | None = 0  # octets before this field, while it is fixed

    def rest_from(at: int | None) -> Callable[[Packet], int] | None:
        if rest is None or at is None:
            return None
        return lambda pkt: max(0, rest(pkt, at))

    def bounded(cls: type[StrLenField], name: str, at: int | None) -> Field[Any, Any]:
        length = rest_from(at)
        if length is None:
            return StrField(name, b"") if cls is StrLenField else _rest_variant(cls, name)
        return cls(name, b"", length_from=length)

    for i, f in enumerate(layout):
        nxt = layout[i + 1] if i + 1 < len(layout) else None
        size: int | None = f.size
        counted = next((g.name for g in layout if g.count == f.name), None)
        if f.kind == "uint" and nxt is not None and nxt.kind == "key":
            out.append(FieldLenField(f.name, None, length_of=nxt.name, fmt="!" + _FMT[f.size]))
        elif f.kind == "uint" and counted is not None:  # filled in from the list it counts when built
            out.append(FieldLenField(f.name, None, count_of=counted, fmt="!" + _FMT[f.size]))
        elif f.kind == "uint":
            out.append(_uint(f))
        elif f.kind == "flags":
            out.append(FlagsField(f.name, 0, f.size * 8, _flag_names(f.bits, f.size * 8)))
        elif f.kind == "bits":
            out.extend(_split_bits(f))
        elif f.kind == "ipv6":
            out.append(IP6Field(f.name, "::"))
        elif f.kind == "ipv4":
            out.append(IPField(f.name, "0.0.0.0"))
        elif f.kind == "addr":
            out.append(AddrField(f.name, "::", addr_size or (lambda pkt: None)))
            size = None
        elif f.kind == "ts48_16":
            out.append(Timestamp48Field(f.name, 0))
        elif f.kind == "bytes" and f.size:
            out.append(StrFixedLenField(f.name, b"\x00" * f.size, f.size))
        elif f.kind in ("bytes", "text", "lladdr", "ident"):
            cls = {"bytes": StrLenField, "text": TextField, "lladdr": LLAddrField, "ident": IdentField}
            out.append(bounded(cls[f.kind], f.name, offset))
            size = None
        elif f.kind == "key":
            out.append(KeyField(f.name, layout[i - 1].name))
            size = None
        elif f.kind == "ipv6_list":
            out.append(CountedAddresses(f.name, [], IP6Field("", "::"),
                                        count_from=lambda pkt, count=f.count: pkt.getfieldval(count) or 0))
            size = None
        elif f.kind in ("tlvs", "statuses", "cdbs"):
            cls_ = (lists or {})[f.kind]
            if isinstance(cls_, type) and issubclass(cls_, Packet):
                out.append(PacketListField(f.name, [], cls_, length_from=rest_from(offset)))
            else:  # a ready list field (e.g. CXTP's CDB walk)
                out.append(cls_(f.name))
            size = None
        else:  # pragma: no cover - the registry validates kinds
            raise ValueError(f.kind)
        offset = None if offset is None or size is None else offset + size
    return out


class CountedAddresses(FieldListField):
    """IPv6 addresses, as many as an earlier field counts; fewer octets than that is a field cut
    short (raised, so :class:`TolerantPacket` stops there as the decoder does), not a short list."""

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, Any]:
        wanted = self.count_from(pkt)
        if len(s) < 16 * wanted:
            raise ValueError(f"{self.name}: {wanted} addresses need {16 * wanted} octets, {len(s)} left")
        return super().getfield(pkt, s)  # type: ignore[no-any-return]


def _rest_variant(cls: type[StrLenField], name: str) -> Field[Any, Any]:
    """A field of ``cls`` that takes every remaining octet."""

    class _Rest(cls):  # type: ignore[valid-type, misc]
        def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, Any]:
            return b"", self.m2i(pkt, s)

    return _Rest(name, b"")


def fixed_size(layout: Sequence[registry.Field]) -> int:
    """Octets of the fixed part of a layout (up to its first variable field)."""
    total = 0
    for f in layout:
        if f.kind in ("uint", "flags", "bits", "ipv6", "ipv4", "ts48_16") or (f.kind == "bytes" and f.size):
            total += f.size
        else:
            break
    return total


def _too_short(f: Field[Any, Any], pkt: Packet, s: bytes) -> bool:
    fld = getattr(f, "fld", f)  # a ConditionalField's inner field
    if isinstance(fld, StrFixedLenField):
        return len(s) < fld.length_from(pkt)
    return False


class TolerantPacket(Packet):
    """Dissects field by field and stops, like the fast decoder, at the first field the octets
    cannot hold; ``cut_short`` names it.  The octets that did not fit stay after the layer, and
    the packet still rebuilds to exactly the octets it was given."""

    __slots__ = ["cut_short"]

    def do_dissect(self, s: bytes) -> bytes:
        raw = s
        self.cut_short = ""
        self.raw_packet_cache_fields = {}
        for f in self.fields_desc:
            try:
                if _too_short(f, self, s):
                    raise ValueError(f.name)
                rest, fval = f.getfield(self, s)
            except Exception:  # struct.error, inet_ntop's ValueError, ...: the octets ran out
                self.cut_short = f.name
                break
            s = rest
            if f.isconditional and fval is None:
                continue
            if (f.islist or f.holds_packets or f.ismutable) and fval is not None:
                self.raw_packet_cache_fields[f.name] = self._raw_packet_cache_field_value(f, fval, copy=True)
            self.fields[f.name] = fval
            if self.cut_short:  # the field kept what there was, and said the octets ran out
                break
        self.raw_packet_cache = raw[: -len(s)] if s else raw
        self.explicit = 1
        return s

    def dissected(self, name: str) -> bool:
        """Whether ``name`` was read from the octets (not a default)."""
        return name in self.fields
