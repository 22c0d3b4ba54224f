"""The committed captures/ library: every file is what its README command makes, byte for byte;
it decodes to exactly the messages the scenario says; and tshark agrees on frames, types,
PMIPv6 fields and checksums (SCTP CRC32c and UDP/IPv4 verified by tshark, MH by scapy)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scapy.layers.inet6 import IPv6, in6_chksum

from pmipct_check.capture.extract import iter_file
from pmipct_check.capture.link import ip_offset
from pmipct_check.capture.readers import read_packets
from pmipct_check.cli import cli
from pmipct_check.commands.synth import command as synth_command
from pmipct_check.decode import decode_stream
from pmipct_check.decode.model import Message
from pmipct_check.synth import BUILTINS, FAULTS, Trace, load_scenario, synthesize

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
README = CAPTURES / "README.md"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \| `(?P<command>pmipct-check synth [^`]+)` \| (?P<case>[^|]+) \| (?P<findings>[^|]+) \|$")


def library() -> list[tuple[str, list[str]]]:
    rows = []
    for line in README.read_text().splitlines():
        m = ROW.match(line)
        if m:
            argv = shlex.split(m["command"])[2:]
            rows.append((m["file"], argv))
    return rows


ROWS = library()
IDS = [f for f, _ in ROWS]


def trace_for(argv: list[str]) -> Trace:
    """The trace a README command makes, built in-process with the command's own parser."""
    ctx = synth_command.make_context("synth", list(argv))
    p = ctx.params
    scenario: Any = load_scenario(ROOT / p["scenario_file"]) if p["scenario_file"] else p["name"]
    return synthesize(scenario, fault=p["fault"], mns=p["mns"], seed=p["seed"], base_time=p["base_time"],
                      transport="ipv4" if p["ipv4_transport"] else None)


def test_library_covers_every_scenario_and_fault() -> None:
    assert len(ROWS) >= len(BUILTINS) + len(FAULTS)
    commands = [" ".join(argv) for _, argv in ROWS]
    for name in BUILTINS:
        assert any(c.startswith(name + " ") and "--fault" not in c for c in commands), name
    for name in FAULTS:
        assert any(f"--fault {name} " in c + " " for c in commands), name
    for file, argv in ROWS:
        assert argv[argv.index("-o") + 1] == f"captures/{file}"
    assert {Path(f).suffix for f in IDS} == {".pcap", ".pcapng"}
    links = {argv[argv.index("--link") + 1] for _, argv in ROWS if "--link" in argv}
    assert {"vlan", "sll2", "raw"} <= links and any("--ipv4-transport" in a for _, a in ROWS)
    on_disk = {p.name for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng")}
    assert on_disk == set(IDS), "captures/ holds files the README does not list (or misses some)"
    assert sum((CAPTURES / f).stat().st_size for f in IDS) < 400_000


@pytest.mark.parametrize(("file", "argv"), ROWS, ids=IDS)
def test_capture_is_what_its_command_makes(file: str, argv: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / file
    args = list(argv)
    args[args.index("-o") + 1] = str(out)
    result = CliRunner().invoke(cli, ["synth", *args])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (CAPTURES / file).read_bytes(), f"regenerate: pmipct-check synth {' '.join(argv)}"


def _expected(trace: Trace) -> list[tuple[int, str, str, str]]:
    return [(n, m["type"], m["src"], m["dst"]) for n, m in trace.messages()]


@pytest.mark.parametrize(("file", "argv"), ROWS, ids=IDS)
def test_capture_decodes_to_the_scenario_messages(file: str, argv: list[str]) -> None:
    trace = trace_for(argv)
    items = list(decode_stream(iter_file(str(CAPTURES / file), track_user_plane=True)))
    messages = [m for m in items if isinstance(m, Message)]
    assert [(m.frame, m.type, m.src, m.dst) for m in messages] == _expected(trace)
    faulty_length = "--fault" in argv and argv[argv.index("--fault") + 1] == "cxtp-bad-length"
    for m, (_, want) in zip(messages, trace.messages(), strict=True):
        f = m.fields
        if m.type in ("PBU", "PBA", "HI", "HAck"):
            assert f["seq"] == want["seq"], (m.frame, f)
        if m.type in ("PBU", "PBA"):
            assert f["lifetime"] == want["lifetime"]
            assert f["flags"]["P"] is True
        if m.type == "PBA":
            assert f["status"] == want["status"]
        if m.type in ("HI", "HAck"):
            assert f["code"] == want["code"] and f["flags"]["P"] is True
        if m.transport == "mh":
            assert f["checksum_ok"] is not want.get("bad_checksum", False), m.frame
        if m.protocol == "cxtp":
            assert f["mn_prev_addr"] == want["prev"]
            if m.type in ("CTD", "PCTD"):
                assert f["flags"]["A"] is want["ack"]
        expected_warnings = {"cxtp.length-excludes-header"} if faulty_length and m.type == "CTD" else set()
        if want.get("bad_checksum"):
            expected_warnings = {"mh.checksum"}
        assert {w.code for w in m.warnings} == expected_warnings, (m.frame, m.warnings)
    # The user plane goes through the tunnel the LMA's binding cache names, before and after.
    tunnelled = [i for i in items if type(i).__name__ == "Tunnelled"]
    assert tunnelled and len(tunnelled) == sum(1 for f in trace.frames if f.kind == "data")


TSHARK_FIELDS = ("frame.number", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr", "mip6.ba.status",
                 "mip6.mnid.identifier", "mip6.hi",
                 "mip6.bu.lifetime", "mip6.hi.seqnr", "mip6.hack.seqnr", "sctp.checksum.status",
                 "sctp.data_u_bit", "udp.checksum.status", "ip.checksum.status", "_ws.expert.severity",
                 "_ws.malformed")
PI_WARN = 0x00600000  # Wireshark expert severities: chat 0x2, note 0x4, warn 0x6, error 0x8 (<< 20)
TSHARK_PREFS = ("sctp.checksum:CRC 32c", "udp.check_checksum:TRUE", "ip.check_checksum:TRUE")
MH_TYPE = {"PBU": "5", "PBA": "6", "HI": "14", "HAck": "15"}


def _tshark(tshark: str, path: Path) -> list[dict[str, str]]:
    cmd = [tshark, "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=f"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    for name in TSHARK_FIELDS:
        cmd += ["-e", name]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    return [dict(zip(TSHARK_FIELDS, line.split("\t"), strict=True)) for line in out.splitlines()]


@pytest.fixture(scope="module")
def tshark_rows() -> dict[str, list[dict[str, str]]]:
    """tshark's view of every capture, run in parallel (tshark spends most of its time starting)."""
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed")
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(IDS, pool.map(lambda f: _tshark(tshark, CAPTURES / f), IDS), strict=True))


@pytest.mark.parametrize(("file", "argv"), ROWS, ids=IDS)
def test_tshark_agrees(file: str, argv: list[str], tshark_rows: dict[str, list[dict[str, str]]]) -> None:
    trace = trace_for(argv)
    rows = tshark_rows[file]
    by_frame = {int(r["frame.number"]): r for r in rows}
    want_mh = {n: m for n, m in trace.messages() if m["type"] in MH_TYPE}
    assert {n for n, r in by_frame.items() if r["mip6.mhtype"]} == set(want_mh)
    for n, m in want_mh.items():
        r = by_frame[n]
        assert r["mip6.mhtype"] == MH_TYPE[m["type"]]
        seq = {"PBU": "mip6.bu.seqnr", "PBA": "mip6.ba.seqnr", "HI": "mip6.hi.seqnr", "HAck": "mip6.hack.seqnr"}
        assert int(r[seq[m["type"]]]) == m["seq"], (n, r)
        if m["type"] == "PBU":
            assert int(r["mip6.bu.lifetime"]) * 4 == m["lifetime"]
        if m["type"] == "PBA":
            assert int(r["mip6.ba.status"]) == m["status"]
        if m["type"] in ("PBU", "PBA"):
            assert r["mip6.mnid.identifier"] == (m["nai"] or ""), (n, r)
            assert r["mip6.hi"] == ("" if m["hi"] is None else str(m["hi"])), (n, r)
        if m["transport"] == "mh-udp":
            assert r["udp.checksum.status"] == "1" and r["ip.checksum.status"] == "1"  # 1 = Good
    assert len(rows) == len(trace.frames)
    # Nothing malformed and no expert warning, except what RFC 5213 5.3.6 makes the LMA send: a
    # PBA answering a PBU without MN-ID carries a zero-length identifier (tshark warns: length 1).
    empty_mn_id = {n for n, m in want_mh.items() if m["type"] == "PBA" and m["nai"] == ""}
    warned = {n for n, r in by_frame.items() if r["_ws.malformed"] or int(r["_ws.expert.severity"] or 0) >= PI_WARN}
    assert warned == empty_mn_id, [by_frame[n] for n in warned]
    sctp_frames = {n for n, f in enumerate(trace.frames, 1) if f.kind in ("sctp", "cxtp")}
    assert {n for n, r in by_frame.items() if r["sctp.checksum.status"]} == sctp_frames
    assert all(by_frame[n]["sctp.checksum.status"] == "1" for n in sctp_frames)  # CRC32c Good
    ordered = "--fault" in argv and argv[argv.index("--fault") + 1] == "sctp-ordered"
    for n, m in trace.messages():
        if m["transport"] == "sctp":
            u_bit = by_frame[n]["sctp.data_u_bit"]
            assert u_bit == ("0" if ordered and m["mn"] == "mn1" else "1"), (n, u_bit)


@pytest.mark.parametrize(("file", "argv"), [r for r in ROWS if "--ipv4-transport" not in r[1]],
                         ids=[f for f, a in ROWS if "--ipv4-transport" not in a])
def test_mh_checksums_valid_for_scapy(file: str, argv: list[str]) -> None:
    """scapy's own pseudo-header sum over each MH, independent of our checksum code."""
    bad = {n for n, m in trace_for(argv).messages() if m.get("bad_checksum")}
    seen = 0
    for packet in read_packets(str(CAPTURES / file)):
        ip6 = IPv6(packet.data[ip_offset(packet.linktype, packet.data):])
        if ip6.version != 6 or ip6.nh != 135:
            continue
        mh = bytes(ip6.payload)
        zeroed = mh[:4] + b"\0\0" + mh[6:]
        valid = in6_chksum(135, ip6, zeroed) == int.from_bytes(mh[4:6], "big")
        assert valid is (packet.frame not in bad), packet.frame
        seen += 1
    assert seen >= 4
