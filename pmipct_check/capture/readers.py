"""Streaming capture readers: pcap (us/ns, both byte orders, Kuznetsov), pcapng, either gzipped.

A reader holds one record at a time, so memory does not grow with the capture.  Nothing here
raises on bad input: a missing, empty, foreign or corrupt file becomes a :class:`Notice`
naming the file and the byte offset, and after a corrupt record the reader stops cleanly,
keeping every packet it already yielded.  A notice is an ``error`` exactly when the file gave
no frame before it (the file is unusable: callers exit 2), a ``warning`` otherwise.  Frames are numbered from 1 as Wireshark counts them
(every packet block of a pcapng file counts, in every section, and so do the systemd-journal
and custom blocks that Wireshark lists as frames although they carry no packet).  pcapng
interface ids are numbered across sections (the n-th IDB of the file is interface n-1).

Given a :class:`~.paths.UserPlaneScreen`, a reader passes over the frames it screens out (plainly
tunnelled user plane of a flow already followed in that tunnel) instead of yielding them: on a lab
capture that is nearly every frame, and no slice, tuple or generator step is spent on one.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import BinaryIO

from ..notices import Notice, Severity
from .link import LINKTYPE_ETHERNET
from .model import Packet
from .paths import ETHERTYPE_IPV6, IPPROTO_IPV6, IPPROTO_UDP, SCREEN_LAYOUT, SCREEN_LEN, UserPlaneScreen

#: Largest record we are willing to read; anything bigger is a corrupt length, not a packet.
#: Reads are CHUNK-sized whatever a length claims, so a claim near this bound costs memory only
#: when the file really holds that many octets.
MAX_RECORD = 256 * 1024 * 1024
#: A pcap record may exceed snaplen only by this factor (and never MAX_RECORD).
SNAPLEN_SLACK = 4
_MIN_SNAP = 262144  # Wireshark's largest regular snapshot length
#: Octets read at a time.  Each read is a new bytes object, and each refill joins it to the rest of
#: the last one: kept under glibc's mmap threshold (128 KiB) both come from reused heap memory.  At
#: 1 MiB they came from fresh pages every time: on a 336 MB capture ~35,000-77,000 page faults and
#: 0.1-0.2 s of system time, against ~100 faults and 0.02-0.04 s now.
CHUNK = 96 * 1024

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAP_MAGIC_KUZNETSOV = 0xA1B2CD34  # "modified" pcap: 8 extra octets per record header
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BOM = 0x1A2B3C4D
PCAPNG_IDB = 1
PCAPNG_OPB = 2  # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6
#: Blocks that are no packets but that Wireshark numbers as frames (systemd journal export, custom).
PCAPNG_FRAME_COUNTING = frozenset({0x00000009, 0x00000BAD, 0x40000BAD})
IF_TSRESOL = 9
IF_TSOFFSET = 14
GZIP_MAGIC = b"\x1f\x8b"

#: (frame, time_ns, linktype, data, orig_len, interface): what the fast path passes around.
RawRecord = tuple[int, int, int, bytes, int, int]
#: What a reader can hand each frame to instead of yielding it: ``feed(path, frame, time_ns,
#: linktype, data)`` returns the items to yield in its place (see :func:`iter_records`).
Feed = Callable[[str, int, int, int, bytes], Sequence[object]]

_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def read_packets(path: str) -> Iterator[Packet | Notice]:
    """Every frame of one capture file as a :class:`Packet`, problems as :class:`Notice` s."""
    for item in iter_records(path):
        if type(item) is tuple:
            yield Packet(path, item[0], item[1], item[2], item[3], item[4], item[5])
        else:
            yield item  # type: ignore[misc]


def iter_records(path: str, screen: UserPlaneScreen | None = None, feed: Feed | None = None
                 ) -> Generator[RawRecord | Notice, None, int]:
    """Like :func:`read_packets` but yields plain tuples: the extractor's hot path.

    Frames that ``screen`` passes are counted (frame numbers stay Wireshark's) but not yielded.
    Given ``feed``, each other frame goes to it and what it returns is yielded in the frame's place
    (no record tuple, no generator step for a frame that gives nothing).  The generator's value
    (``frames = yield from iter_records(...)``) is the number of the file's last packet frame.
    """
    try:
        if os.path.isdir(path):
            yield _file_notice(path, "capture.unreadable", "is a directory")
            return 0
        raw = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        yield _file_notice(path, "capture.unreadable", f"cannot open: {exc.strerror or exc}")
        return 0
    try:
        # one generator between the caller and the reader loop
        return (yield from _reader(path, raw, screen, feed)) or 0
    finally:
        raw.close()


def _file_notice(path: str, code: str, message: str, offset: int | None = None) -> Notice:
    return Notice(code, f"{path}: {message}", file=path, offset=offset, severity="error")


def _reader(path: str, raw: BinaryIO, screen: UserPlaneScreen | None, feed: Feed | None
            ) -> Iterator[RawRecord | Notice]:
    """The reader loop for the file's format, or the notice that says why there is none."""
    try:
        head = raw.read(2)
    except OSError as exc:
        return iter((_file_notice(path, "capture.unreadable", f"cannot read: {exc.strerror or exc}"),))
    raw.seek(0)
    stream: BinaryIO = raw
    zipped = head == GZIP_MAGIC
    if zipped:
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    source = _Source(path, stream, zipped)
    magic = source.read(4)
    if magic is None:
        return iter((source.notice,))  # type: ignore[arg-type]
    if not magic:
        return iter((source.notice or _file_notice(path, "capture.empty", "empty file (no capture header)", 0),))
    if len(magic) == 4:
        le = struct.unpack("<I", magic)[0]
        be = struct.unpack(">I", magic)[0]
        if le in (PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV):
            return _read_pcap(source, magic, "<", le, screen, feed)
        if be in (PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV):
            return _read_pcap(source, magic, ">", be, screen, feed)
        if le == PCAPNG_SHB:
            return _read_pcapng(source, magic, screen, feed)
    if source.notice:
        return iter((source.notice,))
    what = "gzip data that holds no" if zipped else "not a"
    return iter((_file_notice(path, "capture.not-a-capture", f"{what} pcap or pcapng file (magic {magic.hex()})",
                              0),))


class _Source:
    """The (possibly decompressing) byte stream with its offset; read errors become a Notice."""

    __slots__ = ("notice", "offset", "path", "read_chunk", "read_raw", "zipped")

    def __init__(self, path: str, stream: BinaryIO, zipped: bool) -> None:
        self.path, self.read_raw, self.zipped = path, stream.read, zipped
        self.read_chunk = stream.read1 if zipped else stream.read  # type: ignore[attr-defined]
        self.offset = 0
        self.notice: Notice | None = None

    def read(self, n: int) -> bytes | None:
        """Up to ``n`` octets (fewer at end of file); None after a read error (see ``notice``)."""
        try:
            data = self.read_raw(n)
        except _GZIP_ERRORS as exc:
            where = "decompressed offset" if self.zipped else "offset"
            self.notice = _file_notice(
                self.path, "capture.gzip-error", f"gzip stream broken near {where} {self.offset}: {exc}",
                self.offset,
            )
            return None
        except OSError as exc:
            self.notice = _file_notice(
                self.path, "capture.unreadable", f"read error at offset {self.offset}: {exc}", self.offset
            )
            return None
        self.offset += len(data)
        return data

    def fill(self, rest: bytes, need: int) -> tuple[bytes, bool | BaseException]:
        """``rest`` extended to at least ``need`` octets (or to end of file) by CHUNK-sized reads.

        Returns the bytes and True at end of file, the exception after a read error (what was
        read before it is kept), False otherwise.  Gzip input is read with ``read1`` so a broken
        stream loses nothing that was decompressed before the break.
        """
        parts = [rest]
        have = len(rest)
        status: bool | BaseException = False
        while have < need:
            try:
                chunk = self.read_chunk(CHUNK)  # never more: a corrupt length must not size the read
            except (*_GZIP_ERRORS, OSError) as exc:
                status = exc
                break
            if not chunk:
                status = True
                break
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts), status

    def read_error(self, exc: BaseException, offset: int, frames_read: int) -> Notice:
        if isinstance(exc, _GZIP_ERRORS):
            code, what = "capture.gzip-error", f"gzip stream broken after decompressed offset {offset}"
        else:
            code, what = "capture.unreadable", f"read error after offset {offset}"
        return Notice(code, f"{self.path}: {what}: {exc}", file=self.path, offset=offset,
                      severity=_severity(frames_read))

    def truncated(self, what: str, start: int, severity: Severity) -> Notice:
        return Notice(
            "capture.truncated-record",
            f"{self.path}: {what} at offset {start} is cut short (file ends after {self.offset} octets)",
            file=self.path, offset=start, severity=severity,
        )


# --------------------------------------------------------------------------------------------
# pcap
# --------------------------------------------------------------------------------------------


def _read_pcap(src: _Source, magic: bytes, order: str, value: int, screen: UserPlaneScreen | None,
               feed: Feed | None) -> Generator[RawRecord | Notice, None, int]:
    rest = src.read(20)
    if rest is None or len(rest) < 20:
        yield src.notice or src.truncated("pcap file header", 0, "error")
        return 0
    _vmaj, _vmin, _zone, _sigfigs, snaplen, network = struct.unpack(order + "HHiIII", rest)
    linktype = network & 0x03FFFFFF  # the upper bits carry FCS length information
    scale = 1 if value == PCAP_MAGIC_NS else 1000
    hdr_len = 24 if value == PCAP_MAGIC_KUZNETSOV else 16
    limit = min(MAX_RECORD, max(snaplen, _MIN_SNAP) * SNAPLEN_SLACK)
    unpack_hdr = struct.Struct(order + "IIII").unpack_from
    path = src.path
    passes = screen.passes if screen is not None else None
    # Records are cut from CHUNK-sized buffers: one read per chunk, not two per record.
    buf, pos, base = b"", 0, 24  # base: file offset of buf[0]
    eof: bool | BaseException = False  # True at end of file, the exception after a read error
    frame = 0
    while True:
        have = len(buf) - pos
        if have < hdr_len:
            if eof is False:
                base += pos
                buf, eof = src.fill(buf[pos:], hdr_len)
                pos = 0
                continue
            if have:
                src.offset = base + len(buf)
                yield src.truncated("record header", base + pos, _severity(frame))
            break
        sec, frac, incl, orig = unpack_hdr(buf, pos)
        if incl > limit:
            yield Notice(
                "capture.bad-record-length",
                f"{path}: record at offset {base + pos} claims {incl} captured octets "
                f"(snaplen {snaplen}); the file is corrupt from here",
                file=path, offset=base + pos, severity=_severity(frame),
            )
            return frame
        end = pos + hdr_len + incl
        if end > len(buf):
            if eof is False:
                base += pos
                buf, eof = src.fill(buf[pos:], hdr_len + incl)
                pos = 0
                continue
            src.offset = base + len(buf)
            yield src.truncated(f"record {frame + 1}", base + pos, _severity(frame))
            break
        frame += 1
        time_ns = sec * 1_000_000_000 + frac * scale
        if passes is None or not passes(buf, end - incl, incl, linktype, frame, time_ns):
            if feed is None:
                yield (frame, time_ns, linktype, buf[end - incl : end], orig, 0)
            else:
                found = feed(path, frame, time_ns, linktype, buf[end - incl : end])
                if found:
                    yield from found  # type: ignore[misc]
        pos = end
    if eof is not True:
        yield src.read_error(eof, base + len(buf), frame)  # type: ignore[arg-type]
    return frame


# --------------------------------------------------------------------------------------------
# pcapng
# --------------------------------------------------------------------------------------------


class _Interface:
    """What a packet block needs from its Interface Description Block."""

    __slots__ = ("div", "gid", "linktype", "mul", "offset_ns", "snaplen")

    def __init__(self, gid: int, linktype: int, snaplen: int) -> None:
        self.gid, self.linktype, self.snaplen = gid, linktype, snaplen
        self.mul, self.div, self.offset_ns = 1000, 1, 0  # default resolution: microseconds

    def set_resolution(self, code: int) -> None:
        if code & 0x80:  # a power of two: ns = ticks * 1e9 / 2**n
            self.mul, self.div = 1_000_000_000, 1 << (code & 0x7F)
        elif code <= 9:
            self.mul, self.div = 10 ** (9 - code), 1
        else:
            self.mul, self.div = 1, 10 ** (code - 9)

    def time_ns(self, ticks: int) -> int:
        if self.div == 1:
            return ticks * self.mul + self.offset_ns
        return (ticks * self.mul + self.div // 2) // self.div + self.offset_ns


def _options(body: bytes, start: int, order: str) -> Iterator[tuple[int, bytes]]:
    """pcapng options (code, value) from ``start`` to the end of ``body``; stops at a bad length."""
    p, n = start, len(body)
    while p + 4 <= n:
        code, length = struct.unpack_from(order + "HH", body, p)
        if code == 0 or p + 4 + length > n:
            return
        yield code, body[p + 4 : p + 4 + length]
        p += 4 + ((length + 3) & ~3)


#: Per byte order: unpackers for a u32, the EPB fields and the obsolete PB fields.
_PCAPNG_STRUCTS = {
    order: (struct.Struct(order + "I").unpack_from, struct.Struct(order + "IIIII").unpack_from,
            struct.Struct(order + "HHIIII").unpack_from)
    for order in "<>"
}
#: Per byte order: an Enhanced Packet Block's type, lengths and fields in one unpack (the fast path).
_EPB_WHOLE = {order: struct.Struct(order + "7I").unpack_from for order in "<>"}
#: The same followed by what a :class:`UserPlaneScreen` looks at in the packet (the screened fast path).
_EPB_SCREEN = {order: struct.Struct(order + "7I" + SCREEN_LAYOUT).unpack_from for order in "<>"}
_EPB_SCREEN_SPAN = 28 + SCREEN_LEN  # octets of the buffer that unpack reads
_OUTER_NH_AT = 28 + 20  # in an EPB, the next header of an IPv6 header after an Ethernet header


def _read_pcapng(src: _Source, magic: bytes, screen: UserPlaneScreen | None, feed: Feed | None
                 ) -> Generator[RawRecord | Notice, None, int]:
    path = src.path
    order = "<"
    interfaces: list[_Interface] = []
    global_ifaces = 0
    frame = 0
    counted, run = -1, 0  # the last non-packet frame (PCAPNG_FRAME_COUNTING) and its run: see _last_packet
    buf, pos, base = magic, 0, 0  # base: file offset of buf[0]
    size = len(buf)  # kept with buf: the fast path below compares with it several times per frame
    eof: bool | BaseException = False
    unpack = struct.unpack_from
    u32, epb, opb = _PCAPNG_STRUCTS[order]
    whole, screened = _EPB_WHOLE[order], _EPB_SCREEN[order]
    if screen is not None:
        flow_state, stop, ports, span = screen.flows.get, screen.stop, screen.ports, _EPB_SCREEN_SPAN
    else:
        flow_state, stop, ports, span = {}.get, frozenset(), frozenset(), MAX_RECORD * 4  # never screens
    # The fast path keeps the fields of the interface of the last packet in locals (cur: its id).
    cur, linktype, gid, mul, offset_ns, exact, ether = -1, 0, 0, 1, 0, True, False
    iface = _Interface(0, 0, 0)
    while True:
        # The commonest block first: a whole EPB in the buffer, every check of the general path
        # below passed, read with one unpack (with the screen's fields when there is a screen and
        # the frame looks like IPv6 in IPv6).  Anything else (or any doubt) takes that path.
        if pos + 28 <= size:
            if pos + span <= size and buf[pos + _OUTER_NH_AT] == IPPROTO_IPV6:
                (btype, blen, iid, hi, lo, caplen, orig,
                 ethertype, outer_v, outer_nh, tunnel, inner_v, inner_nh, flow, sport, dport) = screened(buf, pos)
            else:
                btype, blen, iid, hi, lo, caplen, orig = whole(buf, pos)
                ethertype = b""  # not screened
            end = pos + blen
            if (btype == PCAPNG_EPB and (iid == cur or iid < len(interfaces)) and end <= size
                    and 32 <= blen <= MAX_RECORD and not blen & 3 and caplen <= blen - 32
                    and u32(buf, end - 4)[0] == blen):
                if iid != cur:
                    iface = interfaces[iid]
                    cur, linktype, gid, mul, offset_ns = iid, iface.linktype, iface.gid, iface.mul, iface.offset_ns
                    exact, ether = iface.div == 1, iface.linktype == LINKTYPE_ETHERNET
                frame += 1
                time_ns = ((hi << 32) | lo) * mul + offset_ns if exact else iface.time_ns((hi << 32) | lo)
                # UserPlaneScreen.passes inline, on the fields unpacked with the block header.
                if (ethertype == ETHERTYPE_IPV6 and ether and caplen >= SCREEN_LEN
                        and outer_nh == IPPROTO_IPV6 and outer_v >> 4 == 6 and inner_v >> 4 == 6
                        and (inner_nh not in stop
                             or (inner_nh == IPPROTO_UDP and sport not in ports and dport not in ports))):
                    state = flow_state(flow)
                    if state is not None and state[0] == tunnel:
                        state[1] = time_ns
                        state[2] = frame
                        pos = end
                        continue
                if feed is None:
                    yield (frame, time_ns, linktype, buf[pos + 28 : pos + 28 + caplen], orig, gid)
                else:
                    found = feed(path, frame, time_ns, linktype, buf[pos + 28 : pos + 28 + caplen])
                    if found:
                        if len(found) == 1:  # a frame's one message: no iterator over it
                            yield found[0]  # type: ignore[misc]
                        else:
                            yield from found  # type: ignore[misc]
                pos = end
                continue
        have = len(buf) - pos
        btype = u32(buf, pos)[0] if have >= 4 else -1
        need = 12 if btype == PCAPNG_SHB else 8
        if have >= need:
            if btype == PCAPNG_SHB:  # its type reads the same in both byte orders
                if unpack("<I", buf, pos + 8)[0] == PCAPNG_BOM:
                    order = "<"
                elif unpack(">I", buf, pos + 8)[0] == PCAPNG_BOM:
                    order = ">"
                else:
                    yield _bad_block(path, frame, base + pos, f"section header byte-order magic "
                                     f"{buf[pos + 8:pos + 12].hex()} is unknown")
                    return _last_packet(frame, counted, run)
                u32, epb, opb = _PCAPNG_STRUCTS[order]
                whole, screened = _EPB_WHOLE[order], _EPB_SCREEN[order]
            blen = u32(buf, pos + 4)[0]
            if blen < 12 or blen % 4 or blen > MAX_RECORD or (btype == PCAPNG_SHB and blen < 28):
                yield _bad_block(path, frame, base + pos, f"block type 0x{btype:08x} has total length {blen}")
                return _last_packet(frame, counted, run)
            need = blen
        if have < need:
            if eof is False:
                base += pos
                buf, eof = src.fill(buf[pos:], need)
                pos, size = 0, len(buf)
                continue
            if have:
                src.offset = base + len(buf)
                what = "section header block" if btype == PCAPNG_SHB else (
                    f"block type 0x{btype:08x}" if have >= 8 else "block header")
                yield src.truncated(what, base + pos, _severity(frame))
            break
        at = pos
        pos += blen
        if u32(buf, pos - 4)[0] != blen:
            yield _bad_block(path, frame, base + at, "trailing block length differs from the leading one")
            return _last_packet(frame, counted, run)
        if btype == PCAPNG_EPB or btype == PCAPNG_OPB:  # noqa: SIM109 - per packet; no tuple built
            if blen < 32:
                yield _bad_block(path, frame, base + at, "packet block too short for its fields")
                return _last_packet(frame, counted, run)
            if btype == PCAPNG_EPB:
                iid, hi, lo, caplen, orig = epb(buf, at + 8)
            else:
                iid, _drops, hi, lo, caplen, orig = opb(buf, at + 8)
            if caplen > blen - 32:
                yield _bad_block(path, frame, base + at, f"captured length {caplen} overruns the block")
                return _last_packet(frame, counted, run)
            if iid >= len(interfaces):
                yield _bad_block(path, frame, base + at, f"packet names interface {iid}, the section has "
                                 f"{len(interfaces)}")
                return _last_packet(frame, counted, run)
            packet_iface = interfaces[iid]
            frame += 1
            ticks = (hi << 32) | lo
            time_ns = packet_iface.time_ns(ticks)
            if screen is None or not screen.passes(buf, at + 28, caplen, packet_iface.linktype, frame, time_ns):
                data = buf[at + 28 : at + 28 + caplen]
                if feed is None:
                    yield (frame, time_ns, packet_iface.linktype, data, orig, packet_iface.gid)
                else:
                    found = feed(path, frame, time_ns, packet_iface.linktype, data)
                    if found:
                        yield from found  # type: ignore[misc]
        elif btype == PCAPNG_SPB:
            if blen < 16 or not interfaces:
                yield _bad_block(path, frame, base + at, "simple packet block without interface or length")
                return _last_packet(frame, counted, run)
            packet_iface = interfaces[0]
            orig = u32(buf, at + 8)[0]
            caplen = min(orig, blen - 16)
            if packet_iface.snaplen:
                caplen = min(caplen, packet_iface.snaplen)
            frame += 1
            data = buf[at + 12 : at + 12 + caplen]
            if feed is None:
                yield (frame, 0, packet_iface.linktype, data, orig, packet_iface.gid)
            else:
                found = feed(path, frame, 0, packet_iface.linktype, data)
                if found:
                    yield from found  # type: ignore[misc]
        elif btype == PCAPNG_IDB:
            if blen < 20:
                yield _bad_block(path, frame, base + at, "interface description block too short")
                return _last_packet(frame, counted, run)
            idb_linktype, _res, snaplen = unpack(order + "HHI", buf, at + 8)
            new = _Interface(global_ifaces, idb_linktype, snaplen)
            global_ifaces += 1
            for code, value in _options(buf[at + 16 : pos - 4], 0, order):
                if code == IF_TSRESOL and len(value) >= 1:
                    new.set_resolution(value[0])
                elif code == IF_TSOFFSET and len(value) >= 8:
                    new.offset_ns = unpack(order + "q", value)[0] * 1_000_000_000
            interfaces.append(new)  # those before keep their ids: the fast path's cur stays right
        elif btype == PCAPNG_SHB:
            interfaces = []
            cur = -1
        elif btype in PCAPNG_FRAME_COUNTING:
            frame += 1  # not a packet, but it has a frame number in Wireshark
            run = run + 1 if counted == frame - 1 else 1
            counted = frame
    if eof is not True:
        yield src.read_error(eof, base + len(buf), frame)  # type: ignore[arg-type]
    return _last_packet(frame, counted, run)


def _last_packet(frame: int, counted: int, run: int) -> int:
    """The number of the last packet frame, given the last frame and the run of non-packet frames
    (``run`` consecutive ones ending at frame ``counted``): what a caller counts as the file's frames."""
    return frame - run if counted == frame else frame


def _severity(frames_read: int) -> Severity:
    """Error when the file gave no frame at all (unusable), a warning when frames before it stand."""
    return "warning" if frames_read else "error"


def _bad_block(path: str, frames_read: int, offset: int, what: str) -> Notice:
    return Notice("capture.bad-block-length" if "length" in what else "capture.bad-block",
                  f"{path}: block at offset {offset}: {what}; the file is corrupt from here",
                  file=path, offset=offset, severity=_severity(frames_read))
