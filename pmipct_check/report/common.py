"""What every renderer shares: message labels, finding look-ups, orderings and verdict words.

One place decides how a message is summed up in one line (``PBU seq=7 lt=3600s HI=2``) so
that the text table, the ladder, the SVG and the HTML page all say the same thing.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from operator import attrgetter
from typing import Any

from ..analysis.model import Handover
from ..decode.model import Message
from ..rules.model import SEVERITY_ORDER, CheckResult, Finding, Rule

TOOL_NAME = "pmipct-check"
#: Rows per table of the text report by default (``check --max-rows``; 0: no limit).  Here, not
#: in :mod:`.text`, so that ``check --format json`` does not import rich just for this number.
MAX_ROWS = 50

VERDICTS = ("pass", "fail", "warn", "inconclusive")
#: rich style per severity / verdict (the words themselves always carry the meaning).
SEVERITY_STYLE: Mapping[str, str] = {"error": "bold red", "warning": "yellow", "info": "cyan"}
VERDICT_STYLE: Mapping[str, str] = {
    "pass": "green", "fail": "bold red", "warn": "yellow", "inconclusive": "magenta",
}
#: Colours for the SVG/HTML renderings, one per severity (and for "inconclusive").
SEVERITY_COLOUR: Mapping[str, str] = {
    "error": "#c62828", "warning": "#e08a00", "info": "#1565c0", "inconclusive": "#7b1fa2",
}
#: Short marker printed beside an arrow when colour is off.
SEVERITY_MARK: Mapping[str, str] = {"error": "E", "warning": "W", "info": "I", "inconclusive": "?"}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(text: object) -> str:
    """Text from a capture, safe for a terminal, XML and HTML: control characters as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def markup(text: object) -> str:
    """:func:`clean`, then escaped for XML/HTML character data and attribute values."""
    from html import escape  # here: only the HTML and SVG renderings need it (~1 ms to import)

    return escape(clean(text), quote=True)


def version() -> str:
    from .. import __version__

    return __version__


def finding_sort_key(finding: Finding) -> tuple[Any, ...]:
    """Worst first, then by the first frame it cites, then by rule id."""
    first = finding.refs[0] if finding.refs else None
    return (
        finding.outcome != "fail",
        -SEVERITY_ORDER.get(finding.severity, 0),
        (first.file, first.frame) if first else ("", 0),
        finding.rule,
    )


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_sort_key)


def mark_kind(finding: Finding) -> str:
    """``error``/``warning``/``info`` for a failed check, ``inconclusive`` otherwise."""
    return finding.severity if finding.outcome == "fail" else "inconclusive"


def worst_kind(findings: Iterable[Finding]) -> str | None:
    order = {"inconclusive": 0, "info": 1, "warning": 2, "error": 3}
    kinds = [mark_kind(f) for f in findings]
    return max(kinds, key=order.__getitem__) if kinds else None


def findings_by_frame(findings: Iterable[Finding]) -> dict[tuple[str, int], list[Finding]]:
    """(file, frame) -> the findings citing that frame."""
    index: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for finding in findings:
        for ref in finding.refs:
            if finding not in index[(ref.file, ref.frame)]:
                index[(ref.file, ref.frame)].append(finding)
    return dict(index)


def findings_by_handover(result: CheckResult) -> dict[str | None, list[Finding]]:
    out: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in sorted_findings(result.findings):
        out[finding.handover].append(finding)
    return dict(out)


def rule_index(result: CheckResult) -> dict[str, Rule]:
    return {rule.id: rule for rule in result.rules}


def verdict_of(result: CheckResult, handover: Handover) -> str:
    return str(result.verdicts.get(handover.id, "inconclusive"))


def verdicts_of(result: CheckResult) -> list[str]:
    """:func:`verdict_of` each of ``result.handovers``, in their order (one C pass over thousands)."""
    handovers = result.handovers
    return list(map(str, map(result.verdicts.get, map(_id, handovers), repeat("inconclusive", len(handovers)))))


_id = attrgetter("id")


LADDER_MODES = ("failing", "all", "none")


def ladder_handovers(result: CheckResult, mode: str) -> list[Handover]:
    """``check --ladder failing|all|none``: the handovers whose ladders follow the report.

    Here rather than in :mod:`.ladder`, so that a report with no ladder to draw does not import
    the ladder module (~4 ms).
    """
    if mode not in LADDER_MODES:
        raise ValueError(f"--ladder {mode}: expected one of {', '.join(LADDER_MODES)}")
    if mode == "none":
        return []
    if mode == "all":
        return list(result.handovers)
    return list(compress(result.handovers, [v == "fail" for v in verdicts_of(result)]))


def where(file: str, frame: int) -> str:
    return f"{file}:{frame}"


def refs_text(finding: Finding, limit: int = 4) -> str:
    shown = [where(r.file, r.frame) for r in finding.refs[:limit]]
    more = len(finding.refs) - limit
    return ", ".join(shown) + (f" (+{more})" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# Messages summed up in one line
# ---------------------------------------------------------------------------------------------


def _flag(fields: Mapping[str, Any], name: str) -> bool | None:
    flags = fields.get("flags")
    if isinstance(flags, Mapping) and name in flags:
        return bool(flags[name])
    return None


def option(message: Message, key: str) -> Mapping[str, Any] | None:
    """The first option with ``key`` (``handoff``, ``mn_id``, ``hnp``, ...) of a message."""
    for opt in message.fields.get("options") or ():
        if isinstance(opt, Mapping) and opt.get("key") == key:
            return opt
    return None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _status(fields: Mapping[str, Any]) -> str | None:
    status = fields.get("status")
    if status is None:
        return None
    name = fields.get("status_name")
    return f"status={status}" + (f" ({name})" if name else "")


@dataclass(frozen=True, slots=True)
class Label:
    """A message in one line: ``name`` (``PBU``) and its key fields (``seq=7 lt=3600s``)."""

    name: str
    details: tuple[str, ...]

    def text(self) -> str:
        return clean(" ".join((self.name, *self.details)))


def message_label(message: Message) -> Label:
    """The message type and the few fields an engineer looks for first."""
    f = message.fields
    kind = message.type
    details: list[str] = []
    if kind in ("PBU", "BU", "PBA", "BA", "FBU", "FBack"):
        if kind in ("PBA", "BA", "FBack"):
            status = _status(f)
            if status:
                details.append(status)
        if "seq" in f:
            details.append(f"seq={f['seq']}")
        if "lifetime" in f:
            lifetime = f["lifetime"]
            details.append(f"lt={_number(lifetime)}s" + (" (de-reg)" if lifetime == 0 else ""))
        handoff = option(message, "handoff")
        if handoff is not None and "value" in handoff:
            details.append(f"HI={handoff['value']}")
    elif kind in ("CTD", "PCTD", "CTAR"):
        ack = _flag(f, "A")
        if ack is not None:
            details.append(f"A={int(ack)}")
        cdbs = f.get("cdbs")
        if isinstance(cdbs, list):
            details.append(f"CDBs={len(cdbs)}")
    elif kind == "CTDR":
        success = _flag(f, "S")
        if success is not None:
            details.append(f"S={int(success)}")
        statuses = f.get("statuses")
        if isinstance(statuses, list) and statuses:
            codes = sorted({str(s.get("status")) for s in statuses if isinstance(s, Mapping)})
            details.append("status=" + ",".join(codes))
    elif kind == "CT-Req":
        if "seq" in f:
            details.append(f"seq={f['seq']}")
        if "token" in f:
            details.append(f"token={f['token']}")
    elif kind in ("HI", "HAck"):
        if "seq" in f:
            details.append(f"seq={f['seq']}")
        if "code" in f:
            name = f.get("code_name")
            details.append(f"code={f['code']}" + (f" ({name})" if name else ""))
    elif kind in ("BRI", "BRA"):
        if "seq" in f:
            details.append(f"seq={f['seq']}")
        status = _status(f)
        if status:
            details.append(status)
    if message.warnings:
        details.append(f"({len(message.warnings)} warning{'s' if len(message.warnings) > 1 else ''})")
    return Label(kind, tuple(details))


def summary_counts(result: CheckResult) -> dict[str, Any]:
    """Counts every renderer reports in its summary."""
    verdicts = {v: 0 for v in VERDICTS}
    for verdict, count in Counter(verdicts_of(result)).items():  # others after these, as first seen
        verdicts[verdict] = verdicts.get(verdict, 0) + count
    by_severity = {"error": 0, "warning": 0, "info": 0}
    inconclusive = 0
    for finding in result.findings:
        if finding.outcome == "fail":
            by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
        else:
            inconclusive += 1
    return {
        "inputs": len(result.inputs),
        "frames": sum(i.frames for i in result.inputs),
        "messages": len(result.messages),
        "handovers": len(result.handovers),
        "verdicts": verdicts,
        "findings": {**by_severity, "inconclusive": inconclusive},
        "notices": len(result.notices),
        "vantage": sorted(result.vantage),
    }
