"""Check functions by name: what a catalogue rule's ``check`` key refers to.

A check is ``fn(ctx: Context, rule: Rule) -> Iterable[Hit]``; it reads its thresholds from
``rule.params`` and the profile's timers, never from module globals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from ..context import Context, Hit
from ..model import Rule
from . import cxtp, draft, fho, notices, pmip

CheckFn = Callable[[Context, Rule], Iterable[Hit]]

CHECKS: Mapping[str, CheckFn] = MappingProxyType(
    {name: fn for module in (notices, draft, cxtp, pmip, fho) for name, fn in module.CHECKS.items()}
)
