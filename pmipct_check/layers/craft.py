"""Constructors for whole messages, as a scenario writes them.

Each returns the message layer (mobility header or CXTP); put it under ``IPv6(src=..., dst=...)``
(or ``IP()/UDP()`` for RFC 5844, ``SCTPChunkData(data=...)``, ``ICMPv6ExpMobility()``) and
scapy fills Header Len, padding, lengths and checksums.  Options that RFC 5213 aligns (HNP
8n+4, LLA 8n+6, Timestamp 8n+2) are padded into place unless ``align=False``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from scapy.packet import Packet

from .. import registry
from ..registry import EXPERIMENTAL_OPTION, MH_BODIES, MH_HEADER_LEN
from .cxtp import CDB, CTAA, CTAR, CTC, CTD, CTDR, PCTD, CTReq, CXTPStatus
from .fields import code_of, fixed_size
from .mh import BA, BU, HI, HAck
from .options import (
    PMAGID,
    AccessTechnologyType,
    ContextRequest,
    ContextRequestTLV,
    HandoffIndicator,
    HomeNetworkPrefix,
    LinkLocalAddress,
    LMAAddress,
    MNIdentifier,
    MNLinkLayerID,
    PMAGAddress,
    Timestamp,
    aligned,
)

MnId = str | bytes | tuple[int | str, Any]
Prefix = str | tuple[str, int] | ipaddress.IPv6Network


NAI = code_of("mn_id_subtype", "NAI")
MLD_FPT = code_of("cxtp_fpt", "IPv6 Multicast Listener Context")
HMAC_SHA1 = code_of("cxtp_algorithm", "HMAC_SHA1")


def _options_start(mh_type: int) -> int:
    return MH_HEADER_LEN + fixed_size(MH_BODIES[mh_type])


def _finish(mh_type: int, options: Iterable[Packet], align: bool) -> list[Packet]:
    options = list(options)
    return aligned(options, _options_start(mh_type)) if align else options


# -- mobility options --------------------------------------------------------------------------


def mn_id_option(mn_id: MnId) -> Packet:
    """MN Identifier (RFC 4283): a str is an NAI; ``(subtype, value)`` for the others (subtype by
    number or registry name; IPv6 addresses and link-layer strings are encoded)."""
    if isinstance(mn_id, (str, bytes)):
        return MNIdentifier(subtype=NAI, identifier=mn_id)
    subtype, value = mn_id
    if isinstance(subtype, str):
        subtype = code_of("mn_id_subtype", subtype)
    kind = registry.MN_ID_RENDER.get(subtype, "bytes")
    if isinstance(value, str) and kind == "ipv6":
        value = ipaddress.IPv6Address(value).packed
    elif isinstance(value, str) and kind in ("lladdr", "bytes"):
        value = bytes.fromhex(value.replace(":", "").replace("-", ""))
    return MNIdentifier(subtype=subtype, identifier=value)


def _prefix(prefix: Prefix) -> ipaddress.IPv6Network:
    if isinstance(prefix, tuple):
        return ipaddress.IPv6Network(f"{prefix[0]}/{prefix[1]}", strict=False)
    return ipaddress.IPv6Network(prefix, strict=False)


def hnp_option(prefix: Prefix) -> Packet:
    """Home Network Prefix from ``"2001:db8:1::/64"`` or ``(address, length)``; ``"::/0"`` is ALL_ZERO."""
    net = _prefix(prefix)
    return HomeNetworkPrefix(prefix_len=net.prefixlen, prefix=str(net.network_address))


def timestamp_option(value: float | int) -> Packet:
    """Timestamp (RFC 5213 8.8): a float is epoch seconds; an int is the raw 48.16 value."""
    return Timestamp(value=value)


def pmag_address_option(addr: str, profile: Any = None) -> Packet:
    """The draft's pMAG_Address where the profile puts it (default: Experimental option, sub-type 1)."""
    otype, subtype = _pmag_codepoints(profile, "address")
    option = PMAGAddress(type=otype, address=addr)  # Option-Code from the address family
    if otype == EXPERIMENTAL_OPTION:
        option.subtype = subtype
    return option


def pmag_id_option(ident: str | bytes, profile: Any = None) -> Packet:
    """The draft's pMAG_ID (default: Experimental option, sub-type 2); the identifier is opaque."""
    otype, subtype = _pmag_codepoints(profile, "id")
    option = PMAGID(type=otype, identifier=ident.encode() if isinstance(ident, str) else ident)
    if otype == EXPERIMENTAL_OPTION:
        option.subtype = subtype
    return option


def _pmag_codepoints(profile: Any, which: str) -> tuple[int, int]:
    if profile is None:
        from ..profile import DEFAULT_PROFILE

        profile = DEFAULT_PROFILE
    return getattr(profile, f"pmag_{which}_option"), getattr(profile, f"pmag_{which}_subtype")


# -- PMIPv6 -----------------------------------------------------------------------------------


def pbu(
    seq: int,
    lifetime_s: int,
    mn_id: MnId,
    hnps: Sequence[Prefix],
    hi: int,
    att: int,
    timestamp: float | int | None = None,
    mn_ll_id: bytes | str | None = None,
    lla: str | None = None,
    extra: Iterable[Packet] = (),
    *,
    flags: str = "AP",
    align: bool = True,
) -> Packet:
    """A Proxy Binding Update (RFC 5213 6.9.1.5): MN-ID, HNPs, HI, ATT, then the optional ones."""
    options: list[Packet] = [mn_id_option(mn_id), *(hnp_option(p) for p in hnps)]
    options += [HandoffIndicator(value=hi), AccessTechnologyType(value=att)]
    if mn_ll_id is not None:
        options.append(MNLinkLayerID(identifier=mn_ll_id))
    if lla is not None:
        options.append(LinkLocalAddress(address=lla))
    if timestamp is not None:
        options.append(timestamp_option(timestamp))
    options += list(extra)
    return BU(seq=seq, flags=flags, lifetime=lifetime_s, options=_finish(5, options, align))


def _options_of(msg: Packet) -> list[Packet]:
    return [o for o in msg.options if hasattr(o, "type")]


def pba(
    answering: Packet,
    status: int = 0,
    *,
    lifetime_s: int | None = None,
    hnps: Sequence[Prefix] | None = None,
    timestamp: float | int | None = None,
    extra: Iterable[Packet] = (),
    seq: int | None = None,
    flags: str = "P",
    align: bool = True,
) -> Packet:
    """A Proxy Binding Acknowledgement echoing ``answering`` (a PBU) as RFC 5213 5.3.6 says.

    Copies Sequence #, MN-ID, HI, ATT, MN-LL-ID, LLA and the Timestamp (replaced by
    ``timestamp`` when given, e.g. the LMA's clock in a 156/157 rejection); HNPs are ``hnps`` or
    the PBU's (one ALL_ZERO when it had none).  ``extra`` carries e.g. the pMAG option.
    """
    request = answering.getlayer(BU) or answering
    by_type: dict[int, list[Packet]] = {}
    for option in _options_of(request):
        by_type.setdefault(option.type, []).append(option)

    def copied(cls: type[Packet], **fallback: Any) -> list[Packet]:
        found = by_type.get(cls.fields_desc[0].default, [])
        if found:
            return [cls(bytes(found[0]))]
        return [cls(**fallback)] if fallback else []

    requested = by_type.get(HomeNetworkPrefix.fields_desc[0].default, [])
    prefixes = (
        [hnp_option(p) for p in hnps]
        if hnps is not None
        else [HomeNetworkPrefix(bytes(o)) for o in requested] or [hnp_option("::/0")]
    )
    options = copied(MNIdentifier, subtype=NAI, identifier=b"") + prefixes
    options += copied(HandoffIndicator, value=0) + copied(AccessTechnologyType, value=0)
    options += copied(MNLinkLayerID) + copied(LinkLocalAddress)
    if timestamp is not None:
        options.append(timestamp_option(timestamp))
    else:
        options += copied(Timestamp)
    options += list(extra)
    return BA(
        status=status,
        flags=flags,
        seq=request.seq if seq is None else seq,
        lifetime=request.lifetime if lifetime_s is None else lifetime_s,
        options=_finish(6, options, align),
    )


# -- RFC 5949 ---------------------------------------------------------------------------------


def lmaa_option(addr: str) -> Packet:
    """LMA Address (RFC 5949 6.2.2), code from the address family."""
    return LMAAddress(address=addr)


def context_request_option(requests: Iterable[tuple[int, bytes]]) -> Packet:
    """Context Request (RFC 5949 6.2.1) from ``(type, value)`` pairs."""
    return ContextRequest(requests=[ContextRequestTLV(type=t, data=v) for t, v in requests])


def hi(
    seq: int,
    mn_id: MnId,
    *,
    hnps: Sequence[Prefix] = (),
    lmaa: str | None = None,
    mn_ll_id: bytes | str | None = None,
    context_request: Iterable[tuple[int, bytes]] | None = None,
    code: int = 0,
    flags: str = "P",
    extra: Iterable[Packet] = (),
    align: bool = True,
) -> Packet:
    """Handover Initiate (RFC 5949 6.1.1): predictive (PMAG->NMAG, with HNPs and LMAA) or
    reactive (NMAG->PMAG, optionally with a Context Request)."""
    options = [mn_id_option(mn_id), *(hnp_option(p) for p in hnps)]
    if lmaa is not None:
        options.append(lmaa_option(lmaa))
    if mn_ll_id is not None:
        options.append(MNLinkLayerID(identifier=mn_ll_id))
    if context_request is not None:
        options.append(context_request_option(context_request))
    options += list(extra)
    return HI(seq=seq, flags=flags, code=code, options=_finish(14, options, align))


def hack(
    answering: Packet,
    code: int = 0,
    *,
    hnps: Sequence[Prefix] = (),
    flags: str = "P",
    extra: Iterable[Packet] = (),
    align: bool = True,
) -> Packet:
    """Handover Acknowledge (RFC 5949 6.1.2) answering an HI: its Sequence # and MN-ID copied."""
    request = answering.getlayer(HI) or answering
    ids = [MNIdentifier(bytes(o)) for o in _options_of(request) if isinstance(o, MNIdentifier)]
    options = ids[:1] + [hnp_option(p) for p in hnps] + list(extra)
    return HAck(seq=request.seq, flags=flags, code=code, options=_finish(15, options, align))


# -- CXTP -------------------------------------------------------------------------------------


def _v_flag(*addresses: str) -> int:
    versions = {ipaddress.ip_address(a).version for a in addresses}
    if len(versions) != 1:
        raise ValueError(f"CXTP addresses must share one family: {addresses}")
    return 1 if versions == {4} else 0


def cdb(fpt: int, data: bytes = b"", presence_vector: int | None = None) -> Packet:
    """A Context Data Block; Length and zero padding to 64 bits are filled when built."""
    if presence_vector is None:
        return CDB(fpt=fpt, data=data)
    return CDB(fpt=fpt, P=1, presence_vector=presence_vector, data=data)


def cdb_request(fpt: int) -> Packet:
    """A request CDB (CTAR, CT-Req): the 4-octet head only, Length 0 (RFC 4067 2.5.1)."""
    return CDB(fpt=fpt, length=0)


def mld_cdb(prefix: Prefix, group: str) -> Packet:
    """IPv6 Multicast Listener Context (RFC 4067 appendix B): 8-octet subnet prefix, group."""
    data = _prefix(prefix).network_address.packed[:8] + ipaddress.IPv6Address(group).packed
    return cdb(MLD_FPT, data)


def _statuses(statuses: Iterable[tuple[int, int]]) -> list[Packet]:
    return [CXTPStatus(fpt=f, status=s) for f, s in statuses]


def cxtp_ctar(
    prev_addr: str, ar_addr: str, seq: int, token: int = 0, cdbs: Iterable[Packet] = (), ack: bool = True
) -> Packet:
    """CTAR, MN -> nAR (or pAR with the nAR's address); wrap in ICMPv6ExpMobility."""
    return CTAR(V=_v_flag(prev_addr, ar_addr), A=int(ack), mn_prev_addr=prev_addr, ar_addr=ar_addr,
                seq=seq, token=token, cdbs=list(cdbs))


def cxtp_ctaa(prev_addr: str, statuses: Iterable[tuple[int, int]] = ()) -> Packet:
    """CTAA: the FPTs not transferred successfully, with their status."""
    return CTAA(V=_v_flag(prev_addr), mn_prev_addr=prev_addr, statuses=_statuses(statuses))


def cxtp_ctd(prev_addr: str, cdbs: Iterable[Packet] = (), ack: bool = True, elapsed_ms: int = 0) -> Packet:
    """CTD, pAR -> nAR; ``ack`` sets A (a CTDR must follow)."""
    return CTD(V=_v_flag(prev_addr), A=int(ack), elapsed_ms=elapsed_ms, mn_prev_addr=prev_addr,
               cdbs=list(cdbs))


def cxtp_pctd(
    prev_addr: str,
    key: bytes,
    cdbs: Iterable[Packet] = (),
    ack: bool = True,
    elapsed_ms: int = 0,
    algorithm: int = HMAC_SHA1,
) -> Packet:
    """PCTD, pAR -> nAR, with the MN's key (Key Length filled from ``key``)."""
    return PCTD(V=_v_flag(prev_addr), A=int(ack), elapsed_ms=elapsed_ms, mn_prev_addr=prev_addr,
                algorithm=algorithm, key=key, cdbs=list(cdbs))


def cxtp_ctdr(prev_addr: str, statuses: Iterable[tuple[int, int]] = (), success: bool | None = None) -> Packet:
    """CTDR, nAR -> pAR; S defaults to "every status is zero"."""
    statuses = list(statuses)
    ok = all(s == 0 for _f, s in statuses) if success is None else success
    return CTDR(V=_v_flag(prev_addr), S=int(ok), mn_prev_addr=prev_addr, statuses=_statuses(statuses))


def cxtp_ctc(prev_addr: str) -> Packet:
    """CTC, nAR -> pAR."""
    return CTC(V=_v_flag(prev_addr), mn_prev_addr=prev_addr)


def cxtp_ct_req(prev_addr: str, cdbs: Iterable[Packet] = (), seq: int = 0, token: int = 0) -> Packet:
    """CT-Req, nAR -> pAR; token 0 when no CTAR was seen (the pAR then sends key material)."""
    return CTReq(V=_v_flag(prev_addr), mn_prev_addr=prev_addr, seq=seq, token=token, cdbs=list(cdbs))
