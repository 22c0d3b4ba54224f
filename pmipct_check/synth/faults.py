"""The fault catalogue: named single mistakes, each an edit of a scenario's timeline.

A fault changes the first MN's handover only (other MNs of a ``--mns`` run stay conformant, so a
checker must pin the finding on the right handover).  It works on any scenario, built-in or
from a file, whose timeline has what the fault edits; otherwise it says what is missing.  Each
fault names the rule ids it must trigger (``rules/*.toml``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .scenario import Scenario, ScenarioError, Step

CXTP_ACTIONS = ("ct-req", "ctd", "ctdr", "ctc")
TRANSFER_ACTIONS = (*CXTP_ACTIONS, "hi", "hack")


@dataclass(frozen=True, slots=True)
class Handover:
    """The first MN's handover as the timeline states it."""

    mn: str
    pmag: str
    nmag: str
    register: Step  # the nMAG's registration
    steps: tuple[Step, ...]  # every step of this MN, in time order

    def of(self, *actions: str) -> list[Step]:
        return [s for s in self.steps if s.action in actions]

    def first(self, *actions: str) -> Step:
        found = self.of(*actions)
        if not found:
            raise ScenarioError(f"this fault needs a {' or '.join(actions)} step for {self.mn}")
        return found[0]

    def late_dereg(self) -> Step:
        for s in self.of("deregister"):
            if s.get("mag") == self.pmag and s.at_ms > self.register.at_ms:
                return s
        raise ScenarioError(f"this fault needs the pMAG's de-registration of {self.mn} after the handover")


def handover_of(scenario: Scenario) -> Handover:
    if not scenario.mns:
        raise ScenarioError(f"{scenario.source}: a fault needs at least one mobile node")
    mn = scenario.mns[0].name
    steps = tuple(s for s in scenario.steps if s.params.get("mn") == mn)
    regs = [s for s in steps if s.action == "register"]
    if not regs:
        raise ScenarioError(f"{scenario.source}: a fault needs a register step for {mn}")
    pmag = regs[0].get("mag")
    moved = [s for s in regs if s.get("mag") != pmag]
    if not moved:
        raise ScenarioError(f"{scenario.source}: a fault needs {mn} to register at a second MAG")
    return Handover(mn, pmag, moved[0].get("mag"), moved[0], steps)


def edit(step: Step, at_ms: float | None = None, **params: Any) -> Step:
    return Step(step.at_ms if at_ms is None else at_ms, step.action,
                MappingProxyType({**step.params, **params}), step.where)


Edit = Callable[[Scenario, Handover], list[Step]]


def _replace(scenario: Scenario, old: list[Step], new: list[Step]) -> list[Step]:
    gone = {id(s) for s in old}
    return [s for s in scenario.steps if id(s) not in gone] + new


def _ct_req_wrong_mag(sc: Scenario, h: Handover) -> list[Step]:
    other = next((n.name for n in sc.nodes if n.role == "mag" and n.name not in (h.pmag, h.nmag)), None)
    if other is None:
        raise ScenarioError(f"{sc.source}: ct-req-wrong-mag needs a third MAG in nodes")
    req = h.first("ct-req")
    answers = [s for s in h.of("ctd", "ctdr") if s.at_ms > req.at_ms]
    return _replace(sc, [req, *answers], [edit(req, dst=other)])


def _context_deleted_early(sc: Scenario, h: Handover) -> list[Step]:
    req = h.first("ct-req")
    dereg = h.late_dereg()
    answers = [s for s in h.of("ctd", "ctdr")]
    at = min(req.at_ms, h.register.at_ms) - 30.0
    cancel = Step(req.at_ms + 250.0, "ctc", MappingProxyType({"src": h.nmag, "dst": h.pmag, "mn": h.mn}),
                  "fault")
    return _replace(sc, [dereg, *answers], [edit(dereg, at_ms=at), cancel])


def _ct_req_before_pba(sc: Scenario, h: Handover) -> list[Step]:
    req = h.first("ct-req")
    return _replace(sc, [req], [edit(req, at_ms=h.register.at_ms + 1.0)])


def _push_after_registration(sc: Scenario, h: Handover) -> list[Step]:
    push = h.first("ctd")
    if any(s.at_ms < push.at_ms for s in h.of("ct-req")):
        raise ScenarioError(f"{sc.source}: push-after-registration needs a CTD push with no CT-Req")
    replies = [s for s in h.of("ctdr") if s.at_ms > push.at_ms]
    at = h.register.at_ms + h.register.get("reply_ms") + 8.0
    return _replace(sc, [push, *replies], [edit(push, at_ms=at)] + [edit(r, at_ms=at + 4.0) for r in replies[:1]])


def _ctd_ack_missing(sc: Scenario, h: Handover) -> list[Step]:
    ctd = h.first("ctd")
    return _replace(sc, [ctd, *h.of("ctdr")], [edit(ctd, ack=True)])


def _on_register(**params: Any) -> Edit:
    def apply(sc: Scenario, h: Handover) -> list[Step]:
        return _replace(sc, [h.register], [edit(h.register, **params)])

    return apply


def _registration_rejected(option: str) -> Edit:
    def apply(sc: Scenario, h: Handover) -> list[Step]:
        # The LMA rejects the PBU, so the handover's transfer after it never happens.
        after = [s for s in h.of(*TRANSFER_ACTIONS) if s.at_ms >= h.register.at_ms]
        return _replace(sc, [h.register, *after], [edit(h.register, omit=(option,))])

    return apply


def _hi_hack_seq_mismatch(sc: Scenario, h: Handover) -> list[Step]:
    hack = h.first("hack")
    return _replace(sc, [hack], [edit(hack, seq_delta=1)])


def _cxtp_bad_length(sc: Scenario, h: Handover) -> list[Step]:
    ctd = h.first("ctd")
    return _replace(sc, [ctd], [edit(ctd, length_excludes_header=True)])


def _ctdr_wrong_prev_addr(sc: Scenario, h: Handover) -> list[Step]:
    ctdr = h.first("ctdr")
    return _replace(sc, [ctdr], [edit(ctdr, prev_addr=sc.node(h.nmag).ipv6)])


def _stale_dereg_acknowledged(sc: Scenario, h: Handover) -> list[Step]:
    dereg = h.late_dereg()
    return _replace(sc, [dereg], [edit(dereg, reply="always", status=0)])


def _ctd_late(sc: Scenario, h: Handover) -> list[Step]:
    req = h.first("ct-req")
    later = [s for s in h.of("ctd", "ctdr") if s.at_ms > req.at_ms]
    return _replace(sc, later, [edit(s, at_ms=s.at_ms + 350.0) for s in later])


def _sctp_ordered(sc: Scenario, h: Handover) -> list[Step]:
    cxtp = h.of(*CXTP_ACTIONS)
    if not cxtp:
        raise ScenarioError(f"{sc.source}: sctp-ordered needs CXTP steps")
    return _replace(sc, cxtp, [edit(s, ordered=True) for s in cxtp])


def _mh_bad_checksum(sc: Scenario, h: Handover) -> list[Step]:
    if sc.transport != "ipv6":
        raise ScenarioError("mh-bad-checksum needs IPv6 transport (over IPv4 UDP the MH checksum is unused)")
    # The LMA drops the corrupt PBU silently; the nMAG retransmits after INITIAL_BINDACK_TIMEOUT
    # (1 s) and everything of this MN after it happens a second later.
    retry_ms = 1000.0
    later = [s for s in h.steps if s.at_ms > h.register.at_ms]
    return _replace(sc, [h.register, *later], [
        edit(h.register, mh_bad_checksum=True, reply="never"),
        edit(h.register, at_ms=h.register.at_ms + retry_ms),
        *(edit(s, at_ms=s.at_ms + retry_ms) for s in later),
    ])


def _dereg_wrong_hi(sc: Scenario, h: Handover) -> list[Step]:
    dereg = [s for s in h.of("deregister") if s.get("mag") == h.pmag]
    if not dereg:
        raise ScenarioError(f"dereg-wrong-hi needs a de-registration of {h.mn} by {h.pmag}")
    return _replace(sc, dereg[:1], [edit(dereg[0], hi=1)])


def _ctdr_status_mismatch(sc: Scenario, h: Handover) -> list[Step]:
    ctdr = h.first("ctdr")
    return _replace(sc, [ctdr], [edit(ctdr, success=True, status=1)])


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    description: str
    rules: tuple[str, ...]
    scenarios: tuple[str, ...]  # the built-ins it applies to (the tests apply it to each)
    apply: Edit


_CXTP_PULL = ("reactive-1", "reactive-2", "proactive-2")
_WITH_CTD = ("reactive-1", "reactive-2", "proactive-1", "proactive-2", "reactive-pmag")
_ALL = ("reactive-1", "reactive-2", "proactive-1", "proactive-1-pctd", "proactive-2", "reactive-pmag",
        "none", "rfc5949-predictive", "rfc5949-reactive")

FAULTS: Mapping[str, Fault] = MappingProxyType(
    {
        f.name: f
        for f in (
            Fault("ct-req-wrong-mag", "the nMAG sends its CT-Req to a MAG that never served the MN; no CTD comes",
                  ("DRAFT-D2", "DRAFT-D9", "DRAFT-D11"), _CXTP_PULL, _ct_req_wrong_mag),
            Fault("context-deleted-early",
                  "the pMAG de-registers (accepted) and deletes the context before the CT-Req; the nMAG "
                  "gets no CTD and cancels (CTC) after 250 ms",
                  ("DRAFT-D12", "DRAFT-D11"), _CXTP_PULL, _context_deleted_early),
            Fault("ct-req-before-pba", "reactive case 1: CT-Req leaves before the PBA that names the pMAG",
                  ("DRAFT-D2",), ("reactive-1",), _ct_req_before_pba),
            Fault("push-after-registration", "proactive case 1: the pMAG's CTD push comes after the nMAG's PBA",
                  ("DRAFT-D5",), ("proactive-1", "proactive-1-pctd"), _push_after_registration),
            Fault("ctd-ack-missing", "CTD asks for an acknowledgement (A flag) and no CTDR ever comes",
                  ("CXTP-C8",), _WITH_CTD, _ctd_ack_missing),
            Fault("pba-seq-mismatch", "the LMA's PBA to the nMAG carries the PBU's sequence number + 1",
                  ("PMIP-P7",), _ALL, _on_register(pba_seq_delta=1)),
            Fault("pba-options-not-echoed",
                  "the LMA's PBA to the nMAG leaves out the MN Link-layer Identifier the PBU carried",
                  ("PMIP-P8",), _ALL, _on_register(pba_omit=("mn_ll_id",))),
            Fault("pbu-missing-mn-id",
                  "the nMAG's PBU has no MN Identifier; the LMA answers 160 and the handover fails",
                  ("PMIP-P3",), _ALL, _registration_rejected("mn_id")),
            Fault("pbu-missing-hnp",
                  "the nMAG's PBU has no Home Network Prefix; the LMA answers 158 and the handover fails",
                  ("PMIP-P3",), _ALL, _registration_rejected("hnp")),
            Fault("timestamp-backwards",
                  "the nMAG's clock is 2 s behind: its PBU's Timestamp is older than the last accepted one, "
                  "and the LMA accepts it anyway (should answer 157)",
                  ("PMIP-P12",), _ALL, _on_register(ts_offset_ms=-2000.0, status=0)),
            Fault("hi-hack-seq-mismatch", "the HAck's sequence number is the HI's + 1",
                  ("PFMIP-F2",), ("rfc5949-predictive", "rfc5949-reactive"), _hi_hack_seq_mismatch),
            Fault("cxtp-bad-length", "the CTD's Length field leaves out the 4-octet CXTP header",
                  ("CXTP-C2",), _WITH_CTD, _cxtp_bad_length),
            Fault("ctdr-wrong-prev-addr",
                  "the CTDR names the nMAG's own address instead of the MN's previous address",
                  ("CXTP-C10",), _WITH_CTD, _ctdr_wrong_prev_addr),
            Fault("stale-dereg-acknowledged",
                  "the LMA answers the pMAG's late de-registration (PBA status 0) although the nMAG is "
                  "the binding's Proxy-CoA (RFC 5213 5.3.5: ignore it)",
                  ("PMIP-P16",), ("reactive-1", "reactive-2", "proactive-1", "proactive-2",
                                  "reactive-pmag", "rfc5949-predictive", "rfc5949-reactive"),
                  _stale_dereg_acknowledged),
            Fault("ctd-late", "the CTD answers the CT-Req 350 ms late (CT_MAX_TRANSFER_TIME is 200 ms)",
                  ("CXTP-C18",), _CXTP_PULL, _ctd_late),
            Fault("mh-bad-checksum",
                  "the nMAG's PBU has a wrong MH checksum; the LMA drops it and the nMAG retransmits 1 s later",
                  ("PMIP-P1",), _ALL, _mh_bad_checksum),
            Fault("dereg-wrong-hi", "the pMAG's (accepted) de-registration carries Handoff Indicator 1 instead of 4",
                  ("PMIP-P15",), ("none",), _dereg_wrong_hi),
            Fault("ctdr-status-mismatch", "the CTDR sets S (all received) yet reports BAD_CHECKSUM for FPT 1",
                  ("CXTP-C9",), _WITH_CTD, _ctdr_status_mismatch),
            Fault("sctp-ordered", "CXTP rides in SCTP DATA chunks with the U (unordered) bit clear",
                  ("CXTP-C6",), _WITH_CTD, _sctp_ordered),
        )
    }
)


def apply_fault(scenario: Scenario, name: str) -> Scenario:
    """The scenario with fault ``name`` applied to its first MN's handover."""
    fault = FAULTS.get(name)
    if fault is None:
        raise ScenarioError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
    try:
        steps = fault.apply(scenario, handover_of(scenario))
    except ScenarioError as exc:
        raise ScenarioError(f"fault {name} on scenario {scenario.name}: {exc}") from None
    return scenario.with_steps(tuple(steps))
