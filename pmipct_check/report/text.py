"""The terminal report: summary, handover table, findings, timing statistics, notices (rich).

Meaning never rides on colour alone: verdicts and severities are words, so the report reads the
same with ``NO_COLOR`` set or piped into a file; tables take the console's width.

A load test has thousands of handovers: a table longer than ``max_rows`` lists the handovers
that did not pass (and the worst findings) and says what it left out; findings beyond the limit
are counted per rule.  ``--format json`` always lists everything.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from itertools import compress
from typing import Any

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ..profile import DEFAULT_PROFILE, Profile
from ..rules.model import CheckResult, Finding
from . import common, timings

#: Timings shown in the handover table (all of them are in the statistics table).
TABLE_TIMINGS = {"pbu_pba": "PBU→PBA", "ctreq_ctd": "CT-Req→CTD", "interruption": "interruption"}
#: Below this many columns findings are a list, not a table; timings leave the handover table.
WIDE = 100
MAX_NOTICES = 20
MAX_EVENTS = 20
#: Rows per handover/findings table by default (``check --max-rows``; 0: no limit).
MAX_ROWS = common.MAX_ROWS


def renderables(result: CheckResult, profile: Profile = DEFAULT_PROFILE,
                ladders: Sequence[RenderableType] = (), width: int = WIDE,
                max_rows: int = MAX_ROWS) -> list[RenderableType]:
    """What :func:`print_report` prints, for callers that own a Console."""
    out: list[RenderableType] = [summary(result), handover_table(result, profile, width, max_rows)]
    stats = timing_table(result)
    if stats is not None:
        out.append(stats)
    findings = common.sorted_findings(result.findings)
    if max_rows and len(findings) > max_rows:
        out.append(findings_by_rule(findings))
        findings = findings[:max_rows]
    out.append(findings_table(findings, len(result.findings)) if width >= WIDE
               else findings_list(findings, width, len(result.findings)))
    notices = notices_table(result)
    if notices is not None:
        out.append(notices)
    events = events_table(result)
    if events is not None:
        out.append(events)
    out += list(ladders)
    return out


def summary(result: CheckResult) -> Text:
    counts = common.summary_counts(result)
    text = Text()
    text.append(f"{common.TOOL_NAME} {common.version()}", style="bold")
    text.append(f"  {counts['inputs']} input(s), {counts['frames']} frames, {counts['messages']} messages, ")
    text.append(f"{counts['handovers']} handover(s)\n", style="bold")
    text.append("verdicts: ")
    parts = [(f"{n} {v}", common.VERDICT_STYLE[v]) for v, n in counts["verdicts"].items() if n]
    for i, (part, style) in enumerate(parts or [("none", "")]):
        text.append(("  " if i else "") + part, style=style)
    text.append("\nfindings: ")
    finding_parts = [(f"{n} {k}", common.SEVERITY_STYLE.get(k, "magenta"))
                     for k, n in counts["findings"].items()]
    for i, (part, style) in enumerate(finding_parts):
        text.append(("  " if i else "") + part, style=style)
    vantage = ", ".join(counts["vantage"]) or "unknown"
    text.append(f"\nvantage: {vantage}   notices: {counts['notices']}")
    return text


def handover_table(result: CheckResult, profile: Profile = DEFAULT_PROFILE, width: int = WIDE,
                   max_rows: int = MAX_ROWS) -> RenderableType:
    if not result.handovers:
        return Text("No handover found.", style="bold")
    shown = list(result.handovers)
    passed = 0
    if max_rows and len(shown) > max_rows:  # the ones that need a look, not thousands that passed
        looks = list(compress(shown, [v != "pass" for v in common.verdicts_of(result)]))
        passed = len(shown) - len(looks)
        shown = looks[:max_rows]
    keys = [k for k in TABLE_TIMINGS if any(k in h.timings for h in result.handovers)]
    keys = keys[: max(0, (width - 64) // 13)]
    table = Table(title="Handovers", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold",
                  expand=False, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("MN", overflow="fold", min_width=8)
    table.add_column("case", no_wrap=True, overflow="ellipsis")
    table.add_column("pMAG -> nMAG", overflow="fold", min_width=8)
    table.add_column("verdict", no_wrap=True)
    for key in keys:
        table.add_column(TABLE_TIMINGS[key], justify="right", no_wrap=True)
    for h in shown:
        verdict = common.verdict_of(result, h)
        pmag = profile.name_for(h.pmag) if h.pmag else "?"
        table.add_row(
            h.id, common.clean(h.mn), h.case, common.clean(f"{pmag} -> {profile.name_for(h.nmag)}"),
            Text(verdict, style=common.VERDICT_STYLE.get(verdict, "")),
            *(timings.ms(h.timings.get(k)) for k in keys),
        )
    left_out = len(result.handovers) - len(shown)
    if left_out:
        table.title = f"Handovers that did not pass ({len(shown)} listed of {len(result.handovers)})"
        table.caption = (f"{left_out} not listed ({passed} passed): --max-rows 0 lists all, "
                         "--format json has every one")
    return table


def timing_table(result: CheckResult) -> RenderableType | None:
    stats = timings.timing_stats(result.handovers)
    if not stats:
        return None
    table = Table(title="Timings over all handovers", box=box.SIMPLE_HEAD, title_justify="left",
                  title_style="bold", pad_edge=False)
    table.add_column("timing")
    for name in ("n", "min", "median", "p95", "max"):
        table.add_column(name, justify="right", no_wrap=True)
    for key, s in stats.items():
        table.add_row(timings.label(key), str(s.count),
                      *(timings.ms(v) for v in (s.min, s.median, s.p95, s.max)))
    return table


def findings_table(findings: Sequence[Finding], total: int | None = None) -> RenderableType:
    """``findings`` (sorted, worst first) as a table; ``total``: how many there were in all."""
    if not findings:
        return Text("No findings.", style="green")
    table = Table(title="Findings", box=box.SIMPLE_HEAD, title_justify="left", title_style="bold",
                  pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("ho", no_wrap=True)
    table.add_column("message", ratio=3, overflow="fold")
    table.add_column("where", ratio=2, overflow="fold")
    for f in findings:
        kind = common.mark_kind(f)
        table.add_row(Text(kind, style=common.SEVERITY_STYLE.get(kind, "magenta")), common.clean(f.rule),
                      common.clean(f.handover or "-"), common.clean(f.message), common.clean(common.refs_text(f)))
    if total is not None and total > len(findings):
        table.title = f"Findings (the first {len(findings)} of {total}, worst first)"
        table.caption = f"{total - len(findings)} more (--max-rows 0 lists all; --format json has every one)"
    return table


def findings_list(findings: Sequence[Finding], width: int = 80, total: int | None = None) -> RenderableType:
    """Findings for narrow terminals: a head line, then the message with a hanging indent."""
    if not findings:
        return Text("No findings.", style="green")
    out = Text()
    out.append("Findings\n" if total is None or total <= len(findings)
               else f"Findings (the first {len(findings)} of {total}, worst first)\n", style="bold")
    for f in findings:
        kind = common.mark_kind(f)
        out.append(kind, style=common.SEVERITY_STYLE.get(kind, "magenta"))
        out.append(" " + common.clean(f.rule), style="bold")
        out.append(common.clean(f" [{f.handover or '-'}]") + "\n")
        for part in (common.clean(f.message), common.clean(common.refs_text(f))):
            lines = textwrap.wrap(part, width=max(width - 1, 20), initial_indent="    ",
                                  subsequent_indent="    ", break_on_hyphens=False)
            out.append("".join(line + "\n" for line in lines))
    return out


def findings_by_rule(findings: Sequence[Finding]) -> RenderableType:
    """Every finding counted per rule and kind, with where the first one is: the whole picture
    of a capture with thousands of findings in a few lines."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:  # sorted worst first: so are the groups
        groups.setdefault((common.mark_kind(f), f.rule), []).append(f)
    table = Table(title=f"Findings by rule ({len(findings)})", box=box.SIMPLE_HEAD, title_justify="left",
                  title_style="bold", pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("first", overflow="fold")
    for (kind, rule), group in groups.items():
        table.add_row(Text(kind, style=common.SEVERITY_STYLE.get(kind, "magenta")), common.clean(rule),
                      str(len(group)), common.clean(_first_where(group[0])))
    return table


def _first_where(finding: Finding) -> str:
    where = common.where(finding.refs[0].file, finding.refs[0].frame) if finding.refs else "-"
    return f"{where} ({finding.handover})" if finding.handover else where


def notices_table(result: CheckResult) -> RenderableType | None:
    if not result.notices:
        return None
    table = Table(title=f"Notices about the input ({len(result.notices)})", box=box.SIMPLE_HEAD,
                  title_justify="left", title_style="bold", pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("message", overflow="fold")
    table.add_column("where", overflow="fold")
    for n in result.notices[:MAX_NOTICES]:
        table.add_row(Text(n.severity, style=common.SEVERITY_STYLE.get(n.severity, "")), common.clean(n.code),
                      common.clean(n.message), common.clean(n.where()))
    if len(result.notices) > MAX_NOTICES:
        table.caption = f"... and {len(result.notices) - MAX_NOTICES} more (--format json lists all)"
    return table


def events_table(result: CheckResult) -> RenderableType | None:
    """The event log's records (``--event-log``), briefly: when, where, what, for which MN."""
    if not result.events:
        return None
    table = Table(title=f"Event log ({len(result.events)})", box=box.SIMPLE_HEAD, title_justify="left",
                  title_style="bold", pad_edge=False)
    for column in ("time", "node", "event", "mn", "target"):
        table.add_column(column, overflow="fold", no_wrap=column == "time")
    for e in result.events[:MAX_EVENTS]:
        table.add_row(str(e.time), common.clean(e.node), common.clean(e.event), common.clean(e.mn or "-"),
                      common.clean(e.target or "-"))
    if len(result.events) > MAX_EVENTS:
        table.caption = f"... and {len(result.events) - MAX_EVENTS} more (--format json lists all)"
    return table


def print_report(result: CheckResult, console: Console | None = None, profile: Profile = DEFAULT_PROFILE,
                 ladders: Sequence[RenderableType] = (), max_rows: int = MAX_ROWS) -> None:
    """Print to ``console`` (a default one honours the terminal's width, NO_COLOR and pipes)."""
    console = console or Console(highlight=False, emoji=False)
    for item in renderables(result, profile, ladders, console.width, max_rows):
        console.print(item)
        console.print()


def render(result: CheckResult, *, profile: Profile = DEFAULT_PROFILE, width: int | None = None,
           color: bool | None = None, max_rows: int = MAX_ROWS, **_: Any) -> str:
    """The report as a string; colour only when asked (or ``None``: never when NO_COLOR is set)."""
    if color is None:
        color = False
    if os.environ.get("NO_COLOR"):
        color = False
    console = Console(width=width or 100, color_system="standard" if color else None,
                      force_terminal=color, no_color=not color, highlight=False, emoji=False,
                      legacy_windows=False)
    with console.capture() as capture:
        print_report(result, console, profile, max_rows=max_rows)
    return capture.get()
