"""Which of the cases in ``rules/cases.toml`` a handover is, and why.

The classifier looks only at what the case signatures name: the first context-transfer message
(type, sender's role), where it falls against the nMAG's PBU and the pMAG's de-registration,
and whether the PBA names the pMAG.  Ordering faults inside a case are for the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .. import registry
from ..decode.model import Message
from ..profile import Profile
from .cases import Case
from .evidence import CXTP_TRANSFER, FHO, NodeKeys, _option_index, named_pmag
from .model import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Facts:
    """What the signatures test, as observed for one handover (None: cannot be told)."""

    transfer: str  # cxtp / fmip / none
    first: Message | None
    first_from: str | None  # pmag / nmag / None (a third MAG)
    first_vs_pbu: str | None
    first_vs_dereg: str | None
    pba_names_pmag: bool | None


def transfer_messages(cxtp: tuple[Message, ...], fho: tuple[Message, ...]) -> list[Message]:
    return sorted([m for m in cxtp if m.type in CXTP_TRANSFER] + [m for m in fho if m.type in FHO],
                  key=_time)


_time = attrgetter("time_ns")


def facts(*, pmag: str | None, nmag: str, pbu: Message | None, pba: Message | None,
          deregs: tuple[Message, ...], cxtp: tuple[Message, ...], fho: tuple[Message, ...],
          profile: Profile, moves: list[Message] | None = None,
          node: Mapping[object, str | None] | None = None) -> Facts:
    """``moves``: ``transfer_messages(cxtp, fho)`` when the caller has it already; ``node``: the
    profile's :class:`~.evidence.NodeKeys` when the caller keeps one."""
    if moves is None:
        moves = transfer_messages(cxtp, fho)
    if node is None:
        node = NodeKeys(profile)
    return Facts(*fact_values(pmag, nmag, pbu, pba, deregs, moves, profile, node))


#: Facts' values in field order, as :func:`fact_values` gives them.
FactValues = tuple[str, Message | None, str | None, str | None, str | None, bool | None]


def fact_values(pmag: str | None, nmag: str, pbu: Message | None, pba: Message | None,
                deregs: tuple[Message, ...], moves: list[Message], profile: Profile,
                node: Mapping[object, str | None]) -> FactValues:
    """:func:`facts` as a plain tuple, for :meth:`Classifier.judge`: the analysis judges thousands
    of handovers on a handful of distinct facts, so a record per handover is mostly thrown away."""
    first = moves[0] if moves else None
    transfer = "none" if first is None else ("cxtp" if first.protocol == "cxtp" else "fmip")
    pmag_node = node[pmag] if pmag is not None else None
    first_from = vs_pbu = vs_dereg = None
    if first is not None:
        sender = node[first.src]
        if sender == node[nmag]:
            first_from = "nmag"
        elif pmag_node is not None and sender == pmag_node:
            first_from = "pmag"
        if pbu is not None:
            vs_pbu = "before" if first.time_ns < pbu.time_ns else "after"
        vs_dereg = "before"  # "after" once the pMAG's own de-registration PBU comes no later than first
        if pmag_node is not None:
            t = first.time_ns
            for d in deregs:
                if d.type == "PBU" and d.time_ns <= t and node[d.src] == pmag_node:
                    vs_dereg = "after"
                    break
    names = None if pba is None else _names_pmag(pba, profile)
    return transfer, first, first_from, vs_pbu, vs_dereg, names


def _names_pmag(pba: Message, profile: Profile) -> bool:
    """``bool(named_pmag(pba, profile)[1])``: a PBA whose option layout holds neither pMAG option
    (most of them) names none, and is told so by two lookups in the layout."""
    index = pba.option_index
    if index is None:
        index = _option_index(pba)
    if registry.PMAG_ADDRESS_KEY not in index and registry.PMAG_ID_KEY not in index:
        return False
    return bool(named_pmag(pba, profile)[1])


def _holds(signature: Mapping[str, Any], f: Facts) -> tuple[bool, str]:
    """Whether every key of ``signature`` holds; the reason names the first that does not."""
    for key, want in signature.items():
        if key == "transfer":
            got: Any = f.transfer
        elif key == "first":
            got = f.first.type if f.first is not None else None
            if got not in want:
                return False, f"first message is {got}, not {'/'.join(want)}"
            continue
        else:
            got = getattr(f, key)
        if got is None:
            return False, f"{key} cannot be told from the capture"
        if got != want:
            return False, f"{key} is {got}, not {want}"
    return True, ""


def classify(f: Facts, cases: Mapping[str, Case], *, inter_mag_visible: bool) -> tuple[str, str]:
    """(case name, reason): the first case whose signature holds, else ``unknown``."""
    return Classifier(cases)(f, inter_mag_visible=inter_mag_visible)


class Classifier:
    """:func:`classify` for one case table, deciding each distinct set of facts once.

    The verdict depends only on the facts' values (the first message by its type), and a
    capture's thousands of handovers show a handful of them; only a matched case's reason names
    a frame, so that is written per handover.
    """

    def __init__(self, cases: Mapping[str, Case]) -> None:
        self.cases = cases
        # facts' values -> (case name, reason before the frame number, reason after it); the
        # frame number goes between them (None: the reason names no frame)
        self._verdicts: dict[tuple[Any, ...], tuple[str, str, str | None]] = {}

    def __call__(self, f: Facts, *, inter_mag_visible: bool) -> tuple[str, str]:
        return self.judge((f.transfer, f.first, f.first_from, f.first_vs_pbu, f.first_vs_dereg, f.pba_names_pmag),
                          inter_mag_visible)

    def judge(self, values: FactValues, inter_mag_visible: bool) -> tuple[str, str]:
        """:meth:`__call__` for the facts' values (:func:`fact_values`): a Facts record is made
        only for a set of values not decided yet."""
        transfer, first, first_from, vs_pbu, vs_dereg, names = values
        key = (transfer, first.type if first is not None else None, first_from, vs_pbu, vs_dereg, names,
               inter_mag_visible)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = _decided(Facts(*values), self.cases, inter_mag_visible)
        name, head, tail = verdict
        return (name, head) if tail is None else (name, f"{head}{first.frame}{tail}")  # type: ignore[union-attr]


def _decided(f: Facts, cases: Mapping[str, Case], inter_mag_visible: bool) -> tuple[str, str, str | None]:
    """(case name, reason or its part before the frame number, the part after it or None)."""
    case, why = _verdict(f, cases, inter_mag_visible)
    if case is None:
        return "unknown", why, None
    if f.first is None:
        return case.name, _reason(case, f, inter_mag_visible), None
    head, _, tail = _reason(case, f, inter_mag_visible, frame="\0").partition("\0")
    return case.name, head, tail


def _verdict(f: Facts, cases: Mapping[str, Case], inter_mag_visible: bool) -> tuple[Case | None, str]:
    """The first case whose signature holds (None and why when none does)."""
    if f.transfer == "none" and not inter_mag_visible and f.pba_names_pmag:
        return None, ("the PBA names the pMAG (reactive case 1 expected) but the capture shows no "
                      "traffic between MAGs, so the transfer cannot be seen")
    misses = []
    for case in cases.values():
        ok, why = _holds(case.signature, f)
        if ok:
            return case, ""
        if case.signature.get("transfer") == f.transfer:
            misses.append(f"{case.name}: {why}")
    first = f.first
    lead = f"first transfer message {first.type} from {f.first_from or 'a MAG that is neither pMAG nor nMAG'}" \
        if first is not None else "no transfer message"
    return None, f"{lead} matches no case ({'; '.join(misses) or 'no case of this kind'})"


def _reason(case: Case, f: Facts, inter_mag_visible: bool, frame: object = None) -> str:
    """Why ``case`` holds; ``frame`` stands in for the first message's frame number if given."""
    if f.first is None:
        if not inter_mag_visible:
            return "no CT-Req, CTD or HI seen; the capture shows no traffic between MAGs at all"
        return "no CT-Req, CTD or HI between the pMAG and the nMAG for this MN"
    parts = [f"{f.first.type} from the {f.first_from} (frame {f.first.frame if frame is None else frame})"]
    if f.first_vs_pbu:
        parts.append(f"{f.first_vs_pbu} the nMAG's PBU")
    if "pba_names_pmag" in case.signature:
        parts.append("PBA names the pMAG" if f.pba_names_pmag else "PBA does not name the pMAG")
    if "first_vs_dereg" in case.signature:
        parts.append("after the pMAG's de-registration")
    return ", ".join(parts)
