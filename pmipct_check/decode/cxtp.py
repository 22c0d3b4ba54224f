"""CXTP messages (RFC 4067 section 2), decoded from the registry's ``CXTP_BODIES`` layouts.

The 4-octet header (version 3 bits, type 5 bits, V/A/S flags, Length) is read here; the body
is one registry layout whose address fields take their size from the V flag.  Where the Length
field and the octets present disagree, the message is decoded from what is present, with a
warning; a Length equal to the size without the header decodes with
``cxtp.length-excludes-header`` (protocol-notes (g)), unless the profile says Length excludes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .. import registry
from ..registry import Field
from .fields import Plan, Walk, compile_layout, remember


@dataclass(frozen=True, slots=True)
class _Type:
    """What one CXTP type code decodes with, worked out once from the registry."""

    plan: Plan  # addresses of 16 octets (V clear)
    plan_v4: Plan  # addresses of 4 octets (V set)
    name: str
    bits: tuple[tuple[str, int], ...]  # the type's flags in octet 1
    spare: int  # octet 1 bits no flag of the type uses
    request: bool  # CTAR/CT-Req: a CDB may be its header only


def _spare(bits: tuple[tuple[str, int], ...]) -> int:
    used = 0
    for _, bit in bits:
        used |= bit
    return 0xFF & ~used


def _sized(body: tuple[Field, ...], kind: str, size: int) -> tuple[Field, ...]:
    """``body`` with its V-sized addresses as fixed ones of ``size`` octets: the same records and
    warnings, and the generated prefix of the plan then reads them with the fields around them."""
    return tuple(replace(f, kind=kind, size=size) if f.kind == "addr" else f for f in body)


_TYPES = {t: _Type(compile_layout(_sized(body, "ipv6", 16)), compile_layout(_sized(body, "ipv4", 4)),
                   registry.TABLES["cxtp_type"][t], tuple(registry.CXTP_FLAGS[t]),
                   _spare(tuple(registry.CXTP_FLAGS[t])), t in registry.CXTP_REQUEST_TYPES)
          for t, body in registry.CXTP_BODIES.items()}


def decode_cxtp(data: bytes, *, length_includes_header: bool = True,
                memo: dict[Any, Any] | None = None) -> tuple[str, dict[str, Any], Walk] | None:
    """``(record type, fields, walk)``, or None when the octets hold no CXTP message of a known type.

    ``memo``: the decode stream's (see :func:`.fields.remember`); equal flag octets share one dict.
    """
    if len(data) < registry.CXTP_HEADER_LEN:
        return None
    version, type_code = data[0] >> 5, data[0] & 0x1F
    kind = _TYPES.get(type_code)
    if kind is None:
        return None
    walk = Walk("cxtp", 0, kind.request, memo)
    plan, name, octet = kind.plan, kind.name, data[1]
    spare = octet & kind.spare
    key = ("cxtp-flags", type_code, octet)
    flags = None if memo is None else memo.get(key)
    if flags is None:
        flags = {flag: bool(octet & bit) for flag, bit in kind.bits}
        if spare:
            flags["reserved"] = spare
        if memo is not None:
            remember(memo, key, flags)
    if spare:
        walk.warn("reserved-nonzero", f"reserved flag bits set: {spare:#04x}")
    length = (data[2] << 8) | data[3]
    fields: dict[str, Any] = {"version": version, "type_code": type_code, "flags": flags, "length": length}
    if version != registry.CXTP_VERSION:
        walk.warn("version", f"version {version}, only version {registry.CXTP_VERSION} is defined")

    total = len(data)
    header = registry.CXTP_HEADER_LEN
    with_header = length if length_includes_header else length + header
    if with_header == total:
        end = total
    elif length_includes_header and length + header == total:
        end = total
        walk.warn("length-excludes-header",
                  f"Length {length} counts the message without its 4-octet header ({total} octets present)")
    elif not length_includes_header and length == total:
        end = total
        walk.warn("length-includes-header", f"Length {length} includes the header, profile says it does not")
    elif header <= with_header < total:
        end = with_header
        walk.warn("length", f"Length says {with_header} octets, {total} present; {total - end} trailing ignored")
    else:
        end = total
        walk.warn("length", f"Length says {with_header} octets, only {total} present", "error")

    walk.addr_size = 4 if flags["V"] else 16
    if flags["V"]:
        plan = kind.plan_v4
    pos = plan.run(data, header, end, fields, walk)
    if 0 <= pos < end and not plan.greedy:
        left = end - pos
        hint = " (addresses of the other size than V says?)" if left in (12, 24) else ""
        walk.warn("trailing", f"{left} octets after the last field{hint}")
        fields["extra"] = data[pos:end].hex()
    elif pos < 0 and any(code == "cxtp.field-short" for code, _, _ in walk.problems):
        v_says = "IPv4" if flags["V"] else "IPv6"
        walk.warn("address-size", f"message too short for its {v_says} addresses (V flag)")
    return name, fields, walk
