"""Event logs: what no capture shows (the draft's PHT and ATT triggers), as time-stamped records.

A log is JSON lines or CSV with the columns ``time, node, event, mn, target``::

    {"time": "2024-01-01T00:00:01.250Z", "node": "mag1", "event": "PHT", "mn": "mn1@lab.example", "target": "mag2"}
    time,node,event,mn,target
    1704067201.250,mag2,ATT,mn1@lab.example,

``time`` is epoch seconds or RFC 3339 (a zone is required), on the reference clock (the first
capture's, or the one the clock offsets are relative to).  ``mn`` is the MN identifier as the
reports show it (an NAI as is).  Blank lines and lines starting with ``#`` are skipped.  A bad
line is an :class:`EventLogError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .decode.model import epoch_text

COLUMNS = ("time", "node", "event", "mn", "target")
REQUIRED = ("time", "node", "event")
NS = 1_000_000_000


class EventLogError(ValueError):
    """A line of an event log that cannot be read: ``file:line: what``."""


@dataclass(frozen=True, slots=True)
class Event:
    """One logged event: when (epoch ns, reference clock), where, what, for which MN, towards whom."""

    time_ns: int
    node: str
    event: str  # PHT, ATT, ... as logged (upper case)
    mn: str = ""
    target: str = ""
    file: str = ""
    line: int = 0

    @property
    def time(self) -> Decimal:
        return Decimal(epoch_text(self.time_ns))

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "node": self.node, "event": self.event, "mn": self.mn or None,
                "target": self.target or None, "file": self.file, "line": self.line}


def parse_time(value: object) -> int:
    """Epoch seconds (number or text) or RFC 3339 with a zone -> epoch ns; ValueError otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"time {value!r} is not a time")
    if isinstance(value, (int, float)):
        value = repr(value)
    text = str(value).strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        seconds = None
    if seconds is not None:
        if not seconds.is_finite():
            raise ValueError(f"time {text!r} is not a time")
        return int((seconds * NS).to_integral_value())
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {text!r}: expected epoch seconds or RFC 3339") from None
    if parsed.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone (add Z or +hh:mm)")
    whole = int(parsed.timestamp()) if parsed.microsecond == 0 else int(parsed.replace(microsecond=0).timestamp())
    return whole * NS + parsed.microsecond * 1000


def _event(row: dict[str, Any], path: str, line: int) -> Event:
    missing = [c for c in REQUIRED if not str(row.get(c) or "").strip()]
    if missing:
        raise EventLogError(f"{path}:{line}: missing {', '.join(missing)} (columns: {', '.join(COLUMNS)})")
    unknown = sorted(set(row) - set(COLUMNS))
    if unknown:
        raise EventLogError(f"{path}:{line}: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    try:
        time_ns = parse_time(row["time"])
    except ValueError as exc:
        raise EventLogError(f"{path}:{line}: {exc}") from None
    text = {c: str(row.get(c) or "").strip() for c in COLUMNS[1:]}
    return Event(time_ns, text["node"], text["event"].upper(), text["mn"], text["target"], path, line)


def parse_events(text: str, path: str) -> tuple[Event, ...]:
    """Events of a log's text (JSON lines if its first record starts with ``{``, else CSV), by time."""
    rows = [(n, raw) for n, raw in enumerate(text.splitlines(), 1)
            if raw.strip() and not raw.lstrip().startswith("#")]
    events: list[Event] = []
    if rows and rows[0][1].lstrip().startswith("{"):
        for n, raw in rows:
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise EventLogError(f"{path}:{n}: not JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise EventLogError(f"{path}:{n}: expected a JSON object with {', '.join(COLUMNS)}")
            events.append(_event(record, path, n))
    else:
        header = COLUMNS
        for i, (n, raw) in enumerate(rows):
            try:
                cells = next(csv.reader(io.StringIO(raw)))
            except csv.Error as exc:
                raise EventLogError(f"{path}:{n}: not CSV: {exc}") from None
            cells = [c.strip() for c in cells]
            if i == 0 and cells and cells[0].lower() == "time":
                header = tuple(c.lower() for c in cells)
                continue
            if len(cells) > len(header):
                raise EventLogError(f"{path}:{n}: {len(cells)} cells, expected at most {len(header)} "
                                    f"({', '.join(header)})")
            events.append(_event(dict(zip(header, cells, strict=False)), path, n))
    return tuple(sorted(events, key=lambda e: (e.time_ns, e.line)))


def read_events(path: str) -> tuple[Event, ...]:
    """The events of the log at ``path``; EventLogError when it cannot be read or a line is bad."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise EventLogError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise EventLogError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_events(text, path)
