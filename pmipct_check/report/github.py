"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding.

A capture has frames, not lines, so the annotation names the file and puts the frames in the
message; an inconclusive check is a ``::notice``.
"""

from __future__ import annotations

from typing import Any

from ..rules.model import CheckResult
from . import common

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    text = common.clean(text)  # tab, CR and LF stay (CR/LF are encoded below)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: CheckResult, **_: Any) -> str:
    lines = []
    for f in common.sorted_findings(result.findings):
        command = _COMMAND.get(f.severity, "notice") if f.outcome == "fail" else "notice"
        file = f.refs[0].file if f.refs else (result.inputs[0].file if result.inputs else "")
        title = f.rule + (" (inconclusive)" if f.outcome != "fail" else "")
        where = common.refs_text(f, limit=20)
        handover = f" [{f.handover}]" if f.handover else ""
        message = f"{f.message}{handover} (frames: {where}; {f.spec})"
        lines.append(f"::{command} file={_property(file)},title={_property(title)}::{_data(message)}")
    for n in result.notices:
        if n.severity in ("error", "warning"):
            lines.append(f"::{n.severity} file={_property(n.file)},title={_property(n.code)}::"
                         f"{_data(n.message + ' (' + n.where() + ')')}")
    return "".join(line + "\n" for line in lines)
