"""Synthesized packets against the RFC layouts written out by hand: the PBU (RFC 5213 8.1 with
RFC 6275 6.1.1's checksum), the PBA's pMAG_Address (protocol notes (g)), CXTP (RFC 4067 2.x)
and SCTP (RFC 9260: CRC32c, DATA chunk with the U bit) -- each check computed here, not by the
project's code."""

from __future__ import annotations

import ipaddress
import struct

from pmipct_check.synth import build
from pmipct_check.synth.scenario import scenario_from_dict

BASE = 1_704_067_200  # 2024-01-01T00:00:00Z
MAG1, MAG2, LMA = "2001:db8:ff01::1", "2001:db8:ff02::1", "2001:db8:ffff::1"


def _trace():  # type: ignore[no-untyped-def]
    sc = scenario_from_dict({
        "scenario": {"jitter_ms": 0, "traffic_interval_ms": 0},
        "nodes": [{"name": "lma", "role": "lma", "ipv6": LMA}, {"name": "mag1", "role": "mag", "ipv6": MAG1},
                  {"name": "mag2", "role": "mag", "ipv6": MAG2}],
        "mns": [{"name": "mn1", "nai": "mn1@lab.example", "hnp": "2001:db8:1:1::/64",
                 "ll_id": "02:00:00:00:01:01"}],
        "steps": [
            {"at_ms": 10, "action": "register", "mag": "mag1", "mn": "mn1", "hi": 1},
            {"at_ms": 100, "action": "register", "mag": "mag2", "mn": "mn1", "hi": 3, "pmag_address": True},
            {"at_ms": 106, "action": "ct-req", "src": "mag2", "dst": "mag1", "mn": "mn1"},
            {"at_ms": 109, "action": "ctd", "src": "mag1", "dst": "mag2", "mn": "mn1"},
            {"at_ms": 113, "action": "ctdr", "src": "mag2", "dst": "mag1", "mn": "mn1"},
        ],
    }, "t.toml")
    return build(sc, seed=1)


def ones_complement(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_pbu_is_rfc_5213_section_8_1_octet_for_octet() -> None:
    trace = _trace()
    (n, info), *_ = trace.messages()
    ip = trace.frames[n - 1].ip
    assert ip[0] >> 4 == 6 and ip[6] == 135 and ip[7] == 64  # IPv6, next header MH, hop limit 64
    assert ip[8:24] == ipaddress.ip_address(MAG1).packed and ip[24:40] == ipaddress.ip_address(LMA).packed
    mh = ip[40:]
    assert int.from_bytes(ip[4:6], "big") == len(mh) == 88
    ts = ((BASE << 16) | ((10_000_000 << 16) // 1_000_000_000)).to_bytes(8, "big")  # 10 ms after base
    expected = (
        bytes([59, 88 // 8 - 1, 5, 0]) + mh[4:6]                      # proto none, len, type 5, checksum
        + struct.pack(">HHH", info["seq"], 0x8000 | 0x0200, 3600 // 4)  # seq, A|P, lifetime in 4 s units
        + bytes([8, 16, 1]) + b"mn1@lab.example"                       # MN-ID, NAI (ends at 30)
        + bytes([1, 4, 0, 0, 0, 0])                                    # PadN: HNP starts at 36 = 8n+4
        + bytes([22, 18, 0, 64]) + ipaddress.ip_address("2001:db8:1:1::").packed
        + bytes([23, 2, 0, 1])                                         # Handoff Indicator 1
        + bytes([24, 2, 0, 4])                                         # ATT 4 (802.11)
        + bytes([1, 0])                                                # PadN: Timestamp at 66 = 8n+2
        + bytes([27, 8]) + ts
        + bytes([25, 8, 0, 0, 2, 0, 0, 0, 1, 1])                       # MN-LL-ID
        + bytes([1, 0])                                                # PadN to 88
    )
    assert mh == expected
    pseudo = ip[8:40] + struct.pack(">IxxxB", len(mh), 135)
    assert ones_complement(pseudo + mh) == 0xFFFF  # RFC 6275 6.1.1: the checksum verifies


def test_pba_names_the_pmag_with_the_default_encoding() -> None:
    trace = _trace()
    n = next(n for n, m in trace.messages() if m["type"] == "PBA" and m["dst"] == MAG2)
    mh = trace.frames[n - 1].ip[40:]
    option = bytes([18, 19, 1, 1, 0]) + ipaddress.ip_address(MAG1).packed  # Experimental, sub-type 1, IPv6
    assert option in mh
    assert mh[6:8] == bytes([0, 0x20])  # status 0, P flag


def test_cxtp_messages_rfc_4067_in_sctp_data_chunks() -> None:
    trace = _trace()
    prev = ipaddress.ip_address("2001:db8:1:1::100").packed
    found = {}
    for n, m in trace.messages():
        if m["transport"] != "sctp":
            continue
        ip = trace.frames[n - 1].ip
        assert ip[6] == 132
        segment = ip[40:]
        stored = int.from_bytes(segment[8:12], "little")  # RFC 9260 appendix B: CRC32c, little-endian
        assert crc32c(segment[:8] + bytes(4) + segment[12:]) == stored
        chunk = segment[12:]
        assert chunk[0] == 0 and chunk[1] & 0x04 and chunk[1] & 0x03 == 0x03  # DATA, U, B and E bits
        length = int.from_bytes(chunk[2:4], "big")
        found[m["type"]] = chunk[16:length]
    assert found["CT-Req"] == bytes([0x27, 0, 0, 32]) + prev + bytes(8) + bytes([0, 1, 0, 0])
    mld = bytes([0, 1, 4, 0]) + ipaddress.ip_address("2001:db8:1:1::").packed[:8] + \
        ipaddress.ip_address("ff3e::8000:1").packed + bytes(4)
    assert found["CTD"] == bytes([0x23, 0x40, 0, 56]) + bytes(4) + prev + mld  # A flag, elapsed 0
    assert found["CTDR"] == bytes([0x25, 0x40, 0, 24]) + prev + bytes([0, 1, 0, 0])  # S flag, FPT 1 ok


def test_sctp_association_set_up_before_the_first_data_chunk() -> None:
    trace = _trace()
    kinds = [(f.kind, f.ip[40 + 12]) for f in trace.frames if f.kind in ("sctp", "cxtp")]
    # INIT, INIT ACK, COOKIE ECHO, COOKIE ACK, then DATA / SACK pairs
    assert [k for _, k in kinds[:6]] == [1, 2, 10, 11, 0, 3]
    init = next(f.ip[40:] for f in trace.frames if f.kind == "sctp")
    assert init[4:8] == bytes(4)  # RFC 9260: an INIT carries verification tag 0
