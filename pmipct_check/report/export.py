"""Ladder exports: SVG (hand-written, no dependency), HTML, plain text, Mermaid, PlantUML.

Every format draws the same :class:`~pmipct_check.report.ladder.Ladder` model, so an arrow's
label (``PBU seq=7 lt=3600s HI=2``), its frame number, its relative time, the notes and the
finding tags read the same everywhere.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

from . import common
from .ladder import NOTE_MEANINGS, Arrow, Ladder, Note, notes_used, time_text, to_text

EXPORT_FORMATS = ("svg", "html", "txt", "mmd", "puml")

# SVG geometry (pixels).  Monospace text at 12 px is ~7.2 px per character.
_CH = 7.3
_FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_MARGIN = 16
_HEADER_Y = 48
_HEADER_H = 40
_ARROW_H = 32
_NOTE_H = 24
_LINE_COLOUR = "#37474f"
_LANE_COLOUR = "#90a4ae"


def _x(text: str) -> str:
    """Text for XML character data and attribute values (control characters made visible)."""
    return common.markup(text)


def _width(text: str, ch: float = _CH) -> float:
    return len(text) * ch


def ladder_svg(ladder: Ladder) -> str:
    """One ladder as a standalone ``<svg>`` element (inline-able in HTML)."""
    arrows = [r for r in ladder.rows if isinstance(r, Arrow)]
    stamps = [f"{time_text(a.time)} {ladder.frame_text(a)}" for a in arrows]
    gutter = _MARGIN + max((_width(s) for s in stamps), default=80) + 20
    n = max(len(ladder.lifelines), 1)
    gap = 170.0
    for lane in ladder.lifelines:
        gap = max(gap, _width(lane.name, 7.8) + 24, _width(lane.address, 6.2) + 24)
    for a in arrows:
        gap = max(gap, (_width(a.text()) + 36) / max(abs(a.dst - a.src), 1))
    gap = min(gap, 300.0)
    xs = [gutter + gap / 2 + i * gap for i in range(n)]
    body: list[str] = []
    y = _HEADER_Y + _HEADER_H + 22
    right = gutter + n * gap
    for row in ladder.rows:
        if isinstance(row, Note):
            x = xs[row.lane]
            w = _width(row.text) + 12
            body.append(
                f'<g class="note"><rect x="{x - w / 2:.1f}" y="{y - 8:.1f}" width="{w:.1f}" height="18" rx="4" '
                f'fill="#e0f7fa" stroke="#00838f"/><text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
                f'fill="#006064">{_x(row.text)}</text><title>{_x(NOTE_MEANINGS.get(row.text, row.text))}</title></g>'
            )
            y += _NOTE_H
            continue
        y += _ARROW_H - 12
        body.append(_svg_arrow(ladder, row, xs, y))
        label_end = min(xs[row.src], xs[row.dst]) + 8 + _width(row.text())
        right = max(right, label_end + _MARGIN)
        y += 16
    bottom = y + 14
    header = [
        f'<text x="{_MARGIN}" y="20" font-weight="bold" font-size="14" '
        f'fill="{_verdict_colour(ladder.verdict)}">{_x(ladder.title)}</text>',
        f'<text x="{_MARGIN}" y="37" fill="#546e7a" font-size="11">{_x(ladder.subtitle())}</text>',
        f'<text x="{_MARGIN}" y="{_HEADER_Y + _HEADER_H + 14}" fill="#78909c" font-size="10">time (s) / frame</text>',
    ]
    for x, lane in zip(xs, ladder.lifelines, strict=True):
        w = max(_width(lane.name, 7.8), _width(lane.address, 6.2)) + 16
        header.append(
            f'<g class="lifeline"><rect x="{x - w / 2:.1f}" y="{_HEADER_Y}" width="{w:.1f}" height="{_HEADER_H}" '
            f'rx="5" fill="#eceff1" stroke="{_LINE_COLOUR}"/>'
            f'<text x="{x:.1f}" y="{_HEADER_Y + 17}" text-anchor="middle" font-weight="bold" font-size="13">'
            f'{_x(lane.name)}</text>'
            f'<text x="{x:.1f}" y="{_HEADER_Y + 32}" text-anchor="middle" font-size="10.5" fill="#455a64">'
            f'{_x(lane.address)}</text>'
            f'<line x1="{x:.1f}" y1="{_HEADER_Y + _HEADER_H}" x2="{x:.1f}" y2="{bottom:.1f}" '
            f'stroke="{_LANE_COLOUR}" stroke-dasharray="4 3"/></g>'
        )
    legend, legend_h = _svg_legend(ladder, bottom + 10, right)
    width = max(right, max((_width(t) for t in (ladder.title, ladder.subtitle())), default=0) + 2 * _MARGIN)
    height = bottom + 10 + legend_h + _MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{_FONT}" font-size="12" '
        f'role="img" aria-label="{_x("ladder " + ladder.title)}">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        + "".join(header) + "".join(body) + legend + "</svg>"
    )


def _verdict_colour(verdict: str) -> str:
    return {"pass": "#2e7d32", "fail": "#c62828", "warn": "#e08a00", "inconclusive": "#7b1fa2"}.get(
        verdict, "#263238")


def _svg_arrow(ladder: Ladder, arrow: Arrow, xs: Sequence[float], y: float) -> str:
    kind = arrow.kind
    colour = common.SEVERITY_COLOUR[kind] if kind else _LINE_COLOUR
    stroke_w = 2.6 if kind else 1.3
    x1, x2 = xs[arrow.src], xs[arrow.dst]
    stamp = f"{time_text(arrow.time)} {ladder.frame_text(arrow)}"
    parts = [f'<g class="arrow{" finding " + kind if kind else ""}" data-frame="{arrow.frame}">']
    if arrow.markers:
        tip = "; ".join(f"[{m.tag}] {m.finding.rule}: {m.finding.message}" for m in arrow.markers)
        parts.append(f"<title>{_x(tip)}</title>")
    parts.append(f'<text x="{_MARGIN}" y="{y + 4:.1f}" fill="#607d8b" font-size="11">{_x(stamp)}</text>')
    lo = min(x1, x2)
    tags = "".join(
        f'<tspan fill="{common.SEVERITY_COLOUR[m.kind]}" font-weight="bold"> [{_x(m.tag)}]</tspan>'
        for m in arrow.markers
    )
    parts.append(
        f'<text x="{lo + 8:.1f}" y="{y - 5:.1f}" fill="{colour if kind else "#263238"}">'
        f'{_x(arrow.label.text())}{tags}</text>'
    )
    if x1 == x2:
        parts.append(
            f'<path d="M{x1:.1f},{y - 6:.1f} h30 v10 h-26" fill="none" stroke="{colour}" stroke-width="{stroke_w}"/>'
        )
    else:
        direction = 1 if x2 > x1 else -1
        tip_x = x2 - direction * 1
        base = tip_x - direction * 9
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{base:.1f}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="{stroke_w}"/>'
            f'<polygon points="{tip_x:.1f},{y:.1f} {base:.1f},{y - 4.5:.1f} {base:.1f},{y + 4.5:.1f}" '
            f'fill="{colour}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _svg_legend(ladder: Ladder, top: float, width: float) -> tuple[str, float]:
    lines: list[str] = []
    y = top
    if ladder.markers:
        lines.append(f'<text x="{_MARGIN}" y="{y + 10:.1f}" font-weight="bold">Findings (thick coloured arrow = cited)</text>')
        y += 18
        chars = max(int((width - _MARGIN * 2 - 16) / _CH), 60)
        for marker in ladder.markers:
            f = marker.finding
            colour = common.SEVERITY_COLOUR[marker.kind]
            head = f"[{marker.tag}] {f.rule} {marker.kind}"
            body = textwrap.wrap(f"{head} {f.message} ({common.refs_text(f)})", chars, break_on_hyphens=False)
            parts = [f'<g class="legend-item"><rect x="{_MARGIN}" y="{y:.1f}" width="10" height="10" fill="{colour}"/>']
            for i, line in enumerate(body):
                if i == 0 and line.startswith(head):
                    text = (f'<tspan fill="{colour}" font-weight="bold">{_x(head)}</tspan>'
                            f'{_x(line[len(head):])}')
                else:
                    text = _x(line)
                parts.append(f'<text x="{_MARGIN + 16}" y="{y + 9:.1f}" xml:space="preserve">{text}</text>')
                y += 15
            lines.append("".join(parts) + "</g>")
            y += 2
    for note in notes_used(ladder):
        text = f"{note} {NOTE_MEANINGS[note]}"
        lines.append(f'<text x="{_MARGIN}" y="{y + 10:.1f}" fill="#00838f" font-size="11">{_x(text)}</text>')
        y += 15
    if len(ladder.files) > 1:
        text = "Files: " + ", ".join(f"{i}={f}" for i, f in enumerate(ladder.files, 1))
        lines.append(f'<text x="{_MARGIN}" y="{y + 10:.1f}" fill="#607d8b" font-size="11">{_x(text)}</text>')
        y += 16
    return "".join(lines), y - top


def svg_document(ladders: Sequence[Ladder]) -> str:
    """Several ladders stacked in one SVG file."""
    parts, y, width = [], 0.0, 0.0
    for ladder in ladders:
        svg = ladder_svg(ladder)
        w, h = (float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"', svg).groups())  # type: ignore[union-attr]
        parts.append(f'<g transform="translate(0,{y:.0f})">{svg}</g>')
        y += h + 20
        width = max(width, w)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{max(y - 20, 1):.0f}" '
        f'viewBox="0 0 {width:.0f} {max(y - 20, 1):.0f}">' + "".join(parts) + "</svg>\n"
    )


# ---------------------------------------------------------------------------------------------
# Mermaid and PlantUML
# ---------------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Mermaid ends a statement at ';' and reads '#...;' as an entity: keep both out."""
    return common.clean(text).replace(";", ",").replace("#", "no. ")


_MERMAID_RECT = {"error": "rgba(198,40,40,0.18)", "warning": "rgba(224,138,0,0.2)",
                 "info": "rgba(21,101,192,0.15)", "inconclusive": "rgba(123,31,162,0.15)"}


def mermaid(ladder: Ladder) -> str:
    """A Mermaid ``sequenceDiagram``; arrows a finding cites sit in a coloured ``rect``."""
    out = ["sequenceDiagram", f"    title {_mermaid_text(ladder.title)}"]
    for i, lane in enumerate(ladder.lifelines):
        out.append(f"    participant L{i} as {_mermaid_text(lane.name)}<br/>{_mermaid_text(lane.address)}")
    for row in ladder.rows:
        if isinstance(row, Note):
            out.append(f"    Note over L{row.lane}: {_mermaid_text(row.text)}")
            continue
        text = _mermaid_text(f"{row.text()} (frame {row.frame}, {time_text(row.time)} s)")
        line = f"L{row.src}->>L{row.dst}: {text}"
        if row.kind:
            out += [f"    rect {_MERMAID_RECT[row.kind]}", f"        {line}", "    end"]
        else:
            out.append(f"    {line}")
    if ladder.markers:
        lane = len(ladder.lifelines) - 1
        text = "<br/>".join(_mermaid_text(f"[{m.tag}] {m.finding.rule} {m.kind}: {m.finding.message}")
                            for m in ladder.markers)
        out.append(f"    Note right of L{lane}: {text}")
    return "\n".join(out) + "\n"


_PUML_COLOUR = {"error": "#C62828", "warning": "#E08A00", "info": "#1565C0", "inconclusive": "#7B1FA2"}


def _puml_text(text: str) -> str:
    return common.clean(text).replace("\\", "\\\\")


def plantuml(ladder: Ladder) -> str:
    out = ["@startuml", f"title {_puml_text(ladder.title)}", f"skinparam sequenceArrowColor {_LINE_COLOUR}",
           "skinparam sequenceMessageAlign left"]
    for i, lane in enumerate(ladder.lifelines):
        out.append(f'participant "{_puml_text(lane.name)}\\n{_puml_text(lane.address)}" as L{i}')
    for row in ladder.rows:
        if isinstance(row, Note):
            out.append(f"hnote over L{row.lane} : {_puml_text(row.text)}")
            continue
        arrow = f"-[{_PUML_COLOUR[row.kind]},bold]>" if row.kind else "->"
        label = _puml_text(row.text())
        if row.kind:
            label = f"<color:{_PUML_COLOUR[row.kind]}>{label}</color>"
        text = f"{label}\\n<size:10>frame {row.frame}, {time_text(row.time)} s</size>"
        out.append(f"L{row.src} {arrow} L{row.dst} : {text}")
    if ladder.markers or notes_used(ladder):
        out.append("legend bottom left")
        for marker in ladder.markers:
            f = marker.finding
            out.append(f"<color:{_PUML_COLOUR[marker.kind]}>[{marker.tag}] {_puml_text(f.rule)} {marker.kind}</color>: "
                       f"{_puml_text(f.message)} ({_puml_text(common.refs_text(f))})")
        for note in notes_used(ladder):
            out.append(f"{note} {NOTE_MEANINGS[note]}")
        out.append("endlegend")
    out.append("@enduml")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def html_document(ladders: Sequence[Ladder]) -> str:
    from .html import page

    sections = "".join(
        f'<section id="ho-{_x(ladder.handover.id)}"><h2>{_x(ladder.title)}</h2>'
        f'<div class="ladder-box">{ladder_svg(ladder)}</div></section>'
        for ladder in ladders
    )
    return page("pmipct-check ladders", sections or "<p>No handover found.</p>")


def export_text(ladders: Sequence[Ladder], fmt: str, width: int = 120) -> list[tuple[str, str]]:
    """(suffix, text) per file to write: one file, or one per ladder for Mermaid (one diagram a file)."""
    if fmt == "svg":
        return [("", svg_document(ladders))]
    if fmt == "html":
        return [("", html_document(ladders))]
    if fmt == "txt":
        return [("", to_text(ladders, width=width, color=False, ascii_only=True))]
    if fmt == "puml":
        return [("", "\n".join(plantuml(ladder) for ladder in ladders))]
    if fmt == "mmd":
        if len(ladders) == 1:
            return [("", mermaid(ladders[0]))]
        return [(f"-{ladder.handover.id}", mermaid(ladder)) for ladder in ladders]
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")


def export(ladders: Sequence[Ladder], path: str | Path, width: int = 120) -> list[Path]:
    """Write ``ladders`` to ``path`` in the format its suffix names; returns the files written."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"{target}: unknown export format (use .{', .'.join(EXPORT_FORMATS)})")
    written = []
    for suffix, text in export_text(ladders, fmt, width):
        out = target.with_name(target.stem + suffix + target.suffix) if suffix else target
        out.write_text(text, encoding="utf-8")
        written.append(out)
    return written
