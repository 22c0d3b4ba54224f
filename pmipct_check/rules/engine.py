"""The rule engine: run the selected catalogue rules over an analysis, judge each handover.

Public API::

    run_rules(analysis, notices, profile, select=(), ignore=(), severity_overrides=None) -> CheckResult
    exceeds(result, fail_on="error") -> bool
    load_rules() -> tuple[Rule, ...]       # the shipped catalogue, validated against CHECKS
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import starmap
from operator import attrgetter

from ..analysis.cases import load_cases
from ..analysis.evidence import is_pre_rfc
from ..analysis.model import Analysis
from ..collector import paused
from ..decode.model import Message
from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .catalogue import load_catalogue
from .checks import CHECKS
from .context import Context, Hit
from .model import SEVERITY_ORDER, CheckResult, Finding, InputInfo, Ref, Rule, Verdict
from .selection import apply_overrides, select_rules

FAIL_LEVELS = ("error", "warning", "info", "never")
_file, _frame, _warnings = attrgetter("file"), attrgetter("frame"), attrgetter("warnings")


def load_rules() -> tuple[Rule, ...]:
    return load_catalogue(CHECKS)


def refs(evidence: Iterable[Message | Notice]) -> tuple[Ref, ...]:
    """Every (file, frame) that shows the evidence, each once, in the order given."""
    where: dict[tuple[str, int], None] = {}  # insertion-ordered set of (file, frame)
    for item in evidence:
        if isinstance(item, Message):
            where[item.file, item.frame] = None
            for file, frame in item.observations:
                where[file, frame] = None
        else:
            where[item.file, item.frame if item.frame is not None else 0] = None
    return tuple(starmap(Ref, where))


def _finding(rule: Rule, hit: Hit, ctx: Context) -> Finding:
    handover = hit.handover
    if handover is None and hit.per_handover:
        shown = [m if isinstance(m, Message) else ctx.message_at(m.file, m.frame) for m in hit.evidence]
        handover = next((h for m in shown if m is not None and (h := ctx.handover_of(m))), None)
    severity = rule.severity
    cap = rule.params.get("cap_to_notice")
    if cap:
        notice_levels = [SEVERITY_ORDER[n.severity] for n in hit.evidence if isinstance(n, Notice)]
        if notice_levels and min(notice_levels) < SEVERITY_ORDER[severity]:
            severity = next(s for s, v in SEVERITY_ORDER.items() if v == min(notice_levels))  # type: ignore[assignment]
    return Finding(rule.id, severity, hit.message, refs(hit.evidence), rule.spec, handover, hit.outcome)


def _hits(rule: Rule, ctx: Context) -> list[Hit] | Finding:
    """The rule's hits, or the finding that says its check could not run."""
    check: Callable[[Context, Rule], Iterable[Hit]] = CHECKS[rule.check]
    skip_pre_rfc = bool(rule.params.get("skip_pre_rfc"))
    try:
        return [hit for hit in check(ctx, rule)
                if not (skip_pre_rfc and any(isinstance(m, Message) and is_pre_rfc(m) for m in hit.evidence))]
    except Exception as exc:
        return _could_not_run(rule, exc)


def _could_not_run(rule: Rule, exc: Exception) -> Finding:
    return Finding(rule.id, rule.severity, f"check {rule.check} could not run: {type(exc).__name__}: {exc}",
                   (), rule.spec, None, "inconclusive")


def _findings(rule: Rule, hits: list[Hit] | Finding, ctx: Context) -> list[Finding]:
    if isinstance(hits, Finding):
        return [hits]
    try:
        return [_finding(rule, hit, ctx) for hit in hits]
    except Exception as exc:
        return [_could_not_run(rule, exc)]


def _run_one(rule: Rule, ctx: Context) -> list[Finding]:
    return _findings(rule, _hits(rule, ctx), ctx)


def verdict(findings: Iterable[Finding]) -> Verdict:
    """fail (an error) > warn (a warning) > inconclusive (something could not be seen) > pass."""
    worst: Verdict = "pass"
    for f in findings:
        if f.outcome == "fail" and f.severity == "error":
            return "fail"
        if f.outcome == "fail" and f.severity == "warning":
            worst = "warn"
        elif f.outcome == "inconclusive" and worst == "pass":
            worst = "inconclusive"
    return worst


def _inputs(analysis: Analysis, notices: Sequence[Notice]) -> tuple[InputInfo, ...]:
    files: dict[str, list[int]] = {}
    messages = analysis.messages
    if len(set(map(_file, messages))) == 1:  # one capture (the usual run): its sums in C, no loop in Python
        files[messages[0].file] = [max(0, max(map(_frame, messages))), len(messages),
                                   sum(map(len, map(_warnings, messages))), 1]
    else:
        for m in messages:
            entry = files.setdefault(m.file, [0, 0, 0, 1])
            entry[0] = max(entry[0], m.frame)
            entry[1] += 1
            entry[2] += len(m.warnings)
    for n in notices:
        entry = files.setdefault(n.file, [0, 0, 0, 1])
        entry[0] = max(entry[0], n.frame or 0)
        entry[2] += 1
        if n.frame is None and n.severity == "error" and entry[1] == 0:
            entry[3] = 0
    return tuple(InputInfo(f, v[0], v[1], v[2], bool(v[3])) for f, v in files.items())


def _judge(ctx: Context, rules: Sequence[Rule]) -> list[Finding]:
    """Every rule's findings, in rule order; the Context and its memos go when this returns.

    Every rule's hits come first, then the findings: the messages whose handover a finding must
    look up are known by then, and the Context locates those alone (:meth:`Context.locate`), not
    every message of the capture (an index of 84k messages held 10 MB).
    """
    hits = [(rule, _hits(rule, ctx)) for rule in rules]
    ctx.locate(m for _, found in hits if not isinstance(found, Finding) for hit in found
               if hit.handover is None and hit.per_handover for m in hit.evidence if isinstance(m, Message))
    return [f for rule, found in hits for f in _findings(rule, found, ctx)]


def run_rules(
    analysis: Analysis, notices: Iterable[Notice] = (), profile: Profile = DEFAULT_PROFILE,
    select: Iterable[str] = (), ignore: Iterable[str] = (), severity_overrides: Mapping[str, str] | None = None,
    *, catalogue: Sequence[Rule] | None = None, inputs: Sequence[InputInfo] | None = None,
) -> CheckResult:
    """Run the selected rules; raises SelectionError for an unknown id/prefix or bad override."""
    notices = tuple(notices)
    catalogue = tuple(load_rules() if catalogue is None else catalogue)
    rules = apply_overrides(select_rules(catalogue, select, ignore), severity_overrides)
    with paused():
        findings = _judge(Context(analysis, notices, profile, load_cases(), catalogue), rules)
    order = {h.id: i for i, h in enumerate(analysis.handovers)}
    findings.sort(key=lambda f: (order.get(f.handover or "", len(order)),
                                 (f.refs[0].file, f.refs[0].frame) if f.refs else ("", 0), f.rule))
    per_handover: dict[str | None, list[Finding]] = {}
    for f in findings:
        per_handover.setdefault(f.handover, []).append(f)
    verdicts = {h.id: verdict(per_handover.get(h.id, ())) for h in analysis.handovers}
    return CheckResult(
        inputs=tuple(inputs) if inputs is not None else _inputs(analysis, notices),
        messages=analysis.messages, bindings=analysis.bindings, handovers=analysis.handovers,
        verdicts=verdicts, findings=tuple(findings), notices=notices, rules=rules, vantage=analysis.vantage,
    )


def exceeds(result: CheckResult, fail_on: str = "error") -> bool:
    """Whether any finding (outcome fail) reaches ``fail_on``: the exit-code decision."""
    if fail_on not in FAIL_LEVELS:
        raise ValueError(f"--fail-on {fail_on}: expected one of {', '.join(FAIL_LEVELS)}")
    if fail_on == "never":
        return False
    level = SEVERITY_ORDER[fail_on]
    return any(f.outcome == "fail" and SEVERITY_ORDER[f.severity] >= level for f in result.findings)
