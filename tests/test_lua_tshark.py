"""The exported Lua dissector, run in tshark against captures whose CXTP bytes are written by hand.

Every CXTP message below is laid out octet by octet from RFC 4067 section 2 (header: version 1 in
the high 3 bits of octet 0, type in the low 5, V/A/S in octet 1, Length counting the whole
message), carried over SCTP after an INIT handshake and bundled with SACKs, over IPv6 and IPv4,
V=0 and V=1, over UDP on a profile port and in ICMPv6 150 / ICMPv4 41.  What tshark prints for
each frame must equal what these bytes say; where pmipct-check's own decoder is importable, the
frames tshark marks ``cxtp`` must be exactly the ones it decodes, with the same values.
"""

from __future__ import annotations

import ipaddress
import random
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pmipct_check.lua import generate_lua
from pmipct_check.profile import DEFAULT_PROFILE, Profile, ProfileError, load_profile, parse_profile

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import (  # noqa: E402
    IP,
    UDP,
    Ether,
    ICMPv6Unknown,
    IPv6,
    Raw,
    SCTPChunkCookieAck,
    SCTPChunkCookieEcho,
    SCTPChunkData,
    SCTPChunkInit,
    SCTPChunkInitAck,
    SCTPChunkSACK,
    wrpcap,
)
from scapy.layers.inet6 import in6_chksum  # noqa: E402
from scapy.layers.sctp import SCTP  # noqa: E402
from scapy.utils import checksum  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# ------------------------------------------------------------------------------------------------
# CXTP messages by hand (RFC 4067 sections 2.2-2.5)
# ------------------------------------------------------------------------------------------------

CTAR, CTAA, CTD, PCTD, CTDR, CTC, CTREQ = range(1, 8)
V, A, S = 0x80, 0x40, 0x40


def addr(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def cdb(fpt: int, data: bytes = b"", presence: int | None = None) -> bytes:
    """FPT (16), Length (8, 8-octet units incl. these 4 octets), P|Reserved, [PV], data, zero pad."""
    body = (struct.pack("!I", presence) if presence is not None else b"") + data
    body += b"\0" * ((-(4 + len(body))) % 8)
    return struct.pack("!HBB", fpt, (4 + len(body)) // 8, 0x80 if presence is not None else 0) + body


def message(mtype: int, flags: int, body: bytes) -> bytes:
    return bytes([0x20 | mtype, flags]) + struct.pack("!H", 4 + len(body)) + body


@dataclass
class Expect:
    """A CXTP message and the tshark field values it must produce (lists: one per occurrence)."""

    raw: bytes
    fields: dict[str, str] = field(default_factory=dict)


def messages(v4: bool) -> list[Expect]:
    """One message of every type; ``v4`` sets V and uses 4-octet addresses."""
    mn, nar = ("10.1.0.5", "10.0.0.2") if v4 else ("2001:db8:1::5", "2001:db8::2")
    vf = V if v4 else 0
    mlc = cdb(1, addr("2001:db8:1::")[:8] + addr("ff05::1:3"))  # RFC 4067 appendix B: prefix, group
    pv = cdb(1, b"\xaa" * 5, presence=0x80000001)
    mlc_data, pv_data = mlc[4:].hex(), pv[8:].hex()  # data runs to the CDB's end, padding included
    out = []

    raw = message(CTAR, vf | A, addr(mn) + addr(nar) + struct.pack("!II", 0x01020304, 0xDEADBEEF) + mlc)
    out.append(Expect(raw, {"cxtp.type": "1", "cxtp.flags.a": "1", "cxtp.mn_prev_addr": mn, "cxtp.ar_addr": nar,
                            "cxtp.seq": str(0x01020304), "cxtp.token": str(0xDEADBEEF), "cxtp.cdb.fpt": "1",
                            "cxtp.cdb.length": "4", "cxtp.cdb.p": "0", "cxtp.cdb.data": mlc_data}))
    raw = message(CTAA, vf, addr(mn) + struct.pack("!HBB", 1, 1, 0) + struct.pack("!HBB", 7, 0, 0))
    out.append(Expect(raw, {"cxtp.type": "2", "cxtp.mn_prev_addr": mn, "cxtp.status.fpt": "1,7",
                            "cxtp.status.code": "1,0"}))
    raw = message(CTD, vf | A, struct.pack("!I", 1500) + addr(mn) + pv + mlc)
    out.append(Expect(raw, {"cxtp.type": "3", "cxtp.flags.a": "1", "cxtp.elapsed_ms": "1500",
                            "cxtp.mn_prev_addr": mn, "cxtp.cdb.fpt": "1,1", "cxtp.cdb.length": "2,4",
                            "cxtp.cdb.p": "1,0", "cxtp.cdb.presence_vector": "0x80000001",
                            "cxtp.cdb.data": f"{pv_data},{mlc_data}"}))
    key = bytes(range(1, 21))
    raw = message(PCTD, vf, struct.pack("!I", 0) + addr(mn) + struct.pack("!HH", 1, len(key)) + key + mlc)
    out.append(Expect(raw, {"cxtp.type": "4", "cxtp.flags.a": "0", "cxtp.elapsed_ms": "0", "cxtp.mn_prev_addr": mn,
                            "cxtp.algorithm": "1", "cxtp.key_length": "20", "cxtp.key": key.hex(),
                            "cxtp.cdb.fpt": "1", "cxtp.cdb.length": "4", "cxtp.cdb.p": "0",
                            "cxtp.cdb.data": mlc_data}))
    raw = message(CTDR, vf | S, addr(mn) + struct.pack("!HBB", 1, 0, 0))
    out.append(Expect(raw, {"cxtp.type": "5", "cxtp.flags.s": "1", "cxtp.mn_prev_addr": mn,
                            "cxtp.status.fpt": "1", "cxtp.status.code": "0"}))
    raw = message(CTC, vf, addr(mn))
    out.append(Expect(raw, {"cxtp.type": "6", "cxtp.mn_prev_addr": mn, "cxtp.length": str(4 + len(addr(mn)))}))
    raw = message(CTREQ, vf, addr(mn) + struct.pack("!II", 7, 0) + struct.pack("!HBB", 1, 0, 0))
    out.append(Expect(raw, {"cxtp.type": "7", "cxtp.mn_prev_addr": mn, "cxtp.seq": "7", "cxtp.token": "0",
                            "cxtp.cdb.fpt": "1", "cxtp.cdb.length": "0", "cxtp.cdb.p": "0"}))
    for e in out:
        e.fields.setdefault("cxtp.version", "1")
        e.fields.setdefault("cxtp.flags.v", "1" if v4 else "0")
        e.fields.setdefault("cxtp.length", str(len(e.raw)))
    return out


def bundle(*items: Expect) -> Expect:
    """What tshark prints for several messages in one frame: each field's values joined by commas."""
    fields: dict[str, str] = {}
    for item in items:
        for name, value in item.fields.items():
            fields[name] = f"{fields[name]},{value}" if name in fields else value
    return Expect(b"".join(i.raw for i in items), fields)


# ------------------------------------------------------------------------------------------------
# Frames: SCTP associations, UDP, ICMP, Mobility Header
# ------------------------------------------------------------------------------------------------

MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


class Sctp:
    """One SCTP association: the handshake, then DATA chunks (U bit set) bundled with SACKs."""

    def __init__(self, src: str, dst: str, sport: int, dport: int) -> None:
        ip = IPv6 if ":" in src else IP
        self.fwd = Ether(**MAC) / ip(src=src, dst=dst)
        self.rev = Ether(**MAC) / ip(src=dst, dst=src)
        self.sport, self.dport = sport, dport
        self.tag_a, self.tag_b, self.tsn = 0x1111, 0x2222, 100

    def handshake(self) -> list:
        s = self.fwd / SCTP(sport=self.sport, dport=self.dport, tag=0)
        r = self.rev / SCTP(sport=self.dport, dport=self.sport, tag=self.tag_a)
        return [
            s / SCTPChunkInit(init_tag=self.tag_a, init_tsn=self.tsn, n_out_streams=1, n_in_streams=1),
            r / SCTPChunkInitAck(init_tag=self.tag_b, init_tsn=500, n_out_streams=1, n_in_streams=1),
            self.fwd / SCTP(sport=self.sport, dport=self.dport, tag=self.tag_b) / SCTPChunkCookieEcho(cookie=b"c" * 8),
            r / SCTPChunkCookieAck(),
        ]

    def fragments(self, payload: bytes, cut: int) -> list:
        """One user message in two DATA chunks (B, then E), one packet each."""
        out = []
        for part, b, e in ((payload[:cut], 1, 0), (payload[cut:], 0, 1)):
            out.append(self.fwd / SCTP(sport=self.sport, dport=self.dport, tag=self.tag_b)
                       / SCTPChunkData(unordered=1, beginning=b, ending=e, tsn=self.tsn, data=part))
            self.tsn += 1
        return out

    def data(self, *payloads: bytes, ppi: int = 0, sack: bool = True) -> object:
        pkt = self.fwd / SCTP(sport=self.sport, dport=self.dport, tag=self.tag_b)
        if sack:
            pkt = pkt / SCTPChunkSACK(cumul_tsn_ack=499, a_rwnd=65535)
        for payload in payloads:
            pkt = pkt / SCTPChunkData(unordered=1, beginning=1, ending=1, tsn=self.tsn, stream_id=0,
                                      proto_id=ppi, data=payload)
            self.tsn += 1
        return pkt


def icmpv6(src: str, dst: str, body: bytes) -> object:
    return Ether(**MAC) / IPv6(src=src, dst=dst, hlim=255) / ICMPv6Unknown(type=150, code=0, msgbody=b"\x01\0\0\0" + body)


def icmpv4(src: str, dst: str, body: bytes) -> object:
    """ICMP Experimental Mobility by hand: Type 41, Code 0, Checksum, Subtype 1 (octet 4), Reserved (24)."""
    raw = bytes([41, 0, 0, 0, 1, 0, 0, 0]) + body
    raw = raw[:2] + struct.pack("!H", checksum(raw)) + raw[4:]
    return Ether(**MAC) / IP(src=src, dst=dst, ttl=255, proto=1) / Raw(raw)


def mobility_header(mhtype: int, data: bytes, src: str, dst: str) -> object:
    """A Mobility Header (RFC 6275 6.1.1) padded to 8n with PadN, checksum filled."""
    total = 6 + len(data)
    pad = (-total) % 8
    if pad == 1:
        data += b"\0"
    elif pad:
        data += bytes([1, pad - 2]) + b"\0" * (pad - 2)
    raw = struct.pack("!BBBBH", 59, (6 + len(data)) // 8 - 1, mhtype, 0, 0) + data
    ck = in6_chksum(135, IPv6(src=src, dst=dst, nh=135), raw)
    raw = raw[:4] + struct.pack("!H", ck) + raw[6:]
    return Ether(**MAC) / IPv6(src=src, dst=dst, nh=135) / Raw(raw)


def pba(options: bytes, seq: int = 7) -> object:
    """A Proxy Binding Acknowledgement (status 0, P flag) LMA -> nMAG carrying ``options``."""
    body = struct.pack("!BBHH", 0, 0x20, seq, 100)
    mnid = bytes([8, 13, 1]) + b"mn1@lab.test"
    return mobility_header(6, body + mnid + options, "2001:db8::100", "2001:db8::2")


def pmag_address_em(address: str, subtype: int = 1) -> bytes:
    """Experimental Mobility Option (18): Sub-type, Option-Code (1 IPv6 / 2 IPv4), Reserved, address."""
    raw = addr(address)
    data = bytes([subtype, 1 if len(raw) == 16 else 2, 0]) + raw
    return bytes([18, len(data)]) + data


def pmag_id_em(identifier: bytes, subtype: int = 2) -> bytes:
    data = bytes([subtype, 0]) + identifier
    return bytes([18, len(data)]) + data


# ------------------------------------------------------------------------------------------------
# tshark
# ------------------------------------------------------------------------------------------------

CXTP_FIELDS = [
    "cxtp.type", "cxtp.version", "cxtp.flags.v", "cxtp.flags.a", "cxtp.flags.s", "cxtp.length",
    "cxtp.mn_prev_addr", "cxtp.ar_addr", "cxtp.elapsed_ms", "cxtp.seq", "cxtp.token", "cxtp.algorithm",
    "cxtp.key_length", "cxtp.key", "cxtp.cdb.fpt", "cxtp.cdb.length", "cxtp.cdb.p",
    "cxtp.cdb.presence_vector", "cxtp.cdb.data", "cxtp.status.fpt", "cxtp.status.code",
]
PMAG_FIELDS = ["pmipct.pmag_addr", "pmipct.pmag_id"]


def tshark_fields(tshark: str, plugin: Path, capture: Path, display: str, fields: list[str],
                  prefs: tuple[str, ...] = ()) -> tuple[dict[int, dict[str, str]], str]:
    """frame number -> {field: value} for the frames matching ``display``; and tshark's stderr."""
    cmd = [tshark, "-n", "-X", f"lua_script:{plugin}", "-r", str(capture), "-Y", display, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t", "-e", "frame.number"]
    for pref in prefs:
        cmd += ["-o", pref]
    for name in fields:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        values = line.split("\t")
        rows[int(values[0])] = dict(zip(fields, values[1:], strict=True))
    return rows, _real_errors(proc.stderr)


def _real_errors(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if "Running as user" not in line)


def write_plugin(tmp_path: Path, profile: Profile = DEFAULT_PROFILE, name: str = "pmipct.lua") -> Path:
    path = tmp_path / name
    path.write_text(generate_lua(profile), encoding="utf-8")
    return path


LAB = parse_profile("[cxtp]\nudp_ports = [7777]\n", "lab.toml")


@dataclass
class Built:
    path: Path
    expect: dict[int, Expect]  # frame number -> the CXTP message it carries
    not_cxtp: set[int]
    sctp: set[int]  # CXTP frames carried over SCTP


def build_capture(tmp_path: Path) -> Built:
    """Every type over SCTP/IPv6 (V=0) and SCTP/IPv4 (V=1), UDP on port 7777, ICMPv6 and ICMPv4."""
    frames: list = []
    expect: dict[int, Expect] = {}
    not_cxtp: set[int] = set()

    def add(pkt: object, exp: Expect | None = None) -> None:
        frames.append(pkt)
        if exp is None:
            not_cxtp.add(len(frames))
        else:
            expect[len(frames)] = exp

    for v4, (src, dst) in ((False, ("2001:db8::1", "2001:db8::2")), (True, ("10.0.0.1", "10.0.0.2"))):
        assoc = Sctp(src, dst, 40000 + v4, 40100)
        for pkt in assoc.handshake():
            add(pkt)
        for i, exp in enumerate(messages(v4)):
            add(assoc.data(exp.raw, sack=i % 2 == 0), exp)
        add(assoc.data(b"hello, not CXTP at all"))  # fails the header check
        ctdr, ctc = messages(v4)[4], messages(v4)[5]
        add(assoc.data(ctdr.raw, ctc.raw), bundle(ctdr, ctc))  # two CXTP messages in one packet
        short = ctc.raw[:2] + struct.pack("!H", len(ctc.raw) - 4) + ctc.raw[4:]  # Length without header
        add(assoc.data(short), Expect(short, {**ctc.fields, "cxtp.length": str(len(ctc.raw) - 4)}))
        ctd = messages(v4)[2]
        first, last = assoc.fragments(ctd.raw, 30)  # reassembled: CXTP in the frame that completes it
        add(first)
        add(last, ctd)
    udp_msg = messages(False)[2]
    add(Ether(**MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=7777, dport=7777) / Raw(udp_msg.raw),
        udp_msg)
    add(Ether(**MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=7778, dport=7779) / Raw(udp_msg.raw))
    ctar6 = messages(False)[0]
    add(icmpv6("2001:db8:1::5", "2001:db8::2", ctar6.raw), ctar6)
    ctaa4 = messages(True)[1]
    add(icmpv4("10.0.0.2", "10.1.0.5", ctaa4.raw), ctaa4)
    path = tmp_path / "cxtp.pcap"
    wrpcap(str(path), frames)
    sctp = {n for n in expect if frames[n - 1].haslayer(SCTP)}
    return Built(path, expect, not_cxtp, sctp)


# ------------------------------------------------------------------------------------------------
# The decoder, where it exists (another stage of this project)
# ------------------------------------------------------------------------------------------------


def decoded_cxtp(path: Path, profile: Profile) -> dict[int, list[dict]] | None:
    """frame -> decoded CXTP field dicts, or None when the decoder is not importable."""
    try:
        from pmipct_check.capture import iter_carried
        from pmipct_check.decode import Message, decode_stream
    except ImportError:
        return None
    out: dict[int, list[dict]] = {}
    for item in decode_stream(iter_carried([str(path)], profile), profile):
        if isinstance(item, Message) and item.protocol == "cxtp":
            out.setdefault(item.frame, []).append(item.fields)
    return out


def decoded_pmag(path: Path, profile: Profile) -> dict[int, dict[str, str]] | None:
    """frame -> the pMAG fields our decoder found in its mobility headers (tshark's spelling)."""
    try:
        from pmipct_check.capture import iter_carried
        from pmipct_check.decode import Message, decode_stream
    except ImportError:
        return None
    found: dict[int, dict[str, str]] = {}
    for item in decode_stream(iter_carried([str(path)], profile), profile):
        if isinstance(item, Message) and item.protocol != "cxtp":
            for option in item.fields.get("options", []):
                if option.get("key") == "pmag_address" and "address" in option:
                    found.setdefault(item.frame, {})["pmipct.pmag_addr"] = option["address"]
                elif option.get("key") == "pmag_id" and "identifier" in option:
                    found.setdefault(item.frame, {})["pmipct.pmag_id"] = option["identifier"]
    return found


def decoder_view(fields: dict) -> dict[str, str]:
    """Our decoder's record in tshark's -T fields spelling."""
    view = {
        "cxtp.type": str(fields["type_code"]),
        "cxtp.version": str(fields["version"]),
        "cxtp.length": str(fields["length"]),
        "cxtp.flags.v": str(int(fields["flags"]["V"])),
    }
    for flag in ("A", "S"):
        if flag in fields["flags"]:
            view[f"cxtp.flags.{flag.lower()}"] = str(int(fields["flags"][flag]))
    for name in ("mn_prev_addr", "ar_addr", "elapsed_ms", "seq", "token", "algorithm", "key_length"):
        if name in fields:
            view[f"cxtp.{name}"] = str(fields[name])
    if fields.get("key"):
        view["cxtp.key"] = fields["key"]
    cdbs = fields.get("cdbs") or []
    if cdbs:
        view["cxtp.cdb.fpt"] = ",".join(str(c["fpt"]) for c in cdbs)
        view["cxtp.cdb.length"] = ",".join(str(c["length"]) for c in cdbs)
        view["cxtp.cdb.p"] = ",".join(str(int(c["p"])) for c in cdbs)
        pvs = [f"0x{c['presence_vector']:08x}" for c in cdbs if "presence_vector" in c]
        if pvs:
            view["cxtp.cdb.presence_vector"] = ",".join(pvs)
        data = [c["data"] for c in cdbs if c.get("data")]
        if data:
            view["cxtp.cdb.data"] = ",".join(data)
    statuses = fields.get("statuses") or []
    if statuses:
        view["cxtp.status.fpt"] = ",".join(str(s["fpt"]) for s in statuses)
        view["cxtp.status.code"] = ",".join(str(s["status"]) for s in statuses)
    return view


# ------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_capture(tmp_path_factory.mktemp("lua-captures"))


def test_every_cxtp_field_matches_the_bytes(tshark: str, tmp_path: Path, built: Built) -> None:
    plugin = write_plugin(tmp_path, LAB)
    rows, stderr = tshark_fields(tshark, plugin, built.path, "cxtp", CXTP_FIELDS)
    assert stderr == ""
    assert set(rows) == set(built.expect)
    for frame, exp in built.expect.items():
        got = {k: v for k, v in rows[frame].items() if v != ""}
        assert got == exp.fields, f"frame {frame}"


def test_marked_frames_and_values_equal_the_decoder(tshark: str, tmp_path: Path, built: Built) -> None:
    decoded = decoded_cxtp(built.path, LAB)
    if decoded is None:
        pytest.skip("pmipct_check.decode is not importable yet")
    plugin = write_plugin(tmp_path, LAB)
    rows, _ = tshark_fields(tshark, plugin, built.path, "cxtp", CXTP_FIELDS)
    assert set(rows) == set(decoded)
    assert any(len(records) > 1 for records in decoded.values())  # the bundle
    for frame, records in decoded.items():
        got = {k: v for k, v in rows[frame].items() if v != ""}
        assert got == bundle(*(Expect(b"", decoder_view(r)) for r in records)).fields, f"frame {frame}"


def test_default_profile_leaves_udp_alone(tshark: str, tmp_path: Path, built: Built) -> None:
    plugin = write_plugin(tmp_path)
    rows, stderr = tshark_fields(tshark, plugin, built.path, "cxtp", ["cxtp.type"])
    udp_frames = {n for n, e in built.expect.items() if n not in rows}
    assert stderr == ""
    assert len(udp_frames) == 1  # only the UDP frame depends on the profile
    assert set(rows) == set(built.expect) - udp_frames


def test_preferences_move_the_ports(tshark: str, tmp_path: Path) -> None:
    """A non-CXTP payload is CXTP when its SCTP port, PPI or UDP port is named by a -o preference."""
    assoc = Sctp("2001:db8::1", "2001:db8::2", 9000, 9001)
    junk = b"\x01\x02\x03\x04 this fails the header check"
    ctc = messages(False)[5].raw
    frames = [*assoc.handshake(), assoc.data(junk), assoc.data(junk, ppi=4242),
              Ether(**MAC) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=6000, dport=6001) / Raw(ctc),
              assoc.data(junk, ppi=3_000_000_000)]
    path = tmp_path / "ports.pcap"
    wrpcap(str(path), frames)
    plugin = write_plugin(tmp_path)
    cases = {
        (): set(),
        ("cxtp.sctp_ports:9001",): {5, 6, 8},
        ("cxtp.sctp_ppis:4242",): {6},
        ("cxtp.udp_ports:6000-6001",): {7},
        ("cxtp.sctp_ports:1-5,8000-8999", "cxtp.sctp_ppis:1"): set(),
    }
    for prefs, frames_marked in cases.items():
        rows, stderr = tshark_fields(tshark, plugin, path, "cxtp", ["cxtp.type"], prefs)
        assert set(rows) == frames_marked, prefs
        assert stderr == ""
    # The same ports from a profile, baked in as the preference defaults.
    baked = write_plugin(tmp_path, parse_profile("[cxtp]\nsctp_ports = [9001]\n", "p.toml"), "baked.lua")
    rows, _ = tshark_fields(tshark, baked, path, "cxtp", ["cxtp.type"])
    assert set(rows) == {5, 6, 8}
    rows, _ = tshark_fields(tshark, baked, path, "cxtp", ["cxtp.type"], ("cxtp.sctp_ports:",))
    assert set(rows) == set()
    # A PPI beyond what a Wireshark range preference holds is registered from the profile as is.
    big = write_plugin(tmp_path, parse_profile("[cxtp]\nsctp_ppis = [4242, 3000000000]\n", "b.toml"), "big.lua")
    rows, _ = tshark_fields(tshark, big, path, "cxtp", ["cxtp.type"])
    assert set(rows) == {6, 8}


def test_header_check_preference_turns_the_heuristic_off(tshark: str, tmp_path: Path, built: Built) -> None:
    plugin = write_plugin(tmp_path, LAB)
    rows, _ = tshark_fields(tshark, plugin, built.path, "cxtp", ["cxtp.type"], ("cxtp.header_check:FALSE",))
    # Without the heuristic, SCTP payloads on unlisted ports/PPIs are not CXTP; UDP on a listed port
    # and ICMP Experimental Mobility still are.
    assert set(rows) == set(built.expect) - built.sctp


def test_pmag_options_in_the_pba_tree(tshark: str, tmp_path: Path) -> None:
    frames = [
        pba(pmag_address_em("2001:db8::1") + pmag_id_em(b"mag-1")),
        pba(pmag_address_em("192.0.2.1"), seq=8),
        pba(pmag_address_em("2001:db8::9", subtype=9) + bytes([18, 3, 7, 0, 0]), seq=9),  # other sub-types
        pba(bytes([200, 18, 1, 0]) + addr("2001:db8::77"), seq=10),  # a dedicated option type
    ]
    path = tmp_path / "pba.pcap"
    wrpcap(str(path), frames)
    plugin = write_plugin(tmp_path)
    rows, stderr = tshark_fields(tshark, plugin, path, "pmipct", PMAG_FIELDS)
    assert stderr == ""
    assert rows == {1: {"pmipct.pmag_addr": "2001:db8::1", "pmipct.pmag_id": b"mag-1".hex()},
                    2: {"pmipct.pmag_addr": "192.0.2.1", "pmipct.pmag_id": ""}}
    # Wireshark still shows its own Experimental option, and the PBA is still a PBA.
    rows, _ = tshark_fields(tshark, plugin, path, "pmipct", ["mipv6", "mip6.mhtype", "mip6.ba.status"])
    assert {r["mip6.mhtype"] for r in rows.values()} == {"6"}
    dedicated = parse_profile("[codepoints]\npmag_address_option = 200\n", "d.toml")
    rows, _ = tshark_fields(tshark, write_plugin(tmp_path, dedicated, "d.lua"), path, "pmipct", PMAG_FIELDS)
    assert rows == {1: {"pmipct.pmag_addr": "", "pmipct.pmag_id": b"mag-1".hex()},
                    4: {"pmipct.pmag_addr": "2001:db8::77", "pmipct.pmag_id": ""}}
    # The option numbers are preferences too.
    rows, _ = tshark_fields(tshark, plugin, path, "pmipct", PMAG_FIELDS,
                            ("pmipct.pmag_address_subtype:9", "pmipct.pmag_id_subtype:7"))
    assert set(rows) == {3}
    assert rows[3]["pmipct.pmag_addr"] == "2001:db8::9"


def test_pmag_options_equal_the_decoder(tshark: str, tmp_path: Path) -> None:
    path = tmp_path / "pba.pcap"
    wrpcap(str(path), [pba(pmag_address_em("2001:db8::1") + pmag_id_em(b"mag-1")),
                       pba(pmag_address_em("192.0.2.1"), seq=8)])
    found = decoded_pmag(path, DEFAULT_PROFILE)
    if found is None:
        pytest.skip("pmipct_check.decode is not importable yet")
    rows, _ = tshark_fields(tshark, write_plugin(tmp_path), path, "pmipct", PMAG_FIELDS)
    assert len(found) == 2
    assert {n: {k: v for k, v in r.items() if v} for n, r in rows.items()} == found


# ------------------------------------------------------------------------------------------------
# Malformed input: expert info, never a Lua error
# ------------------------------------------------------------------------------------------------

LUA_TROUBLE = "_ws.lua.error || cxtp.internal || pmipct.internal"


def lua_errors(tshark: str, plugin: Path, capture: Path, prefs: tuple[str, ...] = ()) -> list[str]:
    """Frames with a Lua error (or a message the plugin's safety net caught), and tshark's complaints."""
    rows, stderr = tshark_fields(tshark, plugin, capture, LUA_TROUBLE, ["_ws.expert.message"], prefs)
    return [f"frame {n}: {r['_ws.expert.message']}" for n, r in rows.items()] + stderr.splitlines()


def mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    """Every truncation of ``raw``, plus random octet flips and Length/V/CDB-length damage."""
    out = [raw[:n] for n in range(len(raw))]
    for _ in range(12):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    b = bytearray(raw)
    b[1] ^= V
    out.append(bytes(b))
    for length in (0, 3, 4, len(raw) - 4, len(raw) + 1, 0xFFFF):
        out.append(raw[:2] + struct.pack("!H", length) + raw[4:])
    return out


def test_truncated_and_mutated_cxtp_give_expert_info_not_lua_errors(tshark: str, tmp_path: Path) -> None:
    rng = random.Random(4067)
    assoc = Sctp("2001:db8::1", "2001:db8::2", 9000, 9001)
    frames = assoc.handshake()
    icmp_frames = []
    for v4 in (False, True):
        for exp in messages(v4):
            for bad in mutations(exp.raw, rng):
                frames.append(assoc.data(bad, ppi=99, sack=False))
                icmp_frames.append(icmpv6("2001:db8:1::5", "2001:db8::2", bad))
                icmp_frames.append(icmpv4("10.1.0.5", "10.0.0.2", bad))
    for cut in range(0, 28):
        opt = pmag_address_em("2001:db8::1")
        icmp_frames.append(pba(bytes([18, max(cut - 2, 0)]) + opt[2:cut]))
        icmp_frames.append(pba(pmag_id_em(b"x" * 3)[:cut]))
    path = tmp_path / "mutated.pcap"
    wrpcap(str(path), frames + icmp_frames)
    plugin = write_plugin(tmp_path)
    assert lua_errors(tshark, plugin, path, ("cxtp.sctp_ppis:99",)) == []
    rows, _ = tshark_fields(tshark, plugin, path, "cxtp.malformed || cxtp.length.overrun", ["cxtp.type"],
                            ("cxtp.sctp_ppis:99",))
    assert len(rows) > 100  # the damage is reported as expert info


def test_no_lua_errors_on_the_fuzzed_mobility_captures(tshark: str, tcpdump_mobility: Path, tmp_path: Path) -> None:
    plugin = write_plugin(tmp_path)
    captures = sorted(tcpdump_mobility.glob("*.pcap"))
    assert captures
    for capture in captures:
        assert lua_errors(tshark, plugin, capture) == [], capture.name


# ------------------------------------------------------------------------------------------------
# The project's reference captures (captures/, made by `pmipct-check synth`)
# ------------------------------------------------------------------------------------------------

PROJECT_CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _project_captures() -> list[Path]:
    if not PROJECT_CAPTURES.is_dir():
        return []
    return sorted(p for p in PROJECT_CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))


@pytest.mark.parametrize("capture", _project_captures(), ids=lambda p: p.name)
def test_project_captures_agree_with_the_decoder(tshark: str, tmp_path: Path, capture: Path) -> None:
    profile_file = capture.with_suffix(".toml")
    profile = DEFAULT_PROFILE
    if profile_file.exists():
        try:
            profile = load_profile(profile_file)
        except ProfileError as exc:
            pytest.skip(f"its profile does not load: {exc}")
    decoded = decoded_cxtp(capture, profile)
    if decoded is None:
        pytest.skip("pmipct_check.decode is not importable yet")
    plugin = write_plugin(tmp_path, profile)
    rows, stderr = tshark_fields(tshark, plugin, capture, f"cxtp || pmipct || {LUA_TROUBLE}",
                                 [*CXTP_FIELDS, *PMAG_FIELDS, "_ws.lua.error", "cxtp.internal"])
    assert stderr == ""
    marked = {n for n, r in rows.items() if r["cxtp.type"]}
    assert marked == set(decoded)
    for frame, records in decoded.items():
        got = {k: v for k, v in rows[frame].items() if v != "" and k.startswith("cxtp.")}
        assert got == bundle(*(Expect(b"", decoder_view(r)) for r in records)).fields, f"frame {frame}"
    assert {n: {k: v for k, v in r.items() if v and k.startswith("pmipct.")} for n, r in rows.items()
            if r["pmipct.pmag_addr"] or r["pmipct.pmag_id"]} == decoded_pmag(capture, profile)
