"""Trace -> capture file: link framing by name, pcap or pcapng, through the capture writer."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from types import MappingProxyType

from ..capture import link
from ..capture.writer import CaptureWriter, frame_ip
from .build import Trace

#: --link name -> (LINKTYPE, VLAN ids outermost first)
LINKS: Mapping[str, tuple[int, tuple[int, ...]]] = MappingProxyType(
    {
        "ethernet": (link.LINKTYPE_ETHERNET, ()),
        "vlan": (link.LINKTYPE_ETHERNET, (100,)),
        "qinq": (link.LINKTYPE_ETHERNET, (200, 100)),
        "sll": (link.LINKTYPE_LINUX_SLL, ()),
        "sll2": (link.LINKTYPE_LINUX_SLL2, ()),
        "raw": (link.LINKTYPE_RAW, ()),
        "loopback": (link.LINKTYPE_NULL, ()),
    }
)
FORMATS = ("pcap", "pcapng")


def node_mac(name: str, configured: str = "") -> bytes:
    """The node's MAC: configured, or a locally administered one derived from its name."""
    if configured:
        return bytes.fromhex(configured.replace(":", "").replace("-", ""))
    return b"\x02" + hashlib.sha256(name.encode()).digest()[:5]


def write_trace(trace: Trace, path: str | os.PathLike[str], link_name: str = "ethernet",
                fmt: str = "pcap", compress: bool = False) -> int:
    """Write every frame of ``trace`` (gzipped with ``compress``); returns the number of frames."""
    linktype, vlans = LINKS[link_name]
    macs = {n.name: node_mac(n.name, n.mac) for n in trace.scenario.nodes}
    with CaptureWriter(path, fmt=fmt, linktype=linktype, gzip=compress) as writer:
        for frame in trace.frames:
            data = frame_ip(frame.ip, linktype, vlans=vlans, src_mac=macs[frame.src], dst_mac=macs[frame.dst])
            writer.write(frame.time_ns, data)
    return len(trace.frames)
