"""JUnit, SARIF, GitHub annotations, the rich text report, and the render() dispatch."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from test_report_fixtures import CAP, PROFILE, empty_result, sample_result

from pmipct_check.report import FORMATS, render
from pmipct_check.rules.model import Finding, Ref

ANSI = re.compile(r"\x1b\[")


def test_every_format_renders_both_results():
    for fmt in FORMATS:
        assert render(sample_result(), fmt, profile=PROFILE)
        out = render(empty_result(), fmt, profile=PROFILE)
        assert out == "" if fmt == "github" else out  # nothing to annotate


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        render(sample_result(), "yaml")


# -- JUnit -----------------------------------------------------------------------------------------


def test_junit_structure():
    root = ET.fromstring(render(sample_result(), "junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1 and suites[0].get("name") == CAP
    cases = suites[0].findall("testcase")
    assert len(cases) == 4 + 3  # one per handover, one per rule
    assert suites[0].get("tests") == "7" and suites[0].get("failures") == "2"
    assert suites[0].get("skipped") == "2"
    by_name = {c.get("name").split()[0]: c for c in cases}
    failure = by_name["H2"].find("failure")
    assert failure is not None and failure.get("type") == "DRAFT-D2"
    assert f"{CAP}:40" in failure.text
    assert by_name["H1"].find("failure") is None and by_name["H1"].find("skipped") is None
    assert by_name["H4"].find("skipped") is not None
    assert by_name["H3"].find("failure") is None
    assert "PMIP-P23" in by_name["H3"].find("system-out").text
    assert by_name["DRAFT-D2"].find("failure") is not None
    assert by_name["CXTP-C1"].find("skipped") is not None


def test_junit_fail_on_warning():
    root = ET.fromstring(render(sample_result(), "junit", fail_on="warning"))
    suite = root.find("testsuite")
    assert suite.get("failures") == "4"  # H2, H3 and their two rules


def test_junit_fail_on_never_lists_findings_without_failing_rules():
    root = ET.fromstring(render(sample_result(), "junit", fail_on="never"))
    suite = root.find("testsuite")
    by_name = {c.get("name").split()[0]: c for c in suite.findall("testcase")}
    assert suite.get("failures") == "1"  # H2's verdict is fail whatever the gate; no rule fails it
    assert by_name["DRAFT-D2"].find("failure") is None
    assert "DRAFT-D2" in by_name["DRAFT-D2"].find("system-out").text


# -- SARIF -----------------------------------------------------------------------------------------

# The parts of the OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json) a consumer relies on,
# written out from the specification's sections 3.13-3.33.
_MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
            "properties": {"text": {"type": "string"}}}
_LOCATION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "minimum": -1},
        "physicalLocation": {
            "type": "object",
            "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
            "properties": {"artifactLocation": {
                "type": "object", "properties": {"uri": {"type": "string"}, "index": {"type": "integer", "minimum": -1}}}},
        },
        "logicalLocations": {"type": "array", "items": {
            "type": "object", "properties": {"name": {"type": "string"}, "fullyQualifiedName": {"type": "string"},
                                             "kind": {"type": "string"}}}},
    },
}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"enum": ["2.1.0"]},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "items": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                   "rules": {"type": "array", "items": {
                                       "type": "object", "required": ["id"],
                                       "properties": {"id": {"type": "string"}, "shortDescription": _MESSAGE,
                                                      "fullDescription": _MESSAGE, "help": _MESSAGE,
                                                      "defaultConfiguration": {"type": "object", "properties": {
                                                          "level": {"enum": ["none", "note", "warning", "error"]}}}}}}}}}},
                "artifacts": {"type": "array", "items": {"type": "object", "properties": {
                    "location": {"type": "object", "properties": {"uri": {"type": "string"}}}}}},
                "invocations": {"type": "array", "items": {
                    "type": "object", "required": ["executionSuccessful"],
                    "properties": {"toolExecutionNotifications": {"type": "array", "items": {
                        "type": "object", "required": ["message"],
                        "properties": {"message": _MESSAGE, "level": {"enum": ["none", "note", "warning", "error"]}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": -1},
                        "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "items": _LOCATION},
                        "relatedLocations": {"type": "array", "items": _LOCATION},
                    }}},
            }}},
    },
}


def test_sarif_validates_against_the_spec_subset():
    jsonschema = pytest.importorskip("jsonschema")
    for result in (sample_result(), empty_result()):
        jsonschema.validate(json.loads(render(result, "sarif")), SARIF_SUBSET)


def test_sarif_content():
    log = json.loads(render(sample_result(), "sarif"))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DRAFT-D2", "PMIP-P23", "CXTP-C1"]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    assert rules[0]["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    first = results[0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"] == "DRAFT-D2"
    assert (first["kind"], first["level"]) == ("fail", "error")
    loc = first["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == CAP
    assert run["artifacts"][loc["physicalLocation"]["artifactLocation"]["index"]]["location"]["uri"] == CAP
    assert loc["logicalLocations"][0]["name"] == "frame 31"
    assert first["relatedLocations"][0]["logicalLocations"][0]["name"] == "frame 40"
    warning = next(r for r in results if r["ruleId"] == "PMIP-P23")
    assert warning["level"] == "warning"
    inconclusive = next(r for r in results if r["ruleId"] == "CXTP-C1")
    assert (inconclusive["kind"], inconclusive["level"]) == ("open", "none")
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["descriptor"]["id"] == "mh.option-overrun"
    assert notes[0]["locations"][0]["logicalLocations"][0]["name"] == "frame 77"


def test_sarif_describes_rules_missing_from_the_catalogue():
    result = sample_result()
    extra = Finding("DECODE-X1", "warning", "odd", (Ref(CAP, 5),), "RFC 5213")
    from dataclasses import replace

    log = json.loads(render(replace(result, findings=(*result.findings, extra)), "sarif"))
    run = log["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    hit = next(r for r in run["results"] if r["ruleId"] == "DECODE-X1")
    assert ids[hit["ruleIndex"]] == "DECODE-X1"


def test_sarif_text_is_what_json_writes_indented():
    from pmipct_check.report.sarif import to_log

    for result in (sample_result(), empty_result()):
        assert render(result, "sarif") == json.dumps(to_log(result), indent=2, ensure_ascii=False) + "\n"


# -- GitHub ----------------------------------------------------------------------------------------


def test_github_annotations():
    lines = render(sample_result(), "github").splitlines()
    assert lines[0].startswith(f"::error file={CAP},title=DRAFT-D2::CTD 449.000 ms")
    assert f"{CAP}:40" in lines[0]
    assert lines[1].startswith("::warning ")
    assert lines[2].startswith("::notice ") and "(inconclusive)" in lines[2]
    assert any(line.startswith("::warning ") and "mh.option-overrun" in line for line in lines)


def test_github_escapes_workflow_command_syntax():
    from dataclasses import replace

    result = sample_result()
    nasty = Finding("R,1:x", "error", "two\nlines 100%", (Ref("a,b:c.pcap", 3),), "s")
    line = render(replace(result, findings=(nasty,), notices=()), "github").splitlines()
    assert line == ["::error file=a%2Cb%3Ac.pcap,title=R%2C1%3Ax::two%0Alines 100%25 (frames: a,b:c.pcap:3; s)"]


# -- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_text_fits_the_width_and_has_no_colour_by_default(width):
    text = render(sample_result(), "text", profile=PROFILE, width=width)
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= width
    for word in ("H1", "H2", "H3", "H4", "DRAFT-D2", "PMIP-P23", "CXTP-C1", "fail", "inconclusive"):
        assert word in text
    assert "mag-a" in text  # names from the profile


def test_text_colour_on_request_and_no_color_env(monkeypatch):
    assert ANSI.search(render(sample_result(), "text", width=100, color=True))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(render(sample_result(), "text", width=100, color=True))


def test_text_wide_shows_timings_and_frames():
    text = render(sample_result(), "text", profile=PROFILE, width=140)
    assert "PBU→PBA" in text and "449 ms" in text
    assert f"{CAP}:40" in text
    assert "Timings over all handovers" in text


def test_text_empty():
    text = render(empty_result(), "text", width=80)
    assert "No handover found." in text and "No findings." in text


def test_text_row_limit_lists_what_did_not_pass_and_counts_the_rest():
    result = sample_result()
    verdicts = {h.id: result.verdicts.get(h.id) for h in result.handovers}
    listed_first = next(h.id for h in result.handovers if verdicts[h.id] != "pass")
    text = render(result, "text", profile=PROFILE, width=160, max_rows=1)
    table = text[text.index("Handovers that did not pass"):text.index("Timings over all")]
    assert f"(1 listed of {len(result.handovers)})" in table
    assert listed_first in table
    assert not any(h for h, v in verdicts.items() if h != listed_first and f" {h} " in table)
    passed = sum(v == "pass" for v in verdicts.values())
    assert f"{len(result.handovers) - 1} not listed ({passed} passed)" in table
    # every finding is counted per rule; only the worst one is listed in full
    by_rule = text[text.index("Findings by rule"):text.index("Findings (the first 1 of")]
    for rule in {f.rule for f in result.findings}:
        assert rule in by_rule
    assert f"Findings by rule ({len(result.findings)})" in by_rule
    assert f"{len(result.findings) - 1} more" in text


def test_text_without_row_limit_lists_everything():
    result = sample_result()
    assert render(result, "text", profile=PROFILE, width=160, max_rows=0) == render(
        result, "text", profile=PROFILE, width=160, max_rows=len(result.handovers) + len(result.findings))
    text = render(result, "text", profile=PROFILE, width=160, max_rows=0)
    assert "Findings by rule" not in text and "not listed" not in text
