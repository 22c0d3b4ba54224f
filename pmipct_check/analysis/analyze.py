"""``analyze``: decoded messages in time order -> bindings, handovers (classified, timed), roles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter

from ..collector import paused
from ..decode.model import Message
from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .cases import Case, load_cases
from .classify import Classifier, fact_values, transfer_messages
from .correlate import Draft, correlate
from .evidence import CXTP_ACCESS, CXTP_TRANSFER, FHO, NodeKeys
from .model import Analysis, Exchange, Handover
from .timings import context_timings_at, event_anchors, timings


def analyze(
    messages: Iterable[Message | Notice], profile: Profile = DEFAULT_PROFILE,
    cases: Mapping[str, Case] | None = None,
) -> Analysis:
    """Bind messages per MN, find and classify handovers, infer roles and vantage.

    ``messages`` may interleave Notices (they are skipped here; the rule engine maps them).
    Messages are put in capture time order (stable for equal times) whatever order they come in.
    """
    msgs: list[Message] = sorted(filter(_is_message, messages), key=_time)  # type: ignore[arg-type]
    with paused():  # not while ``messages`` is consumed: it may be a decoding generator
        return _analyze(msgs, profile, cases)


_is_message = Message.__instancecheck__  # isinstance(m, Message), for filter()
_time, _type = attrgetter("time_ns"), attrgetter("type")
_src, _dst, _lma, _mag = attrgetter("src"), attrgetter("dst"), attrgetter("lma"), attrgetter("mag")
_INTER = CXTP_TRANSFER | FHO


def _analyze(msgs: list[Message], profile: Profile, cases: Mapping[str, Case] | None) -> Analysis:
    cases = load_cases() if cases is None else cases
    types = list(map(_type, msgs))
    corr = correlate(msgs, profile, types)
    node = NodeKeys(profile)

    # Whole-capture passes in C (map, compress, set unions): they see every message.
    lmas = frozenset(map(_lma, corr.exchanges))
    inter = list(compress(msgs, map(_INTER.__contains__, types)))
    peers = set(map(_src, inter)).union(map(_dst, inter))  # addresses talking MAG to MAG
    mags = frozenset(map(_mag, corr.exchanges)) | peers
    observed = frozenset(node[a] for a in peers)
    vantage = set()
    if corr.exchanges:
        vantage.add("lma")
    if inter:
        vantage.add("inter-mag")
    if not CXTP_ACCESS.isdisjoint(types):
        vantage.add("access")

    drafts = sorted(corr.drafts, key=attrgetter("anchor_ns"))
    kinds = {b.mn: b.key_kind for b in corr.bindings}
    run = _Run(profile, node, cases, Classifier(cases),
               {name: event_anchors(case.steps) for name, case in cases.items()}, observed, bool(inter))
    handovers = [_handover(f"H{number}", draft, run, kinds.get(draft.mn, "mn-id"))
                 for number, draft in enumerate(drafts, 1)]
    handover_of: list[str | None] = [None] * len(msgs)
    for draft, handover in zip(reversed(drafts), reversed(handovers), strict=True):
        hid = handover.id  # a message shared by two handovers: the earlier one's, written last
        for at in draft.at:  # where the handover's messages are in the capture
            handover_of[at] = hid

    names = {a: profile.name_for(a) for a in sorted(lmas | mags)}
    return Analysis(
        messages=tuple(msgs),
        mns=tuple(corr.mns),
        handover_of=tuple(handover_of),
        exchanges=tuple(corr.exchanges), bindings=tuple(corr.bindings), handovers=tuple(handovers),
        lmas=lmas, mags=mags, names=names, vantage=frozenset(vantage), observed_mags=observed,
    )


@dataclass(frozen=True, slots=True)
class _Run:
    """What every handover of one analysis is judged against."""

    profile: Profile
    node: NodeKeys
    cases: Mapping[str, Case]
    classify: Classifier  # over ``cases``
    anchors: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]  # case -> timings.event_anchors
    observed: frozenset[str]  # MAG nodes seen talking to other MAGs
    inter_visible: bool  # any inter-MAG traffic in the capture


#: Handover.vantage by (lma, pmag, nmag) seen: eight values, shared by every handover.
_VANTAGE = {(lma, pmag, nmag): frozenset(role for role, seen in (("lma", lma), ("pmag", pmag), ("nmag", nmag))
                                         if seen)
            for lma in (False, True) for pmag in (False, True) for nmag in (False, True)}


def _dereg_messages(exchanges: list[Exchange]) -> tuple[Message, ...]:
    """The de-registrations' PBUs and PBAs in time order (stable): mostly one exchange, or none."""
    if not exchanges:
        return ()
    if len(exchanges) == 1:
        pbu, pba = exchanges[0].pbu, exchanges[0].pba
        if pba is None:
            return (pbu,)
        return (pba, pbu) if pba.time_ns < pbu.time_ns else (pbu, pba)
    return tuple(sorted([m for ex in exchanges for m in (ex.pbu, ex.pba) if m is not None], key=_time))


def _handover(hid: str, d: Draft, run: _Run, mn_key: str) -> Handover:
    node, cases = run.node, run.cases
    ex, previous = d.pbu, d.previous
    pbu, pba = (ex.pbu, ex.pba) if ex is not None else (None, None)
    deregs = _dereg_messages(d.deregs)
    cxtp = tuple(d.cxtp)
    fho = tuple(sorted(d.fho, key=_time)) if len(d.fho) > 1 else tuple(d.fho)
    # correlate joins only transfer messages into d.cxtp, in time order: with no HI/HAck to merge
    # they are transfer_messages(cxtp, fho) already.  The facts as values, not a Facts record: the
    # classifier decides each distinct set once
    moves = transfer_messages(cxtp, fho) if fho else list(cxtp)
    seen = fact_values(d.pmag, d.nmag, pbu, pba, deregs, moves, run.profile, node)
    nmag_node = node[d.nmag]
    pmag_seen, nmag_seen = node[d.pmag] in run.observed, nmag_node in run.observed
    pair_visible = nmag_seen or pmag_seen
    case, reason = run.classify.judge(seen, run.inter_visible and pair_visible)
    if seen[0] == "none" and run.inter_visible and not pair_visible and case == "none":
        reason += "; the capture shows no traffic of this pMAG or nMAG with other MAGs"
    if pbu is not None and pba is not None:
        own = [pba, pbu] if pba.time_ns < pbu.time_ns else [pbu, pba]
    else:
        own = [m for m in (pbu, pba) if m is not None]
    everything = sorted([*own, *deregs, *cxtp, *fho], key=_time) if deregs or cxtp or fho else own
    matched = cases.get(case)
    started = [m for m in moves if node[m.src] == nmag_node] if matched and matched.timing == "reactive" else []
    timed = timings(pbu=pbu, pba=pba, deregs=deregs, transfer=moves, nmag_started=started, everything=everything)
    if case in cases:
        timed.update(context_timings_at(run.anchors[case], pba=pba, transfer=moves))
    return Handover(
        id=hid, mn=d.mn, case=case, case_reason=reason, pmag=d.pmag, nmag=d.nmag,
        lma=ex.lma if ex is not None else None, messages=tuple(everything), timings=timed,
        vantage=_VANTAGE[pbu is not None or pba is not None, pmag_seen, nmag_seen], pbu=pbu, pba=pba,
        previous=previous.pbu if previous is not None else None,
        previous_pba=previous.pba if previous is not None else None,
        deregs=deregs, cxtp=cxtp, fho=fho, mn_key=mn_key,
    )
