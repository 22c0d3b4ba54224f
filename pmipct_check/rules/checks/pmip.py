"""RFC 5213 (PMIPv6) on RFC 6275's Mobility Header: PBU contents, PBA echoes, LMA behaviour."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter, is_

from ... import registry
from ...analysis.evidence import (
    Network,
    NodeKeys,
    flag,
    flags_of,
    is_all_zero_prefix,
    num,
    option,
    option_count,
    option_num,
    option_value,
    options,
    prefixes,
    timestamp,
    timestamp_key,
)
from ...analysis.model import Exchange
from ...decode.model import Message
from ..context import Context, Hit, Layout, layout_of
from ..model import Rule
from .common import at, in_clear_of_types

_time = attrgetter("time_ns")
MANDATORY = (("mn_id", 160), ("hnp", 158), ("handoff", 161), ("att", 162))  # RFC 5213 section 5.3.1 order
MANDATORY_CODES = frozenset(code for _, code in MANDATORY)
AT_MOST_ONE = ("mn_id", "handoff", "att", "timestamp", "mn_ll_id", "lla")


def _status(m: Message | None) -> int | None:
    return None if m is None else num(m, "status")


@dataclass(slots=True)
class _Facts:
    """An exchange with what the PMIP rules read of it, read once per Context; never changed after."""

    ex: Exchange
    lifetime: int
    accepted: bool | None
    status: int | None  # the PBA's; None without a PBA
    mag: str | None  # the PBU's sender as a node (Context.node): MAGs compare by node
    timestamp: str | None  # the PBU's Timestamp
    #: the first mandatory option the PBU lacks, with the status it calls for; not looked for without a
    #: status (PMIP-P10 and P18, which read it, judge answered PBUs only)
    missing: tuple[str, int] | None
    handoff: object  # option_value(pbu, "handoff"): the PBU's first HI option's value (PMIP-P14/P15)
    #: whether the PBA carries HNP options, none ALL_ZERO (:func:`_assigns_prefixes`); read for accepted
    #: exchanges only (PMIP-P9 judges the registrations among them), None otherwise
    assigns: bool | None
    #: the PBU's HNP option when it carries exactly one, and the PBA's when accepted (else None): what
    #: PMIP-P14/P15 compare first (:func:`_omitted`; two messages sharing the record list the same
    #: prefix), read here while the option lists are at hand rather than again later
    pbu_hnp: dict | None
    pba_hnp: dict | None


@dataclass(slots=True)
class _Exchanges:
    """Every exchange's facts: in capture order, and per MN in time order."""

    all: list[_Facts]
    by_mn: dict[str, list[_Facts]]
    #: (facts, PBA) of the answered exchanges whose PBA carries an option list of its own, in capture
    #: order: the ones PMIP-P8/P11 compare (see :func:`_echoed_whole`; 1,131 of 36,568 on the 100k bench)
    own_echo: list[tuple[_Facts, Message]]
    #: What PMIP-P2/P6/P7/P22 judge, read in the same walk while each PBU and PBA is at hand, as the
    #: distinct objects (by identity) that the exchanges' messages carry: the decoder shares equal flags
    #: and options, so 36k PBUs carry 2 flags records, 8 HI and 2 ATT options.  A rule whose verdict on
    #: each of them is "nothing to report" need not walk its messages (when the exchanges hold all of
    #: them: :func:`_covers`).
    pbu_flags: dict[int, object]
    pba_flags: dict[int, object]
    handoffs: dict[int, dict]
    atts: dict[int, dict]
    statuses: set[int | None]  # the PBAs' num(pba, "status")
    seq_differs: bool  # some PBA's num(.., "seq") differs from its PBU's (PMIP-P7 reports it)
    pbu_as_pba: bool  # some exchange's "PBA" is a message of type PBU (never so from the correlator)


def _first_missing(layout: Layout) -> tuple[str, int] | None:
    """The first mandatory option a PBU of this option layout lacks, with the status it calls for."""
    return next(((key, code) for key, code in MANDATORY if key not in layout), None)


def _first_at(layout: Layout, key: str) -> int | None:
    at = layout.get(key)
    return at[0] if at else None


def _only_at(layout: Layout, key: str) -> int | None:
    """The position of the layout's one ``key`` option (None: none, or several)."""
    at = layout.get(key)
    return at[0] if at and len(at) == 1 else None


_LayoutFacts = tuple[Layout, tuple[str, int] | None, int | None, int | None, int | None, int | None]


def _layout_facts(layout: Layout) -> _LayoutFacts:
    """(layout, first missing mandatory option, position of the first Timestamp, HI and ATT option,
    position of the one HNP option)."""
    return (layout, _first_missing(layout), _first_at(layout, "timestamp"), _first_at(layout, "handoff"),
            _first_at(layout, "att"), _only_at(layout, "hnp"))


def _read_exchanges(ctx: Context) -> _Exchanges:
    """One walk over the exchanges, each read once (36k on the 100k bench, a dozen rules read them).

    ``Exchange.lifetime``/``accepted``, ``num(pba, "status")``, ``timestamp(pbu)`` and the first
    missing option are read inline (plain ints and present options first, the accessors otherwise):
    the same values, without five Python calls per exchange.  The walk is bound by memory (each
    message's records are touched once here): what other rules judge of the same records is
    gathered here too (``pbu_flags`` ...), while they are at hand.
    """
    every: list[_Facts] = []
    by_mn: dict[str, list[_Facts]] = {}
    own_echo: list[tuple[_Facts, Message]] = []
    pbu_flags: dict[int, object] = {}
    pba_flags: dict[int, object] = {}
    handoffs: dict[int, dict] = {}
    atts: dict[int, dict] = {}
    statuses: set[int | None] = set()
    seq_differs = pbu_as_pba = False
    per_layout: dict[int, _LayoutFacts] = {}
    hnp_verdicts: dict[int, tuple[dict, bool]] = {}
    node = NodeKeys(ctx.profile)  # ctx.node as a mapping: a lookup instead of a call per exchange
    append = every.append
    for ex in ctx.analysis.exchanges:
        pbu, pba = ex.pbu, ex.pba
        fields = pbu.fields
        lifetime = fields.get("lifetime")
        if type(lifetime) is not int:
            lifetime = ex.lifetime
        elif lifetime < 0:
            lifetime = 0
        flags = fields.get("flags")
        pbu_flags[id(flags)] = flags
        layout = pbu.option_index
        if layout is None:
            layout = layout_of(pbu)
        known = per_layout.get(id(layout))
        if known is None:
            known = per_layout[id(layout)] = _layout_facts(layout)
        _, first_missing, ts_at, hi_at, att_at, hnp_at = known
        own = False
        assigns = pba_hnp = None
        if pba is None:
            status = accepted = missing = None
        else:
            back = pba.fields
            if pba.type == "PBU":
                pbu_as_pba = True
            status = back.get("status")
            if type(status) is not int:
                status = _status(pba)
            statuses.add(status)
            accepted = status is not None and status < 128
            missing = None if status is None else first_missing
            flags = back.get("flags")
            pba_flags[id(flags)] = flags
            seq, back_seq = fields.get("seq"), back.get("seq")
            if not (back_seq == seq and type(seq) is int and type(back_seq) is int) \
                    and num(pbu, "seq") != num(pba, "seq"):
                seq_differs = True
            own = fields.get("options") is not back.get("options")  # see _echoed_whole
            if accepted:
                pba_hnp, assigns = _assigns(pba, hnp_verdicts)
        ts = handoff = pbu_hnp = None
        if ts_at is not None or hi_at is not None or att_at is not None or hnp_at is not None:
            listed = fields["options"]
            if hnp_at is not None:
                pbu_hnp = listed[hnp_at]
            if ts_at is not None:
                value = listed[ts_at].get("value")
                found = value.get("value") if isinstance(value, dict) else None
                if isinstance(found, str):
                    whole, _, frac = found.partition(".")
                    if whole.isdigit() and (frac == "" or frac.isdigit()):
                        ts = found
            if hi_at is not None:
                option = listed[hi_at]
                handoffs[id(option)] = option
                handoff = option.get("value")
            if att_at is not None:
                option = listed[att_at]
                atts[id(option)] = option
        facts = _Facts(ex, lifetime, accepted, status, node[ex.mag], ts, missing, handoff, assigns, pbu_hnp, pba_hnp)
        append(facts)
        if own:
            own_echo.append((facts, pba))  # type: ignore[arg-type]
        group = by_mn.get(ex.mn)
        if group is None:
            by_mn[ex.mn] = [facts]
        else:
            group.append(facts)
    return _Exchanges(every, by_mn, own_echo, pbu_flags, pba_flags, handoffs, atts, statuses, seq_differs,
                      pbu_as_pba)


def _assigns(pba: Message, verdicts: dict[int, tuple[dict, bool]]) -> tuple[dict | None, bool]:
    """(the PBA's HNP option if it carries exactly one, :func:`_assigns_prefixes`); the second judged once per HNP option
    record when the PBA carries one (the usual case; the decoder shares equal options, ~3 PBAs a record
    on the bench)."""
    layout = pba.option_index
    at = (layout_of(pba) if layout is None else layout).get("hnp")
    if not at:
        return None, False
    if len(at) > 1:
        return None, _assigns_prefixes(pba)
    option = pba.fields["options"][at[0]]
    known = verdicts.get(id(option))
    if known is None:
        known = verdicts[id(option)] = (option, not is_all_zero_prefix(option))
    return option, known[1]


def _covers(ctx: Context, type_: str, side: str) -> bool:
    """Whether the exchanges' ``side`` ("pbu" or "pba") messages are every message of ``type_``.

    Worked out once per Context; only the answer is kept (the identities of 36k PBUs hold 2 MB).
    The exchanges come in the order of their PBUs, the messages' order: the PBUs are usually the very
    messages of type PBU in the same order, and the PBAs once sorted by time, which a pass in C tells
    without a set of 36k identities.
    """
    def build(ctx: Context) -> bool:
        wanted = list(ctx.of_type(type_))
        held_in_order = list(filter(None, map(attrgetter(side), ctx.analysis.exchanges)))
        if len(wanted) == len(held_in_order) and (
            all(map(is_, wanted, held_in_order)) or all(map(is_, wanted, sorted(held_in_order, key=_time)))
        ):
            return True
        held = set(map(id, held_in_order))
        return len(wanted) == len(held) and held.issuperset(map(id, wanted))
    return ctx.shared(f"pmip-{side}-covers-{type_}", build)


def _exchanges(ctx: Context) -> _Exchanges:
    """The exchanges' facts, read once per Context (a dozen PMIP rules walk them)."""
    return ctx.shared("pmip-exchanges", _read_exchanges)


def deregistration_exchanges(ctx: Context) -> dict[int, Exchange]:
    """``Context.exchange_of`` for the PBUs whose exchange is a de-registration (by the PBU's identity),
    None for the others: what DRAFT-D12 asks, without a map of every PBU and PBA (~5 MB at 36k).

    A PBU-typed message that some exchange holds as its answer maps to that exchange, as in
    ``exchange_of`` (whose answers override); the caller checks the lifetime of what it gets.
    """
    def build(ctx: Context) -> dict[int, Exchange]:
        facts = _exchanges(ctx)
        found = {id(f.ex.pbu): f.ex for f in facts.all if f.lifetime == 0}
        if facts.pbu_as_pba:
            found.update({id(ex.pba): ex for ex in ctx.analysis.exchanges if ex.pba is not None and ex.pba.type == "PBU"})
        return found
    return ctx.shared("pmip-deregistrations", build)


def _prefix_set(ctx: Context, msg: Message) -> frozenset[Network]:
    """``set(prefixes(msg))``, once per message of the analysis (memoised by identity: the analysis holds
    its messages as long as the Context lives); compared as networks, shown as text only when reported."""
    memo: dict[int, frozenset[Network]] = ctx.shared("pmip-prefix-sets", lambda _: {})
    found = memo.get(id(msg))
    if found is None:
        found = memo[id(msg)] = frozenset(prefixes(msg))
    return found


def _texts(networks: Iterable[Network]) -> list[str]:
    return sorted(str(p) for p in networks)


def _clear_flags(flags: object) -> bool:
    """Whether PMIP-P2 reports a PBU with this flags record (A or P decoded and clear)."""
    found = flags if isinstance(flags, dict) else {}
    return any(f in found and not found[f] for f in ("A", "P"))


def pbu_flags(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P2: a PBU has the A and P flags set."""
    if not any(map(_clear_flags, _exchanges(ctx).pbu_flags.values())) and _covers(ctx, "PBU", "pbu"):
        return  # every PBU's flags record (two distinct ones on the bench) has both set
    for m in ctx.of_type("PBU"):
        flags = flags_of(m)
        if flags.get("A", True) and flags.get("P", True):
            continue  # both set (or not decoded): almost every PBU
        missing = [f for f in ("A", "P") if f in flags and not flags[f]]  # flag(m, f) is False
        if missing:
            yield Hit(f"{at(m)} has the {' and '.join(missing)} flag clear", (m,))


REQUIRED_OPTIONS = tuple((key, f"no {registry.OPTIONS[t].name} option")
                         for t, key in ((8, "mn_id"), (22, "hnp"), (23, "handoff"), (24, "att")))


def _option_problems(layout: Layout) -> str:
    """What PMIP-P3 finds wrong with a PBU of this option layout ("" when nothing)."""
    problems = [absent for key, absent in REQUIRED_OPTIONS if key not in layout]
    problems += [f"{n} {key} options" for key in AT_MOST_ONE if (n := len(layout.get(key, ()))) > 1]
    return ", ".join(problems)


def pbu_options(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P3: one MN-ID, HI and ATT, at least one HNP, at most one TS, MN-LL-ID, LLA."""
    if not any(map(_option_problems, ctx.layouts("PBU"))):
        return  # every PBU's options are in order: no need to look at each
    for m in ctx.of_type("PBU"):
        problems = ctx.per_layout("pmip-pbu-options", m, _option_problems)
        if problems:
            yield Hit(f"{at(m)}: {problems}", (m,))


def all_zero_hnp(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P4: an ALL_ZERO HNP option must be the only HNP option."""
    if all(len(layout.get("hnp", ())) < 2 for layout in ctx.layouts("PBU")):
        return  # no PBU carries two HNP options
    for m in ctx.of_type("PBU"):
        if option_count(m, "hnp") < 2:
            continue
        found = options(m, "hnp")
        if any(is_all_zero_prefix(o) for o in found):
            yield Hit(f"{at(m)} carries an ALL_ZERO HNP option among {len(found)} HNP options", (m,))


def _int_value(option: dict) -> int | None:
    value = option.get("value")
    return value if isinstance(value, int) and not isinstance(value, bool) else None  # as option_num reads it


def _undefined_hi(option: dict, allowed: set[int]) -> bool:
    hi = _int_value(option)
    return hi is not None and hi not in allowed


def _undefined_att(option: dict) -> bool:
    att = _int_value(option)
    return att is not None and (att == 0 or att not in registry.TABLES["att"])


def option_values(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P6: Handoff Indicator and Access Technology Type values are defined ones."""
    allowed_hi = set(rule.params.get("handoff", [1, 2, 3, 4, 5, 6]))
    facts = _exchanges(ctx)
    if not any(_undefined_hi(o, allowed_hi) for o in facts.handoffs.values()) \
            and not any(map(_undefined_att, facts.atts.values())) and _covers(ctx, "PBU", "pbu"):
        return  # no distinct HI or ATT option the PBUs carry has an undefined value
    for m in ctx.of_type("PBU"):
        hi, att = option_num(m, "handoff"), option_num(m, "att")
        if hi is not None and hi not in allowed_hi:
            yield Hit(f"{at(m)} Handoff Indicator {hi} is not a defined value", (m,))
        if att is not None and (att == 0 or att not in registry.TABLES["att"]):
            yield Hit(f"{at(m)} Access Technology Type {att} is not a defined value", (m,))


def _p_clear(flags: object) -> bool:
    """``flag(m, "P") is False`` for a message with this flags record."""
    return isinstance(flags, dict) and "P" in flags and not flags["P"]


def pba_matches(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P7: the PBA answers a PBU: P flag, swapped addresses, the PBU's sequence number."""
    facts = _exchanges(ctx)
    if not facts.seq_differs and not any(map(_p_clear, facts.pba_flags.values())) and _covers(ctx, "PBA", "pba"):
        return  # every PBA answers a PBU with its sequence number, and no flags record has P clear
    for m in ctx.of_type("PBA"):
        if flag(m, "P") is False:
            yield Hit(f"{at(m)} has the P flag clear although it answers a proxy registration", (m,))
        paired = ctx.exchange_of(m)
        if paired is not None:
            if num(paired.pbu, "seq") != num(m, "seq"):
                yield Hit(f"{at(m)} carries sequence number {m.fields.get('seq')}, but the PBU it answers "
                          f"({at(paired.pbu)}) has {paired.pbu.fields.get('seq')}", (m, paired.pbu))
            continue
        waiting = [ex for ex in ctx.analysis.exchanges if ex.pba is None and ex.pbu.src == m.dst and ex.pbu.dst == m.src
                   and ex.pbu.time_ns <= m.time_ns and (ctx.mn_of(m) in (None, ex.mn))]
        if waiting:
            pbu = waiting[-1].pbu
            yield Hit(f"{at(m)} carries sequence number {m.fields.get('seq')}, but the PBU it answers ({at(pbu)}) "
                      f"has {pbu.fields.get('seq')}", (m, pbu))


ECHOED = (("mn_id", "MN Identifier", "identifier"), ("handoff", "Handoff Indicator", "value"),
          ("att", "Access Technology Type", "value"), ("mn_ll_id", "MN Link-layer Identifier", "identifier"))
ONLY_IF_SENT = (("timestamp", "Timestamp"), ("mn_ll_id", "MN Link-layer Identifier"), ("lla", "Link-local Address"))


def _echo_values(pbu: Message, pba: Message) -> list[str]:
    problems = []
    for key, name, field in ECHOED:
        sent = option_value(pbu, key, field)
        if sent is None:  # nothing to echo
            continue
        back = option_value(pba, key, field)
        if back is None:
            problems.append(f"no {name} option (PBU has {sent!r})")
        elif back != sent:
            problems.append(f"{name} {back!r} instead of {sent!r}")
    for key, name in ONLY_IF_SENT:
        sent_one, back_one = option(pbu, key) is not None, option(pba, key) is not None
        if back_one and not sent_one:
            problems.append(f"a {name} option the PBU did not carry")
        elif key == "lla" and sent_one and not back_one:
            problems.append(f"no {name} option although the PBU carried one")
    return problems


def _echoed_whole(ex: Exchange) -> bool:
    """Whether the PBA carries the PBU's very option list (the decoder shares an echo equal option for
    option): then every option reads the same in both, and the echo rules have nothing to compare."""
    return ex.pba is not None and ex.pbu.fields.get("options") is ex.pba.fields.get("options")


def pba_echo(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P8: the PBA echoes MN-ID, HI, ATT, MN-LL-ID; TS/MN-LL-ID/LLA only if the PBU had them."""
    for f, pba in _exchanges(ctx).own_echo:
        pbu = f.ex.pbu
        problems = _echo_values(pbu, pba)
        if problems:
            yield Hit(f"{at(pba)} answering {at(pbu)} carries {'; '.join(problems)}", (pba, pbu))


def _assigns_prefixes(pba: Message) -> bool:
    """Whether the PBA carries HNP options, none of them ALL_ZERO."""
    back = options(pba, "hnp")
    return bool(back) and not any(map(is_all_zero_prefix, back))


def pba_prefixes(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P9: rejected: the requested HNPs echoed; accepted: NON_ZERO assigned prefixes."""
    for f in _exchanges(ctx).all:
        ex, status = f.ex, f.status
        if ex.pba is None or status is None:
            continue
        if status < 128:
            if f.lifetime > 0 and not f.assigns:  # read for every accepted registration
                yield Hit(f"{at(ex.pba)} accepts {at(ex.pbu)} without a NON_ZERO home network prefix", (ex.pba, ex.pbu))
        else:
            back = options(ex.pba, "hnp")
            sent = _prefix_set(ctx, ex.pbu)
            got = _prefix_set(ctx, ex.pba)
            if options(ex.pbu, "hnp") and sent != got:
                yield Hit(f"{at(ex.pba)} rejects {at(ex.pbu)} but echoes prefixes {_texts(got)} instead of {_texts(sent)}",
                          (ex.pba, ex.pbu))
            elif not options(ex.pbu, "hnp") and (len(back) != 1 or not is_all_zero_prefix(back[0])):
                yield Hit(f"{at(ex.pba)} rejects a PBU with no HNP option but does not carry one ALL_ZERO HNP option",
                          (ex.pba, ex.pbu))


def missing_option_status(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P10: a PBU lacking a mandatory option gets the status RFC 5213 section 5.3.1 names."""
    for f in _exchanges(ctx).all:
        ex, status, missing = f.ex, f.status, f.missing
        if status is None or missing is None:
            continue
        key, code = missing
        if status < 128 or (status in MANDATORY_CODES and status != code):
            yield Hit(f"{at(ex.pbu)} lacks the {key} option, so the PBA must carry status {code} "
                      f"({registry.table_name('ba_status', code)}); {at(ex.pba)} carries {status}", (ex.pbu, ex.pba))


def timestamp_echo(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P11: Timestamp in the PBU -> Timestamp in the PBA, the same when accepted; none otherwise."""
    for f, pba in _exchanges(ctx).own_echo:
        pbu, sent, back, status = f.ex.pbu, f.timestamp, timestamp(pba), f.status
        if sent is None and back is not None:
            yield Hit(f"{at(pba)} carries a Timestamp although {at(pbu)} has none", (pba, pbu))
        elif sent is not None and back is None:
            yield Hit(f"{at(pba)} carries no Timestamp although {at(pbu)} has one", (pba, pbu))
        elif sent is not None and status is not None and status < 128 and back != sent:
            yield Hit(f"{at(pba)} accepts with Timestamp {back}, not the PBU's {sent}", (pba, pbu))


def timestamp_monotonic(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P12: accepted PBUs of one MN carry increasing timestamps, from whichever MAG."""
    for facts in _exchanges(ctx).by_mn.values():
        last: Exchange | None = None
        last_ts, last_key = "0", (0, 0)  # the last accepted PBU's Timestamp, and as compared
        for f in facts:
            ts, ex = f.timestamp, f.ex
            if ts is None or not f.accepted:
                continue
            key = timestamp_key(ts)
            if last is not None and key <= last_key:
                yield Hit(f"{at(ex.pba)} accepts {at(ex.pbu)} whose Timestamp {ts} is not newer than "
                          f"{last_ts} accepted in {at(last.pbu)} (status 157 expected)",
                          (ex.pbu, ex.pba, last.pbu))  # type: ignore[arg-type]
            last, last_ts, last_key = ex, ts, key


def _newer(seq: int, last: int) -> bool:
    return 0 < (seq - last) % 65536 < 32768


def sequence_numbers(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P13: without Timestamp, an accepted PBU's seq is newer (mod 2^16); 135 carries the last one.

    Compared per MN and MAG: MAGs keep their own counters, so a new MAG's first PBU may be lower.
    """
    groups: dict[tuple[str, str | None], list[tuple[Exchange, int]]] = {}
    for f in _exchanges(ctx).all:
        if f.status is not None and f.timestamp is None:  # answered without Timestamp: all this rule judges
            groups.setdefault((f.ex.mn, f.mag), []).append((f.ex, f.status))
    for judged in groups.values():
        last: int | None = None
        for ex, status in judged:
            seq = num(ex.pbu, "seq")
            if seq is None:
                continue
            if status < 128:
                if last is not None and not _newer(seq, last):
                    yield Hit(f"{at(ex.pba)} accepts {at(ex.pbu)} with sequence number {seq}, not newer than the "
                              f"last accepted {last} (status 135 expected)", (ex.pbu, ex.pba))  # type: ignore[arg-type]
                last = seq
            elif status == 135 and last is not None and num(ex.pba, "seq") != last:  # type: ignore[union-attr]
                yield Hit(f"{at(ex.pba)} (status 135) carries {ex.pba.fields.get('seq')}, not the last accepted "  # type: ignore[union-attr]
                          f"sequence number {last}", (ex.pba, ex.pbu))  # type: ignore[arg-type]


def _omitted(ctx: Context, registration: _Facts, f: _Facts) -> frozenset[Network]:
    """The prefixes assigned in ``registration`` that the PBU of ``f`` does not list."""
    ex, pbu = registration.ex, f.ex.pbu
    from_pba = ex.pba is not None and registration.accepted
    source = ex.pba if from_pba else ex.pbu
    held = registration.pba_hnp if from_pba else registration.pbu_hnp  # source's one HNP option
    if held is f.pbu_hnp is not None or options(pbu, "hnp") == options(source, "hnp"):  # the same HNP options (usually shared): nothing omitted
        return frozenset()
    return _prefix_set(ctx, source) - _prefix_set(ctx, pbu)


def _follow_registrations(ctx: Context) -> list[tuple[_Facts, _Facts]]:
    """(exchange, the registration it follows from the same MAG), per MN in time order.

    The re-registrations (lifetime > 0) are PMIP-P14's, the de-registrations PMIP-P15's: one walk for both.
    """
    out: list[tuple[_Facts, _Facts]] = []
    for facts in _exchanges(ctx).by_mn.values():
        current: _Facts | None = None
        for f in facts:
            same_mag = current is not None and current.mag is not None and current.mag == f.mag
            if same_mag:
                out.append((f, current))  # type: ignore[arg-type]
            if f.lifetime > 0 and f.accepted:
                current = f
            elif f.lifetime == 0 and same_mag and f.accepted is not False:
                current = None
    return out


def re_and_deregistration(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P14/P15: re-registration HI=5, de-registration HI=4, each listing every assigned prefix."""
    want_hi = int(rule.params.get("handoff"))
    dereg = bool(rule.params.get("deregistration"))
    kind = "de-registration" if dereg else "re-registration"
    for f, current in ctx.shared("pmip-follow-registrations", _follow_registrations):
        if (f.lifetime == 0) != dereg:
            continue
        ex = f.ex
        hi = f.handoff
        missing = _omitted(ctx, current, f)
        if hi != want_hi:
            yield Hit(f"{at(ex.pbu)} is a {kind} but carries Handoff Indicator {hi}, not {want_hi}",
                      (ex.pbu, current.ex.pbu))
        if missing:
            yield Hit(f"{at(ex.pbu)} is a {kind} but omits assigned prefix(es) {_texts(missing)}",
                      (ex.pbu, current.ex.pbu))


@dataclass(slots=True)
class _Held:
    """What the LMA held just before each exchange PMIP-P16/P17/P18 judge."""

    #: (MN, answered de-registration, registration the LMA held before it, de-registration that ended the
    #: last one): what PMIP-P16 and PMIP-P17 each judge
    deregistrations: list[tuple[str, Exchange, Exchange | None, Exchange | None]]
    #: (a rejected registration, the de-registration that ended the last binding before it): PMIP-P18's
    rejected: list[tuple[_Facts, Exchange | None]]


def _held_before(ctx: Context) -> _Held:
    """Per MN in time order: the registration the LMA holds, and the de-registration that ended the last one."""
    held = _Held([], [])
    for mn, facts in _exchanges(ctx).by_mn.items():
        current: _Facts | None = None
        ended: Exchange | None = None
        for f in facts:
            if f.lifetime == 0 and f.ex.pba is not None:
                held.deregistrations.append((mn, f.ex, None if current is None else current.ex, ended))
            elif f.lifetime > 0 and f.accepted is False:
                held.rejected.append((f, ended))
            if f.lifetime > 0 and f.accepted:
                current, ended = f, None
            elif f.lifetime == 0 and current is not None and current.mag is not None and current.mag == f.mag \
                    and f.accepted:
                current, ended = None, f.ex
    return held


def late_deregistration(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P16/P17: a de-registration from a MAG that no longer holds the binding, or for no session,
    gets no PBA (the legitimate race of RFC 5213 section 5.3.5: ignored, conformant)."""
    delay = int(ctx.timers.min_delay_before_bce_delete * 1e9)
    no_session = bool(rule.params.get("no_session"))
    for mn, ex, current, ended in ctx.shared("pmip-held-before", _held_before).deregistrations:
        if not no_session and current is not None and not ctx.same(current.mag, ex.mag):
            yield Hit(f"{at(ex.pbu)} de-registers {mn} from {ctx.name(ex.mag)} after {ctx.name(current.mag)} "
                      f"registered it ({at(current.pbu)}); the LMA must ignore it, yet {at(ex.pba)} answers it",
                      (ex.pbu, ex.pba, current.pbu))  # type: ignore[arg-type]
        if no_session and current is None and ended is not None and ended.pba is not None and (
            ex.pbu.time_ns - ended.pba.time_ns > delay
        ):
            yield Hit(f"{at(ex.pbu)} de-registers {mn}, whose session ended with {at(ended.pba)}; the LMA must "
                      f"silently ignore it, yet {at(ex.pba)} answers it", (ex.pbu, ex.pba))  # type: ignore[arg-type]


def reregistration_after_dereg(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P18: a new registration within MinDelayBeforeBCEDelete after a de-registration is accepted."""
    delay = int(ctx.timers.min_delay_before_bce_delete * 1e9)
    for f, ended in ctx.shared("pmip-held-before", _held_before).rejected:
        if f.status in MANDATORY_CODES or f.missing is not None:
            continue  # only a valid PBU must be accepted; one lacking an option is P10's business
        ex = f.ex
        if ended is not None and ended.pba is not None and ex.pbu.time_ns - ended.pba.time_ns <= delay:
            yield Hit(f"{at(ex.pba)} rejects {at(ex.pbu)} (status {f.status}) sent within "
                      f"MinDelayBeforeBCEDelete of the de-registration {at(ended.pba)}; it should update the "
                      "waiting binding", (ex.pbu, ex.pba, ended.pba))  # type: ignore[arg-type]


def retransmission(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P20: retransmit after INITIAL_BINDACK_TIMEOUT, doubling, with a newer seq or timestamp."""
    tolerance = float(rule.params.get("tolerance", 0.1))
    for facts in _exchanges(ctx).by_mn.values():
        wait = ctx.timers.initial_bindack_timeout
        for fa, fb in itertools.pairwise(facts):
            a, b = fa.ex, fb.ex
            if a.pba is not None or fa.mag is None or fa.mag != fb.mag or (fa.lifetime == 0) != (fb.lifetime == 0):
                wait = ctx.timers.initial_bindack_timeout
                continue
            gap = (b.pbu.time_ns - a.pbu.time_ns) / 1e9
            if gap < wait * (1 - tolerance):
                yield Hit(f"{at(b.pbu)} retransmits {at(a.pbu)} after {gap * 1000:.0f} ms, before the "
                          f"{wait:g} s retransmission timeout", (a.pbu, b.pbu))
            ts_a, ts_b = fa.timestamp, fb.timestamp
            newer_ts = ts_a is not None and ts_b is not None and timestamp_key(ts_b) > timestamp_key(ts_a)
            seq_a, seq_b = num(a.pbu, "seq"), num(b.pbu, "seq")
            if not newer_ts and not (seq_a is not None and seq_b is not None and _newer(seq_b, seq_a)):
                yield Hit(f"{at(b.pbu)} retransmits {at(a.pbu)} with neither a greater sequence number nor a newer "
                          "timestamp", (a.pbu, b.pbu))
            wait = min(wait * 2, ctx.timers.max_bindack_timeout)


def known_status(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P22: PBA status codes are registered ones."""
    known = registry.TABLES["ba_status"]
    if all(s is None or s in known for s in _exchanges(ctx).statuses) and _covers(ctx, "PBA", "pba"):
        return  # every distinct status the PBAs carry is registered
    for m in ctx.of_type("PBA"):
        status = _status(m)
        if status is not None and status not in registry.TABLES["ba_status"]:
            yield Hit(f"{at(m)} status {status} is not in the IANA registry", (m,))


def protected(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """PMIP-P23: PBU/PBA are protected by IPsec."""
    yield from in_clear_of_types(ctx, ("PBU", "PBA"), "PBU/PBA", "RFC 5213 section 4")


CHECKS = {
    "pmip_pbu_flags": pbu_flags, "pmip_pbu_options": pbu_options, "pmip_all_zero_hnp": all_zero_hnp,
    "pmip_option_values": option_values, "pmip_pba_matches": pba_matches, "pmip_pba_echo": pba_echo,
    "pmip_pba_prefixes": pba_prefixes, "pmip_missing_option_status": missing_option_status,
    "pmip_timestamp_echo": timestamp_echo, "pmip_timestamp_monotonic": timestamp_monotonic,
    "pmip_sequence_numbers": sequence_numbers, "pmip_re_and_deregistration": re_and_deregistration,
    "pmip_late_deregistration": late_deregistration, "pmip_reregistration_after_dereg": reregistration_after_dereg,
    "pmip_retransmission": retransmission, "pmip_known_status": known_status, "pmip_protected": protected,
}
