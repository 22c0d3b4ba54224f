"""The versioned JSON document (schema: ``schema.json`` beside this file).

Capture times are exact epoch seconds with up to nine decimals: :func:`to_document` holds them
as :class:`decimal.Decimal`, and everything here writes them as JSON numbers digit for digit
(``json`` would go through ``float`` and lose the nanoseconds).  Bump :data:`DOCUMENT_VERSION`
on any change that is not a pure addition.

:func:`write` (what ``check --format json`` uses) streams the document to a file one record at a
time (a report of 80k messages is never one string); :func:`render` is the same text as a
string.  Their layout: the top level's keys and the items of its arrays and objects are indented,
and each item is one line: a handover with its frames, a finding, a notice, one timing's
statistics.  A record per line reads and diffs well, and the lines come from the json module's C
encoder (a handover, whose frames hold the exact times, from a template) instead of an indenting
encoder in Python, which cost ~8 us per message on a load test.  :func:`dumps` writes any value
indented throughout; :func:`one_line` and :func:`message_line` write the same text as
``dumps(value, indent=None)``, faster.
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, TextIO

from ..analysis.model import Handover
from ..decode.model import Message, epoch_text
from ..rules.model import CheckResult, Finding
from . import common, timings

DOCUMENT_VERSION = 1
_time = attrgetter("time_ns")


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


def _epoch_text(ns: int) -> str:
    """Capture nanoseconds as exact epoch seconds: what :func:`_decimal_text` writes for the same
    time as a Decimal, without making one per frame."""
    if ns < 0:
        return _trimmed(epoch_text(ns))
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}".rstrip("0") if nanos else str(seconds)


def _epoch_texts(times: list[int]) -> list[str]:
    """:func:`_epoch_text` of each of ``times``: for times from 1 s after the epoch on (every capture's),
    cut from the integer's digits in one comprehension, without a Python call per time (a handover's
    frames: 57k times on the 100k bench)."""
    if not times or min(times) < 1_000_000_000:
        return list(map(_epoch_text, times))
    # "1700000000.120000000" -> "1700000000.12"; "1700000000.000000000" -> "1700000000"
    return [(digits[:-9] + "." + digits[-9:]).rstrip("0").rstrip(".") for digits in map(str, times)]


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to the exact encoder")


def _c_encoder() -> Callable[[Any], str]:
    """``json``'s C encoder, writing what :func:`dumps` writes on one line for plain JSON data
    (dict with str keys, list, tuple, str, int, finite float, bool, None); it raises TypeError or
    ValueError for anything else (a Decimal, a NaN)."""
    make = json.encoder.c_make_encoder
    if make is None:  # an interpreter without the C accelerator: json's Python encoder, same text
        return json.JSONEncoder(ensure_ascii=False, check_circular=False, allow_nan=False,
                                separators=(", ", ": "), default=_refuse).encode
    encoder = make(None, _refuse, _encode_text, None, ": ", ", ", False, False, False)
    return lambda value: "".join(encoder(value, 0))


_c_one_line = _c_encoder()


def one_line(value: Any) -> str:
    """``dumps(value, indent=None)``: by the C encoder when ``value`` is plain JSON data."""
    try:
        return _c_one_line(value)
    except (TypeError, ValueError):  # a Decimal, a non-finite float, a type json does not know
        return dumps(value, None)


def _decimal_time(ns: int) -> Decimal:
    return Decimal(epoch_text(ns))


def to_document(result: CheckResult, include_messages: bool = False) -> dict[str, Any]:
    """The JSON document as Python data (Decimals where times are)."""
    document = _document(result, include_messages, lambda h: _handover(result, h), _finding, Message.to_json)
    for key in ("handovers", "findings", "messages"):
        if key in document:
            document[key] = list(document[key])
    return document


def _document(result: CheckResult, include_messages: bool, handover: Callable[[Handover], Any],
              finding: Callable[[Finding], Any], message: Callable[[Message], Any]) -> dict[str, Any]:
    """The document with ``handovers``, ``findings`` and ``messages`` as iterators of what
    ``handover``, ``finding`` and ``message`` make of each record (data, or lines of JSON)."""
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
        "handovers": map(handover, result.handovers),
        "findings": map(finding, common.sorted_findings(result.findings)),
        "notices": [n.to_json() for n in result.notices],
        "timing_stats": {k: s.to_json() for k, s in timings.timing_stats(result.handovers).items()},
        "summary": common.summary_counts(result),
    }
    if result.clocks:
        document["taps"] = [c.to_json() for c in result.clocks]
    if result.events:
        document["events"] = [e.to_json() for e in result.events]
    if include_messages:
        document["messages"] = map(message, result.messages)
    return document


def _handover(result: CheckResult, handover: Handover) -> dict[str, Any]:
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
        "start": _decimal_time(min(m.time_ns for m in messages)) if messages else None,
        "end": _decimal_time(max(m.time_ns for m in messages)) if messages else None,
        "frames": [
            {"file": m.file, "frame": m.frame, "time": _decimal_time(m.time_ns), "type": m.type,
             "src": m.src, "dst": m.dst}
            for m in messages
        ],
        "timings": {k: handover.timings[k] for k in timings.timing_keys([handover])},
    }


class _Texts(dict[Any, str]):
    """value -> its JSON text, for values that repeat from record to record (file name, message
    types, addresses, cases, verdicts, vantage sets: a frozenset is written sorted)."""

    def __missing__(self, value: Any) -> str:
        text = self[value] = one_line(value)
        return text


def _string(value: str) -> str:
    return _encode_text(value) if type(value) is str else one_line(value)


class _Lines:
    """The handovers and findings of one document as lines of JSON, for :func:`write`."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.texts = _Texts()
        #: a frame's text before its number, per file; after its time, per (type, src, dst)
        self.heads: dict[str, str] = {}
        self.tails: dict[tuple[str, str, str], str] = {}
        #: the timings' keys as the handover has them -> how the document writes them
        self.orders: dict[tuple[str, ...], _TimingsLayout] = {}

    def handover(self, handover: Handover) -> str:
        """:func:`_handover`'s record, the same keys in the same order, by a template (handovers
        and their frames are most of a load test's document): repeated values' texts are made
        once (a frame's file, and its type and addresses, are one text each), times come from
        :func:`_epoch_texts`, timings from :class:`_TimingsLayout`."""
        texts, heads, tails = self.texts, self.heads, self.tails
        messages = handover.messages
        times = list(map(_time, messages))
        stamps = _epoch_texts(times)
        frames = []
        for m, stamp in zip(messages, stamps, strict=True):
            head = heads.get(m.file)
            if head is None:
                head = heads[m.file] = f'{{"file": {texts[m.file]}, "frame": '
            tail = tails.get((m.type, m.src, m.dst))
            if tail is None:
                tail = tails[m.type, m.src, m.dst] = (
                    f', "type": {texts[m.type]}, "src": {texts[m.src]}, "dst": {texts[m.dst]}}}')
            frames.append(f'{head}{m.frame}, "time": {stamp}{tail}')
        start = stamps[times.index(min(times))] if times else "null"  # the frames' texts: no new ones
        end = stamps[times.index(max(times))] if times else "null"
        verdict = common.verdict_of(self.result, handover)
        return (
            f'{{"id": {_string(handover.id)}, "mn": {_string(handover.mn)}, "case": {texts[handover.case]}, '
            f'"case_reason": {_string(handover.case_reason)}, "pmag": {texts[handover.pmag]}, '
            f'"nmag": {texts[handover.nmag]}, "lma": {texts[handover.lma]}, "verdict": {texts[verdict]}, '
            f'"vantage": {texts[frozenset(handover.vantage)]}, "start": {start}, "end": {end}, '
            f'"frames": [{", ".join(frames)}], "timings": {self.timings(handover.timings)}}}'
        )

    def finding(self, finding: Finding) -> str:
        """``one_line(_finding(finding))`` by a template: rule, severity, outcome, spec and the
        refs' files repeat from finding to finding and are written once (~2.5x faster)."""
        texts = self.texts
        refs = ", ".join([
            f'{{"file": {texts[r.file]}, "frame": {r.frame if type(r.frame) is int else one_line(r.frame)}}}'
            for r in finding.refs
        ])
        return (
            f'{{"rule": {texts[finding.rule]}, "severity": {texts[finding.severity]}, '
            f'"outcome": {texts[finding.outcome]}, "message": {_string(finding.message)}, '
            f'"handover": {_string(finding.handover)}, "refs": [{refs}], "spec": {texts[finding.spec]}}}'
        )

    def timings(self, values: Mapping[str, float]) -> str:
        keys = tuple(values)
        layout = self.orders.get(keys)
        if layout is None:
            layout = self.orders[keys] = _TimingsLayout(timings.ordered_keys(keys))
        return layout.line(values)


class _TimingsLayout:
    """A handover's timings as one JSON object, its keys in the document's order, for one
    sequence of keys (a capture's handovers show a handful): finite floats go into a template,
    each written as ``str`` writes it (``float.__repr__``, as json does); anything else (an int,
    a bool, None, NaN, an infinity, a float subclass) takes :func:`one_line`."""

    def __init__(self, order: list[str]) -> None:
        self.order = order
        self.get = itemgetter(*order) if len(order) > 1 else None
        self.template = ("{" + ", ".join(_encode_text(k).replace("%", "%%") + ": %s" for k in order) + "}"
                         if all(type(k) is str for k in order) else None)  # else json's way with keys

    def line(self, values: Mapping[str, float]) -> str:
        order = self.order
        got = self.get(values) if self.get is not None else tuple(values[k] for k in order)
        if self.template is None:
            return one_line({k: values[k] for k in order})
        for value in got:
            if type(value) is not float or value - value != 0.0:  # not a float, or NaN / infinite
                return one_line({k: values[k] for k in order})
        return self.template % got


def message_line(message: Message) -> str:
    """``dumps(message.to_json(), indent=None)``: its exact ``time`` written here, the rest by the C
    encoder (~3x faster; one JSON line per message)."""
    items = list(message.to_json().items())
    at = next((i for i, (key, _) in enumerate(items) if key == "time"), None)
    if at is None:
        return one_line(dict(items))
    members = (one_line(dict(items[:at]))[1:-1], f'"time": {_epoch_text(message.time_ns)}',
               one_line(dict(items[at + 1 :]))[1:-1])
    return "{" + ", ".join(member for member in members if member) + "}"


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
    """The document (and a final newline) to ``out``, a record at a time, laid out as the module
    says (``indent`` spaces a level; None: all on one line)."""
    lines = _Lines(result)
    document = _document(result, include_messages, lines.handover, lines.finding, message_line)
    outer, inner, sep = ("", "", ", ") if indent is None else (
        "\n" + " " * indent, "\n" + " " * (2 * indent), ",")
    lead = "{" + outer
    for key, value in document.items():
        out.write(lead + _encode_text(key) + ": ")
        lead = sep + outer
        if isinstance(value, Iterator):  # the records, already lines
            _write_lines(out, value, "[]", inner, sep, outer)
        elif type(value) is list:
            _write_lines(out, map(one_line, value), "[]", inner, sep, outer)
        elif type(value) is dict:
            _write_lines(out, (_encode_text(str(k)) + ": " + one_line(v) for k, v in value.items()), "{}",
                         inner, sep, outer)
        else:
            out.write(one_line(value))
    out.write("}\n" if indent is None else "\n}\n")


def _write_lines(out: TextIO, lines: Iterable[str], brackets: str, lead: str, sep: str, close: str) -> None:
    """An array or object of the top level: each of ``lines`` after ``lead``, the first after
    ``brackets[0]``, the rest after ``sep``; ``close`` before ``brackets[1]``."""
    before = brackets[0] + lead
    empty = True
    for line in lines:
        out.write(before + line)
        before = sep + lead
        empty = False
    out.write(brackets if empty else close + brackets[1])


def render(result: CheckResult, *, include_messages: bool = False, indent: int | None = 2,
           **_: Any) -> str:
    text = io.StringIO()
    write(result, text, include_messages=include_messages, indent=indent)
    return text.getvalue()
