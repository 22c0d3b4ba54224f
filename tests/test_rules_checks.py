"""Every rule of the catalogue with a violating and a conforming case (Message-level fixtures).

Each violating builder returns the messages, the notices, and the message or notice that is
guilty; the rule must report a finding whose refs name that frame.  Each conforming builder is
the nearest correct trace: the rule must report nothing there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_analysis_fixtures import (
    LMA,
    MAG1,
    MAG2,
    MAG3,
    PREV,
    Lab,
    hnp,
    lmaa,
    mn_id,
    pmag_address,
    scenario,
    timestamp,
)

from pmipct_check.analysis import analyze
from pmipct_check.decode.model import Message
from pmipct_check.notices import Notice
from pmipct_check.profile import parse_profile
from pmipct_check.rules.engine import load_rules, run_rules
from pmipct_check.rules.model import CheckResult, Finding

NAI = "mn1@lab.example"
Built = tuple[list[Message], list[Notice], Message | Notice]


PROFILE = parse_profile("[cxtp]\nsctp_ports = [5500]\n")  # so that CXTP-C7 has something to check


def run(messages: list[Message], notices: list[Notice] | None = None, select: tuple[str, ...] = ()) -> CheckResult:
    return run_rules(analyze(messages, PROFILE), notices or [], PROFILE, select=select)


def of(result: CheckResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


def warn(msg: Message, code: str, severity: str = "warning") -> Message:
    msg.warnings = (*msg.warnings, Notice(code, f"{code} here", msg.file, msg.frame, None, severity))  # type: ignore[arg-type]
    return msg


def first_of(lab: Lab, type_: str, src: str | None = None) -> Message:
    return next(m for m in lab.out if m.type == type_ and (src is None or m.src == src))


def tail(lab: Lab, ms: float = 3000) -> None:
    """Later traffic: the capture goes on long enough for a missing answer to count."""
    lab.wait(ms)
    lab.register(MAG3, "other@lab.example", 900, hi=1, prefix="2001:db8:900::")


def _handover_base(lab: Lab | None = None, *, pba_extra=None) -> tuple[Lab, Message, Message]:
    lab = lab or Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    pbu, pba = lab.register(MAG2, NAI, 11, pba_extra=pba_extra)
    return lab, pbu, pba


# ---- DRAFT ------------------------------------------------------------------------------------

def d1() -> Built:
    lab, _, _ = _handover_base()
    ctd = lab.ctd(MAG2, MAG1, PREV)
    return lab.out, [], ctd


def d2() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    pbu = lab.pbu(MAG2, NAI, 11)
    lab.wait(1)
    req = lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(2)
    lab.pba(pbu, extra=[pmag_address(MAG1)])
    lab.ctd(MAG1, MAG2, PREV)
    lab.ctdr(MAG2, MAG1, PREV)
    return lab.out, [], req


def d3() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    req = lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(2)
    lab.ctd(MAG1, MAG2, PREV, ack=False)
    lab.wait(2)
    lab.register(MAG2, NAI, 11, pba_extra=[pmag_address(MAG1)])
    return lab.out, [], req


def d4() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    pbu = lab.pbu(MAG2, NAI, 11)
    lab.wait(1)
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(1)
    ctd = lab.ctd(MAG1, MAG2, PREV, ack=False)
    lab.wait(3)
    lab.pba(pbu)
    return lab.out, [], ctd


def d5() -> Built:
    lab, _, _ = _handover_base()
    lab.wait(3)
    ctd = lab.ctd(MAG1, MAG2, PREV, ack=False)
    return lab.out, [], ctd


def d6() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(1)
    lab.register(MAG2, NAI, 11)
    ctd = lab.ctd(MAG1, MAG2, PREV, ack=False)
    return lab.out, [], ctd


def d7() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    lab.register(MAG2, NAI, 11)
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(1)
    ctdr = lab.ctdr(MAG2, MAG1, PREV)
    lab.wait(1)
    lab.ctd(MAG1, MAG2, PREV, ack=False)
    return lab.out, [], ctdr


def d8() -> Built:
    lab, _, _ = _handover_base()
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(1)
    ctd = lab.ctd(MAG1, MAG3, PREV, ack=False)
    return lab.out, [], ctd


def d9() -> Built:
    lab, _, _ = _handover_base()
    req = lab.ct_req(MAG2, MAG3, PREV)
    lab.wait(1)
    lab.ctd(MAG3, MAG2, PREV, ack=False)
    return lab.out, [], req


def d10() -> Built:
    lab = Lab()
    pbu, _ = lab.register(MAG1, NAI, 10, hi=1, extra=[pmag_address(MAG2)])
    return lab.out, [], pbu


def d11() -> Built:
    lab, _, _ = _handover_base()
    req = lab.ct_req(MAG2, MAG1, PREV)
    tail(lab)
    return lab.out, [], req


def d12() -> Built:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    dereg = lab.pbu(MAG1, NAI, 11, lifetime=0, hi=4)
    lab.wait(2)
    lab.pba(dereg)
    lab.wait(30)
    req = lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(5)
    lab.register(MAG2, NAI, 12)
    tail(lab)
    return lab.out, [], req


def d12_conforming() -> list[Message]:
    """The binding ended, yet the pMAG kept the context and answered: conformant."""
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    lab.wait(1000)
    dereg = lab.pbu(MAG1, NAI, 11, lifetime=0, hi=4)
    lab.wait(2)
    lab.pba(dereg)
    lab.wait(30)
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(3)
    lab.ctd(MAG1, MAG2, PREV, ack=False)
    lab.wait(5)
    lab.register(MAG2, NAI, 12)
    tail(lab)
    return lab.out


def d13() -> Built:
    lab = scenario("none")
    return lab.out, [], first_of(lab, "PBU", MAG2)


# ---- CXTP -------------------------------------------------------------------------------------

def _reactive1() -> Lab:
    return scenario("reactive-1")


def noticed(code: str, type_: str = "CTD", severity: str = "warning") -> Callable[[], Built]:
    def build() -> Built:
        lab = _reactive1()
        msg = warn(first_of(lab, type_), code, severity)
        return lab.out, [], msg
    return build


def c4() -> Built:
    lab, _, _ = _handover_base()
    lab.ct_req(MAG2, MAG1, PREV)
    lab.ctd(MAG1, MAG2, PREV)
    bad = lab.ctdr(MAG1, MAG2, PREV)
    return lab.out, [], bad


def c5() -> Built:
    lab = _reactive1()
    ctd = first_of(lab, "CTD")
    ctd.transport = "udp"
    return lab.out, [], ctd


def c6() -> Built:
    lab = _reactive1()
    ctd = first_of(lab, "CTD")
    ctd.fields["sctp"] = {"unordered": False, "ppi": 0}
    return lab.out, [], ctd


def c6_conforming() -> list[Message]:
    lab = _reactive1()
    for m in lab.out:
        if m.protocol == "cxtp":
            m.fields["sctp"] = {"unordered": True}
    return lab.out


def c7() -> Built:
    lab = _reactive1()
    ctd = first_of(lab, "CTD")
    ctd.fields["sctp"] = {"ppi": 0, "sport": 40000, "dport": 40001, "unordered": True}
    return lab.out, [], ctd


def c7_conforming() -> list[Message]:
    lab = _reactive1()
    for m in lab.out:
        if m.protocol == "cxtp":
            m.fields["sctp"] = {"ppi": 0, "sport": 40000, "dport": 5500, "unordered": True}
    return lab.out


def c8() -> Built:
    lab = scenario("reactive-1", ack=True)
    lab.out = [m for m in lab.out if m.type != "CTDR"]
    tail(lab)
    return lab.out, [], first_of(lab, "CTD")


def c9() -> Built:
    lab = _reactive1()
    ctdr = first_of(lab, "CTDR")
    ctdr.fields["statuses"] = [{"fpt": 1, "status": 1, "status_name": "BAD_CHECKSUM"}]
    return lab.out, [], ctdr


def c10() -> Built:
    lab = _reactive1()
    ctdr = first_of(lab, "CTDR")
    ctdr.fields["mn_prev_addr"] = MAG2
    return lab.out, [], ctdr


def c11() -> Built:
    lab, _, _ = _handover_base()
    lab.ct_req(MAG2, MAG1, PREV)
    lab.ctd(MAG1, MAG2, PREV, ack=False, elapsed=50)
    lab.wait(60)
    again = lab.ctd(MAG1, MAG2, PREV, ack=False, elapsed=10)
    return lab.out, [], again


def c12() -> Built:
    lab = _reactive1()
    return lab.out, [], first_of(lab, "CT-Req")


def c12_conforming() -> list[Message]:
    lab, _, _ = _handover_base(pba_extra=[pmag_address(MAG1)])
    lab.ct_req(MAG2, MAG1, PREV)
    lab.ctd(MAG1, MAG2, PREV, ack=False, type_="PCTD")
    return lab.out


def c13() -> Built:
    lab, _, _ = _handover_base()
    lab.ct_req(MAG2, MAG1, PREV)
    bad = lab.ctd(MAG1, MAG2, PREV, ack=False, type_="PCTD", algorithm=2)
    return lab.out, [], bad


def c15() -> Built:
    lab = _reactive1()
    ctd = first_of(lab, "CTD")
    ctd.fields["cdbs"] = [{"fpt": 7, "length": 1, "P": False, "data": ""}]
    return lab.out, [], ctd


def _ctars(times_ms: list[float], seq: int = 5) -> Lab:
    lab = Lab()
    last = 0.0
    for t in times_ms:
        lab.wait(t - last)
        last = t
        lab.cxtp("CTAR", PREV, MAG2, PREV, ar_addr=MAG1, seq=seq, token=0, cdbs=[]).transport = "icmpv6"
    return lab


def c16() -> Built:
    lab = _ctars([0, 500])
    return lab.out, [], lab.out[-1]


def c17() -> Built:
    lab = Lab()
    for i in range(12):
        lab.cxtp("CTAR", f"2001:db8:1::{i + 1:x}", MAG2, f"2001:db8:1::{i + 1:x}", ar_addr=MAG1, seq=i, token=0,
                 cdbs=[]).transport = "icmpv6"
        lab.wait(50)
    return lab.out, [], lab.out[10]  # the eleventh within one second


def c18() -> Built:
    lab, _, _ = _handover_base()
    lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(350)
    ctd = lab.ctd(MAG1, MAG2, PREV, ack=False)
    return lab.out, [], ctd


def clear(type_: str, case: str) -> Callable[[], Built]:
    def build() -> Built:
        lab = scenario(case)
        return lab.out, [], first_of(lab, type_)
    return build


def encrypted(case: str) -> Callable[[], list[Message]]:
    """Under ESP the capture shows none of these messages: nothing to report."""
    def build() -> list[Message]:
        return scenario(case).out
    return build


# ---- PMIPv6 -----------------------------------------------------------------------------------

def pbu_mutated(mutate: Callable[[Lab], Message]) -> Callable[[], Built]:
    def build() -> Built:
        lab = Lab()
        guilty = mutate(lab)
        return lab.out, [], guilty
    return build


def _p2(lab: Lab) -> Message:
    return lab.register(MAG1, NAI, 1, hi=1, flags={"A": False})[0]


def _p3(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=None)
    lab.pba(pbu, status=161)
    return pbu


def _p4(lab: Lab) -> Message:
    return lab.register(MAG1, NAI, 1, hi=1, extra=[hnp("::", 0)])[0]


def _p6(lab: Lab) -> Message:
    return lab.register(MAG1, NAI, 1, hi=9)[0]


def _p7(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=1)
    return lab.pba(pbu, seq=2)


def _p8(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=1)
    opts = [dict(o) for o in pbu.fields["options"]]
    next(o for o in opts if o["key"] == "att")["value"] = 3
    return lab.pba(pbu, options=opts)


def _p9(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=1)
    return lab.pba(pbu, options=[o for o in pbu.fields["options"] if o["key"] != "hnp"])


def _p10(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=1, prefix=None)
    lab.pba(pbu, status=0, extra=[hnp("2001:db8:1::")])
    return pbu


def _p11(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 1, hi=1, ts=1000)
    return lab.pba(pbu, options=[o for o in pbu.fields["options"] if o["key"] != "timestamp"])


def _p12(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 1, hi=1, ts=1000)
    lab.wait(500)
    return lab.register(MAG2, NAI, 2, ts=999)[0]


def _p13(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 7, hi=1)
    lab.wait(500)
    return lab.register(MAG1, NAI, 6, hi=5)[0]


def _p14(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 7, hi=1)
    lab.wait(500)
    return lab.register(MAG1, NAI, 8, hi=3)[0]


def _p15(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 7, hi=1)
    lab.wait(500)
    return lab.register(MAG1, NAI, 8, hi=1, lifetime=0)[0]


def _p16(lab: Lab) -> Message:
    scenario("reactive-2", lab, late_dereg=True)
    late = lab.out[-1]
    lab.wait(2)
    lab.pba(late)
    return late


def _p17(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 7, hi=1)
    dereg = lab.pbu(MAG1, NAI, 8, lifetime=0, hi=4)
    lab.pba(dereg)
    lab.wait(20_000)
    again = lab.pbu(MAG1, NAI, 9, lifetime=0, hi=4)
    lab.pba(again)
    return again


def _p18(lab: Lab) -> Message:
    lab.register(MAG1, NAI, 7, hi=1)
    dereg = lab.pbu(MAG1, NAI, 8, lifetime=0, hi=4)
    lab.pba(dereg)
    lab.wait(500)
    pbu = lab.pbu(MAG2, NAI, 1)
    return lab.pba(pbu, status=128)


def _p20(lab: Lab) -> Message:
    lab.pbu(MAG1, NAI, 7, hi=1)
    lab.wait(200)
    return lab.pbu(MAG1, NAI, 7, hi=1)


def _p22(lab: Lab) -> Message:
    pbu = lab.pbu(MAG1, NAI, 7, hi=1)
    return lab.pba(pbu, status=250)


def pmip_conforming() -> list[Message]:
    """Registration with a timestamp, re-registration, a retransmission done right, hand over, de-register."""
    lab = Lab()
    lab.register(MAG1, NAI, 7, hi=1, ts=1000)
    lab.wait(500)
    lab.register(MAG1, NAI, 8, hi=5, ts=1001)
    lab.wait(500)
    lab.pbu(MAG2, NAI, 1, ts=1002)
    lab.wait(1000)
    lab.register(MAG2, NAI, 2, ts=1003)
    lab.wait(10)
    lab.pbu(MAG1, NAI, 9, lifetime=0, hi=4)  # late: ignored, no PBA
    lab.wait(500)
    lab.register(MAG2, NAI, 3, lifetime=0, hi=4, ts=1004)
    return lab.out


# ---- RFC 5949 ---------------------------------------------------------------------------------

def fho(mutate: Callable[[Lab], Message]) -> Callable[[], Built]:
    def build() -> Built:
        lab = Lab()
        lab.register(MAG1, NAI, 10, hi=1)
        lab.wait(500)
        guilty = mutate(lab)
        lab.wait(20)
        lab.register(MAG2, NAI, 11)
        return lab.out, [], guilty
    return build


def _f1(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3, flags={"P": False})
    lab.hack(hi)
    return hi


def _f2(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3)
    return lab.hack(hi, seq=4)


def _f3(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3, options=[hnp("2001:db8:1::"), lmaa(LMA)])
    lab.hack(hi, options=[mn_id(NAI)])
    return hi


def _f4(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3, options=[mn_id(NAI), hnp("2001:db8:1::")])
    lab.hack(hi)
    return hi


def _f5(lab: Lab) -> Message:
    hi = lab.hi(MAG2, MAG1, NAI, 3, options=[mn_id(NAI)])
    return lab.hack(hi, code=6, options=[mn_id(NAI)])


def _f6(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3, code=7)
    lab.hack(hi)
    return hi


def _f7(lab: Lab) -> Message:
    hi = lab.hi(MAG1, MAG2, NAI, 3, flags={"U": True})
    lab.hack(hi)
    return hi


def _f8(lab: Lab) -> Message:
    bad = lmaa(LMA)
    bad["code"] = 2
    hi = lab.hi(MAG1, MAG2, NAI, 3, options=[mn_id(NAI), hnp("2001:db8:1::"), bad])
    lab.hack(hi)
    return hi


def f7_conforming() -> list[Message]:
    lab = Lab()
    lab.register(MAG1, NAI, 10, hi=1)
    hi = lab.hi(MAG1, MAG2, NAI, 3, flags={"U": True})
    lab.hack(hi)
    hi2 = lab.hi(MAG1, MAG2, NAI, 4, flags={"F": True})
    lab.hack(hi2)
    lab.register(MAG2, NAI, 11)
    return lab.out


# ---- INPUT ------------------------------------------------------------------------------------

def standalone(code: str, severity: str = "error") -> Callable[[], Built]:
    def build() -> Built:
        lab = _reactive1()
        notice = Notice(code, f"{code} here", "lab.pcap", None, 4096, severity)  # type: ignore[arg-type]
        return lab.out, [notice], notice
    return build


VIOLATIONS: dict[str, tuple[Callable[[], Built], Callable[[], list[Message]]]] = {
    "DRAFT-D1": (d1, lambda: scenario("reactive-1").out),
    "DRAFT-D2": (d2, lambda: scenario("reactive-1").out),
    "DRAFT-D3": (d3, lambda: scenario("proactive-2").out),
    "DRAFT-D4": (d4, lambda: scenario("reactive-2").out),
    "DRAFT-D5": (d5, lambda: scenario("proactive-1").out),
    "DRAFT-D6": (d6, lambda: scenario("proactive-2").out),
    "DRAFT-D7": (d7, lambda: scenario("reactive-2").out),
    "DRAFT-D8": (d8, lambda: scenario("reactive-1").out),
    "DRAFT-D9": (d9, lambda: scenario("reactive-2").out),
    "DRAFT-D10": (d10, lambda: scenario("reactive-1").out),
    "DRAFT-D11": (d11, lambda: scenario("proactive-2").out),
    "DRAFT-D12": (d12, d12_conforming),
    "DRAFT-D13": (d13, lambda: scenario("reactive-1").out),
    "CXTP-C1": (noticed("cxtp.version", severity="error"), lambda: scenario("reactive-1").out),
    "CXTP-C2": (noticed("cxtp.length-excludes-header"), lambda: scenario("reactive-1").out),
    "CXTP-C3": (noticed("cxtp.reserved-nonzero"), lambda: scenario("reactive-1").out),
    "CXTP-C4": (c4, lambda: scenario("reactive-1").out),
    "CXTP-C5": (c5, lambda: scenario("reactive-1").out),
    "CXTP-C6": (c6, c6_conforming),
    "CXTP-C7": (c7, c7_conforming),
    "CXTP-C8": (c8, lambda: scenario("reactive-1").out),
    "CXTP-C9": (c9, lambda: scenario("reactive-1").out),
    "CXTP-C10": (c10, lambda: scenario("reactive-1").out),
    "CXTP-C11": (c11, lambda: scenario("reactive-1").out),
    "CXTP-C12": (c12, c12_conforming),
    "CXTP-C13": (c13, c12_conforming),
    "CXTP-C14": (noticed("cxtp.cdb-overrun", severity="warning"), lambda: scenario("reactive-1").out),
    "CXTP-C15": (c15, lambda: scenario("reactive-1").out),
    "CXTP-C16": (c16, lambda: _ctars([0, 2000, 6000]).out),
    "CXTP-C17": (c17, lambda: _ctars([0, 2000]).out),
    "CXTP-C18": (c18, lambda: scenario("reactive-1").out),
    "CXTP-C19": (clear("CT-Req", "reactive-1"), encrypted("none")),
    "PMIP-P1": (noticed("mh.checksum", "PBU"), pmip_conforming),
    "PMIP-P2": (pbu_mutated(_p2), pmip_conforming),
    "PMIP-P3": (pbu_mutated(_p3), pmip_conforming),
    "PMIP-P4": (pbu_mutated(_p4), pmip_conforming),
    "PMIP-P5": (noticed("mh.option-length", "PBA"), pmip_conforming),
    "PMIP-P6": (pbu_mutated(_p6), pmip_conforming),
    "PMIP-P7": (pbu_mutated(_p7), pmip_conforming),
    "PMIP-P8": (pbu_mutated(_p8), pmip_conforming),
    "PMIP-P9": (pbu_mutated(_p9), pmip_conforming),
    "PMIP-P10": (pbu_mutated(_p10), pmip_conforming),
    "PMIP-P11": (pbu_mutated(_p11), pmip_conforming),
    "PMIP-P12": (pbu_mutated(_p12), pmip_conforming),
    "PMIP-P13": (pbu_mutated(_p13), pmip_conforming),
    "PMIP-P14": (pbu_mutated(_p14), pmip_conforming),
    "PMIP-P15": (pbu_mutated(_p15), pmip_conforming),
    "PMIP-P16": (pbu_mutated(_p16), lambda: scenario("reactive-2", late_dereg=True).out),
    "PMIP-P17": (pbu_mutated(_p17), pmip_conforming),
    "PMIP-P18": (pbu_mutated(_p18), pmip_conforming),
    "PMIP-P20": (pbu_mutated(_p20), pmip_conforming),
    "PMIP-P22": (pbu_mutated(_p22), pmip_conforming),
    "PMIP-P23": (clear("PBU", "none"), lambda: Lab().out),
    "PMIP-P24": (noticed("mh.payload-proto", "PBU"), pmip_conforming),
    "PFMIP-F1": (fho(_f1), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F2": (fho(_f2), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F3": (fho(_f3), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F4": (fho(_f4), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F5": (fho(_f5), lambda: scenario("rfc5949-reactive").out),
    "PFMIP-F6": (fho(_f6), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F7": (fho(_f7), f7_conforming),
    "PFMIP-F8": (fho(_f8), lambda: scenario("rfc5949-predictive").out),
    "PFMIP-F9": (clear("HI", "rfc5949-predictive"), encrypted("reactive-1")),
    "INPUT-I1": (noticed("mh.truncated", "PBU", "error"), lambda: scenario("reactive-1").out),
    "INPUT-I2": (noticed("mh.unknown-option", "PBU", "info"), lambda: scenario("reactive-1").out),
    "INPUT-I3": (noticed("mh.pre-rfc-dialect", "PBU"), lambda: scenario("reactive-1").out),
    "INPUT-I4": (standalone("capture.truncated-record"), lambda: scenario("reactive-1").out),
    "INPUT-I5": (standalone("sctp.reassembly-abandoned", "warning"), lambda: scenario("reactive-1").out),
    "INPUT-I6": (noticed("mh.reserved-nonzero", "PBU", "info"), lambda: scenario("reactive-1").out),
}

EXPECTED_OUTCOME = {"DRAFT-D13": "inconclusive"}


def test_every_catalogue_rule_has_a_violating_and_a_conforming_case() -> None:
    assert sorted(VIOLATIONS) == sorted(r.id for r in load_rules())


@pytest.mark.parametrize("rule_id", sorted(VIOLATIONS))
def test_violation_is_found_with_the_guilty_frame(rule_id: str) -> None:
    build, _ = VIOLATIONS[rule_id]
    messages, notices, guilty = build()
    found = of(run(messages, notices), rule_id)
    outcome = EXPECTED_OUTCOME.get(rule_id, "fail")
    assert any(f.outcome == outcome for f in found), found
    frame = guilty.frame if guilty.frame is not None else 0
    assert any((guilty.file, frame) in {(r.file, r.frame) for r in f.refs} for f in found), found


@pytest.mark.parametrize("rule_id", sorted(VIOLATIONS))
def test_conforming_trace_gets_no_finding(rule_id: str) -> None:
    _, conforming = VIOLATIONS[rule_id]
    found = of(run(conforming()), rule_id)
    assert found == [], found


def test_late_deregistration_race_is_conformant() -> None:
    """RFC 5213 section 5.3.5: the old MAG's late de-registration, ignored by the LMA, is no fault."""
    result = run(scenario("reactive-1", late_dereg=True).out)
    assert [f for f in result.findings if f.outcome == "fail" and f.severity == "error"] == []
    assert result.verdicts == {"H1": "pass"}


@pytest.mark.parametrize("case", ["reactive-1", "reactive-2", "proactive-1", "proactive-2", "reactive-pmag",
                                  "rfc5949-predictive", "rfc5949-reactive"])
def test_conformant_cases_pass(case: str) -> None:
    result = run(scenario(case).out)
    assert result.verdicts == {"H1": "pass"}, [f for f in result.findings if f.handover == "H1"]
    assert {f.rule for f in result.findings if f.severity != "info"} <= {"PMIP-P23", "CXTP-C19", "PFMIP-F9"}


def test_second_d2_violation_ct_req_to_a_mag_the_pba_does_not_name() -> None:
    lab, _, pba = _handover_base(pba_extra=[pmag_address(MAG1)])
    req = lab.ct_req(MAG2, MAG3, PREV)
    found = of(run(lab.out), "DRAFT-D2")
    assert any({(req.file, req.frame), (pba.file, pba.frame)} <= {(r.file, r.frame) for r in f.refs} for f in found)


def test_d2_with_an_unresolvable_pmag_id_is_inconclusive() -> None:
    from test_analysis_fixtures import pmag_id

    lab, _, _ = _handover_base(pba_extra=[pmag_id(b"north")])
    lab.ct_req(MAG2, MAG1, PREV)
    lab.ctd(MAG1, MAG2, PREV, ack=False)
    found = of(run(lab.out), "DRAFT-D2")
    assert [f.outcome for f in found] == ["inconclusive"]


def test_d2_resolves_pmag_id_through_the_profile() -> None:
    from test_analysis_fixtures import pmag_id

    from pmipct_check.profile import parse_profile

    profile = parse_profile(f'[nodes.north]\naddresses = ["{MAG1}"]\npmag_id = "north"\n')
    lab, _, _ = _handover_base(pba_extra=[pmag_id(b"north")])
    lab.ct_req(MAG2, MAG3, PREV)
    result = run_rules(analyze(lab.out, profile), [], profile)
    assert [f.outcome for f in of(result, "DRAFT-D2")] == ["fail"]


def test_d12_deregistration_while_the_transfer_is_in_flight() -> None:
    lab, _, _ = _handover_base()
    req = lab.ct_req(MAG2, MAG1, PREV)
    lab.wait(1)
    dereg = lab.pbu(MAG1, NAI, 12, lifetime=0, hi=4)  # before the CTD left: still in flight
    lab.wait(2)
    lab.ctd(MAG1, MAG2, PREV, ack=False)
    found = of(run(lab.out), "DRAFT-D12")
    assert len(found) == 1 and {(dereg.file, dereg.frame), (req.file, req.frame)} <= {
        (r.file, r.frame) for r in found[0].refs}


def test_d12_granted_lifetime_running_out_ends_the_binding() -> None:
    lab = Lab()
    pbu = lab.pbu(MAG1, NAI, 10, hi=1, lifetime=4)
    lab.wait(2)
    lab.pba(pbu)
    lab.wait(5000)
    lab.register(MAG2, NAI, 11)
    req = lab.ct_req(MAG2, MAG1, PREV)
    tail(lab)
    found = of(run(lab.out), "DRAFT-D12")
    assert found and "lifetime" in found[0].message and found[0].refs[0].frame == req.frame


def test_d12_context_request_at_the_end_of_the_capture_is_inconclusive() -> None:
    messages, _, _ = d12()
    cut = [m for m in messages if m.src != MAG3 and m.dst != MAG3]
    found = of(run(cut), "DRAFT-D12")
    assert [f.outcome for f in found] == ["inconclusive"]


def test_p3_missing_option_names_the_pbu_and_the_rejection_is_right() -> None:
    lab = Lab()
    pbu = lab.pbu(MAG1, None, 1, hi=1)
    lab.pba(pbu, status=160, options=[{"type": 8, "key": "mn_id", "name": "mn_id", "length": 1, "subtype": 1,
                                       "identifier": ""}] + [o for o in pbu.fields["options"]])
    result = run(lab.out)
    assert of(result, "PMIP-P3") and not of(result, "PMIP-P10")


def test_p13_sequence_numbers_of_different_mags_are_not_compared() -> None:
    lab = Lab()
    lab.register(MAG1, NAI, 500, hi=1)
    lab.wait(500)
    lab.register(MAG2, NAI, 3)
    assert of(run(lab.out), "PMIP-P13") == []


def test_p16_ignored_late_deregistration_is_not_reported_by_p17() -> None:
    result = run(scenario("reactive-1", late_dereg=True).out)
    assert of(result, "PMIP-P16") == [] and of(result, "PMIP-P17") == []


def test_pre_rfc_dialect_absorbs_option_length_notices_of_the_same_message() -> None:
    lab = _reactive1()
    pbu = first_of(lab, "PBU")
    warn(pbu, "mh.pre-rfc-dialect")
    warn(pbu, "mh.option-length", "warning")
    result = run(lab.out)
    assert of(result, "INPUT-I3") and of(result, "PMIP-P5") == []
    assert of(result, "INPUT-I3")[0].severity == "info"


def test_notice_severity_cap_and_handover_of_a_notice() -> None:
    lab = _reactive1()
    ctd = warn(first_of(lab, "CTD"), "mh.reserved-nonzero", "info")
    (finding,) = of(run(lab.out), "INPUT-I6")
    assert finding.severity == "info" and finding.handover == "H1" and finding.refs[0].frame == ctd.frame


def test_file_level_notice_refs_frame_zero_and_names_the_offset() -> None:
    messages, notices, _ = standalone("capture.bad-record-length")()
    (finding,) = of(run(messages, notices), "INPUT-I4")
    assert finding.refs[0].frame == 0 and "offset 4096" in finding.message and finding.handover is None


def test_protection_findings_judge_no_handover() -> None:
    result = run(scenario("reactive-1").out)
    assert {f.handover for f in of(result, "PMIP-P23") + of(result, "CXTP-C19")} == {None}


def test_timestamp_scenario_uses_the_timestamp_helper() -> None:
    assert timestamp(5, 32768)["value"]["value"] == "5.5"


def test_c5_ctar_hop_limit_when_the_decoder_passes_it_on() -> None:
    lab = _ctars([0])
    ctar = lab.out[0]
    ctar.fields["sctp"] = {"hop_limit": 64}
    (finding,) = of(run(lab.out), "CXTP-C5")
    assert "Hop Limit 64" in finding.message and finding.refs[0].frame == ctar.frame
    ctar.fields["sctp"] = {"hop_limit": 255}
    assert of(run(lab.out), "CXTP-C5") == []
