"""Access-side captures and event logs: the MN's attachment, which the core side cannot show.

RS/RA frames are built with scapy (and by hand for the RA's octets) and read back by tshark;
the handover timings are checked against times chosen here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet6 import (
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import Ether

from pmipct_check.capture import CaptureWriter, Carried, Extractor
from pmipct_check.cli import cli
from pmipct_check.commands.common import run_cli
from pmipct_check.decode import Message
from pmipct_check.decode.nd import decode_nd
from pmipct_check.events import EventLogError, parse_events, read_events
from pmipct_check.pipeline import check_files, decode_files
from pmipct_check.report.jsonfmt import to_document
from pmipct_check.synth import synthesize
from pmipct_check.synth.output import write_trace

MN_LL = "02:00:00:00:01:01"  # synth's mn1 (MN Link-layer Identifier in its PBUs)
HNP = "2001:db8:1:1::/64"
MAG2_LL = "02:00:00:00:00:22"
SCHEMA = Path(__file__).resolve().parent.parent / "pmipct_check" / "report" / "schema.json"


def rs_frame(lla: str = MN_LL) -> bytes:
    return bytes(Ether(src=lla, dst="33:33:00:00:00:02") / IPv6(src="fe80::1", dst="ff02::2", hlim=255)
                 / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=lla))


def ra_frame(prefix: str = "2001:db8:1:1::") -> bytes:
    return bytes(Ether(src=MAG2_LL, dst=MN_LL) / IPv6(src="fe80::22", dst="fe80::1", hlim=255)
                 / ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=MAG2_LL)
                 / ICMPv6NDOptPrefixInfo(prefix=prefix, prefixlen=64, validlifetime=86400, preferredlifetime=14400))


def test_extraction_keeps_rs_and_ra_only():
    ex = Extractor()
    ns = bytes(Ether() / IPv6(src="fe80::1", dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="fe80::2"))
    assert ex.feed_raw("f", 1, 0, 1, ns) == ()
    (rs,) = ex.feed_raw("f", 2, 5, 1, rs_frame())
    assert isinstance(rs, Carried) and rs.transport == "nd" and rs.src == "fe80::1" and rs.dst == "ff02::2"
    assert rs.data[0] == 133 and rs.info["hop_limit"] == 255
    (ra,) = ex.feed_raw("f", 3, 6, 1, ra_frame())
    assert ra.transport == "nd" and ra.data[0] == 134


def test_ra_fields_from_octets_laid_out_by_hand():
    ra = bytes([134, 0, 0, 0, 64, 0x80, 0x07, 0x08]) + (30000).to_bytes(4, "big") + (1000).to_bytes(4, "big")
    ra += bytes([1, 1]) + bytes.fromhex("020000000022")  # RFC 4861 4.6.1: Source Link-layer Address
    ra += bytes([3, 4, 64, 0xC0]) + (86400).to_bytes(4, "big") + (14400).to_bytes(4, "big") + bytes(4)
    ra += bytes.fromhex("20010db8000100010000000000000000")  # RFC 4861 4.6.2: Prefix Information
    type_, fields, problems = decode_nd(ra)
    assert type_ == "RA" and problems == []
    assert fields["cur_hop_limit"] == 64 and fields["flags"] == {"M": True, "O": False}
    assert fields["router_lifetime"] == 0x0708 and fields["reachable_time"] == 30000 and fields["retrans_timer"] == 1000
    assert fields["source_lla"] == MAG2_LL and fields["prefixes"] == [HNP]
    pio = fields["options"][1]
    assert pio["flags"] == {"L": True, "A": True} and pio["valid_lifetime"] == 86400 and pio["preferred_lifetime"] == 14400
    # Broken options are warnings, never exceptions.
    assert decode_nd(ra[:-20])[2][0][0] == "nd.bad-option"
    assert decode_nd(bytes([133, 0, 0]))[2][0][0] == "nd.truncated"
    assert decode_nd(ra[:16] + bytes([3, 0]))[2][0][0] == "nd.bad-option"
    assert decode_nd(ra[:16] + bytes([3, 1]) + bytes(6))[2][0][0] == "nd.bad-option"
    assert decode_nd(bytes([135, 0])) is None


def test_decoder_agrees_with_tshark(tmp_path, tshark):
    path = tmp_path / "access.pcap"
    with CaptureWriter(path) as w:
        w.write(1_000_000_000, rs_frame())
        w.write(2_000_000_000, ra_frame())
    messages = [m for m in decode_files([str(path)]) if isinstance(m, Message)]
    assert [(m.protocol, m.type) for m in messages] == [("nd", "RS"), ("nd", "RA")]
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-E", "separator=|", "-e", "icmpv6.type",
                          "-e", "icmpv6.opt.src_linkaddr", "-e", "icmpv6.opt.prefix", "-e", "icmpv6.opt.prefix.length",
                          "-e", "icmpv6.nd.ra.router_lifetime"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("|") for line in out]
    assert rows[0][0] == "133" and rows[0][1] == messages[0].fields["source_lla"]
    assert rows[1][0] == "134" and rows[1][1] == messages[1].fields["source_lla"]
    assert f"{rows[1][2]}/{rows[1][3]}" == messages[1].fields["prefixes"][0]
    assert int(rows[1][4]) == messages[1].fields["router_lifetime"]


@pytest.fixture
def core_and_access(tmp_path):
    """reactive-1's combined core capture and the nMAG's access link (RS 5 ms before the PBU, RA 1 ms after the PBA)."""
    trace = synthesize("reactive-1")
    core = tmp_path / "core.pcap"
    write_trace(trace, core)
    msgs = [(trace.frames[i - 1].time_ns, m) for i, m in trace.messages()]
    pbu_ns = next(t for t, m in msgs if m["type"] == "PBU" and m["src"] == "2001:db8:ff02::1")
    pba_ns = next(t for t, m in msgs if m["type"] == "PBA" and m["dst"] == "2001:db8:ff02::1")
    ctd_ns = next(t for t, m in msgs if m["type"] == "CTD")
    access = tmp_path / "mag2-access.pcap"
    with CaptureWriter(access) as w:
        w.write(pbu_ns - 900_000_000, rs_frame("02:00:00:00:09:09"))  # another MN
        w.write(pbu_ns - 5_000_000, rs_frame())
        w.write(pba_ns + 1_000_000, ra_frame())
        w.write(pba_ns + 2_000_000, ra_frame("2001:db8:9:9::"))  # another MN's prefix
    return core, access, {"pbu": pbu_ns, "pba": pba_ns, "ctd": ctd_ns}


def test_rs_and_ra_join_the_handover_and_time_the_attachment(core_and_access):
    core, access, t = core_and_access
    result = check_files([str(core), str(access)])
    (h,) = [h for h in result.handovers if h.nmag == "2001:db8:ff02::1"]
    nd = [m for m in h.messages if m.protocol == "nd"]
    assert [(m.type, m.fields.get("source_lla")) for m in nd] == [("RS", MN_LL), ("RA", MAG2_LL)]
    rs_ns = t["pbu"] - 5_000_000
    assert h.timings["attach_registered"] == pytest.approx((t["pba"] - rs_ns) / 1e9)
    assert h.timings["attach_activated"] == pytest.approx((t["ctd"] - rs_ns) / 1e9)
    assert h.timings["pba_ra"] == pytest.approx(0.001)
    assert "access" in h.vantage and "access" in result.vantage
    clock = {c.file: c for c in result.clocks}[str(access)]
    assert clock.method == "none" and "no packet is shared" in clock.note
    without = check_files([str(core)])
    (h0,) = [h for h in without.handovers if h.nmag == "2001:db8:ff02::1"]
    assert h0.timings["attach_registered"] == pytest.approx((t["pba"] - t["pbu"]) / 1e9)
    assert "attach_activated" not in h0.timings


def test_event_log_lines_and_errors(tmp_path):
    jsonl = ('{"time": "2024-01-01T00:00:01.5Z", "node": "mag2", "event": "att", "mn": "mn1@lab.example"}\n'
             "# a comment\n\n"
             '{"time": 1704067200.25, "node": "mag1", "event": "PHT", "mn": "mn1@lab.example", "target": "mag2"}\n')
    pht, att = parse_events(jsonl, "log.jsonl")
    assert (pht.event, pht.time_ns, pht.target, pht.line) == ("PHT", 1704067200_250_000_000, "mag2", 4)
    assert (att.event, att.time_ns, att.node, att.line) == ("ATT", 1704067201_500_000_000, "mag2", 1)
    csv_text = "time,node,event,mn,target\n1704067200.000000001,mag1,PHT,mn1@lab.example,mag2\n"
    (e,) = parse_events(csv_text, "log.csv")
    assert e.time_ns == 1704067200_000_000_001 and e.to_json()["target"] == "mag2"
    (headerless,) = parse_events("1704067200,mag2,ATT,mn1@lab.example\n", "x.csv")
    assert headerless.event == "ATT" and headerless.target == ""
    bad = {
        '{"time": 1, "node": "a", "event": "PHT"}\n{"time": "yesterday", "node": "a", "event": "PHT"}\n':
            "log:2: time 'yesterday'",
        '{"time": 1, "node": "a", "event": "PHT"}\nnot json\n': "log:2: not JSON",
        '{"time": 1, "node": "a"}\n': "log:1: missing event",
        '{"time": "2024-01-01T00:00:00", "node": "a", "event": "ATT"}\n': "log:1: time '2024-01-01T00:00:00' has no time zone",
        '{"time": 1, "node": "a", "event": "PHT"}\n[1, 2]\n': "log:2: expected a JSON object",
        '{"time": 1, "node": "a", "event": "ATT", "colour": "red"}\n': "log:1: unknown column 'colour'",
        "time,node,event\n1,a,ATT\n2,b\n": "log:3: missing event",
        "1,a,ATT,mn,target,extra\n": "log:1: 6 cells",
    }
    for text, message in bad.items():
        with pytest.raises(EventLogError) as err:
            parse_events(text, "log")
        assert str(err.value).startswith(message), (text, str(err.value))
    with pytest.raises(EventLogError, match="cannot read"):
        read_events(str(tmp_path / "absent.csv"))


def test_events_give_timings_and_a_json_section(core_and_access, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    core, _, t = core_and_access
    ct_req_ns = t["pbu"] + (6_207_000 - 336_000)  # reactive-1: the CT-Req follows the PBA
    log = tmp_path / "events.csv"
    att_ns, pht_ns = t["pbu"] - 20_000_000, t["pbu"] - 50_000_000
    log.write_text(f"time,node,event,mn,target\n{pht_ns / 1e9:.6f},mag1,PHT,mn1@lab.example,mag2\n"
                   f"{att_ns / 1e9:.6f},mag2,ATT,mn1@lab.example,\n")
    events = read_events(str(log))
    result = check_files([str(core)], events=events)
    (h,) = [h for h in result.handovers if h.nmag == "2001:db8:ff02::1"]
    assert h.timings["att_pbu"] == pytest.approx(0.020, abs=1e-6)
    assert h.timings["attach_registered"] == pytest.approx((t["pba"] - att_ns) / 1e9, abs=1e-6)
    first_transfer = min(m.time_ns for m in h.cxtp)
    assert abs(first_transfer - ct_req_ns) < 1_000_000
    assert h.timings["pht_transfer"] == pytest.approx((first_transfer - pht_ns) / 1e9, abs=1e-6)
    document = json.loads(json.dumps(to_document(result), default=float))
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    assert [(e["event"], e["line"]) for e in document["events"]] == [("PHT", 2), ("ATT", 3)]


def test_cli_event_log_errors_name_the_line(core_and_access, tmp_path, monkeypatch, capsys):
    core, _, _ = core_and_access
    log = tmp_path / "bad.jsonl"
    log.write_text('{"time": 1, "node": "a", "event": "ATT"}\n{"time": 2, "node": "a"}\n')
    monkeypatch.setattr(sys, "argv", ["pmipct-check", "check", str(core), "--event-log", str(log)])
    assert run_cli(cli) == 2
    err = capsys.readouterr().err
    assert f"{log}:2: missing event" in err and "Traceback" not in err
