"""One walk over the CXTP messages, reading what the CXTP rules judge while each message is at hand.

The CXTP rules (CXTP-C5/C6/C8/C9/C10/C11/C12/C15) each walked the CXTP messages of their types and
read the same fields again (flags, MN address, statuses, CDBs, transport): on the 100k bench ~15k
messages whose records are cold by the time the rules run, two cache misses a message and rule.
:func:`cxtp_facts` reads each record once, in time order, keeps per rule only what it reports or
looks at again (most messages pass), and fills the Context's pair-key memo and the CTD/CTDR
indexes the rules look answers up in.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from ... import registry
from ...analysis.evidence import CXTP_ACCESS, CXTP_TRANSFER, NodeKeys, transport_info
from ...capture.model import SctpInfo
from ...decode.model import Message
from ..context import Context

#: Every CXTP message type the decoder names (RFC 4067's transfer and access messages).
CXTP_TYPES = tuple(sorted({registry.TABLES["cxtp_type"][t] for t in registry.CXTP_BODIES} | CXTP_TRANSFER | CXTP_ACCESS))
PairKey = tuple[str | None, str | None, object]


@dataclass(slots=True)
class CxtpFacts:
    """What the CXTP rules judge, gathered in one walk; every list in time order."""

    #: CXTP-C5: transfer messages not over SCTP; access messages not over ICMP, or with a Hop Limit not 255.
    not_sctp: list[Message] = field(default_factory=list)
    access: list[tuple[Message, bool, object]] = field(default_factory=list)  # (message, over ICMP, hop limit)
    #: CXTP-C6: transfer messages on an ordered SCTP DATA chunk.
    ordered: list[Message] = field(default_factory=list)
    #: CXTP-C8: CTDs/PCTDs with the A flag set that no CTDR back on their pair followed in the walk
    #: (the rule judges these again: ties in time).
    unacked: list[Message] = field(default_factory=list)
    #: DRAFT-D12: the same CTDs/PCTDs by identity (whether a CTD wants a CTDR, without its flags record).
    wants_ack: set[int] = field(default_factory=set)
    #: CXTP-C9: CTDRs whose S flag disagrees with their statuses: (message, the first failed status or None).
    status_mismatch: list[tuple[Message, dict | None]] = field(default_factory=list)
    #: CXTP-C10: CTDRs no CTD/PCTD back on their pair preceded in the walk (the rule judges these again);
    #: (unanswered CT-Req, the CT-Req for the same MN that followed it within CT_MAX_TRANSFER_TIME).
    unmatched_ctdr: list[Message] = field(default_factory=list)
    second_transfer: list[tuple[Message, Message]] = field(default_factory=list)
    #: CXTP-C19: node pair -> its first transfer message not inside ESP/AH (``common.clear_firsts``).
    clear_firsts: dict[frozenset[str | None], Message] = field(default_factory=dict)
    #: CXTP-C11: every CTD/PCTD with its pair key and Elapsed Time field (an int, or None).
    elapsed: list[tuple[Message, PairKey, int | None]] = field(default_factory=list)
    #: CXTP-C12: CT-Reqs with a zero Authorization Token.
    zero_token: list[Message] = field(default_factory=list)
    #: CXTP-C15: CXTP messages naming an unregistered Feature Profile Type: (message, the first such FPT).
    unknown_fpt: list[tuple[Message, object]] = field(default_factory=list)


def _records(value: object) -> list[dict]:
    """``evidence.items``' filter: a list-of-records field, its records only."""
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


_NONE = object()  # no unknown FPT (None is an FPT value: a record without one)


def _unknown_fpt(cdbs: object, statuses: object, known: set[int]) -> object:
    """The first Feature Profile Type not in ``known`` among the CDB then status records, else ``_NONE``:
    CXTP-C15's ``items(m, "cdbs") + items(m, "statuses")`` walk, without copying the lists."""
    for value in (cdbs, statuses):
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict) and entry.get("fpt") not in known:
                    return entry.get("fpt")
    return _NONE


def _unordered(m: Message) -> object:
    """``transport_info(m).get("unordered")``: read off the slot when the info is the capture's
    ``SctpInfo`` (always non-empty, ``unordered`` always set), sparing its Python ``Mapping`` calls."""
    info = m.info
    if type(info) is SctpInfo:
        return info.unordered
    return transport_info(m).get("unordered")


def _int(value: object) -> int | None:
    """``evidence.num``'s filter: an int that is no bool, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cxtp_facts(ctx: Context) -> CxtpFacts:
    """The CXTP facts, read once per Context."""
    return ctx.shared("cxtp-facts", _read)


def _read(ctx: Context) -> CxtpFacts:
    """Walk the CXTP messages once (see the module docstring); the indexes go to the Context."""
    facts = CxtpFacts()
    known_fpt = {k for k in registry.TABLES["cxtp_fpt"] if k != 0}
    pairs = ctx.pair_memo()
    node = NodeKeys(ctx.profile)  # ctx.node as a mapping: a lookup instead of a call, twice a message
    ctd_by_pair: dict[Hashable, list[Message]] = {}
    ctdr_by_pair: dict[Hashable, list[Message]] = {}
    ctd_by_nodes: dict[Hashable, list[Message]] = {}
    limit = int(ctx.timers.ct_max_transfer_time * 1e9)
    awaiting: dict[Hashable, list[Message]] = {}  # pair key -> its CTDs with A set not yet answered
    unacked: dict[int, Message] = {}  # the same, by identity, in time order
    clear_done: set[tuple[str, str]] = set()  # address pairs whose node pair is in facts.clear_firsts
    open_requests: dict[tuple[object, object], Message] = {}  # (requesting node, MN address) -> CT-Req
    for m in ctx.of_type(*CXTP_TYPES):
        type_, fields = m.type, m.fields
        flags = fields.get("flags")
        if not isinstance(flags, dict):
            flags = {}
        statuses = fields.get("statuses")
        if m.protocol == "cxtp":  # CXTP-C15 judges every CXTP message (and no other: a type name alone is not one)
            fpt = _unknown_fpt(fields.get("cdbs"), statuses, known_fpt)
            if fpt is not _NONE:
                facts.unknown_fpt.append((m, fpt))
        if type_ in CXTP_ACCESS:
            hop_limit = transport_info(m).get("hop_limit")
            if m.transport not in ("icmpv6", "icmpv4") or (isinstance(hop_limit, int) and hop_limit != 255):
                facts.access.append((m, m.transport in ("icmpv6", "icmpv4"), hop_limit))
            continue
        if type_ not in CXTP_TRANSFER:
            continue
        if m.transport != "sctp":
            facts.not_sctp.append(m)
        elif _unordered(m) is False:
            facts.ordered.append(m)
        key = pairs.get(id(m))
        if key is None:
            prev = fields.get("mn_prev_addr")
            key = pairs[id(m)] = (node[m.src], node[m.dst], prev if isinstance(prev, str) else None)
        addresses = (m.src, m.dst)  # CXTP-C19, as common.clear_firsts
        if addresses not in clear_done and not fields.get("esp") and not m.transport.startswith("esp"):
            clear_done.add(addresses)
            facts.clear_firsts.setdefault(frozenset(key[:2]), m)
        if type_ == "CTD" or type_ == "PCTD":
            ctd_by_pair.setdefault(key, []).append(m)
            ctd_by_nodes.setdefault(key[:2], []).append(m)
            open_requests.pop((key[1], key[2]), None)
            if flags.get("A"):
                facts.wants_ack.add(id(m))
                awaiting.setdefault(key, []).append(m)
                unacked[id(m)] = m
            facts.elapsed.append((m, key, _int(fields.get("elapsed_ms"))))
        elif type_ == "CTDR":
            ctdr_by_pair.setdefault(key, []).append(m)
            back = (key[1], key[0], key[2])
            if back not in ctd_by_pair:
                facts.unmatched_ctdr.append(m)
            for answered in awaiting.pop(back, ()):  # walked before it: no later than it
                del unacked[id(answered)]
            statuses = _records(statuses)
            failed = next((s for s in statuses if s.get("status")), None)
            s_flag = flags.get("S")
            if (s_flag and failed is not None) or (s_flag is False and statuses and failed is None):
                facts.status_mismatch.append((m, failed))
        elif type_ == "CT-Req":
            if _int(fields.get("token")) == 0:
                facts.zero_token.append(m)
            before = open_requests.get((key[0], key[2]))
            if before is not None and m.time_ns - before.time_ns < limit:
                facts.second_transfer.append((before, m))
            open_requests[key[0], key[2]] = m
    facts.unacked = list(unacked.values())
    ctx.keep_index("ctd-by-pair", ctd_by_pair)
    ctx.keep_index("ctdr-by-pair", ctdr_by_pair)
    ctx.keep_index("ctd-by-nodes", ctd_by_nodes)
    return facts
