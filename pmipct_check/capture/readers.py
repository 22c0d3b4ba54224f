"""Streaming capture readers: pcap (us/ns, both byte orders, Kuznetsov), pcapng, either gzipped.

A reader holds one record at a time, so memory does not grow with the capture.  Nothing here
raises on bad input: a missing, empty, foreign or corrupt file becomes a :class:`Notice`
naming the file and the byte offset, and after a corrupt record the reader stops cleanly,
keeping every packet it already yielded.  Frames are numbered from 1 as Wireshark counts them
(every packet block of a pcapng file counts, in every section, and so do the systemd-journal
and custom blocks that Wireshark lists as frames although they carry no packet).  pcapng
interface ids are numbered across sections (the n-th IDB of the file is interface n-1).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from ..notices import Notice
from .model import Packet

#: Largest record we are willing to read; anything bigger is a corrupt length, not a packet.
MAX_RECORD = 256 * 1024 * 1024
#: A pcap record may exceed snaplen only by this factor (and never MAX_RECORD).
SNAPLEN_SLACK = 4
_MIN_SNAP = 262144  # Wireshark's largest regular snapshot length

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

_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def read_packets(path: str) -> Iterator[Packet | Notice]:
    """Every frame of one capture file as a :class:`Packet`, problems as :class:`Notice` s."""
    for item in iter_records(path):
        if type(item) is tuple:
            yield Packet(path, item[0], item[1], item[2], item[3], item[4], item[5])
        else:
            yield item  # type: ignore[misc]


def iter_records(path: str) -> Iterator[RawRecord | Notice]:
    """Like :func:`read_packets` but yields plain tuples: the extractor's hot path."""
    try:
        if os.path.isdir(path):
            yield _file_notice(path, "capture.unreadable", "is a directory")
            return
        raw = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        yield _file_notice(path, "capture.unreadable", f"cannot open: {exc.strerror or exc}")
        return
    try:
        yield from _dispatch(path, raw)
    finally:
        raw.close()


def _file_notice(path: str, code: str, message: str, offset: int | None = None) -> Notice:
    return Notice(code, f"{path}: {message}", file=path, offset=offset, severity="error")


def _dispatch(path: str, raw: BinaryIO) -> Iterator[RawRecord | Notice]:
    try:
        head = raw.read(2)
    except OSError as exc:
        yield _file_notice(path, "capture.unreadable", f"cannot read: {exc.strerror or exc}")
        return
    raw.seek(0)
    stream: BinaryIO = raw
    zipped = head == GZIP_MAGIC
    if zipped:
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    source = _Source(path, stream, zipped)
    magic = source.read(4)
    if magic is None:
        yield source.notice  # type: ignore[misc]
        return
    if not magic:
        yield source.notice or _file_notice(path, "capture.empty", "empty file (no capture header)", 0)
        return
    if len(magic) == 4:
        le = struct.unpack("<I", magic)[0]
        be = struct.unpack(">I", magic)[0]
        if le in (PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV):
            yield from _read_pcap(source, magic, "<", le)
            return
        if be in (PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV):
            yield from _read_pcap(source, magic, ">", be)
            return
        if le == PCAPNG_SHB:
            yield from _read_pcapng(source, magic)
            return
    if source.notice:
        yield source.notice
        return
    what = "gzip data that holds no" if zipped else "not a"
    yield _file_notice(path, "capture.not-a-capture", f"{what} pcap or pcapng file (magic {magic.hex()})", 0)


class _Source:
    """The (possibly decompressing) byte stream with its offset; read errors become a Notice."""

    __slots__ = ("notice", "offset", "path", "read_raw", "zipped")

    def __init__(self, path: str, stream: BinaryIO, zipped: bool) -> None:
        self.path, self.read_raw, self.zipped = path, stream.read, zipped
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

    def truncated(self, what: str, start: int, severity: str = "warning") -> Notice:
        return Notice(
            "capture.truncated-record",
            f"{self.path}: {what} at offset {start} is cut short (file ends after {self.offset} octets)",
            file=self.path, offset=start, severity=severity,  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------------------------
# pcap
# --------------------------------------------------------------------------------------------


def _read_pcap(src: _Source, magic: bytes, order: str, value: int) -> Iterator[RawRecord | Notice]:
    rest = src.read(20)
    if rest is None or len(rest) < 20:
        yield src.notice or src.truncated("pcap file header", 0, "error")
        return
    _vmaj, _vmin, _zone, _sigfigs, snaplen, network = struct.unpack(order + "HHiIII", rest)
    linktype = network & 0x03FFFFFF  # the upper bits carry FCS length information
    scale = 1 if value == PCAP_MAGIC_NS else 1000
    hdr_len = 24 if value == PCAP_MAGIC_KUZNETSOV else 16
    limit = min(MAX_RECORD, max(snaplen, _MIN_SNAP) * SNAPLEN_SLACK)
    unpack_hdr = struct.Struct(order + "IIII").unpack_from
    read = src.read_raw
    path = src.path
    offset = 24
    frame = 0
    try:
        while True:
            hdr = read(hdr_len)
            if len(hdr) < hdr_len:
                if hdr:
                    src.offset = offset + len(hdr)
                    yield src.truncated("record header", offset)
                return
            sec, frac, incl, orig = unpack_hdr(hdr)
            if incl > limit:
                yield Notice(
                    "capture.bad-record-length",
                    f"{path}: record at offset {offset} claims {incl} captured octets "
                    f"(snaplen {snaplen}); the file is corrupt from here",
                    file=path, offset=offset, severity="error",
                )
                return
            data = read(incl)
            if len(data) < incl:
                src.offset = offset + hdr_len + len(data)
                yield src.truncated(f"record {frame + 1}", offset)
                return
            frame += 1
            offset += hdr_len + incl
            yield (frame, sec * 1_000_000_000 + frac * scale, linktype, data, orig, 0)
    except (*_GZIP_ERRORS, OSError) as exc:
        yield _file_notice(path, "capture.gzip-error" if src.zipped else "capture.unreadable",
                           f"read failed after offset {offset}: {exc}", offset)


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


def _read_pcapng(src: _Source, magic: bytes) -> Iterator[RawRecord | Notice]:
    path = src.path
    read = src.read_raw
    order = "<"
    interfaces: list[_Interface] = []
    global_ifaces = 0
    frame = 0
    offset = 0
    head: bytes | None = magic
    try:
        while True:
            if head is None:
                head = read(8)
                if not head:
                    return
                src.offset = offset + len(head)
                if len(head) < 8:
                    yield src.truncated("block header", offset)
                    return
                btype = struct.unpack_from(order + "I", head)[0]
            else:  # the first SHB: its type was read as the file magic
                more = src.read(4)
                if more is None:
                    yield src.notice  # type: ignore[misc]
                    return
                head += more
                if len(head) < 8:
                    yield src.truncated("section header block", 0, "error")
                    return
                btype = PCAPNG_SHB
            if btype == PCAPNG_SHB:
                bom = read(4)
                if len(bom) < 4:
                    src.offset = offset + 8 + len(bom)
                    yield src.truncated("section header block", offset, "error" if offset == 0 else "warning")
                    return
                if struct.unpack("<I", bom)[0] == PCAPNG_BOM:
                    order = "<"
                elif struct.unpack(">I", bom)[0] == PCAPNG_BOM:
                    order = ">"
                else:
                    yield _bad_block(path, offset, f"section header byte-order magic {bom.hex()} is unknown")
                    return
                blen = struct.unpack_from(order + "I", head, 4)[0]
                body_len = blen - 12  # after type, length and the byte-order magic
                prefix = bom
                interfaces = []
            else:
                blen = struct.unpack_from(order + "I", head, 4)[0]
                body_len = blen - 8
                prefix = b""
            if blen < 12 or blen % 4 or blen > MAX_RECORD or (btype == PCAPNG_SHB and blen < 28):
                yield _bad_block(path, offset, f"block type 0x{btype:08x} has total length {blen}")
                return
            rest = read(body_len)
            if len(rest) < body_len:
                src.offset = offset + blen - body_len + len(rest)
                yield src.truncated(f"block type 0x{btype:08x}", offset)
                return
            body = prefix + rest[:-4]
            if struct.unpack_from(order + "I", rest, body_len - 4)[0] != blen:
                yield _bad_block(path, offset, "trailing block length differs from the leading one")
                return
            block_at = offset
            offset += blen
            if btype in (PCAPNG_EPB, PCAPNG_OPB):
                if len(body) < 20:
                    yield _bad_block(path, block_at, "packet block too short for its fields")
                    return
                if btype == PCAPNG_EPB:
                    iid, hi, lo, caplen, orig = struct.unpack_from(order + "IIIII", body)
                else:
                    iid, _drops, hi, lo, caplen, orig = struct.unpack_from(order + "HHIIII", body)
                if caplen > len(body) - 20:
                    yield _bad_block(path, block_at, f"captured length {caplen} overruns the block")
                    return
                if iid >= len(interfaces):
                    yield _bad_block(path, block_at, f"packet names interface {iid}, the section has "
                                     f"{len(interfaces)}")
                    return
                iface = interfaces[iid]
                frame += 1
                yield (frame, iface.time_ns((hi << 32) | lo), iface.linktype, body[20 : 20 + caplen],
                       orig, iface.gid)
            elif btype == PCAPNG_SPB:
                if len(body) < 4 or not interfaces:
                    yield _bad_block(path, block_at, "simple packet block without interface or length")
                    return
                iface = interfaces[0]
                orig = struct.unpack_from(order + "I", body)[0]
                caplen = min(orig, len(body) - 4)
                if iface.snaplen:
                    caplen = min(caplen, iface.snaplen)
                frame += 1
                yield (frame, 0, iface.linktype, body[4 : 4 + caplen], orig, iface.gid)
            elif btype == PCAPNG_IDB:
                if len(body) < 8:
                    yield _bad_block(path, block_at, "interface description block too short")
                    return
                linktype, _res, snaplen = struct.unpack_from(order + "HHI", body)
                iface = _Interface(global_ifaces, linktype, snaplen)
                global_ifaces += 1
                for code, value in _options(body, 8, order):
                    if code == IF_TSRESOL and len(value) >= 1:
                        iface.set_resolution(value[0])
                    elif code == IF_TSOFFSET and len(value) >= 8:
                        iface.offset_ns = struct.unpack_from(order + "q", value)[0] * 1_000_000_000
                interfaces.append(iface)
            elif btype in PCAPNG_FRAME_COUNTING:
                frame += 1  # not a packet, but it has a frame number in Wireshark
            head = None
    except (*_GZIP_ERRORS, OSError) as exc:
        yield _file_notice(path, "capture.gzip-error" if src.zipped else "capture.unreadable",
                           f"read failed after offset {offset}: {exc}", offset)


def _bad_block(path: str, offset: int, what: str) -> Notice:
    return Notice("capture.bad-block-length" if "length" in what else "capture.bad-block",
                  f"{path}: block at offset {offset}: {what}; the file is corrupt from here",
                  file=path, offset=offset, severity="error")
