"""RFC 4861 Router Solicitation / Advertisement: the MN's attachment as an access link shows it.

Only what the handover analysis needs: the source link-layer address (to tie an RS to the MN's
link-layer identifier in the PBU) and, in an RA, the advertised prefixes (the HNP).

Fields (RS): ``code``, ``checksum``, ``options``, ``source_lla`` (text, or absent), ``prefixes`` ([]).
Fields (RA): the same plus ``cur_hop_limit``, ``flags`` {M, O}, ``router_lifetime``,
``reachable_time``, ``retrans_timer``; ``prefixes`` lists every Prefix Information option as
``prefix/len``.  Options are dicts with ``type``, ``name``, ``key``, ``length`` (octets) and
their own fields, as mobility options are.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .. import registry

Problem = tuple[str, str, str]  # (code, message, severity), as decode.fields.Walk.problems


def _lla(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _option(otype: int, body: bytes, length: int, problems: list[Problem]) -> dict[str, Any]:
    if otype == registry.ND_OPTION_SOURCE_LLA:
        return {"type": otype, "name": "Source Link-layer Address", "key": "source_lla", "length": length,
                "address": _lla(body)}  # Ethernet: 6 octets
    if otype == registry.ND_OPTION_PREFIX_INFORMATION:
        if length != registry.ND_PREFIX_INFORMATION_LEN:
            problems.append(("nd.bad-option", f"Prefix Information option of {length} octets "
                             f"(RFC 4861 4.6.2: {registry.ND_PREFIX_INFORMATION_LEN})", "warning"))
            return {"type": otype, "name": "Prefix Information", "key": "prefix_info", "length": length,
                    "data": body.hex()}
        plen = body[0]
        prefix = ipaddress.IPv6Address(body[14:30])
        return {"type": otype, "name": "Prefix Information", "key": "prefix_info", "length": length,
                "prefix_len": plen, "flags": {"L": bool(body[1] & 0x80), "A": bool(body[1] & 0x40)},
                "valid_lifetime": int.from_bytes(body[2:6], "big"),
                "preferred_lifetime": int.from_bytes(body[6:10], "big"),
                "prefix": str(prefix), "prefix_text": f"{prefix}/{plen}"}
    return {"type": otype, "name": f"ND option {otype}", "key": f"nd_{otype}", "length": length, "data": body.hex()}


def decode_nd(data: bytes) -> tuple[str, dict[str, Any], list[Problem]] | None:
    """(RS or RA, fields, problems) of an ICMPv6 message starting at its type; None if neither."""
    if not data or data[0] not in registry.ND_TYPES:
        return None
    type_ = registry.ND_TYPES[data[0]]
    header = registry.ND_RS_HEADER_LEN if type_ == "RS" else registry.ND_RA_HEADER_LEN
    problems: list[Problem] = []
    fields: dict[str, Any] = {"icmp_type": data[0]}
    if len(data) < header:
        problems.append(("nd.truncated", f"{type_} of {len(data)} octets (header: {header})", "error"))
        fields.update(options=[], prefixes=[])
        return type_, fields, problems
    fields["code"] = data[1]
    fields["checksum"] = int.from_bytes(data[2:4], "big")
    if type_ == "RA":
        fields.update(cur_hop_limit=data[4], flags={"M": bool(data[5] & 0x80), "O": bool(data[5] & 0x40)},
                      router_lifetime=int.from_bytes(data[6:8], "big"),
                      reachable_time=int.from_bytes(data[8:12], "big"),
                      retrans_timer=int.from_bytes(data[12:16], "big"))
    options: list[dict[str, Any]] = []
    p = header
    while p + 2 <= len(data):
        otype, length = data[p], data[p + 1] * 8
        if length == 0 or p + length > len(data):
            problems.append(("nd.bad-option", f"option {otype} at octet {p}: length {length} "
                             f"{'is 0' if length == 0 else 'runs past the message'}", "warning"))
            break
        options.append(_option(otype, data[p + 2 : p + length], length, problems))
        p += length
    fields["options"] = options
    lla = next((o["address"] for o in options if o["key"] == "source_lla"), None)
    if lla is not None:
        fields["source_lla"] = lla
    fields["prefixes"] = [o["prefix_text"] for o in options if "prefix_text" in o]
    return type_, fields, problems
