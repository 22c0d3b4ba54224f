"""Clock offsets between capture files (taps), given or estimated from packets seen at two taps.

Convention: a file's offset is how far its clock runs *ahead* of the reference clock, so its
corrected time is ``time - offset``.  ``--clock-offset mag1.pcap=+1.250`` and the estimates
printed use the same sign, so an estimate can be pasted back as an option.

Estimation needs no model of link delays, only causality: a packet sent by tap A's node and
seen at tap B cannot arrive before it left, so ``a - off_A <= b - off_B``, i.e. ``off_B - off_A
<= b - a``; a packet sent by B's node bounds the difference from below.  The tightest bounds
over every shared packet give an interval; its midpoint is the estimate and its half-width the
uncertainty.  Which node sent a packet is told by the tapped nodes' addresses (those in most of a
file's signalling) or, when two taps tie on them, by which source's packets reach the other tap
later.  With packets in one direction only the bound is one-sided (the estimate is the
bound itself, off by at least the smallest one-way delay), and taps that share no packet are
not corrected at all: we say so instead of guessing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from ..profile import DEFAULT_PROFILE, Profile
from .extract import iter_file
from .model import Carried

Method = Literal["reference", "given", "estimated", "one-sided", "inconsistent", "none"]
NS = 1_000_000_000


def signature(carried: Carried) -> bytes:
    """What makes two sightings the same packet: addresses, transport and the signalling octets.

    The IP header (hop limit, ...) is left out on purpose: a router between two taps changes it.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{carried.src}\0{carried.dst}\0{carried.transport}\0".encode())
    h.update(carried.data)
    return h.digest()


def parse_clock_offset(text: str) -> tuple[str, int]:
    """``FILE=SECONDS`` (``mag1.pcap=+1.250``) -> (file, offset in ns); ValueError says what is wrong."""
    file, sep, value = text.rpartition("=")
    if not sep or not file:
        raise ValueError(f"--clock-offset {text!r}: expected FILE=SECONDS, e.g. mag1.pcap=+1.250")
    try:
        seconds = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"--clock-offset {text!r}: {value!r} is not a number of seconds") from None
    if not seconds.is_finite():
        raise ValueError(f"--clock-offset {text!r}: {value!r} is not a number of seconds")
    return file, int((seconds * NS).to_integral_value())


def seconds_text(ns: int) -> str:
    """Signed seconds with millisecond-or-better precision, for messages: ``+3.200000``."""
    return f"{'-' if ns < 0 else '+'}{abs(ns) / NS:.6f}"


@dataclass(slots=True)
class TapLog:
    """The signalling one file shows: each packet's signature and raw capture times.

    Only signalling is kept (one 16-octet digest and a time per message), so a first pass over
    gigabytes of user plane costs little memory.
    """

    file: str
    times: dict[bytes, list[int]] = field(default_factory=dict)
    ends: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # signature -> (src, dst)
    addresses: Counter[str] = field(default_factory=Counter)

    def add(self, carried: Carried) -> None:
        key = signature(carried)
        self.times.setdefault(key, []).append(carried.time_ns)
        self.ends[key] = (carried.src, carried.dst)
        self.addresses[carried.src] += 1
        self.addresses[carried.dst] += 1

    @property
    def own(self) -> frozenset[str]:
        """The tapped node's addresses: those in the most signalling of this file.

        Every message at a node's tap has that node at one end; at the LMA tap that is the
        LMA, at a MAG's core tap the MAG.  With a single message both ends tie: no direction.
        """
        if not self.addresses:
            return frozenset()
        top = max(self.addresses.values())
        return frozenset(a for a, n in self.addresses.items() if n == top)


def collect(path: str, profile: Profile = DEFAULT_PROFILE) -> TapLog:
    """First pass over one file: its signalling sightings (everything else is dropped)."""
    log = TapLog(path)
    for item in iter_file(path, profile):
        if isinstance(item, Carried):
            log.add(item)
    return log


@dataclass(frozen=True, slots=True)
class PairBounds:
    """What the packets shared by taps ``a`` and ``b`` say about ``off_b - off_a`` (ns)."""

    a: str
    b: str
    lower: int | None  # from packets b's node sent to a's
    upper: int | None  # from packets a's node sent to b's
    a_to_b: int = 0
    b_to_a: int = 0
    undirected: int = 0  # shared packets whose sender could not be told

    @property
    def shared(self) -> int:
        return self.a_to_b + self.b_to_a + self.undirected

    def reversed(self) -> PairBounds:
        return PairBounds(self.b, self.a, None if self.upper is None else -self.upper,
                          None if self.lower is None else -self.lower, self.b_to_a, self.a_to_b, self.undirected)


def _pairs(ta: list[int], tb: list[int]) -> Iterable[tuple[int, int]]:
    """Sightings of one signature in two files, paired in order; ambiguous counts pair nothing."""
    if len(ta) != len(tb):
        return ()
    return zip(sorted(ta), sorted(tb), strict=True)


def pair_bounds(a: TapLog, b: TapLog) -> PairBounds:
    """Tightest causality bounds on ``off_b - off_a`` over every packet both taps saw."""
    own_a, own_b = a.own, b.own
    from_a: list[int] = []  # b - a of packets a's node sent (each an upper bound)
    from_b: list[int] = []  # ... and of packets b's node sent (each a lower bound)
    unknown: dict[str, list[int]] = {}  # by source address: sender not told by the address counts
    for key in a.times.keys() & b.times.keys():
        src, dst = a.ends[key]
        sent_a = (src in own_a and src not in own_b) or (dst in own_b and dst not in own_a)
        sent_b = (src in own_b and src not in own_a) or (dst in own_a and dst not in own_b)
        diffs = [tb - ta for ta, tb in _pairs(a.times[key], b.times[key])]
        if sent_a and not sent_b:  # a - off_a <= b - off_b
            from_a += diffs
        elif sent_b and not sent_a:  # b - off_b <= a - off_a
            from_b += diffs
        elif diffs:
            unknown.setdefault(src, []).extend(diffs)
    undirected = sum(len(v) for v in unknown.values())
    if len(unknown) == 2:
        # Two taps that see only each other's exchange (an LMA and one MAG) tie on address counts.
        # Each source is one node; the one whose packets reach the other tap later (every
        # difference larger) is the node at tap a, as long as the two groups do not overlap.
        (_, vx), (_, vy) = sorted(unknown.items(), key=lambda item: min(item[1]), reverse=True)
        if min(vx) > max(vy):
            from_a, from_b, undirected = from_a + vx, from_b + vy, 0
    upper = min(from_a) if from_a else None
    lower = max(from_b) if from_b else None
    return PairBounds(a.file, b.file, lower, upper, len(from_a), len(from_b), undirected)


@dataclass(frozen=True, slots=True)
class ClockOffset:
    """One file's clock offset (ns, its clock minus the reference clock) and how it was found."""

    file: str
    offset_ns: int
    method: Method
    uncertainty_ns: int | None = None  # half-width of the interval; None when one-sided or unknown
    reference: str | None = None  # the file it was estimated against
    shared: int = 0  # packets shared with ``reference``
    note: str = ""

    def describe(self) -> str:
        """One line for stderr."""
        if self.method == "reference":
            return f"{self.file}: reference clock (offset 0)"
        if self.method == "given":
            return f"{self.file}: clock offset {seconds_text(self.offset_ns)} s (given)"
        if self.method == "none":
            return f"{self.file}: clock not corrected: {self.note}"
        pm = "" if self.uncertainty_ns is None else f" ± {self.uncertainty_ns / NS:.6f}"
        return (f"{self.file}: clock offset {seconds_text(self.offset_ns)}{pm} s against {self.reference} "
                f"({self.method}, {self.shared} shared packets){'; ' + self.note if self.note else ''}")

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "offset": Decimal(self.offset_ns) / NS,
            "uncertainty": None if self.uncertainty_ns is None else Decimal(self.uncertainty_ns) / NS,
            "method": self.method,
            "reference": self.reference,
            "shared": self.shared,
            "note": self.note,
        }


def _edge(bounds: PairBounds) -> tuple[int, int | None, Method, str] | None:
    """(offset difference, uncertainty, method, note) from one pair's bounds, or None if none."""
    lo, hi = bounds.lower, bounds.upper
    if lo is not None and hi is not None:
        if lo <= hi:
            return (lo + hi) // 2, (hi - lo + 1) // 2, "estimated", ""
        return ((lo + hi) // 2, (lo - hi + 1) // 2, "inconsistent",
                f"bounds conflict by {(lo - hi) / NS:.6f} s (a clock drifted, or a packet matched wrongly)")
    if hi is not None:
        return hi, None, "one-sided", (f"one-sided: only packets {bounds.a} -> {bounds.b}; "
                                       f"the offset is at most this (less by the smallest one-way delay)")
    if lo is not None:
        return lo, None, "one-sided", (f"one-sided: only packets {bounds.b} -> {bounds.a}; "
                                       f"the offset is at least this (more by the smallest one-way delay)")
    return None


def _rank(edge: tuple[int, int | None, Method, str], bounds: PairBounds) -> tuple[int, int, int]:
    _, unc, method, _ = edge
    quality = {"estimated": 0, "inconsistent": 1, "one-sided": 2}[method]
    return quality, unc if unc is not None else 0, -bounds.shared


def estimate_offsets(logs: Sequence[TapLog], given: Mapping[str, int] | None = None) -> tuple[ClockOffset, ...]:
    """An offset for every file: given ones as they are, others chained from them over shared packets.

    Without any given offset the first file is the reference.  Each further file is reached by
    its best pair with an already placed file (two-sided and narrowest first); uncertainties add
    along the chain.  A file with no shared packet to any placed file gets offset 0, method
    ``none``, and a note saying so.
    """
    given = dict(given or {})
    placed: dict[str, ClockOffset] = {}
    for log in logs:
        if log.file in given:
            placed[log.file] = ClockOffset(log.file, given[log.file], "given", 0)
    if not placed and logs:
        placed[logs[0].file] = ClockOffset(logs[0].file, 0, "reference", 0)
    by_file = {log.file: log for log in logs}
    bounds: dict[tuple[str, str], PairBounds] = {}
    for i, a in enumerate(logs):
        for b in logs[i + 1:]:
            pb = pair_bounds(a, b)
            bounds[(a.file, b.file)] = pb
            bounds[(b.file, a.file)] = pb.reversed()
    while True:
        best = None
        for known, known_off in placed.items():
            for other in by_file:
                if other in placed:
                    continue
                pb = bounds[(known, other)]
                edge = _edge(pb)
                if edge is None:
                    continue
                rank = _rank(edge, pb)
                if best is None or rank < best[0]:
                    best = (rank, known_off, other, edge, pb)
        if best is None:
            break
        _, known_off, other, (diff, unc, method, note), pb = best
        chained = None if unc is None or known_off.uncertainty_ns is None else unc + known_off.uncertainty_ns
        placed[other] = ClockOffset(other, known_off.offset_ns + diff, method, chained, known_off.file,
                                    pb.shared, note)
    out = []
    for log in logs:
        if log.file in placed:
            out.append(placed[log.file])
            continue
        shared = [f for f in by_file if f != log.file and bounds[(log.file, f)].shared]
        note = ("no packet is shared with any other capture" if not shared else
                f"packets shared with {', '.join(shared)} give no direction (sender's tap unknown)")
        out.append(ClockOffset(log.file, 0, "none", None, None, 0, note))
    return tuple(out)
