"""Octets of the messages the synthesizer sends: mobility header, mobility options, CXTP.

Every code point comes from :mod:`pmipct_check.registry` (option types by their registry key,
flag masks by name); this module only lays fields out in RFC order, pads options to their
alignment and computes the checksum, so a fault can bend exactly one thing at a time.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence

from .. import registry

_OPTION_TYPE = {spec.key: spec.type for spec in registry.OPTIONS.values()}
_ALIGN = {spec.type: spec.align for spec in registry.OPTIONS.values() if spec.align}
_MH_TYPE = {t.short: t.value for t in registry.MH_TYPES.values()} | {
    name: value for value, names in registry.P_FLAG_NAMES.items() for name in names
}
_CXTP_TYPE = {name: value for value, name in registry.TABLES["cxtp_type"].items()}
_ADDR_CODE = {name: value for value, name in registry.TABLES["addr_code"].items()}
_PAD1, _PADN = 0, _OPTION_TYPE["padn"]


def option_type(key: str) -> int:
    return _OPTION_TYPE[key]


def mh_type(short: str) -> int:
    return _MH_TYPE[short]


def flag_bits(table: Iterable[tuple[str, int]], names: Iterable[str]) -> int:
    masks = dict(table)
    value = 0
    for name in names:
        value |= masks[name]
    return value


def packed(address: str) -> bytes:
    return ipaddress.ip_address(address).packed


# --------------------------------------------------------------------------------------------
# Mobility options (type, data); the mobility header lays them out and pads them
# --------------------------------------------------------------------------------------------

Option = tuple[int, bytes]


def opt_mn_id(nai: str) -> Option:
    subtype = {v: k for k, v in registry.TABLES["mn_id_subtype"].items()}["NAI"]
    return _OPTION_TYPE["mn_id"], bytes([subtype]) + nai.encode()


def opt_mn_id_empty() -> Option:
    """RFC 5213 5.3.6: a PBA answering a PBU without MN-ID carries a zero-length identifier."""
    return opt_mn_id("")


def opt_hnp(network: str) -> Option:
    net = ipaddress.IPv6Network(network, strict=False)
    return _OPTION_TYPE["hnp"], bytes([0, net.prefixlen]) + net.network_address.packed


def opt_handoff(value: int) -> Option:
    return _OPTION_TYPE["handoff"], bytes([0, value])


def opt_att(value: int) -> Option:
    return _OPTION_TYPE["att"], bytes([0, value])


def opt_timestamp(time_ns: int) -> Option:
    """RFC 5213 8.8: 48-bit seconds since 1970 and 16 bits of 1/65536 second."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    fraction = (nanos << 16) // 1_000_000_000
    return _OPTION_TYPE["timestamp"], struct.pack(">Q", (seconds << 16) | fraction)


def opt_mn_ll_id(mac: str) -> Option:
    return _OPTION_TYPE["mn_ll_id"], b"\0\0" + bytes.fromhex(mac.replace(":", ""))


def opt_ipv4_hoa_req(address: str, prefix_len: int = 32) -> Option:
    return _OPTION_TYPE["ipv4_hoa_req"], struct.pack(">H", prefix_len << 10) + packed(address)


def opt_ipv4_hoa_rep(address: str, prefix_len: int = 32, status: int = 0) -> Option:
    return _OPTION_TYPE["ipv4_hoa_rep"], bytes([status, prefix_len << 2]) + packed(address)


def opt_pmag_address(address: str) -> Option:
    """The draft's pMAG_Address in the Experimental Mobility Option (protocol notes (g))."""
    code = _ADDR_CODE["IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"]
    data = bytes([registry.PMAG_ADDRESS_SUBTYPE, code, 0]) + packed(address)
    return registry.EXPERIMENTAL_OPTION, data


def opt_pmag_id(identifier: bytes) -> Option:
    return registry.EXPERIMENTAL_OPTION, bytes([registry.PMAG_ID_SUBTYPE, 0]) + identifier


def opt_lmaa(address: str) -> Option:
    code = _ADDR_CODE["IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"]
    return _OPTION_TYPE["lmaa"], bytes([code, 0]) + packed(address)


def opt_context_request(requests: Sequence[tuple[int, bytes]]) -> Option:
    """RFC 5949 6.2.1: Reserved (16) then (type, length, value) request tuples."""
    body = b"".join(bytes([t, len(v)]) + v for t, v in requests)
    return _OPTION_TYPE["context_req"], b"\0\0" + body


# --------------------------------------------------------------------------------------------
# The mobility header
# --------------------------------------------------------------------------------------------


def _pad(length: int) -> bytes:
    if length == 0:
        return b""
    if length == 1:
        return bytes([_PAD1])
    return bytes([_PADN, length - 2]) + bytes(length - 2)


def mobility_header(kind: str, body: bytes, options: Sequence[Option]) -> bytes:
    """MH with checksum zero: options aligned as RFC 5213 8.x asks, total padded to 8n."""
    out = bytearray(bytes([registry.IPPROTO_NONE, 0, mh_type(kind), 0, 0, 0]) + body)
    for otype, data in options:
        align = _ALIGN.get(otype)
        if align:
            n, k = align
            out += _pad((k - len(out)) % n)
        out += bytes([otype, len(data)]) + data
    out += _pad(-len(out) % 8)
    out[1] = len(out) // 8 - 1
    return bytes(out)


def mh_checksum(src: str, dst: str, mh: bytes) -> int:
    """RFC 6275 6.1.1: one's complement sum over the IPv6 pseudo-header and the whole MH."""
    data = packed(src) + packed(dst) + struct.pack(">IxxxB", len(mh), registry.IPPROTO_MH) + mh
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total & 0xFFFF) or 0xFFFF


def with_checksum(mh: bytes, value: int) -> bytes:
    return mh[:4] + struct.pack(">H", value) + mh[6:]


def pbu_body(seq: int, lifetime_s: int) -> bytes:
    flags = flag_bits(registry.BU_FLAGS, ("A", "P"))
    return struct.pack(">HHH", seq & 0xFFFF, flags, lifetime_s // 4)


def pba_body(status: int, seq: int, lifetime_s: int) -> bytes:
    flags = flag_bits(registry.BA_FLAGS, ("P",))
    return struct.pack(">BBHH", status, flags, seq & 0xFFFF, lifetime_s // 4)


def hi_body(seq: int, flags: Iterable[str], code: int) -> bytes:
    return struct.pack(">HBB", seq & 0xFFFF, flag_bits(registry.HI_FLAGS, flags), code)


def hack_body(seq: int, flags: Iterable[str], code: int) -> bytes:
    return struct.pack(">HBB", seq & 0xFFFF, flag_bits(registry.HACK_FLAGS, flags), code)


# --------------------------------------------------------------------------------------------
# CXTP (RFC 4067)
# --------------------------------------------------------------------------------------------


def cdb(fpt: int, data: bytes = b"", presence: int | None = None) -> bytes:
    """Context Data Block (RFC 4067 2.4): Length in 8-octet units including the 4-octet head."""
    head_flags = 0x80 if presence is not None else 0
    body = (struct.pack(">I", presence) if presence is not None else b"") + data
    body += bytes(-(4 + len(body)) % 8)
    return struct.pack(">HBB", fpt, (4 + len(body)) // 8, head_flags) + body


def cdb_request(fpt: int) -> bytes:
    """A requesting CDB: only its first 4 octets (RFC 4067 2.5.1), Length 0."""
    return struct.pack(">HBB", fpt, 0, 0)


def mld_cdb(subnet_prefix: str, group: str) -> bytes:
    """FPT 1, IPv6 Multicast Listener Context (RFC 4067 appendix B): prefix (8) + group (16)."""
    fpt = {v: k for k, v in registry.TABLES["cxtp_fpt"].items()}["IPv6 Multicast Listener Context"]
    prefix = ipaddress.IPv6Network(subnet_prefix, strict=False).network_address.packed[:8]
    return cdb(fpt, prefix + packed(group))


def cxtp(kind: str, body: bytes, flags: Iterable[str] = (), *, v4: bool = False,
         length_excludes_header: bool = False) -> bytes:
    ctype = _CXTP_TYPE[kind]
    names = list(flags) + (["V"] if v4 else [])
    octet1 = flag_bits(registry.CXTP_FLAGS[ctype], names)
    length = len(body) + (0 if length_excludes_header else registry.CXTP_HEADER_LEN)
    return struct.pack(">BBH", (registry.CXTP_VERSION << 5) | ctype, octet1, length) + body


def ct_req(prev: str, seq: int, token: int, cdbs: bytes = b"", **kw) -> bytes:
    return cxtp("CT-Req", packed(prev) + struct.pack(">II", seq, token) + cdbs,
                v4=len(packed(prev)) == 4, **kw)


def ctd(prev: str, elapsed_ms: int, cdbs: bytes, ack: bool, **kw) -> bytes:
    return cxtp("CTD", struct.pack(">I", elapsed_ms) + packed(prev) + cdbs, ["A"] if ack else [],
                v4=len(packed(prev)) == 4, **kw)


def pctd(prev: str, elapsed_ms: int, key: bytes, cdbs: bytes, ack: bool, **kw) -> bytes:
    algorithm = {v: k for k, v in registry.TABLES["cxtp_algorithm"].items()}["HMAC_SHA1"]
    body = struct.pack(">I", elapsed_ms) + packed(prev) + struct.pack(">HH", algorithm, len(key)) + key
    return cxtp("PCTD", body + cdbs, ["A"] if ack else [], v4=len(packed(prev)) == 4, **kw)


def ctdr(prev: str, statuses: Sequence[tuple[int, int]], success: bool, **kw) -> bytes:
    body = packed(prev) + b"".join(struct.pack(">HBB", fpt, status, 0) for fpt, status in statuses)
    return cxtp("CTDR", body, ["S"] if success else [], v4=len(packed(prev)) == 4, **kw)


def ctc(prev: str, **kw) -> bytes:
    return cxtp("CTC", packed(prev), v4=len(packed(prev)) == 4, **kw)
