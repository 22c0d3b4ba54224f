"""A deterministic capture writer (pcap or pcapng, optionally gzipped) and link framing helpers.

The same calls give byte-identical files: no host names, dates or application strings in the
pcapng section header, gzip with mtime 0 and no file name.  Files are written little-endian.
"""

from __future__ import annotations

import gzip
import os
import struct
from types import TracebackType
from typing import BinaryIO

from .link import (
    AF_INET,
    ETHERTYPE_IPV4,
    ETHERTYPE_IPV6,
    ETHERTYPE_QINQ,
    ETHERTYPE_VLAN,
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    LINKTYPE_RAW_BSD,
    LINKTYPE_RAW_BSDOS,
)
from .readers import (
    IF_TSRESOL,
    PCAP_MAGIC_NS,
    PCAP_MAGIC_US,
    PCAPNG_BOM,
    PCAPNG_EPB,
    PCAPNG_IDB,
    PCAPNG_SHB,
)

SNAPLEN = 262144
IF_NAME = 2
AF_INET6_WRITTEN = 24  # the BSD value every reader accepts
ARPHRD_ETHER = 1
SLL_PACKET_HOST = 0
DEFAULT_SRC_MAC = bytes.fromhex("020000000001")
DEFAULT_DST_MAC = bytes.fromhex("020000000002")


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad4(value)


class CaptureWriter:
    """Write frames to a pcap or pcapng file; use as a context manager.

    Interface 0 is the one the constructor describes.  pcapng files may have more
    (:meth:`add_interface`); a pcap file has exactly one link type and resolution.
    """

    def __init__(self, path: str | os.PathLike[str], fmt: str = "pcap", linktype: int = LINKTYPE_ETHERNET,
                 nanosecond: bool = False, gzip: bool = False, name: str = "") -> None:
        if fmt not in ("pcap", "pcapng"):
            raise ValueError(f"capture format must be pcap or pcapng, not {fmt!r}")
        self.path, self.fmt, self.gzip = os.fspath(path), fmt, gzip
        self._name = name  # pcapng: interface 0's if_name (pcap has no place for it)
        self._interfaces: list[tuple[int, bool]] = [(linktype, nanosecond)]
        self._out: BinaryIO | None = None
        self._raw: BinaryIO | None = None

    def __enter__(self) -> CaptureWriter:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        self._raw = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        if self.gzip:
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)  # type: ignore[assignment]
        else:
            self._out = self._raw
        linktype, nanosecond = self._interfaces[0]
        if self.fmt == "pcap":
            magic = PCAP_MAGIC_NS if nanosecond else PCAP_MAGIC_US
            self._put(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, SNAPLEN, linktype))
        else:
            # SHB: byte-order magic, version 1.0, section length unknown (-1), no options.
            body = struct.pack("<IHHq", PCAPNG_BOM, 1, 0, -1)
            self._put(self._block(PCAPNG_SHB, body))
            self._put(self._idb(linktype, self._name, nanosecond))

    def close(self) -> None:
        if self._out is not None and self._out is not self._raw:
            self._out.close()
        if self._raw is not None:
            self._raw.close()
        self._out = self._raw = None

    def add_interface(self, linktype: int, name: str = "", nanosecond: bool = False) -> int:
        """A further pcapng interface; returns its id for :meth:`write`."""
        if self.fmt == "pcap":
            if (linktype, nanosecond) == self._interfaces[0]:
                return 0
            raise ValueError("a pcap file has a single link type and time resolution; use pcapng")
        self._interfaces.append((linktype, nanosecond))
        self._put(self._idb(linktype, name, nanosecond))
        return len(self._interfaces) - 1

    def write(self, time_ns: int, data: bytes, interface: int = 0, orig_len: int | None = None) -> None:
        """One frame at ``time_ns`` (epoch nanoseconds) on ``interface``."""
        if not 0 <= interface < len(self._interfaces):
            raise ValueError(f"no interface {interface}")
        orig = len(data) if orig_len is None else orig_len
        nanosecond = self._interfaces[interface][1]
        ticks = time_ns if nanosecond else time_ns // 1000
        if self.fmt == "pcap":
            sec, frac = divmod(ticks, 1_000_000_000 if nanosecond else 1_000_000)
            self._put(struct.pack("<IIII", sec, frac, len(data), orig) + data)
        else:
            body = struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), orig)
            self._put(self._block(PCAPNG_EPB, body + _pad4(data)))

    def _put(self, data: bytes) -> None:
        if self._out is None:
            raise ValueError("the capture writer is not open")
        self._out.write(data)

    @staticmethod
    def _block(btype: int, body: bytes) -> bytes:
        total = 12 + len(body)
        return struct.pack("<II", btype, total) + body + struct.pack("<I", total)

    def _idb(self, linktype: int, name: str, nanosecond: bool) -> bytes:
        options = b""
        if name:
            options += _option(IF_NAME, name.encode())
        if nanosecond:
            options += _option(IF_TSRESOL, b"\x09")
        if options:
            options += b"\0\0\0\0"
        return self._block(PCAPNG_IDB, struct.pack("<HHI", linktype, 0, SNAPLEN) + options)


def frame_ip(ip_packet: bytes, linktype: int, *, vlans: tuple[int, ...] = (),
             src_mac: bytes = DEFAULT_SRC_MAC, dst_mac: bytes = DEFAULT_DST_MAC) -> bytes:
    """Put an IP packet into a frame of ``linktype`` (Ethernet gets ``vlans``, outermost first).

    With more than one VLAN the outer tags are 802.1ad (0x88a8) and the innermost is 802.1Q.
    """
    v6 = bool(ip_packet) and ip_packet[0] >> 4 == 6
    ethertype = ETHERTYPE_IPV6 if v6 else ETHERTYPE_IPV4
    if linktype == LINKTYPE_ETHERNET:
        tags = b"".join(
            struct.pack(">HH", ETHERTYPE_VLAN if i == len(vlans) - 1 else ETHERTYPE_QINQ, vid & 0xFFFF)
            for i, vid in enumerate(vlans)
        )
        return dst_mac + src_mac + tags + struct.pack(">H", ethertype) + ip_packet
    if vlans:
        raise ValueError("VLAN tags need link type 1 (Ethernet)")
    address = src_mac[:8].ljust(8, b"\0")
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.pack(">HHH", SLL_PACKET_HOST, ARPHRD_ETHER, len(src_mac)) + address + \
            struct.pack(">H", ethertype) + ip_packet
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.pack(">HHIHBB", ethertype, 0, 1, ARPHRD_ETHER, SLL_PACKET_HOST, len(src_mac)) + \
            address + ip_packet
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_BSD, LINKTYPE_RAW_BSDOS, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return ip_packet
    if linktype == LINKTYPE_NULL:
        return struct.pack("<I", AF_INET6_WRITTEN if v6 else AF_INET) + ip_packet
    if linktype == LINKTYPE_LOOP:
        return struct.pack(">I", AF_INET6_WRITTEN if v6 else AF_INET) + ip_packet
    raise ValueError(f"cannot frame IP for link type {linktype}")
