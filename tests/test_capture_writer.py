"""The capture writer: byte-identical output, and frames tshark reads as written."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

from pmipct_check.capture import CaptureWriter, Packet, frame_ip, read_packets

T0 = 1_700_000_000_987_654_321
IP6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2) / b"six")
IP4 = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1, dport=2) / b"four")


def write(path: Path, fmt: str, zipped: bool) -> bytes:
    with CaptureWriter(path, fmt, linktype=1, nanosecond=True, gzip=zipped) as writer:
        if fmt == "pcapng":
            second = writer.add_interface(113, name="mag1-eth0", nanosecond=True)
        else:
            second = writer.add_interface(1, nanosecond=True)
        writer.write(T0, frame_ip(IP6, 1, vlans=(10,)))
        writer.write(T0 + 1, frame_ip(IP4, 113 if fmt == "pcapng" else 1), interface=second)
        writer.write(T0 + 2, frame_ip(IP6, 1)[:30], orig_len=len(frame_ip(IP6, 1)))
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("zipped", [False, True])
def test_identical_calls_give_identical_bytes(tmp_path, fmt, zipped):
    first = write(tmp_path / "a", fmt, zipped)
    second = write(tmp_path / "b", fmt, zipped)
    assert first == second
    if zipped:
        assert first[:2] == b"\x1f\x8b" and first[3] == 0 and first[4:8] == b"\0\0\0\0"  # no name, mtime 0
        plain = gzip.decompress(first)
    else:
        plain = first
    assert b"mag1-eth0" in plain if fmt == "pcapng" else plain[:4] == bytes.fromhex("4d3cb2a1")
    packets = [p for p in read_packets(str(tmp_path / "a")) if isinstance(p, Packet)]
    assert [(p.time_ns, p.orig_len, len(p.data)) for p in packets] == [
        (T0, len(IP6) + 18, len(IP6) + 18), (T0 + 1, packets[1].orig_len, packets[1].orig_len),
        (T0 + 2, len(IP6) + 14, 30)]


def test_pcap_has_one_link_type(tmp_path):
    with CaptureWriter(tmp_path / "x.pcap", "pcap", linktype=101) as writer:
        assert writer.add_interface(101) == 0
        with pytest.raises(ValueError):
            writer.add_interface(1)
        with pytest.raises(ValueError):
            writer.write(0, b"", interface=1)
    with pytest.raises(ValueError):
        CaptureWriter(tmp_path / "y", "erf")
    with pytest.raises(ValueError):
        frame_ip(IP6, 113, vlans=(1,))
    with pytest.raises(ValueError):
        frame_ip(IP6, 147)


def test_every_framing_is_read_by_tshark_as_written(tmp_path, tshark):
    cases = [(1, (), IP6), (1, (100, 10), IP4), (1, (7,), IP6), (113, (), IP6), (276, (), IP4),
             (101, (), IP6), (228, (), IP4), (229, (), IP6), (0, (), IP6), (0, (), IP4), (108, (), IP6)]
    path = tmp_path / "framed.pcapng"
    with CaptureWriter(path, "pcapng", linktype=1) as writer:
        ids = {1: 0}
        for i, (linktype, vlans, ip) in enumerate(cases):
            if linktype not in ids:
                ids[linktype] = writer.add_interface(linktype)
            writer.write(T0 + i * 1000, frame_ip(ip, linktype, vlans=vlans), ids[linktype])
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "ipv6.dst", "-e", "ip.dst",
         "-e", "ieee8021ad.id", "-e", "vlan.id", "-e", "udp.dstport"],
        capture_output=True, text=True, check=True, timeout=60).stdout.splitlines()
    expected = []
    for _, vlans, ip in cases:
        dst6, dst4 = ("2001:db8::2", "") if ip is IP6 else ("", "192.0.2.2")
        outer = ",".join(map(str, vlans[:-1]))  # 802.1ad (0x88a8) tags
        expected.append(f"{dst6}/{dst4}/{outer}/{''.join(map(str, vlans[-1:]))}/2")
    assert ["/".join(line.split("\t")) for line in out] == expected
