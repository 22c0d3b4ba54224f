"""From a frame to the signalling inside it: IP, extension headers, tunnels, the transports.

The hot path: most frames in a lab capture are user plane inside LMA-MAG tunnels.  Those of a
flow that stays in its tunnel never get here: the reader passes over them (``Extractor.screen``,
see :class:`.paths.UserPlaneScreen`).  Any other frame is judged from a handful of octets (link
header, each IP header's version, next header and length, a UDP port pair, an ICMP type) with
plain indexing; objects, address text and info dicts are made only for frames that carry
signalling.  No scapy here.

Bounds (each stops the walk of one frame; the frame is then not looked into further):
at most ``MAX_TUNNELS`` nested IP-in-IP / GRE layers (a ``capture.tunnel-depth`` notice),
``MAX_EXT_HEADERS`` IPv6 extension headers, ``link.MAX_VLAN_TAGS`` VLAN tags.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain

from .. import registry
from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .link import ETHERNET_HEADER_LEN, LINK_PARSERS, LINKTYPE_ETHERNET, ethernet
from .model import Carried, Packet, PathSwitch, SctpInfo, Tunnelled
from .paths import IGNORED, V6_IN_V6, PathTracker, UserPlaneScreen
from .readers import iter_records
from .sctp import SctpAssembler, UserMessage, WholeMessage, checksum_ok

#: Nested tunnel layers opened before giving up on a frame.
MAX_TUNNELS = 4
#: IPv6 extension headers walked before giving up on a frame.
MAX_EXT_HEADERS = 16

IPPROTO_HOPOPTS = 0
IPPROTO_ICMP = 1
IPPROTO_IPIP = 4
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_GRE = 47
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_ICMPV6 = 58
IPPROTO_DSTOPTS = 60
IPPROTO_MH = registry.IPPROTO_MH
IPPROTO_MH_OLD = registry.IPPROTO_MH_OLD
IPPROTO_SCTP = registry.IPPROTO_SCTP

GRE_C, GRE_R, GRE_K, GRE_S, GRE_VERSION = 0x8000, 0x4000, 0x2000, 0x1000, 0x0007
GRE_PROTO_IPV4, GRE_PROTO_IPV6, GRE_PROTO_ETHERNET = 0x0800, 0x86DD, 0x6558
ROUTING_TYPE_2 = 2  # RFC 6275: the home address replaces the destination in the MH checksum
HOME_ADDRESS_OPTION = 201  # RFC 6275: the home address replaces the source in the MH checksum
ICMP_HEADER_LEN = 8
UDP_HEADER_LEN = 8

_EXT6 = frozenset({IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS, IPPROTO_AH,
                   IPPROTO_ESP})
_SIGNALLING = frozenset({IPPROTO_MH, IPPROTO_MH_OLD, IPPROTO_SCTP, IPPROTO_UDP, IPPROTO_ICMPV6,
                         IPPROTO_ICMP})
#: Inner next headers a screened frame must not have (see paths.UserPlaneScreen): what feed_raw
#: walks into (extension headers, tunnels) or may hand on (signalling; UDP only on its ports).
_SCREEN_STOP = _EXT6 | _SIGNALLING | {IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE}
_ND_TYPES = frozenset(registry.ND_TYPES)  # RS/RA: the MN's attachment on an access link
_NOTHING: tuple = ()
_NAME_CACHE = 65536
#: Distinct carrier infos an extractor shares before it starts afresh (bounds its memory).
_INFO_CACHE = 4096
_V6_HEADER = struct.Struct("!4xHxB16s16s").unpack_from  # payload length, hop limit, source, destination
_V4_HEADER = struct.Struct("!2xH4xB3x4s4s").unpack_from  # total length, TTL, source, destination
_UDP_HEADER = struct.Struct("!HHH").unpack_from  # source port, destination port, length

Item = Carried | Tunnelled | PathSwitch | Notice


class Extractor:
    """Finds signalling (and, if asked, tunnelled user plane) in the frames of one capture stream.

    Keeps SCTP reassembly state between frames: feed the frames of one file in order and call
    :meth:`finish` at its end.  ``stats`` counts what was skipped and why.
    """

    def __init__(self, profile: Profile = DEFAULT_PROFILE, track_user_plane: bool = False,
                 verify_sctp_checksum: bool = True, track_paths: bool = True) -> None:
        self.profile = profile
        self.track_user_plane = track_user_plane
        self.verify_sctp_checksum = verify_sctp_checksum
        self._pmip_ports = frozenset(profile.pmip_udp_ports)
        self._cxtp_udp_ports = frozenset(profile.cxtp_udp_ports)
        self._udp_ports = self._pmip_ports | self._cxtp_udp_ports
        self._sctp = SctpAssembler(frozenset(profile.cxtp_sctp_ppis), frozenset(profile.cxtp_sctp_ports),
                                   profile.cxtp_header_check)
        self._names: dict[bytes, str] = {}
        #: (source, destination) text by the 32 octets of an IPv6 header's two addresses: the MH fast
        #: path names both with one slice and one lookup (a capture has few pairs of peers).
        self._pairs: dict[bytes, tuple[str, str]] = {}
        #: Carrier infos by their items (see _shared_info).
        self._infos: dict[tuple[object, ...], dict[str, object]] = {}
        #: The shared info of an IPv6 packet with no extension header, by hop limit (SCTP's fast path).
        self._plain_v6: dict[int, dict[str, object]] = {}
        # Which tunnel each inner flow is in (the data-path interruption): PathSwitch items, no packets kept.
        self._paths = PathTracker(self._name)
        self._flows = self._paths.flows if track_paths else None
        #: For the reader: frames this extractor would only note in the tracker (None: every frame is
        #: looked at, as when user plane is handed on or paths are not tracked).
        self.screen = (UserPlaneScreen(self._paths.flows, _SCREEN_STOP, self._udp_ports)
                       if track_paths and not track_user_plane else None)
        self._unknown_links: set[tuple[str, int]] = set()
        self.stats: dict[str, int] = dict.fromkeys(
            ("not_ip", "non_first_fragments", "esp", "tunnel_depth", "truncated"), 0)

    # -- public ------------------------------------------------------------------------------

    def feed(self, packet: Packet) -> Sequence[Item]:
        """What one frame carries (usually nothing)."""
        return self.feed_raw(packet.file, packet.frame, packet.time_ns, packet.linktype, packet.data)

    def finish(self) -> list[Notice]:
        """Notices for SCTP user messages still incomplete at the end of the stream."""
        return self._sctp.flush()

    def feed_raw(self, file: str, frame: int, time_ns: int, linktype: int, data: bytes,
                 *_rest: object) -> Sequence[Item]:
        """:meth:`feed` without a Packet object: the per-frame hot path (extra record fields ignored)."""
        if linktype == LINKTYPE_ETHERNET and data[12:14] == b"\x86\xdd":
            # The commonest signalling frames: Ethernet, one IPv6 header, then an MH or SCTP.  The
            # same records as the general walk below (tests compare the two), with fewer steps.
            nh = data[20] if len(data) >= 54 else -1
            if nh == IPPROTO_MH and data[14] >> 4 == 6:
                # the payload length and hop limit by index, both addresses by one slice (see _pair)
                n = len(data)
                plen = (data[18] << 8) | data[19]
                end = 54 + plen if plen else n
                if end <= n:
                    shared = self._infos.get((6, data[21], end - 54))
                    if shared is not None:
                        pair = data[22:54]
                        src, dst = self._pairs.get(pair) or self._pair(pair)
                        return (Carried(file, frame, time_ns, src, dst, "mh", data[54:end], (frame,), shared),)
            elif nh == IPPROTO_SCTP and data[14] >> 4 == 6:
                plen, hop, src_raw, dst_raw = _V6_HEADER(data, 14)
                n = len(data)
                end = 54 + plen if plen else n
                if end <= n:  # what _signalling and _sctp_packet do for it, its info shared by hop limit
                    segment = data[54:end]
                    one = self._sctp.one_chunk((src_raw, dst_raw), segment)
                    if one is not None:  # most SCTP packets: one chunk, a whole CXTP message or none
                        return (self._whole_sctp(file, frame, time_ns, src_raw, dst_raw, hop, segment, one),) \
                            if one else _NOTHING
                    messages, notices = self._sctp.packet(file, frame, (src_raw, dst_raw), segment)
                    if not messages:
                        return notices
                    out: list[Item] = list(notices)
                    self._sctp_messages(file, frame, time_ns, src_raw, dst_raw, segment, self._plain_v6_info(hop),
                                        messages, out)
                    return out
            off = ETHERNET_HEADER_LEN
        elif linktype == LINKTYPE_ETHERNET and data[12:14] == b"\x08\x00":
            off = ETHERNET_HEADER_LEN
        else:
            parser = LINK_PARSERS.get(linktype)
            if parser is None:
                return self._unknown_link(file, linktype)
            off = parser(data)
            if off < 0:
                self.stats["not_ip"] += 1
                return _NOTHING
        n = len(data)
        layers: list[int] | None = None  # IP header offset of each tunnel layer, outermost first
        while True:
            if off >= n:
                return _NOTHING
            version = data[off] >> 4
            if version == 6:
                if off + 40 > n:
                    self.stats["truncated"] += 1
                    return _NOTHING
                nh = data[off + 6]
                p = off + 40
                if nh in _EXT6:
                    nh, p = self._walk_ext6(data, nh, p, n)
                    if nh < 0:
                        return _NOTHING
            elif version == 4:
                p = off + ((data[off] & 15) << 2)
                if p < off + 20 or p > n:
                    self.stats["truncated"] += 1
                    return _NOTHING
                if (data[off + 6] & 0x1F) | data[off + 7]:
                    self.stats["non_first_fragments"] += 1
                    return _NOTHING
                nh = data[off + 9]
            else:
                self.stats["not_ip"] += 1
                return _NOTHING
            if nh == IPPROTO_IPV6 or nh == IPPROTO_IPIP:  # noqa: SIM109 - the hot path; no tuple built
                inner = p
            elif nh == IPPROTO_GRE:
                inner = self._gre(data, p, n)
                if inner < 0:
                    return _NOTHING
            else:
                break
            if layers is None:
                layers = [off]
            else:
                layers.append(off)
                if len(layers) > MAX_TUNNELS:
                    self.stats["tunnel_depth"] += 1
                    return (Notice("capture.tunnel-depth",
                                   f"more than {MAX_TUNNELS} nested tunnels; not opened",
                                   file=file, frame=frame),)
            off = inner
        if nh in _SIGNALLING:
            if nh == IPPROTO_UDP:
                ports = self._udp_ports
                if p + 4 <= n and (((data[p] << 8) | data[p + 1]) in ports
                                   or ((data[p + 2] << 8) | data[p + 3]) in ports):
                    return self._signalling(file, frame, time_ns, data, off, nh, p, layers)
            elif nh == IPPROTO_ICMPV6:
                if p < n and (data[p] == registry.CXTP_ICMPV6_TYPE or data[p] in _ND_TYPES):
                    return self._signalling(file, frame, time_ns, data, off, nh, p, layers)
            elif nh == IPPROTO_ICMP:
                if p < n and data[p] == registry.CXTP_ICMPV4_TYPE:
                    return self._signalling(file, frame, time_ns, data, off, nh, p, layers)
            else:
                return self._signalling(file, frame, time_ns, data, off, nh, p, layers)
        if layers is None:
            return _NOTHING
        found: Sequence[Item] = _NOTHING
        flows = self._flows
        if flows is not None:  # which tunnel each inner flow is in: PathTracker.packet, inline
            o = layers[-1]
            if off - o == 40 and version == 6 and data[o] >> 4 == 6:
                tunnel, flow = V6_IN_V6(data, o + 8)
            else:
                tunnel = data[o + 8 : o + 40] if data[o] >> 4 == 6 else data[o + 12 : o + 20]
                flow = data[off + 8 : off + 40] if version == 6 else data[off + 12 : off + 20]
            state = flows.get(flow)
            if state is not None and state[0] == tunnel:
                state[1] = time_ns
                state[2] = frame
            elif state is not IGNORED:
                found = self._paths.change(flow, tunnel, state, file, frame, time_ns)
        if self.track_user_plane:
            return (*found, *self._user_plane(file, frame, time_ns, data, off, layers))
        return found

    # -- layers ------------------------------------------------------------------------------

    def _walk_ext6(self, data: bytes, nh: int, p: int, n: int) -> tuple[int, int]:
        """Step over IPv6 extension headers: (upper-layer next header, its offset), or nh -1 to stop."""
        for _ in range(MAX_EXT_HEADERS):
            if nh not in _EXT6:
                if p > n:
                    self.stats["truncated"] += 1
                    return -1, p
                return nh, p
            if nh == IPPROTO_ESP:
                self.stats["esp"] += 1
                return -1, p
            if p + 8 > n:
                self.stats["truncated"] += 1
                return -1, p
            if nh == IPPROTO_FRAGMENT:
                if ((data[p + 2] << 8) | data[p + 3]) & 0xFFF8:
                    self.stats["non_first_fragments"] += 1
                    return -1, p
                size = 8
            elif nh == IPPROTO_AH:
                size = (data[p + 1] + 2) << 2
            else:
                size = (data[p + 1] + 1) << 3
            nh = data[p]
            p += size
        self.stats["truncated"] += 1
        return -1, p

    @staticmethod
    def _more_fragments(data: bytes, off: int, upper: int) -> bool:
        """Whether the IP header at ``off`` is the first fragment of a fragmented packet."""
        if data[off] >> 4 == 4:
            return bool(data[off + 6] & 0x20)
        nh, p = data[off + 6], off + 40
        while p < upper and nh in _EXT6:
            if nh == IPPROTO_FRAGMENT:
                return bool(data[p + 3] & 1)
            size = (data[p + 1] + 2) << 2 if nh == IPPROTO_AH else (data[p + 1] + 1) << 3
            nh, p = data[p], p + size
        return False

    @staticmethod
    def _gre(data: bytes, p: int, n: int) -> int:
        """Offset of the IP header a GRE header (RFC 2784/2890) carries, -1 if it carries none."""
        if p + 4 > n:
            return -1
        bits = (data[p] << 8) | data[p + 1]
        if bits & (GRE_R | GRE_VERSION):
            return -1
        proto = (data[p + 2] << 8) | data[p + 3]
        q = p + 4 + (4 if bits & GRE_C else 0) + (4 if bits & GRE_K else 0) + (4 if bits & GRE_S else 0)
        if proto in (GRE_PROTO_IPV6, GRE_PROTO_IPV4):
            return q
        if proto == GRE_PROTO_ETHERNET:
            return ethernet(data, q)
        return -1

    @staticmethod
    def _gre_key(data: bytes, ip: int) -> int | None:
        """The key of the GRE header right after the IP header at ``ip``, if it has one."""
        p = ip + 40 if data[ip] >> 4 == 6 else ip + ((data[ip] & 15) << 2)
        if data[p] & (GRE_K >> 8) and data[ip + 6 if data[ip] >> 4 == 6 else ip + 9] == IPPROTO_GRE:
            q = p + 4 + (4 if data[p] & (GRE_C >> 8) else 0)
            return int.from_bytes(data[q : q + 4], "big")
        return None

    def _unknown_link(self, file: str, linktype: int) -> Sequence[Item]:
        self.stats["not_ip"] += 1
        if (file, linktype) in self._unknown_links:
            return _NOTHING
        self._unknown_links.add((file, linktype))
        return (Notice("capture.unsupported-linktype",
                       f"link type {linktype} is not looked into (frames of it are skipped)",
                       file=file, severity="info"),)

    # -- results -----------------------------------------------------------------------------

    def _name(self, raw: bytes) -> str:
        name = self._names.get(raw)
        if name is None:
            if len(self._names) >= _NAME_CACHE:
                self._names.clear()
            name = self._names[raw] = str(ipaddress.ip_address(raw))
        return name

    def _pair(self, pair: bytes) -> tuple[str, str]:
        """The text of an IPv6 source and destination given together (see ``_pairs``)."""
        if len(self._pairs) >= _NAME_CACHE:
            self._pairs.clear()
        names = self._pairs[pair] = (self._name(pair[:16]), self._name(pair[16:]))
        return names

    def _shared_info(self, info: dict[str, object]) -> dict[str, object]:
        """An equal info dict made before, if any, to hand on instead of ``info``.

        A capture has few distinct ones (hop limits, IP lengths, ports, tunnel layers) and each
        decoded message keeps its own: one shared dict each is most of that memory, and sharing
        here costs less than any later stage could (the values are all hashable, and one key's
        values all of one type, so ``True`` never stands for ``1``).  Read-only once handed on.
        """
        if len(info) == 3 and "ip_payload_len" in info:  # a plain MH's: IP version, hop limit, that length
            key: tuple[object, ...] = tuple(info.values())  # (ints: no pair of keys and values to build)
        else:
            key = tuple(info.items())
        shared = self._infos.get(key)
        if shared is None:
            if len(self._infos) >= _INFO_CACHE:
                self._infos.clear()
            shared = self._infos[key] = info
        return shared

    def _addresses(self, data: bytes, off: int) -> tuple[bytes, bytes]:
        if data[off] >> 4 == 6:
            return data[off + 8 : off + 24], data[off + 24 : off + 40]
        return data[off + 12 : off + 16], data[off + 16 : off + 20]

    def _user_plane(self, file: str, frame: int, time_ns: int, data: bytes, off: int,
                    layers: list[int]) -> Sequence[Item]:
        outer_src, outer_dst = self._addresses(data, layers[-1])
        inner_src, inner_dst = self._addresses(data, off)
        name = self._name
        return (Tunnelled(file, frame, time_ns, name(outer_src), name(outer_dst), name(inner_src),
                          name(inner_dst)),)

    def _signalling(self, file: str, frame: int, time_ns: int, data: bytes, off: int, nh: int, p: int,
                    layers: list[int] | None) -> Sequence[Item]:
        n = len(data)
        if data[off] >> 4 == 6:
            plen, hop, src_raw, dst_raw = _V6_HEADER(data, off)
            end = off + 40 + plen if plen else n  # 0: a jumbogram, or a TSO capture
            if nh == IPPROTO_MH and p == off + 40 and not layers and end <= n:
                # The commonest frame of a signalling capture: an MH right after one IPv6 header,
                # whose info (IP version, hop limit, length) was made before: see _shared_info.
                shared = self._infos.get((6, hop, end - p))
                if shared is not None:
                    names = self._names
                    return (Carried(file, frame, time_ns, names.get(src_raw) or self._name(src_raw),
                                    names.get(dst_raw) or self._name(dst_raw), "mh", data[p:end], (frame,), shared),)
            frag = p > off + 40 and self._more_fragments(data, off, p)  # a fragment header is an extension
            info: dict[str, object] = {"ip_version": 6, "hop_limit": hop}
        else:
            total, hop, src_raw, dst_raw = _V4_HEADER(data, off)
            end = off + total if total >= p - off else n
            frag = bool(data[off + 6] & 0x20)
            info = {"ip_version": 4, "hop_limit": hop}
        if layers:
            info["outer"] = tuple((self._name(s), self._name(d))
                                  for s, d in (self._addresses(data, ip) for ip in layers))
            keys = tuple(k for k in (self._gre_key(data, ip) for ip in layers) if k is not None)
            if keys:
                info["gre_keys"] = keys
        if end > n:
            info["captured_short"] = True
        stop = end if end < n else n
        out: list[Item] = []
        if frag:
            info["fragmented"] = True
            out.append(Notice("capture.fragmented-signalling",
                              "signalling in a fragmented IP packet: only the first fragment is looked at",
                              file=file, frame=frame))
        if nh == IPPROTO_SCTP:  # most SCTP packets (SACK, INIT, ...) carry no message: names only if one does
            self._sctp_packet(file, frame, time_ns, src_raw, dst_raw, data[p:stop], info, out)
            return out
        names = self._names
        src = names.get(src_raw) or self._name(src_raw)
        dst = names.get(dst_raw) or self._name(dst_raw)
        if nh == IPPROTO_MH or nh == IPPROTO_MH_OLD:  # noqa: SIM109 - per message; no tuple built
            info["ip_payload_len"] = end - p
            if p > off + 40 and info["ip_version"] == 6:  # only extension headers change the pseudo-header
                self._checksum_addresses(data, off, p, info)
            out.append(Carried(file, frame, time_ns, src, dst, "mh" if nh == IPPROTO_MH else "mh-old",
                               data[p:stop], (frame,), self._shared_info(info)))
        elif nh == IPPROTO_UDP:
            if p + UDP_HEADER_LEN > n:
                return out
            sport, dport, ulen = _UDP_HEADER(data, p)
            info["sport"], info["dport"] = sport, dport
            ustop = min(stop, p + ulen) if ulen >= UDP_HEADER_LEN else stop
            pmip = sport in self._pmip_ports or dport in self._pmip_ports
            out.append(Carried(file, frame, time_ns, src, dst, "mh-udp" if pmip else "udp",
                               data[p + UDP_HEADER_LEN : ustop], (frame,), self._shared_info(info)))
        elif nh == IPPROTO_ICMPV6 and data[p] in _ND_TYPES:
            out.append(Carried(file, frame, time_ns, src, dst, "nd", data[p:stop], (frame,), self._shared_info(info)))
        else:  # ICMPv6 150 / ICMPv4 41 (type checked by the caller)
            if p + ICMP_HEADER_LEN > n or data[p + 4] != registry.CXTP_ICMP_SUBTYPE:
                return out
            info["code"], info["subtype"] = data[p + 1], data[p + 4]
            transport = "icmpv6" if nh == IPPROTO_ICMPV6 else "icmpv4"
            out.append(Carried(file, frame, time_ns, src, dst, transport, data[p + ICMP_HEADER_LEN : stop],
                               (frame,), self._shared_info(info)))
        return out

    def _sctp_packet(self, file: str, frame: int, time_ns: int, src_raw: bytes, dst_raw: bytes,
                     segment: bytes, info: dict[str, object], out: list[Item]) -> None:
        messages, notices = self._sctp.packet(file, frame, (src_raw, dst_raw), segment)
        if notices:
            out.extend(notices)
        if messages:  # the packet's info is shared by each message's SctpInfo
            self._sctp_messages(file, frame, time_ns, src_raw, dst_raw, segment, self._shared_info(info),
                                messages, out)

    def _sctp_messages(self, file: str, frame: int, time_ns: int, src_raw: bytes, dst_raw: bytes,
                       segment: bytes, info: Mapping[str, object], messages: Sequence[UserMessage],
                       out: list[Item]) -> None:
        crc_ok = None
        if self.verify_sctp_checksum and "captured_short" not in info:
            crc_ok = checksum_ok(segment)
        names = self._names
        src = names.get(src_raw) or self._name(src_raw)
        dst = names.get(dst_raw) or self._name(dst_raw)
        for m in messages:
            out.append(Carried(file, frame, time_ns, src, dst, "sctp", m.data, m.frames,
                               SctpInfo(info, m.sport, m.dport, m.vtag, m.ppi, m.stream, m.ssn, m.tsn,
                                        m.unordered, m.chunk_flags, crc_ok, m.retransmission)))

    def _plain_v6_info(self, hop: int) -> dict[str, object]:
        """The shared carrier info of an IPv6 packet with no extension header and this hop limit."""
        info = self._plain_v6.get(hop)
        if info is None:
            info = self._plain_v6[hop] = self._shared_info({"ip_version": 6, "hop_limit": hop})
        return info

    def _whole_sctp(self, file: str, frame: int, time_ns: int, src_raw: bytes, dst_raw: bytes, hop: int,
                    segment: bytes, whole: WholeMessage) -> Carried:
        """:meth:`_sctp_messages` for the one message of a one-chunk packet right after a plain IPv6
        header (whole in the capture: its checksum can be checked)."""
        payload, sport, dport, vtag, ppi, stream, ssn, tsn, unordered, flags, retrans = whole
        names = self._names
        return Carried(file, frame, time_ns, names.get(src_raw) or self._name(src_raw),
                       names.get(dst_raw) or self._name(dst_raw), "sctp", payload, (frame,),
                       SctpInfo(self._plain_v6_info(hop), sport, dport, vtag, ppi, stream, ssn, tsn, unordered, flags,
                                checksum_ok(segment) if self.verify_sctp_checksum else None, retrans))

    def _checksum_addresses(self, data: bytes, off: int, mh: int, info: dict[str, object]) -> None:
        """RFC 6275 6.1.1: a Home Address option or a type 2 routing header changes the pseudo-header."""
        nh, p = data[off + 6], off + 40
        mh = min(mh, len(data))
        for _ in range(MAX_EXT_HEADERS):
            if p >= mh or nh not in _EXT6 or nh == IPPROTO_ESP:
                return
            if nh == IPPROTO_FRAGMENT:
                size = 8
            elif nh == IPPROTO_AH:
                size = (data[p + 1] + 2) << 2
            else:
                size = (data[p + 1] + 1) << 3
            if nh == IPPROTO_ROUTING and data[p + 2] == ROUTING_TYPE_2 and p + 24 <= mh:
                info["checksum_dst"] = self._name(data[p + 8 : p + 24])
            elif nh == IPPROTO_DSTOPTS:
                q = p + 2
                while q + 2 <= min(p + size, mh):
                    otype = data[q]
                    if otype == 0:  # Pad1
                        q += 1
                        continue
                    olen = data[q + 1]
                    if otype == HOME_ADDRESS_OPTION and olen == 16 and q + 18 <= mh:
                        info["checksum_src"] = self._name(data[q + 2 : q + 18])
                    q += 2 + olen
            nh = data[p]
            p += size


def iter_file(path: str, profile: Profile = DEFAULT_PROFILE, *,
              track_user_plane: bool = False, frame_counts: dict[str, int] | None = None) -> Iterator[Item]:
    """Everything one capture file carries, in frame order, with the reader's notices in place.

    One file, one stream: a time-ordered merge of several files can wrap these streams in a heap.
    ``frame_counts[path]`` is set to the number of frames read, for the report's inputs.  The
    reader hands each frame to the extractor itself (no record per frame, no step of this loop).
    """
    extractor = Extractor(profile, track_user_plane)
    frames = yield from iter_records(path, extractor.screen, extractor.feed_raw)  # type: ignore[misc]
    if frame_counts is not None:
        frame_counts[path] = frames
    yield from extractor.finish()


def iter_carried(paths: Iterable[str], profile: Profile = DEFAULT_PROFILE, *,
                 track_user_plane: bool = False, frame_counts: dict[str, int] | None = None) -> Iterator[Item]:
    """:func:`iter_file` for several files, one after the other (chained in C: no step per item here)."""
    return chain.from_iterable(
        iter_file(path, profile, track_user_plane=track_user_plane, frame_counts=frame_counts) for path in paths)
