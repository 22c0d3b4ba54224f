"""Three taps (the LMA's core side, each MAG's core side) whose clocks disagree by seconds give the
same handovers, once each, as the single combined capture: issue 5's acceptance test.

The tap files are made here from one synthesized trace: every packet goes to the tap of the node
that sends it (at the send time) and of the node that receives it (later by a one-way delay, with
the hop limit one less, as after a router); then the MAG taps' clocks are shifted.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from cli_helpers import run

from pmipct_check.capture import CaptureWriter, frame_ip
from pmipct_check.capture.link import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL
from pmipct_check.pipeline import check_files
from pmipct_check.report.jsonfmt import to_document
from pmipct_check.synth import synthesize
from pmipct_check.synth.output import node_mac
from pmipct_check.taps import plan_taps

SHIFTS = {"lma": 0, "mag1": 3_200_000_000, "mag2": -5_700_000_000}
SCHEMA = Path(__file__).resolve().parent.parent / "pmipct_check" / "report" / "schema.json"


def _routed(ip: bytes) -> bytes:
    """The packet one router later: IPv6 hop limit / IPv4 TTL one less (IPv4 checksum not fixed)."""
    at = 7 if ip[0] >> 4 == 6 else 8
    return ip[:at] + bytes([ip[at] - 1]) + ip[at + 1 :]


def write_taps(directory: Path, scenario: str = "reactive-1", mns: int = 3, shifts: dict[str, int] = SHIFTS,
               seed: int = 1) -> tuple[dict[str, Path], Path]:
    """Per-node tap files with shifted clocks, and the combined capture (true times) for comparison."""
    trace = synthesize(scenario, mns=mns)
    rng = random.Random(seed)
    macs = {n.name: node_mac(n.name) for n in trace.scenario.nodes}
    frames: dict[str, list[tuple[int, bytes, str, str]]] = {node: [] for node in shifts}
    for f in trace.frames:
        delay = rng.randint(150_000, 2_000_000)
        if f.src in frames:
            frames[f.src].append((f.time_ns + shifts[f.src], f.ip, f.src, f.dst))
        if f.dst in frames:
            frames[f.dst].append((f.time_ns + delay + shifts[f.dst], _routed(f.ip), f.src, f.dst))
    paths = {}
    for node, items in frames.items():
        linktype = LINKTYPE_LINUX_SLL if node == "mag2" else LINKTYPE_ETHERNET
        paths[node] = directory / f"{node}.pcap"
        with CaptureWriter(paths[node], linktype=linktype) as w:
            for t, ip, src, dst in sorted(items, key=lambda x: x[0]):
                w.write(t, frame_ip(ip, linktype, src_mac=macs[src], dst_mac=macs[dst]))
    combined = directory / "combined.pcap"
    with CaptureWriter(combined) as w:
        for f in trace.frames:
            w.write(f.time_ns, frame_ip(f.ip, LINKTYPE_ETHERNET, src_mac=macs[f.src], dst_mac=macs[f.dst]))
    return paths, combined


def _shape(result) -> list[tuple]:
    return [(h.mn, h.case, h.pmag, h.nmag, h.lma, tuple(m.type for m in h.messages)) for h in result.handovers]


@pytest.fixture(scope="module")
def taps(tmp_path_factory):
    return write_taps(tmp_path_factory.mktemp("taps"))


def test_three_taps_give_the_combined_captures_handovers_once_each(taps):
    paths, combined = taps
    files = [str(paths[n]) for n in ("lma", "mag1", "mag2")]
    merged = check_files(files)
    single = check_files([str(combined)])
    assert len(single.handovers) == 3
    assert _shape(merged) == _shape(single)
    assert len(merged.messages) == len(single.messages)
    assert [m.type for m in merged.messages] == [m.type for m in single.messages]
    assert [merged.verdicts[h.id] for h in merged.handovers] == [single.verdicts[h.id] for h in single.handovers]
    # In the right order: corrected times never go backwards, and each handover starts after the last.
    times = [m.time_ns for m in merged.messages]
    assert times == sorted(times)
    starts = [h.messages[0].time_ns for h in merged.handovers]
    assert starts == sorted(starts)


def test_pmipv6_part_matches_the_lma_tap_alone(taps):
    paths, _ = taps
    merged = check_files([str(paths[n]) for n in ("lma", "mag1", "mag2")])
    alone = check_files([str(paths["lma"])])
    assert [(h.mn, h.pmag, h.nmag) for h in merged.handovers] == [(h.mn, h.pmag, h.nmag) for h in alone.handovers]
    pmip = [(m.type, m.src, m.dst, m.fields.get("seq")) for m in merged.messages if m.protocol == "pmipv6"]
    assert pmip == [(m.type, m.src, m.dst, m.fields.get("seq")) for m in alone.messages]


def test_estimated_offsets_are_within_their_uncertainty_of_the_true_shifts(taps):
    paths, _ = taps
    result = check_files([str(paths[n]) for n in ("lma", "mag1", "mag2")])
    clocks = {Path(c.file).stem: c for c in result.clocks}
    assert clocks["lma"].method == "reference"
    for node in ("mag1", "mag2"):
        c = clocks[node]
        assert c.method == "estimated", c
        assert c.reference is not None and c.shared > 0
        assert abs(c.offset_ns - SHIFTS[node]) <= c.uncertainty_ns
        assert c.uncertainty_ns < 2_000_000  # the delays are at most 2 ms: the bounds are that tight


def test_a_packet_seen_at_two_taps_is_one_message_citing_both(taps):
    paths, _ = taps
    lma, mag1, mag2 = (str(paths[n]) for n in ("lma", "mag1", "mag2"))
    result = check_files([lma, mag1, mag2])
    for m in result.messages:
        files = [f for f, _ in m.observations]
        if m.type in ("PBU", "PBA"):
            mag = mag1 if "ff01" in (m.src + m.dst) else mag2
            assert sorted(files) == sorted([lma, mag])
        else:  # CXTP between the MAGs
            assert sorted(files) == sorted([mag1, mag2])
        # The sender's tap is the message's own file/frame.
        sender = lma if m.src.endswith("ffff::1") else mag1 if "ff01" in m.src else mag2
        assert m.file == sender and m.observations[0] == (m.file, m.frame)
    for f in result.findings:
        cited = {r.file for r in f.refs}
        assert len(cited) >= 2, f  # every finding here is about messages seen at two taps
    counts = {i.file: i.messages for i in result.inputs}
    assert counts[lma] == sum(1 for m in result.messages if m.protocol == "pmipv6")


def test_given_offsets_are_used_and_the_rest_estimated(taps):
    paths, _ = taps
    lma, mag1, mag2 = (str(paths[n]) for n in ("lma", "mag1", "mag2"))
    result = check_files([lma, mag1, mag2], clock_offsets={mag1: SHIFTS["mag1"]})
    clocks = {c.file: c for c in result.clocks}
    assert clocks[mag1].method == "given" and clocks[mag1].offset_ns == SHIFTS["mag1"]
    assert clocks[lma].method == "estimated" and abs(clocks[lma].offset_ns) <= clocks[lma].uncertainty_ns
    assert abs(clocks[mag2].offset_ns - SHIFTS["mag2"]) <= clocks[mag2].uncertainty_ns
    assert len(result.handovers) == 3


def test_wrong_offsets_break_the_dedup_window(taps):
    """The oracle above is not vacuous: with every clock taken as right, sightings 3-6 s apart stay apart."""
    paths, _ = taps
    files = [str(paths[n]) for n in ("lma", "mag1", "mag2")]
    result = check_files(files, clock_offsets=dict.fromkeys(files, 0))
    assert all(c.method == "given" for c in result.clocks)
    assert not any(m.observations for m in result.messages)


def test_json_report_has_the_taps_section_and_validates(taps):
    jsonschema = pytest.importorskip("jsonschema")
    paths, _ = taps
    result = check_files([str(paths[n]) for n in ("lma", "mag1", "mag2")])
    document = json.loads(json.dumps(to_document(result), default=float))
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    taps_section = {Path(t["file"]).stem: t for t in document["taps"]}
    assert taps_section["mag2"]["method"] == "estimated"
    assert abs(taps_section["mag2"]["offset"] - (-5.7)) <= taps_section["mag2"]["uncertainty"]
    single = to_document(check_files([str(paths["lma"])]))
    assert "taps" not in single and "events" not in single


def test_cli_prints_the_offsets_and_accepts_clock_offset(taps, monkeypatch, capsys):
    paths, _ = taps
    files = [str(paths[n]) for n in ("lma", "mag1", "mag2")]
    code, out, err = run(monkeypatch, capsys, *files, "--ladder", "none")
    assert code == 0, err
    assert re.search(r"mag1\.pcap: clock offset \+3\.(199|200)\d* ± 0\.000\d+ s against .*lma\.pcap", err), err
    assert re.search(r"mag2\.pcap: clock offset -5\.(699|700)\d* ± 0\.000\d+ s", err), err
    assert "3 handover(s)" in out
    code, _, err = run(monkeypatch, capsys, "--clock-offset", "mag1.pcap=+3.2", *files, "--ladder", "none")
    assert code == 0, err
    assert "mag1.pcap: clock offset +3.200000 s (given)" in err
    code, out, err = run(monkeypatch, capsys, "--format", "json", *files)
    assert code == 0 and "clock offset" not in err and json.loads(out)["taps"][1]["method"] == "estimated"
    code, _, err = run(monkeypatch, capsys, "--clock-offset", "nosuch.pcap=1", *files)
    assert code == 2 and "nosuch.pcap" in err and "Traceback" not in err
    code, _, err = run(monkeypatch, capsys, "--clock-offset", "mag1.pcap=soon", *files)
    assert code == 2 and "not a number" in err


def test_a_tap_that_shares_nothing_is_not_corrected_and_says_so(taps, tmp_path):
    paths, _ = taps
    other = tmp_path / "other.pcap"
    trace = synthesize("none", mns=1, base_time="2024-06-01T00:00:00Z")
    with CaptureWriter(other) as w:
        for f in trace.frames:
            w.write(f.time_ns, frame_ip(f.ip, LINKTYPE_ETHERNET))
    result = check_files([str(paths["lma"]), str(other)])
    clock = {c.file: c for c in result.clocks}[str(other)]
    assert clock.method == "none" and clock.offset_ns == 0
    assert "no packet is shared" in clock.note
    assert "not corrected" in clock.describe()


def test_the_dedup_window_is_configurable(taps):
    """Sightings are 0.15-2 ms apart after correction: a 0.1 ms window keeps them apart, 1 s joins them."""
    paths, _ = taps
    files = [str(paths[n]) for n in ("lma", "mag1", "mag2")]
    joined = check_files(files, taps=plan_taps(files))
    narrow = check_files(files, taps=plan_taps(files, window_ns=100_000))
    assert len(narrow.messages) == 2 * len(joined.messages)
    assert not any(m.observations for m in narrow.messages)
