"""draft-liebsch-netlmm-proxymip6ct-00: the four cases and the pMAG's context lifetime."""

from __future__ import annotations

from collections.abc import Iterator

from ... import registry
from ...analysis.evidence import named_pmag, num
from ...analysis.model import Handover
from ...decode.model import Message
from ..context import Context, Hit, Layout
from ..model import Rule
from .common import answer_of, at, first, handovers_in, ms, order_violations
from .cxfacts import cxtp_facts
from .pmip import deregistration_exchanges


def case_known(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D1: every handover matches one of the cases in rules/cases.toml."""
    for h in handovers_in(ctx, "unknown"):
        evidence = tuple(m for m in (*h.cxtp, *h.fho, h.pbu) if m is not None)[:3]
        outcome = "inconclusive" if not ctx.transfer_visible(h) else "fail"
        yield Hit(f"handover of {h.mn} {ctx.name(h.pmag)} -> {ctx.name(h.nmag)} matches no case: {h.case_reason}",
                  evidence, h.id, outcome)


def transfer_observable(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D13: say so when the capture cannot show the context transfer at all."""
    for h in ctx.handovers:
        if not ctx.transfer_visible(h) and not h.cxtp and not h.fho:
            evidence = tuple(m for m in (h.pbu, h.pba) if m is not None)
            yield Hit(f"no traffic of {ctx.name(h.pmag)} or {ctx.name(h.nmag)} with other MAGs is in the capture "
                      f"(vantage: {', '.join(sorted(h.vantage)) or 'none'}): whether a context transfer happened "
                      "cannot be told", evidence, h.id, "inconclusive")


def case_order(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """Order constraints of rules/cases.toml tagged with this rule's id."""
    yield from order_violations(ctx, rule.id)


def reactive1_pmag(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D2: CT-Req after the PBA, and to the pMAG that PBA names."""
    yield from case_order(ctx, rule)
    for h in handovers_in(ctx, "reactive-1"):
        if h.pba is None:
            continue
        named, how = named_pmag(h.pba, ctx.profile)
        if how == "pmag_id-unresolved":
            yield Hit(f"{at(h.pba)} names the pMAG by a pMAG_ID the profile's [nodes] table does not know; "
                      "whether the CT-Req went to it cannot be told", (h.pba,), h.id, "inconclusive")
            continue
        for req in (m for m in h.cxtp if m.type == "CT-Req"):
            if named is not None and not ctx.same(req.dst, named):
                yield Hit(f"{at(req)} goes to {ctx.name(req.dst)}, but {at(h.pba)} names the pMAG "
                          f"{ctx.name(named)}", (req, h.pba), h.id)


def reactive_attach_first(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D3: a CT-Req before the PBU, in a handover the LMA set up as reactive case 1."""
    yield from case_order(ctx, rule)
    for h in handovers_in(ctx, "proactive-2"):
        if h.pba is None or not named_pmag(h.pba, ctx.profile)[1]:
            continue
        req = first(h.cxtp, ("CT-Req",))
        if req is not None and h.pbu is not None:
            yield Hit(f"{at(req)} precedes the nMAG's {at(h.pbu)}, yet {at(h.pba)} names the pMAG as in reactive "
                      "case 1: the nMAG asked for the context before the MN attached and registered",
                      (req, h.pbu, h.pba), h.id)


def proactive1_push(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D5: the push precedes the nMAG's PBU and no CT-Req is involved."""
    yield from case_order(ctx, rule)
    for h in handovers_in(ctx, "proactive-1"):
        for req in (m for m in h.cxtp if m.type == "CT-Req"):
            yield Hit(f"proactive case 1 is an unsolicited push, but {at(req)} asks for the context",
                      (req,), h.id)


def _pmag_side(m: Message) -> str:
    return m.src if m.type in ("CTD", "PCTD") else m.dst


def exchange_addresses(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D8: CTD answers the CT-Req's sender; CTDR goes back to the CTD's sender."""
    for h in ctx.handovers:
        req = first(h.cxtp, ("CT-Req",))
        ctd = first(h.cxtp, ("CTD", "PCTD"), req.time_ns if req else None)
        if req is not None and ctd is not None and (ctd.src != req.dst or ctd.dst != req.src):
            yield Hit(f"{at(ctd)} {ctx.name(ctd.src)} -> {ctx.name(ctd.dst)} does not answer {at(req)} "
                      f"{ctx.name(req.src)} -> {ctx.name(req.dst)}", (req, ctd), h.id)
        if ctd is not None:
            ctdr = first(h.cxtp, ("CTDR",), ctd.time_ns)
            if ctdr is not None and (ctdr.src != ctd.dst or ctdr.dst != ctd.src):
                yield Hit(f"{at(ctdr)} {ctx.name(ctdr.src)} -> {ctx.name(ctdr.dst)} does not go back to the sender of "
                          f"{at(ctd)} {ctx.name(ctd.src)} -> {ctx.name(ctd.dst)}", (ctd, ctdr), h.id)


def previous_mag(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D9: the MAG the transfer talks to is the one that served the MN before."""
    for h in ctx.handovers:
        if h.previous is None:
            continue
        served = h.previous.src
        for m in h.cxtp:
            if not ctx.same(_pmag_side(m), served):
                yield Hit(f"{at(m)} treats {ctx.name(_pmag_side(m))} as the pMAG, but {ctx.name(served)} served "
                          f"{h.mn} before ({at(h.previous)})", (m, h.previous), h.id)
        for m in h.fho:
            if not (ctx.same(m.src, served) or ctx.same(m.dst, served)):
                yield Hit(f"{at(m)} between {ctx.name(m.src)} and {ctx.name(m.dst)} leaves out {ctx.name(served)}, "
                          f"which served {h.mn} before ({at(h.previous)})", (m, h.previous), h.id)
        if h.pba is not None:
            named, _how = named_pmag(h.pba, ctx.profile)
            if named is not None and not ctx.same(named, served):
                yield Hit(f"{at(h.pba)} names {ctx.name(named)} as pMAG, but {ctx.name(served)} served {h.mn} "
                          f"before ({at(h.previous)})", (h.pba, h.previous), h.id)


def _names_pmag(layout: Layout) -> bool:
    return registry.PMAG_ADDRESS_KEY in layout or registry.PMAG_ID_KEY in layout


def plain_pmipv6(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D10: only the PBA carries the draft's pMAG options."""
    if not any(map(_names_pmag, ctx.layouts("PBU"))):
        return  # no PBU carries one: no need to look at each
    for m in ctx.of_type("PBU"):
        if ctx.per_layout("draft-names-pmag", m, _names_pmag):
            yield Hit(f"{at(m)} carries a pMAG option; the draft defines it for the PBA only", (m,))


def transfer_answered(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D11: a CT-Req gets its CTD; a CTC cancels a transfer."""
    end = ctx.capture_end_ns()
    wait = float(rule.params.get("answer_within", ctx.timers.ct_max_transfer_time * 2))
    for h in ctx.handovers:
        for req in (m for m in h.cxtp if m.type == "CT-Req"):
            answer = answer_of(ctx, req)
            if answer is None:
                outcome = "inconclusive" if end < req.time_ns + wait * 1e9 else "fail"
                yield Hit(f"{at(req)} to {ctx.name(req.dst)} is answered by no CTD for {req.fields.get('mn_prev_addr')}",
                          (req,), h.id, outcome)
        for ctc in (m for m in h.cxtp if m.type == "CTC"):
            yield Hit(f"{at(ctc)}: {ctx.name(ctc.src)} cancelled the transfer for {ctc.fields.get('mn_prev_addr')}",
                      (ctc,), h.id)


def _binding_end(ctx: Context, h: Handover) -> tuple[int, Message, str] | None:
    """When the pMAG's binding for the MN ended on the wire, the message that shows it, and how."""
    ends: list[tuple[int, Message, str]] = []
    deregistrations = deregistration_exchanges(ctx)  # exchange_of, for the de-registrations looked for here
    for ex in (deregistrations.get(id(m)) for m in h.deregs if m.type == "PBU"):
        if ex is None or ex.lifetime != 0 or not ctx.same(ex.mag, h.pmag):
            continue
        if ex.pba is not None and ex.accepted:
            ends.append((ex.pba.time_ns, ex.pba, "its de-registration was acknowledged"))
        elif ex.pba is None:
            t = ex.pbu.time_ns + int(ctx.timers.initial_bindack_timeout * 1e9)
            ends.append((t, ex.pbu, "INITIAL_BINDACK_TIMEOUT passed after its unanswered de-registration"))
    status = num(h.previous_pba, "status") if h.previous_pba is not None else None
    if h.previous_pba is not None and status is not None and status < 128:
        granted = num(h.previous_pba, "lifetime")
        if granted is not None and granted > 0:
            ends.append((h.previous_pba.time_ns + granted * 1_000_000_000, h.previous_pba,
                         f"the {granted} s lifetime it was granted ran out"))
    return min(ends, key=lambda e: e[0]) if ends else None


def _transfers(ctx: Context, h: Handover, requests: list[Message]) -> Iterator[tuple[Message, int]]:
    """(start message, completion time) for each transfer of ``h`` out of the pMAG.

    ``requests``: ``h``'s CT-Reqs to the pMAG, each a start; without any, the pMAG's first CTD/PCTD is.
    """
    limit = int(ctx.timers.ct_max_transfer_time * 1e9)
    wants_ack = cxtp_facts(ctx).wants_ack
    starts = requests or [m for m in h.cxtp if m.type in ("CTD", "PCTD") and ctx.same(m.src, h.pmag)][:1]
    for start in starts:
        ctd = start if start.type != "CT-Req" else answer_of(ctx, start, limit)
        if ctd is None:
            yield start, start.time_ns + limit
            continue
        if id(ctd) not in wants_ack:  # flags_of(ctd).get("A"), read by the CXTP facts walk
            yield start, ctd.time_ns
            continue
        ctdr = first((m for m in h.cxtp if m.type == "CTDR" and ctx.same(m.src, ctd.dst)), ("CTDR",), ctd.time_ns)
        yield start, ctdr.time_ns if ctdr is not None else ctd.time_ns + limit


def context_kept(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """DRAFT-D12: no context deletion on the pMAG before the transfer completes (semantics in the rule)."""
    limit = int(ctx.timers.ct_max_transfer_time * 1e9)
    end_of_capture = ctx.capture_end_ns()
    for h in ctx.handovers:
        if h.pmag is None or not h.cxtp:  # no transfer, nothing to judge
            continue
        requests = [m for m in h.cxtp if m.type == "CT-Req" and ctx.same(m.dst, h.pmag)]
        end = _binding_end(ctx, h) if requests else None
        if end is not None:
            end_ns, shown_by, how = end
            for req in requests:
                if req.time_ns <= end_ns or answer_of(ctx, req, limit) is not None:
                    continue
                outcome = "inconclusive" if end_of_capture < req.time_ns + limit else "fail"
                yield Hit(f"{at(req)} reached the pMAG {ctx.name(h.pmag)} {ms((req.time_ns - end_ns) / 1e9)} after its "
                          f"binding for {h.mn} ended ({how}, {at(shown_by)}) and no CTD answered it within "
                          f"CT_MAX_TRANSFER_TIME: the context was deleted before it was transferred",
                          (req, shown_by), h.id, outcome)
        deregs = [m for m in h.deregs if m.type == "PBU" and ctx.same(m.src, h.pmag)]
        for start, done in _transfers(ctx, h, requests) if deregs else ():
            for d in deregs:
                if start.time_ns < d.time_ns < done:
                    yield Hit(f"the pMAG {ctx.name(h.pmag)} de-registered {h.mn} ({at(d)}) while the transfer "
                              f"started by {at(start)} was still in flight", (d, start), h.id)


CHECKS = {
    "case_known": case_known, "transfer_observable": transfer_observable, "case_order": case_order,
    "reactive1_pmag": reactive1_pmag, "reactive_attach_first": reactive_attach_first, "proactive1_push": proactive1_push,
    "exchange_addresses": exchange_addresses, "previous_mag": previous_mag, "plain_pmipv6": plain_pmipv6,
    "transfer_answered": transfer_answered, "context_kept": context_kept,
}
