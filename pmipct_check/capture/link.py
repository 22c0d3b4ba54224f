"""Link layers: where the IP header starts in a frame, decided from a few octets.

Each parser takes the frame and returns the offset of the IP header, or -1 when the frame
carries something else (ARP, LLDP, a truncated header).  Link-layer numbers are LINKTYPE_*
values from tcpdump.org; they are capture facts, not protocol facts, so they live here rather
than in the registry.
"""

from __future__ import annotations

from collections.abc import Callable

LINKTYPE_NULL = 0  # BSD loopback, AF value in the writer's byte order
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_BSD = 12  # raw IP on some BSDs (DLT_RAW's value there)
LINKTYPE_RAW_BSDOS = 14
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108  # OpenBSD loopback, AF value in network byte order
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_QINQ = 0x88A8
ETHERTYPE_QINQ_OLD = 0x9100
VLAN_TPIDS = frozenset({ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD})
#: More stacked VLAN tags than this and the frame is not looked into.
MAX_VLAN_TAGS = 4

AF_INET = 2
AF_INET6_BSD = (24, 28, 30)  # NetBSD/OpenBSD, FreeBSD, Darwin
_LOOP_AF = frozenset(
    {AF_INET, AF_INET << 24}
    | set(AF_INET6_BSD)
    | {v << 24 for v in AF_INET6_BSD}
)

SLL_HEADER_LEN = 16
SLL2_HEADER_LEN = 20
ETHERNET_HEADER_LEN = 14

_IP_ETHERTYPES = (ETHERTYPE_IPV4, ETHERTYPE_IPV6)


def ethernet(data: bytes, start: int = 0) -> int:
    """Ethernet II with up to MAX_VLAN_TAGS 802.1Q / 802.1ad tags."""
    p = start + 12
    for _ in range(MAX_VLAN_TAGS + 1):
        if p + 2 > len(data):
            return -1
        etype = (data[p] << 8) | data[p + 1]
        if etype in (ETHERTYPE_IPV6, ETHERTYPE_IPV4):
            return p + 2
        if etype not in VLAN_TPIDS:
            return -1
        p += 4
    return -1


def linux_sll(data: bytes) -> int:
    if len(data) < SLL_HEADER_LEN:
        return -1
    return SLL_HEADER_LEN if ((data[14] << 8) | data[15]) in _IP_ETHERTYPES else -1


def linux_sll2(data: bytes) -> int:
    if len(data) < SLL2_HEADER_LEN:
        return -1
    return SLL2_HEADER_LEN if ((data[0] << 8) | data[1]) in _IP_ETHERTYPES else -1


def raw_ip(data: bytes) -> int:
    return 0


def loopback(data: bytes) -> int:
    """BSD NULL and LOOP: a 4-octet address family in either byte order."""
    if len(data) < 4:
        return -1
    af = int.from_bytes(data[:4], "big")
    return 4 if af in _LOOP_AF else -1


#: LINKTYPE -> parser returning the IP header's offset or -1.
LINK_PARSERS: dict[int, Callable[[bytes], int]] = {
    LINKTYPE_ETHERNET: ethernet,
    LINKTYPE_LINUX_SLL: linux_sll,
    LINKTYPE_LINUX_SLL2: linux_sll2,
    LINKTYPE_RAW: raw_ip,
    LINKTYPE_RAW_BSD: raw_ip,
    LINKTYPE_RAW_BSDOS: raw_ip,
    LINKTYPE_IPV4: raw_ip,
    LINKTYPE_IPV6: raw_ip,
    LINKTYPE_NULL: loopback,
    LINKTYPE_LOOP: loopback,
}


def ip_offset(linktype: int, data: bytes) -> int:
    """Offset of the IP header in a frame of ``linktype``, -1 if none (or the link type is unknown)."""
    parser = LINK_PARSERS.get(linktype)
    return parser(data) if parser is not None else -1
