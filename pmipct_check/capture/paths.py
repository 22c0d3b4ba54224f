"""Which MAG the user plane of each flow is tunnelled to: per-flow state, never the packets.

The data-path interruption of a handover (issue 6) is the time from the last downlink packet
tunnelled LMA -> pMAG for the MN's prefix to the first one tunnelled LMA -> nMAG.  A capture of a
lab is mostly such packets, so this runs on the hot path and keeps one entry per inner flow
(inner source and destination addresses): the tunnel (outer source and destination) it was last
seen in, when, and in which frame.  Per packet that is a dict lookup and a compare, done by the
reader itself for a flow that stays in its tunnel (:class:`UserPlaneScreen`: no record is made
for the packet), by the extractor for anything else.

When a flow's tunnel changes at one end, a :class:`~.model.PathSwitch` is handed on at that very
packet (in time order with everything else the extractor yields): the outer destination changed
is a downlink switch for the inner destination's /64 (LMA -> pMAG, then LMA -> nMAG), the outer
source changed an uplink one for the inner source's /64.  A change of both ends is another leg of
the same flow (MN-to-MN traffic seen on its way up and down): no switch.  The analysis matches
switches to handovers by prefix and pMAG -> nMAG (earliest switch of the MN's flows).

Bounds: ``max_flows`` entries (the state is started afresh past it), ``max_switches`` per
stream (then one notice), and a flow whose tunnel flips back and forth ``FLAP_LIMIT`` times
within ``FLAP_NS`` each (bicasting, load balancing: no handover explains it) is no longer
followed.  An inner IPv4 packet (an IPv4 home address) is keyed by its whole address (``/32``).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Sequence

from ..notices import Notice
from .link import LINKTYPE_ETHERNET
from .model import PathSwitch

#: Flows followed before the state is started afresh: bounds memory whatever the capture.
MAX_FLOWS = 1 << 17
#: Switches handed on per stream.
MAX_SWITCHES = 1 << 16
#: A flow whose tunnel flips back to where it was this many times in a row, each within
#: ``FLAP_NS`` of the previous flip, is no longer followed (no MN hands over that fast).
FLAP_LIMIT = 8
FLAP_NS = 1_000_000_000

_NOTHING: tuple = ()


#: (outer source+destination, inner source+destination) of IPv6 in IPv6 without extension headers
#: (PMIPv6's own tunnel) in one C call: the extractor's hot path, cheaper than two slices.
V6_IN_V6 = struct.Struct("!32s8x32s").unpack_from

#: The state of a flow no longer followed: its tunnel compares unequal to every tunnel, and the
#: extractor skips a flow whose state this is.
IGNORED: list = [object(), 0, 0, 0, 0]


#: What a reader unpacks to screen a frame (:class:`UserPlaneScreen`), from the frame's first octet:
#: Ethernet type, outer IPv6 version octet and next header, the tunnel (outer source+destination),
#: inner IPv6 version octet and next header, the flow (inner source+destination), the first four
#: octets after the inner header (UDP ports).  Octets and single bytes only, so a reader can append
#: it to its own record header in the file's byte order and take both in one unpack.
SCREEN_LAYOUT = "12x2sB5xBx32sB5xBx32s2s2s"
SCREEN_LEN = 98
SCREEN = struct.Struct("!" + SCREEN_LAYOUT).unpack_from
ETHERTYPE_IPV6 = b"\x86\xdd"
IPPROTO_IPV6 = 41
IPPROTO_UDP = 17


class UserPlaneScreen:
    """Which frames a reader may pass over without handing them on: plainly tunnelled user plane.

    A frame qualifies when it is Ethernet, IPv6 whose next header is IPv6 (PMIPv6's tunnel, no
    extension header in between) and the inner packet's next header is none the extractor looks
    into (``stop``: extension headers, tunnels, signalling; UDP counts only to or from one of the
    signalling ``ports``), and its flow is followed in that very tunnel already.  For such a frame
    the extractor would do nothing but note the frame and its time in the flow's state;
    :meth:`passes` does exactly that.  A new flow, a switch of tunnel, a flow no longer followed,
    signalling and any other shape are handed on as before: a screen changes how fast, never what.

    Readers call :meth:`passes` per frame or do the same inline (pcapng: one unpack of the block
    header and :data:`SCREEN_LAYOUT`).
    """

    __slots__ = ("flows", "ports", "stop")

    def __init__(self, flows: dict[bytes, list], stop: frozenset[int], ports: frozenset[int]) -> None:
        self.flows = flows  # the tracker's own dict (cleared in place, never replaced)
        self.stop = stop
        self.ports = frozenset(port.to_bytes(2, "big") for port in ports)  # as SCREEN unpacks them

    def passes(self, data: bytes, start: int, caplen: int, linktype: int, frame: int, time_ns: int) -> bool:
        """Whether the frame at ``data[start:start + caplen]`` is dealt with (its flow's state updated)."""
        if linktype != LINKTYPE_ETHERNET or caplen < SCREEN_LEN:
            return False
        ethertype, outer_v, outer_nh, tunnel, inner_v, inner_nh, flow, sport, dport = SCREEN(data, start)
        if (ethertype != ETHERTYPE_IPV6 or outer_nh != IPPROTO_IPV6 or outer_v >> 4 != 6 or inner_v >> 4 != 6
                or (inner_nh in self.stop and (inner_nh != IPPROTO_UDP or sport in self.ports
                                               or dport in self.ports))):
            return False
        state = self.flows.get(flow)
        if state is None or state[0] != tunnel:
            return False
        state[1] = time_ns
        state[2] = frame
        return True


def prefix_text(address: bytes) -> str:
    """The prefix an inner address stands for: 16 octets -> its /64, 4 -> ``192.0.2.5/32``."""
    if len(address) == 16:
        return str(ipaddress.IPv6Network((address[:8] + bytes(8), 64)))
    return f"{ipaddress.IPv4Address(address)}/32"


class PathTracker:
    """Per-flow tunnel endpoints of one capture stream; :meth:`packet` is called per tunnelled packet."""

    __slots__ = ("_name", "flapping", "flows", "max_flows", "max_switches", "resets", "switches")

    def __init__(self, name: Callable[[bytes], str], max_flows: int = MAX_FLOWS,
                 max_switches: int = MAX_SWITCHES) -> None:
        # inner src+dst -> [outer src+dst, last time_ns, last frame, flips in a row, last flip ns]
        self.flows: dict[bytes, list] = {}  # the extractor reads it inline: kept, cleared in place
        self._name = name  # raw address -> canonical text (the extractor's cache)
        self.max_flows = max_flows
        self.max_switches = max_switches
        self.switches = 0
        self.resets = 0
        self.flapping = 0

    def packet(self, file: str, frame: int, time_ns: int, data: bytes, outer: int, inner: int
               ) -> Sequence[PathSwitch | Notice]:
        """Update the state with one tunnelled packet (IP headers at ``outer`` and ``inner``, complete).

        The extractor does the same inline (its hot path); this is the readable reference.
        """
        tunnel = data[outer + 8 : outer + 40] if data[outer] >> 4 == 6 else data[outer + 12 : outer + 20]
        flow = data[inner + 8 : inner + 40] if data[inner] >> 4 == 6 else data[inner + 12 : inner + 20]
        state = self.flows.get(flow)
        if state is not None and state[0] == tunnel:
            state[1] = time_ns
            state[2] = frame
            return _NOTHING
        if state is IGNORED:
            return _NOTHING
        return self.change(flow, tunnel, state, file, frame, time_ns)

    def change(self, flow: bytes, tunnel: bytes, state: list | None, file: str, frame: int, time_ns: int
                ) -> Sequence[PathSwitch | Notice]:
        """The slow path: a new flow, or a known one in another tunnel than before."""
        if state is None:
            if len(self.flows) >= self.max_flows:
                self.flows.clear()
                self.resets += 1
            self.flows[flow] = [tunnel, time_ns, frame, 0, 0]
            return _NOTHING
        old, old_ns, old_frame, flips, flip_ns = state
        half = len(tunnel) // 2
        same_src, same_dst = old[:half] == tunnel[:half], old[half:] == tunnel[half:]
        state[0], state[1], state[2] = tunnel, time_ns, frame
        if same_src == same_dst:  # another leg of the flow (or the same tunnel): not a path switch
            return _NOTHING
        flips = flips + 1 if time_ns - flip_ns <= FLAP_NS else 1
        state[3], state[4] = flips, time_ns
        if flips >= FLAP_LIMIT:
            self.flows[flow] = IGNORED
            self.flapping += 1
            return _NOTHING
        self.switches += 1
        if self.switches > self.max_switches:
            if self.switches == self.max_switches + 1:
                return (Notice("capture.path-switches",
                               f"more than {self.max_switches} tunnel path changes; the rest are not "
                               "reported", file=file, frame=frame, severity="info"),)
            return _NOTHING
        name = self._name
        if same_src:  # the outer destination moved: downlink to the inner destination
            direction, prefix = "down", prefix_text(flow[len(flow) // 2:])
            before, after, lma = old[half:], tunnel[half:], tunnel[:half]
        else:
            direction, prefix = "up", prefix_text(flow[: len(flow) // 2])
            before, after, lma = old[:half], tunnel[:half], tunnel[half:]
        return (PathSwitch(file, frame, time_ns, direction, prefix, name(before), name(after),
                           old_frame, time_ns - old_ns, name(lma)),)
