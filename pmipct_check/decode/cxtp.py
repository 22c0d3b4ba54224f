"""CXTP messages (RFC 4067 section 2), decoded from the registry's ``CXTP_BODIES`` layouts.

The 4-octet header (version 3 bits, type 5 bits, V/A/S flags, Length) is read here; the body
is one registry layout whose address fields take their size from the V flag.  Where the Length
field and the octets present disagree, the message is decoded from what is present, with a
warning; a Length equal to the size without the header decodes with
``cxtp.length-excludes-header`` (protocol-notes (g)), unless the profile says Length excludes it.
"""

from __future__ import annotations

from typing import Any

from .. import registry
from .fields import Walk, compile_layout, remember

_PLANS = {t: compile_layout(body) for t, body in registry.CXTP_BODIES.items()}  # hashing a layout costs a lookup


def decode_cxtp(data: bytes, *, length_includes_header: bool = True,
                memo: dict[Any, Any] | None = None) -> tuple[str, dict[str, Any], Walk] | None:
    """``(record type, fields, walk)``, or None when the octets hold no CXTP message of a known type.

    ``memo``: the decode stream's (see :func:`.fields.remember`); equal flag octets share one dict.
    """
    walk = Walk("cxtp", 0, False, memo)
    if len(data) < registry.CXTP_HEADER_LEN:
        return None
    version, type_code = data[0] >> 5, data[0] & 0x1F
    plan = _PLANS.get(type_code)
    if plan is None:
        return None
    name = registry.TABLES["cxtp_type"][type_code]
    flag_bits = registry.CXTP_FLAGS[type_code]
    allowed = 0
    for _, bit in flag_bits:
        allowed |= bit
    key = ("cxtp-flags", type_code, data[1])
    flags = None if memo is None else memo.get(key)
    if flags is None:
        flags = {flag: bool(data[1] & bit) for flag, bit in flag_bits}
        if data[1] & ~allowed:
            flags["reserved"] = data[1] & ~allowed
        if memo is not None:
            remember(memo, key, flags)
    if data[1] & ~allowed:
        walk.warn("reserved-nonzero", f"reserved flag bits set: {data[1] & ~allowed:#04x}")
    length = int.from_bytes(data[2:4], "big")
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
    walk.request = type_code in registry.CXTP_REQUEST_TYPES
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
