"""``--select`` / ``--ignore`` / severity overrides, with ruff's prefix semantics.

A selector matches a rule id when it equals the id or is a prefix of it that ends on a
boundary: ``CXTP`` and ``CXTP-C`` select every CXTP rule, ``CXTP-C1`` selects CXTP-C1 but not
CXTP-C10.  ``ALL`` selects everything.  Where a rule is both selected and ignored, the longer
(more specific) selector wins; on a tie, ignore wins.  A selector that matches no rule is an
error, not silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .model import SEVERITY_ORDER, Rule


class SelectionError(ValueError):
    """An unknown rule id or prefix, or a bad severity override."""


def matches(selector: str, rule_id: str) -> bool:
    sel, rid = selector.strip().upper(), rule_id.upper()
    if sel == "ALL" or sel == rid:
        return True
    if not sel or not rid.startswith(sel):
        return False
    return not (sel[-1].isdigit() and rid[len(sel)].isdigit()) and not (
        sel[-1].isalpha() and rid[len(sel)].isalpha()
    )


def _split(selectors: Iterable[str]) -> list[str]:
    return [s.strip() for item in selectors for s in str(item).split(",") if s.strip()]


def _check_known(selectors: list[str], rules: Sequence[Rule], option: str) -> None:
    for sel in selectors:
        if not any(matches(sel, r.id) for r in rules):
            known = sorted({r.id.split("-")[0] for r in rules})
            raise SelectionError(
                f"{option} {sel}: no rule has this id or prefix (groups: {', '.join(known)}; "
                "`pmipct-check rules` lists them)")


def _best(selectors: list[str], rule_id: str) -> int:
    """Length of the most specific matching selector; -1 when none matches."""
    lengths = [0 if s.upper() == "ALL" else len(s) for s in selectors if matches(s, rule_id)]
    return max(lengths, default=-1)


def select_rules(rules: Sequence[Rule], select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """The rules that run, in catalogue order."""
    chosen, dropped = _split(select), _split(ignore)
    _check_known(chosen, rules, "--select")
    _check_known(dropped, rules, "--ignore")
    out = []
    for rule in rules:
        take = _best(chosen, rule.id) if chosen else 0
        drop = _best(dropped, rule.id)
        if take >= 0 and drop < take:
            out.append(rule)
    return tuple(out)


def apply_overrides(rules: Sequence[Rule], overrides: Mapping[str, str] | None) -> tuple[Rule, ...]:
    """Rules with their severity replaced where ``overrides`` (selector -> severity) says so."""
    if not overrides:
        return tuple(rules)
    from dataclasses import replace

    for sel, severity in overrides.items():
        if severity not in SEVERITY_ORDER:
            raise SelectionError(f"severity override {sel}={severity}: expected error, warning or info")
    _check_known(list(overrides), rules, "severity override")
    out = []
    for rule in rules:
        best = max(((len(s), sev) for s, sev in overrides.items() if matches(s, rule.id)), default=None)
        out.append(replace(rule, severity=best[1]) if best else rule)  # type: ignore[arg-type]
    return tuple(out)
