"""Data-path interruption per handover, from the capture stage's tunnel path switches.

The capture stage never keeps user plane: it hands on a :class:`~..capture.model.PathSwitch`
each time the MAG end of the tunnel for a prefix changes (see ``capture/paths.py``).  A switch
belongs to a handover when its prefix is the MN's (an HNP of its binding or PBU/PBA, or its IPv4
home address), it goes from the handover's pMAG to its nMAG, and of that MN's handovers with
that pair this one's registration (PBA, else PBU, else first message) is nearest in time, at
most ``MATCH_WINDOW_NS`` away (the LMA moves the tunnel when it accepts the registration: a
switch far from any registration is traffic that was idle, or paths that flap, not this move).
Switches are per flow: the interruption runs from the last packet on the old path of any of the
MN's flows that moved to the first packet on the new path of any of them.

``interruption``: last downlink packet tunnelled LMA -> pMAG for the prefix -> first one
tunnelled LMA -> nMAG; ``interruption_up``: the same for uplink (pMAG -> LMA, then nMAG -> LMA).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..capture.model import PathSwitch
from ..profile import DEFAULT_PROFILE, Profile
from .evidence import node_of
from .model import Analysis, Handover

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: How far a switch's first packet on the new path may be from the handover's registration.
MATCH_WINDOW_NS = 10_000_000_000
#: Timing key per switch direction.
TIMING_KEYS = {"down": "interruption", "up": "interruption_up"}
_V4_OPTIONS = ("ipv4_hoa", "ipv4_hoa_req", "ipv4_hoa_rep", "ipv4_ack")


def _network(text: object) -> Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def mn_networks(analysis: Analysis, handover: Handover) -> list[Network]:
    """The MN's home network prefixes and IPv4 home addresses, as the binding and the PBU/PBA give them."""
    texts: list[object] = [p for b in analysis.bindings if b.mn == handover.mn for p in b.prefixes]
    for message in (handover.pbu, handover.pba):
        options = message.fields.get("options") if message is not None else None
        for option in options if isinstance(options, list) else ():
            if not isinstance(option, dict):
                continue
            if option.get("key") == "hnp":
                texts.append(option.get("prefix_text") or f"{option.get('prefix')}/{option.get('prefix_len')}")
            elif option.get("key") in _V4_OPTIONS and option.get("address"):
                texts.append(f"{option.get('address')}/32")
    nets = [n for n in map(_network, texts) if n is not None]
    return list(dict.fromkeys(nets))


def _overlaps(prefix: Network, nets: Sequence[Network]) -> bool:
    return any(prefix.version == n.version and (prefix.subnet_of(n) or n.subnet_of(prefix))  # type: ignore[arg-type]
               for n in nets)


def _anchor_ns(h: Handover) -> int | None:
    message = h.pba or h.pbu or (h.messages[0] if h.messages else None)
    return message.time_ns if message is not None else None


def interruptions(analysis: Analysis, switches: Iterable[PathSwitch], profile: Profile = DEFAULT_PROFILE
                  ) -> dict[str, dict[str, tuple[PathSwitch, ...]]]:
    """handover id -> {timing key -> the switches (one per flow) that time it}.

    Handovers are indexed by (pMAG, nMAG, prefix) so each switch costs a dict lookup: a capture
    may hold thousands of handovers and of switches.
    """
    exact: dict[tuple[str | None, str | None, str], list[Handover]] = {}
    other: dict[tuple[str | None, str | None], list[tuple[Handover, list[Network]]]] = {}
    for h in analysis.handovers:
        if not h.pmag or _anchor_ns(h) is None:
            continue
        pair = (node_of(profile, h.pmag), node_of(profile, h.nmag))
        odd = []
        for net in mn_networks(analysis, h):
            if net.prefixlen == (64 if net.version == 6 else 32):  # what a switch names: one lookup
                exact.setdefault((*pair, str(net)), []).append(h)
            else:
                odd.append(net)
        if odd:
            other.setdefault(pair, []).append((h, odd))
    out: dict[str, dict[str, list[PathSwitch]]] = {}
    for switch in switches:
        if switch.direction not in TIMING_KEYS:
            continue
        pair = (node_of(profile, switch.old), node_of(profile, switch.new))
        fits = list(exact.get((*pair, switch.prefix), ()))
        if pair in other:
            prefix = _network(switch.prefix)
            fits += [h for h, nets in other[pair] if prefix is not None and _overlaps(prefix, nets)]
        fits = [h for h in fits if abs(switch.time_ns - (_anchor_ns(h) or 0)) <= MATCH_WINDOW_NS]
        if fits:
            owner = min(fits, key=lambda h: abs(switch.time_ns - (_anchor_ns(h) or 0)))
            out.setdefault(owner.id, {}).setdefault(TIMING_KEYS[switch.direction], []).append(switch)
    return {hid: {key: tuple(found) for key, found in keyed.items()} for hid, keyed in out.items()}


def gap_ns(switches: Sequence[PathSwitch]) -> int:
    """First packet on the new path (any of the MN's flows) minus the last one on the old path."""
    return min(s.time_ns for s in switches) - max(s.time_ns - s.gap_ns for s in switches)


def with_interruptions(analysis: Analysis, switches: Sequence[PathSwitch],
                       profile: Profile = DEFAULT_PROFILE) -> Analysis:
    """Each handover with ``interruption`` (and ``interruption_up``) where the user plane shows them."""
    if not switches:
        return analysis
    found = interruptions(analysis, switches, profile)
    if not found:
        return analysis
    handovers = []
    for h in analysis.handovers:
        mine = found.get(h.id)
        if mine:
            timings = dict(h.timings)
            timings.update({key: round(gap_ns(found) / 1e9, 9) for key, found in mine.items()})
            switches = sorted((s for found in mine.values() for s in found), key=lambda s: s.time_ns)
            h = replace(h, timings=timings, data_path=tuple(switches))
        handovers.append(h)
    return replace(analysis, handovers=tuple(handovers))
