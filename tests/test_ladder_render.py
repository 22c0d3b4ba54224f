"""The ladder model and its terminal drawing."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_report_fixtures import CAP, LMA, NMAG, PMAG, PROFILE, msg, sample_result

from pmipct_check.report.ladder import (
    Arrow,
    Note,
    build_ladder,
    build_ladders,
    render_rich,
    select_handovers,
    to_text,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cases_available() -> bool:
    try:
        from pmipct_check.analysis.cases import load_cases

        return "reactive-1" in load_cases()
    except Exception:  # the case catalogue is another stage's; skip without it
        return False


def test_reactive_1_arrows_in_order_between_the_right_lifelines():
    result = sample_result()
    ladder = build_ladder(result, result.handovers[0], PROFILE)
    assert [(lane.role, lane.address) for lane in ladder.lifelines] == [("pmag", PMAG), ("nmag", NMAG), ("lma", LMA)]
    assert [lane.name for lane in ladder.lifelines] == ["mag-a (pMAG)", "mag-b (nMAG)", "lma-1 (LMA)"]
    arrows = [r for r in ladder.rows if isinstance(r, Arrow)]
    got = [(a.label.name, a.src, a.dst, a.frame) for a in arrows]
    assert got[:5] == [("PBU", 1, 2, 10), ("PBA", 2, 1, 11), ("CT-Req", 1, 0, 14), ("CTD", 0, 1, 15),
                       ("CTDR", 1, 0, 16)]
    assert got[5:] == [("PBU", 0, 2, 18), ("PBA", 2, 0, 19)]
    assert arrows[0].label.text() == "PBU seq=7 lt=3600s HI=2"
    assert arrows[1].label.text().startswith("PBA status=0 (Binding Update accepted) seq=7")
    assert arrows[3].label.text() == "CTD A=1 CDBs=1"
    assert arrows[4].label.text() == "CTDR S=1 status=0"
    assert "lt=0s (de-reg)" in arrows[5].label.text()
    assert str(arrows[1].time) == "0.001234567"  # relative to the first message, exact
    assert not ladder.markers


@pytest.mark.skipif(not _cases_available(), reason="rules/cases.toml and its loader are not here")
def test_notes_follow_the_case_definition():
    result = sample_result()
    h1 = build_ladder(result, result.handovers[0], PROFILE)
    seq = [r.text if isinstance(r, Note) else r.label.name for r in h1.rows]
    assert seq[:8] == ["[ATT]", "PBU", "PBA", "[CR]", "CT-Req", "CTD", "[CA]", "CTDR"]
    assert all(r.lane == 1 for r in h1.rows if isinstance(r, Note))  # all at the nMAG
    h3 = build_ladder(result, result.handovers[2], PROFILE)  # proactive-1: pMAG pushes
    seq3 = [r.text if isinstance(r, Note) else r.label.name for r in h3.rows]
    assert seq3 == ["[PHT]", "CTD", "CTDR", "[ATT]", "PBU", "PBA"]
    assert next(r for r in h3.rows if isinstance(r, Note)).lane == 0  # PHT at the pMAG


def test_findings_marked_on_the_arrows_they_cite():
    result = sample_result()
    h2 = build_ladder(result, result.handovers[1], PROFILE)
    marked = {a.frame: [m.tag for m in a.markers] for a in h2.rows if isinstance(a, Arrow)}
    assert marked == {30: [], 31: ["E1"], 32: [], 40: ["E1"]}
    assert h2.markers[0].finding.rule == "DRAFT-D2" and h2.markers[0].kind == "error"
    h4 = build_ladder(result, result.handovers[3], PROFILE)
    pbu = next(a for a in h4.rows if isinstance(a, Arrow) and a.frame == 60)
    assert [m.tag for m in pbu.markers] == ["?1"]
    assert [m.kind for m in h4.markers] == ["inconclusive"]


def test_unplaced_findings_are_kept():
    result = sample_result()
    from pmipct_check.rules.model import Finding, Ref

    extra = Finding("PMIP-P9", "warning", "elsewhere", (Ref(CAP, 999),), "RFC 5213", "H1")
    ladder = build_ladder(replace(result, findings=(*result.findings, extra)), result.handovers[0], PROFILE)
    assert [m.finding.rule for m in ladder.unplaced] == ["PMIP-P9"]
    assert "cites no frame drawn here" in to_text([ladder])


def test_selection_by_mn_and_number_or_id():
    result = sample_result()
    assert [h.id for h in select_handovers(result, "mn1@lab.example")] == ["H1", "H3"]
    assert [h.id for h in select_handovers(result, "mn1@lab.example", 2)] == ["H3"]
    assert [h.id for h in select_handovers(result, None, "h2")] == ["H2"]
    assert select_handovers(result, "mn1@lab.example", 3) == []
    assert select_handovers(result, "nobody") == []
    assert len(build_ladders(result, PROFILE)) == 4


def test_mn_lifeline_when_access_side_messages_exist():
    result = sample_result()
    h1 = result.handovers[0]
    ctar = msg(13, 3.0, "2001:db8:1:1::10", NMAG, "CTAR", flags={"A": True, "V": False})
    ladder = build_ladder(result, replace(h1, messages=(*h1.messages, ctar)), PROFILE)
    assert ladder.lifelines[0].role == "mn" and ladder.lifelines[0].address == "2001:db8:1:1::10"
    arrow = next(r for r in ladder.rows if isinstance(r, Arrow) and r.label.name == "CTAR")
    assert (arrow.src, arrow.dst) == (0, 2)


def test_unknown_node_gets_its_own_lifeline():
    result = sample_result()
    h4 = result.handovers[3]
    stray = msg(62, 3001.0, LMA, "2001:db8:99::1", "PBA", seq=1, lifetime=0, status=0)
    ladder = build_ladder(result, replace(h4, messages=(*h4.messages, stray)), PROFILE)
    assert ladder.lifelines[-1].role == "other" and ladder.lifelines[-1].address == "2001:db8:99::1"


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_drawing_fits_width_and_keeps_frames(width):
    result = sample_result()
    ladders = build_ladders(result, PROFILE)
    text = to_text(ladders, width=width)
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= width
    for frame in (10, 11, 14, 15, 16, 31, 40):
        assert f"#{frame}" in text
    if width >= 80:
        for label in ("PBU seq=7 lt=3600s HI=2", "CT-Req seq=1 token=0", "CTD A=1 CDBs=1", "CTDR S=1 status=0"):
            assert label in text
        assert "+0.009750" in text  # relative time of the CTD


def test_arrow_directions_and_marks_without_colour():
    result = sample_result()
    text = to_text(build_ladders(result, PROFILE, handover="H2"), width=120, ascii_only=True)
    assert text.isascii()
    ctd = next(line for line in text.splitlines() if "#40" in line)
    assert ctd.rstrip().endswith("|") and "=>" in ctd  # thick (cited) arrow to the right
    req_line = next(line for line in text.splitlines() if "#31" in line)
    assert "<=" in req_line  # thick arrow to the left
    assert "[E1]" in text and "DRAFT-D2 error" in text
    plain = to_text(build_ladders(result, PROFILE, handover="H1"), width=120, ascii_only=True)
    assert "->|" in plain or "-->" in plain


def test_colour_marks_cited_arrows():
    result = sample_result()
    ladder = build_ladders(result, PROFILE, handover="H2")[0]
    coloured = to_text([ladder], width=120, color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured) == to_text([ladder], width=120)  # colour adds nothing but colour
    spans = render_rich(ladder, 120)
    assert any("red" in str(span.style) for span in spans.spans)


def test_ladders_for_check_modes():
    from pmipct_check.report.ladder import ladders_for_check

    result = sample_result()
    assert [lad.handover.id for lad in ladders_for_check(result, "failing")] == ["H2"]
    assert len(ladders_for_check(result, "all")) == 4
    assert ladders_for_check(result, "none") == []
    with pytest.raises(ValueError, match="--ladder some"):
        ladders_for_check(result, "some")


def test_narrow_headers_keep_the_distinguishing_end_of_addresses():
    result = sample_result()
    h4 = result.handovers[3]
    stray = msg(62, 3001.0, LMA, "2001:db8:99::1", "PBA", seq=1, lifetime=0, status=0)
    ladder = build_ladder(result, replace(h4, messages=(*h4.messages, stray)))  # no profile: addresses only
    header = to_text([ladder], width=44).splitlines()[4]
    assert [cell[-6:] for cell in header.split()] == ["db8:b::1"[-6:], "b8:ff::1"[-6:], "b8:99::1"[-6:]]
    assert all("…" in cell for cell in header.split())
