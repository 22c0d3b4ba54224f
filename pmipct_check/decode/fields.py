"""The layout interpreter: turns a registry ``Field`` tuple into a compiled decoding plan.

Every message body and option in :mod:`pmipct_check.registry` is data; this module is the only
code that knows what each field *kind* means on the wire.  A layout is compiled once into a
:class:`Plan` (a tuple of small step closures, leading fixed-size integers folded into a single
``struct`` call), so decoding a message is a loop over prepared steps with no per-field dispatch.
A fixed-size option layout also compiles into one function that unpacks it and returns the whole
record as a single dict display (:func:`compile_record`).

Equal values are shared between a stream's records through its memo (:func:`remember`, bounded):
flag words by value, CXTP status and CDB lists by their octets.  Records are read-only downstream.

Problems (a field cut short, reserved bits set, a repeated structure that overruns) are appended
to the :class:`Walk` as ``(code, message, severity)`` triples; the caller turns them into
``Notice`` objects that know file and frame.  Nothing here raises on bad input.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .. import registry
from ..registry import Field

Problem = tuple[str, str, str]  # (code suffix, message, severity)


class Walk:
    """Per-message decoding state shared by the steps: problems found, and sizes the message says."""

    __slots__ = ("addr_size", "memo", "prefix", "problems", "request")

    def __init__(self, prefix: str, addr_size: int = 0, request: bool = False,
                 memo: dict[Any, Any] | None = None) -> None:
        self.prefix = prefix  # "mh" or "cxtp": the Notice code namespace
        self.addr_size = addr_size  # CXTP: 4 or 16 by the V flag; 0 = decide per field
        self.request = request  # CXTP CTAR/CT-Req: a CDB may be its 4-octet header only
        self.memo = memo  # the decode stream's memo (see remember): equal flag words share one dict
        self.problems: list[Problem] = []

    def warn(self, code: str, message: str, severity: str = "warning") -> None:
        self.problems.append((f"{self.prefix}.{code}", message, severity))


# A step reads one field at ``pos`` (absolute index into ``buf``), writes into ``out`` and returns
# the next position, or -1 when the data ended before the field did (the plan stops there).
Step = Callable[[bytes, int, int, dict[str, Any], Walk], int]


#: Entries a decode stream's memo holds before it starts afresh (bounds its memory).
MEMO_LIMIT = 1 << 16


def remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Put ``value`` in a stream's memo, starting it afresh at :data:`MEMO_LIMIT` entries."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value


@lru_cache(maxsize=16384)
def ipv6_text(raw: bytes) -> str:
    """Canonical (RFC 5952) text of 16 octets; cached because signalling repeats its addresses.

    ``inet_ntop`` writes the same compressed text as :mod:`ipaddress` ten times faster, except
    that it writes a dotted quad for IPv4-mapped/compatible forms (``::ffff:1.2.3.4``), which
    ``ipaddress`` (Python 3.11) writes in hex: those few take the slow road.
    """
    text = socket.inet_ntop(socket.AF_INET6, raw)
    return str(ipaddress.IPv6Address(raw)) if "." in text else text


@lru_cache(maxsize=4096)
def ipv4_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET, raw)


def address_text(raw: bytes) -> str:
    return ipv6_text(raw) if len(raw) == 16 else ipv4_text(raw)


def lladdr_text(raw: bytes) -> str:
    return raw.hex(":")


@lru_cache(maxsize=1024)
def _seconds(seconds: int) -> tuple[int, str]:
    """A timestamp's seconds and their text (with the point): the timestamps of a capture fall in
    few seconds, so its records share one int each and format each second once."""
    return seconds, f"{seconds}."


def ts_value(value: int) -> dict[str, Any]:
    """RFC 5213 section 8.8 from the option's 8 octets read as one integer: 48-bit seconds and
    16-bit 1/65536 fractions; ``value`` is exact text.  (One integer, not three fields: the
    generated option builders unpack it with the option's other fields, no slice made.)"""
    seconds, text = _seconds(value >> 16)
    fraction = value & 0xFFFF
    # fraction / 2**16 == fraction * 5**16 / 10**16: an exact 16-digit decimal expansion (str and
    # zfill: ~25 % fewer instructions than a format spec's "016d", once per PBU).
    digits = str(fraction * 152587890625).zfill(16).rstrip("0") or "0"
    return {"seconds": seconds, "fraction": fraction, "value": text + digits}


def ts48_16(raw: bytes) -> dict[str, Any]:
    """RFC 5213 section 8.8: 48-bit seconds and 16-bit 1/65536 fractions; ``value`` is exact text."""
    return ts_value(int.from_bytes(raw, "big"))


def _short(walk: Walk, name: str, need: int, have: int) -> int:
    walk.warn("field-short", f"{name}: needs {need} octets, {max(have, 0)} left")
    return -1


def _uint_step(f: Field) -> Step:
    name, size, scale = f.name, f.size, f.scale
    table = registry.TABLES[f.table] if f.table else None
    is_reserved = f.title == "Reserved"
    label = name + "_name"

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + size
        if nxt > end:
            return _short(walk, name, size, end - pos)
        value = buf[pos] if size == 1 else int.from_bytes(buf[pos:nxt], "big")
        out[name] = value * scale
        if table is not None:
            out[label] = table.get(value, f"unassigned ({value})")
        if is_reserved and value:
            walk.warn("reserved-nonzero", f"{name} is {value:#x}, should be zero", "info")
        return nxt

    return step


def _flags_step(f: Field) -> Step:
    name, size, bits = f.name, f.size, f.bits
    mask = 0
    for _, bit in bits:
        mask |= bit
    spare = ((1 << (8 * size)) - 1) & ~mask

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + size
        if nxt > end:
            return _short(walk, name, size, end - pos)
        value = buf[pos] if size == 1 else int.from_bytes(buf[pos:nxt], "big")
        flags: dict[str, Any] = {flag: bool(value & bit) for flag, bit in bits}
        if value & spare:
            flags["reserved"] = value & spare
            walk.warn("reserved-nonzero", f"reserved {name} bits set: {value & spare:#x}", "info")
        out[name] = flags
        return nxt

    return step


def _bits_step(f: Field) -> Step:
    name, size = f.name, f.size
    parts = []
    mask = 0
    for part, bit in f.bits:
        shift = (bit & -bit).bit_length() - 1
        parts.append((part, bit, shift, bit >> shift == 1))
        mask |= bit
    spare = ((1 << (8 * size)) - 1) & ~mask

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + size
        if nxt > end:
            return _short(walk, name, size, end - pos)
        value = int.from_bytes(buf[pos:nxt], "big")
        for part, bit, shift, single in parts:
            sub = (value & bit) >> shift
            out[part] = bool(sub) if single else sub
        if value & spare:
            out[name + "_reserved"] = value & spare
            walk.warn("reserved-nonzero", f"reserved bits of {name} set: {value & spare:#x}", "info")
        return nxt

    return step


def _fixed_addr_step(f: Field) -> Step:
    name, size = f.name, f.size
    render = ipv6_text if size == 16 else ipv4_text

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + size
        if nxt > end:
            return _short(walk, name, size, end - pos)
        out[name] = render(buf[pos:nxt])
        return nxt

    return step


def _addr_step(f: Field) -> Step:
    """An address whose size the message says: CXTP's V flag, or a preceding option code."""
    name = f.name

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        size = walk.addr_size
        if not size:
            code = out.get("code")
            size = 16 if code == 1 else 4 if code == 2 else (end - pos if end - pos in (4, 16) else 16)
        nxt = pos + size
        if nxt > end:
            return _short(walk, name, size, end - pos)
        out[name] = address_text(buf[pos:nxt])
        return nxt

    return step


def _rest_step(f: Field) -> Step:
    """text / lladdr / bytes: the field takes ``size`` octets, or all that is left when 0."""
    name, size, kind = f.name, f.size, f.kind

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + size if size else end
        if nxt > end:
            return _short(walk, name, size, end - pos)
        raw = buf[pos:nxt]
        if kind == "text":
            try:
                out[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                out[name] = raw.decode("utf-8", "replace")
                out[name + "_hex"] = raw.hex()
                walk.warn("bad-text", f"{name} is not valid UTF-8")
        elif kind == "lladdr":
            out[name] = lladdr_text(raw)
        else:
            out[name] = raw.hex()
        return nxt

    return step


def _ident_step(f: Field) -> Step:
    """MN Identifier value rendered by the subtype before it (registry MN_ID_RENDER)."""
    name = f.name

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        raw = buf[pos:end]
        render = registry.MN_ID_RENDER.get(out.get("subtype", -1), "bytes")
        if render == "text":
            try:
                out[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                out[name] = raw.hex()
                walk.warn("bad-text", f"{name} (NAI) is not valid UTF-8; kept as hex")
        elif render == "ipv6":
            if len(raw) == 16:
                out[name] = ipv6_text(raw)
            else:
                out[name] = raw.hex()
                walk.warn("ident-size", f"{name}: an IPv6 address identifier of {len(raw)} octets")
        elif render == "lladdr":
            out[name] = lladdr_text(raw)
        else:
            out[name] = raw.hex()
        return end

    return step


def _ts_step(f: Field) -> Step:
    name = f.name

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        nxt = pos + 8
        if nxt > end:
            return _short(walk, name, 8, end - pos)
        out[name] = ts48_16(buf[pos:nxt])
        return nxt

    return step


def _tlvs_step(f: Field) -> Step:
    """RFC 5949 Context Request: (Req-type 8, Req-length 8, Req-option) until the end."""
    name = f.name

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        items = []
        while pos < end:
            if pos + 2 > end:
                walk.warn("tlv-overrun", f"{name}: a request with no length octet")
                break
            req_type, req_len = buf[pos], buf[pos + 1]
            nxt = pos + 2 + req_len
            item = {"type": req_type, "name": registry.OPTION_NAMES.get(req_type, f"Option {req_type}"),
                    "length": req_len, "data": buf[pos + 2:min(nxt, end)].hex()}
            items.append(item)
            if nxt > end:
                walk.warn("tlv-overrun", f"{name}: request type {req_type} length {req_len} overruns")
                break
            pos = nxt
        out[name] = items
        return end

    return step


def _statuses_step(f: Field) -> Step:
    """CXTP CTAA/CTDR: (FPT 16, Status 8, Reserved 8) tuples until the end."""
    name = f.name
    fpts, statuses = registry.TABLES["cxtp_fpt"], registry.TABLES["cxtp_status"]

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        items = []
        while pos + 4 <= end:
            fpt, status, spare = int.from_bytes(buf[pos:pos + 2], "big"), buf[pos + 2], buf[pos + 3]
            item = {"fpt": fpt, "fpt_name": fpts.get(fpt, f"unassigned ({fpt})"),
                    "status": status, "status_name": statuses.get(status, f"unassigned ({status})")}
            if spare:
                item["reserved"] = spare
                walk.warn("reserved-nonzero", f"status entry for FPT {fpt}: reserved octet {spare:#x}", "info")
            items.append(item)
            pos += 4
        if pos < end:
            walk.warn("status-overrun", f"{name}: {end - pos} octets left over, not a whole entry")
        out[name] = items
        return end

    return step


def _cdbs_step(f: Field) -> Step:
    """RFC 4067 section 2.4 Context Data Blocks, each walked by its own Length (8-octet units)."""
    name = f.name
    fpts = registry.TABLES["cxtp_fpt"]

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        items = []
        while pos < end:
            if pos + 4 > end:
                walk.warn("cdb-overrun", f"{name}: {end - pos} octets left, less than a CDB header")
                break
            fpt, units, pflags = int.from_bytes(buf[pos:pos + 2], "big"), buf[pos + 2], buf[pos + 3]
            p = bool(pflags & 0x80)
            cdb: dict[str, Any] = {"fpt": fpt, "fpt_name": fpts.get(fpt, f"unassigned ({fpt})"),
                                   "length": units, "p": p}
            if pflags & 0x7F:
                cdb["reserved"] = pflags & 0x7F
                walk.warn("reserved-nonzero", f"CDB FPT {fpt}: reserved bits {pflags & 0x7F:#x}", "info")
            size = units * 8
            if size == 0:
                if walk.request and not p:
                    size = 4  # a request names the FPT only (RFC 4067 section 2.5.1)
                else:
                    walk.warn("cdb-length", f"CDB FPT {fpt} has Length 0")
                    items.append(cdb)
                    break
            nxt = pos + size
            body = pos + 4
            if nxt > end:
                walk.warn("cdb-overrun", f"CDB FPT {fpt} Length {units} ({size} octets) overruns by {nxt - end}")
                nxt = end
            if p:
                if body + 4 > nxt:
                    walk.warn("cdb-overrun", f"CDB FPT {fpt}: P set but no room for the presence vector")
                else:
                    cdb["presence_vector"] = int.from_bytes(buf[body:body + 4], "big")
                    body += 4
            cdb["data"] = buf[body:nxt].hex() if body < nxt else ""
            items.append(cdb)
            if nxt == end and pos + size > end:
                break
            pos = nxt
        out[name] = items
        return end

    return step


def _key_step(f: Field) -> Step:
    name = f.name

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        size = out.get("key_length", 0)
        nxt = pos + size
        if nxt > end:
            walk.warn("key-overrun", f"{name}: Key Length {size} overruns the message by {nxt - end}")
            out[name] = buf[pos:end].hex()
            return -1
        out[name] = buf[pos:nxt].hex()
        return nxt

    return step


def _ipv6_list_step(f: Field) -> Step:
    name, count = f.name, f.count

    def step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        wanted = out.get(count, 0)
        nxt = pos + 16 * wanted
        if nxt > end:  # the count says more than the message holds: cut short, like a fixed field
            return _short(walk, name, 16 * wanted, end - pos)
        out[name] = [ipv6_text(buf[at:at + 16]) for at in range(pos, nxt, 16)]
        return nxt

    return step


def _shared(build: Callable[[Field], Step]) -> Callable[[Field], Step]:
    """For a step that decodes the rest of its container into ``out[name]`` (a list of dicts):
    equal octets that decoded without a warning give the very list made before, through the
    stream's memo (CXTP status lists and requested CDBs repeat in every message of a run)."""

    def builder(f: Field) -> Step:
        step, name, tag = build(f), f.name, f"{f.kind}:{f.name}"

        def shared_step(buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
            memo = walk.memo
            if memo is None:
                return step(buf, pos, end, out, walk)
            key = (tag, walk.request, buf[pos:end])  # a request's CDBs decode differently
            items = memo.get(key)
            if items is not None:
                out[name] = items
                return end
            marks = len(walk.problems)
            nxt = step(buf, pos, end, out, walk)
            if len(walk.problems) == marks:
                remember(memo, key, out[name])
            return nxt

        return shared_step

    return builder


_BUILDERS: Mapping[str, Callable[[Field], Step]] = {
    "uint": _uint_step,
    "flags": _flags_step,
    "bits": _bits_step,
    "ipv6": _fixed_addr_step,
    "ipv4": _fixed_addr_step,
    "addr": _addr_step,
    "text": _rest_step,
    "lladdr": _rest_step,
    "bytes": _rest_step,
    "ident": _ident_step,
    "ts48_16": _ts_step,
    "tlvs": _tlvs_step,
    "statuses": _shared(_statuses_step),
    "cdbs": _shared(_cdbs_step),
    "key": _key_step,
    "ipv6_list": _ipv6_list_step,
}
assert set(_BUILDERS) == registry.KINDS, "every registry field kind needs an interpreter"

#: Kinds that consume everything up to the end of their container.
_GREEDY = frozenset({"ident", "tlvs", "statuses", "cdbs"})


FastPrefix = Callable[[bytes, int, dict[str, Any], Walk], int]


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled layout: ``size`` is the octets of its fixed part (the minimum to decode it all).

    ``fast`` decodes the layout's leading fixed-size fields with one ``struct.unpack_from`` in a
    generated function (``fast_size`` octets, then the ``rest`` steps); it runs only when all those
    octets are present, else the per-field ``steps`` run and report exactly where data ran out.
    """

    steps: tuple[Step, ...]
    size: int  # octets of fixed-size fields (variable ones count 0)
    greedy: bool  # the layout ends with a field that takes the rest
    fast: FastPrefix | None = None
    fast_size: int = 0
    rest: tuple[Step, ...] = ()

    def run(self, buf: bytes, pos: int, end: int, out: dict[str, Any], walk: Walk) -> int:
        """Decode fields from ``pos``; returns the position after the last one, or -1 if cut short."""
        if self.fast is not None and pos + self.fast_size <= end:
            pos = self.fast(buf, pos, out, walk)
            steps = self.rest
        else:
            steps = self.steps
        for step in steps:
            pos = step(buf, pos, end, out, walk)
            if pos < 0:
                return -1
        return pos


def _fixed_size(f: Field) -> int:
    if f.kind in ("uint", "flags", "bits", "ipv6", "ipv4"):
        return f.size
    if f.kind == "ts48_16":
        return 8
    if f.kind in ("bytes", "text", "lladdr"):
        return f.size
    return 0


def _fast_fields(layout: tuple[Field, ...]) -> int:
    """How many leading fields the generated struct prefix can take."""
    count = 0
    for f in layout:
        if (f.kind in ("uint", "flags", "bits") and f.size in (1, 2, 4)) or f.kind in ("ipv6", "ipv4", "ts48_16") \
                or (f.kind == "bytes" and f.size):
            count += 1
        else:
            break
    return count


@dataclass(slots=True)
class _Code:
    """Generated source for one fixed-size field held in variable ``v{i}`` after the unpack.

    ``lines`` run first, in field order (locals, warnings); ``entries`` are the record's keys in
    order as ``(condition, key, expression)``: a key with a condition is present only when it holds.
    """

    fmt: str
    lines: list[str]
    entries: list[tuple[str, str, str]]


def _flags_tag(f: Field) -> str:
    """A memo key prefix naming one flag layout (a str: its hash is computed once)."""
    return "flags:" + ",".join(f"{flag}={bit}" for flag, bit in f.bits)


@cache
def _scaled(scale: int) -> Callable[[int], int]:
    """``value * scale`` as one shared int per value: a capture's lifetimes are a few values,
    kept in every PBU and PBA (a new int each would be 32 octets a message)."""

    @lru_cache(maxsize=1024)
    def scaled(value: int) -> int:
        return value * scale

    return scaled


def _field_code(i: int, f: Field, env: dict[str, Any], memo: str = "") -> _Code:
    """``memo``: the name of the caller's memo, never None (a layout decoder's); else ``walk.memo``, maybe None."""
    v = f"v{i}"
    if f.kind in ("ipv6", "ipv4"):
        env["_ipv6" if f.kind == "ipv6" else "_ipv4"] = ipv6_text if f.kind == "ipv6" else ipv4_text
        return _Code(f"{f.size}s", [f"x{i} = _{f.kind}({v})"], [("", f.name, f"x{i}")])
    if f.kind == "ts48_16":
        env["_ts"] = ts_value
        return _Code("Q", [], [("", f.name, f"_ts({v})")])
    if f.kind == "bytes":
        return _Code(f"{f.size}s", [], [("", f.name, f"{v}.hex()")])
    fmt = {1: "B", 2: "H", 4: "I"}[f.size]
    if f.kind == "uint":
        if f.scale != 1:
            env[f"S{i}"] = _scaled(f.scale)
        code = _Code(fmt, [], [("", f.name, f"S{i}({v})" if f.scale != 1 else v)])
        if f.table:
            env[f"T{i}"] = registry.TABLES[f.table]
            code.entries.append(("", f.name + "_name", f"T{i}.get({v}) or f'unassigned ({{{v}}})'"))
        if f.title == "Reserved":
            code.lines.append(f"if {v}: walk.warn('reserved-nonzero', f'{f.name} is {{{v}:#x}}, should be zero', 'info')")
        return code
    mask = 0
    for _, bit in f.bits:
        mask |= bit
    spare = ((1 << (8 * f.size)) - 1) & ~mask
    if f.kind == "flags":  # one dict per flag word value, shared through the stream's memo
        env[f"K{i}"] = _flags_tag(f)
        items = ", ".join(f"{flag!r}: bool({v} & {bit})" for flag, bit in f.bits)
        if memo:  # a layout decoder's memo: never None
            get, keep = f"{memo}.get((K{i}, {v}))", [f"    _remember({memo}, (K{i}, {v}), f{i})"]
        else:
            get = f"None if walk.memo is None else walk.memo.get((K{i}, {v}))"
            keep = ["    if walk.memo is not None:", f"        _remember(walk.memo, (K{i}, {v}), f{i})"]
        lines = [f"f{i} = {get}", f"if f{i} is None:", f"    f{i} = {{{items}}}",
                 f"    if {v} & {spare}:", f"        f{i}['reserved'] = {v} & {spare}", *keep]
        lines += [f"if {v} & {spare}:",
                  f"    walk.warn('reserved-nonzero', f'reserved {f.name} bits set: {{{v} & {spare}:#x}}', 'info')"]
        return _Code(fmt, lines, [("", f.name, f"f{i}")])
    code = _Code(fmt, [], [])  # bits
    for part, bit in f.bits:
        shift = (bit & -bit).bit_length() - 1
        expr = f"({v} & {bit}) >> {shift}"
        code.entries.append(("", part, f"bool({expr})" if bit >> shift == 1 else expr))
    code.entries.append((f"{v} & {spare}", f.name + "_reserved", f"{v} & {spare}"))
    code.lines.append(f"if {v} & {spare}: "
                      f"walk.warn('reserved-nonzero', f'reserved bits of {f.name} set: {{{v} & {spare}:#x}}', 'info')")
    return code


def _source(layout: tuple[Field, ...], env: dict[str, Any]) -> tuple[list[_Code], struct.Struct]:
    """The fields' generated code and the one ``struct`` that unpacks them all (env gets their names)."""
    codes = [_field_code(i, f, env) for i, f in enumerate(layout)]
    unpacker = struct.Struct("!" + "".join(c.fmt for c in codes))
    env["_unpack"], env["_remember"] = unpacker.unpack_from, remember
    return codes, unpacker


def inline_fields(layout: tuple[Field, ...], env: dict[str, Any],
                  memo: str = "memo") -> tuple[str, list[str], list[tuple[str, str, str]]]:
    """A fixed-size layout as parts of a caller's generated function (a message layout decoder):
    the ``struct`` format of its values (held in ``v0``, ``v1``, ... in field order), the lines to
    run after the unpack (warnings, flag dicts shared through the caller's ``memo``, a local never
    None) and the record's ``(condition, key, expression)`` entries; ``env`` gets the names they use."""
    codes = [_field_code(i, f, env, memo) for i, f in enumerate(layout)]
    env["_remember"] = remember
    return "".join(c.fmt for c in codes), [line for c in codes for line in c.lines], \
        [e for c in codes for e in c.entries]


def message_lines(protocol: str, type_: str, transport: str, index: str) -> list[str]:
    """Generated lines that return ``decode._message``'s record of a warning-free message (source
    expressions for its protocol, type, transport and option index; ``carried`` and ``fields`` in
    scope, ``_Message`` in the globals): the layout and shape decoders build it themselves.  A
    message on its own frame alone keeps no frames tuple."""
    return ["frame, frames = carried.frame, carried.frames",
            "if len(frames) == 1 and frames[0] == frame: frames = ()",
            f"return _Message(carried.file, frame, carried.time_ns, carried.src, carried.dst, {protocol}, {type_}, "
            f"fields, {transport}, frames, (), (), {index}, carried.info)"]


@lru_cache(maxsize=512)
def generated_code(source: str, filename: str) -> Any:
    """``source`` compiled (memoised: a message shape is learnt again in every decode stream, and
    whenever a stream's memo starts afresh; its source is the same each time)."""
    return compile(source, filename, "exec")


def _compile(signature: str, codes: list[_Code], guards: list[str], tail: list[str],
             env: dict[str, Any]) -> Callable[..., Any]:
    """``def generated(signature)``: unpack, ``guards``, the fields' lines, ``tail``."""
    names = "".join(f"v{i}, " for i in range(len(codes)))
    lines = [f"{names}= _unpack(buf, pos)", *guards, *(line for c in codes for line in c.lines), *tail]
    source = f"def generated({signature}):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(source, "<registry layout>", "exec"), env)
    return env["generated"]


def _generate_fast(layout: tuple[Field, ...]) -> tuple[FastPrefix, int]:
    """One function decoding the fixed-size ``layout`` into ``out`` from a single unpack_from call.

    Generated once per registry layout from its field list (like ``dataclasses`` builds
    ``__init__``): no per-field call or bounds check is left on the hot path.
    """
    env: dict[str, Any] = {}
    codes, unpacker = _source(layout, env)
    tail = [f"if {cond}: out[{key!r}] = {expr}" if cond else f"out[{key!r}] = {expr}"
            for c in codes for cond, key, expr in c.entries]
    return _compile("buf, pos, out, walk", codes, [], [*tail, f"return pos + {unpacker.size}"], env), unpacker.size


RecordBuilder = Callable[[bytes, int, int, Walk], "dict[str, Any] | None"]


def compile_record(layout: tuple[Field, ...], head: Mapping[str, Any],
                   prefix_text: bool = False) -> tuple[RecordBuilder, int] | None:
    """A function building a whole fixed-size option record as one dict display, and its size.

    ``record(buf, pos, length, walk)`` returns ``{**head, "length": length, <fields>}`` (and
    ``prefix_text``) from the ``size`` octets at ``pos``, or None, before any warning, when a
    field would add a key of its own (reserved bits of a ``bits`` field): the caller then decodes
    step by step.  No builder (None) when the layout is not all fixed-size.
    """
    if not layout or _fast_fields(layout) != len(layout):
        return None
    env: dict[str, Any] = {f"H{j}": value for j, value in enumerate(head.values())}
    codes, unpacker = _source(layout, env)
    built = _record(codes, list(head), prefix_text, env)
    return None if built is None else (built, unpacker.size)


#: Kinds of a last field that takes the rest of its option, which a sized record can hold.
_SIZED_KINDS = frozenset({"bytes", "lladdr", "ident"})


def compile_sized_record(layout: tuple[Field, ...], head: Mapping[str, Any], length: int,
                         prefix_text: bool = False) -> RecordBuilder | None:
    """:func:`compile_record` for a layout whose last field takes the rest of the option (an MN
    Identifier, a link-layer identifier, padding), at one option Length: the shape of a message
    fixes it, so the rest is as fixed-size as the fields before it.

    The record is the one the layout's plan makes; the builder returns None where the plan would
    warn about the last field (a NAI that is no UTF-8, an IPv6 identifier of another size), so the
    caller decodes step by step.  None (no builder) for any other layout, or a Length too short.
    """
    if not layout or layout[-1].size or layout[-1].kind not in _SIZED_KINDS:
        return None
    fixed = layout[:-1]
    if _fast_fields(fixed) != len(fixed):
        return None
    size = length - sum(_fixed_size(f) for f in fixed)
    if size < 0:
        return None
    return _sized_record(layout, tuple(head.items()), size, prefix_text)


def ident_text(subtype: int, raw: bytes) -> str | None:
    """An MN Identifier's value as the ``ident`` step renders it; None where that step warns."""
    render = registry.MN_ID_RENDER.get(subtype, "bytes")
    if render == "text":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if render == "ipv6":
        return ipv6_text(raw) if len(raw) == 16 else None
    return lladdr_text(raw) if render == "lladdr" else raw.hex()


@lru_cache(maxsize=1024)
def _sized_record(layout: tuple[Field, ...], head: tuple[tuple[str, Any], ...], size: int,
                  prefix_text: bool) -> RecordBuilder | None:
    """See :func:`compile_sized_record`: the last field is ``size`` octets (memoised: a few
    option lengths per capture, learnt again whenever a stream's memo starts afresh)."""
    env: dict[str, Any] = {f"H{j}": value for j, (_, value) in enumerate(head)}
    i, last = len(layout) - 1, layout[-1]
    codes = [_field_code(j, f, env) for j, f in enumerate(layout[:-1])]
    v = f"v{i}"
    if last.kind == "bytes":
        codes.append(_Code(f"{size}s", [], [("", last.name, f"{v}.hex()")]))
    elif last.kind == "lladdr":
        codes.append(_Code(f"{size}s", [], [("", last.name, f"{v}.hex(':')")]))
    else:  # ident: rendered by the subtype field before it (the step reads it from the record)
        subtype = next((f"v{j}" for j, f in enumerate(layout[:-1]) if f.name == "subtype"), "-1")
        env["_ident"] = ident_text
        codes.append(_Code(f"{size}s", [f"x{i} = _ident({subtype}, {v})", f"if x{i} is None: return None"],
                           [("", last.name, f"x{i}")]))
    env["_unpack"], env["_remember"] = struct.Struct("!" + "".join(c.fmt for c in codes)).unpack_from, remember
    return _record(codes, [key for key, _ in head], prefix_text, env)


def _record(codes: list[_Code], head: list[str], prefix_text: bool, env: dict[str, Any]) -> RecordBuilder | None:
    """The record builder of :func:`compile_record` from its fields' code (``env``: H0, H1, ...
    hold the head's values, ``_unpack`` the fields' struct)."""
    entries = [e for c in codes for e in c.entries]
    exprs = {key: expr for cond, key, expr in entries if not cond}
    if prefix_text and not {"prefix", "prefix_len"} <= exprs.keys():
        return None
    items = [f"{key!r}: H{j}" for j, key in enumerate(head)] + ["'length': length"]
    items += [f"{key!r}: {expr}" for key, expr in exprs.items()]
    if prefix_text:
        items.append(f"'prefix_text': f'{{{exprs['prefix']}}}/{{{exprs['prefix_len']}}}'")
    guards = [f"if {cond}: return None" for cond, _, _ in entries if cond]
    return _compile("buf, pos, length, walk", codes, guards, ["return {" + ", ".join(items) + "}"], env)


@cache
def compile_layout(layout: tuple[Field, ...]) -> Plan:
    """The plan for one registry layout (memoised: layouts are immutable registry constants)."""
    steps = tuple(_BUILDERS[f.kind](f) for f in layout)
    greedy = bool(layout) and (
        layout[-1].kind in _GREEDY or (layout[-1].kind in ("bytes", "text", "lladdr") and not layout[-1].size)
    )
    size = sum(_fixed_size(f) for f in layout)
    count = _fast_fields(layout)
    if not count:
        return Plan(steps, size, greedy)
    fast, fast_size = _generate_fast(layout[:count])
    return Plan(steps, size, greedy, fast, fast_size, steps[count:])


def decode_layout(
    layout: tuple[Field, ...], buf: bytes, pos: int, end: int, walk: Walk, out: dict[str, Any] | None = None
) -> tuple[dict[str, Any], int]:
    """Decode ``layout`` from ``buf[pos:end]``: the fields and the position after them (-1 if short)."""
    out = {} if out is None else out
    return out, compile_layout(layout).run(buf, pos, end, out, walk)
