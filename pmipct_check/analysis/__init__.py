"""Analysis stage: decoded messages -> per-MN bindings and classified handovers.

Public API::

    analyze(messages, profile=DEFAULT_PROFILE) -> Analysis
    load_cases() -> dict[str, Case]        # rules/cases.toml, for classifier, rules and ladders
"""

from .analyze import analyze
from .cases import Case, CaseError, Order, Step, load_cases
from .model import CASES, Analysis, Binding, Exchange, Handover

__all__ = ["CASES", "Analysis", "Binding", "Case", "CaseError", "Exchange", "Handover", "Order", "Step",
           "analyze", "load_cases"]
