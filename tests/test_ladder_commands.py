"""`pmipct-check ladder` and `pmipct-check report`, wired to a stand-in pipeline."""

from __future__ import annotations

import sys
import types

import pytest
from cli_helpers import run
from test_report_fixtures import sample_result


@pytest.fixture
def pipeline(monkeypatch):
    """Replace pmipct_check.pipeline by one that returns the sample result and records its call."""
    calls = []
    module = types.ModuleType("pmipct_check.pipeline")

    def check_files(paths, profile, select=(), ignore=()):
        calls.append((paths, profile, select, ignore))
        return sample_result()

    module.check_files = check_files
    monkeypatch.setitem(sys.modules, "pmipct_check.pipeline", module)
    return calls


def test_ladder_prints_every_handover(pipeline, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "ladder", "a.pcap", "b.pcap")
    assert code == 0
    assert pipeline[0][0] == ["a.pcap", "b.pcap"]
    for hid in ("H1", "H2", "H3", "H4"):
        assert f"{hid}  " in out
    assert "#40" in out and "[E1]" in out
    assert "\x1b[" not in out  # captured output is not a terminal: no colour


def test_ladder_selects_by_mn_and_number(pipeline, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "ladder", "a.pcap", "--mn", "mn1@lab.example", "--handover", "2")
    assert code == 0
    assert "H3  mn1@lab.example  proactive-1" in out and "H1  " not in out


def test_ladder_unknown_selection_is_a_usage_error(pipeline, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "ladder", "a.pcap", "--mn", "nobody")
    assert code == 2
    assert "--mn nobody: no such handover" in err and "mn1@lab.example" in err


@pytest.mark.parametrize("suffix", ["svg", "html", "txt", "puml"])
def test_ladder_export(pipeline, monkeypatch, capsys, tmp_path, suffix):
    target = tmp_path / f"out.{suffix}"
    code, _, err = run(monkeypatch, capsys, "ladder", "a.pcap", "--handover", "H1", "--export", str(target))
    assert code == 0 and f"wrote {target}" in err
    assert "CT-Req seq=1 token=0" in target.read_text()


def test_ladder_export_bad_suffix(pipeline, monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "ladder", "a.pcap", "--export", str(tmp_path / "x.png"))
    assert code == 2 and "unknown export format" in err


def test_report_writes_the_page(pipeline, monkeypatch, capsys, tmp_path):
    target = tmp_path / "report.html"
    code, _, err = run(monkeypatch, capsys, "report", "a.pcap", "-o", str(target), "--select", "DRAFT",
                       "--title", "Lab run 7")
    assert code == 0
    assert pipeline[0][2] == ("DRAFT",)  # as check splits it
    page = target.read_text()
    assert "<title>Lab run 7</title>" in page and page.count('class="ladder"') == 4
    assert "4 handover(s) (1 pass, 1 fail, 1 warn, 1 inconclusive)" in err


def test_report_unwritable_output(pipeline, monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "report", "a.pcap", "-o", str(tmp_path / "no" / "such" / "r.html"))
    assert code == 2 and "cannot write" in err


def test_report_splits_comma_separated_rule_ids(pipeline, monkeypatch, capsys, tmp_path):
    code, _, _ = run(monkeypatch, capsys, "report", "a.pcap", "-o", str(tmp_path / "r.html"),
                     "--ignore", "PMIP-P23,CXTP")
    assert code == 0 and pipeline[0][3] == ("PMIP-P23", "CXTP")


def test_unusable_input_exits_2_but_still_draws(monkeypatch, capsys):
    from dataclasses import replace

    from pmipct_check.notices import Notice
    from pmipct_check.rules.model import InputInfo

    module = types.ModuleType("pmipct_check.pipeline")
    broken = InputInfo("junk.pcap", 0, 0, 1, usable=False)
    module.check_files = lambda paths, profile, select=(), ignore=(): replace(
        sample_result(), inputs=(*sample_result().inputs, broken),
        notices=(Notice("capture.not-a-capture", "not a pcap or pcapng file", "junk.pcap", None, 0, "error"),))
    monkeypatch.setitem(sys.modules, "pmipct_check.pipeline", module)
    code, out, err = run(monkeypatch, capsys, "ladder", "a.pcap", "junk.pcap")
    assert code == 2 and "H1  " in out and "junk.pcap" in err


def test_check_draws_at_most_max_rows_ladders_and_says_how_many_are_left(monkeypatch, capsys):
    from pathlib import Path

    capture = Path(__file__).parent.parent / "captures" / "proactive-2.pcapng"
    code, out, _ = run(monkeypatch, capsys, str(capture), "--ladder", "all", "--max-rows", "1",
                       "--fail-on", "never")
    assert code == 0
    total = out.count("verdict: ") + int(out.split(" more ladders not drawn")[0].rsplit("\n", 1)[-1])
    assert out.count("verdict: ") == 1 and total == 3  # the capture's three handovers
    code, out, _ = run(monkeypatch, capsys, str(capture), "--ladder", "all", "--max-rows", "0",
                       "--fail-on", "never")
    assert out.count("verdict: ") == 3 and "more ladders" not in out
