"""SARIF 2.1.0 (OASIS): rules with ids and help, results located in a capture file and frame.

A frame is not a line: each result's physical location is the capture file (an artifact), and
its logical location is ``frame N`` (kind ``frame``); every further cited frame is a related
location.  Inconclusive checks are results of kind ``open`` and level ``none``, as the spec
says for a result whose outcome the tool could not decide.  Input notices become tool
execution notifications.
"""

from __future__ import annotations

from typing import Any

from ..rules.model import CheckResult, Finding, Rule
from . import common, jsonfmt

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.title.replace("/", " ").split() if w.isalnum()) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale or rule.title},
        "help": {"text": f"{rule.title}. {rule.rationale} ({rule.spec})".strip()},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"spec": rule.spec, "check": rule.check},
    }


def _location(file: str, frame: int, artifacts: dict[str, int], with_id: int | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": file, "index": artifacts[file]}},
        "logicalLocations": [{"name": f"frame {frame}", "fullyQualifiedName": f"{file}:frame {frame}",
                              "kind": "frame"}],
    }
    if with_id is not None:
        location["id"] = with_id
    return location


def _result(finding: Finding, rule_ids: list[str], artifacts: dict[str, int]) -> dict[str, Any]:
    decided = finding.outcome == "fail"
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_ids.index(finding.rule),
        "kind": "fail" if decided else "open",
        "level": _LEVEL[finding.severity] if decided else "none",
        "message": {"text": finding.message},
        "locations": [_location(r.file, r.frame, artifacts) for r in finding.refs[:1]],
        "properties": {"severity": finding.severity, "outcome": finding.outcome, "spec": finding.spec,
                       "handover": finding.handover,
                       "frames": [{"file": r.file, "frame": r.frame} for r in finding.refs]},
    }
    if len(finding.refs) > 1:
        out["relatedLocations"] = [
            _location(r.file, r.frame, artifacts, i) for i, r in enumerate(finding.refs[1:], 1)
        ]
    return out


def to_log(result: CheckResult) -> dict[str, Any]:
    """The SARIF log as Python data."""
    rules = list(result.rules)
    known = {r.id for r in rules}
    for f in result.findings:  # a finding from a rule the catalogue did not list still needs a descriptor
        if f.rule not in known:
            rules.append(Rule(f.rule, f.rule, f.severity, f.spec, "", ""))
            known.add(f.rule)
    rule_ids = [r.id for r in rules]
    files = [i.file for i in result.inputs]
    files += sorted({r.file for f in result.findings for r in f.refs} - set(files))
    artifacts = {file: i for i, file in enumerate(files)}
    notifications = [
        {
            "level": n.severity if n.severity in ("error", "warning") else "note",
            "message": {"text": n.message},
            "descriptor": {"id": n.code},
            **({"locations": [_location(n.file, n.frame, artifacts)]}
               if n.file in artifacts and n.frame is not None else {}),
        }
        for n in result.notices
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": common.TOOL_NAME, "version": common.version(),
                                "rules": [_rule(r) for r in rules]}},
            "invocations": [{"executionSuccessful": all(i.usable for i in result.inputs),
                             "toolExecutionNotifications": notifications}],
            "artifacts": [{"location": {"uri": file}} for file in files],
            "results": [_result(f, rule_ids, artifacts) for f in common.sorted_findings(result.findings)],
            "properties": {"vantage": sorted(result.vantage)},
        }],
    }


def render(result: CheckResult, **_: Any) -> str:
    # jsonfmt's encoder: json.dumps(indent=2, ensure_ascii=False)'s text for a log's plain values,
    # ~3x faster (json's indenting encoder is pure Python and yields every bracket on its own)
    return jsonfmt.dumps(to_log(result), indent=2) + "\n"
