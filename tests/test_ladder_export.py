"""Ladder exports: SVG, HTML, text, Mermaid, PlantUML carry the same labels as the terminal."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from test_report_fixtures import PROFILE, sample_result

from pmipct_check.report.export import EXPORT_FORMATS, export, export_text, ladder_svg, mermaid, plantuml
from pmipct_check.report.ladder import Arrow, Note, build_ladders

SVG = "{http://www.w3.org/2000/svg}"


def _ladders(**kw):
    return build_ladders(sample_result(), PROFILE, **kw)


def _all_text(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def test_svg_is_well_formed_and_has_every_label():
    for ladder in _ladders():
        root = ET.fromstring(ladder_svg(ladder))
        assert root.tag == f"{SVG}svg" and float(root.get("width")) > 100
        texts = _all_text(root)
        for row in ladder.rows:
            if isinstance(row, Arrow):
                assert any(t.startswith(row.text()) for t in texts), row.text()
                assert any(t.endswith(f"#{row.frame}") for t in texts)
            else:
                assert row.text in texts
        for lane in ladder.lifelines:
            assert lane.name in texts and lane.address in texts


def test_svg_colours_cited_arrows_and_has_a_legend():
    ladder = _ladders(handover="H2")[0]
    root = ET.fromstring(ladder_svg(ladder))
    cited = [g for g in root.iter(f"{SVG}g") if "finding" in (g.get("class") or "")]
    assert sorted(g.get("data-frame") for g in cited) == ["31", "40"]
    assert all(g.find(f"{SVG}line").get("stroke") == "#c62828" for g in cited)
    assert any("[E1] DRAFT-D2 error" in t for t in _all_text(root))


def test_svg_document_stacks_ladders():
    text = export_text(_ladders(), "svg")[0][1]
    root = ET.fromstring(text.split("\n", 1)[1])
    assert len(root.findall(f"{SVG}g")) == 4


def test_mermaid():
    ladder = _ladders(handover="H2")[0]
    text = mermaid(ladder)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert sum(line.strip().startswith("participant L") for line in lines) == 3
    arrows = [line.strip() for line in lines if "->>" in line]
    assert len(arrows) == sum(isinstance(r, Arrow) for r in ladder.rows)
    assert arrows[0].startswith("L1->>L2: PBU seq=3 lt=3600s HI=2 (frame 30")
    assert arrows[1].startswith("L1->>L0: CT-Req seq=1 token=0 [E1] (frame 31")
    assert ";" not in text and "#" not in text
    assert "rect rgba(198,40,40,0.18)" in text
    assert sum(line.strip().startswith("Note over") for line in lines) == sum(isinstance(r, Note) for r in ladder.rows)


def test_plantuml():
    ladder = _ladders(handover="H2")[0]
    text = plantuml(ladder)
    assert text.startswith("@startuml\n") and text.rstrip().endswith("@enduml")
    assert 'participant "mag-a (pMAG)\\n2001:db8:a::1" as L0' in text
    assert "L1 -> L2 : PBU seq=3 lt=3600s HI=2\\n" in text
    assert "L0 -[#C62828,bold]> L1 : <color:#C62828>CTD A=0 CDBs=1 [E1]</color>" in text
    assert "legend bottom left" in text and "endlegend" in text


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_writes_by_suffix(tmp_path, fmt):
    ladders = _ladders()
    written = export(ladders, tmp_path / f"ladder.{fmt}")
    if fmt == "mmd":  # Mermaid: one diagram a file
        assert [p.name for p in written] == [f"ladder-H{i}.mmd" for i in range(1, 5)]
    else:
        assert written == [tmp_path / f"ladder.{fmt}"]
    text = "".join(p.read_text(encoding="utf-8") for p in written)
    for label in ("PBU seq=7 lt=3600s HI=2", "CT-Req seq=1 token=0", "CTD A=1 CDBs=1", "CTDR S=1 status=0"):
        assert label in text, (fmt, label)
    if fmt == "txt":
        assert text.isascii() and "#15" in text
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 4


def test_export_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export(_ladders(), tmp_path / "ladder.png")


@pytest.mark.skipif(shutil.which("plantuml") is None, reason="plantuml is not installed")
def test_plantuml_accepts_the_export():
    """PlantUML itself (Debian's package) parses every ladder; a broken diagram after them shows the
    check can fail (one JVM start for both)."""
    text = "\n".join(plantuml(ladder) for ladder in _ladders())
    text += "@startuml\nL0 -> L1 : x\nfoo bar baz (\n@enduml\n"
    run = subprocess.run(["plantuml", "-syntax"], input=text, capture_output=True, text=True, timeout=120)
    blocks = run.stdout.split("SEQUENCE")
    assert len(blocks) == 5 and "ERROR" not in "".join(blocks[:4]), run.stdout  # ours: all four parse
    assert run.stdout.count("ERROR") == 1 and "ERROR" in blocks[4]  # the broken one is caught
