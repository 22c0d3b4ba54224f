"""What a check function sees: the analysis, the notices, the profile, and lookups over them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from operator import attrgetter
from typing import Any, Literal, TypeVar, cast

from ..analysis.cases import Case
from ..analysis.evidence import node_of, option_count, prev_addr
from ..analysis.model import Analysis, Exchange, Handover
from ..decode.model import Message
from ..notices import Notice
from ..profile import Profile
from ..registry import Timers
from .model import Rule

Evidence = Message | Notice
_time = attrgetter("time_ns")
_type = attrgetter("type")
_option_index = attrgetter("option_index")
#: A message's option layout: option key -> its positions in ``fields["options"]`` (``Message.option_index``).
Layout = Mapping[str, tuple[int, ...]]
T = TypeVar("T")


@dataclass(slots=True)
class Hit:
    """A check's report before the engine makes it a Finding: what, which frames, which handover.

    Made once per finding and read once by the engine (not frozen: a frozen record costs a
    microsecond more to build, and nothing hashes or keeps a Hit).
    """

    message: str
    evidence: tuple[Evidence, ...]
    handover: str | None = None
    outcome: Literal["fail", "inconclusive"] = "fail"
    per_handover: bool = True  # False: about a link or the capture (IPsec), judged on no handover


@dataclass
class Context:
    analysis: Analysis
    notices: Sequence[Notice]
    profile: Profile
    cases: Mapping[str, Case]
    catalogue: Sequence[Rule]
    _exchange: dict[int, Exchange] | None = None
    _index: dict[int, int] | None = None
    _located: dict[int, int] = field(default_factory=dict)
    _claims: dict[str, list[Notice]] | None = None
    _at: dict[tuple[str, int], Message] | None = None
    _by_type: dict[str, list[Message]] | None = None
    _indexes: dict[str, dict[Hashable, list[Message]]] = field(default_factory=dict)
    _merged: dict[tuple[str, ...], list[Message]] = field(default_factory=dict)
    _nodes: dict[str, str] = field(default_factory=dict)
    _pairs: dict[int, tuple[str | None, str | None, object]] = field(default_factory=dict)
    _ends: dict[str | None, int] = field(default_factory=dict)
    _shared: dict[str, Any] = field(default_factory=dict)
    _layouts: dict[str, dict[int, tuple[Layout, Any]]] = field(default_factory=dict)
    _type_layouts: dict[str, list[Layout]] = field(default_factory=dict)

    # ---- lookups -----------------------------------------------------------------------
    @property
    def messages(self) -> tuple[Message, ...]:
        return self.analysis.messages

    @property
    def handovers(self) -> tuple[Handover, ...]:
        return self.analysis.handovers

    @property
    def timers(self) -> Timers:
        return self.profile.timers

    def exchange_of(self, msg: Message) -> Exchange | None:
        if self._exchange is None:
            exchanges = self.analysis.exchanges
            self._exchange = dict(zip(map(id, (ex.pbu for ex in exchanges)), exchanges, strict=True))
            self._exchange.update({id(ex.pba): ex for ex in exchanges if ex.pba is not None})
        return self._exchange.get(id(msg))

    def _position(self, msg: Message) -> int | None:
        if self._index is None:
            found = self._located.get(id(msg))
            if found is not None:
                return found
            self._index = dict(zip(map(id, self.analysis.messages), itertools.count()))
        return self._index.get(id(msg))

    def locate(self, messages: Iterable[Message]) -> None:
        """Find the positions of ``messages`` in the analysis in one pass made in C, before
        :meth:`handover_of` asks for them: the engine knows the findings' messages, a few thousand,
        and an index of every message (made on any other ask) holds ~120 bytes a message."""
        wanted = set(map(id, messages))
        if self._index is not None or not wanted:
            return
        every = self.analysis.messages
        at = itertools.compress(itertools.count(), map(wanted.__contains__, map(id, every)))
        self._located = {id(every[i]): i for i in at}  # as the full index: a repeated message's last position

    def mn_of(self, msg: Message) -> str | None:
        i = self._position(msg)
        return None if i is None else self.analysis.mns[i]

    def handover_of(self, msg: Message) -> str | None:
        i = self._position(msg)
        return None if i is None else self.analysis.handover_of[i]

    def message_at(self, file: str, frame: int | None) -> Message | None:
        """The message decoded from ``file``:``frame`` (where a notice points), if any."""
        if frame is None:
            return None
        if self._at is None:
            self._at = {}
            for m in self.analysis.messages:
                self._at.setdefault((m.file, m.frame), m)
        return self._at.get((file, frame))

    def of_type(self, *types: str) -> Iterator[Message]:
        """Messages of these types in time order (from a per-type index built once).

        Messages of one time keep the analysis's order whatever order ``types`` come in: rules
        pass frozensets (``*CXTP_TRANSFER``), whose order changes with PYTHONHASHSEED.
        """
        if len(types) == 1:
            return iter(self._type_index().get(types[0], ()))
        merged = self._merged.get(types)
        if merged is None:  # several rules ask for the same mix (CTD+PCTD, PBU+PBA): merge it once
            index = self._type_index()
            lists = [index.get(t, ()) for t in dict.fromkeys(types)]
            if sum(map(len, lists)) * 4 < len(self.analysis.messages):  # a few: merge their lists
                merged = list(itertools.chain.from_iterable(lists))
                merged.sort(key=_time)
                if len(set(map(_time, merged))) != len(merged):  # a tie: the analysis's order decides it
                    merged = self._in_analysis_order(frozenset(types))
            else:  # most of the capture (PBU+PBA): one pass in C costs less than merging and looking for ties
                merged = self._in_analysis_order(frozenset(types))
            self._merged[types] = merged
        return iter(merged)

    def _in_analysis_order(self, types: frozenset[str]) -> list[Message]:
        """The messages of ``types`` sorted by time, ties in the analysis's order (what :meth:`of_type` defines)."""
        every = self.analysis.messages
        found = list(itertools.compress(every, map(types.__contains__, map(_type, every))))
        found.sort(key=_time)  # stable: ties keep the analysis's order (and a list in time order is one run)
        return found

    def _type_index(self) -> dict[str, list[Message]]:
        if self._by_type is None:
            self._by_type = {}
            for m in self.analysis.messages:
                self._by_type.setdefault(m.type, []).append(m)
        return self._by_type

    def index(self, name: str, types: tuple[str, ...], key: Callable[[Message], Hashable]) -> dict[Hashable, list[Message]]:
        """Messages of ``types`` grouped by ``key`` (time order kept), built once per ``name``."""
        found = self._indexes.get(name)
        if found is None:
            found = {}
            for m in self.of_type(*types):
                found.setdefault(key(m), []).append(m)
            self._indexes[name] = found
        return found

    def keep_index(self, name: str, found: dict[Hashable, list[Message]]) -> None:
        """Hold ``found`` as :meth:`index` ``name``: for a walk that groups messages while reading them
        for something else (``checks.cxfacts``); it must be what :meth:`index` would build."""
        self._indexes.setdefault(name, found)

    def shared(self, name: str, build: Callable[[Context], T]) -> T:
        """``build(self)``, made once per Context under ``name``: what several rules derive alike."""
        if name not in self._shared:
            self._shared[name] = build(self)
        return self._shared[name]

    def per_layout(self, name: str, msg: Message, read: Callable[[Layout], T]) -> T:
        """``read(layout)`` of ``msg``'s option layout, worked out once per distinct layout under ``name``.

        For what depends only on which options a message carries, how many and in which order (a PBU
        lacking a mandatory option, two MN-ID options): messages with one sequence of option keys share
        one ``option_index`` mapping (``analysis.evidence``), and a capture's thousands of PBUs come in
        a few dozen layouts.  Memoised by the mapping's identity; the memo holds the mapping, so the
        identity stays its own while the Context lives.
        """
        layout = layout_of(msg)
        memo = self._layouts.get(name)
        if memo is None:
            memo = self._layouts[name] = {}
        found = memo.get(id(layout))
        if found is None:
            found = memo[id(layout)] = (layout, read(layout))
        return found[1]

    def layouts(self, type_: str) -> list[Layout]:
        """The distinct option layouts of the messages of ``type_`` (by identity), found in one walk.

        A rule that judges layouts alone (PMIP-P3, PMIP-P4, DRAFT-D10) has nothing to report when
        none of them fails, and need not walk the messages at all (a clean capture: every time).
        """
        found = self._type_layouts.get(type_)
        if found is None:
            held = list(map(_option_index, self.of_type(type_)))
            if None not in held:  # every index made already (the analysis reads the MH messages' options)
                found = list(dict(zip(map(id, held), held, strict=True)).values())
            else:
                distinct: dict[int, Layout] = {}
                for m in self.of_type(type_):
                    layout = layout_of(m)
                    distinct.setdefault(id(layout), layout)
                found = list(distinct.values())
            self._type_layouts[type_] = found
        return found

    def types(self) -> list[str]:
        """The message types of the analysis, in order of first appearance."""
        return list(self._type_index())

    def pair_key(self, m: Message) -> tuple[str | None, str | None, object]:
        """(sender node, receiver node, MN previous address): how CXTP messages find each other.

        Memoised per message (by identity: the analysis holds its messages as long as the Context
        lives): indexes are keyed by it and several rules look answers up by it.
        """
        found = self._pairs.get(id(m))
        if found is None:
            found = self._pairs[id(m)] = (self.node(m.src), self.node(m.dst), prev_addr(m))
        return found

    def pair_memo(self) -> dict[int, tuple[str | None, str | None, object]]:
        """The memo :meth:`pair_key` reads (by message identity): for a walk that works out many
        pair keys while reading the messages for something else (``checks.cxfacts``)."""
        return self._pairs

    def node(self, address: str | None) -> str | None:
        """The address's node identity (``evidence.node_of``), memoised: rules ask ~8 times a message."""
        if type(address) is not str:
            return node_of(self.profile, address)
        found = self._nodes.get(address)
        if found is None:
            found = self._nodes[address] = node_of(self.profile, address)  # type: ignore[assignment]
        return found

    def same(self, a: str | None, b: str | None) -> bool:
        """``evidence.same_node`` through the memoised :meth:`node` (one address is its own node: no lookup)."""
        return a is not None and b is not None and (a == b or self.node(a) == self.node(b))

    def name(self, address: str | None) -> str:
        return "?" if address is None else self.profile.name_for(address)

    def transfer_visible(self, h: Handover) -> bool:
        """Whether the capture shows traffic between MAGs at the pMAG or the nMAG of ``h``."""
        return bool({"pmag", "nmag"} & h.vantage)

    def capture_end_ns(self, file: str | None = None) -> int:
        """The last message's time in ``file`` (any file: None); 0 without messages."""
        if file not in self._ends:  # several rules ask: once per file
            messages = self.analysis.messages
            self._ends[file] = max((m.time_ns for m in messages if file is None or m.file == file), default=0)
        return self._ends[file]

    # ---- notices -----------------------------------------------------------------------
    def all_notices(self) -> list[Notice]:
        seen = [w for m in self.analysis.messages for w in m.warnings]
        return seen + list(self.notices)

    def claimed(self, rule_id: str) -> list[Notice]:
        """The notices this rule reports: each notice goes to one rule of the full catalogue.

        A rule's ``params.codes`` are glob patterns; an exact code beats a pattern, earlier
        rules beat later ones; ``params.fallback`` takes what no other rule claims.  Notices that
        the rule claiming a message's dialect notice ``absorbs`` are dropped for that message.
        """
        if self._claims is None:
            self._claims = _dispatch(self.all_notices(), self.catalogue)
        return self._claims.get(rule_id, [])


def layout_of(msg: Message) -> Layout:
    """``msg.option_index``, made first if need be (analysis.evidence makes it on first use)."""
    if msg.option_index is None:
        option_count(msg, "mn_id")
    return cast(Layout, msg.option_index)


def _dispatch(notices: list[Notice], catalogue: Sequence[Rule]) -> dict[str, list[Notice]]:
    mapping = [(r, [str(c) for c in r.params.get("codes", ())]) for r in catalogue if "codes" in r.params]
    fallback = next((r.id for r, _ in mapping if r.params.get("fallback")), None)

    def owner(code: str) -> str | None:
        for r, codes in mapping:
            if not r.params.get("fallback") and code in codes:
                return r.id
        for r, codes in mapping:
            if not r.params.get("fallback") and any(fnmatchcase(code, c) for c in codes):
                return r.id
        return fallback

    absorbed: set[tuple[str, int | None, str]] = set()
    for n in notices:
        rid = owner(n.code)
        rule = next((r for r, _ in mapping if r.id == rid), None)
        if rule is not None and n.frame is not None:
            for code in rule.params.get("absorbs", ()):
                absorbed.add((n.file, n.frame, str(code)))
    out: dict[str, list[Notice]] = {}
    for n in notices:
        if (n.file, n.frame, n.code) in absorbed:
            continue
        rid = owner(n.code)
        if rid is not None:
            out.setdefault(rid, []).append(n)
    return out
