"""The capture stage: files -> frames -> the signalling payloads inside them.

``read_packets`` streams one pcap/pcapng(.gz) file; ``Extractor`` / ``iter_carried`` find mobility
headers, CXTP and (optionally) tunnelled user plane in the frames; ``CaptureWriter`` and
``frame_ip`` write captures deterministically.  Every problem is a ``Notice``, never an exception.
"""

from .extract import Extractor, iter_carried, iter_file
from .model import Carried, Packet, PathSwitch, Tunnelled
from .readers import iter_records, read_packets
from .writer import CaptureWriter, frame_ip

__all__ = [
    "CaptureWriter",
    "Carried",
    "Extractor",
    "Packet",
    "PathSwitch",
    "Tunnelled",
    "frame_ip",
    "iter_carried",
    "iter_file",
    "iter_records",
    "read_packets",
]
