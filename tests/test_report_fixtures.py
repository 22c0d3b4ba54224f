"""CheckResult fixtures for the renderer tests, built by hand as the engine would fill them.

Four handovers: H1 a conformant reactive case 1 (mn1), H2 a reactive case 2 whose CTD came too
late (mn2, error on the CTD frame), H3 a proactive case 1 with a warning (mn1 moving back), H4
seen only at the LMA (CXTP inconclusive).  Times are epoch nanoseconds; the last digits matter
(the JSON must keep them).
"""

from __future__ import annotations

from pmipct_check.analysis.model import Binding, Handover
from pmipct_check.decode.model import Message
from pmipct_check.notices import Notice
from pmipct_check.profile import parse_profile
from pmipct_check.rules.model import CheckResult, Finding, InputInfo, Ref, Rule

CAP = "lab/tap-core.pcapng"
T0 = 1_700_000_000_123_456_789  # epoch ns
PMAG, NMAG, LMA = "2001:db8:a::1", "2001:db8:b::1", "2001:db8:ff::1"
MN1_PREFIX, MN2_PREFIX = "2001:db8:1:1::/64", "2001:db8:1:2::/64"
MN1_ADDR, MN2_ADDR = "2001:db8:1:1::10", "2001:db8:1:2::20"

PROFILE = parse_profile(
    f"""
[nodes.mag-a]
role = "mag"
addresses = ["{PMAG}"]
[nodes.mag-b]
role = "mag"
addresses = ["{NMAG}"]
[nodes.lma-1]
role = "lma"
addresses = ["{LMA}"]
""",
    "lab.toml",
)


def msg(frame: int, ms: float, src: str, dst: str, kind: str, **fields) -> Message:
    protocol = "cxtp" if kind in ("CT-Req", "CTD", "PCTD", "CTDR", "CTAR", "CTAA", "CTC") else "pmipv6"
    return Message(CAP, frame, T0 + int(ms * 1_000_000), src, dst, protocol, kind, fields,
                   transport="sctp" if protocol == "cxtp" else "mh")


def pbu(frame, ms, src, seq, lifetime, mn, hi=None):
    options = [{"type": 8, "key": "mn_id", "name": "Mobile Node Identifier", "subtype": 1,
                "identifier": mn}]
    if hi is not None:
        options.append({"type": 23, "key": "handoff", "name": "Handoff Indicator", "value": hi})
    return msg(frame, ms, src, LMA, "PBU", seq=seq, lifetime=lifetime,
               flags={"A": True, "H": True, "L": False, "K": False, "M": False, "R": True, "P": True},
               options=options)


def pba(frame, ms, dst, seq, lifetime, status=0, name="Binding Update accepted"):
    return msg(frame, ms, LMA, dst, "PBA", seq=seq, lifetime=lifetime, status=status,
               status_name=name, flags={"K": False, "R": True, "P": True}, options=[])


def ctreq(frame, ms, src, dst, prev):
    return msg(frame, ms, src, dst, "CT-Req", mn_prev_addr=prev, seq=1, token=0, cdbs=[],
               flags={"V": False})


def ctd(frame, ms, src, dst, prev, ack=True):
    return msg(frame, ms, src, dst, "CTD", elapsed_ms=12, mn_prev_addr=prev,
               cdbs=[{"fpt": 1, "length": 8}], flags={"V": False, "A": ack})


def ctdr(frame, ms, src, dst, prev):
    return msg(frame, ms, src, dst, "CTDR", mn_prev_addr=prev, flags={"V": False, "S": True},
               statuses=[{"fpt": 1, "status": 0}])


RULES = (
    Rule("DRAFT-D2", "CTD within CT_MAX_TRANSFER_TIME of the CT-Req", "error",
         "draft-liebsch-netlmm-proxymip6ct-00 section 5.2", "The pMAG answers promptly.", "ct_timing"),
    Rule("PMIP-P23", "PBU/PBA protected by IPsec", "warning", "RFC 5213 section 4",
         "Clear-text signalling is spoofable.", "ipsec"),
    Rule("CXTP-C1", "CXTP exchange visible", "info", "RFC 4067 section 2.5",
         "The capture must show the transfer.", "cxtp_seen"),
)


def sample_result() -> CheckResult:
    h1 = (
        pbu(10, 0.0, NMAG, 7, 3600, "mn1@lab.example", hi=2),
        pba(11, 1.234567, NMAG, 7, 3600),
        ctreq(14, 3.5, NMAG, PMAG, MN1_ADDR),
        ctd(15, 9.75, PMAG, NMAG, MN1_ADDR),
        ctdr(16, 10.5, NMAG, PMAG, MN1_ADDR),
        pbu(18, 15.0, PMAG, 22, 0, "mn1@lab.example", hi=2),
        pba(19, 16.0, PMAG, 22, 0),
    )
    h2 = (
        pbu(30, 1000.0, NMAG, 3, 3600, "mn2@lab.example", hi=2),
        ctreq(31, 1001.0, NMAG, PMAG, MN2_ADDR),
        pba(32, 1002.0, NMAG, 3, 3600),
        ctd(40, 1450.0, PMAG, NMAG, MN2_ADDR, ack=False),
    )
    h3 = (
        ctd(50, 2000.0, NMAG, PMAG, MN1_ADDR),
        ctdr(51, 2001.5, PMAG, NMAG, MN1_ADDR),
        pbu(52, 2100.0, PMAG, 23, 3600, "mn1@lab.example", hi=2),
        pba(53, 2103.0, PMAG, 23, 3600),
    )
    h4 = (
        pbu(60, 3000.0, NMAG, 4, 3600, "mn3@lab.example", hi=2),
        pba(61, 3000.8, NMAG, 4, 0, status=130, name="Insufficient resources"),
    )
    handovers = (
        Handover("H1", "mn1@lab.example", "reactive-1", "pMAG_Address option in the PBA",
                 PMAG, NMAG, LMA, h1,
                 {"pbu_pba": 0.001234567, "ctreq_ctd": 0.00625, "ctd_ctdr": 0.00075, "cr_ca": 0.008515433,
                  "attach_registered": 0.001234567}, frozenset({"lma", "pmag", "nmag"})),
        Handover("H2", "mn2@lab.example", "reactive-2", "CT-Req before the PBA", PMAG, NMAG, LMA, h2,
                 {"pbu_pba": 0.002, "ctreq_ctd": 0.449, "attach_registered": 0.002}, frozenset({"lma", "pmag", "nmag"})),
        Handover("H3", "mn1@lab.example", "proactive-1", "CTD pushed before the nMAG's PBU", NMAG, PMAG,
                 LMA, h3, {"pbu_pba": 0.003, "ctd_ctdr": 0.0015, "attach_registered": 0.003, "interruption": 0.0421},
                 frozenset({"lma", "pmag", "nmag"})),
        Handover("H4", "mn3@lab.example", "unknown", "no CXTP seen from the LMA's vantage", None, NMAG, LMA,
                 h4, {"pbu_pba": 0.0008}, frozenset({"lma"})),
    )
    findings = (
        Finding("DRAFT-D2", "error", "CTD 449.000 ms after the CT-Req (CT_MAX_TRANSFER_TIME 200 ms)",
                (Ref(CAP, 31), Ref(CAP, 40)), RULES[0].spec, "H2"),
        Finding("PMIP-P23", "warning", "PBU sent without IPsec ESP", (Ref(CAP, 52),), RULES[1].spec, "H3"),
        Finding("CXTP-C1", "info", "no CXTP visible from the LMA: cannot judge the context transfer",
                (Ref(CAP, 60),), RULES[2].spec, "H4", outcome="inconclusive"),
    )
    bindings = (
        Binding("mn1@lab.example", "mn-id", (MN1_PREFIX,), (h1[0], h3[2])),
        Binding("mn2@lab.example", "mn-id", (MN2_PREFIX,), (h2[0],)),
    )
    messages = tuple(sorted(h1 + h2 + h3 + h4, key=lambda m: m.time_ns))
    return CheckResult(
        inputs=(InputInfo(CAP, 812, len(messages), 1),),
        messages=messages,
        bindings=bindings,
        handovers=handovers,
        verdicts={"H1": "pass", "H2": "fail", "H3": "warn", "H4": "inconclusive"},
        findings=findings,
        notices=(Notice("mh.option-overrun", "option overruns the message", CAP, 77, 40),),
        rules=RULES,
        vantage=frozenset({"lma", "pmag", "nmag"}),
    )


def empty_result() -> CheckResult:
    return CheckResult((InputInfo("empty.pcap", 0, 0, 0),), (), (), (), {}, (), (), RULES)


def test_sample_is_consistent():
    result = sample_result()
    ids = {h.id for h in result.handovers}
    assert set(result.verdicts) == ids
    assert all(f.handover in ids for f in result.findings)
    frames = {(m.file, m.frame) for m in result.messages}
    assert all((r.file, r.frame) in frames for f in result.findings for r in f.refs)
