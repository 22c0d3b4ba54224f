"""The lab profile: node names, the code points the specs leave open, ports, timers.

A profile is a TOML file.  Every key is optional; what is absent takes the default from
:data:`pmipct_check.registry.PROFILE_DEFAULTS`.  Validation names the file, the key and what
was expected, because a CI gate that silently ignores a typo in its own configuration is worse
than none.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import registry


class ProfileError(ValueError):
    """A profile file that cannot be used; the message is one line naming file and key."""


@dataclass(frozen=True, slots=True)
class Node:
    """A named node of the lab: its role hint and every address it uses."""

    name: str
    addresses: tuple[str, ...] = ()
    role: str = ""  # "lma", "mag" or "" (inferred from traffic)
    pmag_id: bytes | None = None  # identifier carried in the draft's pMAG_ID option


@dataclass(frozen=True, slots=True)
class Profile:
    """Effective settings; :func:`load_profile` builds one, :data:`DEFAULT_PROFILE` has none set."""

    source: str = "(built-in defaults)"
    nodes: tuple[Node, ...] = ()
    mn_addresses: Mapping[str, str] = field(default_factory=dict)  # address -> MN identifier
    pmag_address_option: int = int(registry.PROFILE_DEFAULTS["pmag_address_option"])  # type: ignore[arg-type]
    pmag_address_subtype: int = int(registry.PROFILE_DEFAULTS["pmag_address_subtype"])  # type: ignore[arg-type]
    pmag_id_option: int = int(registry.PROFILE_DEFAULTS["pmag_id_option"])  # type: ignore[arg-type]
    pmag_id_subtype: int = int(registry.PROFILE_DEFAULTS["pmag_id_subtype"])  # type: ignore[arg-type]
    option_type_map: Mapping[int, int] = field(default_factory=dict)  # wire type -> IANA type
    dialect: str = ""  # a pre-RFC option numbering from registry.DIALECTS ("" = IANA)
    cxtp_sctp_ppis: frozenset[int] = frozenset()
    cxtp_sctp_ports: frozenset[int] = frozenset()
    cxtp_udp_ports: frozenset[int] = frozenset()
    cxtp_header_check: bool = True
    cxtp_length_includes_header: bool = True
    pmip_udp_ports: frozenset[int] = frozenset({registry.PMIP6_UDP_PORT})
    timers: registry.Timers = field(default_factory=registry.Timers)

    def node_for(self, address: str) -> Node | None:
        """The profile node that owns ``address`` (compared in canonical form)."""
        canon = _canonical(address)
        for node in self.nodes:
            if canon in node.addresses:
                return node
        return None

    def name_for(self, address: str) -> str:
        """A display name: the node's name when the profile knows the address, else the address."""
        node = self.node_for(address)
        return node.name if node else address

    def node_by_pmag_id(self, identifier: bytes) -> Node | None:
        for node in self.nodes:
            if node.pmag_id == identifier:
                return node
        return None


DEFAULT_PROFILE = Profile()


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


class _Reader:
    """Typed access to one TOML table, raising ProfileError that names file and key."""

    def __init__(self, path: str, table: Mapping[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix
        self.seen: set[str] = set()

    def fail(self, key: str, expected: str, got: Any = None) -> ProfileError:
        where = f"{self.prefix}{key}" if key else self.prefix.rstrip(".")
        shown = "" if got is None else f", got {got!r}"
        return ProfileError(f"{self.path}: {where}: expected {expected}{shown}")

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return self.table.get(key, default)

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(key, f"an integer {lo}-{hi}", value)
        return value

    def integers(self, key: str, default: frozenset[int], lo: int, hi: int) -> frozenset[int]:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or any(
            isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi for v in value
        ):
            raise self.fail(key, f"a list of integers {lo}-{hi}", value)
        return frozenset(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def number(self, key: str, default: float) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, "a non-negative number of seconds", value)
        return float(value)

    def addresses(self, key: str) -> tuple[str, ...]:
        value = self.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, "an IP address or a list of them", value)
        out = []
        for item in value:
            try:
                out.append(str(ipaddress.ip_address(item)))
            except (ValueError, TypeError):
                raise self.fail(key, "IP addresses", item) from None
        return tuple(out)

    def table_at(self, key: str) -> _Reader:
        value = self.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Reader(self.path, value, f"{self.prefix}{key}.")

    def check_unknown(self) -> None:
        for key in self.table:
            if key not in self.seen:
                raise self.fail(key, "no such key (misspelt?)")


def _identifier(reader: _Reader, key: str) -> bytes | None:
    value = reader.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise reader.fail(key, 'a non-empty string (text, or hex as "0x...")', value)
    if value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            raise reader.fail(key, "hex digits after 0x", value) from None
    return value.encode()


def parse_profile(text: str, path: str = "<profile>") -> Profile:
    """Build a Profile from TOML text; every problem is a one-line ProfileError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    top = _Reader(path, data, "")

    nodes = []
    node_tables = top.table_at("nodes")
    for name in node_tables.table:
        node = node_tables.table_at(name)
        role = node.get("role", "")
        if role not in ("", "lma", "mag"):
            raise node.fail("role", '"lma" or "mag"', role)
        nodes.append(Node(name, node.addresses("addresses"), role, _identifier(node, "pmag_id")))
        node.check_unknown()

    mn_addresses: dict[str, str] = {}
    mn_tables = top.table_at("mns")
    for mn in mn_tables.table:
        entry = mn_tables.table_at(mn)
        for address in entry.addresses("addresses"):
            mn_addresses[address] = mn
        entry.check_unknown()

    cp = top.table_at("codepoints")
    type_map: dict[int, int] = {}
    raw_map = cp.table_at("option_type_map")
    for wire in raw_map.table:
        if not wire.isdigit() or not 0 <= int(wire) <= 255:
            raise raw_map.fail(wire, "option type numbers 0-255 as keys")
        type_map[int(wire)] = raw_map.integer(wire, 0, 0, 255)

    dialect = cp.get("dialect", "")
    if dialect != "" and (not isinstance(dialect, str) or dialect not in registry.DIALECTS):
        raise cp.fail("dialect", "one of " + ", ".join(repr(d) for d in registry.DIALECTS), dialect)

    cx = top.table_at("cxtp")
    pm = top.table_at("pmipv6")
    tm = top.table_at("timers")
    defaults = registry.Timers()
    timers = registry.Timers(
        **{f.name: tm.number(f.name, getattr(defaults, f.name)) for f in fields(registry.Timers)}
    )
    base = DEFAULT_PROFILE
    profile = replace(
        base,
        source=path,
        nodes=tuple(nodes),
        mn_addresses=mn_addresses,
        pmag_address_option=cp.integer("pmag_address_option", base.pmag_address_option, 0, 255),
        pmag_address_subtype=cp.integer("pmag_address_subtype", base.pmag_address_subtype, 0, 255),
        pmag_id_option=cp.integer("pmag_id_option", base.pmag_id_option, 0, 255),
        pmag_id_subtype=cp.integer("pmag_id_subtype", base.pmag_id_subtype, 0, 255),
        option_type_map=type_map,
        dialect=dialect,
        cxtp_sctp_ppis=cx.integers("sctp_ppis", base.cxtp_sctp_ppis, 0, 2**32 - 1),
        cxtp_sctp_ports=cx.integers("sctp_ports", base.cxtp_sctp_ports, 0, 65535),
        cxtp_udp_ports=cx.integers("udp_ports", base.cxtp_udp_ports, 0, 65535),
        cxtp_header_check=cx.boolean("header_check", base.cxtp_header_check),
        cxtp_length_includes_header=cx.boolean(
            "length_includes_header", base.cxtp_length_includes_header
        ),
        pmip_udp_ports=pm.integers("udp_ports", base.pmip_udp_ports, 0, 65535),
        timers=timers,
    )
    for reader in (top, cp, cx, pm, tm):
        reader.check_unknown()
    return profile


def load_profile(path: str | Path | None) -> Profile:
    """Read a profile file; ``None`` gives the built-in defaults."""
    if path is None:
        return DEFAULT_PROFILE
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_profile(text, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
        return _toml_value(text if text.isprintable() and text.encode() == value else "0x" + value.hex())
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple, frozenset, set)):
        items = sorted(value) if isinstance(value, (frozenset, set)) else value
        return "[" + ", ".join(_toml_value(v) for v in items) + "]"
    raise TypeError(type(value))


def dump_profile(profile: Profile) -> str:
    """The effective profile as TOML that :func:`parse_profile` reads back unchanged."""
    out = [f"# effective profile (source: {profile.source})", ""]
    for node in profile.nodes:
        out.append(f"[nodes.{_toml_value(node.name)}]")
        if node.role:
            out.append(f"role = {_toml_value(node.role)}")
        out.append(f"addresses = {_toml_value(node.addresses)}")
        if node.pmag_id is not None:
            out.append(f"pmag_id = {_toml_value(node.pmag_id)}")
        out.append("")
    by_mn: dict[str, list[str]] = {}
    for address, mn in profile.mn_addresses.items():
        by_mn.setdefault(mn, []).append(address)
    for mn, addresses in by_mn.items():
        out += [f"[mns.{_toml_value(mn)}]", f"addresses = {_toml_value(addresses)}", ""]
    out += [
        "[codepoints]",
        f"pmag_address_option = {profile.pmag_address_option}",
        f"pmag_address_subtype = {profile.pmag_address_subtype}",
        f"pmag_id_option = {profile.pmag_id_option}",
        f"pmag_id_subtype = {profile.pmag_id_subtype}",
        f"dialect = {_toml_value(profile.dialect)}",
        "option_type_map = {"
        + ", ".join(f'"{k}" = {v}' for k, v in sorted(profile.option_type_map.items()))
        + "}",
        "",
        "[cxtp]",
        f"sctp_ppis = {_toml_value(profile.cxtp_sctp_ppis)}",
        f"sctp_ports = {_toml_value(profile.cxtp_sctp_ports)}",
        f"udp_ports = {_toml_value(profile.cxtp_udp_ports)}",
        f"header_check = {_toml_value(profile.cxtp_header_check)}",
        f"length_includes_header = {_toml_value(profile.cxtp_length_includes_header)}",
        "",
        "[pmipv6]",
        f"udp_ports = {_toml_value(profile.pmip_udp_ports)}",
        "",
        "[timers]",
    ]
    out += [f"{f.name} = {getattr(profile.timers, f.name)!r}" for f in fields(registry.Timers)]
    return "\n".join(out) + "\n"
