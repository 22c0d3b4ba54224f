"""Hostile files for the capture readers (issue 9): cut, mutated, compressed wrongly, absurd lengths.

Properties, for every synthesized capture in ``captures/`` and the tcpdump mobility captures:

* the reader never raises; every problem is a Notice naming the file (and the offset);
* a file cut at any offset yields exactly the whole records before the cut, unchanged, and says
  where the cut record starts;
* a mutated file yields, unchanged, every record that lies wholly before the first changed octet.

Record boundaries come from a walk of the pcap / pcapng framing written here from the format
documents, not from the reader under test.
"""

from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.capture import iter_records
from pmipct_check.notices import Notice

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = sorted((ROOT / "captures").glob("*.pcap*"))
TCPDUMP = ROOT.parent / "shared" / "captures" / "tcpdump-mobility"
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def boundaries(data: bytes) -> list[tuple[int, int, bool]]:
    """(start, end, is_packet) of every record / block after the pcap header (pcap) or of every block (pcapng)."""
    out: list[tuple[int, int, bool]] = []
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x0A0D0D0A:
        order = "<" if struct.unpack("<I", data[8:12])[0] == 0x1A2B3C4D else ">"
        p = 0
        while p + 12 <= len(data):
            btype, blen = struct.unpack_from(order + "II", data, p)
            out.append((p, p + blen, btype in (2, 3, 6)))
            p += blen
        return out
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    p = 24
    while p + 16 <= len(data):
        incl = struct.unpack_from(order + "I", data, p + 8)[0]
        out.append((p, p + 16 + incl, True))
        p += 16 + incl
    return out


def read_all(path: str | Path) -> tuple[list[tuple], list[Notice]]:
    records, notices = [], []
    for item in iter_records(str(path)):
        (records if isinstance(item, tuple) else notices).append(item)
    return records, notices


def assert_notices_located(notices: list[Notice], path: str | Path) -> None:
    for n in notices:
        assert n.file == str(path), n
        assert n.message and "\n" not in n.message, n
        if n.frame is None and n.severity != "info":
            assert n.offset is not None, n


def all_captures() -> list[Path]:
    extra = sorted(TCPDUMP.glob("*.pcap")) if TCPDUMP.is_dir() else []
    return CAPTURES + extra


# -- cut at every offset ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "upto"), [("fault-pbu-missing-hnp.pcapng", None), ("rfc5949-predictive.pcap", 1600)])
def test_cut_at_every_offset_keeps_every_whole_record(tmp_path: Path, name: str, upto: int | None) -> None:
    data = (ROOT / "captures" / name).read_bytes()
    full, _ = read_all(ROOT / "captures" / name)
    bounds = boundaries(data)
    path = tmp_path / name
    for cut in range(len(data) if upto is None else upto):
        path.write_bytes(data[:cut])
        records, notices = read_all(path)
        whole = sum(1 for start, end, packet in bounds if end <= cut and packet)
        assert records == full[:whole], cut
        assert_notices_located(notices, path)
        torn = [start for start, end, _ in bounds if start < cut < end]
        if torn:  # the cut record is named by its offset
            assert any(n.offset == torn[0] for n in notices), (cut, notices)
        if not records and (torn or cut < bounds[0][0]):  # nothing usable: an error, the CLI exits 2
            assert any(n.severity == "error" for n in notices), (cut, notices)


def test_every_capture_cut_at_sampled_offsets(tmp_path: Path) -> None:
    for source in all_captures():
        data = source.read_bytes()
        full, _ = read_all(source)
        bounds = boundaries(data)
        path = tmp_path / source.name
        for cut in sorted({*range(0, len(data), max(1, len(data) // 23)), *(e - 1 for _, e, _ in bounds[::5])}):
            path.write_bytes(data[:cut])
            records, notices = read_all(path)
            whole = sum(1 for _, end, packet in bounds if end <= cut and packet)
            assert records == full[:whole], (source.name, cut)
            assert_notices_located(notices, path)


def test_gzip_cut_short_keeps_what_was_decompressed(tmp_path: Path) -> None:
    source = ROOT / "captures" / "proactive-2.pcapng"
    full, _ = read_all(source)
    packed = gzip.compress(source.read_bytes(), mtime=0)
    path = tmp_path / "cut.pcapng.gz"
    for cut in range(0, len(packed), 7):
        path.write_bytes(packed[:cut])
        records, notices = read_all(path)
        assert records == full[: len(records)], cut
        assert notices, cut  # a cut stream always says so
        assert_notices_located(notices, path)


# -- mutations ------------------------------------------------------------------------------------


@st.composite
def mutation(draw: st.DrawFn) -> tuple[Path, bytes, int]:
    source = draw(st.sampled_from(all_captures()))
    data = bytearray(source.read_bytes())
    first = len(data)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["set", "ff", "zero", "insert", "delete"]))
        if kind == "set":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "ff":
            data[pos : pos + 4] = b"\xff" * len(data[pos : pos + 4])
        elif kind == "zero":
            data[pos : pos + 4] = bytes(len(data[pos : pos + 4]))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos : pos + draw(st.integers(1, 8))]
        first = min(first, pos)
    return source, bytes(data), first


@SETTINGS
@given(mutation())
def test_mutated_files_keep_the_records_before_the_damage(tmp_path: Path, case: tuple[Path, bytes, int]) -> None:
    source, data, first = case
    full, _ = read_all(source)
    original = source.read_bytes()
    path = tmp_path / source.name
    path.write_bytes(data)
    records, notices = read_all(path)
    assert_notices_located(notices, path)
    intact = sum(1 for _, end, packet in boundaries(original) if end <= first and packet)
    if first >= 4:  # the magic survived: the file is still read as the same format
        assert records[:intact] == full[:intact]


@SETTINGS
@given(st.sampled_from([b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1",
                        b"\x0a\x0d\x0d\x0a", b"\x1f\x8b", b""]),
       st.binary(max_size=400))
def test_random_bytes_behind_any_magic_never_raise(tmp_path: Path, magic: bytes, rest: bytes) -> None:
    path = tmp_path / "random.pcap"
    path.write_bytes(magic + rest)
    records, notices = read_all(path)
    assert_notices_located(notices, path)
    if not records and not any(n.severity == "error" for n in notices):
        assert magic[:2] != b"\x1f\x8b" and len(magic + rest) >= 24  # a whole, empty capture


# -- absurd lengths, odd paths --------------------------------------------------------------------


def _pcap(records: list[bytes], incl: list[int] | None = None, snaplen: int = 65535) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 101)
    for i, r in enumerate(records):
        out += struct.pack("<IIII", 1, 0, len(r) if incl is None else incl[i], len(r)) + r
    return out


@pytest.mark.parametrize("snaplen", [65535, 0xFFFFFFFF])
@pytest.mark.parametrize("claim", [0xFFFFFFFF, 300 * 1024 * 1024, 200 * 1024 * 1024])
def test_absurd_pcap_record_length_allocates_nothing(tmp_path: Path, claim: int, snaplen: int) -> None:
    path = tmp_path / "absurd.pcap"
    path.write_bytes(_pcap([b"\x60" + bytes(39), b"\x60" + bytes(39)], [40, claim], snaplen))
    tracemalloc.start()
    records, notices = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(records) == 1
    assert peak < 8 * 1024 * 1024
    assert [n.offset for n in notices] == [24 + 16 + 40]


@pytest.mark.parametrize("blen", [0, 4, 13, 0xFFFFFFFC, 200 * 1024 * 1024])
def test_absurd_pcapng_block_length_is_one_located_notice(tmp_path: Path, blen: int) -> None:
    data = (ROOT / "captures" / "reactive-1.pcapng").read_bytes()
    bounds = boundaries(data)
    start = bounds[5][0]
    broken = data[:start + 4] + struct.pack("<I", blen) + data[start + 8:]
    path = tmp_path / "absurd.pcapng"
    path.write_bytes(broken)
    tracemalloc.start()
    records, notices = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert len(records) == sum(1 for _, _, packet in bounds[:5] if packet)
    assert len(notices) == 1 and notices[0].offset == start, notices


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "text", "gzip-garbage", "short-header",
                                  "unreadable"])
def test_unusable_files_are_one_error_notice(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.pcap"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a capture at all\n")
    elif kind == "gzip-garbage":
        path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    elif kind == "short-header":
        path.write_bytes(_pcap([])[:17])
    elif kind == "unreadable":
        path.write_bytes(_pcap([b"\x60" + bytes(39)]))
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who reads anything")
    records, notices = read_all(path)
    assert records == []
    assert len(notices) == 1 and notices[0].severity == "error", notices
    assert_notices_located([n for n in notices if n.offset is not None], path)
    assert str(path) in notices[0].message or notices[0].file == str(path)
