"""A small Message-level lab for the analysis and rule tests: records shaped as the decoder makes them.

Option dicts follow the registry's OptionSpec keys and layout field names; the tests at the end
of this file check that against the real decoder on hand-written bytes, so the factory cannot
drift from what the decoder produces.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from pmipct_check import registry
from pmipct_check.decode.model import Message
from pmipct_check.notices import Notice

LMA = "2001:db8:ff::1"
MAG1 = "2001:db8:a::1"
MAG2 = "2001:db8:b::1"
MAG3 = "2001:db8:c::1"


def opt(key: str, **fields: Any) -> dict[str, Any]:
    types = {spec.key: spec.type for spec in registry.OPTIONS.values()}
    types.update({"pmag_address": 18, "pmag_id": 18})
    body = {"type": types[key], "name": key, "key": key}
    body.update(fields)
    return body


def mn_id(nai: str) -> dict[str, Any]:
    return opt("mn_id", length=1 + len(nai), subtype=1, subtype_name="NAI", identifier=nai)


def hnp(prefix: str, plen: int = 64) -> dict[str, Any]:
    return opt("hnp", length=18, reserved=0, prefix_len=plen, prefix=prefix, prefix_text=f"{prefix}/{plen}")


def handoff(value: int) -> dict[str, Any]:
    return opt("handoff", length=2, reserved=0, value=value, value_name=registry.table_name("handoff", value))


def att(value: int = 4) -> dict[str, Any]:
    return opt("att", length=2, reserved=0, value=value, value_name=registry.table_name("att", value))


def timestamp(seconds: int, fraction: int = 0) -> dict[str, Any]:
    digits = f"{fraction * 152587890625:016d}".rstrip("0") or "0"
    return opt("timestamp", length=8, value={"seconds": seconds, "fraction": fraction,
                                             "value": f"{seconds}.{digits}"})


def pmag_address(address: str) -> dict[str, Any]:
    return opt("pmag_address", length=19, subtype=1, code=1, code_name="IPv6", reserved=0, address=address)


def pmag_id(identifier: bytes) -> dict[str, Any]:
    return opt("pmag_id", length=2 + len(identifier), subtype=2, reserved=0, identifier=identifier.hex())


def lmaa(address: str) -> dict[str, Any]:
    return opt("lmaa", length=18, code=1, code_name="IPv6", reserved=0, address=address)


@dataclass
class Lab:
    """Builds messages with increasing frame numbers; ``t`` is milliseconds since the start."""

    file: str = "lab.pcap"
    t: float = 0.0
    frame: int = 0
    out: list[Message] = field(default_factory=list)
    base_ns: int = 1_700_000_000_000_000_000

    def wait(self, ms: float) -> Lab:
        self.t += ms
        return self

    def message(self, type_: str, src: str, dst: str, fields: dict[str, Any], protocol: str = "pmipv6",
                transport: str = "mh", warnings: tuple[Notice, ...] = ()) -> Message:
        self.frame += 1
        msg = Message(self.file, self.frame, self.base_ns + int(self.t * 1e6), src, dst, protocol,  # type: ignore[arg-type]
                      type_, fields, transport, (self.frame,),
                      tuple(Notice(w.code, w.message, self.file, self.frame, w.offset, w.severity)
                            for w in warnings))
        self.out.append(msg)
        return msg

    # ---- PMIPv6 -------------------------------------------------------------------------
    def pbu(self, mag: str, nai: str | None, seq: int, *, lifetime: int = 3600, hi: int | None = 3,
            prefix: str | None = "2001:db8:1::", att_value: int | None = 4, ts: int | None = None,
            extra: list[dict[str, Any]] | None = None, flags: dict[str, bool] | None = None,
            lma: str = LMA, options: list[dict[str, Any]] | None = None) -> Message:
        if options is None:
            options = []
            if nai is not None:
                options.append(mn_id(nai))
            if prefix is not None:
                options.append(hnp(prefix))
            if hi is not None:
                options.append(handoff(hi))
            if att_value is not None:
                options.append(att(att_value))
            if ts is not None:
                options.append(timestamp(ts))
            options += extra or []
        bits = {name: False for name, _ in registry.BU_FLAGS}
        bits.update({"A": True, "P": True})
        bits.update(flags or {})
        return self.message("PBU", mag, lma, {"seq": seq, "flags": bits, "lifetime": lifetime,
                                              "payload_proto": 59, "options": options})

    def pba(self, pbu: Message, *, status: int = 0, seq: int | None = None, lifetime: int | None = None,
            extra: list[dict[str, Any]] | None = None, options: list[dict[str, Any]] | None = None,
            flags: dict[str, bool] | None = None, src: str | None = None, dst: str | None = None) -> Message:
        if options is None:
            options = [dict(o) for o in pbu.fields["options"] if o["key"] != "timestamp"]
            ts = [o for o in pbu.fields["options"] if o["key"] == "timestamp"]
            options += ts
            options += extra or []
        bits = {name: False for name, _ in registry.BA_FLAGS}
        bits["P"] = True
        bits.update(flags or {})
        return self.message("PBA", src or pbu.dst, dst or pbu.src, {
            "status": status, "status_name": registry.table_name("ba_status", status), "flags": bits,
            "seq": pbu.fields["seq"] if seq is None else seq,
            "lifetime": pbu.fields["lifetime"] if lifetime is None else lifetime,
            "payload_proto": 59, "options": options})

    def register(self, mag: str, nai: str, seq: int, *, hi: int = 3, rtt: float = 5.0, **kw: Any) -> tuple[Message, Message]:
        pba_extra = kw.pop("pba_extra", None)
        pbu = self.pbu(mag, nai, seq, hi=hi, **kw)
        self.wait(rtt)
        return pbu, self.pba(pbu, extra=pba_extra)

    # ---- CXTP ---------------------------------------------------------------------------
    def cxtp(self, type_: str, src: str, dst: str, prev: str, **fields: Any) -> Message:
        flags = fields.pop("flags", {})
        base: dict[str, Any] = {"version": 1, "type_code": {v: k for k, v in registry.TABLES["cxtp_type"].items()}[type_],
                                "flags": {"V": False, **flags}, "length": 0, "mn_prev_addr": prev}
        base.update(fields)
        return self.message(type_, src, dst, base, protocol="cxtp", transport="sctp")

    def ct_req(self, src: str, dst: str, prev: str, token: int = 0) -> Message:
        return self.cxtp("CT-Req", src, dst, prev, seq=0, token=token, cdbs=[])

    def ctd(self, src: str, dst: str, prev: str, *, ack: bool = True, elapsed: int = 0, type_: str = "CTD",
            **kw: Any) -> Message:
        fields: dict[str, Any] = {"flags": {"A": ack}, "elapsed_ms": elapsed,
                                  "cdbs": [{"fpt": 1, "fpt_name": "IPv6 Multicast Listener Context", "length": 4,
                                            "P": False, "data": "00" * 28}]}
        if type_ == "PCTD":
            fields.update(algorithm=1, algorithm_name="HMAC_SHA1", key_length=4, key="01020304")
        fields.update(kw)
        return self.cxtp(type_, src, dst, prev, **fields)

    def ctdr(self, src: str, dst: str, prev: str, *, success: bool = True,
             statuses: list[dict[str, Any]] | None = None) -> Message:
        return self.cxtp("CTDR", src, dst, prev, flags={"S": success},
                         statuses=statuses if statuses is not None else [])

    # ---- RFC 5949 -----------------------------------------------------------------------
    def hi(self, src: str, dst: str, nai: str, seq: int, *, code: int = 0, flags: dict[str, bool] | None = None,
           options: list[dict[str, Any]] | None = None) -> Message:
        bits = {"S": False, "U": False, "P": True, "F": False}
        bits.update(flags or {})
        opts = options if options is not None else [mn_id(nai), hnp("2001:db8:1::"), lmaa(LMA)]
        return self.message("HI", src, dst, {"seq": seq, "flags": bits, "code": code, "options": opts},
                            protocol="fmipv6")

    def hack(self, hi: Message, *, code: int = 5, seq: int | None = None, flags: dict[str, bool] | None = None,
             options: list[dict[str, Any]] | None = None) -> Message:
        bits = {"U": False, "P": True, "F": False}
        bits.update(flags or {})
        opts = options if options is not None else [o for o in hi.fields["options"] if o["key"] in ("mn_id", "hnp")]
        return self.message("HAck", hi.dst, hi.src, {"seq": hi.fields["seq"] if seq is None else seq,
                                                     "flags": bits, "code": code, "options": opts},
                            protocol="fmipv6")


PREV = "2001:db8:1::100"  # the MN's address inside its HNP 2001:db8:1::/64


def scenario(case: str, lab: Lab | None = None, *, nai: str = "mn1@lab.example", prefix: str = "2001:db8:1::",
             prev: str = PREV, pmag: str = MAG1, nmag: str = MAG2, seq: int = 10, late_dereg: bool = True,
             ack: bool = True) -> Lab:
    """A conformant handover of ``case`` after an initial registration at the pMAG."""
    lab = lab or Lab()
    lab.register(pmag, nai, seq, hi=1, prefix=prefix)
    lab.wait(1000)
    if case == "reactive-1":
        lab.register(nmag, nai, seq + 1, prefix=prefix, pba_extra=[pmag_address(pmag)])
        lab.wait(2)
        lab.ct_req(nmag, pmag, prev)
        lab.wait(3)
        lab.ctd(pmag, nmag, prev, ack=ack)
        lab.wait(2)
        if ack:
            lab.ctdr(nmag, pmag, prev)
    elif case == "reactive-2":
        pbu = lab.pbu(nmag, nai, seq + 1, prefix=prefix)
        lab.wait(1)
        lab.ct_req(nmag, pmag, prev)
        lab.wait(3)
        lab.pba(pbu)
        lab.wait(2)
        lab.ctd(pmag, nmag, prev, ack=ack)
        lab.wait(2)
        if ack:
            lab.ctdr(nmag, pmag, prev)
    elif case == "proactive-1":
        lab.ctd(pmag, nmag, prev, ack=ack)
        lab.wait(2)
        if ack:
            lab.ctdr(nmag, pmag, prev)
        lab.wait(50)
        lab.register(nmag, nai, seq + 1, prefix=prefix)
    elif case == "proactive-2":
        lab.ct_req(nmag, pmag, prev)
        lab.wait(3)
        lab.ctd(pmag, nmag, prev, ack=ack)
        lab.wait(2)
        if ack:
            lab.ctdr(nmag, pmag, prev)
        lab.wait(50)
        lab.register(nmag, nai, seq + 1, prefix=prefix)
    elif case == "reactive-pmag":
        dereg = lab.pbu(pmag, nai, seq + 1, lifetime=0, hi=4, prefix=prefix)
        lab.wait(2)
        lab.pba(dereg)
        lab.wait(1)
        lab.ctd(pmag, nmag, prev, ack=ack)
        lab.wait(2)
        if ack:
            lab.ctdr(nmag, pmag, prev)
        lab.wait(20)
        lab.register(nmag, nai, seq + 2, prefix=prefix)
        return lab
    elif case == "rfc5949-predictive":
        hi = lab.hi(pmag, nmag, nai, 7)
        lab.wait(2)
        lab.hack(hi)
        lab.wait(30)
        lab.register(nmag, nai, seq + 1, prefix=prefix)
    elif case == "rfc5949-reactive":
        hi = lab.hi(nmag, pmag, nai, 7, options=[mn_id(nai)])
        lab.wait(2)
        lab.hack(hi, code=6, options=[mn_id(nai), hnp(prefix)])
        lab.wait(2)
        lab.register(nmag, nai, seq + 1, prefix=prefix)
    elif case == "none":
        lab.register(nmag, nai, seq + 1, prefix=prefix)
    else:
        raise ValueError(case)
    if late_dereg:
        lab.wait(5)
        lab.pbu(pmag, nai, seq + 1, lifetime=0, hi=4, prefix=prefix)  # ignored by the LMA: no PBA
    return lab


# ---- the factory agrees with the decoder ---------------------------------------------------

def _mh(mh_type: int, body: bytes, options: bytes) -> bytes:
    data = body + options
    total = 6 + len(data)
    pad = (-total) % 8
    if pad == 1:
        data += b"\0"
    elif pad:
        data += bytes((1, pad - 2)) + bytes(pad - 2)
    total = 6 + len(data)
    return bytes((59, total // 8 - 1, mh_type, 0, 0, 0)) + data


def test_factory_options_match_the_decoder() -> None:
    from pmipct_check.decode.mh import decode_mh, option_table
    from pmipct_check.profile import DEFAULT_PROFILE

    nai = b"mn1@lab.example"
    opts = (bytes((8, 1 + len(nai), 1)) + nai
            + bytes((1, 2, 0, 0))  # PadN to align the HNP at 8n+4
            + bytes((22, 18, 0, 64)) + bytes.fromhex("20010db8000100000000000000000000")
            + bytes((23, 2, 0, 3)) + bytes((24, 2, 0, 4)))
    body = struct.pack("!HHH", 10, 0x8000 | 0x0200, 900)
    decoded = decode_mh(_mh(5, body, opts), option_table(DEFAULT_PROFILE), transport="mh-udp")
    assert decoded is not None
    type_, _, fields, _ = decoded
    assert type_ == "PBU"
    lab = Lab()
    made = lab.pbu(MAG1, "mn1@lab.example", 10, lifetime=3600)
    assert fields["lifetime"] == made.fields["lifetime"] and fields["seq"] == 10
    by_key = {o["key"]: o for o in fields["options"]}
    for mine in made.fields["options"]:
        theirs = by_key[mine["key"]]
        for name, value in mine.items():
            if name not in ("name", "value_name", "subtype_name"):
                assert theirs[name] == value, (mine["key"], name)
    assert fields["flags"]["A"] and fields["flags"]["P"]
