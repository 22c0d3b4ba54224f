"""tshark as the oracle: every mobility-header message we decode must carry the values tshark shows.

Captures: ``../shared/captures/tcpdump-mobility/ipv6_mobility_1.pcap`` (third party) and pcaps
written here with ``scapy.utils.wrpcap`` from frames built by hand (RFC 5213 PBU/PBA with every
option, RFC 5949 HI/HAck, RFC 5846 BRI/BRA, RFC 5847 HB, RFC 5844 options, PBU over IPv4 UDP
5436).  tshark's PDML tree gives, per option, its Wireshark name and child fields; the mapping of
those names to IANA numbers below is written from the IANA registry, not from our registry.

Until the capture stage lands, payloads are cut out of the frames by a small IPv6/IPv4 walker in
this file; when ``pmipct_check.capture.iter_carried`` exists the same pcaps also run through it.
"""

from __future__ import annotations

import ipaddress
import struct
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_decode_build import (
    LMA,
    MAG1,
    MAG2,
    carried,
    mh,
    opt,
    opt_hnp,
    opt_mn_id_nai,
    padn,
    pba,
    pbu,
)

from pmipct_check.decode import Message, decode_carried

# Wireshark option field -> IANA option type (IANA "Mobility Options" registry).
WS_OPTION_TYPES = {
    "pad1": 0, "padn": 1, "bra": 2, "acoa": 3, "ni": 4, "bad_auth": 5, "mnp": 6, "mhlla": 7, "mnid": 8,
    "auth": 9, "mseg_id": 10, "em": 18, "vsm": 19, "ssm": 20, "hnp": 22, "hi": 23, "att": 24, "mnlli": 25,
    "lla": 26, "ts": 27, "rc": 28, "ipv4ha": 29, "ipv4aa": 30, "natd": 31, "ipv4coa": 32, "grek": 33,
    "ipv4hareq": 36, "ipv4harep": 37, "ipv4dra": 38, "ipv4dsm": 39, "cr": 40,
    "lmaa": 41,  # Wireshark 4.0 labels this field "Mobile Node Link-local Address Interface Identifier"
}
# tshark child field -> our option field (values compared as text after normalising).
WS_OPTION_FIELDS = {
    "mip6.nemo.mnp.pfl": "prefix_len", "mip6.nemo.mnp.mnp": "prefix", "mip6.hi": "value", "mip6.att": "value",
    "mip6.mnlli.lli": "identifier", "mip6.lila_lla": "address", "mip6.mnid.subtype": "subtype",
    "mip6.mnid.identifier": "identifier", "mip6.acoa.acoa": "address", "mip6.ni.hni": "home_nonce_index",
    "mip6.ni.cni": "care_of_nonce_index", "mip6.rc": "counter", "mip6.gre_key": "gre_key",
    "mip6.vsm.vendorId": "vendor_id", "mip6.vsm.subtype": "subtype", "mip6.ipv4ha.ha": "address",
    "mip6.ipv4dra.dra": "address", "mip6.ipv4aa.sts": "status", "mip6.lmaa.opt_code": "code",
    "mip6.lmaa.ipv6": "address", "mip6.lmaa.ipv4": "address",
}
WS_MESSAGE_FIELDS = {
    "mip6.proto": "payload_proto", "mip6.hlen": "header_len", "mip6.mhtype": "mh_type",
    "mip6.bu.seqnr": "seq", "mip6.ba.seqnr": "seq", "mip6.hi.seqnr": "seq", "mip6.hack.seqnr": "seq",
    "mip6.hb.seqnr": "seq", "mip6.bri_seqnr": "seq", "mip6.ba.status": "status", "mip6.be.status": "status",
    "mip6.bri_status": "status", "mip6.bri_r.trigger": "trigger", "mip6.bri_br.type": "br_type",
    "mip6.hi.code": "code", "mip6.hack.code": "code", "mip6.be.haddr": "home_address",
    "mip6.has.num_addrs": "num_addresses",
}
WS_FLAGS = {
    "mip6.bu.a_flag": "A", "mip6.bu.h_flag": "H", "mip6.bu.l_flag": "L", "mip6.bu.k_flag": "K",
    "mip6.bu.m_flag": "M", "mip6.nemo.bu.r_flag": "R", "mip6.bu.p_flag": "P", "mip6.bu.f_flag": "F",
    "mip6.bu.t_flag": "T", "mip6.bu.b_flag": "B", "mip6.ba.k_flag": "K", "mip6.nemo.ba.r_flag": "R",
    "mip6.ba.p_flag": "P", "mip6.ba.t_flag": "T", "mip6.ba.b_flag": "B", "mip6.hb.u_flag": "U",
    "mip6.hb.r_flag": "R", "mip6.hi.s_flag": "S", "mip6.hi.u_flag": "U", "mip6.bri_ip": "P",
    "mip6.bri_iv": "V", "mip6.bri_ig": "G", "mip6.bri_ap": "P", "mip6.bri_av": "V", "mip6.bri_ag": "G",
}
WS_LIFETIME = ("mip6.bu.lifetime", "mip6.ba.lifetime")


# --- frames and pcaps --------------------------------------------------------------------------------------

ETH = bytes.fromhex("020000000002020000000001")


def ipv6_frame(src: str, dst: str, payload: bytes, nh: int = 135) -> bytes:
    ip = (struct.pack("!IHBB", 0x60000000, len(payload), nh, 64)
          + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed)
    return ETH + b"\x86\xdd" + ip + payload


def ipv4_udp_frame(src: str, dst: str, payload: bytes, sport: int = 5436, dport: int = 5436) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    words = struct.unpack("!10H", hdr)
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~total & 0xFFFF) + hdr[12:]
    return ETH + b"\x08\x00" + hdr + udp


def write_pcap(path: Path, frames: list[bytes]) -> Path:
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    wrpcap(str(path), [Ether(f) for f in frames])
    return path


def payloads(path: Path) -> list[tuple[int, str, str, str, bytes, dict[str, Any]]]:
    """(frame, src, dst, transport, MH octets, info) for every MH in the pcap: a test-side walker."""
    from scapy.utils import RawPcapReader

    out = []
    reader = RawPcapReader(str(path))
    linktype = reader.linktype
    for number, (raw, _meta) in enumerate(reader, start=1):
        data = bytes(raw)
        if linktype == 1:
            data = data[14:] if data[12:14] in (b"\x86\xdd", b"\x08\x00") else b""
        elif linktype == 0:  # BSD loopback
            data = data[4:]
        if len(data) >= 40 and data[0] >> 4 == 6:
            nh, pos = data[6], 40
            plen = int.from_bytes(data[4:6], "big")
            src = str(ipaddress.IPv6Address(data[8:24]))
            dst = str(ipaddress.IPv6Address(data[24:40]))
            while nh in (0, 43, 60) and pos + 2 <= len(data):
                nh, pos = data[pos], pos + (data[pos + 1] + 1) * 8
            if nh in (135, 62) and pos < len(data):
                out.append((number, src, dst, "mh" if nh == 135 else "mh-old", data[pos:],
                            {"ip_payload_len": plen - (pos - 40)}))
        elif len(data) >= 28 and data[0] >> 4 == 4 and data[9] == 17:
            ihl = (data[0] & 15) * 4
            if int.from_bytes(data[ihl + 2:ihl + 4], "big") == 5436:
                out.append((number, str(ipaddress.IPv4Address(data[12:16])),
                            str(ipaddress.IPv4Address(data[16:20])), "mh-udp", data[ihl + 8:], {}))
    reader.close()
    return out


def decode_pcap(path: Path) -> dict[int, Message]:
    out = {}
    for number, src, dst, transport, data, info in payloads(path):
        msg = decode_carried(carried(data, transport, src, dst, number, info))
        assert isinstance(msg, Message), msg
        out[number] = msg
    return out


# --- tshark ------------------------------------------------------------------------------------------------


def tshark_mh(tshark: str, path: Path) -> dict[int, dict[str, Any]]:
    """Per frame: message fields {name: show} and options [(type, length, {field: show})]."""
    xml = subprocess.run([tshark, "-r", str(path), "-T", "pdml"], capture_output=True, check=True).stdout
    frames: dict[int, dict[str, Any]] = {}
    for number, packet in enumerate(ET.fromstring(xml).iter("packet"), start=1):
        proto = next((p for p in packet.iter("proto") if p.get("name") == "mipv6"), None)
        if proto is None:
            continue
        fields: dict[str, str] = {}
        options: list[tuple[int, int, dict[str, list[str]]]] = []
        for field in proto.iter("field"):
            name = field.get("name", "")
            if name.startswith("mip6.options."):
                kind = name.removeprefix("mip6.options.")
                children: dict[str, list[str]] = {}
                for child in field.iter("field"):
                    if child is not field:
                        children.setdefault(child.get("name", ""), []).append(child.get("show", ""))
                length = 0 if kind == "pad1" else int(children.get("mip6.mobility_opt.len", ["-1"])[0])
                options.append((WS_OPTION_TYPES.get(kind, -1), length, children))
            elif name and name not in fields:
                fields[name] = field.get("show", "")
        frames[number] = {"fields": fields, "options": options}
    return frames


def _ts_text(value: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(value["seconds"], UTC)
    nanos = value["fraction"] * 1_000_000_000 // 65536
    return when.strftime("%b %d, %Y %H:%M:%S.") + f"{nanos:09d} UTC"


def _same(ours: Any, theirs: str) -> bool:
    if isinstance(ours, bool):
        return theirs in ("1", "True") if ours else theirs in ("0", "False")
    if isinstance(ours, int):
        return theirs == str(ours) or theirs.lower() == hex(ours)
    return str(ours).lower() == theirs.lower()


def compare(ours: Message, theirs: dict[str, Any]) -> list[str]:
    """Every tshark value we map must equal ours; returns the differences (empty = agreement)."""
    diffs = []
    f = ours.fields
    for ws, key in WS_MESSAGE_FIELDS.items():
        if ws in theirs["fields"] and not _same(f.get(key), theirs["fields"][ws]):
            diffs.append(f"{ws}={theirs['fields'][ws]} vs {key}={f.get(key)}")
    if "mip6.csum" in theirs["fields"] and int(theirs["fields"]["mip6.csum"], 16) != f.get("checksum"):
        diffs.append("checksum")
    for ws, key in WS_FLAGS.items():
        if ws in theirs["fields"] and not _same(f.get("flags", {}).get(key), theirs["fields"][ws]):
            diffs.append(f"flag {key}: {theirs['fields'][ws]} vs {f.get('flags')}")
    for ws in WS_LIFETIME:
        if ws in theirs["fields"] and int(theirs["fields"][ws]) * 4 != f.get("lifetime"):
            diffs.append(f"lifetime {theirs['fields'][ws]}*4 vs {f.get('lifetime')}")
    opts = f.get("options", [])
    if [(t, n) for t, n, _ in theirs["options"]] != [(o["type"], o["length"]) for o in opts]:
        diffs.append(f"options {[(t, n) for t, n, _ in theirs['options']]} vs "
                     f"{[(o['type'], o['length']) for o in opts]}")
        return diffs
    for (otype, _, children), mine in zip(theirs["options"], opts, strict=True):
        for ws, shows in children.items():
            show = shows[0]
            if ws == "mip6.cr.req_type":
                if [int(x) for x in shows] != [r["type"] for r in mine["requests"]]:
                    diffs.append(f"{ws}: {shows} vs {mine}")
            elif ws == "mip6.cr.req_length":
                if [int(x) for x in shows] != [r["length"] for r in mine["requests"]]:
                    diffs.append(f"{ws}: {shows} vs {mine}")
            elif ws == "mip6.timestamp_tmp":
                if _ts_text(mine["value"]) != show:
                    diffs.append(f"timestamp {show} vs {_ts_text(mine['value'])}")
            elif ws == "mip6.ipv4ha.preflen":
                if int(show) != mine.get("prefix_len"):
                    diffs.append(f"{ws}: {show} vs {mine}")
            elif ws == "mip6.ipv4dsm.s_flag":
                if not _same(mine["flags"]["S"], show):
                    diffs.append(f"{ws}: {show} vs {mine}")
            elif ws in WS_OPTION_FIELDS and not _same(mine.get(WS_OPTION_FIELDS[ws]), show):
                diffs.append(f"option {otype} {ws}: {show} vs {mine.get(WS_OPTION_FIELDS[ws])}")
    return diffs


def assert_agree(tshark: str, path: Path, expect_frames: int) -> dict[int, Message]:
    ours = decode_pcap(path)
    theirs = tshark_mh(tshark, path)
    assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
    assert len(ours) == expect_frames
    problems = {n: d for n in ours if (d := compare(ours[n], theirs[n]))}
    assert not problems, problems
    return ours


# --- the captures ------------------------------------------------------------------------------------------


def test_ipv6_mobility_1_agrees_with_tshark(tshark: str, tcpdump_mobility: Path) -> None:
    ours = assert_agree(tshark, tcpdump_mobility / "ipv6_mobility_1.pcap", 16)
    assert [m.type for m in ours.values()] == [
        "BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BU", "BU", "BU", "BU", "BA", "BA", "BA", "BA", "BE", "BU"]
    assert all(m.protocol == "mipv6" for m in ours.values())


def _pmipv6_frames() -> list[bytes]:
    frames = [ipv6_frame(MAG1, LMA, pbu()), ipv6_frame(LMA, MAG1, pba())]
    # RFC 5213 rejection: status 158, lifetime 0, flags K|P.
    frames.append(ipv6_frame(LMA, MAG1, pba(status=158, lifetime_units=0, flags=0xA0)))
    # De-registration PBU with only the mandatory options and a Timestamp.
    dereg = opt_mn_id_nai() + padn(6) + opt_hnp() + opt(23, b"\x00\x04") + opt(24, b"\x00\x03")
    frames.append(ipv6_frame(MAG1, LMA, pbu(seq=4712, lifetime_units=0, options=dereg)))
    # RFC 5949 HI (P, F set, code 0) PMAG->NMAG with MN-ID, HNP, Context Request, LMAA, MN LLA IID.
    hi_opts = (opt_mn_id_nai() + padn(8) + opt_hnp()  # options start at 10: HNP at 36 = 8n+4
               + opt(40, b"\x00\x00" + bytes((22, 0, 25, 0)))
               + opt(41, b"\x01\x00" + ipaddress.IPv6Address(LMA).packed))
    frames.append(ipv6_frame(MAG1, MAG2, mh(14, struct.pack("!HBB", 77, 0x30, 0) + hi_opts, MAG1, MAG2)))
    # RFC 5949 HAck (P set, code 5) with MN-ID and HNP.
    hack_opts = opt_mn_id_nai() + padn(8) + opt_hnp()
    frames.append(ipv6_frame(MAG2, MAG1, mh(15, struct.pack("!HBB", 77, 0x40, 5) + hack_opts, MAG2, MAG1)))
    # RFC 5846 BRI (type 1, trigger 2, seq 9, P|G) and BRA (type 2, status 0, seq 9, P).
    frames.append(ipv6_frame(LMA, MAG1, mh(16, bytes((1, 2)) + struct.pack("!HH", 9, 0xA000)
                                           + padn(2) + opt_mn_id_nai(), LMA, MAG1)))
    frames.append(ipv6_frame(MAG1, LMA, mh(16, bytes((2, 0)) + struct.pack("!HH", 9, 0x8000)
                                           + padn(2) + opt_mn_id_nai(), MAG1, LMA)))
    # RFC 5847 HB request and response (R) with a Restart Counter.
    frames.append(ipv6_frame(MAG1, LMA, mh(13, struct.pack("!HI", 0, 31), MAG1, LMA)))
    frames.append(ipv6_frame(LMA, MAG1, mh(13, struct.pack("!HI", 1, 31) + padn(4)
                                           + opt(28, struct.pack("!I", 5)), LMA, MAG1)))
    # RFC 5844 options 36-39 in a PBU, GRE Key (33) and Vendor-Specific (19).
    v4 = (opt_mn_id_nai() + padn(6) + opt_hnp()
          + opt(36, struct.pack("!H", 24 << 10) + ipaddress.IPv4Address("10.1.2.3").packed)
          + opt(39, struct.pack("!H", 1))
          + opt(33, struct.pack("!HI", 0, 0xDEADBEEF))
          + opt(19, struct.pack("!IB", 10415, 1) + b"xy"))
    frames.append(ipv6_frame(MAG1, LMA, pbu(seq=5000, options=v4)))
    v4r = (opt_mn_id_nai() + padn(6) + opt_hnp()
           + opt(37, bytes((0, 24 << 2)) + ipaddress.IPv4Address("10.1.2.3").packed)
           + opt(38, b"\x00\x00" + ipaddress.IPv4Address("10.1.2.1").packed))
    frames.append(ipv6_frame(LMA, MAG1, pba(seq=5000, options=v4r)))
    return frames


def test_crafted_pmipv6_agrees_with_tshark(tshark: str, tmp_path: Path) -> None:
    ours = assert_agree(tshark, write_pcap(tmp_path / "pmipv6.pcap", _pmipv6_frames()), 12)
    assert [m.type for m in ours.values()] == [
        "PBU", "PBA", "PBA", "PBU", "HI", "HAck", "BRI", "BRA", "HB", "HB", "PBU", "PBA"]
    assert all(m.fields["checksum_ok"] for m in ours.values())
    assert all(not m.warnings for m in ours.values()), {n: m.warnings for n, m in ours.items() if m.warnings}


def test_home_agent_switch_addresses_agree_with_tshark(tshark: str, tmp_path: Path) -> None:
    """RFC 5142 section 5.1: # of Addresses, Reserved, that many Home Agent Addresses, then options."""
    has = [("2001:db8:ffff::1", "2001:db8:ffff::2"), (), ("2001:db8:ffff::9",)]
    frames = [ipv6_frame(LMA, MAG1, mh(12, bytes((len(a), 0)) + b"".join(ipaddress.IPv6Address(x).packed for x in a)
                                       + (opt(28, struct.pack("!I", 7)) if len(a) == 1 else b""), LMA, MAG1))
              for a in has]
    path = write_pcap(tmp_path / "has.pcap", frames)
    ours, fields = decode_pcap(path), tshark_mh(tshark, path)
    # Wireshark 4.0 reads HAS options from the octet after Reserved, inside the addresses (it shows
    # the first address's zero octets as Pad1 options): the options are not compared, the rest is.
    assert {n: [d for d in compare(ours[n], fields[n]) if not d.startswith("options")] for n in ours} == \
        {1: [], 2: [], 3: []}
    xml = subprocess.run([tshark, "-r", str(path), "-T", "pdml"], capture_output=True, check=True).stdout
    theirs = [[f.get("show") for f in packet.iter("field") if f.get("name") == "mip6.has.address"]
              for packet in ET.fromstring(xml).iter("packet")]
    assert theirs == [list(a) for a in has]
    assert [ours[n].fields["ha_addresses"] for n in (1, 2, 3)] == [list(a) for a in has]
    assert [o["key"] for o in ours[3].fields["options"]] == ["restart_counter", "padn"]
    assert all(m.type == "HAS" and not m.warnings for m in ours.values())


def test_home_agent_switch_counting_more_addresses_than_it_holds_is_cut_short() -> None:
    msg = decode_carried(carried(mh(12, bytes((3, 0)) + ipaddress.IPv6Address("2001:db8::1").packed, LMA, MAG1),
                                 src=LMA, dst=MAG1))
    assert isinstance(msg, Message) and "ha_addresses" not in msg.fields and msg.fields["num_addresses"] == 3
    assert [w.code for w in msg.warnings] == ["mh.field-short"]


def test_pbu_over_ipv4_udp_5436_agrees_with_tshark(tshark: str, tmp_path: Path) -> None:
    """RFC 5844: the MH carried in UDP port 5436 over IPv4."""
    frames = [ipv4_udp_frame("192.0.2.1", "192.0.2.100", pbu(src=MAG1, dst=LMA)),
              ipv4_udp_frame("192.0.2.100", "192.0.2.1", pba())]
    path = write_pcap(tmp_path / "udp.pcap", frames)
    ours = decode_pcap(path)
    assert [m.type for m in ours.values()] == ["PBU", "PBA"]
    assert all(m.fields["checksum_ok"] is None and m.transport == "mh-udp" for m in ours.values())
    theirs = tshark_mh(tshark, path)
    if not theirs:
        pytest.skip("this tshark does not dissect the MH over UDP 5436")
    assert {n: compare(ours[n], theirs[n]) for n in ours} == {1: [], 2: []}


def test_fuzzed_captures_never_raise_and_report_by_frame(tcpdump_mobility: Path) -> None:
    seen = 0
    for path in sorted(tcpdump_mobility.glob("*.pcap")):
        for number, src, dst, transport, data, info in payloads(path):
            result = decode_carried(carried(data, transport, src, dst, number, info))
            if isinstance(result, Message):
                assert result.frame == number
                if path.name != "ipv6_mobility_1.pcap":
                    assert result.warnings, (path.name, number)  # every fuzzed message is malformed
                    assert all(w.frame == number and w.file for w in result.warnings)
                    assert not any(w.code == "decode.internal-error" for w in result.warnings)
            else:
                assert result.frame == number and result.code != "decode.internal-error"
            seen += 1
    assert seen >= 27


def test_capture_stage_gives_the_same_records(tcpdump_mobility: Path, tmp_path: Path) -> None:
    """When the capture stage exists, decode_stream over it equals the test-side walker's records."""
    capture = pytest.importorskip("pmipct_check.capture")
    iter_carried = getattr(capture, "iter_carried", None)
    if iter_carried is None:
        pytest.skip("pmipct_check.capture.iter_carried not there yet")
    from pmipct_check.decode import decode_stream
    from pmipct_check.profile import DEFAULT_PROFILE

    for path in (tcpdump_mobility / "ipv6_mobility_1.pcap", write_pcap(tmp_path / "p.pcap", _pmipv6_frames())):
        ours = decode_pcap(path)
        staged = [m for m in decode_stream(iter_carried([str(path)], DEFAULT_PROFILE), DEFAULT_PROFILE)
                  if isinstance(m, Message)]
        assert [(m.frame, m.type, m.fields) for m in staged] == [(n, m.type, m.fields) for n, m in ours.items()]
