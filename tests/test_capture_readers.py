"""Capture readers against tshark, scapy's writers and hand-made file headers.

Every capture is made here: by our writer, by scapy (``wrpcap``, ``PcapNgWriter``), or as bytes
laid out by hand from the pcap / pcapng specifications (big-endian files, several sections,
simple and obsolete packet blocks, if_tsresol powers of 2, if_tsoffset).
"""

from __future__ import annotations

import gzip
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.capture import CaptureWriter, Packet, iter_records, read_packets, readers
from pmipct_check.notices import Notice

T0 = 1_700_000_000_123_456_789


def tshark_frames(tshark: str, path: Path) -> list[tuple[int, int, int]]:
    """(frame number, epoch ns, length) per frame, as tshark reads the file."""
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
         "-e", "frame.len"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    rows = []
    for line in out.splitlines():
        number, epoch, length = line.split("\t")
        rows.append((int(number), int(Decimal(epoch) * 1_000_000_000) if epoch else -1, int(length)))
    return rows


def ours(path: Path) -> tuple[list[Packet], list[Notice]]:
    items = list(read_packets(str(path)))
    return [i for i in items if isinstance(i, Packet)], [i for i in items if isinstance(i, Notice)]


def as_rows(packets: list[Packet]) -> list[tuple[int, int, int]]:
    return [(p.frame, p.time_ns, p.orig_len) for p in packets]


def payloads(count: int) -> list[bytes]:
    """Frames of different lengths (content is irrelevant to the reader)."""
    return [bytes([i]) * (60 + 7 * i) for i in range(count)]


# --------------------------------------------------------------------------------------------
# hand-made files
# --------------------------------------------------------------------------------------------


def pcap_bytes(order: str, nanosecond: bool, frames: list[tuple[int, bytes]], linktype: int = 1) -> bytes:
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for time_ns, data in frames:
        sec, ns = divmod(time_ns, 1_000_000_000)
        out += struct.pack(order + "IIII", sec, ns if nanosecond else ns // 1000, len(data), len(data)) + data
    return out


def block(order: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack(order + "II", btype, len(body) + 12) + body + struct.pack(order + "I", len(body) + 12)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def shb(order: str) -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(order: str, linktype: int, tsresol: int | None = None, tsoffset: int | None = None) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += option(order, 9, bytes([tsresol]))
    if tsoffset is not None:
        opts += option(order, 14, struct.pack(order + "q", tsoffset))
    if opts:
        opts += b"\0\0\0\0"
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, 0) + opts)


def epb(order: str, iface: int, ticks: int, data: bytes) -> bytes:
    return block(order, 6, struct.pack(order + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF,
                                       len(data), len(data)) + data)


def opb(order: str, iface: int, ticks: int, data: bytes) -> bytes:
    return block(order, 2, struct.pack(order + "HHIIII", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF,
                                       len(data), len(data)) + data)


def spb(order: str, data: bytes) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(data)) + data)


ETH = bytes(12) + b"\x86\xdd" + bytes(50)
RAW6 = b"\x60" + bytes(39)


def mixed_pcapng() -> bytes:
    """Two sections (little then big endian), several interfaces, link types and resolutions."""
    t_us = T0 // 1000
    le = (
        shb("<")
        + idb("<", 1)  # microseconds (default)
        + idb("<", 101, tsresol=9)  # nanoseconds
        + block("<", 5, b"\0" * 12)  # an Interface Statistics Block: skipped
        + epb("<", 0, t_us, ETH)
        + epb("<", 1, T0 + 5, RAW6)
        + idb("<", 113, tsresol=0x80 | 20, tsoffset=1000)  # 2^-20 s, +1000 s
        + epb("<", 2, (1_700_000_000 << 20) + 12345, bytes(16) + RAW6)
        + opb("<", 0, t_us + 7, ETH)
        + block("<", 0x0BAD, b"custom")  # custom block: no packet, yet a frame number
        + block("<", 0x80000001, b"local use")  # unknown block: skipped
        + spb("<", ETH)
    )
    be = shb(">") + idb(">", 229, tsresol=3) + epb(">", 0, T0 // 1_000_000, RAW6)
    return le + be


# --------------------------------------------------------------------------------------------
# agreement with tshark
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanosecond", [False, True])
def test_pcap_both_byte_orders_and_resolutions_agree_with_tshark(tmp_path, tshark, order, nanosecond):
    frames = [(T0 + i * 1_000_003_007, data) for i, data in enumerate(payloads(5))]
    path = tmp_path / "hand.pcap"
    path.write_bytes(pcap_bytes(order, nanosecond, frames))
    packets, notices = ours(path)
    assert notices == []
    assert as_rows(packets) == tshark_frames(tshark, path)
    assert [p.data for p in packets] == [d for _, d in frames]
    if nanosecond:
        assert packets[0].time_ns == T0
    else:
        assert packets[0].time_ns == T0 // 1000 * 1000


def test_pcapng_sections_interfaces_and_block_kinds_agree_with_tshark(tmp_path, tshark):
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(mixed_pcapng())
    packets, notices = ours(path)
    assert notices == []
    expected = tshark_frames(tshark, path)
    # Wireshark numbers the custom block as frame 5 although it holds no packet
    assert [p.frame for p in packets] == [1, 2, 3, 4, 6, 7]
    expected = [row for row in expected if row[0] != 5]
    assert [(f, n) for f, _, n in expected] == [(p.frame, p.orig_len) for p in packets]
    for packet, (_, ns, _) in zip(packets, expected, strict=True):
        if packet.frame == 6:  # a simple packet block has no time stamp of its own
            continue
        assert abs(packet.time_ns - ns) <= 1, packet
    assert [p.linktype for p in packets] == [1, 101, 113, 1, 1, 229]
    assert [p.interface for p in packets] == [0, 1, 2, 0, 0, 3]
    assert packets[1].time_ns == T0 + 5
    assert packets[2].time_ns == (1_700_000_000 + 1000) * 10**9 + round(12345 * 10**9 / 2**20)


def test_our_writer_pcapng_two_interfaces_gzip_agree_with_tshark(tmp_path, tshark):
    path = tmp_path / "w.pcapng.gz"
    with CaptureWriter(path, "pcapng", linktype=1, gzip=True) as writer:
        raw = writer.add_interface(229, name="tap1", nanosecond=True)
        for i, data in enumerate(payloads(6)):
            writer.write(T0 + i * 999_999_937, data, interface=i % 2 and raw)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    packets, notices = ours(path)
    assert notices == []
    assert as_rows(packets) == tshark_frames(tshark, path)
    assert [p.linktype for p in packets] == [1, 229] * 3
    assert packets[1].time_ns == T0 + 999_999_937  # nanoseconds kept on the ns interface


@pytest.mark.parametrize("nano", [False, True])
def test_scapy_wrpcap_and_gzip_agree_with_tshark(tmp_path, tshark, nano):
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapWriter

    pkts = []
    for i in range(4):
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(dst=f"2001:db8::{i + 1}") / (b"p" * i)
        pkt.time = Decimal(T0 + i * 1_234_567) / 1_000_000_000
        pkts.append(pkt)
    plain = tmp_path / "scapy.pcap"
    with PcapWriter(str(plain), nano=nano) as w:
        w.write(pkts)
    zipped = tmp_path / "scapy.pcap.gz"  # named .gz, but found by magic
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    odd_name = tmp_path / "scapy.bin"  # gzip content without the extension
    odd_name.write_bytes(zipped.read_bytes())
    reference = tshark_frames(tshark, plain)
    for path in (plain, zipped, odd_name):
        packets, notices = ours(path)
        assert notices == []
        assert as_rows(packets) == reference
        assert [p.data for p in packets] == [bytes(p) for p in pkts]


def test_scapy_pcapng_writer_agrees_with_tshark(tmp_path, tshark):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapNgWriter

    path = tmp_path / "scapy.pcapng"
    pkts = []
    for i in range(3):
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(dst="192.0.2.1") / UDP(dport=5436) / (b"x" * i)
        pkt.time = Decimal(T0 + i * 10_000_000) / 1_000_000_000
        pkts.append(pkt)
    with PcapNgWriter(str(path)) as w:
        w.write(pkts)
    packets, notices = ours(path)
    assert notices == []
    assert as_rows(packets) == tshark_frames(tshark, path)


# --------------------------------------------------------------------------------------------
# bad input: always Notices, never exceptions
# --------------------------------------------------------------------------------------------


def codes(path: Path | str) -> list[str]:
    return [i.code for i in read_packets(str(path)) if isinstance(i, Notice)]


def test_missing_directory_empty_and_foreign_files_give_one_notice(tmp_path):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    text = tmp_path / "notes.pcap"
    text.write_text("this is not a capture\n")
    garbage_gz = tmp_path / "bad.gz"
    garbage_gz.write_bytes(b"\x1f\x8b" + b"\xff" * 40)
    text_gz = tmp_path / "text.gz"
    text_gz.write_bytes(gzip.compress(b"hello, no capture here"))
    tiny = tmp_path / "tiny.pcap"
    tiny.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")
    assert codes(tmp_path / "nope.pcap") == ["capture.unreadable"]
    assert codes(tmp_path) == ["capture.unreadable"]
    assert codes(empty) == ["capture.empty"]
    assert codes(text) == ["capture.not-a-capture"]
    assert codes(garbage_gz) == ["capture.gzip-error"]
    assert codes(text_gz) == ["capture.not-a-capture"]
    assert codes(tiny) == ["capture.truncated-record"]
    for path in (tmp_path / "nope.pcap", tmp_path, empty, text, garbage_gz, text_gz, tiny):
        (notice,) = list(read_packets(str(path)))
        assert notice.severity == "error" and notice.file == str(path)


def test_absurd_record_length_is_a_notice_not_an_allocation(tmp_path):
    good = pcap_bytes("<", False, [(T0, ETH)])
    path = tmp_path / "huge.pcap"
    path.write_bytes(good + struct.pack("<IIII", 1, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"x" * 10)
    packets, notices = ours(path)
    assert len(packets) == 1
    assert [(n.code, n.offset) for n in notices] == [("capture.bad-record-length", len(good))]
    ng = tmp_path / "huge.pcapng"
    head = shb("<") + idb("<", 1) + epb("<", 0, 5, ETH)
    ng.write_bytes(head + struct.pack("<II", 6, 0x7FFFFFF0) + b"\0" * 40)
    packets, notices = ours(ng)
    assert len(packets) == 1
    assert [(n.code, n.offset) for n in notices] == [("capture.bad-block-length", len(head))]


def test_packet_naming_an_unknown_interface_stops_cleanly(tmp_path):
    path = tmp_path / "noif.pcapng"
    path.write_bytes(shb("<") + idb("<", 1) + epb("<", 0, 1, ETH) + epb("<", 3, 2, ETH) + epb("<", 0, 3, ETH))
    packets, notices = ours(path)
    assert len(packets) == 1 and notices[0].severity == "warning"  # the frame before it stands


def reader_value(path: Path) -> int:
    """What ``frames = yield from iter_records(path)`` gives: the number of the last packet frame."""
    records = iter_records(str(path))
    while True:
        try:
            next(records)
        except StopIteration as stop:
            return stop.value


def test_the_reader_value_is_the_last_packet_frame(tmp_path):
    path = tmp_path / "tail.pcapng"
    custom = block(">", 0x0BAD, b"custom")  # frames Wireshark numbers that hold no packet
    for data, last in [
        (mixed_pcapng(), 7),
        (mixed_pcapng() + custom + custom, 7),  # a run of them at the end does not count
        (shb("<") + idb("<", 1) + block("<", 0x0BAD, b"x") + epb("<", 0, 1, ETH) + block("<", 0x0BAD, b"x"), 2),
        (shb("<") + block("<", 0x0BAD, b"x") + block("<", 0x40000BAD, b"y"), 0),
        (pcap_bytes("<", False, [(T0, ETH), (T0 + 1, RAW6)]), 2),
        (b"not a capture at all", 0),
    ]:
        path.write_bytes(data)
        assert reader_value(path) == last, data[:16]


@pytest.mark.parametrize("chunk", [1, 3, 64, 200])
def test_any_read_size_gives_the_same_records(tmp_path, monkeypatch, chunk):
    """Blocks that straddle a read take the general path, whole ones the fast path: same records."""
    files = {"mixed": mixed_pcapng(), **_small_files(tmp_path),
             "pcap-be": pcap_bytes(">", True, [(T0 + i, d) for i, d in enumerate(payloads(9))])}
    reference = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(data)
        reference[name] = (list(iter_records(str(path))), reader_value(path))
    monkeypatch.setattr(readers, "CHUNK", chunk)
    for name in files:
        path = tmp_path / f"{name}.bin"
        assert (list(iter_records(str(path))), reader_value(path)) == reference[name], name


def record_ends(data: bytes, fmt: str) -> list[int]:
    """Byte offsets where each packet record ends, by walking the file as laid out here."""
    ends = []
    if fmt == "pcap":
        p = 24
        while p < len(data):
            p += 16 + struct.unpack_from("<I", data, p + 8)[0]
            ends.append(p)
        return ends
    p = 0
    while p < len(data):
        btype, blen = struct.unpack_from("<II", data, p)
        p += blen
        if btype in (2, 3, 6):
            ends.append(p)
    return ends


def _small_files(tmp: Path) -> dict[str, bytes]:
    files = {}
    for fmt in ("pcap", "pcapng"):
        path = tmp / f"small.{fmt}"
        with CaptureWriter(path, fmt, linktype=1) as writer:
            for i, data in enumerate(payloads(3)):
                writer.write(T0 + i, data[:20 + 9 * i])
        files[fmt] = path.read_bytes()
    return files


def test_cut_at_every_offset_keeps_every_whole_packet(tmp_path):
    for fmt, full in _small_files(tmp_path).items():
        ends = record_ends(full, fmt)
        assert len(ends) == 3
        reference = [p.data for p in ours_bytes(tmp_path, full)[0]]
        cut_path = tmp_path / f"cut.{fmt}"
        for cut in range(len(full)):
            cut_path.write_bytes(full[:cut])
            packets, notices = ours(cut_path)
            whole = sum(1 for end in ends if end <= cut)
            assert [p.data for p in packets] == reference[:whole], (fmt, cut)
            if cut == 0:
                assert [n.code for n in notices] == ["capture.empty"]
            elif cut not in ends and (fmt == "pcap" and cut != 24):
                assert len(notices) == 1 and notices[0].offset is not None, (fmt, cut, notices)
            assert len(notices) <= 1
            # error exactly when the file gave nothing: what callers turn into exit code 2
            assert all((n.severity == "error") == (not packets) for n in notices), (fmt, cut, notices)


def test_gzip_cut_short_keeps_the_packets_before_the_cut(tmp_path):
    full = _small_files(tmp_path)["pcapng"]
    zipped = gzip.compress(full, mtime=0)
    reference = [p.data for p in ours_bytes(tmp_path, full)[0]]
    path = tmp_path / "cut.pcapng.gz"
    for cut in range(1, len(zipped), 3):
        path.write_bytes(zipped[:cut])
        packets, notices = ours(path)
        assert [p.data for p in packets] == reference[: len(packets)]
        assert len(packets) < 3 or cut >= len(zipped) - 8
        assert notices and notices[-1].code in ("capture.gzip-error", "capture.truncated-record",
                                                "capture.empty", "capture.not-a-capture")


def ours_bytes(tmp: Path, data: bytes) -> tuple[list[Packet], list[Notice]]:
    path = tmp / "whole.bin"
    path.write_bytes(data)
    return ours(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_corrupted_bytes_never_raise(tmp_path, data):
    template = data.draw(st.sampled_from([mixed_pcapng(), pcap_bytes(">", True, [(T0, ETH), (T0 + 1, RAW6)])]))
    buf = bytearray(template)
    for _ in range(data.draw(st.integers(1, 6))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "fuzz.bin"
    path.write_bytes(bytes(buf))
    items = list(read_packets(str(path)))
    assert all(isinstance(i, (Packet, Notice)) for i in items)
    frames = [i.frame for i in items if isinstance(i, Packet)]
    assert frames == sorted(set(frames)) and all(f >= 1 for f in frames)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_memory_does_not_grow_with_the_capture(tmp_path, fmt):
    import tracemalloc

    path = tmp_path / f"big.{fmt}.gz"
    frame = bytes(range(256)) * 6
    with CaptureWriter(path, fmt, gzip=True) as writer:
        for i in range(12_000):  # about 18 MiB of frames
            writer.write(T0 + i, frame)
    tracemalloc.start()
    count = sum(1 for item in read_packets(str(path)) if isinstance(item, Packet))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 12_000
    assert peak < 6 * 1024 * 1024
