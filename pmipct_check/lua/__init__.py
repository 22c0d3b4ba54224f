"""The Wireshark plugin generator: the registry and a profile, written out as one Lua file.

The dissector logic lives in ``template.lua`` (a layout interpreter, like :mod:`..decode.fields`);
everything it knows about CXTP and the pMAG options is the ``DATA`` table this module fills in
from :mod:`pmipct_check.registry` and the :class:`~pmipct_check.profile.Profile`.  So a code
point fixed in the registry is fixed in Wireshark by regenerating, and the Lua file holds no
table of its own.

Public API::

    generate_lua(profile=DEFAULT_PROFILE) -> str     the complete plugin text
    lua_data(profile=DEFAULT_PROFILE) -> dict        what DATA holds (Python values)
    to_lua(value) -> str                             a Python value as a Lua literal
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from .. import __version__, registry
from ..profile import DEFAULT_PROFILE, Profile

#: Placeholder in template.lua replaced by the DATA table.
PLACEHOLDER = "--[[@DATA@]]"
#: Largest value Wireshark 4.0 accepts in a Lua range preference; larger PPIs are registered fixed.
MAX_RANGE_PPI = 2**31
#: Table names the plugin shows value names from.
LUA_TABLES = ("cxtp_type", "cxtp_fpt", "cxtp_status", "cxtp_algorithm", "addr_code")
#: Octets of an address by the name the ``addr_code`` table gives its code.
_ADDRESS_SIZES = {"IPv6": 16, "IPv4": 4}
# CXTP octet 0 (protocol-notes (g)): version in the high 3 bits, type in the low 5.
_CXTP_TYPE_BITS = 5
# RFC 4067 section 2.4: the octet after the CDB Length holds P (its high bit) and 7 reserved bits.
_CDB_P_FLAG = 0x80


def _label(f: registry.Field) -> str:
    """What Wireshark shows for a field: its registry title, else its name in words."""
    return f.title or " ".join(word.capitalize() for word in f.name.split("_"))


def _field(f: registry.Field) -> dict[str, Any]:
    return {"name": f.name, "kind": f.kind, "size": f.size, "table": f.table, "title": f.title,
            "label": _label(f), "scale": f.scale, "bits": [[name, mask] for name, mask in f.bits]}


def _layout(fields: Iterable[registry.Field]) -> list[dict[str, Any]]:
    return [_field(f) for f in fields]


def _range_text(values: Iterable[int]) -> str:
    """Wireshark range-preference text: sorted, runs collapsed (``1-3,7``)."""
    out: list[str] = []
    items = sorted(set(values))
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ",".join(out)


def _main_field(layout: tuple[registry.Field, ...]) -> str:
    """The field a pMAG option exists to carry: its last one (the address, the identifier)."""
    return layout[-1].name


def _check_names(bodies: Mapping[int, tuple[registry.Field, ...]]) -> None:
    """One Wireshark field per layout field name: the same name must mean the same thing everywhere."""
    seen: dict[str, tuple[str, int, str]] = {}
    for layout in bodies.values():
        for f in layout:
            shape = (f.kind, f.size, f.table)
            if seen.setdefault(f.name, shape) != shape:
                raise ValueError(f"registry: CXTP field {f.name!r} has two shapes: {seen[f.name]} and {shape}")


def lua_data(profile: Profile = DEFAULT_PROFILE) -> dict[str, Any]:
    """Everything the plugin's DATA table holds, from the registry and ``profile``."""
    _check_names(registry.CXTP_BODIES)
    type_mask = (1 << _CXTP_TYPE_BITS) - 1
    ppis = sorted(profile.cxtp_sctp_ppis)
    return {
        "generator": f"pmipct-check {__version__}",
        "profile_source": profile.source,
        "cxtp": {
            "version": registry.CXTP_VERSION,
            "header_len": registry.CXTP_HEADER_LEN,
            "version_mask": 0xFF ^ type_mask,
            "type_mask": type_mask,
            "v_flag": registry.CXTP_V_FLAG,
            "a_flag": registry.CXTP_A_FLAG,
            "s_flag": registry.CXTP_S_FLAG,
            "reserved_mask": registry.CXTP_RESERVED_MASK,
            "cdb_p_flag": _CDB_P_FLAG,
            "cdb_reserved_mask": 0xFF ^ _CDB_P_FLAG,
            "flags": {t: [[name, mask] for name, mask in flags] for t, flags in registry.CXTP_FLAGS.items()},
            "bodies": {t: _layout(body) for t, body in registry.CXTP_BODIES.items()},
            "type_order": sorted(registry.CXTP_BODIES),
            "request_types": {t: True for t in sorted(registry.CXTP_REQUEST_TYPES)},
            "icmpv6_type": registry.CXTP_ICMPV6_TYPE,
            "icmpv4_type": registry.CXTP_ICMPV4_TYPE,
            "icmp_subtype": registry.CXTP_ICMP_SUBTYPE,
        },
        "tables": {name: dict(registry.TABLES[name]) for name in LUA_TABLES},
        "addr_code_sizes": {
            code: _ADDRESS_SIZES[name] for code, name in registry.TABLES["addr_code"].items()
            if name in _ADDRESS_SIZES
        },
        "pmag": {
            "experimental_option": registry.EXPERIMENTAL_OPTION,
            "address_layout": _layout(registry.PMAG_ADDRESS_LAYOUT),
            "id_layout": _layout(registry.PMAG_ID_LAYOUT),
            "address_field": _main_field(registry.PMAG_ADDRESS_LAYOUT),
            "id_field": _main_field(registry.PMAG_ID_LAYOUT),
            "address_name": registry.PMAG_ADDRESS_NAME,
            "id_name": registry.PMAG_ID_NAME,
        },
        "max_ppi": MAX_RANGE_PPI,
        "fixed_ppis": [p for p in ppis if p > MAX_RANGE_PPI],
        "prefs": {
            "sctp_ppis": _range_text(p for p in ppis if p <= MAX_RANGE_PPI),
            "sctp_ports": _range_text(profile.cxtp_sctp_ports),
            "udp_ports": _range_text(profile.cxtp_udp_ports),
            "header_check": profile.cxtp_header_check,
            "length_includes_header": profile.cxtp_length_includes_header,
            "pmag_address_option": profile.pmag_address_option,
            "pmag_address_subtype": profile.pmag_address_subtype,
            "pmag_id_option": profile.pmag_id_option,
            "pmag_id_subtype": profile.pmag_id_subtype,
        },
    }


def _lua_string(text: str) -> str:
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03d}")  # decimal escape: Lua 5.1-5.4 all read it
    out.append('"')
    return "".join(out)


def to_lua(value: Any, indent: str = "") -> str:
    """A Lua literal for ``value`` (None, bool, int, str, list/tuple, dict with int or str keys)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _lua_string(value)
    inner = indent + "  "
    if isinstance(value, (list, tuple)):
        if not value:
            return "{}"
        if all(not isinstance(v, (list, tuple, dict)) for v in value):
            return "{ " + ", ".join(to_lua(v) for v in value) + " }"
        return "{\n" + "".join(f"{inner}{to_lua(v, inner)},\n" for v in value) + indent + "}"
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise TypeError(f"Lua table key {key!r}")
            if isinstance(key, int):
                lkey = f"[{key}]"
            elif key.isidentifier() and key.isascii():
                lkey = key
            else:
                lkey = f"[{_lua_string(key)}]"
            lines.append(f"{inner}{lkey} = {to_lua(item, inner)},\n")
        return "{\n" + "".join(lines) + indent + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def template_text() -> str:
    return resources.files(__package__).joinpath("template.lua").read_text(encoding="utf-8")


def generate_lua(profile: Profile = DEFAULT_PROFILE) -> str:
    """The complete Wireshark Lua plugin for ``profile``."""
    template = template_text()
    if template.count(PLACEHOLDER) != 1:
        raise RuntimeError("template.lua must hold the DATA placeholder exactly once")
    return template.replace(PLACEHOLDER, to_lua(lua_data(profile)))


__all__ = ["generate_lua", "lua_data", "to_lua"]
