"""Where the layers sit under scapy's dissector: IPv6 next header, UDP, ICMP, SCTP.

Importing :mod:`pmipct_check.layers` calls :func:`bind_defaults`: IPv6 next header 135 (and
62, old implementations) and UDP 5436 (RFC 5844) dissect as :class:`~.mh.MobilityHeader`, ahead
of scapy's fixed-size ``MIP6MH_*`` classes (those are only scapy's fallback in
``IPv6.default_payload_class``; a ``bind_layers`` entry is consulted first).  ICMPv6 150 and
ICMPv4 41 carry CXTP; an SCTP DATA chunk whose user data passes the CXTP header check
dissects as CXTP.  :func:`bind_profile` adds what a profile says: SCTP PPIs and ports, UDP
ports, the pMAG option code points and remapped option types.
"""

from __future__ import annotations

from typing import Any

import scapy.layers.sctp as sctp
from scapy.config import conf
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPerror6, IPv6, icmp6typescls, icmp6typesminhdrlen
from scapy.layers.sctp import SCTP, SCTPChunkData
from scapy.packet import Packet, bind_bottom_up, bind_layers, split_bottom_up

from .. import registry
from ..capture.sctp import cxtp_header_ok
from .cxtp import CXTP
from .icmp import ICMPExpMobility, ICMPv4Guess, ICMPv6ExpMobility
from .mh import MobilityHeader
from .options import CODEPOINTS, OptionCodepoints


class CXTPGuess(Packet):
    """SCTP user data: CXTP when it passes the capture stage's header check, else Raw."""

    name = "CXTP?"
    fields_desc = []  # noqa: RUF012 - never instantiated: dispatch_hook always answers

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        return CXTP.dispatch_hook(_pkt) if _pkt and cxtp_header_ok(_pkt) else conf.raw_layer


def _chunk_class(chunk_type: int) -> type[Packet]:
    name = sctp.sctpchunktypescls.get(chunk_type)
    return getattr(sctp, name) if name else conf.raw_layer


class SCTPChunkOnCXTPPort(Packet):
    """The first chunk of an SCTP packet on a CXTP port: chunks stay in that mode."""

    name = "SCTP chunk (CXTP port)"
    fields_desc = []  # noqa: RUF012 - never instantiated: dispatch_hook always answers

    @classmethod
    def dispatch_hook(cls, _pkt: bytes | None = None, *args: Any, **kargs: Any) -> type[Packet]:
        if not _pkt or len(_pkt) < 4:
            return conf.padding_layer
        return _PORT_MODE.get(_pkt[0], conf.raw_layer)


def _port_mode_next(self: Packet, payload: bytes) -> type[Packet]:
    return SCTPChunkOnCXTPPort


def _port_mode_class(chunk_type: int) -> type[Packet]:
    base = _chunk_class(chunk_type)
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "guess_payload_class": _port_mode_next,
        "default_payload_class": _port_mode_next,
    }
    if base is SCTPChunkData:
        attrs["payload_guess"] = [({}, CXTP)]  # read by the data field: user data is CXTP
    return type(base.__name__ + "OnCXTPPort", (base,), attrs)


_PORT_MODE: dict[int, type[Packet]] = {
    t: _port_mode_class(t) for t in sctp.sctpchunktypescls if _chunk_class(t) is not conf.raw_layer
}

_OURS = (MobilityHeader, CXTP, CXTPGuess, SCTPChunkOnCXTPPort)


def _drop_ours(lower: type[Packet]) -> None:
    lower.payload_guess = [(f, c) for f, c in lower.payload_guess if c not in _OURS]


def bind_defaults() -> None:
    """The bindings every user of the layers gets (import time)."""
    bind_layers(IPv6, MobilityHeader, nh=registry.IPPROTO_MH)
    bind_bottom_up(IPv6, MobilityHeader, nh=registry.IPPROTO_MH_OLD)
    bind_bottom_up(IPerror6, MobilityHeader, nh=registry.IPPROTO_MH)  # quoted in ICMPv6 errors
    icmp6typescls[registry.CXTP_ICMPV6_TYPE] = ICMPv6ExpMobility
    icmp6typesminhdrlen[registry.CXTP_ICMPV6_TYPE] = 8
    bind_layers(ICMPv6ExpMobility, CXTP, subtype=registry.CXTP_ICMP_SUBTYPE)
    bind_layers(ICMPExpMobility, CXTP, subtype=registry.CXTP_ICMP_SUBTYPE)
    split_bottom_up(IP, ICMP, frag=0, proto=1)
    bind_bottom_up(IP, ICMPv4Guess, frag=0, proto=1)
    bind_profile(None)


def bind_profile(profile: Any | None) -> None:
    """Apply a :class:`~pmipct_check.profile.Profile` (``None``: the defaults) to dissection.

    Replaces the previous profile's bindings: SCTP PPIs and ports and UDP ports for CXTP, the
    header check on SCTP user data, UDP ports for the mobility header, the pMAG option code
    points and remapped option types.
    """
    if profile is None:
        from ..profile import DEFAULT_PROFILE

        profile = DEFAULT_PROFILE
    for lower in (SCTPChunkData, SCTP, UDP):
        _drop_ours(lower)
    SCTPChunkData.payload_guess = [
        *(({"proto_id": ppi}, CXTP) for ppi in sorted(profile.cxtp_sctp_ppis)),
        *SCTPChunkData.payload_guess,
        *([({}, CXTPGuess)] if profile.cxtp_header_check else []),
    ]
    for port in sorted(profile.cxtp_sctp_ports):
        bind_bottom_up(SCTP, SCTPChunkOnCXTPPort, sport=port)
        bind_bottom_up(SCTP, SCTPChunkOnCXTPPort, dport=port)
    for port in sorted(profile.cxtp_udp_ports):
        bind_bottom_up(UDP, CXTP, sport=port)
        bind_bottom_up(UDP, CXTP, dport=port)
    for port in sorted(profile.pmip_udp_ports):
        bind_bottom_up(UDP, MobilityHeader, sport=port)
        bind_bottom_up(UDP, MobilityHeader, dport=port)
    CODEPOINTS[0] = OptionCodepoints.from_profile(profile)
