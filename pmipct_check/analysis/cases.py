"""The handover cases as data (``rules/cases.toml``): one definition for classifier, rules, ladders."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalogue import catalogue_file

ROLES = frozenset({"pmag", "nmag", "lma", "mn"})
EVENTS = frozenset({"ATT", "CR", "CA", "PHT"})
TRANSFERS = frozenset({"cxtp", "fmip", "none"})
_SIGNATURE_KEYS = frozenset(
    {"transfer", "first", "first_from", "first_vs_pbu", "first_vs_dereg", "pba_names_pmag"}
)
_STEP_KEYS = frozenset({"message", "also", "from", "to", "optional", "names", "event", "at"})
_CASE_KEYS = frozenset({"title", "spec", "initiator", "timing", "signature", "steps", "order"})


class CaseError(ValueError):
    """cases.toml cannot be used; the message names the file, the case and the key."""


@dataclass(frozen=True, slots=True)
class Step:
    """A message (or an event no capture shows) in the order the figure draws it."""

    message: str = ""  # PBU, PBA, CT-Req, CTD, ... ("" for an event)
    also: tuple[str, ...] = ()  # alternative message types (CTD or PCTD)
    src: str = ""  # role
    dst: str = ""
    optional: bool = False
    names: str = ""  # "pmag": this message conveys the pMAG's identity
    event: str = ""  # ATT, CR, CA, PHT
    at: str = ""

    @property
    def types(self) -> tuple[str, ...]:
        return (self.message, *self.also) if self.message else ()


@dataclass(frozen=True, slots=True)
class Order:
    """``first`` must precede ``then`` when both are seen; ``rule`` reports it."""

    first: str
    then: str
    rule: str


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    title: str
    spec: str
    initiator: str
    timing: str
    signature: Mapping[str, Any]
    steps: tuple[Step, ...]
    order: tuple[Order, ...] = ()
    alternatives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # type -> also-types

    def types_of(self, name: str) -> tuple[str, ...]:
        """Message types that stand for ``name`` in this case (CTD -> CTD, PCTD)."""
        return self.alternatives.get(name, (name,))


def _fail(path: str, where: str, expected: str, got: Any = None) -> CaseError:
    shown = "" if got is None else f", got {got!r}"
    return CaseError(f"{path}: {where}: expected {expected}{shown}")


def _text(path: str, where: str, value: Any, allowed: frozenset[str] | None = None) -> str:
    if not isinstance(value, str) or (allowed is not None and value not in allowed):
        raise _fail(path, where, "text" if allowed is None else " / ".join(sorted(allowed)), value)
    return value


def _step(path: str, where: str, raw: Any) -> Step:
    if not isinstance(raw, dict):
        raise _fail(path, where, "a table", raw)
    for key in raw:
        if key not in _STEP_KEYS:
            raise CaseError(f"{path}: {where}.{key}: unknown key (misspelt?)")
    if "event" in raw:
        return Step(event=_text(path, f"{where}.event", raw["event"], EVENTS),
                    at=_text(path, f"{where}.at", raw.get("at"), ROLES))
    if "message" not in raw:
        raise _fail(path, f"{where}.message", "a message type (or an event)")
    also = raw.get("also", [])
    if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
        raise _fail(path, f"{where}.also", "a list of message types", also)
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise _fail(path, f"{where}.optional", "true or false", optional)
    names = raw.get("names", "")
    if names not in ("", "pmag"):
        raise _fail(path, f"{where}.names", '"pmag"', names)
    return Step(
        message=_text(path, f"{where}.message", raw["message"]), also=tuple(also),
        src=_text(path, f"{where}.from", raw.get("from"), ROLES),
        dst=_text(path, f"{where}.to", raw.get("to"), ROLES), optional=optional, names=names,
    )


def _signature(path: str, where: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(path, where, "a table", raw)
    for key, value in raw.items():
        sub = f"{where}.{key}"
        if key not in _SIGNATURE_KEYS:
            raise CaseError(f"{path}: {sub}: unknown key (misspelt?)")
        if key == "transfer":
            _text(path, sub, value, TRANSFERS)
        elif key == "first" and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise _fail(path, sub, "a list of message types", value)
        elif key == "first_from":
            _text(path, sub, value, frozenset({"pmag", "nmag"}))
        elif key in ("first_vs_pbu", "first_vs_dereg"):
            _text(path, sub, value, frozenset({"before", "after"}))
        elif key == "pba_names_pmag" and not isinstance(value, bool):
            raise _fail(path, sub, "true or false", value)
    if "transfer" not in raw:
        raise _fail(path, f"{where}.transfer", "cxtp / fmip / none")
    return dict(raw)


def parse_cases(text: str, path: str = "rules/cases.toml") -> dict[str, Case]:
    """Validate and build the case table; every problem names file, case and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from None
    if data.get("version") != 1:
        raise _fail(path, "version", "1", data.get("version"))
    tables = data.get("cases")
    if not isinstance(tables, dict) or not tables:
        raise _fail(path, "cases", "a table of cases")
    cases: dict[str, Case] = {}
    for name, raw in tables.items():
        where = f"cases.{name}"
        if not isinstance(raw, dict):
            raise _fail(path, where, "a table", raw)
        for key in raw:
            if key not in _CASE_KEYS:
                raise CaseError(f"{path}: {where}.{key}: unknown key (misspelt?)")
        for key in ("title", "spec", "signature", "steps"):
            if key not in raw:
                raise _fail(path, f"{where}.{key}", "a value (missing)")
        steps_raw = raw["steps"]
        if not isinstance(steps_raw, list):
            raise _fail(path, f"{where}.steps", "a list of steps", steps_raw)
        steps = tuple(_step(path, f"{where}.steps[{i}]", s) for i, s in enumerate(steps_raw))
        order = []
        for i, item in enumerate(raw.get("order", [])):
            sub = f"{where}.order[{i}]"
            if not isinstance(item, dict) or set(item) != {"first", "then", "rule"}:
                raise _fail(path, sub, "a table with first, then, rule", item)
            order.append(Order(*(_text(path, f"{sub}.{k}", item[k]) for k in ("first", "then", "rule"))))
        alternatives = {s.message: s.types for s in steps if s.message}
        cases[name] = Case(
            name=name, title=_text(path, f"{where}.title", raw["title"]),
            spec=_text(path, f"{where}.spec", raw["spec"]),
            initiator=_text(path, f"{where}.initiator", raw.get("initiator", ""),
                            frozenset({"", "pmag", "nmag"})),
            timing=_text(path, f"{where}.timing", raw.get("timing", ""),
                         frozenset({"", "reactive", "proactive"})),
            signature=_signature(path, f"{where}.signature", raw["signature"]),
            steps=steps, order=tuple(order), alternatives=alternatives,
        )
    return cases


def load_cases() -> dict[str, Case]:
    """The catalogue's ``cases.toml``, validated: case name -> Case, in classification order.

    A check reads it in the analysis and again in the rule engine (and for ladders): the file is
    read each time, and parsed again only when its text differs from a recent parse's.
    """
    item = catalogue_file("cases.toml")
    return dict(_parsed_cases(item.read_text(encoding="utf-8"), f"rules/{item.name}"))


@functools.lru_cache(maxsize=4)
def _parsed_cases(text: str, path: str) -> dict[str, Case]:
    """:func:`parse_cases` by the file's text: its Cases are frozen, and callers get a dict of their own."""
    return parse_cases(text, path)
