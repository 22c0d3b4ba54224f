"""One broken frame, or one resource bound, never costs the rest of the capture (issue 9).

Broken frames are written here byte by byte (RFC 8200, RFC 6275 6.1, RFC 9260, RFC 4067 layouts)
and spliced into ``captures/reactive-1.pcapng``: the handover and every finding of the intact
capture are still there (frame numbers moved by the splice), and the broken frame is a finding
naming file and frame.  The bounds (tunnel depth, SCTP reassembly, options per message) are
reached on purpose and must say so with a Notice.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.capture import CaptureWriter, Extractor, iter_records
from pmipct_check.capture.sctp import MAX_MESSAGE, SctpAssembler
from pmipct_check.notices import Notice
from pmipct_check.pipeline import check_files
from pmipct_check.profile import parse_profile

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "captures" / "reactive-1.pcapng"
SRC = bytes.fromhex("20010db8dead0000000000000000000a")
DST = bytes.fromhex("20010db8dead0000000000000000000b")
ETH = bytes.fromhex("02000000000a02000000000b86dd")
CXTP_PPI = 77
PROFILE = parse_profile(f"[cxtp]\nsctp_ppis = [{CXTP_PPI}]\n", "ppi.toml")
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def ipv6(nh: int, payload: bytes, plen: int | None = None) -> bytes:
    return ETH + struct.pack("!IHBB", 0x60000000, len(payload) if plen is None else plen, nh, 64) + SRC + DST + payload


def mh(mh_type: int, body: bytes, header_len: int | None = None, checksum: int = 0) -> bytes:
    hl = (6 + len(body) + 7) // 8 - 1 if header_len is None else header_len
    return struct.pack("!BBBBH", 59, hl, mh_type, 0, checksum) + body


def sctp(*chunks: bytes) -> bytes:
    return struct.pack("!HHII", 5500, 5500, 7, 0) + b"".join(chunks)


def data_chunk(payload: bytes, flags: int = 3, tsn: int = 1, length: int | None = None) -> bytes:
    """A DATA chunk with PROFILE's CXTP PPI, so the payload is CXTP whatever its header says.

    (Without a PPI or port in the profile, a CXTP header whose Length lies fails the header check
    and the chunk is taken for some other SCTP user: there is nothing to report then.)
    """
    clen = 16 + len(payload) if length is None else length
    return struct.pack("!BBHIHHI", 0, flags, clen, tsn, 0, 0, CXTP_PPI) + payload + bytes(-len(payload) % 4)


#: name -> a frame no one could read as sent.
BROKEN = {
    "mh-two-octets": ipv6(135, b"\x3b\x00"),
    "mh-header-len-beyond-packet": ipv6(135, mh(5, struct.pack("!HHHH", 9, 0xF000, 0, 10), header_len=40)),
    "mh-option-overrun": ipv6(135, mh(5, struct.pack("!HHHH", 9, 0xF000, 0, 10) + b"\x08\xff" + bytes(4))),
    "mh-zero-header-len": ipv6(135, mh(5, struct.pack("!HHHH", 9, 0xF000, 0, 10), header_len=0)),
    "mh-bad-checksum": ipv6(135, mh(7, b"\x01\x00" + bytes(16) + bytes(4), checksum=0x1234)),
    "ipv6-payload-length-beyond": ipv6(135, mh(6, bytes(10)), plen=4000),
    "sctp-chunk-overrun": ipv6(132, sctp(data_chunk(b"\x22\x00\x00\x20" + bytes(28), length=400))),
    "sctp-zero-length-chunk": ipv6(132, sctp(struct.pack("!BBH", 0, 3, 0) + bytes(16))),
    "cxtp-length-beyond": ipv6(132, sctp(data_chunk(b"\x22\x00\x10\x00" + bytes(28)))),
    "cxtp-v-flag-wrong-size": ipv6(132, sctp(data_chunk(b"\x22\x80\x00\x18" + bytes(20)))),
    "ipv4-ihl-zero": ETH[:12] + b"\x08\x00" + b"\x40" + bytes(19),
    "ipv6-cut-in-header": ipv6(135, b"")[:30],
}


def records(path: Path) -> list[tuple]:
    return [r for r in iter_records(str(path)) if isinstance(r, tuple)]


def splice(tmp_path: Path, frame: bytes, at: int, name: str = "spliced.pcapng") -> Path:
    """reactive-1 with ``frame`` inserted as frame ``at`` (1-based)."""
    out = tmp_path / name
    recs = records(BASE)
    with CaptureWriter(out, "pcapng", linktype=recs[0][2]) as writer:
        for i, rec in enumerate(recs, start=1):
            if i == at:
                writer.write(rec[1] - 1000, frame)
            writer.write(rec[1], rec[3])
    return out


def summary(result, renumber=lambda f: f):
    handovers = [(h.mn, h.case, h.pmag, h.nmag) for h in result.handovers]
    findings = sorted((f.rule, f.severity, tuple(renumber(r.frame) for r in f.refs))
                      for f in result.findings if not f.rule.startswith("INPUT-"))
    return handovers, findings


@pytest.fixture(scope="module")
def intact():
    return check_files([str(BASE)], PROFILE)


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("at", [1, 20, 42])
def test_broken_frame_spliced_in_keeps_the_handover_and_its_findings(tmp_path: Path, intact, name: str,
                                                                     at: int) -> None:
    path = splice(tmp_path, BROKEN[name], at)
    result = check_files([str(path)], PROFILE)
    before_handovers, before = summary(intact, lambda f: f + 1 if f >= at else f)
    after_handovers, after = summary(result)
    assert after_handovers == before_handovers
    for finding in before:  # every finding of the intact capture is still there
        assert finding in after, (finding, after)
        after.remove(finding)
    assert all(refs == (at,) for _, _, refs in after), after  # anything new is about the broken frame
    about = [f for f in result.findings if any(r.frame == at and r.file == str(path) for r in f.refs)]
    if name not in ("ipv4-ihl-zero", "ipv6-cut-in-header"):  # no signalling could even be seen
        assert about, [(f.rule, f.refs) for f in result.findings]  # INPUT-I*, or PMIP-P1 for a checksum


@SETTINGS
@given(st.sampled_from(sorted(BROKEN)), st.integers(1, 42), st.integers(0, 2**32 - 1))
def test_broken_frame_mutated_never_loses_the_handover(tmp_path: Path, intact, name: str, at: int,
                                                       seed: int) -> None:
    frame = bytearray(BROKEN[name])
    pos = 14 + seed % max(1, len(frame) - 14)
    if pos < len(frame):
        frame[pos] ^= (seed >> 8) & 0xFF or 1
    path = splice(tmp_path, bytes(frame), at, f"m{seed}.pcapng")
    result = check_files([str(path)], PROFILE)
    assert summary(result)[0] == summary(intact)[0]


def test_truncated_capture_keeps_the_findings_of_its_intact_part(tmp_path: Path) -> None:
    """Cut inside a record: the same result as the file cut at the record's start, plus the file notice."""
    data = BASE.read_bytes()
    recs = records(BASE)
    # the end offset of the 30th packet: walk the blocks (SHB, IDB, then one EPB per packet)
    p, ends = 0, []
    while p < len(data):
        ends.append(p + struct.unpack_from("<I", data, p + 4)[0])
        p = ends[-1]
    whole, torn = tmp_path / "whole.pcapng", tmp_path / "torn.pcapng"
    cut = ends[31]  # SHB, IDB, then packets 1..30
    whole.write_bytes(data[:cut])
    torn.write_bytes(data[: cut + 40])
    a, b = check_files([str(whole)]), check_files([str(torn)])
    assert len(records(torn)) == 30 < len(recs)
    assert summary(a) == summary(b)
    cut_notes = [f for f in b.findings if f.rule == "INPUT-I4"]
    assert cut_notes and not [f for f in a.findings if f.rule == "INPUT-I4"]


# -- bounds -----------------------------------------------------------------------------------------


def nested(depth: int, inner: bytes) -> bytes:
    pkt = inner
    for _ in range(depth):
        pkt = struct.pack("!IHBB", 0x60000000, len(pkt), 41, 64) + SRC + DST + pkt
    return pkt


def test_tunnel_depth_bound_is_a_notice() -> None:
    from pmipct_check.capture.extract import MAX_TUNNELS

    inner = struct.pack("!IHBB", 0x60000000, 16, 135, 64) + SRC + DST + mh(6, bytes(10))
    ex = Extractor()
    deep = ex.feed_raw("f", 1, 0, 101, nested(MAX_TUNNELS + 5, inner))
    assert [n.code for n in deep if isinstance(n, Notice)] == ["capture.tunnel-depth"]
    ok = ex.feed_raw("f", 2, 0, 101, nested(MAX_TUNNELS - 1, inner))
    assert [type(x).__name__ for x in ok] == ["Carried"]
    # a thousand layers cost no more than the bound
    assert ex.feed_raw("f", 3, 0, 101, nested(1000, inner))[0].code == "capture.tunnel-depth"


def test_sctp_reassembly_without_end_is_bounded_and_reported() -> None:
    asm = SctpAssembler(ppis=frozenset({0}), max_pending=50)
    addresses = (SRC, DST)
    notices: list[Notice] = []
    for i in range(500):  # 500 messages that never end: only 50 may wait
        chunk = struct.pack("!BBHIHHI", 0, 2, 16 + 4, i * 10, i % 7, i, 0) + b"\x22\x00\x00\x40"
        segment = sctp(chunk)
        _, found = asm.packet("f", i + 1, addresses, segment)
        notices += found
        assert len(asm._pending) <= 50
    notices += asm.flush()
    codes = {n.code for n in notices}
    assert codes == {"sctp.reassembly-abandoned"}
    assert len(notices) == 500
    assert all(n.file == "f" and n.frame for n in notices)


def test_sctp_message_growing_without_end_stops_at_max_message() -> None:
    asm = SctpAssembler(ppis=frozenset({0}))
    notices: list[Notice] = []
    piece = bytes(1200)
    for i in range(2 + MAX_MESSAGE // len(piece)):
        flags = 2 if i == 0 else 0
        chunk = struct.pack("!BBHIHHI", 0, flags, 16 + len(piece), i, 0, 0, 0) + piece
        notices += asm.packet("f", i + 1, (SRC, DST), sctp(chunk))[1]
    assert [n.code for n in notices] == ["sctp.reassembly-abandoned"]
    assert sum(len(f[1]) for p in asm._pending.values() for f in p.fragments.values()) <= MAX_MESSAGE


def test_absurd_number_of_options_is_bounded_by_the_message(tmp_path: Path) -> None:
    """Header Len caps a Mobility Header at 2048 octets: at most 2042 Pad1 options, decoded in one pass."""
    from test_decode_build import carried

    from pmipct_check.decode import decode_carried

    body = struct.pack("!HHHH", 9, 0xF000, 0, 10) + bytes(2038)  # Pad1 all the way
    message = decode_carried(carried(mh(5, body, header_len=255), "mh", "2001:db8::1", "2001:db8::2"))
    assert message.type in ("BU", "PBU")
    many = bytes((1, 0)) * 1019  # PadN of length 0, 1019 of them
    message = decode_carried(carried(mh(5, struct.pack("!HHHH", 9, 0xF000, 0, 10) + many, header_len=255),
                                     "mh", "2001:db8::1", "2001:db8::2"))
    assert message.type in ("BU", "PBU") and len(message.fields.get("options", ())) <= 1020


def test_notices_are_bounded_per_file_and_code(tmp_path: Path) -> None:
    """A capture whose every frame is broken keeps MAX_NOTICES_PER_CODE notices and counts the rest."""
    from pmipct_check.pipeline import MAX_NOTICES_PER_CODE

    path = tmp_path / "all-broken.pcap"
    extra = 250
    with CaptureWriter(path, "pcap") as writer:
        for i in range(MAX_NOTICES_PER_CODE + extra):
            writer.write(10**18 + i * 1000, BROKEN["mh-two-octets"])
    result = check_files([str(path)])
    codes = [n.code for n in result.notices]
    assert codes.count("mh.truncated") == MAX_NOTICES_PER_CODE
    limit = [n for n in result.notices if n.code == "notice.limit"]
    assert len(limit) == 1 and f"{extra} more mh.truncated" in limit[0].message and limit[0].file == str(path)
    assert {"INPUT-I1", "INPUT-I5"} <= {f.rule for f in result.findings}


def _repeated(tmp_path: Path, times: int) -> Path:
    """reactive-1's frames ``times`` over, an hour apart: the same handover again and again."""
    frames = [r for r in iter_records(str(BASE)) if not isinstance(r, Notice)]
    path = tmp_path / f"reactive-1-x{times}.pcapng"
    with CaptureWriter(path, "pcapng") as writer:
        for k in range(times):
            for record in frames:
                writer.write(record[1] + k * 3600 * 10**9, record[3])
    return path


def test_check_makes_no_cyclic_garbage_that_grows_with_the_capture(tmp_path: Path) -> None:
    """check_files holds the cyclic GC for the whole run (pipeline: collections walked every record
    for nothing, ~4 % of a signalling run): that is safe only while what it leaves for the GC is
    bounded per file (the stream's memos), never per message."""
    import gc

    once, many = _repeated(tmp_path, 1), _repeated(tmp_path, 40)
    left = []
    check_files([str(once)])  # imports and caches first
    gc.collect()
    for path in (once, many):
        gc.disable()
        try:
            result = check_files([str(path)])
            handovers = len(result.handovers)
            del result
            left.append((gc.collect(), handovers))
        finally:
            gc.enable()
    (garbage_once, handovers_once), (garbage_many, handovers_many) = left
    assert handovers_many >= 40 * handovers_once > 0  # (and the moves back between the repeats)
    assert garbage_many <= garbage_once + 50, left
