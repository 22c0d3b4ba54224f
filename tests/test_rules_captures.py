"""The analysis and rules on the synthesized capture library: captures/README.md's table is the oracle.

Each row names the expected case(s) and the rule ids a planted fault must trigger; conformant rows
must get no error.  Files are read from captures/ (made by `pmipct-check synth`, byte-checked by
the synthesizer's own tests); the test skips when the library is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmipct_check.analysis import analyze
from pmipct_check.analysis.model import CASES
from pmipct_check.capture import iter_carried
from pmipct_check.decode import decode_stream
from pmipct_check.decode.model import Message
from pmipct_check.notices import Notice
from pmipct_check.profile import DEFAULT_PROFILE
from pmipct_check.rules.engine import exceeds, run_rules

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
RULE_ID = re.compile(r"\b[A-Z]+-[A-Z][0-9]+\b")


def _rows() -> list[tuple[str, str, str]]:
    readme = CAPTURES / "README.md"
    if not readme.is_file():
        return []
    rows = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows.append((cells[0].strip("`"), cells[2], cells[3]))
    return rows


ROWS = _rows()


def check(path: Path):
    items = list(decode_stream(iter_carried([str(path)], DEFAULT_PROFILE), DEFAULT_PROFILE))
    analysis = analyze([i for i in items if isinstance(i, Message)], DEFAULT_PROFILE)
    return analysis, run_rules(analysis, [i for i in items if isinstance(i, Notice)], DEFAULT_PROFILE)


@pytest.mark.skipif(not ROWS, reason="captures/README.md is absent")
@pytest.mark.parametrize(("name", "case", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_capture_library_expectations(name: str, case: str, expected: str) -> None:
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"{name} not in captures/")
    analysis, result = check(path)
    named = {c for c in CASES if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", case)}
    assert {h.case for h in analysis.handovers} == named, [(h.mn, h.case, h.case_reason) for h in analysis.handovers]
    for h in analysis.handovers:
        assert h.pmag and h.nmag and h.pmag != h.nmag and h.mn.endswith("@lab.example")
    errors = [f for f in result.findings if f.outcome == "fail" and f.severity == "error"]
    if expected.startswith("conformant"):
        assert errors == [], errors
        assert not exceeds(result, "error")
        assert set(result.verdicts.values()) <= {"pass", "inconclusive"}
        return
    rules = set(RULE_ID.findall(expected))
    assert rules, expected
    mn1 = {h.id for h in analysis.handovers if h.mn == "mn1@lab.example"}
    for rule in rules:
        found = [f for f in result.findings if f.rule == rule and f.outcome == "fail"]
        assert found, (rule, [(f.rule, f.message) for f in result.findings])
        assert all(f.refs for f in found)
        if mn1:
            assert any(f.handover in mn1 for f in found), found
    levels = {r.severity for r in result.rules if r.id in rules}
    assert exceeds(result, "error" if "error" in levels else "warning")
    if "mn1 only" in expected:
        others = {h.id for h in analysis.handovers if h.mn != "mn1@lab.example"}
        assert all(result.verdicts[h] in ("pass", "inconclusive") for h in others)


@pytest.mark.skipif(not (CAPTURES / "reactive-1.pcapng").is_file(), reason="captures/ is absent")
def test_lma_only_vantage_of_a_real_capture_is_inconclusive_never_failed() -> None:
    items = list(decode_stream(iter_carried([str(CAPTURES / "reactive-1.pcapng")], DEFAULT_PROFILE)))
    only_lma = [i for i in items if isinstance(i, Message) and i.protocol != "cxtp"]
    analysis = analyze(only_lma)
    result = run_rules(analysis)
    (h,) = analysis.handovers
    assert analysis.vantage == {"lma"} and h.vantage == {"lma"}
    assert result.verdicts[h.id] == "inconclusive"
    assert not [f for f in result.findings if f.outcome == "fail" and f.severity == "error"]
