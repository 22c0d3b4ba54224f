"""[CR] -> [CA] (``cr_ca``) placed where the draft's figures 5.1-5.3 draw the two events.

Figures 5.1/5.2 (reactive cases 1 and 2): context ready after the LMA's PBA, activated on the
CTD's arrival; figure 5.3 (proactive case 2): ready after the CT-Req.  The anchors are worked
out once per case (``event_anchors``) and must place the events as the figures do.
"""

from __future__ import annotations

from pmipct_check.analysis.cases import load_cases
from pmipct_check.analysis.timings import context_timings, context_timings_at, event_anchors
from pmipct_check.decode.model import Message


def _m(kind: str, ms: int) -> Message:
    return Message("t.pcap", ms, ms * 1_000_000, "2001:db8::1", "2001:db8::2", "cxtp", kind, {})


def test_anchors_are_the_figures_events() -> None:
    cases = load_cases()
    assert event_anchors(cases["reactive-1"].steps) == (("CR", ("PBA",)), ("CA", ("CTD", "PCTD")))
    assert event_anchors(cases["reactive-2"].steps) == (("CR", ("PBA",)), ("CA", ("CTD", "PCTD")))
    assert event_anchors(cases["proactive-2"].steps) == (("CR", ("CT-Req",)), ("CA", ("CTD", "PCTD")))
    assert event_anchors(cases["rfc5949-predictive"].steps) == ()  # RFC 5949 draws no [CR]/[CA]


def test_cr_ca_from_the_anchors() -> None:
    cases = load_cases()
    reactive = event_anchors(cases["reactive-1"].steps)
    pba, req, pctd, ctdr = _m("PBA", 10), _m("CT-Req", 12), _m("PCTD", 25), _m("CTDR", 30)
    assert context_timings_at(reactive, pba=pba, transfer=[req, pctd, ctdr]) == {"cr_ca": 0.015}
    assert context_timings(cases["reactive-1"].steps, pba=pba, transfer=[req, pctd, ctdr]) == {"cr_ca": 0.015}
    assert context_timings_at(reactive, pba=None, transfer=[req, pctd]) == {}  # no PBA: no [CR]
    assert context_timings_at(reactive, pba=_m("PBA", 40), transfer=[pctd]) == {}  # activated before ready
    proactive = event_anchors(cases["proactive-2"].steps)
    # [CA] is the first CTD at or after [CR]: the CT-Req at 12 ms, then the PCTD at 25 ms.
    assert context_timings_at(proactive, pba=pba, transfer=[_m("CTD", 5), req, pctd]) == {"cr_ca": 0.013}
    assert context_timings_at(event_anchors(cases["proactive-1"].steps), pba=pba, transfer=[req, pctd]) == {}
