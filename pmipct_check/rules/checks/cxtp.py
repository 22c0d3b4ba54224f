"""RFC 4067 (CXTP) as the draft uses it between MAGs: direction, acknowledgement, timing, fields."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator

from ... import registry
from ...analysis.evidence import (
    CXTP_TRANSFER,
    num,
    prev_addr,
    text,
    transport_info,
)
from ...decode.model import Message
from ..context import Context, Hit
from ..model import Rule
from .common import answer_of, at, clear_hit, ms
from .cxfacts import cxtp_facts
from .notices import notice_codes


def _prev(m: Message) -> str | None:
    return prev_addr(m)


def direction(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C4: CTD/PCTD pMAG -> nMAG; CT-Req, CTDR, CTC nMAG -> pMAG."""
    for h in ctx.handovers:
        if h.pmag is None:
            continue
        for m in h.cxtp:
            if m.type in ("CTD", "PCTD"):
                want = (h.pmag, h.nmag)
            elif m.type in ("CT-Req", "CTDR", "CTC"):
                want = (h.nmag, h.pmag)
            else:
                continue
            if not ctx.same(m.src, want[0]) or not ctx.same(m.dst, want[1]):
                yield Hit(f"{at(m)} goes {ctx.name(m.src)} -> {ctx.name(m.dst)}; in this handover it must go "
                          f"{ctx.name(want[0])} -> {ctx.name(want[1])}", (m,), h.id)


def transport(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C5: between routers over SCTP; MN <-> router over ICMP Experimental Mobility."""
    facts = cxtp_facts(ctx)
    for m in facts.not_sctp:
        yield Hit(f"{at(m)} is carried over {m.transport}, not SCTP", (m,))
    for m, over_icmp, hop_limit in facts.access:
        if not over_icmp:
            yield Hit(f"{at(m)} is carried over {m.transport}, not ICMP Experimental Mobility", (m,))
        if isinstance(hop_limit, int) and hop_limit != 255:
            yield Hit(f"{at(m)} has IP Hop Limit {hop_limit}, not 255", (m,))


def sctp_identification(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C7: CXTP uses the SCTP PPI / ports the profile configures (when it configures any)."""
    ppis, ports = ctx.profile.cxtp_sctp_ppis, ctx.profile.cxtp_sctp_ports
    if not ppis and not ports:
        return
    for m in ctx.of_type(*CXTP_TRANSFER):
        info = transport_info(m)
        if m.transport != "sctp" or not info:
            continue
        ppi, used = info.get("ppi"), {info.get("sport"), info.get("dport")}
        if (not ppis or ppi not in ppis) and (not ports or not used & ports):
            yield Hit(f"{at(m)} rides SCTP PPI {ppi}, ports {sorted(p for p in used if isinstance(p, int))}: none is "
                      f"the profile's CXTP PPI {sorted(ppis)} or port {sorted(ports)}", (m,))


def sctp_unordered(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C6: the SCTP DATA chunk carrying CXTP has the U bit set (when the decoder reports it)."""
    for m in cxtp_facts(ctx).ordered:
        yield Hit(f"{at(m)} rides an ordered SCTP DATA chunk (U bit clear)", (m,))


def _acked_by(ctx: Context, ctd: Message) -> Message | None:
    src, dst, prev = ctx.pair_key(ctd)
    for m in ctx.index("ctdr-by-pair", ("CTDR",), ctx.pair_key).get((dst, src, prev), ()):
        if m.time_ns >= ctd.time_ns:
            return m
    return None


def ack_requested(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C8: a CTD/PCTD with A set is answered by a CTDR."""
    end = ctx.capture_end_ns()
    wait = int(float(rule.params.get("wait", 2 * ctx.timers.ct_max_transfer_time)) * 1e9)
    for m in cxtp_facts(ctx).unacked:  # the CTDs/PCTDs with A set and no CTDR after them in the walk
        if _acked_by(ctx, m) is not None:
            continue
        outcome = "inconclusive" if end < m.time_ns + wait else "fail"
        yield Hit(f"{at(m)} asks for an acknowledgement (A flag) but no CTDR from {ctx.name(m.dst)} for "
                  f"{_prev(m)} follows", (m,), outcome=outcome)


def ctdr_status(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C9: S set means every status is zero; S clear means some FPT failed."""
    for m, failed in cxtp_facts(ctx).status_mismatch:
        if failed is not None:
            yield Hit(f"{at(m)} has S set but reports status {failed.get('status')} for FPT {failed.get('fpt')}", (m,))
        else:
            yield Hit(f"{at(m)} has S clear but every status entry is zero (success)", (m,))


def one_operation(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C10: a CTDR acknowledges a CTD for the same MN; one CT operation per MN at a time."""
    facts = cxtp_facts(ctx)  # first: its walk makes the two indexes
    by_nodes = ctx.index("ctd-by-nodes", ("CTD", "PCTD"), lambda c: (ctx.node(c.src), ctx.node(c.dst)))
    by_pair = ctx.index("ctd-by-pair", ("CTD", "PCTD"), ctx.pair_key)
    for m in facts.unmatched_ctdr:  # the others have a CTD back on their pair before them
        src, dst, prev = ctx.pair_key(m)
        if any(c.time_ns <= m.time_ns for c in by_pair.get((dst, src, prev), ())):
            continue
        on_pair = by_nodes.get((dst, src), [])
        acked = on_pair[:bisect.bisect_right(on_pair, m.time_ns, key=lambda c: c.time_ns)]
        if acked:
            yield Hit(f"{at(m)} acknowledges {_prev(m)}, but the CTD it answers ({at(acked[-1])}) carried "
                      f"{_prev(acked[-1])}", (m, acked[-1]))
        else:
            yield Hit(f"{at(m)} acknowledges no CTD: none from {ctx.name(m.dst)} to {ctx.name(m.src)} precedes it", (m,))
    for before, m in facts.second_transfer:
        yield Hit(f"{at(m)} starts a second transfer for {_prev(m)} while {at(before)} is unanswered and "
                  "not timed out", (before, m))


def elapsed_time(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C11: Elapsed Time does not go backwards across retransmitted CTDs for the same MN."""
    last: dict[tuple[object, object, object], tuple[Message, int | None]] = {}
    for m, key, now in cxtp_facts(ctx).elapsed:  # key: (sender node, receiver node, MN address)
        before = last.get(key)
        if before is not None and now is not None and before[1] is not None and now < before[1]:
            yield Hit(f"{at(m)} Elapsed Time {now} ms is less than {before[1]} ms in {at(before[0])}", (before[0], m))
        last[key] = (m, now)


def token_key(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C12: after a zero-token CT-Req RFC 4067 wants key material (PCTD layout) in the answer."""
    for m in cxtp_facts(ctx).zero_token:
        answer = answer_of(ctx, m)
        if answer is not None and answer.type == "CTD":
            yield Hit(f"{at(m)} carries a zero Authorization Token and {at(answer)} carries no key; RFC 4067 section "
                      "2.5.6 expects key material, moot when no MN takes part (the draft's network-initiated flows)",
                      (m, answer))


def pctd_key(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C13: PCTD Algorithm is HMAC_SHA1 (1) and Key Length counts the key's octets."""
    yield from notice_codes(ctx, rule)
    for m in ctx.of_type("PCTD"):
        algorithm, length, key = num(m, "algorithm"), num(m, "key_length"), text(m, "key")
        if algorithm not in registry.TABLES["cxtp_algorithm"]:
            yield Hit(f"{at(m)} Algorithm {algorithm} is not a registered token algorithm (1 = HMAC_SHA1)", (m,))
        if isinstance(key, str) and isinstance(length, int) and len(key) // 2 != length:
            yield Hit(f"{at(m)} Key Length {length} but {len(key) // 2} key octets", (m,))


def known_fpt(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C15: Feature Profile Types are registered (0 is reserved)."""
    for m, fpt in cxtp_facts(ctx).unknown_fpt:
        yield Hit(f"{at(m)} uses Feature Profile Type {fpt}, not in the IANA registry", (m,))


def ctar_retransmission(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C16: CTAR retransmissions back off from CT_REQUEST_RETRY, doubling, and stop by CT_RETRY_MAX."""
    retry, stop = float(rule.params.get("retry", registry.CT_REQUEST_RETRY)), float(
        rule.params.get("retry_max", registry.CT_RETRY_MAX))
    tolerance = float(rule.params.get("tolerance", 0.1))
    groups: dict[tuple[str, str, object, object], list[Message]] = {}
    for m in ctx.of_type("CTAR"):
        groups.setdefault((m.src, m.dst, num(m, "seq"), _prev(m)), []).append(m)
    for sends in groups.values():
        want = retry
        for a, b in itertools.pairwise(sends):
            gap = (b.time_ns - a.time_ns) / 1e9
            if gap < want * (1 - tolerance):
                yield Hit(f"{at(b)} retransmits {at(a)} after {ms(gap)}, expected at least {ms(want)}", (a, b))
            if (b.time_ns - sends[0].time_ns) / 1e9 > stop:
                yield Hit(f"{at(b)} retransmits a CTAR more than {stop:g} s after the first ({at(sends[0])})",
                          (sends[0], b))
            want *= 2


def ctar_rate(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C17: no more than CT_REQUEST_RATE CTARs per second reach one router."""
    rate = int(rule.params.get("rate", registry.CT_REQUEST_RATE))
    window: dict[str | None, list[Message]] = {}
    reported: set[str | None] = set()
    for m in ctx.of_type("CTAR"):
        node = ctx.node(m.dst)
        recent = [x for x in window.get(node, []) if m.time_ns - x.time_ns < 1_000_000_000] + [m]
        window[node] = recent
        if len(recent) > rate and node not in reported:
            reported.add(node)
            yield Hit(f"{len(recent)} CTARs reach {ctx.name(m.dst)} within one second (at most {rate})",
                      (recent[0], m))


def transfer_time(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C18: the CTD follows its CT-Req within CT_MAX_TRANSFER_TIME."""
    limit = ctx.timers.ct_max_transfer_time
    for m in ctx.of_type("CT-Req"):
        answer = answer_of(ctx, m)
        if answer is not None and (answer.time_ns - m.time_ns) / 1e9 > limit:
            yield Hit(f"{at(answer)} comes {ms((answer.time_ns - m.time_ns) / 1e9)} after {at(m)}, more than "
                      f"CT_MAX_TRANSFER_TIME ({ms(limit)})", (m, answer))


def protected(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """CXTP-C19: CXTP between routers is protected by IPsec."""
    for m in cxtp_facts(ctx).clear_firsts.values():
        yield clear_hit(ctx, m, "CXTP", "RFC 4067 section 6.2")


CHECKS = {
    "cxtp_direction": direction, "cxtp_transport": transport, "cxtp_sctp_identification": sctp_identification, "cxtp_sctp_unordered": sctp_unordered,
    "cxtp_ack_requested": ack_requested, "cxtp_ctdr_status": ctdr_status, "cxtp_one_operation": one_operation,
    "cxtp_elapsed_time": elapsed_time, "cxtp_token_key": token_key, "cxtp_pctd_key": pctd_key,
    "cxtp_known_fpt": known_fpt, "cxtp_ctar_retransmission": ctar_retransmission, "cxtp_ctar_rate": ctar_rate,
    "cxtp_transfer_time": transfer_time, "cxtp_protected": protected,
}
