"""A pre-RFC 5213 implementation (pmip6d 2010 option numbering), written out by hand as bytes.

The 2011-era testbeds ran such code: HNP as option 7, a 10-octet MN identifier as option 8, no
Handoff Indicator or ATT.  The checker must find the MN's handovers and report the dialect
(INPUT-I3, info) instead of failing every PBU on RFC 5213 content rules.
"""

from __future__ import annotations

import ipaddress
import struct

from pmipct_check.analysis import analyze
from pmipct_check.capture.model import Carried
from pmipct_check.decode import decode_carried
from pmipct_check.decode.mh import mh_checksum
from pmipct_check.decode.model import Message
from pmipct_check.profile import DEFAULT_PROFILE, parse_profile
from pmipct_check.rules.engine import exceeds, run_rules

LMA, MAG1, MAG2 = "2001:db8:ffff::1", "2001:db8:ff01::1", "2001:db8:ff02::1"
IID = bytes.fromhex("0211223344556677")
PREFIX = ipaddress.IPv6Address("2001:db8:beef::").packed


def _options() -> bytes:
    hnp = bytes((7, 18, 0, 64)) + PREFIX
    mn = bytes((8, 10)) + b"\0\0" + IID
    return bytes((1, 2, 0, 0)) + hnp + mn  # PadN first, as pmip6d aligns


def _mh(mh_type: int, body: bytes, src: str, dst: str) -> bytes:
    data = body + _options()
    pad = (-(6 + len(data))) % 8
    data += bytes((1, pad - 2)) + bytes(pad - 2) if pad >= 2 else bytes(pad)
    mh = bytes((59, (6 + len(data)) // 8 - 1, mh_type, 0, 0, 0)) + data
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return mh[:4] + mh_checksum(s, d, mh, 135).to_bytes(2, "big") + mh[6:]


def _trace(profile=DEFAULT_PROFILE) -> list[Message]:
    out: list[Message] = []
    t = 1_300_000_000_000_000_000
    seq = 1
    for mag in (MAG1, MAG2, MAG1, MAG2):
        pbu = _mh(5, struct.pack("!HHH", seq, 0x8000 | 0x0200, 100), mag, LMA)
        pba = _mh(6, struct.pack("!BBHH", 0, 0x20, seq, 100), LMA, mag)
        for src, dst, data in ((mag, LMA, pbu), (LMA, mag, pba)):
            carried = Carried("testbed-2011.pcap", len(out) + 1, t, src, dst, "mh", data, (len(out) + 1,),
                              {"ip_payload_len": len(data)})
            msg = decode_carried(carried, profile)
            assert isinstance(msg, Message), msg
            out.append(msg)
            t += 3_000_000
        t += 20_000_000_000
        seq += 1
    return out


def test_the_decoder_recognises_the_dialect() -> None:
    pbu = _trace()[0]
    assert pbu.type == "PBU"
    assert any(w.code == "mh.pre-rfc-dialect" for w in pbu.warnings)


def test_three_inter_mag_handovers_of_one_mn_and_no_failure() -> None:
    messages = _trace()
    analysis = analyze(messages)
    moves = [(h.pmag, h.nmag) for h in analysis.handovers]
    assert moves == [(MAG1, MAG2), (MAG2, MAG1), (MAG1, MAG2)]
    assert len({h.mn for h in analysis.handovers}) == 1
    result = run_rules(analysis)
    assert not exceeds(result, "error"), [(f.rule, f.message) for f in result.findings if f.severity == "error"]
    dialect = [f for f in result.findings if f.rule == "INPUT-I3"]
    assert len(dialect) == 1 and dialect[0].severity == "info" and "7 more" in dialect[0].message
    assert dialect[0].refs[0].frame == 1


def test_decoded_natively_with_the_dialect_profile() -> None:
    profile = parse_profile('[codepoints]\ndialect = "pmip6d-2010"\n')
    messages = _trace(profile)
    assert not any(w.code == "mh.pre-rfc-dialect" for m in messages for w in m.warnings)
    analysis = analyze(messages, profile)
    assert len(analysis.handovers) == 3
    assert analysis.handovers[0].mn == IID.hex() and analysis.bindings[0].prefixes == ("2001:db8:beef::/64",)
    result = run_rules(analysis, (), profile)
    assert not exceeds(result, "error"), [(f.rule, f.message) for f in result.findings if f.severity == "error"]
