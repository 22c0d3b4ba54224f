"""The versioned JSON document (schema: ``schema.json`` beside this file).

Capture times are :class:`decimal.Decimal` epoch seconds with nine decimals; :func:`dumps`
writes them as JSON numbers digit for digit (``json`` would go through ``float`` and lose the
nanoseconds).  Bump :data:`DOCUMENT_VERSION` on any change that is not a pure addition.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..rules.model import CheckResult
from . import common, timings

DOCUMENT_VERSION = 1
#: Containers this shallow join each item's text at once: a document of 80k messages is held as
#: one string per record while it is written, not as millions of small ones (peak memory).
JOIN_LEVELS = 3


def dumps(value: Any, indent: int | None = 2) -> str:
    """JSON text where a Decimal is an exact number; otherwise what ``json.dumps`` writes."""
    parts: list[str] = []
    _encode(value, parts, indent, 0)
    return "".join(parts)


#: What ``json.dumps(text, ensure_ascii=False)`` does to a string, without making an encoder per call.
_encode_text = json.encoder.encode_basestring


def _scalar(value: bool | int | str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for None, bool, int and str, as json writes them."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_text(value)
    return int.__repr__(value)  # as json does for int subclasses (IntEnum) too


def _encode(value: Any, out: list[str], indent: int | None, level: int) -> None:
    # Exact-type fast paths first (str, int, dict, list, Decimal are nearly every value of a
    # report); anything else, subclasses included, takes the general branches below.
    cls = type(value)
    if cls is str:
        out.append(_encode_text(value))
    elif cls is int:
        out.append(int.__repr__(value))
    elif cls is dict:
        _mapping(value, out, indent, level)
    elif cls is list:
        _sequence(value, out, indent, level)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            out.append("null")
        else:
            out.append(_decimal_text(value))
    elif isinstance(value, float):
        out.append(json.dumps(value) if math.isfinite(value) else "null")
    elif value is None or isinstance(value, (bool, int, str)):
        out.append(_scalar(value))
    elif isinstance(value, Mapping):
        _mapping(value, out, indent, level)
    elif isinstance(value, (list, tuple, set, frozenset)):
        _sequence(sorted(value, key=str) if isinstance(value, (set, frozenset)) else value, out, indent, level)
    elif isinstance(value, bytes):
        out.append(json.dumps(value.hex()))
    else:
        out.append(json.dumps(str(value), ensure_ascii=False))


def _layout(indent: int | None, level: int) -> tuple[str, str, str]:
    """(before each item, before the closing bracket, between items) at ``level``."""
    if indent is None:
        return "", "", ", "
    return "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level), ","


def _mapping(value: Mapping[Any, Any], out: list[str], indent: int | None, level: int) -> None:
    if not value:
        out.append("{}")
        return
    inner, close, sep = _layout(indent, level)
    lead = "{" + inner
    between = sep + inner
    join = level < JOIN_LEVELS  # one string per finding/handover/message, not thousands of pieces
    for key, item in value.items():
        out.append(lead + _encode_text(str(key)) + ": ")
        lead = between
        _member(item, out, indent, level, join)
    out.append(close + "}")


def _sequence(value: Iterable[Any], out: list[str], indent: int | None, level: int) -> None:
    inner, close, sep = _layout(indent, level)
    lead = "[" + inner
    between = sep + inner
    join = level < JOIN_LEVELS
    empty = True
    for item in value:
        out.append(lead)
        lead = between
        empty = False
        _member(item, out, indent, level, join)
    out.append("[]" if empty else close + "]")


def _member(item: Any, out: list[str], indent: int | None, level: int, join: bool) -> None:
    """One member of a container; ``join``: as one string (one per finding/handover/message)."""
    if join:
        piece: list[str] = []
        _encode(item, piece, indent, level + 1)
        out.append("".join(piece))
    else:
        _encode(item, out, indent, level + 1)


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def to_document(result: CheckResult, include_messages: bool = False) -> dict[str, Any]:
    """The JSON document as Python data (Decimals where times are)."""
    handovers = []
    for handover in result.handovers:
        first = min((m.time for m in handover.messages), default=None)
        last = max((m.time for m in handover.messages), default=None)
        handovers.append({
            "id": handover.id,
            "mn": handover.mn,
            "case": handover.case,
            "case_reason": handover.case_reason,
            "pmag": handover.pmag,
            "nmag": handover.nmag,
            "lma": handover.lma,
            "verdict": common.verdict_of(result, handover),
            "vantage": sorted(handover.vantage),
            "start": first,
            "end": last,
            "frames": [
                {"file": m.file, "frame": m.frame, "time": m.time, "type": m.type,
                 "src": m.src, "dst": m.dst}
                for m in handover.messages
            ],
            "timings": {k: handover.timings[k] for k in timings.timing_keys([handover])},
        })
    findings = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "outcome": f.outcome,
            "message": f.message,
            "handover": f.handover,
            "refs": [{"file": r.file, "frame": r.frame} for r in f.refs],
            "spec": f.spec,
        }
        for f in common.sorted_findings(result.findings)
    ]
    document: dict[str, Any] = {
        "version": DOCUMENT_VERSION,
        "tool": {"name": common.TOOL_NAME, "version": common.version()},
        "inputs": [
            {"file": i.file, "frames": i.frames, "messages": i.messages, "notices": i.notices,
             "usable": i.usable}
            for i in result.inputs
        ],
        "vantage": sorted(result.vantage),
        "rules": [
            {"id": r.id, "title": r.title, "severity": r.severity, "spec": r.spec}
            for r in result.rules
        ],
        "handovers": handovers,
        "findings": findings,
        "notices": [n.to_json() for n in result.notices],
        "timing_stats": {k: s.to_json() for k, s in timings.timing_stats(result.handovers).items()},
        "summary": common.summary_counts(result),
    }
    if result.clocks:
        document["taps"] = [c.to_json() for c in result.clocks]
    if result.events:
        document["events"] = [e.to_json() for e in result.events]
    if include_messages:
        document["messages"] = [m.to_json() for m in result.messages]
    return document


def render(result: CheckResult, *, include_messages: bool = False, indent: int | None = 2,
           **_: Any) -> str:
    return dumps(to_document(result, include_messages), indent) + "\n"
