"""Several taps, one view: merge the files in corrected time, and make one message of each packet
seen at several taps (the PBU leaving the MAG and arriving at the LMA) with every sighting as an
observation.

Identity is what :func:`capture.clock.signature` says (addresses, transport, signalling octets:
not the IP header, whose hop limit a router changes), within ``window_ns`` after clock
correction, from different files.  The message keeps the sender's tap (file, frame, time) when
that tap saw it, else the earliest sighting; ``observations`` lists every (file, frame).

Public API::

    plan_taps(paths, profile, given=None, window_ns=DEFAULT_WINDOW_NS) -> TapPlan
    tap_stream(paths, profile, offsets, *, window_ns, own, track_user_plane, frame_counts)
        -> Iterator[Message | Notice | Tunnelled]
    dedup(items, window_ns, own) -> Iterator[Sighted | Tunnelled | Notice]
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import attrgetter
from typing import Any

from .analysis.model import Analysis, Handover
from .analysis.timings import attach_timings
from .capture.clock import ClockOffset, TapLog, collect, estimate_offsets, signature
from .capture.extract import Item
from .capture.merge import iter_merged
from .capture.model import Carried, Tunnelled
from .decode import Message, decode_carried
from .events import Event
from .notices import Notice
from .profile import DEFAULT_PROFILE, Profile

#: Two sightings further apart than this (after clock correction) are two packets.
DEFAULT_WINDOW_NS = 1_000_000_000


@dataclass(slots=True)
class Sighted:
    """One packet and every tap that saw it, in corrected time order."""

    first: Carried
    sightings: list[Carried] = field(default_factory=list)

    def primary(self, own: Mapping[str, frozenset[str]]) -> Carried:
        """The sender's tap when it saw the packet, else the earliest sighting."""
        for c in self.sightings:
            if self.first.src in own.get(c.file, ()):
                return c
        return self.first

    def observations(self) -> tuple[tuple[str, int], ...]:
        return tuple((c.file, c.frame) for c in self.sightings)


def dedup(items: Iterable[Item], window_ns: int = DEFAULT_WINDOW_NS) -> Iterator[Sighted | Tunnelled | Notice]:
    """Group sightings of one packet at different taps; needs items in corrected time order.

    Everything is held for ``window_ns`` (a FIFO, so the output keeps the time order): memory is
    what the taps see in one window, not the files.
    """
    pending: deque[tuple[int, Sighted | Tunnelled | Notice]] = deque()
    open_: dict[bytes, Sighted] = {}  # signature -> its latest group still inside the window

    def release(now: int) -> Iterator[Sighted | Tunnelled | Notice]:
        while pending and pending[0][0] + window_ns < now:
            _, out = pending.popleft()
            if isinstance(out, Sighted):
                key = signature(out.first)
                if open_.get(key) is out:
                    del open_[key]
            yield out

    now = -(1 << 62)
    for item in items:
        if not isinstance(item, Notice):
            now = item.time_ns
            yield from release(now)
        if isinstance(item, Carried):
            key = signature(item)
            group = open_.get(key)
            if group is not None and all(c.file != item.file for c in group.sightings) \
                    and item.time_ns - group.first.time_ns <= window_ns:
                group.sightings.append(item)
                continue
            group = Sighted(item, [item])
            open_[key] = group
            pending.append((now, group))
        else:
            pending.append((now, item))
    while pending:
        yield pending.popleft()[1]


def decode_sighted(group: Sighted, profile: Profile, own: Mapping[str, frozenset[str]],
                   memo: dict | None = None) -> Message | Notice:
    """The group's message, placed at its primary sighting, with every observation when several.

    ``memo``: one dict per run lets equal options be shared between records (see decode_carried).
    """
    primary = group.primary(own)
    result = decode_carried(primary, profile, memo)
    if isinstance(result, Message) and len(group.sightings) > 1:
        primary_first = (primary.file, primary.frame)
        rest = [o for o in group.observations() if o != primary_first]
        result.observations = (primary_first, *rest)
    return result


def tap_stream(paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, offsets: Mapping[str, int] | None = None,
               *, window_ns: int = DEFAULT_WINDOW_NS, own: Mapping[str, frozenset[str]] | None = None,
               track_user_plane: bool = False, frame_counts: dict[str, int] | None = None,
               ) -> Iterator[Message | Notice | Tunnelled]:
    """Every message of the files once, in corrected time order, with its observations."""
    own = own or {}
    memo: dict = {}
    merged = iter_merged(paths, profile, offsets, track_user_plane=track_user_plane, frame_counts=frame_counts)
    for item in dedup(merged, window_ns):
        if isinstance(item, Sighted):
            yield decode_sighted(item, profile, own, memo)
        else:
            yield item



@dataclass(frozen=True, slots=True)
class TapPlan:
    """How several files become one view: each file's clock offset and tapped node's addresses."""

    clocks: tuple[ClockOffset, ...]
    own: Mapping[str, frozenset[str]]
    window_ns: int = DEFAULT_WINDOW_NS

    @property
    def offsets(self) -> dict[str, int]:
        return {c.file: c.offset_ns for c in self.clocks}


def resolve_files(paths: Sequence[str], values: Mapping[str, int]) -> dict[str, int]:
    """Key ``values`` by the paths as given: ``mag1.pcap`` names ``captures/mag1.pcap`` if unique.

    Raises ValueError naming a file that is not among ``paths`` (or names several of them).
    """
    out: dict[str, int] = {}
    for name, value in values.items():
        if name in paths:
            out[name] = value
            continue
        same = [p for p in paths if os.path.exists(name) and os.path.exists(p) and os.path.samefile(name, p)]
        same = same or [p for p in paths if os.path.basename(p) == os.path.basename(name)]
        if len(same) != 1:
            what = "names several of the capture files" if same else "is not one of the capture files given"
            raise ValueError(f"--clock-offset {name}: {what}")
        out[same[0]] = value
    return out


def needs_first_pass(files: int, given: int) -> bool:
    """Whether planning ``files`` taps, ``given`` of them with a clock offset, reads them first.

    A clock is estimated from packets seen at two taps unless every file has its offset (or,
    with none given, there is one file: the reference).
    """
    return files - given > (0 if given else 1)


def plan_taps(paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, given: Mapping[str, int] | None = None,
              window_ns: int = DEFAULT_WINDOW_NS) -> TapPlan:
    """Clock offsets for every file: the given ones, the rest estimated in a first pass.

    The first pass keeps only signalling digests; it is skipped when every file has a given offset
    (the tapped nodes are then unknown and the earliest sighting is kept).
    Raises ValueError for an offset given for a file not among ``paths``.
    """
    given = resolve_files(paths, given or {})
    first_pass = needs_first_pass(len(paths), len(given))
    return plan_from_logs([collect(p, profile) if first_pass else TapLog(p) for p in paths], given, window_ns)


def plan_from_logs(logs: Sequence[TapLog], given: Mapping[str, int], window_ns: int = DEFAULT_WINDOW_NS) -> TapPlan:
    """The plan from each file's first-pass log and the offsets ``given`` (keyed by the files)."""
    return TapPlan(estimate_offsets(list(logs), given), {log.file: log.own for log in logs}, window_ns)


# -- access side and event log: the MN's attachment, which the core side cannot show ---------------

#: How long before the nMAG's PBU an RS or ATT event (and after the PBA an RA, before the first
#: transfer message a PHT event) may be and still belong to the handover.
ACCESS_WINDOW_NS = 10_000_000_000


def _option_values(messages: Iterable[Message | None], key: str, value: str) -> set[str]:
    return {str(o.get(value)).lower() for m in messages if m is not None
            for o in (m.fields.get("options") or []) if isinstance(o, dict) and o.get("key") == key}


def _last(items: Iterable[Any], start: int, end: int) -> Any:
    found = None
    for item in items:
        if start <= item.time_ns <= end:
            found = item
    return found


def _access_handover(h: Handover, rs: Sequence[Message], ra: Sequence[Message], events: Sequence[Event]
                     ) -> Handover:
    anchor = h.pbu or (h.messages[0] if h.messages else None)
    if anchor is None:
        return h
    ll_ids = _option_values((h.pbu, h.pba), "mn_ll_id", "identifier")
    hnps = _option_values((h.pbu, h.pba), "hnp", "prefix_text")
    mn_keys = {h.mn.lower()} | ll_ids | hnps
    end = h.pba.time_ns if h.pba else anchor.time_ns
    window = (anchor.time_ns - ACCESS_WINDOW_NS, end)
    rs_h = _last((m for m in rs if str(m.fields.get("source_lla", "")).lower() in ll_ids), *window)
    mine = [e for e in events if e.mn.lower() in mn_keys]
    att = _last((e for e in mine if e.event == "ATT"), *window)
    after_pba = h.pba.time_ns if h.pba else anchor.time_ns
    ra_h = next((m for m in ra if after_pba <= m.time_ns <= after_pba + ACCESS_WINDOW_NS
                 and hnps & {p.lower() for p in m.fields.get("prefixes") or []}), None)
    transfer = sorted((*h.cxtp, *h.fho), key=lambda m: m.time_ns)
    pht = (_last((e for e in mine if e.event == "PHT"), transfer[0].time_ns - ACCESS_WINDOW_NS, transfer[0].time_ns)
           if transfer else None)
    if rs_h is None and ra_h is None and att is None and pht is None:
        return h
    attach_ns = rs_h.time_ns if rs_h is not None else att.time_ns if att is not None else None
    timings = dict(h.timings)
    timings.update(attach_timings(attach_ns=attach_ns, pba=h.pba, transfer=transfer, ra=ra_h))
    if att is not None and h.pbu is not None:
        timings["att_pbu"] = round((h.pbu.time_ns - att.time_ns) / 1e9, 9)
    if pht is not None:
        timings["pht_transfer"] = round((transfer[0].time_ns - pht.time_ns) / 1e9, 9)
    seen = [m for m in (rs_h, ra_h) if m is not None]
    messages = tuple(sorted((*h.messages, *seen), key=lambda m: m.time_ns))
    vantage = h.vantage | ({"access"} if seen else set())
    return replace(h, messages=messages, timings=timings, vantage=frozenset(vantage))


_RS_RA = frozenset({"RS", "RA"})
_type = attrgetter("type")


def with_access(analysis: Analysis, events: Sequence[Event] = (), profile: Profile = DEFAULT_PROFILE) -> Analysis:
    """Each handover with the MN's RS/RA on the new access link and its logged ATT/PHT events.

    An RS belongs to a handover when its Source Link-layer Address is the PBU's MN Link-layer
    Identifier and it comes at most ``ACCESS_WINDOW_NS`` before the PBU (the last such one, up
    to the PBA); an RA when it advertises the handover's HNP after the PBA.  Events match by
    ``mn`` (the MN identifier, its link-layer identifier or its HNP).  Their timings
    (``analysis.timings.attach_timings``, ``att_pbu``, ``pht_transfer``) are added; the RS and
    RA join the handover's messages.
    """
    # Which messages are RS or RA: one pass in C over every message, Python only for those few
    access = list(compress(analysis.messages, map(_RS_RA.__contains__, map(_type, analysis.messages))))
    rs = [m for m in access if m.protocol == "nd" and m.type == "RS"]
    ra = [m for m in access if m.protocol == "nd" and m.type == "RA"]
    if not (rs or ra or events):
        return analysis
    handovers = tuple(_access_handover(h, rs, ra, events) for h in analysis.handovers)
    owner = {id(m): h for h in handovers for m in h.messages if m.protocol == "nd"}
    handover_of = tuple(owner[id(m)].id if id(m) in owner else hid
                        for m, hid in zip(analysis.messages, analysis.handover_of, strict=True))
    mns = tuple(owner[id(m)].mn if id(m) in owner else mn for m, mn in zip(analysis.messages, analysis.mns,
                                                                          strict=True))
    vantage = analysis.vantage | ({"access"} if rs or ra else set())
    return replace(analysis, handovers=handovers, handover_of=handover_of, mns=mns, vantage=frozenset(vantage))
