"""Timeline -> packets: play a scenario against a small LMA model and emit IP packets.

The LMA's answers are not scripted: each PBU is judged as RFC 5213 section 5.3 says (missing
options in 5.3.1 order give 160/158/161/162, a timestamp older than the last accepted one 157, a
de-registration from a MAG that is no longer the binding's Proxy-CoA gets no PBA, 5.3.5), and the
binding cache it keeps decides where the user plane is tunnelled.  Around the CXTP messages the
builder adds what SCTP puts on the wire (association set-up on first use, a SACK per DATA chunk,
CRC32c).  One seeded :class:`random.Random` drives every jitter, tag and initial TSN, so the
same scenario and seed give the same packets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.sctp import (
    SCTP,
    SCTPChunkCookieAck,
    SCTPChunkCookieEcho,
    SCTPChunkData,
    SCTPChunkInit,
    SCTPChunkInitAck,
    SCTPChunkParamStateCookie,
    SCTPChunkSACK,
)
from scapy.packet import Packet, Raw

from .. import registry
from ..layers import craft
from ..layers.fields import fixed_size
from ..layers.mh import BA, BU
from ..layers.options import (
    AccessTechnologyType,
    HandoffIndicator,
    IPv4HoAReply,
    IPv4HoARequest,
    MNLinkLayerID,
    aligned,
)
from .builtin import end_ms
from .scenario import MobileNode, Node, Scenario, ScenarioError, Step

CN_ADDRESS = "2001:db8:cafe::1"  # the correspondent the MNs talk to (user plane)
MULTICAST_GROUP = "ff3e::8000:1"  # the group each MN listens to (MLD context, FPT 1)
USER_PORT = 5004
IPPROTO_IPV6 = 41  # IPv6-in-IPv6 / IPv6-in-IPv4 tunnels (RFC 2473, RFC 4213)
SCTP_CXTP_PPI = 0  # RFC 4065's CXTP PPI was never assigned: 0 = unspecified
SACK_DELAY_MS = 0.4
IPV6_HEADER_LEN = 40
MH_CHECKSUM_AT = 4
BU_OPTIONS_AT = registry.MH_HEADER_LEN + fixed_size(registry.MH_BODIES[5])
BA_OPTIONS_AT = registry.MH_HEADER_LEN + fixed_size(registry.MH_BODIES[6])
_STATUS = {name: value for value, name in registry.TABLES["ba_status"].items()}
TIMESTAMP_MISMATCH = _STATUS["TIMESTAMP_MISMATCH"]
TIMESTAMP_LOWER = _STATUS["TIMESTAMP_LOWER_THAN_PREV_ACCEPTED"]
BAD_CHECKSUM = {name: value for value, name in registry.TABLES["cxtp_status"].items()}["BAD_CHECKSUM"]
HNP_OPTION = next(o.type for o in registry.OPTIONS.values() if o.key == "hnp")
MN_LL_ID_OPTION = next(o.type for o in registry.OPTIONS.values() if o.key == "mn_ll_id")
ASSOC_SETUP_MS = 2.0  # the association is set up on demand, this long before its first DATA chunk
ASSOC_STEP_MS = 0.4  # between INIT, INIT ACK, COOKIE ECHO and COOKIE ACK


def timestamp_48_16(time_ns: int) -> int:
    """RFC 5213 8.8: 48-bit seconds since 1970 and 16 bits of 1/65536 second, as one integer."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    return (seconds << 16) | ((nanos << 16) // 1_000_000_000)


@dataclass(frozen=True, slots=True)
class Frame:
    """One packet of the trace: when, the IP packet's octets, and what it is."""

    time_ns: int
    ip: bytes
    src: str  # node names
    dst: str
    kind: str  # mh | cxtp | sctp | data
    message: dict[str, Any] | None = None  # for mh/cxtp: type and key fields the decoder must find


@dataclass(slots=True)
class Trace:
    scenario: Scenario
    frames: list[Frame] = field(default_factory=list)

    def messages(self) -> list[tuple[int, dict[str, Any]]]:
        """(1-based frame number, expected message) for every signalling message, in order."""
        return [(i, f.message) for i, f in enumerate(self.frames, 1) if f.message is not None]


@dataclass(slots=True)
class _Binding:
    coa: str | None = None  # MAG name of the Proxy-CoA, None when no binding
    former: str | None = None  # the Proxy-CoA before an accepted de-registration (BCE kept a while)
    last_ts_ns: int | None = None
    seq: dict[str, int] = field(default_factory=dict)  # per MAG


@dataclass(slots=True)
class _Assoc:
    initiator: str
    responder: str
    iport: int
    rport: int
    tags: dict[str, int]  # node -> its own verification tag (the peer puts it in packets)
    tsn: dict[str, int]  # node -> next TSN it sends
    ssn: dict[str, int]


class _Builder:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.sc = scenario
        self.rng = random.Random(seed)
        self.base_ns = scenario.base_time_ns
        self.frames: list[tuple[int, int, Frame]] = []
        self.bindings: dict[str, _Binding] = {m.name: _Binding() for m in scenario.mns}
        self.transitions: list[tuple[int, str, str | None]] = []  # (time, mn, mag or None)
        self.assocs: dict[frozenset[str], _Assoc] = {}
        self.hi_seq: dict[tuple[str, str, str], int] = {}
        self.last_hi: dict[tuple[str, str, str], Packet] = {}
        self.ip_id: dict[str, int] = {}
        self.inner_cache: dict[tuple[str, str], bytes] = {}
        self.v4 = scenario.transport == "ipv4"

    # ---- time and addresses -----------------------------------------------------------------

    def ns(self, ms: float) -> int:
        """Milliseconds on the timeline -> epoch ns, at microsecond resolution (pcap's)."""
        return self.base_ns + round(ms * 1000) * 1000

    def addr(self, node: Node) -> str:
        return node.ipv4 if self.v4 else node.ipv6

    def emit(self, ms: float, ip: bytes, src: str, dst: str, kind: str,
             message: dict[str, Any] | None = None) -> None:
        t = self.ns(ms)
        self.frames.append((t, len(self.frames), Frame(t, ip, src, dst, kind, message)))

    def ip_packet(self, src: Node, dst: Node, proto: int, payload: Any) -> bytes:
        """IPv4 or IPv6 by the scenario's transport; scapy fills lengths and upper checksums."""
        inner = payload if isinstance(payload, Packet) else Raw(payload)
        if self.v4:
            ident = self.ip_id.get(src.name, self.rng.randrange(1, 0x8000))
            self.ip_id[src.name] = (ident + 1) & 0xFFFF
            return bytes(IP(src=src.ipv4, dst=dst.ipv4, proto=proto, ttl=64, id=ident) / inner)
        return bytes(IPv6(src=src.ipv6, dst=dst.ipv6, nh=proto, hlim=64) / inner)

    # ---- mobility header transport ------------------------------------------------------------

    def send_mh(self, ms: float, src: Node, dst: Node, kind: str, message: Packet, info: dict[str, Any],
                bad_checksum: bool = False) -> None:
        """A mobility-header message: IPv6 next header 135 (scapy fills length, padding and the
        pseudo-header checksum), or RFC 5844 IPv4 UDP 5436 where, with no IPv6 pseudo-header,
        the MH checksum stays zero and the UDP checksum protects the message."""
        if self.v4:
            udp = UDP(sport=registry.PMIP6_UDP_PORT, dport=registry.PMIP6_UDP_PORT) / message
            ip = self.ip_packet(src, dst, 17, udp)
            transport = "mh-udp"
        else:
            ip = self.ip_packet(src, dst, registry.IPPROTO_MH, message)
            if bad_checksum:  # a fault: the one thing bent is the checksum
                at = IPV6_HEADER_LEN + MH_CHECKSUM_AT
                ip = ip[:at] + bytes(b ^ 0x5A for b in ip[at:at + 2]) + ip[at + 2:]
            transport = "mh"
        record = {"type": kind, "src": self.addr(src), "dst": self.addr(dst), "transport": transport, **info}
        if bad_checksum and not self.v4:
            record["bad_checksum"] = True
        self.emit(ms, ip, src.name, dst.name, "mh", record)

    # ---- PMIPv6 registration and the LMA's answer ---------------------------------------------

    def register(self, step: Step, ms: float) -> None:
        sc, lma = self.sc, self.sc.lma
        mag, mn = sc.node(step.get("mag")), sc.mn(step.get("mn"))
        binding = self.bindings[mn.name]
        lifetime = step.get("lifetime_s")
        lifetime = sc.lifetime_s if lifetime < 0 else lifetime
        seq = binding.seq.get(mag.name)
        seq = self.rng.randrange(1, 5000) if seq is None else (seq + 1) & 0xFFFF
        binding.seq[mag.name] = seq
        omit = set(step.get("omit"))
        ts_ns = self.ns(ms) + round(step.get("ts_offset_ms") * 1_000_000)
        hi = step.get("hi")
        pbu_opts: list[tuple[str, Packet]] = [
            ("mn_id", craft.mn_id_option(mn.nai)),
            ("hnp", craft.hnp_option(mn.hnp)),
            ("handoff", HandoffIndicator(value=hi)),
            ("att", AccessTechnologyType(value=mn.att)),
            ("timestamp", craft.timestamp_option(timestamp_48_16(ts_ns))),
        ]
        if mn.ll_id:
            pbu_opts.append(("mn_ll_id", MNLinkLayerID(identifier=mn.ll_id)))
        if self.v4:
            pbu_opts.append(("ipv4_hoa_req", IPv4HoARequest(prefix_len=32, address=mn.ipv4_hoa)))
        pbu_opts = [(k, o) for k, o in pbu_opts if k not in omit]
        sent = {k for k, _ in pbu_opts}
        pbu = BU(seq=seq, flags="AP", lifetime=lifetime, options=aligned([o for _, o in pbu_opts], BU_OPTIONS_AT))
        self.send_mh(ms, mag, lma, "PBU", pbu,
                     {"mn": mn.name, "seq": seq, "lifetime": lifetime, "hi": hi if "handoff" in sent else None,
                      "nai": mn.nai if "mn_id" in sent else None},
                     step.get("mh_bad_checksum"))

        status, reply = self._judge(step, mag, binding, sent, ts_ns, lifetime)
        if not reply:
            return
        previous = binding.coa
        accepted = status < 128
        if accepted and lifetime > 0:
            binding.coa, binding.last_ts_ns = mag.name, ts_ns
        elif accepted and previous == mag.name:
            binding.coa, binding.former = None, mag.name
        pba_ms = ms + step.get("reply_ms") + self.rng.uniform(0.0, 0.4)
        if accepted and binding.coa != previous:
            self.transitions.append((self.ns(pba_ms), mn.name, binding.coa))
        # The MAG that served the MN before this one (the BCE outlives an accepted de-registration
        # by MinDelayBeforeBCEDelete): what the draft's pMAG option names.
        pmag = previous or binding.former
        self._pba(step, pba_ms, mag, mn, seq, status, lifetime if accepted else 0, sent, ts_ns, hi,
                  pmag if pmag != mag.name else None)

    def _judge(self, step: Step, mag: Node, binding: _Binding, sent: set[str], ts_ns: int,
               lifetime: int) -> tuple[int, bool]:
        """PBA status and whether the LMA answers at all (RFC 5213 5.3.1, 5.3.5, 5.4.1, 5.5)."""
        status = 0
        for key, name in (("mn_id", "MISSING_MN_IDENTIFIER_OPTION"),
                          ("hnp", "MISSING_HOME_NETWORK_PREFIX_OPTION"),
                          ("handoff", "MISSING_HANDOFF_INDICATOR_OPTION"),
                          ("att", "MISSING_ACCESS_TECH_TYPE_OPTION")):
            if key not in sent:
                status = _STATUS[name]
                break
        if (status == 0 and "timestamp" in sent and binding.last_ts_ns is not None
                and ts_ns < binding.last_ts_ns):
            status = TIMESTAMP_LOWER
        reply = True
        if status == 0 and lifetime == 0 and binding.coa != mag.name:
            reply = False  # stale or unknown de-registration: silently ignored
        forced = step.get("status")
        if forced >= 0:
            status = forced
        mode = step.get("reply")
        if mode != "auto":
            reply = mode == "always"
        return status, reply

    def _pba(self, step: Step, ms: float, mag: Node, mn: MobileNode, seq: int, status: int,
             lifetime: int, sent: set[str], ts_ns: int, hi: int, previous: str | None) -> None:
        sc = self.sc
        omit = set(step.get("pba_omit"))
        accepted = status < 128
        opts: list[tuple[str, Packet]] = [
            ("mn_id", craft.mn_id_option(mn.nai if "mn_id" in sent else b"")),
            ("hnp", craft.hnp_option(mn.hnp if "hnp" in sent or accepted else "::/0")),
            ("handoff", HandoffIndicator(value=hi if "handoff" in sent else 0)),
            ("att", AccessTechnologyType(value=mn.att if "att" in sent else 0)),
        ]
        if "timestamp" in sent:
            lma_time = status in (TIMESTAMP_MISMATCH, TIMESTAMP_LOWER)
            opts.append(("timestamp", craft.timestamp_option(timestamp_48_16(self.ns(ms) if lma_time else ts_ns))))
        if "mn_ll_id" in sent:
            opts.append(("mn_ll_id", MNLinkLayerID(identifier=mn.ll_id)))
        if "ipv4_hoa_req" in sent and accepted:
            opts.append(("ipv4_hoa_rep", IPv4HoAReply(status=0, prefix_len=32, address=mn.ipv4_hoa)))
        if accepted and lifetime > 0 and previous:
            prev = sc.node(previous)
            if step.get("pmag_address"):
                opts.append(("pmag_address", craft.pmag_address_option(self.addr(prev))))
            if step.get("pmag_id"):
                opts.append(("pmag_id", craft.pmag_id_option((prev.pmag_id or prev.name).encode())))
        opts = [(k, o) for k, o in opts if k not in omit]
        pba_seq = (seq + step.get("pba_seq_delta")) & 0xFFFF
        info = {"mn": mn.name, "seq": pba_seq, "lifetime": lifetime, "status": status,
                "hi": hi if "handoff" in sent else 0, "nai": mn.nai if "mn_id" in sent else ""}
        if any(k == "pmag_address" for k, _ in opts):
            info["pmag_address"] = self.addr(sc.node(previous or ""))
        pba = BA(status=status, flags="P", seq=pba_seq, lifetime=lifetime,
                 options=aligned([o for _, o in opts], BA_OPTIONS_AT))
        self.send_mh(ms, sc.lma, mag, "PBA", pba, info)

    # ---- RFC 5949 HI / HAck ---------------------------------------------------------------------

    def handover_initiate(self, step: Step, ms: float) -> None:
        sc = self.sc
        src, dst, mn = sc.node(step.get("src")), sc.node(step.get("dst")), sc.mn(step.get("mn"))
        key = (src.name, dst.name, mn.name)
        seq = self.hi_seq.get(key)
        seq = self.rng.randrange(1, 5000) if seq is None else (seq + 1) & 0xFFFF
        self.hi_seq[key] = seq
        flags = "P" + ("U" if step.get("buffer") else "") + ("F" if step.get("forward") else "")
        request = None
        if step.get("context_request"):  # ask for the MN's prefix and link-layer identifier
            request = [(HNP_OPTION, b""), (MN_LL_ID_OPTION, b"")]
        message = craft.hi(seq, mn.nai, hnps=[mn.hnp], lmaa=self.addr(sc.lma) if step.get("lmaa") else None,
                           mn_ll_id=mn.ll_id or None, context_request=request, code=step.get("code"),
                           flags=flags)
        self.last_hi[key] = message
        self.send_mh(ms, src, dst, "HI", message, {"mn": mn.name, "seq": seq, "code": step.get("code")},
                     step.get("mh_bad_checksum"))

    def handover_ack(self, step: Step, ms: float) -> None:
        sc = self.sc
        src, dst, mn = sc.node(step.get("src")), sc.node(step.get("dst")), sc.mn(step.get("mn"))
        answered = self.last_hi.get((dst.name, src.name, mn.name))
        if answered is None:
            raise ScenarioError(f"{sc.source}: {step.where}: hack from {src.name} to {dst.name} "
                                f"for {mn.name} answers no earlier hi")
        message = craft.hack(answered, step.get("code"), hnps=[mn.hnp] if step.get("hnp") else [],
                             extra=[MNLinkLayerID(identifier=mn.ll_id)] if mn.ll_id else [])
        message.seq = (answered.seq + step.get("seq_delta")) & 0xFFFF
        self.send_mh(ms, src, dst, "HAck", message, {"mn": mn.name, "seq": message.seq, "code": step.get("code")},
                     step.get("mh_bad_checksum"))

    # ---- CXTP over SCTP -------------------------------------------------------------------------

    def sctp(self, ms: float, src: Node, dst: Node, assoc: _Assoc, chunk: Any, kind: str,
             message: dict[str, Any] | None = None, vtag: int | None = None) -> None:
        sport = assoc.iport if src.name == assoc.initiator else assoc.rport
        dport = assoc.rport if src.name == assoc.initiator else assoc.iport
        tag = assoc.tags[dst.name] if vtag is None else vtag
        segment = SCTP(sport=sport, dport=dport, tag=tag) / chunk
        self.emit(ms, self.ip_packet(src, dst, registry.IPPROTO_SCTP, segment), src.name, dst.name,
                  kind, message)

    def association(self, ms: float, src: Node, dst: Node) -> _Assoc:
        key = frozenset((src.name, dst.name))
        assoc = self.assocs.get(key)
        if assoc is not None:
            return assoc
        rng = self.rng
        assoc = _Assoc(src.name, dst.name, rng.randrange(32768, 61000), self.sc.cxtp_sctp_port,
                       {src.name: rng.getrandbits(32) | 1, dst.name: rng.getrandbits(32) | 1},
                       {src.name: rng.getrandbits(31), dst.name: rng.getrandbits(31)},
                       {src.name: 0, dst.name: 0})
        self.assocs[key] = assoc
        t = ms - ASSOC_SETUP_MS
        cookie = rng.randbytes(32)
        init = dict(a_rwnd=106496, n_out_streams=1, n_in_streams=1)
        self.sctp(t, src, dst, assoc, SCTPChunkInit(init_tag=assoc.tags[src.name],
                                                    init_tsn=assoc.tsn[src.name], **init), "sctp", vtag=0)
        self.sctp(t + ASSOC_STEP_MS, dst, src, assoc, SCTPChunkInitAck(
            init_tag=assoc.tags[dst.name], init_tsn=assoc.tsn[dst.name],
            params=[SCTPChunkParamStateCookie(cookie=cookie)], **init), "sctp")
        self.sctp(t + 2 * ASSOC_STEP_MS, src, dst, assoc, SCTPChunkCookieEcho(cookie=cookie), "sctp")
        self.sctp(t + 3 * ASSOC_STEP_MS, dst, src, assoc, SCTPChunkCookieAck(), "sctp")
        return assoc

    def cxtp(self, step: Step, ms: float) -> None:
        sc = self.sc
        src, dst, mn = sc.node(step.get("src")), sc.node(step.get("dst")), sc.mn(step.get("mn"))
        if src.name == dst.name:
            raise ScenarioError(f"{sc.source}: {step.where}: src and dst are both {src.name!r}")
        prev = step.get("prev_addr") or mn.home_address
        action = step.action
        message: dict[str, Any] = {"mn": mn.name, "prev": prev}
        if action == "ct-req":
            cxtp = craft.cxtp_ct_req(prev, [craft.cdb_request(f) for f in step.get("fpts")],
                                     seq=step.get("seq"), token=step.get("token"))
        elif action == "ctd":
            cdbs = [craft.mld_cdb(mn.hnp, MULTICAST_GROUP)]
            if step.get("pctd"):
                cxtp = craft.cxtp_pctd(prev, self.rng.randbytes(20), cdbs, ack=step.get("ack"),
                                       elapsed_ms=step.get("elapsed_ms"))
            else:
                cxtp = craft.cxtp_ctd(prev, cdbs, ack=step.get("ack"), elapsed_ms=step.get("elapsed_ms"))
            message["ack"] = step.get("ack")
        elif action == "ctdr":
            ok, status = step.get("success"), step.get("status")
            status = (0 if ok else BAD_CHECKSUM) if status < 0 else status
            cxtp = craft.cxtp_ctdr(prev, [(craft.MLD_FPT, status)], success=ok)
        else:
            cxtp = craft.cxtp_ctc(prev)
        kind = registry.TABLES["cxtp_type"][cxtp.cxtp_type]
        data = bytes(cxtp)
        if step.get("length_excludes_header"):  # a fault: Length without the 4-octet header
            data = data[:2] + (len(data) - registry.CXTP_HEADER_LEN).to_bytes(2, "big") + data[4:]
        assoc = self.association(ms, src, dst)
        ordered = step.get("ordered")
        chunk = SCTPChunkData(unordered=0 if ordered else 1, beginning=1, ending=1,
                              tsn=assoc.tsn[src.name], stream_id=0,
                              stream_seq=assoc.ssn[src.name] if ordered else 0,
                              proto_id=SCTP_CXTP_PPI, data=data)
        tsn = assoc.tsn[src.name]
        assoc.tsn[src.name] = (tsn + 1) & 0xFFFFFFFF
        if ordered:
            assoc.ssn[src.name] = (assoc.ssn[src.name] + 1) & 0xFFFF
        info = {"type": kind, "src": self.addr(src), "dst": self.addr(dst), "transport": "sctp", **message}
        self.sctp(ms, src, dst, assoc, chunk, "cxtp", info)
        self.sctp(ms + SACK_DELAY_MS, dst, src, assoc,
                  SCTPChunkSACK(cumul_tsn_ack=tsn, a_rwnd=106496, n_gap_ack=0, n_dup_tsn=0), "sctp")

    # ---- user plane -------------------------------------------------------------------------------

    def user_plane(self) -> None:
        period = self.sc.traffic_interval_ms
        if period <= 0:
            return
        lma, stop = self.sc.lma, self.ns(end_ms(self.sc))
        for mn in self.sc.mns:
            changes = [(t, mag) for t, name, mag in sorted(self.transitions) if name == mn.name]
            phase = self.rng.uniform(0, period)
            counter = 0
            for i, (start, mag) in enumerate(changes):
                end = changes[i + 1][0] if i + 1 < len(changes) else stop
                if mag is None:
                    continue
                mag_node = self.sc.node(mag)
                t = start + round((phase + 5.0) * 1_000_000)
                while t < end:
                    counter += 1
                    ms = (t - self.base_ns) / 1_000_000
                    self._data(ms, lma, mag_node, CN_ADDRESS, mn.home_address)
                    if counter % 2 == 0:
                        self._data(ms + 7.0 + self.rng.uniform(0, 1), mag_node, lma, mn.home_address,
                                   CN_ADDRESS)
                    t += round(period * 1_000_000)

    def _data(self, ms: float, src: Node, dst: Node, inner_src: str, inner_dst: str) -> None:
        key = (inner_src, inner_dst)
        inner = self.inner_cache.get(key)
        if inner is None:  # the MN's packets in one direction differ only outside: build once
            inner = bytes(IPv6(src=inner_src, dst=inner_dst, hlim=63) / UDP(sport=USER_PORT, dport=USER_PORT)
                          / Raw(bytes(32)))
            self.inner_cache[key] = inner
        self.emit(ms, self.ip_packet(src, dst, IPPROTO_IPV6, inner), src.name, dst.name, "data")

    # ---- the whole timeline -----------------------------------------------------------------------

    def run(self) -> Trace:
        jitter = self.sc.jitter_ms
        timed = sorted(((s.at_ms + self.rng.uniform(0, jitter), i, s) for i, s in enumerate(self.sc.steps)),
                       key=lambda x: (x[0], x[1]))
        handlers = {"register": self.register, "deregister": self.register, "hi": self.handover_initiate,
                    "hack": self.handover_ack, "ct-req": self.cxtp, "ctd": self.cxtp, "ctdr": self.cxtp,
                    "ctc": self.cxtp}
        for ms, _, step in timed:
            handlers[step.action](step, ms)
        self.user_plane()
        self.frames.sort(key=lambda x: (x[0], x[1]))
        return Trace(self.sc, [f for _, _, f in self.frames])


def build(scenario: Scenario, seed: int = 0) -> Trace:
    """The scenario's packets in capture order; deterministic for a given seed."""
    return _Builder(scenario, seed).run()
