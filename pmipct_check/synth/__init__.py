"""Scenario -> capture: reference traces of the draft's handover cases and of named faults.

``synthesize(name_or_scenario, fault=..., mns=..., ...)`` gives a :class:`Trace`;
:func:`write_trace` puts it in a pcap or pcapng file with the chosen link type.
"""

from __future__ import annotations

from .build import Frame, Trace, build
from .builtin import BUILTINS, builtin_scenario
from .faults import FAULTS, apply_fault
from .output import FORMATS, LINKS, write_trace
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "BUILTINS", "FAULTS", "FORMATS", "LINKS", "Frame", "Scenario", "ScenarioError", "Trace",
    "apply_fault", "build", "builtin_scenario", "load_scenario", "synthesize", "write_trace",
]


def synthesize(scenario: str | Scenario, *, fault: str | None = None, mns: int = 1,
               transport: str | None = None, seed: int = 0, base_time: str | None = None) -> Trace:
    """Build the trace of a built-in scenario (by name) or of a loaded one, with an optional fault."""
    from dataclasses import replace

    from .scenario import validate

    if isinstance(scenario, str):
        sc = builtin_scenario(scenario, mns, transport or "ipv6")
    else:
        sc = scenario if transport is None else replace(scenario, transport=transport)
    if base_time is not None:
        sc = replace(sc, base_time=base_time)
    validate(sc)
    if fault:
        sc = apply_fault(sc, fault)
    return build(sc, seed)
