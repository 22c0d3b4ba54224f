"""A dissected layer as the fast decoder's record: ``(protocol, type, fields, warnings)``.

The ``fields`` dict has the decoder's shape (:class:`pmipct_check.decode.model.Message`): body
fields by registry name, table values with a ``<name>_name`` sibling, flags as
``{"A": True, ...}``, lifetimes in seconds, options as ``fields["options"]``.  Tests compare the
two on every capture and under fuzzing, so the scapy layers and the decoder cannot drift apart.
Values are read from the scapy fields and rendered by the registry's field kinds; nothing is
re-parsed from raw octets except what scapy keeps raw (an overrunning option).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scapy.config import conf
from scapy.layers.inet6 import IPv6, in6_chksum
from scapy.packet import Packet

from .. import registry
from ..registry import BR_BODIES, CXTP_BODIES, MH_BODIES, MH_TYPES, OPTION_NAMES, OPTIONS, TABLES, Field
from .cxtp import CXTP, _CXTPMessage
from .fields import _split_bits
from .mh import BINDING_REVOCATION, MobilityHeader, _MobilityHeader
from .options import CODEPOINTS, PMAGID, Pad1, PMAGAddress, UnknownOption, option_spec

Record = tuple[str, str, dict[str, Any], list[str]]


def to_fields(pkt: Packet) -> Record:
    """The record of ``pkt`` if it is a mobility header or CXTP layer, else of the first one in it.

    A packet that was built rather than dissected is dissected from its octets first, so
    automatic lengths and checksums read as they would on the wire.
    """
    top = pkt.firstlayer()
    if pkt.raw_packet_cache is None or top.raw_packet_cache is None:  # built: read it as sent
        layer = _find(top.__class__(bytes(top)))
    else:
        layer = pkt if isinstance(pkt, (_MobilityHeader, _CXTPMessage)) else _find(pkt)
    if isinstance(layer, (_MobilityHeader, _CXTPMessage)):
        layer = _as_dispatched(layer)
    if isinstance(layer, _MobilityHeader):
        return _mh_record(layer)
    if isinstance(layer, _CXTPMessage):
        return _cxtp_record(layer)
    return "", "", {}, ["record.no-signalling"]


def _as_dispatched(layer: Packet) -> Packet:
    """A message class applied to octets of another type (``BU(octets of type 108)``) is read as
    the dispatcher would read those octets: a record never mixes one type's layout with another's
    type code (that raised KeyError)."""
    base = MobilityHeader if isinstance(layer, _MobilityHeader) else CXTP
    raw = bytes(layer)
    return layer if base.dispatch_hook(raw) is type(layer) else base(raw)


def _find(pkt: Packet) -> Packet | None:
    layer: Packet | None = pkt
    while layer is not None and layer.name != "NoPayload" and layer.__class__ is not conf.raw_layer:
        if isinstance(layer, (_MobilityHeader, _CXTPMessage)):
            return layer
        data = getattr(layer, "data", None)  # SCTP DATA chunk user data is a field
        if isinstance(data, (_MobilityHeader, _CXTPMessage)):
            return data
        layer = layer.payload if layer.payload else None
    return None


# -- field kinds -------------------------------------------------------------------------------


def _addr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _text(name: str, raw: bytes, out: dict[str, Any], warnings: list[str]) -> None:
    try:
        out[name] = raw.decode("utf-8")
    except UnicodeDecodeError:
        out[name] = raw.decode("utf-8", "replace")
        out[name + "_hex"] = raw.hex()
        warnings.append("bad-text")


def _ts(raw: int) -> dict[str, Any]:
    seconds, fraction = raw >> 16, raw & 0xFFFF
    digits = f"{fraction * 5**16:016d}".rstrip("0") or "0"  # fraction / 2**16, exactly
    return {"seconds": seconds, "fraction": fraction, "value": f"{seconds}.{digits}"}


def _ident(pkt: Packet, raw: bytes) -> str:
    render = registry.MN_ID_RENDER.get(pkt.getfieldval("subtype"), "bytes")
    if render == "text":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.hex()
    if render == "ipv6" and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))
    if render == "lladdr":
        return raw.hex(":")
    return raw.hex()


def _bits(pkt: Packet, f: Field, out: dict[str, Any]) -> None:
    value = 0
    for part in _split_bits(f):
        value = (value << part.size) | (pkt.getfieldval(part.name) or 0)
    mask = 0
    for name, bit in f.bits:
        shift = (bit & -bit).bit_length() - 1
        sub = (value & bit) >> shift
        out[name] = bool(sub) if bit >> shift == 1 else sub
        mask |= bit
    spare = value & ((1 << (8 * f.size)) - 1) & ~mask
    if spare:
        out[f.name + "_reserved"] = spare


def _flags(value: int, f: Field, warnings: list[str]) -> dict[str, Any]:
    flags: dict[str, Any] = {name: bool(value & bit) for name, bit in f.bits}
    spare = value & ((1 << (8 * f.size)) - 1) & ~sum(bit for _, bit in f.bits)
    if spare:
        flags["reserved"] = spare
        warnings.append("reserved-nonzero")
    return flags


def _cdb(cdb: Packet, request: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fpt": cdb.fpt,
        "fpt_name": registry.table_name("cxtp_fpt", cdb.fpt),
        "length": cdb.length,
        "p": bool(cdb.P),
    }
    if cdb.reserved:
        out["reserved"] = cdb.reserved
    if cdb.length == 0 and not (request and not cdb.P):
        return out  # Length 0 outside a request: a header and nothing the walk could trust
    if cdb.presence_vector is not None:
        out["presence_vector"] = cdb.presence_vector
    out["data"] = cdb.data.hex()
    return out


def layout_values(pkt: Packet, layout: tuple[Field, ...], warnings: list[str]) -> dict[str, Any]:
    """The decoder's rendering of ``layout``'s fields as ``pkt`` holds them."""
    out: dict[str, Any] = {}
    for f in layout:
        names = [b.name for b in _split_bits(f)] if f.kind == "bits" else [f.name]
        if any(name not in pkt.fields for name in names):
            break  # the octets ended inside this field (the decoder stops there too)
        if f.kind == "bits":
            _bits(pkt, f, out)
            continue
        value = pkt.getfieldval(f.name)
        if f.kind == "uint":
            out[f.name] = int(value or 0)
            if f.table:
                out[f.name + "_name"] = registry.table_name(f.table, int(value or 0))
            if f.title == "Reserved" and value:
                warnings.append("reserved-nonzero")
        elif f.kind == "flags":
            out[f.name] = _flags(int(value), f, warnings)
        elif f.kind in ("ipv6", "ipv4", "addr"):
            out[f.name] = _addr(value)
        elif f.kind == "ipv6_list":
            out[f.name] = [_addr(v) for v in value]
        elif f.kind == "text":
            _text(f.name, value, out, warnings)
        elif f.kind == "lladdr":
            out[f.name] = value.hex(":")
        elif f.kind in ("bytes", "key"):
            out[f.name] = value.hex()
        elif f.kind == "ident":
            out[f.name] = _ident(pkt, value)
        elif f.kind == "ts48_16":
            out[f.name] = _ts(int(value))
        elif f.kind == "tlvs":
            out[f.name] = [
                {"type": t.type, "name": OPTION_NAMES.get(t.type, f"Option {t.type}"), "length": t.length,
                 "data": t.data.hex()}
                for t in value
                if not getattr(t, "cut_short", "")
            ]
        elif f.kind == "statuses":
            out[f.name] = [_status(s, warnings) for s in value if s.__class__ is not conf.raw_layer]
        elif f.kind == "cdbs":
            request = pkt.getfieldval("cxtp_type") in registry.CXTP_REQUEST_TYPES
            out[f.name] = [_cdb(c, request) for c in value if c.__class__ is not conf.raw_layer]
    return out


def _status(entry: Packet, warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fpt": entry.fpt,
        "fpt_name": registry.table_name("cxtp_fpt", entry.fpt),
        "status": entry.status,
        "status_name": registry.table_name("cxtp_status", entry.status),
    }
    if entry.reserved:
        out["reserved"] = entry.reserved
        warnings.append("reserved-nonzero")
    return out


# -- mobility header ---------------------------------------------------------------------------


def _truncated(load: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"type": load[0], "name": OPTION_NAMES.get(load[0], f"Option {load[0]}"),
                           "key": "truncated", "length": None, "truncated": True}
    if len(load) >= 2:
        out["length"] = load[1]
        out["data"] = load[2:].hex()
    return out


def option_record(option: Packet, warnings: list[str]) -> dict[str, Any]:
    """One option as the decoder renders it."""
    if isinstance(option, Pad1):
        return {"type": 0, "name": OPTION_NAMES[0], "key": "pad1", "length": 0}
    if option.__class__ is conf.raw_layer:
        warnings.append("option-overrun")
        return _truncated(option.load)
    wire = option.type
    if isinstance(option, UnknownOption):
        if wire in OPTIONS:
            warnings.append("option-length")
        return {"type": wire, "name": OPTION_NAMES.get(wire, f"Option {wire}"), "key": f"option_{wire}",
                "length": option.length, "data": option.data.hex()}
    spec, dialect = option_spec(option)
    out: dict[str, Any] = {"type": spec.type or wire, "name": spec.name, "key": spec.key, "length": option.length}
    if isinstance(option, (PMAGAddress, PMAGID)):
        out["type"] = wire
        if option.getfieldval("subtype") is not None and wire == registry.EXPERIMENTAL_OPTION:
            out["subtype"] = option.subtype
    elif out["type"] != wire:
        out["wire_type"] = wire
    if dialect:
        out["dialect"] = dialect
    out.update(layout_values(option, spec.layout, warnings))
    if getattr(option, "cut_short", ""):
        warnings.append("option-length")
    elif option.payload:  # octets the Length covers beyond the layout
        out["extra"] = bytes(option.payload).hex()
    if isinstance(out.get("prefix"), str) and isinstance(out.get("prefix_len"), int):
        out["prefix_text"] = f"{out['prefix']}/{out['prefix_len']}"
    return out


def _checksum_ok(mh: Packet) -> bool | None:
    """RFC 6275 6.1.1 checksum check over the octets the IPv6 payload length covers; None when
    there is no IPv6 header below or the capture holds less than that."""
    lower = mh.underlayer
    while lower is not None and not isinstance(lower, IPv6):
        lower = lower.underlayer
    if lower is None:
        return None
    octets = bytes(mh)
    declared = (mh.header_len + 1) * 8
    payload_len = lower.plen - (len(bytes(lower.payload)) - len(octets))
    data = octets[:declared] if declared <= len(octets) else octets
    length = min(payload_len, declared)
    if length > len(data):
        return None
    whole = data[:length]
    zeroed = whole[:4] + b"\0\0" + whole[6:] if len(whole) >= 6 else whole
    expected = int.from_bytes(whole[4:6], "big") if len(whole) >= 6 else -1
    nhs = {registry.IPPROTO_MH, getattr(mh.underlayer, "nh", registry.IPPROTO_MH)}
    return any(in6_chksum(nh, mh.underlayer, zeroed) == expected for nh in nhs)


def record_type(mh_type: int, fields: dict[str, Any]) -> tuple[str, str]:
    """(record type, protocol) as issue 2 names them."""
    if mh_type in CODEPOINTS[0].mh_type_names:
        return CODEPOINTS[0].mh_type_names[mh_type], "pmipv6"
    if mh_type in registry.P_FLAG_NAMES:
        with_p, without_p = registry.P_FLAG_NAMES[mh_type]
        proxy = bool(fields.get("flags", {}).get("P"))
        if with_p != without_p:
            return (with_p, "pmipv6") if proxy else (without_p, "mipv6")
    if mh_type == BINDING_REVOCATION:
        br = fields.get("br_type")
        return registry.BR_TYPES.get(br, "BR") if isinstance(br, int) else "BR", "pmipv6"
    info = MH_TYPES.get(mh_type)
    if info is None:
        return f"MH-{mh_type}", "mipv6"
    return info.short, info.protocol


def _mh_record(mh: Packet) -> Record:
    if "mh_type" not in mh.fields:  # fewer than 3 octets: not even the type is known
        return "", "", {}, ["mh.truncated"]
    warnings: list[str] = []
    fields: dict[str, Any] = {
        "payload_proto": mh.payload_proto,
        "header_len": mh.header_len,
        "mh_type": mh.mh_type,
        "mh_type_name": registry.table_name("mh_type", mh.mh_type),
    }
    if "checksum" not in mh.fields:  # fewer than 6 octets
        warnings.append("truncated")
        rtype, protocol = record_type(mh.mh_type, fields)
        return protocol, rtype, fields, [f"mh.{w}" for w in warnings]
    fields["reserved"] = mh.mh_reserved
    fields["checksum"] = mh.checksum
    fields["checksum_ok"] = _checksum_ok(mh)
    if fields["checksum_ok"] is False:
        warnings.append("checksum")
    if mh.payload_proto != registry.IPPROTO_NONE:
        warnings.append("payload-proto")
    if getattr(mh, "cut_short", "") or len(bytes(mh)) < (mh.header_len + 1) * 8:
        warnings.append("truncated")
    if isinstance(mh, MobilityHeader):
        if mh.mh_type not in MH_TYPES and mh.mh_type not in CODEPOINTS[0].mh_type_names:
            warnings.append("unknown-type")
        fields["data"] = mh.data.hex()
    else:
        body = BR_BODIES[mh.br_type] if mh.mh_type == BINDING_REVOCATION else MH_BODIES[mh.mh_type]
        fields.update(layout_values(mh, body, warnings))
        options = mh.options if "options" in mh.fields else []
        fields["options"] = [option_record(o, warnings) for o in options]
    rtype, protocol = record_type(mh.mh_type, fields)
    return protocol, rtype, fields, [f"mh.{w}" for w in warnings]


# -- CXTP --------------------------------------------------------------------------------------


def _cxtp_record(msg: Packet) -> Record:
    warnings: list[str] = []
    if isinstance(msg, CXTP):  # a type the registry does not define
        return "cxtp", "", {"version": msg.version, "type_code": msg.cxtp_type, "length": msg.length}, [
            "cxtp.unknown-type"
        ]
    type_code = msg.cxtp_type
    flags: dict[str, Any] = {name: bool(msg.getfieldval(name)) for name, _ in registry.CXTP_FLAGS[type_code]}
    if msg.reserved:
        flags["reserved"] = msg.reserved
        warnings.append("reserved-nonzero")
    fields: dict[str, Any] = {"version": msg.version, "type_code": type_code, "flags": flags, "length": msg.length}
    if msg.version != registry.CXTP_VERSION:
        warnings.append("version")
    fields.update(layout_values(msg, CXTP_BODIES[type_code], warnings))
    if msg.trailing:
        fields["extra"] = msg.trailing.hex()
        warnings.append("trailing")
    return "cxtp", TABLES["cxtp_type"][type_code], fields, [f"cxtp.{w}" for w in warnings]
