"""SCTP (RFC 9260): common header, chunk walk, DATA user-message reassembly, CRC32c.

Only what finding CXTP needs: every chunk is stepped over by its own length (padded to 4);
DATA chunks are collected into user messages (B/E fragments joined by TSN, per association
and stream, per SSN when ordered); everything else (INIT, SACK, HEARTBEAT, ...) is skipped.
Reassembly is bounded: a message may grow to ``max_message`` octets and at most
``max_pending`` messages wait for their missing fragments; the oldest is abandoned with a
``sctp.reassembly-abandoned`` notice when a bound is hit.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import google_crc32c

from .. import registry
from ..notices import Notice, Severity

SCTP_COMMON_HEADER_LEN = 12
SCTP_CHUNK_HEADER_LEN = 4
SCTP_DATA = 0
SCTP_DATA_HEADER_LEN = 16  # type, flags, length, TSN, stream id, SSN, PPI
MAX_MESSAGE = 64 * 1024
MAX_PENDING = 1000
MAX_ASSOCIATIONS = 4096  # association keys shared before the table starts afresh
_RECENT_TSNS = 4096  # delivered (association, TSN) pairs remembered to mark retransmissions
_TSN_MASK = 0xFFFFFFFF

_U, _B, _E = registry.SCTP_DATA_U, registry.SCTP_DATA_B, registry.SCTP_DATA_E
_CXTP_TYPES = frozenset(registry.CXTP_BODIES)
_DATA_HDR = struct.Struct(">BBHIHHI")
_COMMON_HDR = struct.Struct(">HHI")  # source port, destination port, verification tag (then the checksum)
#: The common header and the DATA chunk header right after it: a packet of one DATA chunk.
_WHOLE_HDR = struct.Struct(">HHIIBBHIHHI").unpack_from
_BE = _B | _E
_NONE: tuple[tuple, tuple] = ((), ())  # no message, no notice


def crc32c(data: bytes) -> int:
    """CRC32c (Castagnoli) as SCTP uses it (RFC 9260 Appendix A), computed in C by google-crc32c."""
    return google_crc32c.value(data)


def checksum_ok(segment: bytes) -> bool:
    """Whether an SCTP packet's checksum field holds the CRC32c of the packet (RFC 9260 App. A)."""
    if len(segment) < SCTP_COMMON_HEADER_LEN:
        return False
    crc = google_crc32c.value(segment[:8] + b"\0\0\0\0" + segment[12:])  # crc32c(), one call less a packet
    return segment[8:12] == crc.to_bytes(4, "little")


def cxtp_header_ok(message: bytes) -> bool:
    """The CXTP header check: version 1, type 1-7, Length = message length (with or without header).

    Both Length conventions pass here; the decoder warns about the one the profile does not expect.
    """
    if len(message) < registry.CXTP_HEADER_LEN:
        return False
    octet0 = message[0]
    if octet0 >> 5 != registry.CXTP_VERSION or (octet0 & 0x1F) not in _CXTP_TYPES:
        return False
    length = (message[2] << 8) | message[3]
    return length == len(message) or length == len(message) - registry.CXTP_HEADER_LEN


def _cxtp_start_ok(first: bytes) -> bool:
    """The part of the header check a first fragment can already fail."""
    return bool(first) and first[0] >> 5 == registry.CXTP_VERSION and (first[0] & 0x1F) in _CXTP_TYPES


@dataclass(slots=True)
class UserMessage:
    """One reassembled SCTP user message that is (or may be) CXTP.

    Not frozen: the extractor reads it once and lets go, and a frozen dataclass's ``__init__``
    (``object.__setattr__`` per field) cost more than the rest of a DATA chunk's handling.
    """

    data: bytes
    frames: tuple[int, ...]
    sport: int
    dport: int
    vtag: int
    ppi: int
    stream: int
    ssn: int
    tsn: int  # TSN of the first fragment
    unordered: bool
    chunk_flags: int  # flags of the last fragment's chunk
    retransmission: bool = False


#: What :meth:`SctpAssembler.one_chunk` gives for a whole message: its payload, then the
#: UserMessage fields from ``sport`` on (no frames: the packet's own frame alone).
WholeMessage = tuple[bytes, int, int, int, int, int, int, int, bool, int, bool]


@dataclass(slots=True)
class _Pending:
    fragments: dict[int, tuple[int, bytes, int]]  # TSN -> (flags, data, frame)
    size: int
    has_begin: bool
    ppi: int
    file: str


class SctpAssembler:
    """Chunk walk and reassembly for every association in one capture file's stream."""

    def __init__(
        self,
        ppis: frozenset[int] = frozenset(),
        ports: frozenset[int] = frozenset(),
        header_check: bool = True,
        max_message: int = MAX_MESSAGE,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.ppis, self.ports, self.header_check = ppis, ports, header_check
        self.max_message, self.max_pending = max_message, max_pending
        self._pending: dict[tuple, _Pending] = {}
        self._ignored: dict[tuple, int] = {}  # fragments of messages whose first fragment failed the check
        self._delivered: set[tuple] = set()
        self._delivered_order: deque[tuple] = deque()
        #: One key per association: its port and tag ints are then shared by every message's
        #: SctpInfo (kept with each decoded record) instead of new ones from every packet.
        self._assocs: dict[tuple, tuple] = {}

    def packet(
        self, file: str, frame: int, addresses: tuple[bytes, bytes], segment: bytes
    ) -> tuple[Sequence[UserMessage], Sequence[Notice]]:
        """Walk one SCTP packet (from its common header); return completed CXTP messages and notices."""
        one = self.one_chunk(addresses, segment)
        if one is not None:
            if not one:
                return _NONE
            payload, sport, dport, vtag, ppi, stream, ssn, tsn, unordered, flags, retrans = one
            return (UserMessage(payload, (frame,), sport, dport, vtag, ppi, stream, ssn, tsn, unordered, flags,
                                retrans),), ()
        n = len(segment)
        out: list[UserMessage] = []
        notices: list[Notice] = []
        if n < SCTP_COMMON_HEADER_LEN:
            notices.append(Notice("sctp.truncated-chunk", "SCTP common header cut short",
                                  file=file, frame=frame))
            return out, notices
        sport, dport, vtag = _COMMON_HDR.unpack_from(segment)
        by_port = sport in self.ports or dport in self.ports
        assoc = self._assoc(addresses, sport, dport, vtag)
        p = SCTP_COMMON_HEADER_LEN
        while p + SCTP_CHUNK_HEADER_LEN <= n:
            ctype, flags, clen = segment[p], segment[p + 1], (segment[p + 2] << 8) | segment[p + 3]
            if clen < SCTP_CHUNK_HEADER_LEN or p + clen > n:
                notices.append(Notice(
                    "sctp.truncated-chunk",
                    f"SCTP chunk type {ctype} at offset {p} claims {clen} octets, {n - p} remain",
                    file=file, frame=frame, offset=p))
                break
            if ctype == SCTP_DATA:
                if clen < SCTP_DATA_HEADER_LEN:
                    notices.append(Notice("sctp.truncated-chunk", f"DATA chunk of {clen} octets at offset {p}",
                                          file=file, frame=frame, offset=p))
                else:
                    _t, _f, _l, tsn, stream, ssn, ppi = _DATA_HDR.unpack_from(segment, p)
                    payload = segment[p + SCTP_DATA_HEADER_LEN : p + clen]
                    message = self._data(file, frame, assoc, flags, tsn, stream, ssn, ppi, payload,
                                         by_port, notices)
                    if message is not None:
                        out.append(message)
            p += (clen + 3) & ~3
        return out, notices

    def one_chunk(self, addresses: tuple[bytes, bytes], segment: bytes) -> WholeMessage | tuple[()] | None:
        """A packet of one chunk, the commonest kind, without the chunk walk of :meth:`packet`.

        A whole user message in one DATA chunk that passes the CXTP check: its fields (noted as
        delivered, as :meth:`packet` does); a SACK or other chunk, or a message that fails the
        check: ``()``; None for any other packet (several chunks, a fragment, anything cut short):
        :meth:`packet` walks it.  The extractor builds a whole message's record from the fields
        directly: no UserMessage, no lists.
        """
        n = len(segment)
        if n < SCTP_COMMON_HEADER_LEN + SCTP_CHUNK_HEADER_LEN:
            return None
        clen = (segment[14] << 8) | segment[15]
        if (clen < SCTP_CHUNK_HEADER_LEN or SCTP_COMMON_HEADER_LEN + clen > n
                or SCTP_COMMON_HEADER_LEN + ((clen + 3) & ~3) + SCTP_CHUNK_HEADER_LEN <= n):
            return None
        if segment[12] != SCTP_DATA:
            return ()
        if segment[13] & _BE != _BE or clen < SCTP_DATA_HEADER_LEN:
            return None
        sport, dport, vtag, _crc, _t, flags, _l, tsn, stream, ssn, ppi = _WHOLE_HDR(segment)
        payload = segment[SCTP_COMMON_HEADER_LEN + SCTP_DATA_HEADER_LEN : SCTP_COMMON_HEADER_LEN + clen]
        if not (sport in self.ports or dport in self.ports or ppi in self.ppis
                or (self.header_check and cxtp_header_ok(payload))):
            return ()
        assoc = self._assoc(addresses, sport, dport, vtag)
        # the association's own port and tag ints: every message of it shares them
        return (payload, assoc[2], assoc[3], assoc[4], ppi, stream, ssn, tsn, bool(flags & _U), flags,
                self._mark_delivered(assoc, tsn))

    def _assoc(self, addresses: tuple[bytes, bytes], sport: int, dport: int, vtag: int) -> tuple:
        """The association's one shared key (see ``_assocs``)."""
        assoc = (addresses[0], addresses[1], sport, dport, vtag)
        shared = self._assocs.get(assoc)
        if shared is None:
            if len(self._assocs) >= MAX_ASSOCIATIONS:
                self._assocs.clear()
            shared = self._assocs[assoc] = assoc
        return shared

    def _wanted(self, ppi: int, by_port: bool, first: bytes) -> bool:
        return by_port or ppi in self.ppis or (self.header_check and _cxtp_start_ok(first))

    def _data(self, file: str, frame: int, assoc: tuple, flags: int, tsn: int, stream: int, ssn: int,
              ppi: int, payload: bytes, by_port: bool, notices: list[Notice]) -> UserMessage | None:
        unordered = bool(flags & _U)
        sport, dport, vtag = assoc[2], assoc[3], assoc[4]
        if flags & _B and flags & _E:  # a whole message in one chunk: the common case
            if not (by_port or ppi in self.ppis or (self.header_check and cxtp_header_ok(payload))):
                return None
            retrans = self._mark_delivered(assoc, tsn)
            return UserMessage(payload, (frame,), sport, dport, vtag, ppi, stream, ssn, tsn, unordered,
                               flags, retrans)
        key = (assoc, stream, unordered, -1 if unordered else ssn)
        if flags & _B:
            if not self._wanted(ppi, by_port, payload):
                self._ignore(key, tsn)
                return None
        elif self._ignored_fragment(key, tsn, flags):
            return None
        pending = self._pending.get(key)
        if pending is None:
            self._make_room(notices)
            pending = self._pending[key] = _Pending({}, 0, False, ppi, file)
        if tsn not in pending.fragments:
            pending.size += len(payload)
        pending.fragments[tsn] = (flags, payload, frame)
        pending.has_begin = pending.has_begin or bool(flags & _B)
        if flags & _B:
            pending.ppi = ppi
        if pending.size > self.max_message:
            del self._pending[key]
            notices.append(self._abandoned(key, pending, f"grew beyond {self.max_message} octets",
                                           "warning", frame))
            return None
        return self._assemble(key, pending, tsn, by_port)

    def _assemble(self, key: tuple, pending: _Pending, tsn: int, by_port: bool) -> UserMessage | None:
        frags = pending.fragments
        start = tsn
        while not frags[start][0] & _B:
            start = (start - 1) & _TSN_MASK
            if start not in frags or start == tsn:
                return None
        end = start
        while not frags[end][0] & _E:
            end = (end + 1) & _TSN_MASK
            if end not in frags or end == start:
                return None
        tsns = []
        t = start
        while True:
            tsns.append(t)
            if t == end:
                break
            t = (t + 1) & _TSN_MASK
        data = b"".join(frags[t][1] for t in tsns)
        frames = tuple(dict.fromkeys(frags[t][2] for t in tsns))
        flags = frags[end][0]
        for t in tsns:
            del frags[t]
        if frags:
            pending.size = sum(len(f[1]) for f in frags.values())
            pending.has_begin = any(f[0] & _B for f in frags.values())
        else:
            del self._pending[key]
        assoc, stream, unordered, ssn = key
        if not (by_port or pending.ppi in self.ppis or (self.header_check and cxtp_header_ok(data))):
            return None
        retrans = self._mark_delivered(assoc, tsns[0])
        return UserMessage(data, frames, assoc[2], assoc[3], assoc[4], pending.ppi, stream,
                           max(ssn, 0), start, unordered, flags, retrans)

    def _ignore(self, key: tuple, tsn: int) -> None:
        if len(self._ignored) >= self.max_pending:
            del self._ignored[next(iter(self._ignored))]
        self._ignored[key] = (tsn + 1) & _TSN_MASK

    def _ignored_fragment(self, key: tuple, tsn: int, flags: int) -> bool:
        expected = self._ignored.get(key)
        if expected is None or (key[2] and expected != tsn):  # unordered: follow the TSN run
            return False
        if flags & _E:
            del self._ignored[key]
        else:
            self._ignored[key] = (tsn + 1) & _TSN_MASK
        return True

    def _mark_delivered(self, assoc: tuple, tsn: int) -> bool:
        """Whether a message starting at ``tsn`` was delivered among the last ``_RECENT_TSNS`` (else note it).

        A set and a queue of insertion order: deleting the oldest key of a dict and finding the
        next one with ``next(iter(...))`` steps over every slot deleted before it (~7 us a call).
        """
        key = (assoc, tsn)  # a tuple's hash is not kept: adding and seeing whether the set grew hashes it once
        delivered = self._delivered
        known = len(delivered)
        delivered.add(key)
        if len(delivered) == known:
            return True
        order = self._delivered_order
        order.append(key)
        if len(order) > _RECENT_TSNS:  # the oldest goes (never the key just added: that one is new)
            delivered.discard(order.popleft())
        return False

    def _make_room(self, notices: list[Notice]) -> None:
        while len(self._pending) >= self.max_pending:
            key = next(iter(self._pending))
            pending = self._pending.pop(key)
            notices.append(self._abandoned(key, pending, f"more than {self.max_pending} messages pending",
                                           "warning" if pending.has_begin else "info"))

    def _abandoned(self, key: tuple, pending: _Pending, why: str, severity: Severity,
                   frame: int | None = None) -> Notice:
        frames = sorted({f[2] for f in pending.fragments.values()})
        assoc, stream, unordered, ssn = key
        what = f"stream {stream} " + ("unordered" if unordered else f"SSN {ssn}")
        return Notice(
            "sctp.reassembly-abandoned",
            f"SCTP user message ({what}, ports {assoc[2]}->{assoc[3]}, {len(pending.fragments)} fragment(s) "
            f"in frames {', '.join(map(str, frames[:8]))}{'...' if len(frames) > 8 else ''}) abandoned: {why}",
            file=pending.file, frame=frame if frame is not None else (frames[0] if frames else None),
            severity=severity,
        )

    def flush(self) -> list[Notice]:
        """Notices for every message still incomplete (call at the end of a file)."""
        notices = [
            self._abandoned(key, pending, "never completed in this file",
                            "warning" if pending.has_begin else "info")
            for key, pending in self._pending.items()
        ]
        self._pending.clear()
        self._ignored.clear()
        return notices
