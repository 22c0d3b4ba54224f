"""The scapy-only baseline: dissect every frame with scapy and look for a mobility header or SCTP.

    python bench/scapy_baseline.py FILE [LIMIT]

Prints the frames read and the frames that hold a mobility header or SCTP (stock scapy layers:
nothing of pmipct_check is imported, so this is what a plain scapy script costs).
"""

from __future__ import annotations

import sys

from scapy.layers.inet6 import _MobilityHeader
from scapy.layers.sctp import SCTP
from scapy.utils import PcapReader


def main(path: str, limit: int = 0) -> tuple[int, int]:
    seen = found = 0
    with PcapReader(path) as reader:
        for packet in reader:
            seen += 1
            layer = packet
            while layer:  # every layer scapy dissected, outermost first (NoPayload ends it)
                if isinstance(layer, (_MobilityHeader, SCTP)):
                    found += 1
                    break
                layer = layer.payload
            if seen == limit:
                break
    return seen, found


if __name__ == "__main__":
    frames, hits = main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(frames, hits)
