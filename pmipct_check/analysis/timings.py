"""Per-handover timings in seconds, named as the README and the reports show them."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from ..decode.model import Message

#: timing name -> what it measures (for renderers' legends).
TIMINGS = {
    "pbu_pba": "nMAG's PBU -> the LMA's PBA",
    "ctreq_ctd": "first CT-Req -> first CTD/PCTD after it",
    "ctd_ctdr": "first CTD/PCTD -> first CTDR after it",
    "cr_ca": "context ready [CR] -> context activated [CA], where the case draws both: [CR] at the message the "
             "figure puts it after (the PBA in reactive cases 1 and 2, the CT-Req in proactive case 2), [CA] at "
             "the CTD/PCTD's arrival",
    "hi_hack": "first HI -> first HAck after it",
    "attach_registered": "first sign of the MN at the nMAG (its RS or logged ATT, else its PBU or a transfer "
                         "it started) -> PBA",
    "attach_activated": "the MN's Router Solicitation (or logged ATT) at the nMAG -> first CTD/PCTD",
    "att_pbu": "logged ATT event -> the nMAG's PBU",
    "pht_transfer": "logged PHT event -> first context-transfer message",
    "pba_ra": "PBA -> the Router Advertisement carrying the HNP on the new access link",
    "interruption": "last downlink packet tunnelled LMA -> pMAG for the MN's prefix -> first one LMA -> nMAG",
    "interruption_up": "last uplink packet tunnelled pMAG -> LMA from the MN's prefix -> first one nMAG -> LMA",
    "dereg_pba": "pMAG's de-registration PBU -> its PBA",
    "transfer": "first -> last context-transfer message",
    "handover": "first -> last signalling message of the handover",
}

_time = attrgetter("time_ns")
_EXACT_NS = 2**22 * 10**9  # 48.5 days: below it a double's spacing is under a nanosecond


def seconds(ns: int) -> float:
    """A span of ``ns`` nanoseconds in seconds, as ``round(ns / 1e9, 9)`` gives it.

    An integer below 2**53 divided by 1e9 is the double nearest ``ns`` * 1e-9; below 2**22 s
    doubles lie less than 1e-9 apart, so rounding that to nine decimals and back gives the same
    double.  Only longer spans need ``round`` (slow: it goes through decimal text).
    """
    return ns / 1e9 if -_EXACT_NS < ns < _EXACT_NS else round(ns / 1e9, 9)


def _first(messages: Sequence[Message], types: tuple[str, ...], after: int | None = None) -> Message | None:
    for m in messages:
        if m.type in types and (after is None or m.time_ns >= after):
            return m
    return None


def _firsts(messages: Sequence[Message]) -> tuple[Message | None, ...]:
    """The first CT-Req, CTD/PCTD, CTDR, HI and HAck of ``messages``, in one walk.

    The "first X after Y" of :func:`timings` is the first X itself when that is no earlier than Y
    (nearly always): only otherwise does it walk again.
    """
    req = ctd = ctdr = hi = hack = None
    for m in messages:
        kind = m.type
        if kind == "CT-Req":
            if req is None:
                req = m
        elif kind == "CTD" or kind == "PCTD":
            if ctd is None:
                ctd = m
        elif kind == "CTDR":
            if ctdr is None:
                ctdr = m
        elif kind == "HI":
            if hi is None:
                hi = m
        elif kind == "HAck" and hack is None:
            hack = m
    return req, ctd, ctdr, hi, hack


def _span(a: Message | None, b: Message | None) -> float | None:
    if a is None or b is None:
        return None
    return (b.time_ns - a.time_ns) / 1e9


def timings(*, pbu: Message | None, pba: Message | None, deregs: tuple[Message, ...],
            transfer: list[Message], nmag_started: list[Message], everything: list[Message]) -> dict[str, float]:
    """Every timing the messages allow; absent ones are left out.

    Written out span by span (no list of spans, no per-span call, :func:`seconds`' exact case
    inline): it runs once per handover.
    The keys come in this order: pbu_pba, ctreq_ctd, ctd_ctdr, hi_hack, attach_registered,
    dereg_pba, transfer, handover.
    """
    out: dict[str, float] = {}
    exact = _EXACT_NS
    if pbu is not None and pba is not None:
        ns = pba.time_ns - pbu.time_ns
        out["pbu_pba"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    if transfer:  # else no transfer timing has its messages
        req, ctd, ctdr, hi, hack = _firsts(transfer)
        if req is not None and ctd is not None:
            end = ctd if ctd.time_ns >= req.time_ns else _first(transfer, ("CTD", "PCTD"), req.time_ns)
            if end is not None:
                ns = end.time_ns - req.time_ns
                out["ctreq_ctd"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
        if ctd is not None and ctdr is not None:
            end = ctdr if ctdr.time_ns >= ctd.time_ns else _first(transfer, ("CTDR",), ctd.time_ns)
            if end is not None:
                ns = end.time_ns - ctd.time_ns
                out["ctd_ctdr"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
        if hi is not None and hack is not None:
            end = hack if hack.time_ns >= hi.time_ns else _first(transfer, ("HAck",), hi.time_ns)
            if end is not None:
                ns = end.time_ns - hi.time_ns
                out["hi_hack"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    if pba is not None:
        start = pbu
        for m in nmag_started:  # the earliest (the first of equal times, as min() picks)
            if start is None or m.time_ns < start.time_ns:
                start = m
        if start is not None:
            ns = pba.time_ns - start.time_ns
            out["attach_registered"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    if deregs:
        dereg = _first(deregs, ("PBU",))
        if dereg is not None:
            end = _first(deregs, ("PBA",), dereg.time_ns)
            if end is not None:
                ns = end.time_ns - dereg.time_ns
                out["dereg_pba"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    if transfer:
        ns = transfer[-1].time_ns - transfer[0].time_ns
        out["transfer"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    if everything:
        ns = everything[-1].time_ns - everything[0].time_ns
        out["handover"] = ns / 1e9 if -exact < ns < exact else seconds(ns)
    return out


def attach_timings(*, attach_ns: int | None, pba: Message | None, transfer: list[Message],
                   ra: Message | None = None) -> dict[str, float]:
    """Timings from the MN's attachment as an access link or an event log shows it (issue 5).

    ``attach_ns`` is the RS (or ATT event) time: ``attach_registered`` then starts there rather
    than at the PBU.  ``attach_activated`` is left out when the context arrived before the MN
    did (proactive cases: it was ready at attachment).
    """
    out: dict[str, float | None] = {}
    if attach_ns is not None:
        if pba is not None:
            out["attach_registered"] = (pba.time_ns - attach_ns) / 1e9
        ctd = _first(transfer, ("CTD", "PCTD"))
        out["attach_activated"] = (ctd.time_ns - attach_ns) / 1e9 if ctd and ctd.time_ns >= attach_ns else None
    out["pba_ra"] = _span(pba, ra)
    return {k: round(v, 9) for k, v in out.items() if v is not None}


def event_anchors(steps: Sequence[Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Where a case draws [CR] and [CA]: (event, types of the message step just before it), in order.

    A case's steps never change: :func:`context_timings_at` takes this once per case.
    """
    anchors = []
    for k, step in enumerate(steps):
        if getattr(step, "event", "") not in ("CR", "CA"):
            continue
        previous = next((s for s in reversed(steps[:k]) if getattr(s, "message", "")), None)
        if previous is not None:
            anchors.append((step.event, tuple(previous.types)))
    return tuple(anchors)


def context_timings(steps: Sequence[Any], *, pba: Message | None, transfer: list[Message]) -> dict[str, float]:
    """``cr_ca`` from the case's steps (``rules/cases.toml``): [CR] and [CA] sit right after a message.

    Each event is placed at the message the case draws just before it: the nMAG's PBA, else the
    first transfer message of that type (CTD standing for PCTD too).  Left out when the case
    draws no such pair, a message is missing, or the context was "activated" before it was ready.
    """
    return context_timings_at(event_anchors(steps), pba=pba, transfer=transfer)


def context_timings_at(anchors: Sequence[tuple[str, tuple[str, ...]]], *, pba: Message | None,
                       transfer: list[Message]) -> dict[str, float]:
    """:func:`context_timings` with the case's :func:`event_anchors` made already."""
    at: dict[str, int] = {}
    for event, types in anchors:
        after = at.get("CR") if event == "CA" else None
        message = pba if "PBA" in types else _first(transfer, types, after)
        if message is not None:
            at[event] = message.time_ns
    if "CR" not in at or "CA" not in at or at["CA"] < at["CR"]:
        return {}
    return {"cr_ca": seconds(at["CA"] - at["CR"])}
