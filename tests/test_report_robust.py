"""Bad input never breaks a renderer: control characters, odd field types, empty handovers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from test_report_fixtures import CAP, LMA, NMAG, PMAG, msg, sample_result

from pmipct_check.analysis.model import Handover
from pmipct_check.report import FORMATS, render
from pmipct_check.report.export import EXPORT_FORMATS, export_text, ladder_svg
from pmipct_check.report.ladder import build_ladders, to_text
from pmipct_check.rules.model import Finding, Ref

EVIL = "mn\x00\x1b[31m<&>\"'\x7f\u0085@x"


def hostile_result():
    result = sample_result()
    odd = (
        msg(70, 5000.0, NMAG, LMA, "PBU", seq="x", lifetime=None, flags=["A"], options={"key": "handoff"}),
        msg(71, 5000.5, LMA, NMAG, "PBA", status="bad", options=[1, None, {"key": "handoff"}]),
        msg(72, 5001.0, NMAG, PMAG, "CTDR", statuses=[None, 3], flags=None),
        msg(73, 5001.5, PMAG, NMAG, "CTD", cdbs="none"),
        msg(74, 5002.0, "not-an-address", NMAG, "Unknown-99"),
    )
    evil = Handover("H5", EVIL, "reactive-1", EVIL, PMAG, NMAG, LMA, odd, {"pbu_pba": float("nan")})
    empty = Handover("H6", "mn6", "unknown", "nothing seen", None, NMAG, None, ())
    finding = Finding("R-\x01", "error", "bad \x1b[2J value " + EVIL, (Ref(CAP + "\x02", 70),), "spec", "H5")
    return replace(result, handovers=(*result.handovers, evil, empty),
                   verdicts={**result.verdicts, "H5": "fail", "H6": "inconclusive"},
                   findings=(*result.findings, finding))


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def test_every_format_survives_and_emits_no_control_characters():
    result = hostile_result()
    for fmt in FORMATS:
        out = render(result, fmt, width=100)
        if fmt == "json" or fmt == "sarif":
            json.loads(out)
            continue
        assert not CONTROL.search(out), fmt
        if fmt == "junit":
            ET.fromstring(out)
    assert "\\x1b" in render(result, "text", width=100)  # shown, not executed


def test_ladders_and_exports_survive():
    result = hostile_result()
    ladders = build_ladders(result)
    assert len(ladders) == 6
    text = to_text(ladders, width=90)
    assert not CONTROL.search(text)
    assert "PBU seq=x" in text
    for ladder in ladders:
        ET.fromstring(ladder_svg(ladder))
    for fmt in EXPORT_FORMATS:
        for _, out in export_text(ladders, fmt):
            assert not CONTROL.search(out), fmt
    empty = ladders[-1]
    assert empty.rows == () and empty.start is None
