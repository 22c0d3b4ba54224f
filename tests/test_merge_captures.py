"""The streaming merge (corrected time order, constant memory) and ``pmipct-check merge``, read back by tshark."""

from __future__ import annotations

import itertools
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import run
from hypothesis import given, settings
from hypothesis import strategies as st
from test_taps_three import SHIFTS, write_taps

from pmipct_check.capture import CaptureWriter, Carried, Tunnelled
from pmipct_check.capture.merge import merge_items
from pmipct_check.notices import Notice
from pmipct_check.taps import Sighted, dedup


def _carried(file: str, frame: int, t: int, data: bytes = b"x") -> Carried:
    return Carried(file, frame, t, "::1", "::2", "mh", data)


def test_merge_orders_by_corrected_time_and_keeps_notices_in_place():
    a = [_carried("a", 1, 100), Notice("n", "after a1", "a", 1), _carried("a", 2, 300)]
    b = [_carried("b", 1, 1_150), _carried("b", 2, 1_250)]  # this clock runs 1000 ahead
    merged = list(merge_items([a, b], [0, 1_000]))
    assert [(getattr(i, "file", None), getattr(i, "frame", None)) for i in merged] == \
        [("a", 1), ("a", 1), ("b", 1), ("b", 2), ("a", 2)]
    assert isinstance(merged[1], Notice)
    assert [i.time_ns for i in merged if not isinstance(i, Notice)] == [100, 150, 250, 300]


def test_merge_is_lazy_over_many_endless_files():
    """Constant memory: 300 endless streams merge without reading ahead more than one item each."""
    def endless(k: int) -> Iterator[Tunnelled]:
        for n in itertools.count(1):
            yield Tunnelled(f"f{k}", n, n * 1000 + k, "::a", "::b", "::c", "::d")

    streams = [endless(k) for k in range(300)]
    tracemalloc.start()
    merged = merge_items(streams)
    first = list(itertools.islice(merged, 3000))
    before = tracemalloc.get_traced_memory()[0]
    for _ in itertools.islice(merged, 30000):
        pass
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    times = [t.time_ns for t in first]
    assert times == sorted(times) and first[0].file == "f0"
    assert growth < 200_000, growth


def test_dedup_groups_one_packet_per_tap_within_the_window():
    items = [_carried("lma", 1, 1_000), _carried("mag", 7, 1_400), _carried("mag", 8, 1_500),  # a retransmission
             _carried("lma", 2, 5_000), _carried("other", 1, 9_000, b"y")]
    out = list(dedup(items, window_ns=1_000))
    assert all(isinstance(o, Sighted) for o in out)
    assert [o.observations() for o in out] == [(("lma", 1), ("mag", 7)), (("mag", 8),), (("lma", 2),),
                                              (("other", 1),)]
    assert [o.first.time_ns for o in out] == sorted(o.first.time_ns for o in out)


@pytest.fixture(scope="module")
def taps(tmp_path_factory):
    return write_taps(tmp_path_factory.mktemp("merge"))


def test_merge_command_one_interface_per_file_in_tshark(taps, tmp_path, monkeypatch, capsys, tshark):
    paths, _ = taps
    files = [str(paths[n]) for n in ("lma", "mag1", "mag2")]
    out = tmp_path / "all.pcapng"
    code, _, err = run(monkeypatch, capsys, "merge", *files, "-o", str(out))
    assert code == 0, err
    assert "mag1.pcap: clock offset +3.1" in err or "mag1.pcap: clock offset +3.2" in err
    rows = subprocess.run([tshark, "-r", str(out), "-T", "fields", "-E", "separator=|", "-e", "frame.interface_id",
                           "-e", "frame.interface_name", "-e", "frame.time_epoch", "-e", "frame.encap_type"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    fields = [r.split("|") for r in rows]
    counts = {}
    for iface, name, _, encap in fields:
        counts[(iface, name, encap)] = counts.get((iface, name, encap), 0) + 1
    expected_frames = {}
    for node in ("lma", "mag1", "mag2"):
        expected_frames[node] = sum(1 for _ in subprocess.run(
            [tshark, "-r", str(paths[node]), "-T", "fields", "-e", "frame.number"],
            capture_output=True, text=True, check=True).stdout.splitlines())
    # tshark's encapsulation numbers: 1 Ethernet, 25 Linux cooked (the mag2 tap's link type).
    assert counts == {("0", "lma.pcap", "1"): expected_frames["lma"], ("1", "mag1.pcap", "1"): expected_frames["mag1"],
                      ("2", "mag2.pcap", "25"): expected_frames["mag2"]}
    times = [float(t) for _, _, t, _ in fields]
    assert times == sorted(times)
    # Corrected times: the first frame of mag2's tap, 5.7 s behind, lands within ~1 ms of its true time.
    first_mag2 = next(float(t) for i, _, t, _ in fields if i == "2")
    raw_first = float(subprocess.run([tshark, "-r", str(paths["mag2"]), "-c", "1", "-T", "fields", "-e",
                                      "frame.time_epoch"], capture_output=True, text=True, check=True).stdout)
    assert first_mag2 - raw_first == pytest.approx(-SHIFTS["mag2"] / 1e9, abs=0.002)


def test_merge_command_given_offsets_and_bad_input(taps, tmp_path, monkeypatch, capsys):
    paths, _ = taps
    files = [str(paths[n]) for n in ("lma", "mag1")]
    out = tmp_path / "two.pcapng.gz"
    code, _, err = run(monkeypatch, capsys, "merge", "--clock-offset", "mag1.pcap=3.2", *files, "-o", str(out))
    assert code == 0 and "(given)" in err and out.read_bytes()[:2] == b"\x1f\x8b"
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    code, _, err = run(monkeypatch, capsys, "merge", str(paths["lma"]), str(junk), "-o", str(tmp_path / "x.pcapng"))
    assert code == 2 and "junk.pcap" in err and "Traceback" not in err
    assert Path(tmp_path / "x.pcapng").stat().st_size > 0  # the usable file is still written
    code, _, err = run(monkeypatch, capsys, "merge", str(paths["lma"]), "-o", str(paths["lma"]))
    assert code == 2 and "also an input" in err


def test_merge_keeps_each_input_interface_of_a_pcapng(tmp_path, monkeypatch, capsys, tshark):
    src = tmp_path / "two-if.pcapng"
    with CaptureWriter(src, fmt="pcapng") as w:
        raw = w.add_interface(101, "raw0")
        w.write(1_000, bytes(14), 0)
        w.write(2_000, bytes.fromhex("6000000000003b40") + bytes(32), raw)
    out = tmp_path / "m.pcapng"
    code, _, err = run(monkeypatch, capsys, "merge", str(src), "-o", str(out))
    assert code == 0, err
    rows = subprocess.run([tshark, "-r", str(out), "-T", "fields", "-e", "frame.interface_id", "-e",
                           "frame.interface_name"], capture_output=True, text=True, check=True).stdout.split()
    assert rows == ["0", "two-if.pcapng", "1", "two-if.pcapng#1"]


@settings(max_examples=50, deadline=None)
@given(
    seen=st.lists(st.sets(st.integers(0, 3), min_size=1), min_size=1, max_size=25),
    offsets=st.lists(st.integers(-10**10, 10**10), min_size=4, max_size=4),
    jitter=st.lists(st.integers(0, 400_000), min_size=4, max_size=4),
)
def test_merge_and_dedup_return_each_packet_once_with_the_taps_that_saw_it(seen, offsets, jitter):
    """Packets 10 ms apart, each seen by some of 4 taps within 0.4 ms: one group per packet, in order."""
    files = [f"tap{k}" for k in range(4)]
    streams = [[_carried(files[k], n + 1, n * 10_000_000 + jitter[k] + offsets[k], n.to_bytes(2, "big"))
                for n, taps in enumerate(seen) if k in taps] for k in range(4)]
    merged = list(merge_items(streams, offsets))
    assert [c.time_ns for c in merged] == sorted(c.time_ns for c in merged)
    assert len(merged) == sum(len(s) for s in streams)
    groups = list(dedup(merged, window_ns=1_000_000))
    assert [sorted(f for f, _ in g.observations()) for g in groups] == \
        [sorted(files[k] for k in taps) for taps in seen]
