"""The fast decoder: ``Carried`` payloads -> :class:`Message` records, driven by the registry.

Public API::

    decode_carried(carried, profile=DEFAULT_PROFILE, memo=None) -> Message | Notice
    decode_stream(items, profile=DEFAULT_PROFILE) -> Iterator[Message | Notice | Tunnelled | Carried]

``decode_carried`` returns a :class:`Message` whenever the message type can be told (problems
found on the way are its ``warnings``), or a single :class:`Notice` saying why no record could
be made (fewer than 3 octets of mobility header, a CXTP header of no known type).  Neither
raises on any input.  ``decode_stream`` maps it over the capture stage's output (access-side
``nd`` Router Solicitations/Advertisements become ``protocol="nd"`` records via :mod:`.nd`) and
passes Notices, Tunnelled records and Carried payloads of any other transport through
unchanged, so the pipeline is ``decode_stream(capture.iter_carried(paths, profile), profile)``.

The MH checksum uses ``info["checksum_src"]`` / ``info["checksum_dst"]`` when the capture stage
found a Home Address option or a type 2 routing header (RFC 6275 section 6.1.1).

No scapy here: layouts from :mod:`pmipct_check.registry` are compiled once into plans
(:mod:`.fields`) and run over the bytes.

Record conventions: ``fields`` holds every field by its registry name; table-backed values get a
``<name>_name`` sibling; flag words are ``{"A": true, ...}`` plus ``"reserved"`` when spare bits
are set; ``lifetime`` is in seconds.  MH records add ``payload_proto``, ``header_len``,
``mh_type``, ``checksum``, ``checksum_ok`` (None where it cannot be checked: mh-udp, IPv4, a
capture cut short) and ``options`` (dicts with ``type``, ``name``, ``key``, ``length``, the
option's fields; ``wire_type``/``dialect`` when remapped; Pad1 has ``length`` 0; an unknown
option keeps ``data`` hex; an overrunning one has key ``truncated``).  An MH type without a
registry layout keeps its message data as ``data``; an unassigned one is typed ``MH-<n>``.

Warning codes (``Notice.code``) -- mh.*: truncated (error), field-short, header-len,
length-not-multiple-of-8, payload-proto, checksum, reserved-nonzero (info), unknown-type,
unknown-br-type, option-overrun, option-length, option-align (info), unknown-option (info),
tlv-overrun, bad-text, ident-size, pre-rfc-dialect.  cxtp.*: version, reserved-nonzero, length,
length-excludes-header, length-includes-header, field-short, trailing, address-size,
cdb-length, cdb-overrun, status-overrun, key-overrun; ``cxtp.unknown-type`` and
``mh.truncated`` are also the Notices returned instead of a record.  decode.unknown-transport,
decode.internal-error (a decoder bug, reported at its frame instead of ending the run).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..capture.model import Carried, Tunnelled
from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .cxtp import decode_cxtp, shaped_cxtp
from .fields import Walk
from .mh import OptionTable, mh_message, option_table, shapeable, shaped_message
from .model import Message, epoch_text
from .nd import decode_nd

_MH_TRANSPORTS = frozenset({"mh", "mh-old", "mh-udp"})
_CXTP_TRANSPORTS = frozenset({"sctp", "udp", "icmpv6", "icmpv4"})
#: Carried transports this stage turns into Messages; others pass through decode_stream.
DECODED_TRANSPORTS = _MH_TRANSPORTS | _CXTP_TRANSPORTS | {"nd"}


def _notices(walk: Walk, carried: Carried) -> tuple[Notice, ...]:
    if not walk.problems:
        return ()
    return tuple(
        Notice(code, message, carried.file, carried.frame, None, severity)  # type: ignore[arg-type]
        for code, message, severity in walk.problems
    )


def _message(carried: Carried, protocol: str, type_: str, fields: dict, walk: Walk) -> Message:
    # All positional, in Message's field order (observations (), option_index None, info): this
    # runs once per message, and a keyword argument costs a dict per call.  The carrier info is
    # the capture stage's, which shares equal ones (Extractor._shared_info).
    frames = carried.frames
    if len(frames) == 1 and frames[0] == carried.frame:  # its own frame alone: no tuple kept per message
        frames = ()
    return Message(carried.file, carried.frame, carried.time_ns, carried.src, carried.dst,
                   protocol, type_, fields, carried.transport, frames,  # type: ignore[arg-type]
                   _notices(walk, carried) if walk.problems else (), (), None, carried.info)


def decode_carried(carried: Carried, profile: Profile = DEFAULT_PROFILE, memo: dict | None = None) -> Message | Notice:
    """One signalling payload -> its record, or a Notice when not even its type can be known.

    ``memo``: one dict kept by the caller across a run of records of one profile lets equal
    options and flag words share one (read-only) object, as in :func:`decode_stream`.
    """
    return _decode(carried, profile, option_table(profile), memo)


def _decode(carried: Carried, profile: Profile, table: OptionTable, memo: dict | None) -> Message | Notice:
    data = carried.data
    try:
        if carried.transport == "mh" and memo is not None:
            # Most messages: a whole MH right after a plain IPv6 header (its info has the payload
            # length and no checksum addresses) of a shape decoded before; the general path's
            # checks below, in the order that settles this case soonest.
            info = carried.info
            if (info.get("ip_payload_len") == len(data) and len(data) >= 6
                    and "checksum_src" not in info and "checksum_dst" not in info):
                message = shaped_message(carried, data, carried.src, carried.dst, memo)
                if message is not None:
                    return message
        if carried.transport in _MH_TRANSPORTS:
            info = carried.info
            payload_len = info.get("ip_payload_len")
            payload_len = payload_len if isinstance(payload_len, int) else None
            src, dst = carried.src, carried.dst
            if "checksum_src" in info or "checksum_dst" in info:  # a Home Address option / type 2 routing header
                src, dst = info.get("checksum_src", src), info.get("checksum_dst", dst)
                src, dst = src if isinstance(src, str) else carried.src, dst if isinstance(dst, str) else carried.dst
            if memo is not None and shapeable(carried.transport, data, payload_len):
                message = shaped_message(carried, data, src, dst, memo)  # most messages: a shape seen before
                if message is not None:
                    return message
            result = mh_message(data, table, carried.transport, src, dst, payload_len, memo)
            if result is None:
                return Notice("mh.truncated", f"{len(data)} octets: too short for a Mobility Header",
                              carried.file, carried.frame, None, "error")
            type_, protocol, fields, walk = result
            frames = carried.frames  # as _message, inline: this is most messages
            if len(frames) == 1 and frames[0] == carried.frame:
                frames = ()
            return Message(carried.file, carried.frame, carried.time_ns, carried.src, carried.dst,
                           protocol, type_, fields, carried.transport, frames,  # type: ignore[arg-type]
                           _notices(walk, carried) if walk.problems else (), (), None, carried.info)
        if carried.transport in _CXTP_TRANSPORTS:
            includes = profile.cxtp_length_includes_header
            if memo is not None:
                message = shaped_cxtp(carried, data, includes, memo)  # most messages: a shape seen before
                if message is not None:
                    return message
            cx = decode_cxtp(data, length_includes_header=includes, memo=memo)
            if cx is None:
                what = f"type {data[0] & 0x1F}" if data else "no octets"
                return Notice("cxtp.unknown-type", f"not a CXTP message of a known type ({what}, {len(data)} octets)",
                              carried.file, carried.frame, None, "warning")
            type_, fields, walk = cx
            return _message(carried, "cxtp", type_, fields, walk)
        if carried.transport == "nd":
            nd = decode_nd(data)
            if nd is None:
                return Notice("nd.unknown-type", f"not a Router Solicitation or Advertisement ({len(data)} octets)",
                              carried.file, carried.frame, None, "warning")
            type_, fields, problems = nd
            walk = Walk("nd")
            walk.problems.extend(problems)
            return _message(carried, "nd", type_, fields, walk)
        return Notice("decode.unknown-transport", f"no decoder for transport {carried.transport!r}",
                      carried.file, carried.frame, None, "warning")
    except Exception as exc:  # a decoder bug must not end the run: report it where it happened
        return Notice("decode.internal-error", f"decoder failed: {type(exc).__name__}: {exc}",
                      carried.file, carried.frame, None, "error")


def decode_stream(
    items: Iterable[Carried | Tunnelled | Notice], profile: Profile = DEFAULT_PROFILE
) -> Iterator[Message | Notice | Tunnelled | Carried]:
    """Decode every signalling Carried; everything else passes through in order.

    Equal options, option lists, flag words and CXTP status/CDB lists share one object across
    the stream's records (a bounded memo): a signalling capture repeats them in every message of
    an MN, and a PBA echoes its PBU's options.  (Equal carrier infos are shared where they are
    made, by the capture stage.)
    """
    table = option_table(profile)
    memo: dict = {}
    for item in items:
        if isinstance(item, Carried) and item.transport in DECODED_TRANSPORTS:
            yield _decode(item, profile, table, memo)
        else:
            yield item


__all__ = ["DECODED_TRANSPORTS", "Message", "decode_carried", "decode_stream", "epoch_text"]
