"""SCTP chunk walk and DATA reassembly, on packets scapy builds (with its own CRC32c)."""

from __future__ import annotations

import struct
import subprocess
from dataclasses import replace

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkInit, SCTPChunkSACK

from pmipct_check.capture import CaptureWriter, Carried, Extractor, iter_carried
from pmipct_check.capture.sctp import SctpAssembler, checksum_ok, crc32c, cxtp_header_ok
from pmipct_check.notices import Notice
from pmipct_check.profile import DEFAULT_PROFILE

NMAG, PMAG = "2001:db8:1::1", "2001:db8:1::2"
MAC = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}


def cxtp(ctype: int, body: bytes, include_header: bool = True) -> bytes:
    """RFC 4067 2.5 header: Version (3 bits) | Type (5 bits), flags octet, Length (16 bits)."""
    length = len(body) + (4 if include_header else 0)
    return bytes([(1 << 5) | ctype, 0]) + struct.pack(">H", length) + body


CT_REQ = cxtp(7, bytes(16) + struct.pack(">II", 1, 0))  # MN previous address, seq, token
CTD = cxtp(3, struct.pack(">I", 20) + bytes(16) + bytes(300))  # elapsed time, address, context data


def sctp(*chunks: object, tag: int = 0x1234, sport: int = 5000, dport: int = 5001) -> SCTP:
    packet = SCTP(sport=sport, dport=dport, tag=tag)
    for chunk in chunks:
        packet = packet / chunk
    return packet


def data(payload: bytes, tsn: int, b: int = 1, e: int = 1, u: int = 0, ssn: int = 0, ppi: int = 0,
         stream: int = 0) -> SCTPChunkData:
    return SCTPChunkData(data=payload, tsn=tsn, beginning=b, ending=e, unordered=u, stream_seq=ssn,
                         proto_id=ppi, stream_id=stream)


def frames_of(*segments: SCTP, v4: bool = False) -> list[bytes]:
    ip = IP(src="192.0.2.1", dst="192.0.2.2") if v4 else IPv6(src=NMAG, dst=PMAG)
    return [bytes(Ether(**MAC) / ip / seg) for seg in segments]


def run(frames: list[bytes], profile=DEFAULT_PROFILE) -> list[Carried | Notice]:
    extractor = Extractor(profile)
    out: list = []
    for i, frame in enumerate(frames, 1):
        out += extractor.feed_raw("f", i, i * 1000, 1, frame)
    return out + extractor.finish()


def test_crc32c_check_value_and_scapy_checksums():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720 B.4)
    segment = bytes(sctp(data(CT_REQ, 1)))
    assert checksum_ok(segment)
    broken = segment[:-1] + bytes([segment[-1] ^ 1])
    assert not checksum_ok(broken)


def test_header_check_accepts_both_length_conventions_only():
    assert cxtp_header_ok(CT_REQ) and cxtp_header_ok(cxtp(7, bytes(24), include_header=False))
    assert not cxtp_header_ok(CT_REQ + b"\0")
    assert not cxtp_header_ok(bytes([0x48]) + CT_REQ[1:])  # version 2
    assert not cxtp_header_ok(bytes([0x28]) + CT_REQ[1:])  # type 8
    assert not cxtp_header_ok(b"\x27\x00")


def test_init_then_bundled_data_and_sack(tmp_path, tshark):
    init = sctp(SCTPChunkInit(init_tag=0x1234, n_in_streams=2, n_out_streams=2, init_tsn=1), tag=0)
    bundled = sctp(data(CT_REQ, 1, stream=1, ssn=0), SCTPChunkSACK(cumul_tsn_ack=9), data(CTD, 2, ssn=1),
                   data(b"not cxtp at all", 3, ssn=2))
    path = tmp_path / "sctp.pcap"
    with CaptureWriter(path) as writer:
        for i, frame in enumerate(frames_of(init, bundled)):
            writer.write(i * 1000, frame)
    found = [c for c in iter_carried([str(path)]) if isinstance(c, Carried)]
    assert [(c.frame, c.transport, c.data) for c in found] == [(2, "sctp", CT_REQ), (2, "sctp", CTD)]
    first = found[0]
    assert (first.src, first.dst) == (NMAG, PMAG)
    assert {k: first.info[k] for k in ("sport", "dport", "vtag", "stream", "tsn", "ssn", "ppi", "unordered",
                                        "checksum_ok")} == {
        "sport": 5000, "dport": 5001, "vtag": 0x1234, "stream": 1, "tsn": 1, "ssn": 0, "ppi": 0,
        "unordered": False, "checksum_ok": True}
    # tshark sees the same three DATA chunks in frame 2 and no DATA in frame 1
    out = subprocess.run([tshark, "-r", str(path), "-Y", "sctp.data_tsn", "-T", "fields", "-e", "frame.number",
                          "-e", "sctp.data_tsn_raw"], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["2", "1,2,3"]


def test_fragmented_ordered_and_unordered_messages_are_reassembled():
    parts = [CTD[:100], CTD[100:250], CTD[250:]]
    ordered = frames_of(sctp(data(parts[0], 10, e=0, ssn=4)), sctp(SCTPChunkSACK()),
                        sctp(data(parts[1], 11, b=0, e=0, ssn=4)), sctp(data(parts[2], 12, b=0, ssn=4)))
    items = run(ordered)
    assert [(i.frame, i.frames, i.data, i.info["tsn"]) for i in items] == [(4, (1, 3, 4), CTD, 10)]
    # unordered, arriving out of order (end first), over IPv4
    unordered = frames_of(sctp(data(parts[2], 22, b=0, u=1)), sctp(data(parts[0], 20, e=0, u=1)),
                          sctp(data(parts[1], 21, b=0, e=0, u=1)), v4=True)
    items = run(unordered)
    assert [(i.frame, i.frames, i.data, i.info["unordered"], i.info["ip_version"]) for i in items] == [
        (3, (2, 3, 1), CTD, True, 4)]


def test_ppi_and_port_select_messages_the_header_check_would_miss():
    other = b"\x99" * 40
    frames = frames_of(sctp(data(other, 1, ppi=77)), sctp(data(other, 2), sport=9999),
                       sctp(data(other, 3)))
    assert run(frames) == []
    profile = replace(DEFAULT_PROFILE, cxtp_sctp_ppis=frozenset({77}), cxtp_sctp_ports=frozenset({9999}))
    assert [c.frame for c in run(frames, profile)] == [1, 2]
    no_check = replace(DEFAULT_PROFILE, cxtp_header_check=False)
    assert run(frames_of(sctp(data(CT_REQ, 1))), no_check) == []


def test_fragments_of_a_message_that_is_not_cxtp_are_dropped_quietly():
    frames = frames_of(sctp(data(b"\x99" * 50, 1, e=0)), sctp(data(b"\x99" * 50, 2, b=0)),
                       sctp(data(b"\x99" * 50, 3, e=0, u=1)), sctp(data(b"\x99" * 50, 4, b=0, u=1)))
    assert run(frames) == []


def test_truncated_chunks_and_bounds_give_notices():
    segment = bytes(sctp(data(CT_REQ, 1), data(CT_REQ, 2)))
    cut = segment[:-10]
    ip = bytes(IPv6(src=NMAG, dst=PMAG, nh=132, plen=len(cut)))[:40]
    items = run([bytes(Ether(type=0x86DD, **MAC)) + ip + cut])
    assert [(type(i).__name__, i.frame) for i in items] == [("Notice", 1), ("Carried", 1)]
    assert items[0].code == "sctp.truncated-chunk" and items[1].info["checksum_ok"] is False

    assembler = SctpAssembler(max_pending=2, max_message=200)
    addrs = (b"a" * 16, b"b" * 16)
    notices = []
    for i in range(3):
        seg = bytes(sctp(data(CTD[:50], 100 + i, e=0, ssn=i)))
        notices += assembler.packet("f", i + 1, addrs, seg)[1]
    assert [n.code for n in notices] == ["sctp.reassembly-abandoned"]
    assert "frames 1" in notices[0].message
    big = bytes(sctp(data(CTD[50:260], 102, b=0, e=0, ssn=1)))
    _, notices = assembler.packet("f", 9, addrs, big)
    assert [n.code for n in notices] == ["sctp.reassembly-abandoned"] and notices[0].frame == 9
    assert [n.code for n in assembler.flush()] == ["sctp.reassembly-abandoned"]
    assert assembler.flush() == []


def test_incomplete_message_is_reported_at_the_end_of_the_file():
    items = run(frames_of(sctp(data(CTD[:100], 5, e=0))))
    assert [(i.code, i.severity) for i in items] == [("sctp.reassembly-abandoned", "warning")]


def test_retransmitted_message_is_marked():
    frames = frames_of(sctp(data(CT_REQ, 7)), sctp(data(CT_REQ, 7)))
    items = run(frames)
    assert [i.info.get("retransmission", False) for i in items] == [False, True]


def test_messages_of_one_association_share_its_ports_tag_and_packet_info():
    """Each decoded CXTP record keeps its SctpInfo: what is the association's is one object."""
    tag = 0x9ABCDEF0
    items = run(frames_of(sctp(data(CT_REQ, 7), tag=tag), sctp(data(CT_REQ, 8, ssn=1), tag=tag),
                          sctp(data(CT_REQ, 9), tag=tag + 1)))
    first, second, other = (i.info for i in items)
    assert (first["sport"], first["dport"], first["vtag"], second["tsn"]) == (5000, 5001, tag, 8)
    assert all(first[k] is second[k] for k in ("sport", "dport", "vtag"))
    assert first.packet is second.packet is other.packet  # type: ignore[attr-defined]
    assert other["vtag"] == tag + 1


def test_sctp_info_reads_as_the_dict_it_stands_for():
    import pickle

    from pmipct_check.capture.model import SctpInfo

    packet = {"ip_version": 6, "hop_limit": 64}
    chunk = {"sport": 1, "dport": 5500, "vtag": 7, "ppi": 0, "stream": 2, "ssn": 3, "tsn": 2**32 - 1,
             "unordered": True, "chunk_flags": 7}
    for crc, retransmission in ((None, False), (True, False), (False, True)):
        info = SctpInfo(packet, *chunk.values(), crc, retransmission)
        expected = {**packet, **chunk}
        if crc is not None:
            expected["checksum_ok"] = crc
        if retransmission:
            expected["retransmission"] = True
        assert list(info.items()) == list(expected.items())  # same keys, same order
        assert info == expected and len(info) == len(expected) and dict(info) == expected
        assert info.get("checksum_ok") == expected.get("checksum_ok") and "nothing" not in info
        assert info.get("retransmission", False) is retransmission
        assert pickle.loads(pickle.dumps(info)) == expected  # --jobs workers send them back


# -- fast paths: the commonest frame shapes give the records the general walk gives ---------------

def _general(frames: list[bytes]) -> list[Carried | Notice]:
    """Each frame without its Ethernet header, as raw IPv6 (link type 101): the general walk."""
    extractor = Extractor(DEFAULT_PROFILE)
    out: list = []
    for i, frame in enumerate(frames, 1):
        out += extractor.feed_raw("f", i, i * 1000, 101, frame[14:])
    return out + extractor.finish()


def _as_records(items: list) -> list:
    return [(type(i), i) if isinstance(i, Notice) else (type(i), replace(i, info=dict(i.info))) for i in items]


def test_ethernet_ipv6_fast_paths_give_the_general_walks_records():
    from scapy.layers.inet6 import IPv6ExtHdrDestOpt
    from scapy.layers.mobileip import MobileIP  # noqa: F401 - only to have scapy's MH layers loaded

    mh = bytes([59, 1, 5, 0, 0, 0, 0, 0]) + bytes(8)  # an MH of type 5 (PBU), 16 octets
    segments = [
        sctp(data(CT_REQ, 7)),  # one whole DATA chunk
        sctp(data(CT_REQ, 7)),  # its retransmission
        sctp(data(CT_REQ, 8, ppi=99), sport=1, dport=2),  # not CXTP by port or PPI, but by its header
        sctp(data(b"not cxtp at all", 9), sport=1, dport=2),  # not CXTP at all
        sctp(SCTPChunkSACK()),  # no DATA
        sctp(SCTPChunkInit()),
        sctp(data(CTD[:100], 10, e=0), data(CTD[100:], 11, b=0)),  # two chunks: the general walk
        sctp(data(CTD[:100], 12, e=0)),  # a first fragment alone
        sctp(data(CTD[100:], 13, b=0)),  # and a last
    ]
    frames = [bytes(Ether(**MAC) / IPv6(src=NMAG, dst=PMAG, hlim=hop) / seg)
              for seg in segments for hop in (64, 255)]
    for hop in (64, 64, 1):
        frames.append(bytes(Ether(**MAC) / IPv6(src=NMAG, dst=PMAG, nh=135, hlim=hop) / mh))
    frames.append(bytes(Ether(**MAC) / IPv6(src=NMAG, dst=PMAG, nh=60) / IPv6ExtHdrDestOpt(nh=135) / mh))
    whole = frames[0]
    frames.append(whole[:-4])  # cut short: the IPv6 payload length runs past the frame
    frames.append(whole[:14 + 4] + b"\0\0" + whole[20:])  # payload length 0 (a TSO capture)
    frames.append(whole[:50])  # not even a whole IPv6 header
    mh_frame = frames[len(segments) * 2]
    frames.append(mh_frame[:14 + 4] + b"\0\0" + mh_frame[20:])
    frames.append(mh_frame[:-3])
    fast, general = run(frames), _general(frames)
    assert _as_records(fast) == _as_records(general)
    assert sum(isinstance(i, Carried) and i.transport == "sctp" for i in fast) >= 6
    assert sum(isinstance(i, Carried) and i.transport == "mh" for i in fast) >= 4


def test_one_chunk_packets_give_the_chunk_walks_messages():
    """A trailing chunk of an unknown type (skipped) sends the same packet through the general walk."""
    unknown = bytes([0xC1, 0, 0, 4])
    packets = [bytes(sctp(data(CT_REQ, 7))), bytes(sctp(data(CT_REQ, 7))), bytes(sctp(data(CT_REQ, 8, u=1))),
               bytes(sctp(data(CT_REQ, 9), sport=1, dport=2)), bytes(sctp(data(b"xyz", 10), sport=1, dport=2)),
               bytes(sctp(data(b"xyz", 11, ppi=77), sport=1, dport=2)), bytes(sctp(SCTPChunkSACK()))]
    addrs = (bytes(16), bytes(15) + b"\1")
    one, walked = SctpAssembler(frozenset({77}), frozenset({5000})), SctpAssembler(frozenset({77}), frozenset({5000}))
    for i, packet in enumerate(packets, 1):
        a, b = one.packet("f", i, addrs, packet), walked.packet("f", i, addrs, packet + unknown)
        assert (list(a[0]), list(a[1])) == (list(b[0]), list(b[1]))
