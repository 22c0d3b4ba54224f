"""Benchmark captures: seeded, made with the project's synthesizer and capture writer.

* The signalling pool: batches of built-in handover scenarios (all nine, in turn), each with
  ``MNS_PER_BATCH`` MNs of their own identities (NAI, HNP, link-layer id) and a base time
  ``BATCH_SPACING_S`` after the previous batch, so the batches follow each other in time and
  no two MNs are the same.  Batches are built in worker processes (scapy builds them slowly).
* The pure-signalling capture is the first N frames of the pool.
* The mixed capture takes 1 % of its frames from the pool and fills the rest with user plane:
  IPv6-in-IPv6 between the LMA and the MAGs (inner CN <-> MN home address, UDP), spread
  evenly over the pool's time span, merged by time.  Frames are written one at a time, so
  making a 10M-frame capture needs no more memory than making a small one.
"""

from __future__ import annotations

import heapq
import os
import random
import struct
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pmipct_check.capture import CaptureWriter, frame_ip, iter_records
from pmipct_check.capture.link import LINKTYPE_ETHERNET
from pmipct_check.synth import BUILTINS, build, builtin_scenario
from pmipct_check.synth.output import node_mac
from pmipct_check.synth.scenario import MobileNode

MNS_PER_BATCH = 200  # the synthesizer's --mns maximum
BATCH_SPACING_S = 3  # a 200-MN batch spans about 2.4 s
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
SCENARIOS = tuple(BUILTINS)
USER_PAYLOADS = (32, 64, 200, 512)  # octets of inner UDP payload, chosen per packet (seeded)
USER_PORT = 40000
CN_ADDRESS = "2001:db8:cafe::1"
IPPROTO_IPV6, IPPROTO_UDP = 41, 17

Frame = tuple[int, bytes]  # (time_ns, link-layer frame)


def batch_mns(batch: int, mns: int = MNS_PER_BATCH) -> tuple[MobileNode, ...]:
    """MN identities of one batch: names mn1.. (the built-in steps use them), all else unique."""
    return tuple(
        MobileNode(f"mn{i}", f"b{batch}-mn{i}@bench.example", f"2001:db8:{batch + 1:x}:{i:x}::/64",
                   f"02:00:{batch >> 8:02x}:{batch & 255:02x}:00:{i:02x}",
                   f"10.{batch % 250}.{i // 250}.{i % 250 + 1}")
        for i in range(1, mns + 1)
    )


def build_batch(batch: int, seed: int, mns: int = MNS_PER_BATCH) -> list[Frame]:
    """The frames of one batch (no user plane), Ethernet framed, in time order."""
    name = SCENARIOS[batch % len(SCENARIOS)]
    sc = builtin_scenario(name, mns)
    start = BASE_TIME + timedelta(seconds=batch * BATCH_SPACING_S)
    sc = replace(sc, mns=batch_mns(batch, mns), traffic_interval_ms=0.0,
                 base_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    trace = build(sc, seed * 100_003 + batch)
    macs = {n.name: node_mac(n.name, n.mac) for n in sc.nodes}
    return [(f.time_ns, frame_ip(f.ip, LINKTYPE_ETHERNET, src_mac=macs[f.src], dst_mac=macs[f.dst]))
            for f in trace.frames]


def _build_args(args: tuple[int, int, int]) -> list[Frame]:
    return build_batch(*args)


def write_signalling(path: str, frames: int, seed: int, workers: int | None = None,
                     mns: int = MNS_PER_BATCH) -> int:
    """Write the first ``frames`` frames of the signalling pool to ``path`` (pcapng)."""
    written = 0
    tmp = path + ".part"
    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    with CaptureWriter(tmp, fmt="pcapng") as writer, ExitStack() as stack:
        mapper = map if workers == 1 else stack.enter_context(ProcessPoolExecutor(workers)).map
        batch = 0
        while written < frames:
            # A window of batches at a time: enough to keep the workers busy, few in memory.
            window = [(b, seed, mns) for b in range(batch, batch + workers)]
            for frames_of_batch in mapper(_build_args, window):
                for time_ns, data in frames_of_batch[: frames - written]:
                    writer.write(time_ns, data)
                    written += 1
            batch += workers
    os.replace(tmp, path)
    return written


def read_frames(path: str, limit: int) -> Iterator[Frame]:
    """The first ``limit`` frames of a capture written by :func:`write_signalling`."""
    for count, record in enumerate(iter_records(path)):
        if type(record) is not tuple:
            raise RuntimeError(f"{path}: {record}")
        if count == limit:
            return
        yield record[1], record[3]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv6(src: str, dst: str, nh: int, payload: bytes, hlim: int) -> bytes:
    import ipaddress

    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, hlim) + s + d + payload


def _user_frame(outer: tuple[str, str], macs: tuple[bytes, bytes], inner: tuple[str, str], size: int,
                ) -> bytes:
    import ipaddress

    body = bytes(size)
    src, dst = (ipaddress.IPv6Address(a).packed for a in inner)
    pseudo = src + dst + struct.pack("!I3xB", 8 + size, IPPROTO_UDP)
    udp = struct.pack("!HHHH", USER_PORT, USER_PORT, 8 + size, 0) + body
    csum = _checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = _ipv6(*outer, IPPROTO_IPV6, _ipv6(*inner, IPPROTO_UDP, udp, 63), 64)
    return frame_ip(ip, LINKTYPE_ETHERNET, src_mac=macs[0], dst_mac=macs[1])


def user_plane_templates() -> list[bytes]:
    """Every user-plane frame shape: per MN of batch 0, per direction, per size.

    Each MN's flows stay in one tunnel (mag1 or mag2 by the MN's number): a flow whose tunnel
    flapped from packet to packet would be a path switch per packet, which no network shows.
    """
    sc = builtin_scenario(SCENARIOS[0], 1)
    lma = sc.lma
    mags = [n for n in sc.nodes if n.role == "mag"][:2]
    mac = {n.name: node_mac(n.name, n.mac) for n in sc.nodes}
    out = []
    for i, mn in enumerate(batch_mns(0)):
        for mag in (mags[i % 2],):
            for size in USER_PAYLOADS:
                out.append(_user_frame((lma.ipv6, mag.ipv6), (mac[lma.name], mac[mag.name]),
                                       (CN_ADDRESS, mn.home_address), size))
                out.append(_user_frame((mag.ipv6, lma.ipv6), (mac[mag.name], mac[lma.name]),
                                       (mn.home_address, CN_ADDRESS), size))
    return out


def write_mixed(path: str, frames: int, pool: str, seed: int, share: float = 0.01) -> tuple[int, int]:
    """Write a mixed capture: ``share`` of it signalling from ``pool``, the rest user plane.

    Returns (frames written, signalling frames among them).
    """
    signalling = max(1, round(frames * share))
    sig = list(read_frames(pool, signalling))  # at most 1 % of the capture: small
    if len(sig) < signalling:
        raise RuntimeError(f"{pool}: {len(sig)} frames, {signalling} needed")
    user = frames - signalling
    t0, t1 = sig[0][0], sig[-1][0]
    rng = random.Random(seed)
    templates = user_plane_templates()
    step = (t1 - t0) / max(user, 1)

    def user_plane() -> Iterator[Frame]:
        pick = rng.randrange
        n = len(templates)
        for i in range(user):
            yield t0 + int(i * step) + 1, templates[pick(n)]

    tmp = path + ".part"
    written = 0
    with CaptureWriter(tmp, fmt="pcapng") as writer:
        write = writer.write
        for time_ns, data in heapq.merge(sig, user_plane(), key=lambda f: f[0]):
            write(time_ns, data)
            written += 1
    os.replace(tmp, path)
    return written, signalling
