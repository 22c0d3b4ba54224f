"""RFC 5949 (Fast Handovers for PMIPv6): HI/HAck between the PMAG and the NMAG."""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from ...analysis.evidence import (
    CXTP_ACCESS,
    CXTP_TRANSFER,
    FHO,
    flag,
    items,
    mn_identifier,
    num,
    option,
    options,
)
from ...decode.model import Message
from ..context import Context, Hit, Layout
from ..model import Rule
from .common import at, first, in_clear, order_hits, order_violations

_protocol = attrgetter("protocol")
CXTP_TYPES = CXTP_TRANSFER | CXTP_ACCESS


def _hi_for(ctx: Context, hack: Message) -> Message | None:
    """The HI a HAck answers: swapped addresses and the same sequence number."""
    found = None
    his = ctx.index("hi-by-seq", ("HI",), lambda m: (m.src, m.dst, num(m, "seq")))
    for m in his.get((hack.dst, hack.src, num(hack, "seq")), ()):
        if m.time_ns > hack.time_ns:
            break
        found = m
    return found


def fho_flags(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F1: P set on HI and HAck; HI's S flag clear."""
    for m in ctx.of_type(*FHO):
        if flag(m, "P") is False:
            yield Hit(f"{at(m)} has the P flag clear (RFC 5949 sets it in every message)", (m,))
        if m.type == "HI" and flag(m, "S"):
            yield Hit(f"{at(m)} has the S flag set; it must be zero with RFC 5949", (m,))


def hack_answers(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F2: a HAck goes back to the HI's sender with the HI's sequence number."""
    yield from order_violations(ctx, rule.id)
    for m in ctx.of_type("HAck"):
        if _hi_for(ctx, m) is not None:
            continue
        peer = [hi for hi in ctx.of_type("HI") if hi.time_ns <= m.time_ns and hi.src == m.dst and hi.dst == m.src]
        if peer:
            yield Hit(f"{at(m)} carries sequence number {m.fields.get('seq')}, but the HI it answers ({at(peer[-1])}) "
                      f"has {peer[-1].fields.get('seq')}", (m, peer[-1]))
        else:
            yield Hit(f"{at(m)} answers no HI from {ctx.name(m.dst)} to {ctx.name(m.src)}", (m,))


def mn_identified(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F3: HI carries the MN Identifier; HAck copies it."""
    for m in ctx.of_type("HI"):
        if len(options(m, "mn_id")) != 1:
            yield Hit(f"{at(m)} carries {len(options(m, 'mn_id'))} MN Identifier options, expected one", (m,))
    for m in ctx.of_type("HAck"):
        hi = _hi_for(ctx, m)
        if hi is not None and mn_identifier(hi) is not None and mn_identifier(m) != mn_identifier(hi):
            yield Hit(f"{at(m)} identifies the MN as {mn_identifier(m)!r}, the HI ({at(hi)}) as {mn_identifier(hi)!r}",
                      (m, hi))


def predictive(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F4: predictive HI carries MN-ID, HNP, LMAA; HAck code 5; the nMAG registers with that LMA."""
    success = set(rule.params.get("hack_success", [0, 5, 6]))
    for h in (h for h in ctx.handovers if h.case == "rfc5949-predictive"):
        yield from order_hits(ctx, rule.id, h)
        hi = first(h.fho, ("HI",))
        if hi is None:
            continue
        missing = [k for k in ("mn_id", "hnp", "lmaa") if not options(hi, k)]
        if missing:
            yield Hit(f"{at(hi)} (predictive) lacks {', '.join(missing)}", (hi,), h.id)
        hack = first(h.fho, ("HAck",), hi.time_ns)
        if hack is not None and num(hack, "code") not in success:
            yield Hit(f"{at(hack)} code {hack.fields.get('code')} ({hack.fields.get('code_name', '')}): the context "
                      "was not accepted", (hack,), h.id)
        lmaa = option(hi, "lmaa")
        address = lmaa.get("address") if lmaa is not None else None
        if isinstance(address, str) and address and h.pbu is not None and not ctx.same(h.pbu.dst, address):
            yield Hit(f"{at(h.pbu)} goes to {ctx.name(h.pbu.dst)}, not to the LMA {ctx.name(lmaa['address'])} "
                      f"that {at(hi)} named", (h.pbu, hi), h.id)


def reactive(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F5: reactive HAck carries the HNP(s) unless it reports the context unavailable (131)."""
    for h in (h for h in ctx.handovers if h.case == "rfc5949-reactive"):
        hi = first(h.fho, ("HI",))
        hack = first(h.fho, ("HAck",), hi.time_ns if hi else None)
        if hack is None:
            continue
        code = num(hack, "code")
        if code in (0, 5, 6) and not (options(hack, "hnp") or options(hack, "ipv4_hoa_rep")):
            yield Hit(f"{at(hack)} (code {code}) carries no HNP or IPv4 home address option", (hack,), h.id)
        if hi is not None and code == 132 and not flag(hi, "F"):
            yield Hit(f"{at(hack)} code 132 (forwarding not available) answers {at(hi)}, which asked for no "
                      "forwarding", (hack, hi), h.id)


def codes(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F6: codes defined for P=1 messages."""
    allowed = {"HI": set(rule.params.get("hi", [0, 2, 3])), "HAck": set(rule.params.get("hack", [0, 5, 6, 128, 129,
                                                                                                  130, 131, 132]))}
    for m in ctx.of_type(*FHO):
        code = num(m, "code")
        if flag(m, "P") and code not in allowed[m.type]:
            yield Hit(f"{at(m)} code {code} is not defined for {m.type} with the P flag", (m,))


def buffer_then_forward(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F7: an HI with U set is followed by an HI with F set between the same MAGs."""
    his = list(ctx.of_type("HI"))
    for i, m in enumerate(his):
        if not flag(m, "U"):
            continue
        later = [x for x in his[i + 1:] if x.src == m.src and x.dst == m.dst
                 and flag(x, "F") and mn_identifier(x) == mn_identifier(m)]
        if not later:
            yield Hit(f"{at(m)} asks for buffering (U) but no HI with F follows", (m,))


def _carries_fho_options(layout: Layout) -> bool:
    return "lmaa" in layout or "mn_lla_iid" in layout or "context_req" in layout


def _cxtp_only(ctx: Context, type_: str) -> bool:
    """Whether every message of ``type_`` is a CXTP one (PFMIP-F8 does not look at those).

    Asked of the CXTP type names only: reading every message's protocol costs more than the layouts.
    """
    return set(map(_protocol, ctx.of_type(type_))) == {"cxtp"}


def option_formats(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F8: LMAA option code matches its length; MN LLA-IID is 8 octets; Context Request has requests."""
    carrying = [t for t in ctx.types() if not (t in CXTP_TYPES and _cxtp_only(ctx, t))
                and any(map(_carries_fho_options, ctx.layouts(t)))]
    # the messages of the one type some of whose layouts carry any of the three (HI, on the bench) are
    # the analysis's messages that may, in its order; otherwise every message is looked at
    for m in ctx.of_type(carrying[0]) if len(carrying) == 1 else ctx.messages if carrying else ():
        if m.protocol == "cxtp" or not ctx.per_layout("fho-options", m, _carries_fho_options):
            continue  # most messages carry none of the three: skip the walk over their options
        for o in items(m, "options"):
            if o.get("key") == "lmaa" and (o.get("code"), o.get("length")) not in ((1, 18), (2, 6)):
                yield Hit(f"{at(m)} LMA Address option code {o.get('code')} with Length {o.get('length')} "
                          "(1 needs 18, 2 needs 6)", (m,))
            if o.get("key") == "mn_lla_iid" and o.get("length") != 10:
                yield Hit(f"{at(m)} MN LLA-IID option Length {o.get('length')}, expected 10", (m,))
            if o.get("key") == "context_req" and m.type == "HI" and not o.get("requests"):
                yield Hit(f"{at(m)} Context Request option lists no request", (m,))


def protected(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PFMIP-F9: HI/HAck are protected by IPsec."""
    yield from in_clear(ctx, ctx.of_type(*FHO), "HI/HAck", "RFC 5949 section 7")


CHECKS = {
    "fho_flags": fho_flags, "fho_hack_answers": hack_answers, "fho_mn_identified": mn_identified,
    "fho_predictive": predictive, "fho_reactive": reactive, "fho_codes": codes,
    "fho_buffer_then_forward": buffer_then_forward, "fho_option_formats": option_formats, "fho_protected": protected,
}
