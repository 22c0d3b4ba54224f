"""Messages -> PBU/PBA exchanges -> per-MN bindings -> handovers with their CXTP and HI/HAck.

The MN key follows RFC 5213 section 5.4.1: the MN Identifier option; without it the MN
link-layer identifier with the access technology type; then the home network prefix.  A
handover is the MN's accepted registration moving from one MAG (known by its Proxy-CoA, the
PBU source, or by its profile node) to another.  CXTP joins by the MN's previous address inside
the binding's prefixes (or the profile's ``[mns]`` table), HI/HAck by the MN Identifier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, itemgetter, not_
from typing import Any

from ..decode.model import Message
from ..profile import Profile
from .evidence import (
    CXTP_ACCESS,
    CXTP_TRANSFER,
    FHO,
    NodeKeys,
    _network_text,
    _option_index,
    canonical,
    ll_att_key,
    mn_identifier,
    num,
    options_layout,
    prefix_texts,
    prev_addr,
)
from .model import Binding, Exchange

UNIDENTIFIED = "(unidentified MN)"
_PMIP = frozenset({"PBU", "PBA"})
_type = attrgetter("type")


@dataclass(slots=True)
class _MN:
    key: str
    kind: str
    prefixes: list[str] = field(default_factory=list)  # networks as text, "2001:db8:1::/64"
    registrations: list[Message] = field(default_factory=list)  # PBUs of accepted registrations
    current: Exchange | None = None  # the registration the LMA holds now
    last: Exchange | None = None  # the last accepted registration, even after de-registration
    ended_ns: int | None = None  # when the current binding was de-registered


@dataclass(slots=True)
class Draft:
    """A handover (or a first attachment that may turn out to be one) while evidence is joined."""

    mn: str
    nmag: str
    pmag: str | None
    pbu: Exchange | None
    previous: Exchange | None
    anchor_ns: int
    deregs: list[Exchange] = field(default_factory=list)
    cxtp: list[Message] = field(default_factory=list)
    fho: list[Message] = field(default_factory=list)
    at: list[int] = field(default_factory=list)  # where its messages (the PBU/PBA, deregs, cxtp, fho) are in the capture


@dataclass
class Correlation:
    exchanges: list[Exchange]
    bindings: list[Binding]
    drafts: list[Draft]  # handovers only (attachments without a pMAG are dropped)
    mns: list[str | None]  # aligned with the messages: the MN each belongs to (None: none known)


class _Identities:
    """MN keys and their aliases (link-layer id + ATT, prefixes), as RFC 5213 section 5.4.1 looks up.

    Prefixes are keyed by their canonical text (``evidence.prefix_texts``): equal networks have
    equal text, and text hashes in C where an ``ipaddress`` network hashes in Python.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.mns: dict[str, _MN] = {}
        self.alias: dict[str, str] = {}
        self.alias_nets: dict[str, str] = {}  # network text -> MN key
        self.lengths: dict[int, list[int]] = {}  # IP version -> prefix lengths in alias_nets, longest first
        self._near: dict[str, str | None] = {}  # by_address answers; emptied when a prefix is added
        self.memo: dict[tuple[int, ...], str | None] = {}  # identity option records' ids -> MN key
        self.picks: dict[int, Callable[[Any], Sequence[Any]]] = {}  # id(option layout) -> _picker(layout)
        self._layouts: list[object] = []  # the layouts ``picks`` is keyed by

    def identify(self, msg: Message, create: bool = True) -> str | None:
        """The message's MN key (None: it names no MN), made known (``create``) if it is new.

        Memoised by the identity options themselves: the decoder hands every message of an MN
        the same (read-only) MN-ID, link-layer id, ATT and HNP option records, so the key is
        worked out once per distinct set of them.  A memoised key is final: once its aliases
        are recorded, the same options always name the same MN and record nothing new.
        """
        index = msg.option_index  # which identity option records it carries, by identity
        if index is None:
            index = _option_index(msg)
        pick = self.picks.get(id(index))
        if pick is None:
            pick = self.pick(index)
        sig = tuple(map(id, pick(msg.fields.get("options"))))
        key = self.memo.get(sig, _UNSEEN)
        return self.learn(msg, sig, create) if key is _UNSEEN else key  # type: ignore[return-value]

    def pick(self, index: Mapping[str, tuple[int, ...]]) -> Callable[[Any], Sequence[Any]]:
        """The identity option records' picker for a layout :attr:`picks` does not hold yet."""
        picker = self.picks[id(index)] = _picker(index)
        self._layouts.append(index)  # kept alive: its id is the key
        return picker

    def learn(self, msg: Message, sig: tuple[int, ...], create: bool = True) -> str | None:
        """:meth:`identify` for a message whose memo key ``sig`` the memo does not hold yet."""
        key = self._identify(msg, create)
        if key is None or key in self.mns:  # else (not created) nothing was recorded: no memo
            self.memo[sig] = key
        return key

    def _identify(self, msg: Message, create: bool) -> str | None:
        mid, ll, pfx = mn_identifier(msg), ll_att_key(msg), prefix_texts(msg)
        key, kind = None, ""
        if mid is not None:
            key, kind = mid, "mn-id"
        elif ll is not None and ll in self.alias:
            key = self.alias[ll]
        else:
            key = next((self.alias_nets[p] for p in pfx if p in self.alias_nets), None)
            if key is None and ll is not None:
                key, kind = ll, "ll-id+att"
            elif key is None and pfx:
                key, kind = pfx[0], "hnp"
        if key is None:
            return None
        if key not in self.mns:
            if not create:
                return key
            self.mns[key] = _MN(key, kind or "mn-id")
        mn = self.mns[key]
        if ll is not None:
            self.alias.setdefault(ll, key)
        for p in pfx:
            if p not in self.alias_nets:
                self.alias_nets[p] = key
                self._near.clear()
                address, _, length = p.rpartition("/")
                in_use = self.lengths.setdefault(6 if ":" in address else 4, [])
                if int(length) not in in_use:
                    in_use.append(int(length))
                    in_use.sort(reverse=True)
            if p not in mn.prefixes:
                mn.prefixes.append(p)
        return key

    def by_address(self, address: object) -> str | None:
        """The MN whose prefix holds ``address`` (the CXTP 'MN's previous IP address')."""
        if not isinstance(address, str):
            return None
        found = self._near.get(address, _UNSEEN)
        if found is _UNSEEN:
            # a handover's CXTP messages name one address: work it out once while no prefix is added
            found = self._near[address] = self._by_address(address)
        return found  # type: ignore[return-value]

    def _by_address(self, address: str) -> str | None:
        if self.profile.mn_addresses:
            mapped = self.profile.mn_addresses.get(canonical(address))
            if mapped is not None:
                return mapped
        version = 6 if ":" in address else 4
        for length in self.lengths.get(version, ()):
            # longest match first, one dict lookup per prefix length in use
            net = _network_text(address, length)  # by_address memoises the answer per address
            key = self.alias_nets.get(net) if net is not None else None
            if key is not None:
                return key
        return None


_UNSEEN = object()


def _picker(index: Mapping[str, tuple[int, ...]]) -> Callable[[Any], Sequence[Any]]:
    """For one option layout: the option records ``identify`` reads (first MN-ID, first link-layer
    id, first ATT, every HNP), in that order; none when the layout has none of them."""
    at = [index[key][0] for key in ("mn_id", "mn_ll_id", "att") if index.get(key)]
    at.extend(index.get("hnp", ()))
    if not at:
        return _nothing
    return itemgetter(slice(at[0], at[0] + 1)) if len(at) == 1 else itemgetter(*at)


def _nothing(found: object) -> tuple[()]:
    """The picker of a layout with no identity option (whose options may be missing altogether)."""
    return ()


def _pair_pbas(pmip: list[Message], at: list[int], ids: _Identities, mns_at: list[str | None]) -> list[list[Any]]:
    """PBUs in order, each as ``[pbu, mn, pba, lifetime, status, options, time_ns, pbu_at, pba_at, src, dst,
    older]`` with the PBA that answers it (None if none does): swapped addresses, same sequence number,
    same MN; ``*_at`` are the two messages' positions in the capture; ``older`` the PBU before it with
    the same addresses and sequence number (None: none), so that ``by_seq`` holds one item per key
    rather than a list (nearly every key has one PBU).

    ``at``: each message's position in the capture, where its MN goes in ``mns_at``.

    Plain lists rather than records: one per PBU (36k on the 100k bench), only read here and by
    :func:`correlate`.  They also carry what is read later of the PBU and PBA (the PBU's
    ``lifetime``, its options list, time and addresses, the PBA's ``status``), taken while the message is
    read here: by the time :func:`correlate` gets to them, 84k messages later, their field dicts
    are out of the CPU's caches again.  The PBUs by MN are indexed only when a PBA needs them
    (one whose sequence number no open PBU has): on most captures never.
    """
    pending: list[list[Any]] = []
    by_seq: dict[tuple[str, str, object], list[Any]] = {}  # the latest PBU per (src, dst, seq); older: item[11]
    by_mn: defaultdict[tuple[str, str, str], list[list[Any]]] = defaultdict(list)
    by_mn_upto = 0  # pending[:by_mn_upto] are in by_mn
    identify, mns, memo, learn, picks = ids.identify, ids.mns, ids.memo, ids.learn, ids.picks
    for pos, msg in zip(at, pmip, strict=True):
        fields = msg.fields
        seq = fields.get("seq")
        if type(seq) is not int:
            seq = num(msg, "seq")
        options = fields.get("options")
        if msg.type == "PBU":
            # ids.identify(msg), written out: it runs for every PBU
            index = msg.option_index
            if index is None:  # _option_index(msg), with the options at hand
                index = msg.option_index = options_layout(options) if type(options) is list else _option_index(msg)
            pick = picks.get(id(index))
            if pick is None:
                pick = ids.pick(index)
            sig = tuple(map(id, pick(options)))
            known: Any = memo.get(sig, _UNSEEN)  # an MN key, None, or _UNSEEN
            mn = (learn(msg, sig) if known is _UNSEEN else known) or UNIDENTIFIED
            if mn == UNIDENTIFIED and mn not in mns:
                mns[mn] = _MN(mn, "none")
            mns_at[pos] = mn
            src, dst = msg.src, msg.dst
            key = (src, dst, seq)
            item = [msg, mn, None, fields.get("lifetime"), None, options, msg.time_ns, pos, None, src, dst,
                    by_seq.get(key)]
            pending.append(item)
            by_seq[key] = item
            continue
        same_seq = by_seq.get((msg.dst, msg.src, seq))
        t = msg.time_ns
        latest = same_seq  # the latest open PBU with this sequence number
        while latest is not None and (latest[2] is not None or latest[6] > t):
            latest = latest[11]
        if latest is not None and options is not None and latest[5] is options:
            # An echo: the decoder hands a PBA that repeats its PBU's options that PBU's very
            # list, so it names the same MN and answers the latest open PBU; no identity to read.
            if msg.option_index is None:
                msg.option_index = latest[0].option_index  # same list, same positions
            latest[2], latest[4], latest[8] = msg, fields.get("status"), pos
            mns_at[pos] = latest[1]
            continue
        own = identify(msg, create=False)
        # The latest open PBU with this sequence number, of this MN if there is one.
        chosen = latest
        if own is not None and latest is not None and latest[1] != own:
            chosen = next((p for p in _older(same_seq) if p[2] is None and p[6] <= t and p[1] == own), latest)
        if chosen is None and own is not None:
            # No PBU with this sequence number: the PBA still answers the MN's pending PBU from
            # that MAG (PMIP-P7 reports the sequence number it failed to echo).
            for p in pending[by_mn_upto:]:
                by_mn[p[9], p[10], p[1]].append(p)
            by_mn_upto = len(pending)
            chosen = next((p for p in reversed(by_mn.get((msg.dst, msg.src, own), ())) if p[2] is None and p[6] <= t),
                          None)
        if chosen is not None:
            chosen[2], chosen[4], chosen[8] = msg, fields.get("status"), pos
            mns_at[pos] = chosen[1]
        elif own is not None:
            mns_at[pos] = own
    return pending


def _older(item: list[Any] | None) -> Iterator[list[Any]]:
    """A pending PBU and those before it with the same addresses and sequence number, latest first."""
    while item is not None:
        yield item
        item = item[11]


def correlate(messages: list[Message], profile: Profile, types: list[str] | None = None) -> Correlation:
    """Build exchanges, bindings and handover drafts from messages in time order.

    ``types``: the messages' types, when the caller has them (``analyze`` does).  Each message
    is its own record (the decoder makes one per message): its MN is kept by its position.
    """
    ids = _Identities(profile)
    node = NodeKeys(profile)
    # by position rather than id(message): 84k stores into a list, not inserts into a dict of 84k
    mns_at: list[str | None] = [None] * len(messages)
    window_ns = int(profile.timers.min_delay_before_bce_delete * 1e9)
    # PBU/PBA for the pairing, the rest (CXTP, HI/HAck, others) for the joins: split in C
    is_pmip = list(map(_PMIP.__contains__, map(_type, messages) if types is None else types))
    positions = range(len(messages))
    pending = _pair_pbas(list(compress(messages, is_pmip)), list(compress(positions, is_pmip)), ids, mns_at)
    exchanges = []
    drafts: list[Draft] = []
    deregs: list[tuple[Exchange, int, int | None]] = []  # with where its PBU and PBA are
    mns = ids.mns
    for pbu, mn, pba, lifetime, status, _, t, pbu_at, pba_at, src, dst, _ in pending:
        ex = Exchange(pbu, pba, mn, src, dst)
        exchanges.append(ex)
        state = mns[mn]
        mag = node[src]
        if lifetime is not None and type(lifetime) is not int:
            lifetime = ex.lifetime
        # ex.accepted: None without a PBA, else whether the status is an int under 128
        accepted = None if pba is None else status < 128 if type(status) is int else ex.accepted
        if lifetime is not None and lifetime > 0:
            if accepted is False:
                continue
            previous = state.current
            if previous is None and state.last is not None and node[state.last.mag] != mag and (
                state.ended_ns is None or t - state.ended_ns <= window_ns
            ):
                previous = state.last
            moved_from = previous if previous is not None and node[previous.mag] != mag else None
            if moved_from is not None or state.current is None:  # a handover, or an attachment for now
                # where the draft's messages are: listed only for the exchanges that make one
                drafts.append(Draft(mn, src, None if moved_from is None else moved_from.mag, ex, moved_from, t,
                                    at=[pbu_at] if pba is None else [pbu_at, pba_at]))
            state.current = state.last = ex
            state.ended_ns = None
            state.registrations.append(pbu)
        else:
            deregs.append((ex, pbu_at, pba_at))
            if state.current is not None and node[state.current.mag] == mag and accepted is not False:
                state.current, state.ended_ns = None, t

    by_mn_drafts: dict[str, list[Draft]] = {}
    for d in drafts:
        by_mn_drafts.setdefault(d.mn, []).append(d)

    # The pMAG's de-registrations: to the nearest handover away from that MAG.
    for ex, pbu_at, pba_at in deregs:
        mag = node[ex.mag]
        mine = by_mn_drafts.get(ex.mn, ())
        near = [d for d in mine if d.pmag is not None and node[d.pmag] == mag]
        if not near:
            near = [d for d in mine if d.pmag is None and node[d.nmag] != mag
                    and abs(ex.pbu.time_ns - d.anchor_ns) <= window_ns]
        if near:
            t = ex.pbu.time_ns
            best = near[0] if len(near) == 1 else min(near, key=lambda d: abs(t - d.anchor_ns))
            best.pmag = best.pmag or ex.mag
            best.deregs.append(ex)
            best.at.append(pbu_at)
            if pba_at is not None:
                best.at.append(pba_at)

    orphans: list[tuple[int, Message]] = []
    by_address = ids.by_address
    hi_mn: dict[tuple[str, str, object], str] = {}
    for pos in compress(positions, map(not_, is_pmip)):
        msg = messages[pos]
        if msg.protocol == "cxtp":
            mn = by_address(msg.fields.get("mn_prev_addr"))  # prev_addr(msg): None unless text
            if mn is not None:
                mns_at[pos] = mn
            if msg.type in CXTP_ACCESS:
                continue
            if msg.type not in CXTP_TRANSFER:
                continue
            if msg.type in ("CTD", "PCTD"):
                pside, nside = msg.src, msg.dst
            else:
                nside, pside = msg.src, msg.dst
            if mn is not None and _join(node, by_mn_drafts.get(mn, []), msg, pos, nside, pside, window_ns):
                continue
            if mn is None and _join(node, drafts, msg, pos, nside, pside, window_ns, exact=True):
                continue  # an MN address no binding holds (a wrong address): the pair's nearest handover
            orphans.append((pos, msg))
        elif msg.type in FHO:
            mn = ids.identify(msg, create=False)
            if msg.type == "HI" and mn is not None:
                hi_mn[(msg.src, msg.dst, num(msg, "seq"))] = mn
            if mn is None and msg.type == "HAck":
                mn = hi_mn.get((msg.dst, msg.src, num(msg, "seq")))
            if mn is None:
                continue
            mns_at[pos] = mn
            _join_fho(node, by_mn_drafts.get(mn, []), msg, pos, window_ns)

    drafts.extend(_orphan_drafts(orphans, node, mns_at, window_ns))
    handovers = [d for d in drafts if d.pmag is not None]
    bindings = [
        Binding(mn.key, mn.kind, tuple(mn.prefixes), tuple(mn.registrations))
        for mn in ids.mns.values() if mn.registrations
    ]
    return Correlation(exchanges, bindings, handovers, mns_at)


_score_and_dt = itemgetter(0, 1)  # candidates (score, dt, draft): the lowest score, then the nearest


def _join(node: NodeKeys, drafts: list[Draft], msg: Message, pos: int, nside: str, pside: str,
          window_ns: int, exact: bool = False) -> bool:
    """Put a CXTP message (at ``pos`` in the capture) into the handover it belongs to; False when there is none.

    ``exact``: only a handover between exactly this pMAG and nMAG will do.
    """
    n, p = node[nside], node[pside]
    t = msg.time_ns
    scored = []
    for d in drafts:
        dt = abs(t - d.anchor_ns)
        if dt > window_ns:
            continue
        dn, dp = node[d.nmag], node[d.pmag]
        if dn == n and dp == p:
            score = 0
        elif exact:
            continue
        elif dn == n:
            score = 1  # the right nMAG talking to another MAG (or the pMAG is not known yet)
        elif dp == p:
            score = 2
        elif dn == p and dp == n:
            score = 3  # the pair, the wrong way round (CXTP-C4 reports it)
        else:
            continue
        if d.pmag is None:
            score += 4  # a first attachment becomes a handover only when no real one fits
        scored.append((score, dt, d))
    if not scored:
        return False
    score, _, best = scored[0] if len(scored) == 1 else min(scored, key=_score_and_dt)
    if best.pmag is None and score == 5:
        best.pmag = pside
    best.cxtp.append(msg)
    best.at.append(pos)
    return True


def _join_fho(node: NodeKeys, drafts: list[Draft], msg: Message, pos: int, window_ns: int) -> None:
    pair = {node[msg.src], node[msg.dst]}
    t = msg.time_ns
    scored = []
    for d in drafts:
        dt = abs(t - d.anchor_ns)
        if dt > window_ns:
            continue
        dn = node[d.nmag]
        if d.pmag is not None and {dn, node[d.pmag]} == pair:
            scored.append((0, dt, d))
        elif d.pmag is None and dn in pair:
            scored.append((1, dt, d))
    if scored:
        _, _, best = scored[0] if len(scored) == 1 else min(scored, key=_score_and_dt)
        if best.pmag is None:
            best.pmag = msg.dst if node[msg.src] == node[best.nmag] else msg.src
        best.fho.append(msg)
        best.at.append(pos)


def _orphan_drafts(orphans: list[tuple[int, Message]], node: NodeKeys, mns_at: list[str | None],
                   window_ns: int) -> list[Draft]:
    """CXTP exchanges with no registration in the capture (a MAG-side tap): handovers of their own."""
    groups: list[Draft] = []
    last: dict[tuple[str, frozenset[str | None]], Draft] = {}
    for pos, msg in orphans:
        known = mns_at[pos]
        mn = known or prev_addr(msg) or UNIDENTIFIED
        if known is None:
            mns_at[pos] = mn
        key = (mn, frozenset({node[msg.src], node[msg.dst]}))
        d = last.get(key)
        if d is not None and msg.time_ns - d.cxtp[-1].time_ns <= window_ns:
            d.cxtp.append(msg)
            d.at.append(pos)
            continue
        if msg.type in ("CTD", "PCTD"):
            pmag, nmag = msg.src, msg.dst
        else:
            pmag, nmag = msg.dst, msg.src
        last[key] = Draft(mn, nmag, pmag, None, None, msg.time_ns, cxtp=[msg], at=[pos])
        groups.append(last[key])
    return groups
