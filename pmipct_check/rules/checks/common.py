"""Small helpers shared by the check modules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter

from ...analysis.cases import Case, Order
from ...analysis.model import Handover
from ...decode.model import Message
from ..context import Context, Hit

_time = attrgetter("time_ns")


def at(msg: Message | None) -> str:
    """``CT-Req (frame 12)``: how a finding names a message."""
    if msg is None:
        return "(not seen)"
    if msg.observations and len({o[0] for o in msg.observations} | {msg.file}) > 1:  # seen in several files
        return f"{msg.type} ({msg.file}:{msg.frame})"
    return f"{msg.type} (frame {msg.frame})"


def first(messages: Iterable[Message], types: Iterable[str], after_ns: int | None = None) -> Message | None:
    wanted = set(types)
    for m in messages:
        if m.type in wanted and (after_ns is None or m.time_ns >= after_ns):
            return m
    return None


def ms(seconds_or_ns: float) -> str:
    return f"{seconds_or_ns * 1000:.1f} ms"


def occurrence(h: Handover, name: str, case: Case, between_mags: Sequence[Message] | None = None) -> Message | None:
    """The first message standing for ``name`` (a step of ``case``) in handover ``h``.

    ``between_mags``: ``h``'s CXTP and HI/HAck in time order, when the caller has them already.
    """
    if name == "PBU":
        return h.pbu
    if name == "PBA":
        return h.pba
    if between_mags is None:
        between_mags = sorted(h.cxtp + h.fho, key=lambda m: m.time_ns)
    return first(between_mags, case.types_of(name))


def _constraints(ctx: Context) -> dict[str, list[Order]]:
    """case -> its order constraints, every rule's, in the order rules/cases.toml gives them."""
    return {name: list(case.order) for name, case in ctx.cases.items() if case.order}


def _order_violations(ctx: Context) -> dict[str, dict[int, list[Hit]]]:
    """rule id -> handover (by identity, in handover order) -> the order constraints it violates.

    Every constraint of every handover judged in one walk (DRAFT-D2..D7 and PFMIP-F2/F4 each asked
    for their own over every handover, 16k asks on the 100k bench): a handover's CXTP and HI/HAck
    are sorted once and each step's first message found once for all of its case's constraints.
    """
    per_case = _constraints(ctx)
    out: dict[str, dict[int, list[Hit]]] = {}
    for h in ctx.handovers:
        constraints = per_case.get(h.case)
        if not constraints:  # most cases constrain no order at all
            continue
        case = ctx.cases[h.case]
        between_mags = sorted(h.cxtp + h.fho, key=_time)
        found: dict[str, Message | None] = {}
        for constraint in constraints:
            if constraint.first not in found:
                found[constraint.first] = occurrence(h, constraint.first, case, between_mags)
            if constraint.then not in found:
                found[constraint.then] = occurrence(h, constraint.then, case, between_mags)
            a, b = found[constraint.first], found[constraint.then]
            if a is not None and b is not None and b.time_ns < a.time_ns:
                hit = Hit(f"{h.case}: {at(b)} comes {ms((a.time_ns - b.time_ns) / 1e9)} before {at(a)}; "
                          f"{case.spec} requires {constraint.first} first", (b, a), h.id)
                out.setdefault(constraint.rule, {}).setdefault(id(h), []).append(hit)
    return out


def order_hits(ctx: Context, rule_id: str, h: Handover) -> Iterator[Hit]:
    """Violations of the order constraints ``rules/cases.toml`` gives ``h``'s case for ``rule_id``."""
    violations = ctx.shared("order-violations", _order_violations).get(rule_id, {})
    return iter(violations.get(id(h), ()))


def order_violations(ctx: Context, rule_id: str) -> Iterator[Hit]:
    """:func:`order_hits` of every handover, in handover order: what a rule with order constraints reports."""
    for hits in ctx.shared("order-violations", _order_violations).get(rule_id, {}).values():
        yield from hits


def handovers_in(ctx: Context, *cases: str) -> Iterator[Handover]:
    return (h for h in ctx.handovers if not cases or h.case in cases)


def in_clear(ctx: Context, messages: Iterable[Message], what: str, rule_spec: str) -> Iterator[Hit]:
    """One finding per node pair whose ``what`` messages are readable, i.e. not inside ESP/AH."""
    for m in clear_firsts(ctx, messages).values():
        yield clear_hit(ctx, m, what, rule_spec)


def in_clear_of_types(ctx: Context, types: tuple[str, ...], what: str, rule_spec: str) -> Iterator[Hit]:
    """:func:`in_clear` of ``ctx.of_type(*types)``, without merging the types' lists (PBU+PBA: 65k
    messages on the 100k bench, a pass over every message and a sort, for the few pairs it reports).

    Each type's list (in time order) gives its first readable message per node pair; a pair's
    finding is the earliest of those, the findings in time order.  A tie in time between the
    candidates needs the analysis's order, which only the merged list holds: then it is merged.
    """
    firsts = [clear_firsts(ctx, ctx.of_type(t)) for t in dict.fromkeys(types)]
    chosen: dict[frozenset[str | None], Message] = {}
    for found in firsts:
        for pair, m in found.items():
            held = chosen.get(pair)
            if held is None or m.time_ns < held.time_ns:
                chosen[pair] = m
            elif m.time_ns == held.time_ns:
                yield from in_clear(ctx, ctx.of_type(*types), what, rule_spec)
                return
    ordered = sorted(chosen.values(), key=_time)
    if len(set(map(_time, ordered))) != len(ordered):
        yield from in_clear(ctx, ctx.of_type(*types), what, rule_spec)
        return
    for m in ordered:
        yield clear_hit(ctx, m, what, rule_spec)


def clear_firsts(ctx: Context, messages: Iterable[Message]) -> dict[frozenset[str | None], Message]:
    """Node pair -> its first message of ``messages`` not inside ESP/AH, in order of first appearance."""
    found: dict[frozenset[str | None], Message] = {}
    done: set[tuple[str, str]] = set()  # address pairs whose node pair is in ``found``: most messages
    for m in messages:
        addresses = (m.src, m.dst)
        if addresses in done or m.fields.get("esp") or m.transport.startswith("esp"):
            continue
        done.add(addresses)
        found.setdefault(frozenset({ctx.node(m.src), ctx.node(m.dst)}), m)
    return found


def clear_hit(ctx: Context, m: Message, what: str, rule_spec: str) -> Hit:
    """:func:`in_clear`'s finding for ``m``, the first readable message between its node pair."""
    return Hit(f"{what} between {ctx.name(m.src)} and {ctx.name(m.dst)} is sent in clear, first {at(m)}: "
               f"{rule_spec} requires IPsec protection (expected in lab captures taken without ESP)", (m,),
               per_handover=False)


def answer_of(ctx: Context, req: Message, within_ns: int | None = None) -> Message | None:
    """The CTD/PCTD that answers a CT-Req: from its receiver, back to its sender, same MN address.

    Memoised per CT-Req (by identity): CXTP-C12/C18 and DRAFT-D11/D12 ask for the same requests.
    """
    answers: dict[int, Message | None] = ctx.shared("cxtp-answers", lambda _: {})
    key = id(req)
    if key in answers:
        found = answers[key]
    else:
        found = answers[key] = _first_answer(ctx, req)
    if found is not None and within_ns is not None and found.time_ns - req.time_ns > within_ns:
        return None
    return found


def _first_answer(ctx: Context, req: Message) -> Message | None:
    src, dst, prev = ctx.pair_key(req)
    for m in ctx.index("ctd-by-pair", ("CTD", "PCTD"), ctx.pair_key).get((dst, src, prev), ()):
        if m.time_ns >= req.time_ns:
            return m
    return None
