"""``analyze``: decoded messages in time order -> bindings, handovers (classified, timed), roles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from ..collector import paused
from ..decode.model import Message
from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .cases import Case, load_cases
from .classify import Classifier, facts, transfer_messages
from .correlate import Draft, correlate
from .evidence import CXTP_ACCESS, CXTP_TRANSFER, FHO, NodeKeys
from .model import Analysis, Handover
from .timings import context_timings_at, event_anchors, timings


def analyze(
    messages: Iterable[Message | Notice], profile: Profile = DEFAULT_PROFILE,
    cases: Mapping[str, Case] | None = None,
) -> Analysis:
    """Bind messages per MN, find and classify handovers, infer roles and vantage.

    ``messages`` may interleave Notices (they are skipped here; the rule engine maps them).
    Messages are put in capture time order (stable for equal times) whatever order they come in.
    """
    msgs = sorted((m for m in messages if isinstance(m, Message)), key=_time)
    with paused():  # not while ``messages`` is consumed: it may be a decoding generator
        return _analyze(msgs, profile, cases)


_time, _type = attrgetter("time_ns"), attrgetter("type")


def _analyze(msgs: list[Message], profile: Profile, cases: Mapping[str, Case] | None) -> Analysis:
    cases = load_cases() if cases is None else cases
    corr = correlate(msgs, profile)
    node = NodeKeys(profile)

    lmas = frozenset(e.lma for e in corr.exchanges)
    inter = [m for m in msgs if m.type in CXTP_TRANSFER or m.type in FHO]
    mags = frozenset(e.mag for e in corr.exchanges) | frozenset(a for m in inter for a in (m.src, m.dst))
    observed = frozenset(n for m in inter for n in (node[m.src], node[m.dst]))
    vantage = set()
    if corr.exchanges:
        vantage.add("lma")
    if inter:
        vantage.add("inter-mag")
    if not CXTP_ACCESS.isdisjoint(map(_type, msgs)):
        vantage.add("access")

    drafts = sorted(corr.drafts, key=attrgetter("anchor_ns"))
    kinds = {b.mn: b.key_kind for b in corr.bindings}
    run = _Run(profile, node, cases, Classifier(cases),
               {name: event_anchors(case.steps) for name, case in cases.items()}, observed, bool(inter))
    handovers = []
    handover_of: dict[int, str] = {}
    for number, draft in enumerate(drafts, 1):
        hid = f"H{number}"
        handover = _handover(hid, draft, run, kinds.get(draft.mn, "mn-id"))
        handovers.append(handover)
        for m in handover.messages:
            handover_of.setdefault(id(m), hid)

    names = {a: profile.name_for(a) for a in sorted(lmas | mags)}
    keys = list(map(id, msgs))
    return Analysis(
        messages=tuple(msgs),
        mns=tuple(map(corr.mn_of.get, keys)),
        handover_of=tuple(map(handover_of.get, keys)),
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


def _handover(hid: str, d: Draft, run: _Run, mn_key: str) -> Handover:
    node, cases = run.node, run.cases
    pbu, pba = (d.pbu.pbu, d.pbu.pba) if d.pbu else (None, None)
    deregs = tuple(sorted([m for ex in d.deregs for m in (ex.pbu, ex.pba) if m is not None], key=_time))
    cxtp, fho = tuple(d.cxtp), tuple(sorted(d.fho, key=_time))
    moves = transfer_messages(cxtp, fho)
    f = facts(pmag=d.pmag, nmag=d.nmag, pbu=pbu, pba=pba, deregs=deregs, cxtp=cxtp, fho=fho, profile=run.profile,
              moves=moves, node=node)
    pmag_seen, nmag_seen = node[d.pmag] in run.observed, node[d.nmag] in run.observed
    pair_visible = nmag_seen or pmag_seen
    case, reason = run.classify(f, inter_mag_visible=run.inter_visible and pair_visible)
    if f.transfer == "none" and run.inter_visible and not pair_visible and case == "none":
        reason += "; the capture shows no traffic of this pMAG or nMAG with other MAGs"
    everything = sorted([m for m in (pbu, pba) if m is not None] + [*deregs, *cxtp, *fho], key=_time)
    started = [m for m in moves if node[m.src] == node[d.nmag]] if cases.get(case) and \
        cases[case].timing == "reactive" else []
    timed = timings(pbu=pbu, pba=pba, deregs=deregs, transfer=moves, nmag_started=started, everything=everything)
    if case in cases:
        timed.update(context_timings_at(run.anchors[case], pba=pba, transfer=moves))
    return Handover(
        id=hid, mn=d.mn, case=case, case_reason=reason, pmag=d.pmag, nmag=d.nmag,
        lma=d.pbu.lma if d.pbu else None, messages=tuple(everything), timings=timed,
        vantage=_VANTAGE[pbu is not None or pba is not None, pmag_seen, nmag_seen], pbu=pbu, pba=pba,
        previous=d.previous.pbu if d.previous else None, previous_pba=d.previous.pba if d.previous else None,
        deregs=deregs, cxtp=cxtp, fho=fho, mn_key=mn_key,
    )
