"""Ladders with the access side: RS/RA between the MN and the nMAG, logged events as notes (issue 6).

The access link's frames are built with scapy (helpers of test_taps_access), the times chosen
here; the core capture is the synthesizer's reactive case 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_taps_access import ra_frame, rs_frame

from pmipct_check.capture import CaptureWriter
from pmipct_check.events import parse_events
from pmipct_check.pipeline import check_files
from pmipct_check.report import text as text_report
from pmipct_check.report.export import export
from pmipct_check.report.ladder import Arrow, Note, build_ladders, to_text
from pmipct_check.synth import synthesize
from pmipct_check.synth.output import write_trace

MAG1, MAG2 = "2001:db8:ff01::1", "2001:db8:ff02::1"


@pytest.fixture
def access_result(tmp_path: Path):
    trace = synthesize("reactive-1")
    core = tmp_path / "core.pcap"
    write_trace(trace, core)
    msgs = [(trace.frames[i - 1].time_ns, m) for i, m in trace.messages()]
    pbu = next(t for t, m in msgs if m["type"] == "PBU" and m["src"] == MAG2)
    pba = next(t for t, m in msgs if m["type"] == "PBA" and m["dst"] == MAG2)
    access = tmp_path / "access.pcap"
    with CaptureWriter(access) as w:
        w.write(pbu - 5_000_000, rs_frame())
        w.write(pba + 1_000_000, ra_frame())
    log = (f"time,node,event,mn,target\n{(pbu - 50_000_000) / 1e9:.6f},mag1,PHT,mn1@lab.example,mag2\n"
           f"{(pbu - 20_000_000) / 1e9:.6f},mag2,ATT,mn1@lab.example,\n")
    events = parse_events(log, "events.csv")
    return check_files([str(core), str(access)], events=events), pbu


def test_rs_and_ra_run_between_the_mn_and_the_nmag(access_result) -> None:
    result, _ = access_result
    (ladder,) = build_ladders(result)
    roles = [lane.role for lane in ladder.lifelines]
    assert roles[0] == "mn" and ladder.lifelines[0].name == "MN"
    names = {lane.address: i for i, lane in enumerate(ladder.lifelines)}
    mn, nmag = roles.index("mn"), names[MAG2]
    arrows = {a.label.name: a for a in ladder.rows if isinstance(a, Arrow)}
    assert (arrows["RS"].src, arrows["RS"].dst) == (mn, nmag)
    assert (arrows["RA"].src, arrows["RA"].dst) == (nmag, mn)
    # no lifeline for the link-local / multicast addresses the RS and RA carry
    assert not any(lane.address.startswith(("ff02", "fe80::22")) for lane in ladder.lifelines)
    order = [a.label.name for a in ladder.rows if isinstance(a, Arrow)]
    assert order.index("RS") < order.index("PBU") < order.index("PBA") < order.index("RA")


def test_logged_events_are_notes_at_their_time(access_result) -> None:
    result, _ = access_result
    (ladder,) = build_ladders(result)
    rows = list(ladder.rows)
    logged = [r for r in rows if isinstance(r, Note) and r.logged]
    assert [n.text for n in logged] == ["[PHT]", "[ATT]"]
    att = logged[1]
    lanes = {lane.address: i for i, lane in enumerate(ladder.lifelines)}
    assert att.lane == lanes[MAG2] and logged[0].lane == lanes[MAG1]
    # the ATT was logged 20 ms before the PBU: 15 ms before the RS, which starts the ladder
    assert float(att.time) == pytest.approx(-0.015, abs=1e-6)
    first_arrow = next(i for i, r in enumerate(rows) if isinstance(r, Arrow))
    assert rows.index(att) < first_arrow
    # the logged [ATT] replaces the one the case would imply at the nMAG
    assert sum(1 for r in rows if isinstance(r, Note) and r.text == "[ATT]") == 1
    drawn = to_text([ladder], width=120)
    assert "-0.015000 log" in drawn and "(from the event log)" in drawn
    assert "RS" in drawn and "RA" in drawn


def test_exports_and_text_report_carry_them(access_result, tmp_path: Path) -> None:
    result, _ = access_result
    ladders = build_ladders(result)
    for suffix in ("svg", "mmd", "puml", "txt"):
        out = tmp_path / f"l.{suffix}"
        body = "".join(p.read_text() for p in export(ladders, out))
        assert "RS" in body and "RA" in body and "[ATT]" in body, suffix
    report = text_report.render(result, width=120)
    assert "Event log (2)" in report and "PHT" in report and "mn1@lab.example" in report


def test_without_access_side_no_mn_lifeline(tmp_path: Path) -> None:
    core = tmp_path / "core.pcap"
    write_trace(synthesize("reactive-1"), core)
    (ladder,) = build_ladders(check_files([str(core)]))
    assert "mn" not in [lane.role for lane in ladder.lifelines]
    assert not any(isinstance(r, Note) and r.logged for r in ladder.rows)
