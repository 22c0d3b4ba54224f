"""Mobility Header messages (RFC 6275 section 6.1) and their options, decoded from registry layouts.

Entry point: :func:`decode_mh`, which returns the record ``(type, protocol, fields)`` plus the
problems found.  The MH type picks a body layout (``MH_BODIES``, or ``BR_BODIES`` by the B.R.
Type octet); the rest of the message up to Header Len is a TLV walk over mobility options,
each walked by its own Length and decoded by its ``OptionSpec`` layout.  Which spec a wire type
selects is profile-dependent (pre-RFC dialects, ``option_type_map``, the draft's pMAG options)
and is resolved once per profile into an :class:`OptionTable`.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import registry
from ..capture.model import Carried
from ..profile import Profile
from ..registry import Field, OptionSpec
from .fields import (
    MEMO_LIMIT,
    Plan,
    RecordBuilder,
    Walk,
    compile_layout,
    compile_record,
    compile_sized_record,
    generated_code,
    inline_fields,
    ipv6_text,
    message_lines,
    remember,
)
from .model import Message, options_layout

_PMAG_ADDRESS = OptionSpec(0, registry.PMAG_ADDRESS_KEY, registry.PMAG_ADDRESS_LAYOUT, (6, 18),
                           ref="draft-liebsch-netlmm-proxymip6ct-00 5.1", title=registry.PMAG_ADDRESS_NAME)
_PMAG_ID = OptionSpec(0, registry.PMAG_ID_KEY, registry.PMAG_ID_LAYOUT, min_length=2,
                      ref="draft-liebsch-netlmm-proxymip6ct-00 5.1", title=registry.PMAG_ID_NAME)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What one wire option type decodes as under a profile, with its checks precomputed."""

    spec: OptionSpec
    plan: Plan
    head: dict[str, Any]  # type (IANA when remapped), name, key, [wire_type], [dialect]
    lengths: frozenset[int]  # permitted Length values of the data after any sub-type; empty = any
    min_length: int
    prefix_text: bool  # the layout has prefix + prefix_len: add "prefix_text"
    whole: int  # Length for which the generated prefix decodes the entire option (-1: none)
    align_n: int  # option must start at align_n * x + align_k (1, 0 when unconstrained)
    align_k: int
    record: RecordBuilder | None  # builds the whole record when Length == whole (see compile_record)

    @property
    def name(self) -> str:
        return self.spec.name


def _make(spec: OptionSpec, wire: int, reported: int, dialect: str = "") -> Resolved:
    head: dict[str, Any] = {"type": reported, "name": spec.name, "key": spec.key}
    if reported != wire:
        head["wire_type"] = wire
    if dialect:
        head["dialect"] = dialect
    names = {f.name for f in spec.layout}
    plan = compile_layout(spec.layout)
    lengths = frozenset(spec.lengths)
    whole = plan.fast_size if plan.fast is not None and not plan.rest else -1
    if whole >= 0 and ((lengths and whole not in lengths) or whole < spec.min_length):
        whole = -1
    align_n, align_k = spec.align or (1, 0)
    prefix_text = {"prefix", "prefix_len"} <= names
    built = compile_record(spec.layout, head, prefix_text) if whole >= 0 else None
    record = built[0] if built is not None and built[1] == whole else None
    return Resolved(spec, plan, head, lengths, spec.min_length, prefix_text, whole, align_n, align_k, record)


@dataclass(frozen=True, slots=True)
class OptionTable:
    """Per-profile option resolution: wire type -> spec, plus the draft's pMAG sub-types."""

    by_wire: dict[int, Resolved]
    experimental: int  # option type carrying sub-typed pMAG options (-1: none)
    subtypes: dict[int, Resolved]  # sub-type -> pMAG spec inside the experimental option
    dialect: str
    mh_type_names: dict[int, str]
    hint_types: frozenset[int]  # wire types worth a pre-RFC dialect check (none once a dialect is chosen)
    #: wire type -> (Length, align n, align k, record builder): options walk_options builds in one call
    #: when their Length and position are right (fixed-size, no sub-type, no dialect hint to check).
    hot: dict[int, tuple[int, int, int, RecordBuilder]]
    aligns: dict[int, tuple[int, int]]  # wire types with an alignment rule: (n, k)
    #: wire types not memoised one by one: a timestamp is new in every message but the PBA that
    #: echoes it, and that PBA's whole option list is memoised.
    volatile: frozenset[int]


_PMIP6D = registry.DIALECTS["pmip6d-2010"]


def _resolved(spec: OptionSpec, wire: int, dialect: str = "") -> Resolved:
    return _make(spec, wire, spec.type if spec.type else wire, dialect)


@lru_cache(maxsize=64)
def _option_table(
    dialect: str, type_map: tuple[tuple[int, int], ...], pmag: tuple[int, int, int, int]
) -> OptionTable:
    by_wire = {t: _resolved(spec, t) for t, spec in registry.OPTIONS.items()}
    chosen = registry.DIALECTS.get(dialect)
    if chosen is not None:
        for wire, spec in chosen.options.items():
            by_wire[wire] = _resolved(spec, wire, chosen.name)
    for wire, iana in type_map:  # the profile's explicit map wins over a dialect
        spec = registry.OPTIONS.get(iana)
        if spec is not None:
            by_wire[wire] = _resolved(spec, wire)
    addr_option, addr_subtype, id_option, id_subtype = pmag
    experimental, subtypes = -1, {}
    exp = registry.EXPERIMENTAL_OPTION
    for option, subtype, spec in ((addr_option, addr_subtype, _PMAG_ADDRESS), (id_option, id_subtype, _PMAG_ID)):
        resolved = _make(spec, option, option)
        if option == exp:  # sub-typed inside the RFC 5096 Experimental Mobility Option
            experimental = exp
            subtypes[subtype] = resolved
        else:  # a dedicated option type: the same data without the sub-type octet
            by_wire[option] = resolved
    names = dict(chosen.mh_type_names) if chosen is not None else {}
    hint_types = frozenset() if chosen is not None else frozenset(_PMIP6D.options)
    hot = {wire: (res.whole, res.align_n, res.align_k, res.record) for wire, res in by_wire.items()
           if res.record is not None and wire != experimental and wire not in hint_types}
    aligns = {wire: res.spec.align for wire, res in by_wire.items() if res.spec.align is not None}
    volatile = frozenset(wire for wire, res in by_wire.items() if any(f.kind == "ts48_16" for f in res.spec.layout))
    return OptionTable(by_wire, experimental, subtypes, dialect, names, hint_types, hot, aligns,  # type: ignore[arg-type]
                       volatile)


def option_table(profile: Profile) -> OptionTable:
    """The option resolution for ``profile`` (memoised on the settings that shape it)."""
    return _option_table(
        getattr(profile, "dialect", ""),
        tuple(sorted(profile.option_type_map.items())),
        (profile.pmag_address_option, profile.pmag_address_subtype, profile.pmag_id_option,
         profile.pmag_id_subtype),
    )


def mh_checksum(src: bytes, dst: bytes, data: bytes, next_header: int) -> int:
    """RFC 6275 section 6.1.1 / RFC 8200 section 8.1: one's complement sum over the pseudo-header.

    The one's complement sum of 16-bit words is the whole octet string, read as one integer,
    modulo 0xFFFF (2**16 == 1 mod 0xFFFF), with 0xFFFF in place of 0 (the next-header octet of
    the pseudo-header is never zero, so the sum is never the all-zero case).
    """
    buf = src + dst + len(data).to_bytes(4, "big") + b"\0\0\0" + bytes((next_header,)) + data
    if len(buf) % 2:
        buf += b"\0"
    return ~(int.from_bytes(buf, "big") % 0xFFFF or 0xFFFF) & 0xFFFF


@lru_cache(maxsize=4096)
def _packed(address: str) -> bytes | None:
    try:
        packed = ipaddress.ip_address(address).packed
    except ValueError:
        return None
    return packed if len(packed) == 16 else None


_MH = registry.IPPROTO_MH


@lru_cache(maxsize=4096)
def _address_sum(src: str, dst: str) -> int | None:
    """The pseudo-header's addresses as one integer, for :func:`verify_checksum`; None unless both are IPv6."""
    s, d = _packed(src), _packed(dst)
    return None if s is None or d is None else int.from_bytes(s, "big") + int.from_bytes(d, "big")


@lru_cache(maxsize=4096)
def _address_residue(src: str, dst: str) -> int | None:
    """:func:`_address_sum` modulo 0xFFFF: what the layout decoders add to the message's own residue."""
    addresses = _address_sum(src, dst)
    return None if addresses is None else addresses % 0xFFFF


def verify_checksum(data: bytes, src: str, dst: str, next_header: int, ip_payload_len: int | None) -> bool | None:
    """True/False when the MH checksum can be checked, None when it cannot (IPv4, cut-short capture).

    :func:`mh_checksum` without building the pseudo-header: modulo 0xFFFF each 16-bit aligned part
    of it counts by its value, so the sum is the addresses' (cached per pair), the length's, the
    next header's and the message's, less the checksum field's (summed as zero).
    """
    addresses = _address_sum(src, dst)
    if addresses is None:
        return None
    length = len(data) if ip_payload_len is None else ip_payload_len
    if length > len(data):
        return None  # the capture holds less than the IPv6 payload: cannot sum what is missing
    whole = data if length == len(data) else data[:length]
    size = len(whole)
    if size < 6:
        return False  # no checksum field to compare with
    expected = (whole[4] << 8) | whole[5]
    value = int.from_bytes(whole, "big") << (8 if size & 1 else 0)  # an odd length sums a zero octet more
    partial = addresses + size + value - expected
    if ~((partial + next_header) % 0xFFFF or 0xFFFF) & 0xFFFF == expected:
        return True
    # A pre-RFC next header (62) may still have been summed with the RFC's 135.
    return next_header != _MH and ~((partial + _MH) % 0xFFFF or 0xFFFF) & 0xFFFF == expected


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def _decode_option(
    table: OptionTable, buf: bytes, pos: int, wire: int, length: int, walk: Walk, hints: list[str]
) -> dict[str, Any]:
    start, end = pos + 2, pos + 2 + length
    res = table.by_wire.get(wire)
    if res is None:
        option = {"type": wire, "name": registry.OPTION_NAMES.get(wire, f"Option {wire}"),
                  "key": f"option_{wire}", "length": length, "data": buf[start:end].hex()}
        if wire not in registry.OPTION_NAMES:
            walk.warn("unknown-option", f"option type {wire} (Length {length}) is not assigned; kept raw", "info")
        return option
    size = length
    if wire == table.experimental and length >= 1 and buf[start] in table.subtypes:
        res = table.subtypes[buf[start]]
        option = {**res.head, "length": length, "subtype": buf[start]}
        start += 1
        size -= 1
    else:
        option = {**res.head, "length": length}
        if wire in table.hint_types:
            _dialect_hint(wire, length, buf, start, hints)
        align = res.spec.align
        if align is not None and pos % align[0] != align[1]:
            walk.warn("option-align", f"{res.spec.name} at MH octet {pos}, alignment {align[0]}n+{align[1]} "
                      "expected", "info")
    if (res.lengths and size not in res.lengths) or size < res.min_length:
        want = f"one of {sorted(res.lengths)}" if res.lengths else f"at least {res.min_length}"
        walk.warn("option-length", f"{res.spec.name} (type {wire}): data of {size} octets, expected {want}")
    plan = res.plan
    if plan.fast is not None and not plan.rest and start + plan.fast_size == end:
        plan.fast(buf, start, option, walk)  # the common case: a fixed-size option of the right size
    else:
        stop = plan.run(buf, start, end, option, walk)
        if 0 <= stop < end and not plan.greedy:
            option["extra"] = buf[stop:end].hex()
    if res.prefix_text and isinstance(option.get("prefix"), str):
        option["prefix_text"] = f"{option['prefix']}/{option.get('prefix_len')}"
    return option


def _dialect_hint(wire: int, length: int, buf: bytes, start: int, hints: list[str]) -> None:
    """Note an option whose Length fits the pmip6d-2010 layout of its number but not the IANA one.

    Type 7 with Length 18 is taken as a sign although IANA's MH Link-Layer Address option is
    variable (a 17-octet link-layer address does not exist); type 8 only when its first octet is
    no RFC 4283 subtype; type 9 (IANA Authentication, variable) is too ambiguous alone.
    """
    spec = _PMIP6D.options[wire]
    if spec.lengths and length not in spec.lengths:
        return
    iana = registry.OPTIONS.get(wire)
    if wire == 8 and length >= 1 and buf[start] in registry.MN_ID_RENDER:
        return  # a real RFC 4283 subtype
    if wire == 9:
        return
    if wire not in (7, 8) and iana is not None and (not iana.lengths or length in iana.lengths):
        return
    hints.append(f"option {wire} with Length {length} fits pmip6d-2010's {spec.name}")


def _fresh_option(table: OptionTable, buf: bytes, pos: int, wire: int, length: int, walk: Walk,
                  hints: list[str]) -> dict[str, Any]:
    """One option (not Pad1, within the message) decoded afresh: the memo did not hold it."""
    fast = table.hot.get(wire)
    if fast is not None and fast[0] == length and pos % fast[1] == fast[2]:
        option = fast[3](buf, pos + 2, length, walk)  # a fixed-size option of its size, where it belongs
        if option is not None:
            return option
    if wire == 1 and length == 0:  # PadN of two octets, the commonest option of all
        return {"type": 1, "name": "PadN", "key": "padn", "length": 0, "padding": ""}
    return _decode_option(table, buf, pos, wire, length, walk, hints)


def walk_options(
    table: OptionTable, buf: bytes, pos: int, end: int, walk: Walk, hints: list[str],
    memo: dict[Any, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every option from ``pos`` to ``end``, each walked by its own Length; stops cleanly on overrun.

    With ``memo`` (one per decode stream and option table), an option whose octets and alignment
    were seen before, and which decoded without a warning or dialect hint, is the very dict made
    then: MN Identifier, HNP, ATT, Handoff, PadN repeat in every message of an MN, and sharing
    them is most of a signalling capture's memory.  Records are read-only downstream.

    The whole list is memoised too (in the stream's :func:`option_regions`): a PBA echoes its
    PBU's options (RFC 5213 section 6.9.1.2: MN-ID, HNP, Handoff, ATT, Timestamp, LL-ID), so a
    PBA is usually one lookup.
    """
    region = None
    if memo is None:
        memo = {}  # no stream to share with: equal options share within the message only
    else:
        regions = option_regions(memo)
        region = (pos & 7, buf[pos:end])
        known = regions.get(region)
        if known is not None:
            return known  # type: ignore[no-any-return]
        start_marks = len(walk.problems), len(hints)
    options: list[dict[str, Any]] = []
    append = options.append
    aligns, volatile = table.aligns, table.volatile
    while pos < end:
        wire = buf[pos]
        if wire == 0:  # Pad1: a single octet, no Length field
            append({"type": 0, "name": "Pad1", "key": "pad1", "length": 0})
            pos += 1
            continue
        if pos + 2 > end:
            walk.warn("option-overrun", f"option type {wire} at MH octet {pos} has no Length octet")
            append({"type": wire, "name": registry.OPTION_NAMES.get(wire, f"Option {wire}"),
                    "key": "truncated", "length": None, "truncated": True})
            break
        length = buf[pos + 1]
        nxt = pos + 2 + length
        if nxt > end:
            walk.warn("option-overrun",
                      f"option type {wire} at MH octet {pos}: Length {length} overruns the message by "
                      f"{nxt - end} octets")
            append({"type": wire, "name": registry.OPTION_NAMES.get(wire, f"Option {wire}"),
                    "key": "truncated", "length": length, "truncated": True, "data": buf[pos + 2:end].hex()})
            break
        # Only options that decoded without a warning are remembered, so one with an alignment rule
        # was remembered where it belongs: elsewhere the same octets decode afresh (and warn).
        key = buf[pos:nxt]
        option = memo.get(key)
        if option is not None:
            align = aligns.get(wire)
            if align is None or pos % align[0] == align[1]:
                append(option)
                pos = nxt
                continue
        marks = len(walk.problems), len(hints)
        option = _fresh_option(table, buf, pos, wire, length, walk, hints)
        append(option)
        if marks == (len(walk.problems), len(hints)) and wire not in volatile:
            remember(memo, key, option)
        pos = nxt
    options = options.copy()  # exactly sized: appending over-allocates by up to half
    if region is not None and start_marks == (len(walk.problems), len(hints)):
        if len(regions) >= REGION_LIMIT:
            regions.clear()
        regions[region] = options
    return options


_REGIONS = "mh-option-regions"  # memo key of the stream's option regions
#: Option lists a stream keeps by their octets before it starts afresh.  A PBU's list (its
#: timestamp is new) is worth keeping only until the PBA that echoes it, a few messages on.
REGION_LIMIT = 4096


def option_regions(memo: dict[Any, Any]) -> dict[tuple[int, bytes], list[dict[str, Any]]]:
    """The stream's whole option lists by (alignment, octets), a small dict of its own in ``memo``.

    Kept apart from the options: one new list per PBU would otherwise be most of the memo (and
    fill it up, dropping every shared option at once) for the one PBA that echoes it.
    """
    regions = memo.get(_REGIONS)
    if regions is None:
        regions = {}
        remember(memo, _REGIONS, regions)
    return regions  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------------


_BODY_PLANS = {t: compile_layout(body) for t, body in registry.MH_BODIES.items()}
_MH_TYPE_NAMES = dict(registry.TABLES["mh_type"])
_BR_PLANS = {t: compile_layout(body) for t, body in registry.BR_BODIES.items()}


#: MH type -> (record type, protocol) for the types whose record type needs no field.
_PLAIN_TYPES = {t: (info.short, info.protocol) for t, info in registry.MH_TYPES.items() if t not in (5, 6, 16)}
_NO_NEXT_HEADER = registry.IPPROTO_NONE
_HEADER = struct.Struct("!BBBBH")  # Payload Proto, Header Len, MH Type, Reserved, Checksum
#: Transports whose checksum is summed, with the pseudo-header's next header.
_CHECKED = {"mh": registry.IPPROTO_MH, "mh-old": registry.IPPROTO_MH_OLD}


def _record_type(mh_type: int, fields: dict[str, Any], table: OptionTable) -> tuple[str, str]:
    """(record type, protocol) as issue 2 names them."""
    if mh_type in table.mh_type_names:
        return table.mh_type_names[mh_type], "pmipv6"
    plain = _PLAIN_TYPES.get(mh_type)
    if plain is not None:
        return plain
    if mh_type == 5 or mh_type == 6:
        proxy = bool(fields.get("flags", {}).get("P"))
        with_p, without_p = registry.P_FLAG_NAMES[mh_type]
        return (with_p, "pmipv6") if proxy else (without_p, "mipv6")
    if mh_type == 16:
        br = fields.get("br_type")
        return registry.BR_TYPES.get(br, "BR") if isinstance(br, int) else "BR", "pmipv6"
    return f"MH-{mh_type}", "mipv6"


def decode_mh(
    data: bytes, table: OptionTable, *, transport: str, src: str = "", dst: str = "",
    ip_payload_len: int | None = None, memo: dict[Any, Any] | None = None
) -> tuple[str, str, dict[str, Any], Walk] | None:
    """Decode one Mobility Header; None when fewer than 3 octets leave even the type unknown.

    ``memo`` (see :func:`walk_options`) also shares equal flag dicts between messages.
    """
    return mh_message(data, table, transport, src, dst, ip_payload_len, memo)


# --------------------------------------------------------------------------------------------
# Layouts: one generated decoder per message shape seen before
# --------------------------------------------------------------------------------------------

MhResult = tuple[str, str, dict[str, Any], Walk]
#: A generated layout decoder: (carried, data, value, src, dst, memo, walk, hints) -> the Message, or
#: None when anything differs from the warning-free message it was made from (the general path decides).
LayoutDecoder = Callable[[Carried, bytes, int, str, str, dict[Any, Any], Walk, list[str]], "Message | None"]
#: Layouts kept per (length, MH type) in a stream's memo: a few shapes share each key.
LAYOUTS_PER_KEY = 4


@dataclass(frozen=True, slots=True)
class _Layout:
    """A message shape: the message read as one integer, masked by ``mask`` (its header and option
    type and Length octets), is ``expected`` (one C operation, not an octet at a time); and its decoder."""

    mask: int
    expected: int
    decode: LayoutDecoder


_SHAPES = "mh-shapes"  # memo key of the stream's _Shapes


@dataclass(frozen=True, slots=True)
class _Shapes:
    """A stream's layouts by ``length << 8 | MH type``, and the one warning-free Walk and hint list
    that every message they decode shares (a message that warns is decoded again with its own)."""

    walk: Walk
    hints: list[str]
    layouts: dict[int, tuple[_Layout, ...]]
    pad1: dict[str, Any]  # the one Pad1 record of the stream's layout decoders (read-only, like every record)


def _layout_option(table: OptionTable, data: bytes, pos: int, wire: int, length: int, walk: Walk,
                   hints: list[str], memo: dict[Any, Any], remembered: bool) -> dict[str, Any] | None:
    """An option of a layout that the memo does not hold: decoded as walk_options would, or None
    when it warned or hinted (the general path then decodes the whole message again)."""
    option = _fresh_option(table, data, pos, wire, length, walk, hints)
    if walk.problems or hints:
        return None
    if remembered:
        remember(memo, data[pos:pos + 2 + length], option)
    return option


def _option_spans(data: bytes, pos: int, end: int) -> list[tuple[int, int, int]] | None:
    """(position, wire type, Length) of each option, or None when they do not tile ``pos:end``."""
    spans = []
    while pos < end:
        wire = data[pos]
        if wire == 0:
            spans.append((pos, 0, -1))
            pos += 1
            continue
        if pos + 2 > end:
            return None
        spans.append((pos, wire, data[pos + 1]))
        pos += 2 + data[pos + 1]
    return spans if pos == end else None


def _lookup_groups(spans: list[tuple[int, int, int]], table: OptionTable) -> list[list[int]]:
    """The options a layout decoder looks up in the memo together, by the octets they span (indexes
    into ``spans``): adjacent small options (Handoff Indicator, Access Technology Type, padding: few
    values in a whole capture, so few groups of them) go together; a larger one (MN Identifier,
    prefix, link-layer identifier: one per MN) stands alone, and a volatile one (a timestamp) is
    never looked up.  A PBU's seven lookups become five, and the memo holds a handful more entries
    (grouping an MN's options with their padding saved one more lookup, for ~2 entries more per MN:
    +3 MB at the end of signalling-100000).

    (Equal octets are equal records wherever the shape puts them: a shape is learnt from a
    message whose every option was where its alignment wants it, and only warning-free records
    are remembered.  A group's octets are never one option's: they run past its Length.)
    """
    groups: list[list[int]] = []
    current: list[int] | None = None
    kind = ""
    for i, (_, wire, length) in enumerate(spans):
        if wire in table.volatile:
            groups.append([i])
            current = None
            continue
        this = "pad" if wire in (0, 1) else "small" if length <= 2 else "large"  # Pad1, PadN; data octets
        if current is not None and this != "large" and kind != "large":
            current.append(i)
        else:
            current = [i]
            groups.append(current)
            kind = this
    return groups


def _option_code(i: int, pos: int, wire: int, length: int, table: OptionTable, env: dict[str, Any]) -> list[str]:
    """A layout decoder's lines that make ``o{i}``, the option at ``pos`` (not Pad1): the memo's
    record for its octets, else decoded (and remembered when not volatile), else ``return None``."""
    o = f"o{i}"
    volatile = wire in table.volatile  # new in every message: not looked up, not remembered
    hot = table.hot.get(wire)
    sized = None if hot is not None and hot[0] == length else _sized_builder(table, pos, wire, length)
    if sized is not None or (hot is not None and hot[0] == length):  # its one-call builder (the shape was aligned)
        env[f"B{i}"] = hot[3] if sized is None else sized
        build = [f"{o} = B{i}(data, {pos + 2}, {length}, walk)", f"if {o} is None or walk.problems: return None"]
        if sized is not None and wire in table.hint_types:  # as _decode_option: a hint sends it to the general path
            env["_hint"] = _dialect_hint
            build[:0] = [f"_hint({wire}, {length}, data, {pos + 2}, hints)", "if hints: return None"]
        if not volatile:
            build.append(f"_remember(memo, k{i}, {o})")
    else:
        build = [f"{o} = _option(_table, data, {pos}, {wire}, {length}, walk, hints, memo, {not volatile})",
                 f"if {o} is None: return None"]
    if volatile:
        return build
    return [f"k{i} = data[{pos}:{pos + 2 + length}]", f"{o} = get(k{i})", f"if {o} is None:",
            *(f"    {line}" for line in build)]


def _sized_builder(table: OptionTable, pos: int, wire: int, length: int) -> RecordBuilder | None:
    """A one-call builder of the record :func:`_decode_option` makes for this option at ``pos`` with
    this Length, when that record is warning-free whatever its octets but those the builder checks
    itself (see :func:`.fields.compile_sized_record`) and a dialect hint; else None."""
    res = table.by_wire.get(wire)
    if res is None or wire == table.experimental:
        return None
    if (res.lengths and length not in res.lengths) or length < res.min_length:
        return None  # an option-length warning
    align = res.spec.align
    if align is not None and pos % align[0] != align[1]:
        return None  # an option-align warning
    return compile_sized_record(res.spec.layout, res.head, length, res.prefix_text)


def _make_layout(data: bytes, table: OptionTable, mh_type: int, body: tuple[Field, ...], record_type: tuple[str, str],
                 fields: dict[str, Any], pad1: dict[str, Any], regions: dict[Any, Any]) -> _Layout | None:
    """The generated decoder for messages shaped like ``data`` (decoded warning-free into ``fields``).

    The shape is the header octets but the checksum, the MH type (fixed-size body) and every
    option's type and Length octets: given those, every field sits at a known offset, so the
    decoder unpacks the checksum and the body in one call, slices each option's octets for the
    memo without walking, and builds the option list and the record each as one exactly sized
    display (the record's keys in the general path's order).  ``pad1``: the stream's one Pad1 record;
    ``regions``: its :func:`option_regions`.
    """
    env: dict[str, Any] = {"_addresses": _address_residue, "_option": _layout_option, "_remember": remember,
                           "_table": table, "_name": fields["mh_type_name"], "_pad1": pad1, "_Message": Message,
                           "_regions": regions}
    body_fmt, body_lines, entries = inline_fields(body, env)
    unpacker = struct.Struct("!4xH" + body_fmt)
    start = unpacker.size
    spans = _option_spans(data, start, len(data))
    if spans is None or len(spans) > 64:
        return None
    env["_unpack"] = unpacker.unpack_from
    positions, expected = [0, 1, 3], [data[0], data[1], data[3]]
    size = len(data)
    lines = [f"checksum, {''.join(f'v{i}, ' for i in range(len(body)))}= _unpack(data)",
             "addresses = _addresses(src, dst)",
             "if addresses is None: ok = None",
             "else:",  # verify_checksum for a whole, even-sized message (the shape says so)
             # the sum modulo 0xFFFF as a sum of residues: the message's is the one long division
             f"    if ~((value % 0xFFFF + addresses + {size + _MH} - checksum) % 0xFFFF or 0xFFFF) & 0xFFFF "
             "!= checksum: return None",
             "    ok = True",
             *body_lines,
             *(f"if {cond}: return None" for cond, _, _ in entries if cond),  # a key of its own: general path
             *(["if walk.problems: return None"] if body_lines else []),
             f"region = ({start & 7}, data[{start}:])",
             "options = _regions.get(region)",
             "if options is None:",
             "    get = memo.get"]
    names = []
    for pos, wire, length in spans:
        positions.append(pos)
        expected.append(wire)
        if wire:
            positions.append(pos + 1)
            expected.append(length)
    for group in _lookup_groups(spans, table):
        members = [i for i in group if spans[i][1]]  # Pad1 is the one shared record
        names += [f"o{i}" if spans[i][1] else "_pad1" for i in group]
        code = [line for i in members for line in _option_code(i, *spans[i], table, env)]
        if len(members) <= 1:
            lines += [f"    {line}" for line in code]
            continue
        last, _, length = spans[group[-1]]
        octets = f"data[{spans[group[0]][0]}:{last + (2 + length if length >= 0 else 1)}]"
        values = ", ".join(f"o{i}" for i in members)
        lines += [f"    g = get({octets})", "    if g is None:", *(f"        {line}" for line in code),
                  f"        _remember(memo, {octets}, ({values},))", f"    else: {values}, = g"]
    lines += ["    if walk.problems: return None",
              f"    options = [{', '.join(names)}]",
              f"    if len(_regions) >= {REGION_LIMIT}: _regions.clear()",
              "    _regions[region] = options"]
    items = [f"'payload_proto': {data[0]}", f"'header_len': {data[1]}", f"'mh_type': {mh_type}",
             "'mh_type_name': _name", "'reserved': 0", "'checksum': checksum", "'checksum_ok': ok",
             *(f"{key!r}: {expr}" for cond, key, expr in entries if not cond), "'options': options"]
    lines.append(f"fields = {{{', '.join(items)}}}")
    if mh_type in (5, 6):
        with_p, without_p = registry.P_FLAG_NAMES[mh_type]
        lines += [f"if fields['flags'].get('P'): type_, protocol = {with_p!r}, 'pmipv6'",
                  f"else: type_, protocol = {without_p!r}, 'mipv6'"]
    else:
        lines.append(f"type_, protocol = {record_type[0]!r}, {record_type[1]!r}")
    lines += message_lines("protocol", "type_", "'mh'", "_index")
    env["_index"] = options_layout(fields["options"])  # the shape fixes the option keys and their order
    source = ("def decode(carried, data, value, src, dst, memo, walk, hints):\n"
              + "".join(f"    {line}\n" for line in lines))
    exec(generated_code(source, "<message layout>"), env)
    mask = sum(0xFF << 8 * (size - 1 - p) for p in positions)
    # popped: a function in its own globals is a reference cycle, left for the cyclic GC when dropped
    return _Layout(mask, int.from_bytes(data, "big") & mask, env.pop("decode"))


def _learn(data: bytes, table: OptionTable, memo: dict[Any, Any], result: MhResult) -> None:
    """Keep a decoder for the shape of a message the general path decoded without a warning."""
    type_, protocol, fields, walk = result
    mh_type = data[2]
    if walk.problems or mh_type in table.mh_type_names or len(data) % 8 or "options" not in fields:
        return
    body = _BODY_PLANS.get(mh_type)
    if body is None or body.fast is None or body.rest or mh_type == 16:
        return
    shapes = memo.get(_SHAPES)
    if shapes is None:
        shapes = _Shapes(Walk("mh", 0, False, memo), [], {}, {"type": 0, "name": "Pad1", "key": "pad1", "length": 0})
        remember(memo, _SHAPES, shapes)
    key = len(data) << 8 | mh_type
    known = shapes.layouts.get(key, ())
    if len(known) >= LAYOUTS_PER_KEY:
        return
    layout = _make_layout(data, table, mh_type, registry.MH_BODIES[mh_type], (type_, protocol), fields, shapes.pad1,
                          option_regions(memo))
    if layout is not None:
        if len(shapes.layouts) >= MEMO_LIMIT:
            shapes.layouts.clear()
        shapes.layouts[key] = (*known, layout)


def shapeable(transport: str, data: bytes, ip_payload_len: int | None) -> bool:
    """Whether a message may have a shape (:func:`_make_layout`): on IPv6 next header 135, all of
    its IPv6 payload, the fixed header there.  Shapes are learnt and used for these alone."""
    return transport == "mh" and len(data) >= 6 and (ip_payload_len is None or ip_payload_len == len(data))


def shaped_message(carried: Carried, data: bytes, src: str, dst: str, memo: dict[Any, Any]) -> Message | None:
    """The record of a :func:`shapeable` message, made by the generated decoder of its shape (see
    :func:`_make_layout`) when one was learnt in ``memo``'s stream; None when there is none, or when
    the message holds anything it does not expect (a warning, a hint, a wrong checksum):
    :func:`mh_message` then decodes it."""
    shapes = memo.get(_SHAPES)
    if shapes is None:
        return None
    layouts = shapes.layouts.get(len(data) << 8 | data[2])
    if layouts is None:
        return None
    value = int.from_bytes(data, "big")  # the shapes' check, and the checksum's sum
    for layout in layouts:
        if value & layout.mask == layout.expected:
            done = layout.decode(carried, data, value, src, dst, memo, shapes.walk, shapes.hints)
            if done is None:
                shapes.walk.problems.clear()
                shapes.hints.clear()
            return done
    return None


def mh_message(data: bytes, table: OptionTable, transport: str, src: str, dst: str, ip_payload_len: int | None,
               memo: dict[Any, Any] | None) -> tuple[str, str, dict[str, Any], Walk] | None:
    """:func:`decode_mh` with positional arguments, for the decode stream (once per message).

    With a memo, the shape of a message on IPv6 next header 135 that decodes without a warning is
    learnt for :func:`shaped_message`.
    """
    result = _mh_message(data, table, transport, src, dst, ip_payload_len, memo)
    if result is not None and memo is not None and shapeable(transport, data, ip_payload_len):
        _learn(data, table, memo, result)  # a hint always warns here: no dialect hints without a dialect
    return result


def _mh_message(data: bytes, table: OptionTable, transport: str, src: str, dst: str, ip_payload_len: int | None,
                memo: dict[Any, Any] | None) -> tuple[str, str, dict[str, Any], Walk] | None:
    """The general path: every check, every warning."""
    total = len(data)
    if total < 3:
        return None
    walk = Walk("mh", 0, False, memo)
    hints: list[str] = []
    if transport == "mh-old":
        hints.append("carried in IPv6 next header 62, the pre-RFC 3775 Mobility Header number")
    mh_type = data[2]
    type_name = _MH_TYPE_NAMES.get(mh_type) or f"unassigned ({mh_type})"
    if total < 6:
        walk.warn("truncated", f"{total} octets, shorter than the 6-octet Mobility Header", "error")
        fields: dict[str, Any] = {"payload_proto": data[0], "header_len": data[1], "mh_type": mh_type,
                                  "mh_type_name": type_name}
        return (*_record_type(mh_type, fields, table), fields, walk)
    payload_proto, header_len, _, reserved, checksum = _HEADER.unpack_from(data)
    declared = (header_len + 1) * 8
    if reserved:
        walk.warn("reserved-nonzero", f"MH reserved octet is {reserved:#x}", "info")
    nh = _CHECKED.get(transport)
    ok = None
    if nh is not None:
        ok = verify_checksum(data[:declared] if declared <= total else data, src, dst, nh,
                             min(ip_payload_len, declared) if ip_payload_len is not None else declared)
        if ok is False:
            walk.warn("checksum", f"Mobility Header checksum {checksum:#06x} is wrong")
    fields = {"payload_proto": payload_proto, "header_len": header_len, "mh_type": mh_type,
              "mh_type_name": type_name, "reserved": reserved, "checksum": checksum, "checksum_ok": ok}
    if payload_proto != _NO_NEXT_HEADER:
        walk.warn("payload-proto", f"Payload Proto is {payload_proto}, should be {_NO_NEXT_HEADER} (no next header)")
    if declared > total:
        walk.warn("truncated", f"Header Len says {declared} octets, only {total} present", "error")
        end = total
    else:
        end = declared
        if declared < total:
            walk.warn("header-len", f"Header Len says {declared} octets but {total} follow; the rest is ignored")
    if total % 8:
        walk.warn("length-not-multiple-of-8", f"Mobility Header is {total} octets, not a multiple of 8")

    dialect_type = mh_type in table.mh_type_names
    if mh_type == 16:
        plan = _BR_PLANS.get(data[6]) if end > 6 else None
    else:
        plan = None if dialect_type else _BODY_PLANS.get(mh_type)
        if plan is None and mh_type not in registry.MH_TYPES and not dialect_type:
            walk.warn("unknown-type", f"MH type {mh_type} is not assigned; message data kept raw")
    if plan is None:
        if mh_type == 16 and end > 6:
            walk.warn("unknown-br-type", f"Binding Revocation type {data[6]} is not BRI (1) or BRA (2)")
        fields["data"] = data[6:end].hex()
    else:
        if plan.fast is not None and not plan.rest and 6 + plan.fast_size <= end:
            pos = plan.fast(data, 6, fields, walk)  # every MH body with a layout is fixed-size
        else:
            pos = plan.run(data, 6, end, fields, walk)  # equal flag words share a dict through walk.memo
        if pos >= 0:
            fields["options"] = walk_options(table, data, pos, end, walk, hints, memo)
        else:
            fields["options"] = []
    if hints and not table.dialect:
        walk.warn("pre-rfc-dialect",
                  "looks like a pre-RFC 5213 implementation: " + "; ".join(hints)
                  + ('; try [codepoints] dialect = "pmip6d-2010" or option_type_map'
                     if any("pmip6d" in h for h in hints) else ""))
    return (*_record_type(mh_type, fields, table), fields, walk)


__all__ = ["OptionTable", "decode_mh", "ipv6_text", "mh_checksum", "option_table", "verify_checksum", "walk_options"]
