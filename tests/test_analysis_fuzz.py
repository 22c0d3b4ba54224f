"""Hostile records: analysis and every check survive any field values the decoder might produce.

The decoder promises typed fields, but a record from a damaged capture may lack any of them or
carry odd values; no check may crash (a crash would turn into an inconclusive finding, which the
test treats as a failure).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.analysis import analyze
from pmipct_check.decode.model import Message
from pmipct_check.notices import Notice
from pmipct_check.rules.engine import run_rules

ADDRESSES = ["2001:db8:a::1", "2001:db8:b::1", "2001:db8:ff::1", "192.0.2.1", "2001:db8:1::100", "not-an-ip", ""]
TYPES = ["PBU", "PBA", "BU", "BA", "HI", "HAck", "CTAR", "CTAA", "CTD", "PCTD", "CTDR", "CTC", "CT-Req", "HB", "BRI"]
KEYS = ["mn_id", "hnp", "handoff", "att", "mn_ll_id", "lla", "timestamp", "pmag_address", "pmag_id", "lmaa",
        "context_req", "mn_lla_iid", "truncated", "option_200"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.sampled_from(ADDRESSES),
                    st.text(max_size=6), st.floats(allow_nan=True))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.sampled_from(["value", "seconds", "x"]),
                                                                      inner, max_size=3)), max_leaves=6)
option = st.fixed_dictionaries(
    {"key": st.sampled_from(KEYS), "type": st.integers(0, 255)},
    optional={"identifier": values, "prefix": st.sampled_from([*ADDRESSES, "::"]), "prefix_len": values,
              "value": values, "address": values, "code": values, "length": values, "requests": values,
              "dialect": st.sampled_from(["", "pmip6d-2010"])},
)
fields = st.fixed_dictionaries(
    {},
    optional={"seq": values, "lifetime": values, "status": values, "flags": st.one_of(
        values, st.dictionaries(st.sampled_from(["A", "P", "S", "U", "F", "V", "reserved"]), values, max_size=4)),
        "code": values, "mn_prev_addr": st.sampled_from(ADDRESSES), "token": values, "elapsed_ms": values,
        "algorithm": values, "key_length": values, "key": values, "cdbs": values, "statuses": values,
        "options": st.one_of(st.lists(option, max_size=5), values), "sctp": values},
)


@st.composite
def messages(draw) -> list[Message]:
    out = []
    for i in range(draw(st.integers(0, 14))):
        type_ = draw(st.sampled_from(TYPES))
        protocol = "cxtp" if type_.startswith("CT") or type_ == "PCTD" else "pmipv6"
        warnings = tuple(Notice(code, "m", "f.pcap", i + 1) for code in draw(
            st.lists(st.sampled_from(["mh.pre-rfc-dialect", "mh.option-length", "cxtp.version", "x.y"]), max_size=2)))
        out.append(Message("f.pcap", i + 1, draw(st.integers(0, 30)) * 100_000_000, draw(st.sampled_from(ADDRESSES)),
                           draw(st.sampled_from(ADDRESSES)), protocol, type_, draw(fields),  # type: ignore[arg-type]
                           draw(st.sampled_from(["mh", "sctp", "udp", "icmpv6", "mh-old"])), (i + 1,), warnings))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_no_record_makes_analysis_or_a_check_crash(records: list[Message]) -> None:
    analysis = analyze(records)
    result = run_rules(analysis, [Notice("capture.empty", "empty", "g.pcap")])
    crashed = [f for f in result.findings if "could not run" in f.message]
    assert crashed == [], crashed
    assert set(result.verdicts) == {h.id for h in analysis.handovers}
