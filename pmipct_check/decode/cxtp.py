"""CXTP messages (RFC 4067 section 2), decoded from the registry's ``CXTP_BODIES`` layouts.

The 4-octet header (version 3 bits, type 5 bits, V/A/S flags, Length) is read here; the body
is one registry layout whose address fields take their size from the V flag.  Where the Length
field and the octets present disagree, the message is decoded from what is present, with a
warning; a Length equal to the size without the header decodes with
``cxtp.length-excludes-header`` (protocol-notes (g)), unless the profile says Length excludes it.

In a decode stream, a message that decodes without a warning teaches its shape (header octets
and size) and later messages of that shape take a decoder generated for it (:func:`shaped_cxtp`,
as :mod:`.mh` does for Mobility Headers); anything unexpected sends them back to the general path.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .. import registry
from ..capture.model import Carried
from ..registry import Field
from .fields import Plan, Walk, compile_layout, generated_code, inline_fields, message_lines, remember
from .model import Message


@dataclass(frozen=True, slots=True)
class _Type:
    """What one CXTP type code decodes with, worked out once from the registry."""

    plan: Plan  # addresses of 16 octets (V clear)
    plan_v4: Plan  # addresses of 4 octets (V set)
    body: tuple[Field, ...]  # the layout of ``plan`` (addresses of 16 octets)
    body_v4: tuple[Field, ...]  # the layout of ``plan_v4``
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


def _type(code: int, body: tuple[Field, ...]) -> _Type:
    v6, v4 = _sized(body, "ipv6", 16), _sized(body, "ipv4", 4)
    bits = tuple(registry.CXTP_FLAGS[code])
    return _Type(compile_layout(v6), compile_layout(v4), v6, v4, registry.TABLES["cxtp_type"][code], bits,
                 _spare(bits), code in registry.CXTP_REQUEST_TYPES)


_TYPES = {t: _type(t, body) for t, body in registry.CXTP_BODIES.items()}


def decode_cxtp(data: bytes, *, length_includes_header: bool = True,
                memo: dict[Any, Any] | None = None) -> tuple[str, dict[str, Any], Walk] | None:
    """``(record type, fields, walk)``, or None when the octets hold no CXTP message of a known type.

    ``memo``: the decode stream's (see :func:`.fields.remember`); equal flag octets share one dict,
    and the shape of a message decoded without a warning is learnt for :func:`shaped_cxtp`.
    """
    result = _decode_cxtp(data, length_includes_header, memo)
    if result is not None and memo is not None and not result[2].problems:
        _learn(data, length_includes_header, result[1], memo)
    return result


def _decode_cxtp(data: bytes, length_includes_header: bool,
                 memo: dict[Any, Any] | None) -> tuple[str, dict[str, Any], Walk] | None:
    """The general path: every check, every warning."""
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


# --------------------------------------------------------------------------------------------
# Shapes: one generated decoder per header and size seen before (as decode.mh's layouts)
# --------------------------------------------------------------------------------------------

#: A generated shape decoder: (carried, data) -> the Message, or None when the message warns
#: (the general path then decodes it again, with its own Walk).
ShapeDecoder = Callable[[Carried, bytes], "Message | None"]

#: memo keys of a stream's _Shapes, by the profile's Length rule (Length excludes, includes the header)
_SHAPES = ("cxtp-shapes-length-excludes-header", "cxtp-shapes")
#: Shapes a stream keeps before it starts afresh (a capture has a handful: type, flags, size).
SHAPE_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class _Shapes:
    """A stream's shape decoders by :func:`_shape_key`, and the warning-free Walks (not a request,
    a request: a request's CDBs decode differently) that the messages they decode share (each
    decoder has its type's as the default of its ``walk`` argument)."""

    walks: tuple[Walk, Walk]
    decoders: dict[int, ShapeDecoder]


def _shape_key(data: bytes) -> int:
    """The 4 header octets (version, type, flags, Length) and the size: with the profile, they fix
    every header warning and where each body field sits.  (The size above the header: a message
    may be longer than a 16-bit Length can say.)"""
    return len(data) << 32 | int.from_bytes(data[:4], "big")


def _shapes(memo: dict[Any, Any], includes: bool) -> _Shapes:
    key = _SHAPES[includes]
    shapes = memo.get(key)
    if shapes is None:
        shapes = _Shapes((Walk("cxtp", 0, False, memo), Walk("cxtp", 0, True, memo)), {})
        remember(memo, key, shapes)
    return shapes  # type: ignore[no-any-return]


def shaped_cxtp(carried: Carried, data: bytes, length_includes_header: bool, memo: dict[Any, Any]) -> Message | None:
    """The record of a CXTP message made by the generated decoder of its shape (see :func:`_make_shape`)
    when ``memo``'s stream learnt one; None when there is none or the message warns: then
    :func:`decode_cxtp` decodes it."""
    shapes = memo.get(_SHAPES[length_includes_header])
    if shapes is None or len(data) < registry.CXTP_HEADER_LEN:
        return None
    decode = shapes.decoders.get(len(data) << 32 | int.from_bytes(data[:4], "big"))  # _shape_key, inline
    if decode is None:
        return None
    message = decode(carried, data)
    if message is None:
        for walk in shapes.walks:
            walk.problems.clear()
    return message


def _learn(data: bytes, includes: bool, fields: dict[str, Any], memo: dict[Any, Any]) -> None:
    """Keep a decoder for the shape of a message the general path decoded without a warning."""
    shapes = _shapes(memo, includes)
    key = _shape_key(data)
    if key in shapes.decoders:
        return
    decode = _make_shape(data, fields, shapes.walks[data[0] & 0x1F in registry.CXTP_REQUEST_TYPES])
    if decode is not None:
        if len(shapes.decoders) >= SHAPE_LIMIT:
            shapes.decoders.clear()
        shapes.decoders[key] = decode


def _make_shape(data: bytes, fields: dict[str, Any], walk: Walk) -> ShapeDecoder | None:
    """The generated decoder for messages shaped like ``data`` (decoded warning-free into ``fields``).

    Given the shape (:func:`_shape_key`), the header's values are constants and the body's
    fixed-size fields sit at known offsets: one ``struct`` call unpacks them, the record is one
    dict display in the general path's key order (header, then the layout's fields), and the
    variable fields that follow (a key, the CDBs or status entries) run the plan's own steps, which
    share equal lists through the memo as before, unless :func:`_tail_code` knows their list.  Any
    warning sends the message to the general path.
    """
    kind = _TYPES[data[0] & 0x1F]
    body, plan = (kind.body_v4, kind.plan_v4) if fields["flags"]["V"] else (kind.body, kind.plan)
    count = len(body) - len(plan.rest) if plan.fast is not None else 0
    size = len(data)
    if plan.fast is None or 4 + plan.fast_size > size or (not plan.greedy and not plan.rest and 4 + plan.fast_size != size):
        return None
    env: dict[str, Any] = {"_flags": fields["flags"], "_Message": Message, "_walk": walk}
    fmt, body_lines, entries = inline_fields(body[:count], env)
    env["_unpack"] = struct.Struct("!4x" + fmt).unpack_from
    names = "".join(f"v{i}, " for i in range(count))
    items = [f"'version': {fields['version']}", f"'type_code': {fields['type_code']}", "'flags': _flags",
             f"'length': {fields['length']}", *(f"{key!r}: {expr}" for cond, key, expr in entries if not cond)]
    lines = [f"{names}= _unpack(data)" if count else "", *body_lines,
             *(f"if {cond}: return None" for cond, _, _ in entries if cond),  # a key of its own: general path
             *(["if walk.problems: return None"] if any("walk.warn" in line for line in body_lines) else []),
             f"fields = {{{', '.join(items)}}}"]
    pos = f"{4 + plan.fast_size}"
    tail = plan.rest[-1] if plan.rest and body[-1].kind in ("cdbs", "statuses") else None
    for i, step in enumerate(plan.rest):  # the key, then the CDBs or status entries: to the end
        env[f"R{i}"] = step
        call = [f"pos = R{i}(data, {pos}, {size}, fields, walk)", "if pos < 0 or walk.problems: return None"]
        if step is tail:
            call = [*_tail_code(data, body[-1].name, fields[body[-1].name], pos == "pos", env),
                    *(f"    {line}" for line in call)]
        lines += call
        pos = "pos"
    if plan.rest and not plan.greedy:
        lines.append(f"if pos != {size}: return None")  # trailing octets (the general path warns)
    lines += message_lines("'cxtp'", repr(kind.name), "carried.transport", "None")
    source = "def decode(carried, data, walk=_walk):\n" + "".join(f"    {line}\n" for line in lines if line)
    exec(generated_code(source, "<cxtp shape>"), env)
    return env.pop("decode")  # type: ignore[no-any-return]


def _item_size(name: str, item: dict[str, Any]) -> int:
    """Octets of one warning-free status entry or CDB (Length 0: a request's 4-octet CDB header)."""
    return 4 if name == "statuses" or not item["length"] else 8 * item["length"]


def _tail_code(data: bytes, name: str, items: list[dict[str, Any]], after_key: bool, env: dict[str, Any]) -> list[str]:
    """Lines that set ``fields[name]``, the CDBs or status entries that end the message, without
    the plan's step where the learnt message ``data`` (which decoded into ``items``) tells what
    they are, then an ``else:`` whose block (the caller's) runs the step.  ``after_key``: they
    start at ``pos``, after a key of the Length its message says.

    Octets equal to the learnt message's are its very list (CT-Req's request CDBs, CTDR's status
    entries: a few values in a whole capture).  CDBs that carry context data are instead rebuilt
    from the learnt CDB headers (FPT, Length, P), their presence vectors and data read where the
    headers put them: that data differs in every CTD and PCTD (6,130 distinct of 6,130 on the
    100k bench), so the memo lookup and entry the step makes for them would share nothing.
    """
    at = len(data) - sum(_item_size(name, item) for item in items)
    same = f"pos == {at} and " if after_key else ""
    if name == "statuses" or not any(item["data"] or "presence_vector" in item for item in items):
        env["_TAIL"], env["_TAIL_ITEMS"] = data[at:], items
        return [f"if {same}data[{at}:] == _TAIL: fields[{name!r}] = _TAIL_ITEMS", "else:"]
    guards, displays, here = [], [], at
    for item in items:
        guards.append(f"data[{here}:{here + 4}] == {data[here:here + 4]!r}")
        values = [f"'fpt': {item['fpt']}", f"'fpt_name': {item['fpt_name']!r}", f"'length': {item['length']}",
                  f"'p': {item['p']}"]
        body, end = here + 4, here + _item_size(name, item)
        if "presence_vector" in item:
            values.append(f"'presence_vector': _from(data[{body}:{body + 4}], 'big')")
            body += 4
        values.append(f"'data': data[{body}:{end}].hex()" if body < end else "'data': ''")
        displays.append("{" + ", ".join(values) + "}")
        here = end
    env["_from"] = int.from_bytes
    return [f"if {same}{' and '.join(guards)}: fields['cdbs'] = [{', '.join(displays)}]", "else:"]
