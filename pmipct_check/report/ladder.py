"""Ladder diagrams of handovers: a model built once, drawn in the terminal and exported.

:func:`build_ladders` turns a :class:`~pmipct_check.rules.model.CheckResult` into one
:class:`Ladder` per handover: lifelines (pMAG, nMAG, LMA, the MN when access-side messages
exist, any other node seen), rows (an :class:`Arrow` per message, a :class:`Note` per state or
event of the draft that the messages show or imply) and the findings each arrow is cited by.
:func:`render_rich` draws it with rich for a given width; ``export`` writes SVG, HTML, text,
Mermaid and PlantUML from the same model, so every format carries the same labels.
"""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rich.console import Console
from rich.text import Text

from ..analysis.model import Handover
from ..profile import DEFAULT_PROFILE, Node, Profile
from ..rules.model import CheckResult, Finding
from . import common
from .common import LADDER_MODES, ladder_handovers  # noqa: F401 (also this module's API)

ROLE_LABELS: Mapping[str, str] = {"mn": "MN", "pmag": "pMAG", "nmag": "nMAG", "lma": "LMA", "other": "node"}

#: The draft's states and events (section 3) as notes: text, meaning.
NOTE_MEANINGS: Mapping[str, str] = {
    "[ATT]": "MN attached to the nMAG (implied by the nMAG's registering PBU)",
    "[CR]": "nMAG ready to receive context (Context Ready)",
    "[CA]": "context transferred and activated on the nMAG (Context Activation)",
    "[PHT]": "proactive handover trigger (local event implied by the case)",
    "[DATA]": "first downlink user-plane packet tunnelled LMA -> nMAG for the MN's prefix (the data-path "
              "interruption runs from the last one tunnelled to the pMAG)",
}
#: The same notes when the event log recorded them (``--event-log``).
LOGGED_MEANINGS: Mapping[str, str] = {
    "[ATT]": "MN attached to the nMAG (from the event log)",
    "[PHT]": "proactive handover trigger (from the event log)",
    "[CR]": "nMAG ready to receive context (from the event log)",
    "[CA]": "context activated on the nMAG (from the event log)",
}
#: How far before the handover's first message (and after its last) a logged event may be and
#: still be drawn on its ladder (the access side's window, taps.ACCESS_WINDOW_NS).
EVENT_WINDOW_NS = 10_000_000_000


@dataclass(frozen=True, slots=True)
class Lifeline:
    key: str  # profile node name, else the address
    role: str  # mn, pmag, nmag, lma, other
    name: str  # what the header says: "mag-a (pMAG)" or "pMAG"
    address: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A finding as a ladder marks it: ``E1`` (error number 1), with its rule and message."""

    tag: str
    kind: str  # error, warning, info, inconclusive
    finding: Finding


@dataclass(frozen=True, slots=True)
class Arrow:
    src: int  # lifeline index
    dst: int
    label: common.Label
    file: str
    frame: int
    time: Decimal  # seconds since the ladder's first message
    markers: tuple[Marker, ...] = ()

    @property
    def kind(self) -> str | None:
        order = {"inconclusive": 0, "info": 1, "warning": 2, "error": 3}
        return max((m.kind for m in self.markers), key=order.__getitem__, default=None)

    def text(self) -> str:
        """The label with its finding tags: ``PBU seq=7 lt=3600s [E1]``."""
        tags = ",".join(m.tag for m in self.markers)
        return self.label.text() + (f" [{tags}]" if tags else "")


@dataclass(frozen=True, slots=True)
class Note:
    lane: int
    text: str  # "[ATT]", "[CR]", ...
    time: Decimal | None = None  # seconds since the ladder's first message: an event-log record
    logged: bool = False  # from the event log (else implied by the case and the messages)
    frame: int | None = None  # the frame that shows it ([DATA]: the first packet on the new path)


Row = Arrow | Note


@dataclass(frozen=True, slots=True)
class Ladder:
    handover: Handover
    verdict: str
    lifelines: tuple[Lifeline, ...]
    rows: tuple[Row, ...]
    start: Decimal | None  # epoch seconds of the first message
    markers: tuple[Marker, ...]  # every finding shown, in tag order
    unplaced: tuple[Marker, ...] = ()  # findings of the handover citing no arrow here
    files: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        h = self.handover
        return common.clean(f"{h.id}  {h.mn}  {h.case}  verdict: {self.verdict}")

    def subtitle(self) -> str:
        h = self.handover
        pmag = h.pmag or "?"
        return common.clean(f"pMAG {pmag} -> nMAG {h.nmag}" + (f" via LMA {h.lma}" if h.lma else ""))

    def frame_text(self, arrow: Arrow) -> str:
        if len(self.files) > 1:
            return f"{self.files.index(arrow.file) + 1}:{arrow.frame}"
        return f"#{arrow.frame}"


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


def select_handovers(result: CheckResult, mn: str | None = None,
                     handover: str | int | None = None) -> list[Handover]:
    """The handovers of ``mn`` (all MNs if None); ``handover`` is an id (``H2``) or the N-th (1-based)."""
    chosen = [h for h in result.handovers if mn is None or h.mn == mn]
    if handover is None:
        return chosen
    text = str(handover)
    if text.isdigit():
        n = int(text)
        return chosen[n - 1:n] if n >= 1 else []
    return [h for h in chosen if h.id.lower() == text.lower()]


def build_ladders(result: CheckResult, profile: Profile = DEFAULT_PROFILE, mn: str | None = None,
                  handover: str | int | None = None) -> list[Ladder]:
    cases = load_case_steps()
    return [build_ladder(result, h, profile, cases) for h in select_handovers(result, mn, handover)]


def ladders_for_check(result: CheckResult, mode: str, profile: Profile = DEFAULT_PROFILE,
                      limit: int = 0, chosen: Sequence[Handover] | None = None) -> list[Ladder]:
    """The ladders of :func:`ladder_handovers`, the first ``limit`` of them (0: all).

    ``chosen``: what :func:`ladder_handovers` returned, when the caller has it already.
    """
    if chosen is None:
        chosen = ladder_handovers(result, mode)
    drawn = chosen[:limit] if limit else chosen
    if not drawn:  # most checks: no failing handover, and the case steps need not be read
        return []
    cases = load_case_steps()
    return [build_ladder(result, h, profile, cases) for h in drawn]


def _mn_addresses(handover: Handover, profile: Profile) -> set[str]:
    """Addresses the profile gives the MN."""
    return {a for a, mn in profile.mn_addresses.items() if mn == handover.mn}


def _in_prefixes(address: str, prefixes: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for prefix in prefixes:
        try:
            if ip in ipaddress.ip_network(prefix, strict=False):
                return True
        except ValueError:
            continue
    return False


def build_ladder(result: CheckResult, handover: Handover, profile: Profile = DEFAULT_PROFILE,
                 cases: Mapping[str, tuple] | None = None) -> Ladder:
    """The ladder of one handover, with notes and finding markers (``cases``: :func:`load_case_steps`)."""
    prefixes = [p for b in result.bindings if b.mn == handover.mn for p in b.prefixes]
    mn_addresses = _mn_addresses(handover, profile)

    lanes: list[Lifeline] = []
    lane_of: dict[str, int] = {}

    nodes: dict[str, Node | None] = {}

    def node_for(address: str) -> Node | None:
        if address not in nodes:
            nodes[address] = profile.node_for(address) if profile.nodes else None
        return nodes[address]

    def key_for(address: str) -> str:
        node = node_for(address)
        return node.name if node else address

    def add(address: str, role: str) -> int:
        key = key_for(address)
        if key in lane_of:
            return lane_of[key]
        node = node_for(address)
        label = ROLE_LABELS[role]
        name = f"{node.name} ({label})" if node and role != "other" else (node.name if node else label)
        lanes.append(Lifeline(key, role, common.clean(name), common.clean(address)))
        lane_of[key] = len(lanes) - 1
        return lane_of[key]

    messages = sorted(handover.messages, key=lambda m: (m.time_ns, m.file, m.frame))
    is_mn = [
        a for m in messages for a in (m.src, m.dst)
        if a in mn_addresses or (m.protocol == "cxtp" and m.type in ("CTAR", "CTAA") and _in_prefixes(a, prefixes))
    ]
    access = [m for m in messages if m.protocol == "nd"]
    if is_mn:
        add(is_mn[0], "mn")
    elif access:  # RS/RA: the MN's own lifeline, whatever link-local or multicast address they use
        rs = next((m for m in access if m.type == "RS" and m.src not in ("::", "")), None)
        ra = next((m for m in access if m.type == "RA" and not m.dst.lower().startswith("ff")), None)
        address = rs.src if rs else ra.dst if ra else ""
        lanes.append(Lifeline("MN", "mn", "MN", common.clean(address)))
        lane_of["MN"] = len(lanes) - 1
    if handover.pmag:
        add(handover.pmag, "pmag")
    add(handover.nmag, "nmag")
    if handover.lma:
        add(handover.lma, "lma")

    relevant = [f for f in result.findings if f.handover == handover.id]
    frames = {(m.file, m.frame) for m in messages} | {
        (file, frame) for m in messages for file, frame in m.observations
    } | {(m.file, n) for m in messages for n in m.frames}
    relevant += [
        f for f in result.findings
        if f.handover != handover.id and any((r.file, r.frame) in frames for r in f.refs)
    ]
    markers = _markers(relevant)
    by_frame = common.findings_by_frame(m.finding for m in markers)
    marker_of = {id(m.finding): m for m in markers}

    start = messages[0].time if messages else None
    rows: list[Row] = []
    placed: set[int] = set()
    mn_lane = next((i for i, lane in enumerate(lanes) if lane.role == "mn"), None)
    nmag_lane = lane_of.get(key_for(handover.nmag))
    for message in messages:
        if message.protocol == "nd" and mn_lane is not None and nmag_lane is not None:
            # access side: the MN solicits the nMAG's advertisement (link-local / multicast addresses)
            src, dst = (mn_lane, nmag_lane) if message.type == "RS" else (nmag_lane, mn_lane)
        else:
            src = lane_of.get(key_for(message.src))
            if src is None:
                src = add(message.src, "mn" if message.src in mn_addresses else "other")
            dst = lane_of.get(key_for(message.dst))
            if dst is None:
                dst = add(message.dst, "mn" if message.dst in mn_addresses else "other")
        cited: list[Marker] = []
        keys = {(message.file, message.frame), *((message.file, n) for n in message.frames),
                *message.observations}
        for key in sorted(keys):
            for finding in by_frame.get(key, ()):
                marker = marker_of[id(finding)]
                if marker not in cited:
                    cited.append(marker)
        cited.sort(key=lambda m: markers.index(m))
        placed.update(id(m.finding) for m in cited)
        rows.append(Arrow(src, dst, common.message_label(message), message.file, message.frame,
                          message.time - start if start is not None else Decimal(0), tuple(cited)))
    steps = (load_case_steps() if cases is None else cases).get(handover.case)
    rows = _with_notes(rows, steps, lanes)
    if start is not None and result.events:
        rows = _with_events(rows, _events_of(result, handover, messages), steps, lanes, start, key_for, profile)
    if start is not None and nmag_lane is not None:
        rows = _with_data_path(rows, handover, nmag_lane, start)
    files = tuple(dict.fromkeys(m.file for m in messages))
    unplaced = tuple(m for m in markers if id(m.finding) not in placed)
    return Ladder(handover, common.verdict_of(result, handover), tuple(lanes), tuple(rows), start,
                  tuple(markers), unplaced, files)


def _markers(findings: Iterable[Finding]) -> tuple[Marker, ...]:
    counts: dict[str, int] = {}
    out = []
    for finding in common.sorted_findings(findings):
        kind = common.mark_kind(finding)
        letter = common.SEVERITY_MARK[kind]
        counts[letter] = counts.get(letter, 0) + 1
        out.append(Marker(f"{letter}{counts[letter]}", kind, finding))
    return tuple(out)


def load_case_steps() -> dict[str, tuple]:
    """case -> its steps from ``rules/cases.toml`` (the one definition); empty if unavailable."""
    try:
        from ..analysis.cases import load_cases

        return {name: case.steps for name, case in load_cases().items()}
    except (ImportError, OSError, ValueError):
        return {}


def _with_notes(rows: list[Row], steps: tuple | None, lanes: Sequence[Lifeline]) -> list[Row]:
    """Insert the case's events and states ([ATT], [CR], [CA], [PHT]) where the messages imply them.

    The case definition draws them between messages.  A trigger ([ATT], [PHT]) goes just before
    the next message of the figure that the capture shows; a state ([CR], [CA]) just after the
    message that brought it about.  Nothing is drawn when the anchoring message is absent.
    """
    if not steps:
        return rows
    role_lane = {lane.role: i for i, lane in reversed(list(enumerate(lanes)))}
    arrows = [(i, row) for i, row in enumerate(rows) if isinstance(row, Arrow)]

    def find(step) -> int | None:
        src, dst = role_lane.get(step.src), role_lane.get(step.dst)
        for i, arrow in arrows:
            if arrow.label.name not in step.types or arrow.src != src or arrow.dst != dst:
                continue
            if arrow.label.name == "PBU" and step.src == "nmag" and _de_registration(arrow):
                continue
            if arrow.label.name == "PBA" and step.dst == "nmag" and not _accepted(arrow):
                continue
            return i
        return None

    before: dict[int, list[Note]] = {}
    after: dict[int, list[Note]] = {}
    for k, step in enumerate(steps):
        if not step.event or step.at not in role_lane:
            continue
        note = Note(role_lane[step.at], f"[{step.event}]")
        if step.event in ("ATT", "PHT"):
            anchor = next((a for s in steps[k + 1:] if s.message and (a := find(s)) is not None), None)
            if anchor is not None:
                before.setdefault(anchor, []).append(note)
        else:
            previous = next((s for s in reversed(steps[:k]) if s.message), None)
            anchor = find(previous) if previous is not None else None
            if anchor is not None:
                after.setdefault(anchor, []).append(note)
    out: list[Row] = []
    for i, row in enumerate(rows):
        out += before.get(i, [])
        out.append(row)
        out += after.get(i, [])
    return out


def _events_of(result: CheckResult, handover: Handover, messages: Sequence) -> list:
    """Logged events of this handover's MN (identifier, link-layer id or HNP) around its messages."""
    keys = {handover.mn.lower()}
    for m in (handover.pbu, handover.pba):
        for o in (m.fields.get("options") or []) if m is not None else ():
            if isinstance(o, dict) and o.get("key") in ("mn_ll_id", "hnp"):
                keys.add(str(o.get("identifier") or o.get("prefix_text")).lower())
    lo, hi = messages[0].time_ns - EVENT_WINDOW_NS, messages[-1].time_ns
    return [e for e in result.events if e.mn.lower() in keys and lo <= e.time_ns <= hi
            and f"[{e.event}]" in LOGGED_MEANINGS]


def _with_events(rows: list[Row], events: Sequence, steps: tuple | None, lanes: Sequence[Lifeline],
                 start: Decimal, key_for, profile: Profile) -> list[Row]:
    """Logged events as notes at their node's lifeline, in time order among the arrows.

    The node is the profile's name (or an address) of a lifeline; else the role the case draws
    the event at (else the nMAG; the pMAG for a [PHT] naming a target).  A logged event replaces the
    same note implied on that lane.
    """
    role_lane = {lane.role: i for i, lane in reversed(list(enumerate(lanes)))}
    by_name = {lane.key.lower(): i for i, lane in enumerate(lanes)}
    by_name.update({lane.address.lower(): i for i, lane in enumerate(lanes)})
    drawn: list[Note] = []
    for e in events:
        lane = by_name.get(e.node.lower())
        if lane is None:
            lane = by_name.get(key_for(e.node).lower()) if profile.nodes else None
        if lane is None:
            fallback = "pmag" if e.event == "PHT" and e.target else "nmag"  # a PHT names where the MN goes
            at = next((s.at for s in steps or () if s.event == e.event), fallback)
            lane = role_lane.get(at)
        if lane is not None:
            drawn.append(Note(lane, f"[{e.event}]", e.time - start, True))
    if not drawn:
        return rows
    logged = {(n.lane, n.text) for n in drawn}
    rows = [r for r in rows if not (isinstance(r, Note) and not r.logged and (r.lane, r.text) in logged)]
    out: list[Row] = []
    pending = sorted(drawn, key=lambda n: n.time)
    for row in rows:
        while pending and isinstance(row, Arrow) and pending[0].time <= row.time:
            out.append(pending.pop(0))
        out.append(row)
    return out + pending


def _with_data_path(rows: list[Row], handover: Handover, lane: int, start: Decimal) -> list[Row]:
    """[DATA] at the nMAG when the first downlink packet reached it through the new tunnel."""
    first = min((s for s in handover.data_path if s.direction == "down"), key=lambda s: s.time_ns, default=None)
    if first is None:
        return rows
    note = Note(lane, "[DATA]", Decimal(first.time_ns) / Decimal(1_000_000_000) - start, frame=first.frame)
    at = next((i for i, r in enumerate(rows) if isinstance(r, Arrow) and r.time > note.time), len(rows))
    return [*rows[:at], note, *rows[at:]]


def _de_registration(arrow: Arrow) -> bool:
    return any(d.startswith("lt=0s") for d in arrow.label.details)


def _accepted(arrow: Arrow) -> bool:
    for detail in arrow.label.details:
        if detail.startswith("status="):
            code = detail.split("=", 1)[1].split(" ", 1)[0]
            return code.isdigit() and int(code) < 128
    return True


def time_text(value: Decimal) -> str:
    """Relative time in seconds, microsecond resolution: ``+0.012345`` (``-0.020000`` before the first)."""
    value = value.quantize(Decimal("0.000001"))
    return f"{value}" if value < 0 else f"+{value}"


def notes_used(ladder: Ladder) -> list[str]:
    return list(dict.fromkeys(row.text for row in ladder.rows if isinstance(row, Note)))


def note_meaning(ladder: Ladder, note: str) -> str:
    """What a note means on this ladder: logged when every such note came from the event log."""
    notes = [r for r in ladder.rows if isinstance(r, Note) and r.text == note]
    if notes and all(n.logged for n in notes):
        return LOGGED_MEANINGS.get(note, note)
    return NOTE_MEANINGS.get(note, LOGGED_MEANINGS.get(note, note))


# ---------------------------------------------------------------------------------------------
# Terminal rendering: a character canvas with a style per cell
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Glyphs:
    life: str
    line: str
    bold: str
    right: str
    left: str
    ellipsis: str


UNICODE = Glyphs("│", "─", "━", "▶", "◀", "…")
ASCII = Glyphs("|", "-", "=", ">", "<", "~")


class _Canvas:
    def __init__(self, width: int) -> None:
        self.width = width
        self.chars: list[list[str]] = []
        self.styles: list[list[str]] = []

    def line(self) -> int:
        self.chars.append([" "] * self.width)
        self.styles.append([""] * self.width)
        return len(self.chars) - 1

    def put(self, y: int, x: int, text: str, style: str = "") -> None:
        for i, ch in enumerate(text):
            if 0 <= x + i < self.width:
                self.chars[y][x + i] = ch
                self.styles[y][x + i] = style

    def text(self) -> Text:
        out = Text()
        for chars, styles in zip(self.chars, self.styles, strict=True):
            line = "".join(chars).rstrip()
            start = 0
            while start < len(line):
                end = start
                while end < len(line) and styles[end] == styles[start]:
                    end += 1
                out.append(line[start:end], style=styles[start] or None)
                start = end
            out.append("\n")
        return out


def _fit(text: str, room: int, glyphs: Glyphs) -> str:
    if room <= 0:
        return ""
    return text if len(text) <= room else text[: max(room - 1, 0)] + glyphs.ellipsis


def _fit_middle(text: str, room: int, glyphs: Glyphs) -> str:
    """Shorten from the middle: addresses differ at their ends (2001:…ff01::1)."""
    if len(text) <= room:
        return text
    if room < 5:
        return _fit(text, room, glyphs)
    head = (room - 1) // 3
    return text[:head] + glyphs.ellipsis + text[len(text) - (room - 1 - head):]


def _layout(ladder: Ladder, width: int) -> tuple[int, list[int], int]:
    """(gutter width, lane x positions, lane gap) for ``width`` columns."""
    arrows = [r for r in ladder.rows if isinstance(r, Arrow)]
    time_w = max((len(time_text(a.time)) for a in arrows), default=9)
    frame_w = max((len(ladder.frame_text(a)) for a in arrows), default=2)
    gutter = time_w + frame_w + 3
    n = max(len(ladder.lifelines), 1)
    # The widest label between adjacent lanes decides the ideal gap.
    need = 14
    for a in arrows:
        span = max(abs(a.dst - a.src), 1)
        need = max(need, (len(a.text()) + 6 + span - 1) // span)
    for lane in ladder.lifelines:
        need = max(need, len(lane.name) + 3, len(lane.address) + 3)
    room = width - gutter
    if room // n < 12 and room > 0:  # a very narrow terminal: drop the gutter to the minimum
        gutter = frame_w + 2
        room = width - gutter
    gap = max(min(need, room // n), 6)
    lanes = [gutter + gap // 2 + i * gap for i in range(n)]
    return gutter, lanes, gap


def render_rich(ladder: Ladder, width: int = 100, ascii_only: bool = False) -> Text:
    """The ladder as rich Text, ``width`` columns wide; readable without colour (tags, line weight)."""
    glyphs = ASCII if ascii_only else UNICODE
    width = max(width, 30)
    gutter, xs, gap = _layout(ladder, width)
    canvas = _Canvas(width)
    y = canvas.line()
    canvas.put(y, 0, _fit(ladder.title, width, glyphs), "bold " + common.VERDICT_STYLE.get(ladder.verdict, ""))
    y = canvas.line()
    canvas.put(y, 0, _fit(ladder.subtitle(), width, glyphs), "dim")
    canvas.line()
    for row_text, style, fit in ((lambda lane: lane.name, "bold", _fit),
                                 (lambda lane: lane.address, "dim", _fit_middle)):
        y = canvas.line()
        for x, lane in zip(xs, ladder.lifelines, strict=True):
            text = fit(row_text(lane), gap - 1, glyphs)
            canvas.put(y, x - len(text) // 2, text, style)
    y = canvas.line()
    canvas.put(y, 0, _fit("time(s)", gutter - 1, glyphs), "dim")
    for x in xs:
        canvas.put(y, x, glyphs.life, "dim")

    def lifelines(y: int) -> None:
        for x in xs:
            canvas.put(y, x, glyphs.life, "dim")

    for row in ladder.rows:
        if isinstance(row, Note):
            y = canvas.line()
            lifelines(y)
            x = xs[row.lane]
            canvas.put(y, x - len(row.text) // 2, row.text, "bold cyan")
            if row.time is not None:  # a timed note: its time in the gutter ("log": from the event log)
                stamp = f"{time_text(row.time)} {'log' if row.logged else f'#{row.frame}'}"
                canvas.put(y, 0, (stamp if len(stamp) <= gutter - 1 else time_text(row.time))
                           .rjust(gutter - 1)[: gutter - 1], "dim")
            continue
        kind = row.kind
        style = common.SEVERITY_STYLE.get(kind, "magenta") if kind else ""
        label = row.text()
        lo, hi = sorted((xs[row.src], xs[row.dst]))
        inner = hi - lo - 1
        line_ch = glyphs.bold if kind else glyphs.line
        embedded = len(label) + 4 <= inner
        if not embedded:
            y = canvas.line()
            lifelines(y)
            start = lo + 2 if len(label) + 2 > inner else lo + 1 + (inner - len(label)) // 2
            if start + len(label) > width:  # slide left over the gutter-side lanes rather than cut
                start = max(gutter, width - len(label))
            canvas.put(y, start, _fit(label, width - start, glyphs), style or "bold")
        y = canvas.line()
        lifelines(y)
        stamp = f"{time_text(row.time)} {ladder.frame_text(row)}"
        if len(stamp) > gutter - 1:
            stamp = ladder.frame_text(row)
        canvas.put(y, 0, stamp.rjust(gutter - 1)[: gutter - 1], "dim")
        if row.src == row.dst:
            canvas.put(y, lo + 1, _fit(f"{line_ch}{line_ch}{glyphs.left} {label}", width - lo - 1, glyphs),
                       style)
            continue
        body = [line_ch] * inner
        if row.src < row.dst:
            body[-1] = glyphs.right
        else:
            body[0] = glyphs.left
        if embedded:  # keep the arrowhead and a stroke of line on both sides of the label
            offset = 1 + (inner - len(label) - 4) // 2
            body[offset:offset + len(label) + 2] = list(f" {label} ")
        canvas.put(y, lo + 1, "".join(body), style)
    y = canvas.line()
    lifelines(y)
    out = canvas.text()
    out.append_text(legend(ladder, ascii_only, width))
    return out


def _wrapped(out: Text, head: str, head_style: str, body: str, width: int, body_style: str = "") -> None:
    """``head`` then ``body``, wrapped to ``width`` with a hanging indent (no rich re-wrapping needed)."""
    lines = textwrap.wrap(head + body, width=max(width, 20), subsequent_indent="      ",
                          break_on_hyphens=False) or [head]
    first = lines[0]
    out.append(first[: len(head)], style=head_style)
    out.append(first[len(head):] + "\n", style=body_style or None)
    for line in lines[1:]:
        out.append(line + "\n", style=body_style or None)


def legend(ladder: Ladder, ascii_only: bool = False, width: int = 100) -> Text:
    """What the tags and notes mean, below the ladder, wrapped to ``width``."""
    out = Text()
    glyphs = ASCII if ascii_only else UNICODE
    if ladder.markers:
        out.append(f"Findings ({glyphs.bold * 3} arrow cited by a finding):\n", style="bold")
        for marker in ladder.markers:
            style = common.SEVERITY_STYLE.get(marker.kind, "magenta")
            f = marker.finding
            placed = "" if marker not in ladder.unplaced else " (cites no frame drawn here)"
            head = common.clean(f"  [{marker.tag}] {f.rule} {marker.kind}: ")
            _wrapped(out, head, style, common.clean(f"{f.message} ({common.refs_text(f)}){placed}"), width)
    for note in notes_used(ladder):
        _wrapped(out, f"  {note} ", "bold cyan", note_meaning(ladder, note), width, "dim")
    if len(ladder.files) > 1:
        files = ", ".join(f"{i}={f}" for i, f in enumerate(ladder.files, 1))
        _wrapped(out, "Files: ", "dim", common.clean(files), width, "dim")
    return out


def to_text(ladders: Sequence[Ladder], width: int = 100, color: bool = False, ascii_only: bool = False) -> str:
    """Ladders as a string (ANSI colours only when ``color``)."""
    console = Console(width=width, color_system="standard" if color else None, force_terminal=color,
                      no_color=not color, highlight=False, emoji=False, record=False,
                      file=_Sink(), legacy_windows=False)
    with console.capture() as capture:
        for i, ladder in enumerate(ladders):
            if i:
                console.print()
            console.print(render_rich(ladder, width, ascii_only), end="", soft_wrap=True)
    return capture.get()


class _Sink:
    """A write-only file for a Console that only ever captures."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False
