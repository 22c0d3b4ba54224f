"""The benchmark's captures and table (bench/): what is measured is what it claims to be.

Nothing here is timed: the benchmark is a tool (python bench/run.py), these tests check that
its captures hold the signalling share asked for, identical for a seed, and that its baselines
count what tshark counts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pmipct_check.capture import Carried, iter_file, iter_records

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

import captures  # noqa: E402 - bench/ is a directory of scripts, not a package

MNS = 2  # per batch: a few hundred scapy-built frames instead of the benchmark's thousands


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("bench")
    pool, mixed = out / "sig.pcapng", out / "mixed.pcapng"
    assert captures.write_signalling(str(pool), 90, seed=3, workers=1, mns=MNS) == 90
    assert captures.write_mixed(str(mixed), 900, str(pool), seed=3, share=0.1) == (900, 90)
    return pool, mixed


def _frames(path: Path) -> list[tuple]:
    return [r for r in iter_records(str(path)) if type(r) is tuple]


def _signalling_frames(path: Path) -> set[int]:
    return {f for item in iter_file(str(path)) if isinstance(item, Carried) for f in item.frames}


def test_batches_have_their_own_mns_and_follow_each_other_in_time(made):
    pool, _ = made
    frames = _frames(pool)
    times = [r[1] for r in frames]
    assert times == sorted(times)
    nais = {m.nai for b in range(3) for m in captures.batch_mns(b, MNS)}
    assert len(nais) == 3 * MNS
    blob = b"".join(r[3] for r in frames)
    assert b"b0-mn1@bench.example" in blob and b"b1-mn1@bench.example" in blob


def test_mixed_is_time_ordered_with_the_share_of_signalling_asked(made):
    pool, mixed = made
    frames = _frames(mixed)
    assert len(frames) == 900
    assert [r[1] for r in frames] == sorted(r[1] for r in frames)
    pool_payloads = {r[3] for r in _frames(pool)}
    assert sum(r[3] in pool_payloads for r in frames) == 90
    # the user plane is IPv6 in IPv6 (next header 41 after a 14-octet Ethernet header), each MN in one tunnel
    assert sum(r[3][14 + 6] == 41 for r in frames) == 810


def test_the_same_seed_gives_the_same_bytes(made, tmp_path):
    pool, mixed = made
    again = tmp_path / "again.pcapng"
    captures.write_mixed(str(again), 900, str(pool), seed=3, share=0.1)
    assert again.read_bytes() == mixed.read_bytes()
    other = tmp_path / "other.pcapng"
    captures.write_mixed(str(other), 900, str(pool), seed=4, share=0.1)
    assert other.read_bytes() != mixed.read_bytes()


def test_user_plane_carries_no_signalling_for_the_extractor(made):
    pool, mixed = made
    assert len(_signalling_frames(mixed)) == len(_signalling_frames(pool)) > 0


def test_tshark_and_the_scapy_baseline_count_the_same_frames(made, tshark):
    _, mixed = made
    listing = subprocess.run([tshark, "-r", str(mixed), "-Y", run.TSHARK_FILTER, "-T", "fields",
                              "-e", "frame.number"], capture_output=True, text=True, check=True).stdout.split()
    # in a process of its own, as the benchmark runs it: stock scapy, no pmipct_check layers bound
    counted = subprocess.run([sys.executable, str(BENCH / "scapy_baseline.py"), str(mixed)], capture_output=True,
                             text=True, check=True).stdout.split()
    seen, found = int(counted[0]), int(counted[1])
    assert seen == 900
    assert found == len(listing) == 90  # every pool frame is an MH or SCTP frame


def test_user_plane_frames_are_well_formed_for_tshark(made, tshark):
    _, mixed = made
    bad = subprocess.run([tshark, "-r", str(mixed), "-Y", "_ws.malformed || udp.checksum.status == 2 || "
                          "!(ipv6.nxt == 41 || mipv6 || sctp)", "-o", "udp.check_checksum:TRUE",
                          "-T", "fields", "-e", "frame.number"], capture_output=True, text=True, check=True)
    assert bad.stdout.split() == []


def test_table_ratios_are_per_frame_against_tshark():
    runs = [run.Run("a.pcapng", "tshark -Y x", 1000, 10, 10.0, 8.0, 150.0, 0),
            run.Run("a.pcapng", "pmipct-check check", 1000, 9, 1.0, 0.5, 60.0, 0),
            run.Run("a.pcapng", "scapy (first 100)", 100, 1, 2.0, 1.6, 50.0, 0)]
    lines = run.table(runs).splitlines()
    assert lines[2].endswith("| 1.00x | 1.00x |")
    assert lines[3].endswith("| 10.00x | 16.00x |")
    assert lines[4].endswith("| 0.50x | 0.50x |")  # 0.02 s/frame against tshark's 0.01


def test_measure_reports_a_child_of_its_own(tmp_path):
    wall, cpu, rss, code = run.measure([sys.executable, "-c", "x = bytearray(50_000_000); print(len(x))"],
                                       tmp_path / "out.txt")
    assert code == 0 and (tmp_path / "out.txt").read_text().strip() == "50000000"
    assert 50 <= rss < 1000  # this child's peak, with its 50 MB, not this test process's
    assert wall > 0 and cpu > 0


def test_each_mn_stays_in_one_tunnel(made):
    _, mixed = made
    tunnels: dict[bytes, set[bytes]] = {}
    for r in _frames(mixed):
        data = r[3]
        if data[14 + 6] == 41:  # outer IPv6 addresses at 22..54, inner at 62..94
            mag = data[22:38] if data[62:78] != bytes.fromhex("20010db8cafe" + "00" * 9 + "01") else data[38:54]
            home = data[78:94] if data[62:78] == bytes.fromhex("20010db8cafe" + "00" * 9 + "01") else data[62:78]
            tunnels.setdefault(home, set()).add(mag)
    assert tunnels and all(len(mags) == 1 for mags in tunnels.values())


def test_stages_go_through_the_whole_pipeline_of_a_sample_capture(tshark):
    """bench/stages.py decodes as many messages as tshark sees Mobility Headers and CXTP packets,
    and times every stage of check."""
    sample = BENCH.parent / "captures" / "reactive-1.pcapng"
    stages = run.run_stages(sample)
    assert list(stages["stages"]) == ["import + rule files", "capture", "decode", "analysis", "rules",
                                      "JSON writer"]
    assert all(seconds >= 0 for seconds in stages["stages"].values())
    seen = subprocess.run([tshark, "-r", str(sample), "-Y", "mipv6 || sctp.chunk_type == 0",
                           "-T", "fields", "-e", "frame.number"], capture_output=True, text=True, check=True)
    assert stages["messages"] == len(seen.stdout.split())
    table = run.stage_table(stages)
    assert "| decode |" in table and "| total |" in table


@pytest.mark.parametrize("jobs", [1, 2])
def test_taps_run_checks_both_files(made, tmp_path, jobs):
    """The --jobs rows check the capture and its second tap: both files' frames, and the same
    messages whatever the number of workers."""
    _, mixed = made
    runs = [run.run_check_taps(mixed, 900, tmp_path, n) for n in (1, jobs)]
    assert all(r.exit == 0 and r.frames == 1800 for r in runs)
    assert runs[0].found == runs[1].found > 0
    assert runs[1].tool == f"pmipct-check check --jobs {jobs}"
