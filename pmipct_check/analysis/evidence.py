"""Reading the evidence out of decoded messages: options, MN identity, prefixes, the pMAG named.

Field and option names are those of the registry (``OptionSpec.key`` and layout field names),
as the decoder writes them; nothing here knows a code point.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .. import registry
from ..decode.model import Message, options_layout
from ..profile import Node, Profile

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CXTP_TRANSFER = frozenset({"CT-Req", "CTD", "PCTD", "CTDR", "CTC"})  # between ARs (MAGs)
CXTP_ACCESS = frozenset({"CTAR", "CTAA"})  # between an MN and an AR
FHO = frozenset({"HI", "HAck"})


def num(msg: Message, name: str) -> int | None:
    """An integer field, or None when absent or of another type (a damaged record)."""
    value = msg.fields.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text(msg: Message, name: str) -> str | None:
    value = msg.fields.get(name)
    return value if isinstance(value, str) else None


def items(msg: Message, name: str) -> list[dict[str, Any]]:
    """A list-of-records field (options, CDBs, statuses), keeping only the records."""
    value = msg.fields.get(name)
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def flags_of(msg: Message) -> dict[str, Any]:
    value = msg.fields.get("flags")
    return value if isinstance(value, dict) else {}


def prev_addr(msg: Message) -> str | None:
    """CXTP's "MN's previous IP address"."""
    return text(msg, "mn_prev_addr")


def seconds(msg: Message) -> float:
    return msg.time_ns / 1e9


def _option_index(msg: Message) -> Mapping[str, tuple[int, ...]]:
    """The message's option positions by key, made once: the rules look options up many times."""
    index = msg.option_index
    if index is None:
        value = msg.fields.get("options")
        index = msg.option_index = options_layout(value if isinstance(value, list) else [])
    return index


# The accessors below read ``msg.option_index`` themselves and build it only when it is missing:
# they run ~20 times per message, so one Python call less each is a tenth of analysis + rules.
# A non-empty index means ``fields["options"]`` is the list its positions point into.


def options(msg: Message, key: str) -> list[dict[str, Any]]:
    """Every option of ``msg`` whose registry key is ``key`` (decoded, not truncated)."""
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get(key)
    if not at:
        return []
    found = msg.fields["options"]
    return [found[i] for i in at]


def option_count(msg: Message, key: str) -> int:
    """How many options of ``msg`` have the registry key ``key`` (``len(options(...))``, no copy)."""
    index = msg.option_index
    return len((_option_index(msg) if index is None else index).get(key, ()))


def option(msg: Message, key: str) -> dict[str, Any] | None:
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get(key)
    return msg.fields["options"][at[0]] if at else None


def option_value(msg: Message, key: str, name: str = "value") -> Any:
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get(key)
    return msg.fields["options"][at[0]].get(name) if at else None


def option_num(msg: Message, key: str, name: str = "value") -> int | None:
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get(key)
    value = msg.fields["options"][at[0]].get(name) if at else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def flag(msg: Message, name: str) -> bool | None:
    flags = flags_of(msg)
    return bool(flags[name]) if name in flags else None


# The MN's keys are read for every PBU, PBA, HI and HAck: straight from the index, like the
# accessors above, rather than through them.


def mn_identifier(msg: Message) -> str | None:
    """The MN Identifier option's identifier as text (an NAI as is), or None."""
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get("mn_id")
    ident = msg.fields["options"][at[0]].get("identifier") if at else None
    return None if ident is None or ident == "" else str(ident)


def ll_att_key(msg: Message) -> str | None:
    """RFC 5213 section 5.4.1's second key: MN link-layer identifier with the access technology."""
    index = msg.option_index
    if index is None:
        index = _option_index(msg)
    ll_at, att_at = index.get("mn_ll_id"), index.get("att")
    if not ll_at or not att_at:
        return None
    found = msg.fields["options"]
    ll, att = found[ll_at[0]].get("identifier"), found[att_at[0]].get("value")
    if not isinstance(ll, str) or not ll.strip("0:") or not isinstance(att, int) or isinstance(att, bool):
        return None  # no identifier, an all-zero one, or no access technology
    return f"ll:{ll}/att:{att}"


@lru_cache(maxsize=65536)
def _all_zero(prefix: str) -> bool:
    """Whether ``prefix`` is the IPv6 ALL_ZERO prefix (or no address at all)."""
    try:
        return socket.inet_pton(socket.AF_INET6, prefix) == bytes(16)  # the usual text, in C
    except (OSError, ValueError):
        pass
    try:
        return ipaddress.ip_address(prefix).packed == bytes(16)
    except ValueError:
        return True


def is_all_zero_prefix(opt: dict[str, Any]) -> bool:
    prefix = opt.get("prefix")
    return not isinstance(prefix, str) or _all_zero(prefix)


@lru_cache(maxsize=65536)
def network(address: str, length: int) -> Network | None:
    """``address/length`` as a network (host bits cleared), None when it is not one."""
    try:
        return ipaddress.ip_network(f"{address}/{length}", strict=False)
    except (ValueError, TypeError):
        return None


def prefixes(msg: Message) -> list[Network]:
    """The NON_ZERO home network prefixes the message carries (RFC 5213 HNP option)."""
    out: list[Network] = []
    for opt in options(msg, "hnp"):
        if is_all_zero_prefix(opt):
            continue
        length = opt.get("prefix_len", 128)
        net = network(opt["prefix"], length) if isinstance(length, int) else None
        if net is not None:
            out.append(net)
    return out


@lru_cache(maxsize=16384)  # recent prefixes: ~3 MB at most
def network_text(address: str, length: int) -> str | None:
    """``str(network(address, length))``, memoised: text keys hash in C, networks in Python.

    Made with the C library's ``inet_pton``/``inet_ntop`` (RFC 5952 text, as ``ipaddress``
    writes it) where they apply: a capture holds thousands of prefixes, and an ``ipaddress``
    network costs about 25 us to make and print.  Anything else (an embedded IPv4 address, a
    scope, text the C library refuses) goes the ``ipaddress`` way.
    """
    return _network_text(address, length)


def _network_text(address: str, length: int) -> str | None:
    """:func:`network_text` without the memo, for callers that ask for each prefix about once."""
    text = _packed_network_text(address, length)
    if text is not None:
        return text
    net = network(address, length)
    return None if net is None else str(net)


def _packed_network_text(address: str, length: int) -> str | None:
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    if type(length) is not int or not 0 <= length <= bits:
        return None
    try:
        packed = socket.inet_pton(family, address)
    except (OSError, ValueError):
        return None
    host = bits - length
    text = socket.inet_ntop(family, (int.from_bytes(packed, "big") >> host << host).to_bytes(bits // 8, "big"))
    return None if family == socket.AF_INET6 and "." in text else f"{text}/{length}"


def _prefix_text(prefix: str, length: int) -> str | None:
    """An HNP option's prefix as text, None for ALL_ZERO.

    Not memoised: analysis reads the prefixes of a message only when its identity options are
    new to it, so nearly every prefix it asks for is new too (9,200 of 11,400 on the 100k bench),
    and a memo's (prefix, length) keys only gave the cyclic GC 18k more tuples to walk.
    """
    return None if _all_zero(prefix) else _network_text(prefix, length)


def prefix_texts(msg: Message) -> list[str]:
    """``[str(p) for p in prefixes(msg)]`` without making networks: for identity keys and sets."""
    index = msg.option_index
    at = (_option_index(msg) if index is None else index).get("hnp")
    if not at:
        return []
    found = msg.fields["options"]
    out: list[str] = []
    for i in at:
        opt = found[i]
        prefix, length = opt.get("prefix"), opt.get("prefix_len", 128)
        if isinstance(prefix, str) and isinstance(length, int):
            text = _prefix_text(prefix, length)
            if text is not None:
                out.append(text)
    return out


def timestamp(msg: Message) -> str | None:
    """The Timestamp option's exact value as text (seconds with fraction), or None."""
    value = option_value(msg, "timestamp")
    found = value.get("value") if isinstance(value, dict) else None
    if not isinstance(found, str):
        return None
    whole, _, frac = found.partition(".")
    return found if whole.isdigit() and (frac == "" or frac.isdigit()) else None


def timestamp_key(value: str) -> tuple[int, int]:
    whole, _, frac = value.partition(".")
    return int(whole or 0), int((frac or "0").ljust(16, "0")[:16])


def named_pmag(msg: Message, profile: Profile) -> tuple[str | None, str]:
    """The pMAG a PBA names (draft section 5.1): (address or None, how it was named).

    ``how`` is "" when the PBA names no pMAG, "pmag_address", "pmag_id" (resolved through the
    profile's node table), or "pmag_id-unresolved" when the profile knows no such identifier.
    """
    addr = option(msg, registry.PMAG_ADDRESS_KEY)
    if addr is not None and isinstance(addr.get("address"), str) and addr["address"]:
        return canonical(addr["address"]), registry.PMAG_ADDRESS_KEY
    ident = option(msg, registry.PMAG_ID_KEY)
    if ident is not None:
        raw = ident.get("identifier")
        try:
            key = bytes.fromhex(str(raw)) if raw is not None else b""
        except ValueError:
            key = str(raw).encode()
        node = profile.node_by_pmag_id(key)
        if node is not None and node.addresses:
            return node.addresses[0], registry.PMAG_ID_KEY
        return None, "pmag_id-unresolved"
    return None, ""


@lru_cache(maxsize=65536)
def canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


@lru_cache(maxsize=65536)
def _node_key(nodes: tuple[Node, ...], address: str) -> str:
    canon = canonical(address)
    for node in nodes:
        if canon in node.addresses:
            return f"node:{node.name}"
    return canon


def node_of(profile: Profile, address: str | None) -> str | None:
    """A node's identity: its profile name when the profile knows the address, else the address.

    Memoised on the profile's node table (a hashable tuple): signalling repeats its addresses.
    """
    if not isinstance(address, str):
        return None
    return _node_key(profile.nodes, address)


class NodeKeys(dict[object, str | None]):
    """``node_of`` for one profile as a mapping: ``keys[address]``, filled on first use.

    For loops that ask for the same few addresses' nodes hundreds of thousands of times.
    """

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.nodes = profile.nodes

    def __missing__(self, address: object) -> str | None:
        key = self[address] = _node_key(self.nodes, address) if isinstance(address, str) else None
        return key


def same_node(profile: Profile, a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and node_of(profile, a) == node_of(profile, b)


def address_in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def transport_info(msg: Message) -> Mapping[str, Any]:
    """What the capture stage knew of the carrier (SCTP chunk flags, PPI, hop limit), if passed on.

    Read from ``Message.info`` when the decoder provides it (the record's own read-only mapping,
    not a copy), else ``fields["sctp"]``.
    """
    info = getattr(msg, "info", None)
    if isinstance(info, Mapping) and info:
        return info
    sctp = msg.fields.get("sctp")
    return sctp if isinstance(sctp, dict) else {}


PRE_RFC_NOTICE = "mh.pre-rfc-dialect"


def is_pre_rfc(msg: Message) -> bool:
    """Whether the message is in a pre-RFC 5213 dialect: decoded under one, or the decoder says so."""
    if msg.transport == "mh-old" or any(w.code == PRE_RFC_NOTICE for w in msg.warnings):
        return True
    return any(o.get("dialect") for o in items(msg, "options"))
