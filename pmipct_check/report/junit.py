"""JUnit XML: one testsuite for the input set, a testcase per handover and per rule.

CI systems show JUnit well: a handover whose verdict is ``fail`` and a rule with a finding at
or above the fail level are failures whose text names the frames; an inconclusive check is
``skipped`` (the capture cannot show it), lesser findings go to ``system-out``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from ..rules.model import SEVERITY_ORDER, CheckResult, Finding
from . import common, timings


def _failing(finding: Finding, fail_on: str) -> bool:
    """A finding that fails the gate: never under ``--fail-on never`` (it is listed, not failed)."""
    level = SEVERITY_ORDER.get(fail_on)
    return level is not None and finding.outcome == "fail" and SEVERITY_ORDER[finding.severity] >= level


def _describe(findings: list[Finding]) -> str:
    return common.clean("\n".join(
        f"{common.mark_kind(f)} {f.rule}: {f.message} [{common.refs_text(f, limit=50)}] ({f.spec})"
        for f in findings
    ))


def _case(suite: ET.Element, classname: str, name: str, findings: list[Finding], fail_on: str,
          failing: bool, inconclusive_reason: str | None = None, note: str = "") -> str:
    """Add a testcase; returns its state: passed, failed, skipped."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=common.clean(name), time="0")
    bad = [f for f in findings if _failing(f, fail_on)]
    if failing or bad:
        first = bad[0] if bad else None
        message = f"{first.rule}: {first.message}" if first else "verdict: fail"
        failure = ET.SubElement(case, "failure", message=common.clean(message),
                                type=common.clean(first.rule) if first else "verdict")
        failure.text = _describe(bad) or message
        state = "failed"
    elif inconclusive_reason is not None:
        ET.SubElement(case, "skipped", message=common.clean(inconclusive_reason))
        state = "skipped"
    else:
        state = "passed"
    rest = [f for f in findings if f not in bad]
    out = common.clean("\n".join(part for part in (note, _describe(rest)) if part))
    if out:
        ET.SubElement(case, "system-out").text = out
    return state


class _Spans(dict[tuple[str, float], str]):
    """(timing key, seconds) -> ``label ms`` as a handover's system-out shows it, for values that
    repeat from handover to handover (51k timings, 10k distinct, on the 100k bench).  Zeros are
    not kept: 0.0 and -0.0 are one key but ``ms`` writes them differently."""

    def __missing__(self, item: tuple[str, float]) -> str:
        key, value = item
        text = f"{timings.label(key, True)} {timings.ms(value)}"
        if value:
            self[item] = text
        return text


def render(result: CheckResult, *, fail_on: str = "error", **_: Any) -> str:
    name = common.clean(", ".join(i.file for i in result.inputs) or "no input")
    root = ET.Element("testsuites", name=common.TOOL_NAME)
    suite = ET.SubElement(root, "testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="tool", value=f"{common.TOOL_NAME} {common.version()}")
    ET.SubElement(props, "property", name="vantage", value=",".join(sorted(result.vantage)))
    by_handover = common.findings_by_handover(result)
    states: list[str] = []
    spans = _Spans()
    for h in result.handovers:
        verdict = common.verdict_of(result, h)
        times = ", ".join(map(spans.__getitem__, h.timings.items()))
        label = f"{h.id} {h.mn} {h.case} {h.pmag or '?'} -> {h.nmag}"
        states.append(_case(suite, "handover", label, by_handover.get(h.id, []), fail_on,
                            verdict == "fail",
                            f"inconclusive: {h.case_reason}" if verdict == "inconclusive" else None,
                            f"verdict {verdict}; timings: {times}" if times else f"verdict {verdict}"))
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in common.sorted_findings(result.findings):
        by_rule[f.rule].append(f)
    rule_ids = [r.id for r in result.rules] + sorted(set(by_rule) - {r.id for r in result.rules})
    titles = common.rule_index(result)
    for rule_id in rule_ids:
        findings = by_rule.get(rule_id, [])
        title = titles[rule_id].title if rule_id in titles else rule_id
        only_inconclusive = bool(findings) and all(f.outcome == "inconclusive" for f in findings)
        states.append(_case(suite, "rule", f"{rule_id} {title}", findings, fail_on, False,
                            "inconclusive: " + findings[0].message if only_inconclusive else None))
    for tag, value in (("tests", len(states)), ("failures", states.count("failed")), ("errors", 0),
                       ("skipped", states.count("skipped")), ("time", 0)):
        suite.set(tag, str(value))
        root.set(tag, str(value))
    if result.notices:
        ET.SubElement(suite, "system-err").text = common.clean("\n".join(
            f"{n.severity} {n.code}: {n.message} ({n.where()})" for n in result.notices
        ))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
