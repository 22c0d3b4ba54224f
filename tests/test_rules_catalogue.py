"""The catalogue loader's validation, --select/--ignore, severity overrides, verdicts, exit level, commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_analysis_fixtures import scenario

from pmipct_check.analysis import analyze
from pmipct_check.analysis.cases import CaseError, parse_cases
from pmipct_check.analysis.catalogue import catalogue_file
from pmipct_check.rules.catalogue import CatalogueError, parse_catalogue, parse_rules
from pmipct_check.rules.checks import CHECKS
from pmipct_check.rules.engine import exceeds, load_rules, run_rules, verdict
from pmipct_check.rules.model import Finding
from pmipct_check.rules.selection import SelectionError, apply_overrides, matches, select_rules

GOOD = '''
[[rule]]
id = "X-A1"
title = "t"
severity = "error"
spec = "RFC 1"
rationale = "r"
check = "case_known"
'''


def test_shipped_catalogue_is_valid_and_every_check_exists() -> None:
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules) >= 60
    assert all(r.check in CHECKS for r in rules)
    assert {r.id.split("-")[0] for r in rules} == {"DRAFT", "CXTP", "PMIP", "PFMIP", "INPUT"}


def test_protection_rules_default_to_warning_and_mn_moot_rules_to_info() -> None:
    by_id = {r.id: r for r in load_rules()}
    assert {by_id[i].severity for i in ("PMIP-P23", "CXTP-C19", "PFMIP-F9")} == {"warning"}
    assert by_id["CXTP-C12"].severity == "info"
    assert by_id["DRAFT-D12"].severity == "error"
    assert "INITIAL_BINDACK_TIMEOUT" in by_id["DRAFT-D12"].rationale
    assert "CT_MAX_TRANSFER_TIME" in by_id["DRAFT-D12"].rationale


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace('check = "case_known"', 'check = "case_known"\nweight = 3'), "x.toml: X-A1: weight: unknown key"),
    (GOOD.replace('spec = "RFC 1"\n', ""), "x.toml: X-A1: spec: missing"),
    (GOOD.replace('"error"', '"fatal"'), "x.toml: X-A1: severity: expected error, warning or info, got 'fatal'"),
    (GOOD.replace('"case_known"', '"no_such_check"'), "x.toml: X-A1: check: no check function named 'no_such_check'"),
    (GOOD.replace('"X-A1"', '"lower-case"'), "x.toml: lower-case: id: expected GROUP-CODE"),
    (GOOD + "params = 3\n", "x.toml: X-A1: params: expected a table"),
    ("[rules]\n", "x.toml: rules: no such top-level key"),
    ("[[rule\n", "x.toml: not valid TOML"),
    (GOOD.replace('title = "t"', "title = 5"), "x.toml: X-A1: title: expected non-empty text"),
])
def test_catalogue_errors_name_file_rule_and_key(text: str, expected: str) -> None:
    with pytest.raises(CatalogueError) as info:
        parse_rules(text, "x.toml", CHECKS)
    assert str(info.value).startswith(expected)


def test_duplicate_id_names_both_files() -> None:
    with pytest.raises(CatalogueError, match=r"b.toml: X-A1: id: duplicate, already defined in a.toml"):
        parse_catalogue([("a.toml", GOOD), ("b.toml", GOOD)], CHECKS)


def test_rule_text_is_never_evaluated() -> None:
    text = GOOD.replace('rationale = "r"', 'rationale = "__import__(\'os\').system(\'false\') {0.__class__}"')
    (rule,) = parse_rules(text, "x.toml", CHECKS)
    assert rule.rationale.startswith("__import__")


def test_cases_file_errors_name_case_and_key() -> None:
    text = catalogue_file("cases.toml").read_text(encoding="utf-8")
    with pytest.raises(CaseError, match=r"cases.reactive-1.steps\[1\].from: expected"):
        parse_cases(text.replace('{ message = "PBU", from = "nmag"', '{ message = "PBU", from = "moon"', 1))
    with pytest.raises(CaseError, match=r"cases.reactive-1.signature.first_vs_pbu"):
        parse_cases(text.replace('first_vs_pbu = "after"', 'first_vs_pbu = "later"', 1))
    with pytest.raises(CaseError, match=r"cases.none.colour: unknown key"):
        parse_cases(text.replace("[cases.none]\n", "[cases.none]\ncolour = 1\n"))


# ---- selection --------------------------------------------------------------------------------

IDS = ["CXTP-C1", "CXTP-C10", "CXTP-C8", "DRAFT-D2", "PMIP-P7"]


def _rules():
    return [r for r in load_rules() if r.id in IDS]


@pytest.mark.parametrize(("selector", "rule_id", "hit"), [
    ("CXTP", "CXTP-C10", True), ("cxtp-c1", "CXTP-C1", True), ("CXTP-C1", "CXTP-C10", False),
    ("CXTP-C", "CXTP-C8", True), ("CX", "CXTP-C8", False), ("ALL", "PMIP-P7", True), ("PMIP-P", "PMIP-P7", True),
])
def test_prefix_semantics(selector: str, rule_id: str, hit: bool) -> None:
    assert matches(selector, rule_id) is hit


def test_select_and_ignore_like_ruff() -> None:
    rules = _rules()
    assert [r.id for r in select_rules(rules, ["CXTP"])] == ["CXTP-C1", "CXTP-C8", "CXTP-C10"]
    assert [r.id for r in select_rules(rules, ["CXTP"], ["CXTP-C10"])] == ["CXTP-C1", "CXTP-C8"]
    assert [r.id for r in select_rules(rules, ["CXTP-C10"], ["CXTP"])] == ["CXTP-C10"]  # more specific wins
    assert [r.id for r in select_rules(rules, (), ["CXTP,DRAFT"])] == ["PMIP-P7"]
    assert len(select_rules(rules)) == len(rules)


@pytest.mark.parametrize("selector", ["CXTP-C99", "NOPE", "CXTP-C1X"])
def test_unknown_selector_is_an_error(selector: str) -> None:
    with pytest.raises(SelectionError, match=selector):
        select_rules(load_rules(), [selector])
    with pytest.raises(SelectionError, match="--ignore"):
        select_rules(load_rules(), (), [selector])


def test_severity_overrides() -> None:
    rules = apply_overrides(_rules(), {"CXTP": "info", "CXTP-C8": "error"})
    by_id = {r.id: r.severity for r in rules}
    assert by_id["CXTP-C1"] == "info" and by_id["CXTP-C8"] == "error" and by_id["PMIP-P7"] == "error"
    with pytest.raises(SelectionError, match="expected error, warning or info"):
        apply_overrides(_rules(), {"CXTP": "fatal"})
    with pytest.raises(SelectionError, match="FOO"):
        apply_overrides(_rules(), {"FOO": "info"})


# ---- engine -----------------------------------------------------------------------------------

def _finding(severity: str, outcome: str = "fail") -> Finding:
    return Finding("X-A1", severity, "m", (), "s", "H1", outcome)  # type: ignore[arg-type]


def test_verdict_order() -> None:
    assert verdict([]) == "pass"
    assert verdict([_finding("info")]) == "pass"
    assert verdict([_finding("info", "inconclusive")]) == "inconclusive"
    assert verdict([_finding("warning"), _finding("info", "inconclusive")]) == "warn"
    assert verdict([_finding("warning"), _finding("error")]) == "fail"
    assert verdict([_finding("error", "inconclusive")]) == "inconclusive"


def test_exceeds_fail_levels() -> None:
    result = run_rules(analyze(scenario("reactive-1").out))  # protection warnings and an info note
    assert not exceeds(result, "error")
    assert exceeds(result, "warning") and exceeds(result, "info")
    assert not exceeds(result, "never")
    with pytest.raises(ValueError, match="--fail-on"):
        exceeds(result, "fatal")


def test_run_rules_selection_and_override_reach_the_result() -> None:
    result = run_rules(analyze(scenario("reactive-1").out), select=["PMIP-P23"],
                       severity_overrides={"PMIP-P23": "error"})
    assert [r.id for r in result.rules] == ["PMIP-P23"]
    assert {f.severity for f in result.findings} == {"error"} and exceeds(result, "error")
    assert result.verdicts == {"H1": "pass"}  # protection is about links, not handovers
    assert result.vantage == {"lma", "inter-mag"}
    assert result.inputs[0].file == "lab.pcap" and result.inputs[0].messages == len(result.messages)


def test_a_broken_check_is_inconclusive_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from pmipct_check.rules import engine

    def broken(ctx, rule):
        raise KeyError("boom")

    monkeypatch.setattr(engine, "CHECKS", {**CHECKS, "case_known": broken})
    result = run_rules(analyze(scenario("reactive-1").out), select=["DRAFT-D1"])
    (finding,) = result.findings
    assert finding.outcome == "inconclusive" and "KeyError" in finding.message


# ---- commands ---------------------------------------------------------------------------------

def test_rules_command_text_and_json() -> None:
    from pmipct_check.commands.rules import command

    out = CliRunner().invoke(command, ["--format", "json"])
    assert out.exit_code == 0
    doc = json.loads(out.output)
    assert doc["version"] == 1 and {r["id"] for r in doc["rules"]} == {r.id for r in load_rules()}
    text = CliRunner().invoke(command, ["--select", "DRAFT-D12"], terminal_width=200)
    assert text.exit_code == 0 and "DRAFT-D12" in text.output and "CXTP-C1 " not in text.output
    bad = CliRunner().invoke(command, ["--select", "NOPE"])
    assert bad.exit_code == 2 and "NOPE" in bad.output


def test_explain_command() -> None:
    from pmipct_check.commands.explain import command

    out = CliRunner().invoke(command, ["draft-d12"])
    assert out.exit_code == 0
    assert out.output.startswith("DRAFT-D12: No context deletion before the transfer completes")
    for needle in ("severity:  error", "spec:      draft-liebsch-netlmm-proxymip6ct-00 section 5", "in flight"):
        assert needle in out.output
    params = CliRunner().invoke(command, ["CXTP-C17"])
    assert "params:    rate = 10" in params.output
    as_json = json.loads(CliRunner().invoke(command, ["PMIP-P7", "--format", "json"]).output)
    assert as_json["id"] == "PMIP-P7" and as_json["severity"] == "error"
    missing = CliRunner().invoke(command, ["CXTP-C"])
    assert missing.exit_code == 2 and "did you mean CXTP-C1" in missing.output


def test_refs_name_every_tap_that_saw_the_guilty_message() -> None:
    from test_analysis_fixtures import MAG1, MAG2, PREV, Lab

    lab = Lab()
    lab.register(MAG1, "mn1@lab.example", 1, hi=1)
    lab.wait(500)
    lab.register(MAG2, "mn1@lab.example", 2)
    bad = lab.ctd(MAG2, MAG1, PREV)
    bad.observations = (("lab.pcap", bad.frame), ("mag2.pcap", 7))
    result = run_rules(analyze(lab.out), select=["CXTP-C4"])
    (finding,) = result.findings
    assert [(r.file, r.frame) for r in finding.refs] == [("lab.pcap", bad.frame), ("mag2.pcap", 7)]
