"""The versioned JSON document (schema: ``schema.json`` beside this file).

Capture times are :class:`decimal.Decimal` epoch seconds with nine decimals; :func:`dumps`
writes them as JSON numbers digit for digit (``json`` would go through ``float`` and lose the
nanoseconds).  Bump :data:`DOCUMENT_VERSION` on any change that is not a pure addition.

:func:`write` streams the document to a file one record at a time (what ``check --format json``
uses: a report of 80k messages is never one string); :func:`render` is the same text as a string.
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TextIO

from ..analysis.model import Handover
from ..decode.model import epoch_text
from ..rules.model import CheckResult, Finding
from . import common, timings

DOCUMENT_VERSION = 1


class Epoch(int):
    """A capture time in integer nanoseconds that :func:`dumps` writes as exact epoch seconds.

    The streaming writer uses it where :func:`to_document` has a Decimal: the same digits
    without parsing and formatting a Decimal per frame.
    """

    __slots__ = ()


def _epoch_text(ns: int) -> str:
    """What :func:`_decimal_text` writes for the same time as a Decimal."""
    return _trimmed(epoch_text(ns))


def dumps(value: Any, indent: int | None = 2, level: int = 0) -> str:
    """JSON text where a Decimal is an exact number; otherwise what ``json.dumps`` writes.

    ``level``: the nesting depth the value sits at (its indentation inside a larger document).
    """
    parts: list[str] = []
    _encode(value, parts, indent, level)
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
    elif cls is Epoch:
        out.append(_epoch_text(value))
    elif cls is float:
        out.append(float.__repr__(value) if math.isfinite(value) else "null")
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


@functools.cache
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
    for key, item in value.items():
        head = lead + _encode_text(str(key)) + ": "
        lead = between
        cls = type(item)  # strings and ints inline: most values of a report are one of them
        if cls is str:
            out.append(head + _encode_text(item))
        elif cls is int:
            out.append(head + int.__repr__(item))
        else:
            out.append(head)
            _encode(item, out, indent, level + 1)
    out.append(close + "}")


def _sequence(value: Iterable[Any], out: list[str], indent: int | None, level: int) -> None:
    inner, close, sep = _layout(indent, level)
    lead = "[" + inner
    between = sep + inner
    empty = True
    for item in value:
        out.append(lead)
        lead = between
        empty = False
        _encode(item, out, indent, level + 1)
    out.append("[]" if empty else close + "]")


def _decimal_text(value: Decimal) -> str:
    return _trimmed(format(value, "f"))


def _trimmed(text: str) -> str:
    """A fixed-point number's text without trailing zeros after the point (nor a bare point)."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _decimal_time(ns: int) -> Decimal:
    return Decimal(epoch_text(ns))


def to_document(result: CheckResult, include_messages: bool = False) -> dict[str, Any]:
    """The JSON document as Python data (Decimals where times are)."""
    document = _document(result, include_messages, _decimal_time)
    for key in ("handovers", "findings", "messages"):
        if key in document:
            document[key] = list(document[key])
    return document


def _document(result: CheckResult, include_messages: bool, time: Callable[[int], Any]) -> dict[str, Any]:
    """The document with ``handovers``, ``findings`` and ``messages`` as iterators (made as written).

    ``time`` turns capture nanoseconds into the value written (a Decimal, or an :class:`Epoch`).
    """
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
        "handovers": (_handover(result, h, time) for h in result.handovers),
        "findings": (_finding(f) for f in common.sorted_findings(result.findings)),
        "notices": [n.to_json() for n in result.notices],
        "timing_stats": {k: s.to_json() for k, s in timings.timing_stats(result.handovers).items()},
        "summary": common.summary_counts(result),
    }
    if result.clocks:
        document["taps"] = [c.to_json() for c in result.clocks]
    if result.events:
        document["events"] = [e.to_json() for e in result.events]
    if include_messages:
        document["messages"] = (m.to_json() for m in result.messages)
    return document


def _handover(result: CheckResult, handover: Handover, time: Callable[[int], Any]) -> dict[str, Any]:
    messages = handover.messages
    return {
        "id": handover.id,
        "mn": handover.mn,
        "case": handover.case,
        "case_reason": handover.case_reason,
        "pmag": handover.pmag,
        "nmag": handover.nmag,
        "lma": handover.lma,
        "verdict": common.verdict_of(result, handover),
        "vantage": sorted(handover.vantage),
        "start": time(min(m.time_ns for m in messages)) if messages else None,
        "end": time(max(m.time_ns for m in messages)) if messages else None,
        "frames": [
            {"file": m.file, "frame": m.frame, "time": time(m.time_ns), "type": m.type,
             "src": m.src, "dst": m.dst}
            for m in messages
        ],
        "timings": {k: handover.timings[k] for k in timings.timing_keys([handover])},
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity,
        "outcome": f.outcome,
        "message": f.message,
        "handover": f.handover,
        "refs": [{"file": r.file, "frame": r.frame} for r in f.refs],
        "spec": f.spec,
    }


def write(result: CheckResult, out: TextIO, *, include_messages: bool = False, indent: int | None = 2,
          **_: Any) -> None:
    """The document (and a final newline) to ``out``, one handover/finding/message at a time."""
    inner, close, sep = _layout(indent, 0)
    lead = "{" + inner
    for key, value in _document(result, include_messages, Epoch).items():
        out.write(lead + _encode_text(key) + ": ")
        lead = sep + inner
        if isinstance(value, Iterator):
            _write_sequence(value, out, indent)
        else:
            out.write(dumps(value, indent, 1))
    out.write(close + "}\n")


def _write_sequence(items: Iterator[Any], out: TextIO, indent: int | None) -> None:
    """A top-level array, each item written as soon as it is encoded (as :func:`_sequence` lays it out)."""
    inner, close, sep = _layout(indent, 1)
    lead = "[" + inner
    empty = True
    for item in items:
        out.write(lead + dumps(item, indent, 2))
        lead = sep + inner
        empty = False
    out.write("[]" if empty else close + "]")


def render(result: CheckResult, *, include_messages: bool = False, indent: int | None = 2,
           **_: Any) -> str:
    text = io.StringIO()
    write(result, text, include_messages=include_messages, indent=indent)
    return text.getvalue()
