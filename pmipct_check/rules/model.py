"""What the rule stage hands on: one result model that every renderer reads (as ruff does)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..analysis.model import Binding, Handover
from ..capture.clock import ClockOffset
from ..decode.model import Message
from ..events import Event
from ..notices import Notice

Severity = Literal["error", "warning", "info"]
Outcome = Literal["fail", "inconclusive"]
Verdict = Literal["pass", "fail", "warn", "inconclusive"]
SEVERITY_ORDER: Mapping[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Ref:
    """A frame that proves a finding."""

    file: str
    frame: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as the catalogue (rules/*.toml) states it."""

    id: str  # stable: "PMIP-P7", "CXTP-C8", "DRAFT-D2", ...
    title: str
    severity: Severity
    spec: str  # "draft-liebsch-netlmm-proxymip6ct-00 section 5.1", "RFC 5213 section 5.3.6"
    rationale: str
    check: str  # name of the check function in the engine that implements it
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one piece of evidence."""

    rule: str
    severity: Severity
    message: str
    refs: tuple[Ref, ...]
    spec: str
    handover: str | None = None  # Handover.id
    outcome: Outcome = "fail"  # "inconclusive": the capture cannot show it from its vantage


@dataclass(frozen=True, slots=True)
class InputInfo:
    file: str
    frames: int
    messages: int
    notices: int
    usable: bool = True


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything a renderer may show; built by the engine, never changed after."""

    inputs: tuple[InputInfo, ...]
    messages: tuple[Message, ...]
    bindings: tuple[Binding, ...]
    handovers: tuple[Handover, ...]
    verdicts: Mapping[str, Verdict]  # Handover.id -> verdict
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...]
    rules: tuple[Rule, ...]  # the rules that ran (after --select/--ignore)
    vantage: frozenset[str] = frozenset()
    clocks: tuple[ClockOffset, ...] = ()  # several taps: each file's clock offset and how it was found
    events: tuple[Event, ...] = ()  # records from an event log, in time order
