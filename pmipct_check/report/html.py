"""The HTML report: one self-contained page (no script, font or image fetched from anywhere).

Summary, the handover table, the timing statistics with an inline SVG chart of their
distributions, the findings linked to their handovers, the ladders as inline SVG, notices.
A load test's thousands of ladders would make a page no browser opens: at most ``max_ladders``
are drawn, the handovers that did not pass first, and the page says how many were left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..analysis.model import Handover
from ..profile import DEFAULT_PROFILE, Profile
from ..rules.model import CheckResult
from . import common, timings
from .common import markup as escape
from .export import ladder_svg
from .ladder import build_ladder, load_case_steps

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #263238;
       background: #f5f7f8; }
header { background: #263238; color: #eceff1; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .sub { color: #b0bec5; font-size: 13px; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dfe4e7; border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
h2 { font-size: 17px; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff1; vertical-align: top; }
th { background: #eceff1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-weight: 600;
         font-size: 12px; }
.pass { background: #2e7d32; } .fail { background: #c62828; } .warn { background: #e08a00; }
.inconclusive { background: #7b1fa2; } .error { background: #c62828; } .warning { background: #e08a00; }
.info { background: #1565c0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #dfe4e7; border-radius: 6px; padding: 8px 14px; min-width: 120px; background: #fafbfc; }
.card .n { font-size: 24px; font-weight: 700; }
.ladder-box { overflow-x: auto; }
.muted { color: #607d8b; }
a { color: #1565c0; }
"""


def page(title: str, body: str) -> str:
    """A complete HTML document around ``body``; styles inline, nothing fetched."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _badge(word: str) -> str:
    return f'<span class="badge {escape(word)}">{escape(word)}</span>'


#: Ladders drawn by default (``report --max-ladders``; 0: all).
MAX_LADDERS = 100


def _link(handover_id: str | None, drawn: set[str]) -> str:
    """The handover's id, a link to its ladder when the page has it."""
    if not handover_id:
        return '<span class="muted">-</span>'
    if handover_id not in drawn:
        return escape(handover_id)
    return f'<a href="#ho-{escape(handover_id)}">{escape(handover_id)}</a>'


def ladder_choice(result: CheckResult, max_ladders: int = MAX_LADDERS) -> list[Handover]:
    """The handovers whose ladders the page draws, in their order: those that did not pass
    first, then passing ones while ``max_ladders`` (0: no limit) allows."""
    handovers = list(result.handovers)
    if not max_ladders or len(handovers) <= max_ladders:
        return handovers
    others = [h for h in handovers if common.verdict_of(result, h) != "pass"][:max_ladders]
    room = max_ladders - len(others)
    passing = [h for h in handovers if common.verdict_of(result, h) == "pass"][:room]
    chosen = {id(h) for h in others + passing}
    return [h for h in handovers if id(h) in chosen]


def render(result: CheckResult, *, profile: Profile = DEFAULT_PROFILE, title: str = "pmipct-check report",
           max_ladders: int = MAX_LADDERS, **_: Any) -> str:
    counts = common.summary_counts(result)
    chosen = ladder_choice(result, max_ladders)
    drawn = {h.id for h in chosen}
    inputs = ", ".join(escape(i.file) for i in result.inputs) or "no input"
    body = [
        f"<header><h1>{escape(title)}</h1><div class=\"sub\">{common.TOOL_NAME} {escape(common.version())}"
        f" &middot; {inputs} &middot; vantage: {escape(', '.join(counts['vantage']) or 'unknown')}</div></header><main>",
        _summary(counts),
        _handover_table(result, profile, drawn),
        _timings(result.handovers),
        _findings(result, drawn),
    ]
    cases = load_case_steps()
    for handover in chosen:
        body.append(_handover_section(result, handover, profile, cases))
    left_out = len(result.handovers) - len(chosen)
    if left_out:
        body.append(f'<section id="ladders-left-out"><p class="muted">{left_out} more ladders not drawn '
                    f'(the page draws {len(chosen)}, those that did not pass first): '
                    "<code>pmipct-check report --max-ladders 0</code> draws all, "
                    "<code>pmipct-check ladder FILE --handover ID</code> draws one.</p></section>")
    body.append(_notices(result))
    body.append("</main>")
    return page(title, "".join(body))


def _summary(counts: dict[str, Any]) -> str:
    cards = [("handovers", counts["handovers"], "")]
    cards += [(v, n, v) for v, n in counts["verdicts"].items()]
    cards += [(f"{k} findings" if k != "inconclusive" else "inconclusive checks", n, k)
              for k, n in counts["findings"].items()]
    html = "".join(
        f'<div class="card"><div class="n">{n}</div><div>{_badge(cls) if cls else ""} {escape(label)}</div></div>'
        for label, n, cls in cards
    )
    return (f'<section id="summary"><h2>Summary</h2><div class="cards">{html}</div>'
            f'<p class="muted">{counts["inputs"]} input file(s), {counts["frames"]} frames, '
            f'{counts["messages"]} signalling messages, {counts["notices"]} notices.</p></section>')


def _handover_table(result: CheckResult, profile: Profile, drawn: set[str]) -> str:
    keys = timings.timing_keys(result.handovers)
    head = "".join(f"<th>{escape(timings.label(k))}</th>" for k in keys)
    rows = []
    for h in result.handovers:
        pmag = escape(profile.name_for(h.pmag)) if h.pmag else "?"
        cells = "".join(f'<td class="num">{escape(timings.ms(h.timings.get(k)))}</td>' for k in keys)
        rows.append(
            f"<tr><td>{_link(h.id, drawn)}</td><td class=\"mono\">{escape(h.mn)}</td><td>{escape(h.case)}</td>"
            f"<td>{pmag} &rarr; {escape(profile.name_for(h.nmag))}</td>"
            f"<td>{escape(profile.name_for(h.lma)) if h.lma else '?'}</td>"
            f"<td>{_badge(common.verdict_of(result, h))}</td>{cells}</tr>"
        )
    if not rows:
        return '<section id="handovers"><h2>Handovers</h2><p>No handover found.</p></section>'
    return (f'<section id="handovers"><h2>Handovers</h2><table><tr><th>ID</th><th>MN</th><th>Case</th>'
            f"<th>pMAG &rarr; nMAG</th><th>LMA</th><th>Verdict</th>{head}</tr>{''.join(rows)}</table></section>")


def _timings(handovers: Sequence[Handover]) -> str:
    stats = timings.timing_stats(handovers)
    if not stats:
        return '<section id="timings"><h2>Timings</h2><p>No timing measured.</p></section>'
    rows = "".join(
        f"<tr><td>{escape(timings.label(k))}</td><td class=\"num\">{s.count}</td>"
        + "".join(f'<td class="num">{escape(timings.ms(v))}</td>' for v in (s.min, s.median, s.p95, s.max))
        + "</tr>"
        for k, s in stats.items()
    )
    return (f'<section id="timings"><h2>Timings over all handovers</h2>{timing_chart_svg(handovers)}'
            f"<table><tr><th>Timing</th><th>n</th><th>min</th><th>median</th><th>p95</th><th>max</th></tr>"
            f"{rows}</table></section>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1e-3
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * 10**exp:
            return step * 10**exp
    return 10 ** (exp + 1)


def timing_chart_svg(handovers: Sequence[Handover]) -> str:
    """A strip chart per timing: each handover a dot, min-max whisker, median and p95 ticks."""
    stats = timings.timing_stats(handovers)
    label_w, plot_w, row_h, top = 230, 560, 46, 28
    width = label_w + plot_w + 240
    height = top + row_h * len(stats) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timing-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12" role="img" '
        f'aria-label="timing distributions">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{label_w}" y="16" fill="#607d8b" font-size="11">each dot one handover; '
        f"bar min&#8211;max, tall tick median, short tick p95; axis per row from 0</text>",
    ]
    for i, (key, s) in enumerate(stats.items()):
        y = top + i * row_h + row_h / 2
        scale_max = _nice_max(s.max)

        def px(v: float, scale_max: float = scale_max) -> float:
            return label_w + plot_w * (v / scale_max)

        values = [h.timings[key] for h in handovers if key in h.timings]
        out.append(f'<text x="{label_w - 10}" y="{y + 4:.1f}" text-anchor="end">{escape(timings.label(key))}</text>')
        out.append(f'<line x1="{label_w}" y1="{y + 14:.1f}" x2="{label_w + plot_w}" y2="{y + 14:.1f}" stroke="#cfd8dc"/>')
        out.append(f'<text x="{label_w}" y="{y + 25:.1f}" fill="#90a4ae" font-size="10">0</text>')
        out.append(f'<text x="{label_w + plot_w}" y="{y + 25:.1f}" fill="#90a4ae" font-size="10" '
                   f'text-anchor="end">{escape(timings.ms(scale_max))}</text>')
        out.append(f'<line x1="{px(s.min):.1f}" y1="{y:.1f}" x2="{px(s.max):.1f}" y2="{y:.1f}" '
                   f'stroke="#90a4ae" stroke-width="4" stroke-linecap="round"/>')
        for j, v in enumerate(values):
            jitter = ((j * 7) % 5 - 2) * 2.2
            out.append(f'<circle cx="{px(v):.1f}" cy="{y + jitter:.1f}" r="3.6" fill="#1565c0" '
                       f'fill-opacity="0.65"><title>{escape(timings.ms(v))}</title></circle>')
        out.append(f'<line x1="{px(s.median):.1f}" y1="{y - 11:.1f}" x2="{px(s.median):.1f}" y2="{y + 11:.1f}" '
                   f'stroke="#263238" stroke-width="2"/>')
        out.append(f'<line x1="{px(s.p95):.1f}" y1="{y - 7:.1f}" x2="{px(s.p95):.1f}" y2="{y + 7:.1f}" '
                   f'stroke="#c62828" stroke-width="2"/>')
        out.append(f'<text x="{label_w + plot_w + 12}" y="{y + 4:.1f}" fill="#37474f">n={s.count} '
                   f'med {escape(timings.ms(s.median))} p95 {escape(timings.ms(s.p95))}</text>')
    out.append("</svg>")
    return "".join(out)


def _findings(result: CheckResult, drawn: set[str]) -> str:
    findings = common.sorted_findings(result.findings)
    if not findings:
        return '<section id="findings"><h2>Findings</h2><p>No finding.</p></section>'
    rules = common.rule_index(result)
    rows = []
    for f in findings:
        kind = common.mark_kind(f)
        title = rules[f.rule].title if f.rule in rules else ""
        refs = ", ".join(f"<code>{escape(r.file)}:{r.frame}</code>" for r in f.refs)
        rows.append(
            f"<tr><td>{_badge(kind)}</td><td title=\"{escape(title)}\"><code>{escape(f.rule)}</code></td>"
            f"<td>{escape(f.message)}<div class=\"muted\">{escape(f.spec)}</div></td>"
            f"<td>{_link(f.handover, drawn)}</td><td>{refs}</td></tr>"
        )
    return ('<section id="findings"><h2>Findings</h2><table><tr><th>Severity</th><th>Rule</th><th>Message</th>'
            f"<th>Handover</th><th>Frames</th></tr>{''.join(rows)}</table></section>")


def _handover_section(result: CheckResult, handover: Handover, profile: Profile, cases: dict) -> str:
    ladder = build_ladder(result, handover, profile, cases)
    verdict = common.verdict_of(result, handover)
    times = ", ".join(f"{escape(timings.label(k))} {escape(timings.ms(v))}"
                      for k, v in ((k, handover.timings[k]) for k in timings.timing_keys([handover])))
    return (
        f'<section id="ho-{escape(handover.id)}"><h2>{escape(handover.id)} {_badge(verdict)} '
        f'<span class="mono">{escape(handover.mn)}</span> &middot; {escape(handover.case)}</h2>'
        f'<p class="muted">{escape(handover.case_reason)}'
        f'{" &middot; vantage: " + escape(", ".join(sorted(handover.vantage))) if handover.vantage else ""}'
        f'{"<br>" + times if times else ""}</p>'
        f'<div class="ladder-box">{ladder_svg(ladder)}</div></section>'
    )


def _notices(result: CheckResult) -> str:
    if not result.notices:
        return ""
    rows = "".join(
        f"<tr><td>{_badge(n.severity)}</td><td><code>{escape(n.code)}</code></td><td>{escape(n.message)}</td>"
        f"<td><code>{escape(n.where())}</code></td></tr>"
        for n in result.notices
    )
    return ('<section id="notices"><h2>Notices about the input</h2><table><tr><th>Severity</th><th>Code</th>'
            f"<th>Message</th><th>Where</th></tr>{rows}</table></section>")
