"""What the capture stage hands on: frames, and the signalling payloads found in them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Transport = Literal["mh", "mh-old", "mh-udp", "sctp", "udp", "icmpv6", "icmpv4", "nd"]


@dataclass(frozen=True, slots=True)
class Packet:
    """One captured frame as read from a file, before any protocol is looked at."""

    file: str  # the path as the user gave it
    frame: int  # 1-based, as Wireshark numbers frames in this file
    time_ns: int  # epoch nanoseconds (pcapng resolutions finer than 1 ns are rounded)
    linktype: int  # DLT/LINKTYPE value of the frame's interface
    data: bytes  # captured octets (caplen)
    orig_len: int  # length on the wire
    interface: int = 0  # pcapng interface id (0 for pcap)


@dataclass(slots=True)  # not frozen: one per signalling message, and a frozen __init__ costs ~2.5 us more (nothing changes one)
class Carried:
    """A signalling candidate found inside a frame: a mobility header, a CXTP message, ...

    ``src``/``dst`` are the addresses of the innermost IP header that carries it (canonical
    text).  ``data`` starts at the mobility header (transport ``mh``/``mh-old``/``mh-udp``),
    at the reassembled SCTP user message or UDP payload (``sctp``/``udp``), or after the
    8-octet ICMP Experimental Mobility header (``icmpv6``/``icmpv4``), at the ICMPv6 header of
    a Router Solicitation or Advertisement (``nd``, access-side captures).
    """

    file: str
    frame: int  # the frame that completed the payload
    time_ns: int
    src: str
    dst: str
    transport: Transport
    data: bytes
    frames: tuple[int, ...] = ()  # every frame that contributed (SCTP fragments), in order
    info: Mapping[str, object] = field(default_factory=dict)
    # info keys by transport (all optional):
    #   ip_version, hop_limit, outer (tuple of (src, dst) per tunnel layer, outermost first),
    #   mh: ip_payload_len (octets of the IPv6 payload from the MH on, for the checksum)
    #   sctp: sport, dport, ppi, stream, tsn, unordered (bool), chunk_flags, vtag
    #   udp: sport, dport;  icmp: code, subtype


class SctpInfo(Mapping[str, object]):
    """``Carried.info`` of one SCTP user message: its packet's info, then the DATA chunk's fields.

    Reads as the dict it stands for (same keys, same order); ``checksum_ok`` is absent when the
    CRC could not be checked and ``retransmission`` when it is not one.  A twelve-key dict per
    CXTP message (464 octets) was the largest thing a decoded record kept of its carrier; the
    slots take a third of that, and equal packet infos are one shared dict.
    """

    __slots__ = ("checksum_ok", "chunk_flags", "dport", "packet", "ppi", "retransmission", "sport", "ssn",
                 "stream", "tsn", "unordered", "vtag")
    _ALWAYS = ("sport", "dport", "vtag", "ppi", "stream", "ssn", "tsn", "unordered", "chunk_flags")

    def __init__(self, packet: Mapping[str, object], sport: int, dport: int, vtag: int, ppi: int, stream: int,
                 ssn: int, tsn: int, unordered: bool, chunk_flags: int, checksum_ok: bool | None = None,
                 retransmission: bool = False) -> None:
        self.packet, self.sport, self.dport, self.vtag, self.ppi = packet, sport, dport, vtag, ppi
        self.stream, self.ssn, self.tsn, self.unordered, self.chunk_flags = stream, ssn, tsn, unordered, chunk_flags
        self.checksum_ok, self.retransmission = checksum_ok, retransmission

    def __getitem__(self, key: str) -> object:
        if key in SctpInfo._ALWAYS:
            return getattr(self, key)
        if key == "checksum_ok" and self.checksum_ok is not None:
            return self.checksum_ok
        if key == "retransmission" and self.retransmission:
            return True
        if key in self.packet:
            return self.packet[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield from self.packet
        yield from SctpInfo._ALWAYS
        if self.checksum_ok is not None:
            yield "checksum_ok"
        if self.retransmission:
            yield "retransmission"

    def __len__(self) -> int:
        return len(self.packet) + len(SctpInfo._ALWAYS) + (self.checksum_ok is not None) + self.retransmission

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> tuple[object, ...]:  # --jobs workers send these to the parent
        return (SctpInfo, (self.packet, *(getattr(self, k) for k in SctpInfo._ALWAYS), self.checksum_ok,
                           self.retransmission))


@dataclass(frozen=True, slots=True)
class Tunnelled:
    """A user-plane packet seen inside an IP-in-IP or GRE tunnel (only when asked for).

    Counters of these are what the analysis needs for the data-path interruption of a
    handover; the packet itself is never kept.
    """

    file: str
    frame: int
    time_ns: int
    outer_src: str
    outer_dst: str
    inner_src: str
    inner_dst: str


@dataclass(frozen=True, slots=True)
class PathSwitch:
    """The tunnel for an MN prefix moved to another MAG (see :mod:`.paths`); made from per-prefix state.

    ``frame``/``time_ns`` is the first packet on the new path; ``old_frame`` and ``gap_ns`` back
    from ``time_ns`` the last one on the old path (a gap, so a clock correction moves both ends).
    """

    file: str
    frame: int
    time_ns: int
    direction: Literal["down", "up"]  # down: LMA -> MAG, by inner destination; up: MAG -> LMA, by source
    prefix: str  # "2001:db8:1:1::/64" (the inner address's /64), or an IPv4 address "/32"
    old: str  # the MAG end of the tunnel before
    new: str  # and after
    old_frame: int
    gap_ns: int
    lma: str = ""  # the tunnel's other end
