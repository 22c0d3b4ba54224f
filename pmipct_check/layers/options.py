"""Mobility options (RFC 6275 6.2 and successors), walked by their Length field.

Every option class is its registry layout (``option_fields(N)``).  The option list of a mobility
header is :class:`MobilityOptionsField`: it reads the type octet, takes exactly 2 + Length octets
and hands them to the option's class; an option that overruns the message becomes a ``Raw``
remainder and the walk stops, so a bad option never shifts the ones after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scapy.config import conf
from scapy.fields import ByteEnumField, ByteField, ConditionalField, PacketListField, StrLenField
from scapy.packet import Packet

from .. import registry
from ..registry import EXPERIMENTAL_OPTION, OPTION_NAMES, OPTIONS, OptionSpec
from .fields import TolerantPacket, address_octets, code_of, layout_fields


def _code_size(pkt: Packet) -> int | None:
    """Address size from an RFC 5949 style option code (1 IPv6, 2 IPv4); else the rest."""
    return {1: 16, 2: 4}.get(getattr(pkt, "code", 0))


def _head(option_type: int) -> list[Any]:
    return [ByteEnumField("type", option_type, dict(OPTION_NAMES)), ByteField("length", None)]


class ContextRequestTLV(TolerantPacket):
    """One requested context of an RFC 5949 Context Request option (section 6.2.1)."""

    name = "Context Request entry"
    fields_desc = (
        ByteField("type", 0),
        ByteField("length", None),
        StrLenField("data", b"", length_from=lambda pkt: pkt.length),
    )

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.length is None:
            p = p[:1] + bytes([len(p) - 2]) + p[2:]
        return p + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


def option_fields(option_type: int) -> list[Any]:
    """Type, Length and the registry layout of ``option_type``, bounded by Length."""
    return _head(option_type) + layout_fields(
        OPTIONS[option_type].layout,
        rest=lambda pkt, at: (pkt.length or 0) - at,
        addr_size=_code_size,
        lists={"tlvs": ContextRequestTLV},
    )


def pmag_fields(subtype: int, layout: tuple[registry.Field, ...]) -> list[Any]:
    """The draft's pMAG options: Sub-type only when carried in the Experimental option (type 18)."""

    def carried(pkt: Packet) -> bool:
        return pkt.type == EXPERIMENTAL_OPTION

    return [
        *_head(EXPERIMENTAL_OPTION),
        ConditionalField(ByteField("subtype", subtype), carried),
        *layout_fields(
            layout,
            rest=lambda pkt, at: (pkt.length or 0) - at - (1 if carried(pkt) else 0),
            addr_size=_code_size,
        ),
    ]


class _MobilityOption(TolerantPacket):
    """Automatic Length; the option ends where its Length says (extra octets stay Padding)."""

    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.length is None:
            p = p[:1] + bytes([(len(p) - 2) & 0xFF]) + p[2:]
        return p + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


class Pad1(Packet):
    name = OPTION_NAMES[0]
    fields_desc = (ByteEnumField("type", 0, dict(OPTION_NAMES)),)

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        return b"", s


class PadN(_MobilityOption):
    name = OPTION_NAMES[1]
    fields_desc = option_fields(1)


class RefreshAdvice(_MobilityOption):
    name = OPTION_NAMES[2]
    fields_desc = option_fields(2)


class AlternateCoA(_MobilityOption):
    name = OPTION_NAMES[3]
    fields_desc = option_fields(3)


class NonceIndices(_MobilityOption):
    name = OPTION_NAMES[4]
    fields_desc = option_fields(4)


class AuthData(_MobilityOption):
    name = OPTION_NAMES[5]
    fields_desc = option_fields(5)


class MobileNetworkPrefix(_MobilityOption):
    name = OPTION_NAMES[6]
    fields_desc = option_fields(6)


class MHLinkLayerAddress(_MobilityOption):
    name = OPTION_NAMES[7]
    fields_desc = option_fields(7)


class MNIdentifier(_MobilityOption):
    name = OPTION_NAMES[8]
    fields_desc = option_fields(8)


class Authentication(_MobilityOption):
    name = OPTION_NAMES[9]
    fields_desc = option_fields(9)


class MesgID(_MobilityOption):
    name = OPTION_NAMES[10]
    fields_desc = option_fields(10)


class Experimental(_MobilityOption):
    name = OPTION_NAMES[18]
    fields_desc = option_fields(18)


class VendorSpecific(_MobilityOption):
    name = OPTION_NAMES[19]
    fields_desc = option_fields(19)


class ServiceSelection(_MobilityOption):
    name = OPTION_NAMES[20]
    fields_desc = option_fields(20)


class HomeNetworkPrefix(_MobilityOption):
    name = OPTION_NAMES[22]
    fields_desc = option_fields(22)


class HandoffIndicator(_MobilityOption):
    name = OPTION_NAMES[23]
    fields_desc = option_fields(23)


class AccessTechnologyType(_MobilityOption):
    name = OPTION_NAMES[24]
    fields_desc = option_fields(24)


class MNLinkLayerID(_MobilityOption):
    name = OPTION_NAMES[25]
    fields_desc = option_fields(25)


class LinkLocalAddress(_MobilityOption):
    name = OPTION_NAMES[26]
    fields_desc = option_fields(26)


class Timestamp(_MobilityOption):
    name = OPTION_NAMES[27]
    fields_desc = option_fields(27)


class RestartCounter(_MobilityOption):
    name = OPTION_NAMES[28]
    fields_desc = option_fields(28)


class IPv4HomeAddress(_MobilityOption):
    name = OPTION_NAMES[29]
    fields_desc = option_fields(29)


class IPv4AddressAck(_MobilityOption):
    name = OPTION_NAMES[30]
    fields_desc = option_fields(30)


class NATDetection(_MobilityOption):
    name = OPTION_NAMES[31]
    fields_desc = option_fields(31)


class IPv4CareOfAddress(_MobilityOption):
    name = OPTION_NAMES[32]
    fields_desc = option_fields(32)


class GREKey(_MobilityOption):
    name = OPTION_NAMES[33]
    fields_desc = option_fields(33)


class IPv4HoARequest(_MobilityOption):
    name = OPTION_NAMES[36]
    fields_desc = option_fields(36)


class IPv4HoAReply(_MobilityOption):
    name = OPTION_NAMES[37]
    fields_desc = option_fields(37)


class IPv4DefaultRouter(_MobilityOption):
    name = OPTION_NAMES[38]
    fields_desc = option_fields(38)


class IPv4DHCPSupportMode(_MobilityOption):
    name = OPTION_NAMES[39]
    fields_desc = option_fields(39)


class ContextRequest(_MobilityOption):
    name = OPTION_NAMES[40]
    fields_desc = option_fields(40)


_ADDR_CODE = {16: code_of("addr_code", "IPv6"), 4: code_of("addr_code", "IPv4")}


def auto_code(fields: list[Any]) -> list[Any]:
    """An address option whose Option-Code follows its address unless set (RFC 5949 6.2.2)."""
    for f in fields:
        if f.name == "code":
            f.default = None
    return fields


class _AddressOption(_MobilityOption):
    def post_build(self, p: bytes, pay: bytes) -> bytes:
        if self.code is None:
            at = 3 if self.getfieldval("type") == EXPERIMENTAL_OPTION and isinstance(self, PMAGAddress) else 2
            code = _ADDR_CODE.get(len(address_octets(self.address)), 0)
            p = p[:at] + bytes([code]) + p[at + 1 :]
        return super().post_build(p, pay)


class LMAAddress(_AddressOption):
    name = OPTION_NAMES[41]
    fields_desc = auto_code(option_fields(41))


class MNLinkLocalIID(_MobilityOption):
    name = OPTION_NAMES[42]
    fields_desc = option_fields(42)


class PMAGAddress(_AddressOption):
    """The draft's pMAG_Address (section 5.1), encoded as protocol-notes (g) says."""

    name = registry.PMAG_ADDRESS_NAME
    fields_desc = auto_code(pmag_fields(registry.PMAG_ADDRESS_SUBTYPE, registry.PMAG_ADDRESS_LAYOUT))


class PMAGID(_MobilityOption):
    """The draft's pMAG_ID (section 5.1), encoded as protocol-notes (g) says."""

    name = registry.PMAG_ID_NAME
    fields_desc = pmag_fields(registry.PMAG_ID_SUBTYPE, registry.PMAG_ID_LAYOUT)


class UnknownOption(_MobilityOption):
    """An option this tool keeps raw: Type, Length, octets."""

    name = "Mobility Option"
    fields_desc = (
        *_head(255),
        StrLenField("data", b"", length_from=lambda pkt: pkt.length or 0),
    )


OPTION_CLASSES: dict[int, type[Packet]] = {
    cls.fields_desc[0].default: cls
    for cls in (
        Pad1, PadN, RefreshAdvice, AlternateCoA, NonceIndices, AuthData, MobileNetworkPrefix,
        MHLinkLayerAddress, MNIdentifier, Authentication, MesgID, Experimental, VendorSpecific,
        ServiceSelection, HomeNetworkPrefix, HandoffIndicator, AccessTechnologyType,
        MNLinkLayerID, LinkLocalAddress, Timestamp, RestartCounter, IPv4HomeAddress,
        IPv4AddressAck, NATDetection, IPv4CareOfAddress, GREKey, IPv4HoARequest, IPv4HoAReply,
        IPv4DefaultRouter, IPv4DHCPSupportMode, ContextRequest, LMAAddress, MNLinkLocalIID,
    )
}
assert set(OPTION_CLASSES) == set(OPTIONS) | {0}, "every registry option needs a layer"


PMAG_ADDRESS_SPEC = OptionSpec(0, registry.PMAG_ADDRESS_KEY, registry.PMAG_ADDRESS_LAYOUT,
                               title=registry.PMAG_ADDRESS_NAME)
PMAG_ID_SPEC = OptionSpec(0, registry.PMAG_ID_KEY, registry.PMAG_ID_LAYOUT, title=registry.PMAG_ID_NAME)


def _dialect_class(dialect: registry.Dialect, wire: int, spec: OptionSpec) -> type[Packet]:
    """A pre-RFC option (registry DIALECTS): its spec's layout under its wire type."""
    attrs = {
        "name": spec.name,
        "fields_desc": (
            *_head(wire),
            *layout_fields(spec.layout, rest=lambda pkt, at: (pkt.length or 0) - at, addr_size=_code_size),
        ),
        "spec": spec,
        "dialect": dialect.name,
        "__module__": __name__,
    }
    return type(f"{spec.key.title().replace('_', '')}{wire}Dialect", (_MobilityOption,), attrs)


#: (dialect name, wire type) -> option class, for every option of every registry dialect.
DIALECT_CLASSES: dict[tuple[str, int], type[Packet]] = {
    (d.name, wire): _dialect_class(d, wire, spec)
    for d in registry.DIALECTS.values()
    for wire, spec in d.options.items()
}


def option_spec(option: Packet) -> tuple[OptionSpec, str]:
    """The registry spec an option class decodes, and the dialect that supplied it ("" IANA)."""
    cls = option.__class__
    if cls is PMAGAddress:
        return PMAG_ADDRESS_SPEC, ""
    if cls is PMAGID:
        return PMAG_ID_SPEC, ""
    spec = getattr(cls, "spec", None)
    if spec is not None:
        return spec, getattr(cls, "dialect", "")
    return OPTIONS[cls.fields_desc[0].default], ""


@dataclass(frozen=True, slots=True)
class OptionCodepoints:
    """What dissection takes from the profile: pMAG options, remapped types, dialect, CXTP Length."""

    pmag_address: tuple[int, int] = (
        int(registry.PROFILE_DEFAULTS["pmag_address_option"]),  # type: ignore[arg-type]
        int(registry.PROFILE_DEFAULTS["pmag_address_subtype"]),  # type: ignore[arg-type]
    )
    pmag_id: tuple[int, int] = (
        int(registry.PROFILE_DEFAULTS["pmag_id_option"]),  # type: ignore[arg-type]
        int(registry.PROFILE_DEFAULTS["pmag_id_subtype"]),  # type: ignore[arg-type]
    )
    type_map: dict[int, int] = field(default_factory=dict)  # wire type -> IANA type
    dialect: str = ""  # a registry.DIALECTS name, "" for IANA numbering
    cxtp_length_includes_header: bool = True

    @classmethod
    def from_profile(cls, profile: Any) -> OptionCodepoints:
        return cls(
            (profile.pmag_address_option, profile.pmag_address_subtype),
            (profile.pmag_id_option, profile.pmag_id_subtype),
            dict(profile.option_type_map),
            getattr(profile, "dialect", ""),
            profile.cxtp_length_includes_header,
        )

    @property
    def mh_type_names(self) -> Mapping[int, str]:
        chosen = registry.DIALECTS.get(self.dialect)
        return chosen.mh_type_names if chosen is not None else {}


#: The code points option dissection uses; :func:`pmipct_check.layers.bind.bind_profile` sets it.
#: One list cell so the binding stays a value swap, like scapy's own layer bindings.
CODEPOINTS: list[OptionCodepoints] = [OptionCodepoints()]


def option_class(chunk: bytes, codepoints: OptionCodepoints | None = None) -> type[Packet]:
    """The class for one option's octets (type, length, data), in the decoder's precedence:
    the pMAG options, then the profile's type map, then the dialect, then IANA."""
    cp = codepoints or CODEPOINTS[0]
    wire = chunk[0]
    for cls, (otype, subtype) in ((PMAGAddress, cp.pmag_address), (PMAGID, cp.pmag_id)):
        if wire == otype and (otype != EXPERIMENTAL_OPTION or chunk[2:3] == bytes([subtype])):
            return cls
    mapped = cp.type_map.get(wire)
    if mapped in OPTIONS:
        return OPTION_CLASSES[mapped]
    if (cp.dialect, wire) in DIALECT_CLASSES:
        return DIALECT_CLASSES[(cp.dialect, wire)]
    return OPTION_CLASSES.get(wire, UnknownOption)


def option_from_bytes(chunk: bytes, codepoints: OptionCodepoints | None = None) -> Packet:
    """Dissect one complete option; a layout that does not fit its Length stays raw."""
    if chunk[:1] == b"\x00":
        return Pad1(chunk[:1])
    try:
        return option_class(chunk, codepoints)(chunk)
    except Exception:  # a layout longer than the option's Length: keep the octets
        return UnknownOption(chunk)


def walk_options(data: bytes, codepoints: OptionCodepoints | None = None) -> list[Packet]:
    """Options by their Length field; an overrun leaves a Raw remainder and ends the walk."""
    out: list[Packet] = []
    i = 0
    while i < len(data):
        if data[i] == 0:
            out.append(Pad1(data[i : i + 1]))
            i += 1
            continue
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            out.append(conf.raw_layer(load=data[i:]))
            break
        end = i + 2 + data[i + 1]
        out.append(option_from_bytes(data[i:end], codepoints))
        i = end
    return out


class MobilityOptionsField(PacketListField):
    """The option list of a mobility header, walked by Length (see :func:`walk_options`)."""

    def __init__(self, name: str, length_from: Any) -> None:
        super().__init__(name, [], UnknownOption, length_from=length_from)

    def getfield(self, pkt: Packet, s: bytes) -> tuple[bytes, list[Packet]]:
        size = max(0, self.length_from(pkt))
        return s[size:], walk_options(s[:size])


def pad_option(octets: int) -> Packet:
    """Pad1 for one octet, PadN for more (RFC 6275 6.2.1-6.2.2)."""
    return Pad1() if octets == 1 else PadN(padding=b"\x00" * (octets - 2))


def padding_bytes(octets: int) -> bytes:
    return bytes(pad_option(octets)) if octets else b""


def aligned(options: Iterable[Packet], start: int) -> list[Packet]:
    """Insert Pad1/PadN so each option with an alignment rule (RFC 5213: HNP 8n+4, LLA 8n+6,
    Timestamp 8n+2) starts where it must; ``start`` is the offset of the first option in the MH."""
    out: list[Packet] = []
    offset = start
    for option in options:
        spec = OPTIONS.get(option.getfieldval("type"))
        if spec is not None and spec.align is not None:
            n, k = spec.align
            gap = (k - offset) % n
            if gap:
                out.append(pad_option(gap))
                offset += gap
        out.append(option)
        offset += len(bytes(option))
    return out

