"""What the decode stage hands on: one record per signalling message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from itertools import repeat
from typing import Any, Literal

from ..notices import Notice

Protocol = Literal["pmipv6", "mipv6", "fmipv6", "cxtp", "nd"]


#: Carried.info keys worth showing in a record (the rest are the decoder's own inputs).
CARRIER_KEYS = frozenset(
    {"ip_version", "hop_limit", "sport", "dport", "ppi", "stream", "tsn", "ssn", "unordered", "vtag",
     "checksum_ok", "code", "subtype"}
)


def epoch_text(time_ns: int) -> str:
    """Epoch seconds with all nine decimals: floats cannot hold them, so text it is."""
    sign = "-" if time_ns < 0 else ""
    seconds, nanos = divmod(abs(time_ns), 1_000_000_000)
    return f"{sign}{seconds}.{nanos:09d}"


@lru_cache(maxsize=4096)
def _layout(keys: tuple[object, ...]) -> Mapping[str, tuple[int, ...]]:
    """Option key -> its positions in a message's option list, for one sequence of keys.

    Messages of one kind carry their options in few orders, so every message with the same
    sequence shares one (read-only) mapping: the index costs a message no memory of its own.
    Entries whose key is no text (no option record, a damaged one) are never looked up.
    """
    index: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if isinstance(key, str):
            index.setdefault(key, []).append(position)
    return {key: tuple(positions) for key, positions in index.items()}


def _key_of(entry: object) -> str | None:
    key = entry.get("key") if isinstance(entry, dict) else None
    return key if isinstance(key, str) else None


def options_layout(found: list[Any]) -> Mapping[str, tuple[int, ...]]:
    """Option key -> positions in ``found`` (an options list): what ``Message.option_index`` holds.

    One shared, read-only mapping per sequence of keys.  The layout decoders set it on the
    messages they build (their shape fixes the sequence); ``analysis.evidence`` makes it on
    first use for the others.
    """
    try:  # every entry an option record: the keys in one C-level pass
        return _layout(tuple(map(dict.get, found, repeat("key", len(found)))))
    except TypeError:  # a damaged record: an entry that is no dict, or an unhashable key
        return _layout(tuple(map(_key_of, found)))


@dataclass(slots=True)
class Message:
    """A decoded mobility-header or CXTP message with every field, typed and named.

    ``fields`` maps field names to JSON-ready values (int, str, bool, list, dict).  Options
    are ``fields["options"]``, a list of dicts with ``type``, ``name``, ``key``, ``length``
    and the option's own fields.  Problems found while decoding are ``warnings``.
    """

    file: str
    frame: int
    time_ns: int
    src: str
    dst: str
    protocol: Protocol
    type: str  # PBU, PBA, BU, BA, HI, HAck, BRI, BRA, HB, CTD, CT-Req, ... (see README)
    fields: dict[str, Any]
    transport: str = "mh"
    frames: tuple[int, ...] = ()  # the frames an SCTP-reassembled message spans; () for its own frame alone
    warnings: tuple[Notice, ...] = ()
    observations: tuple[tuple[str, int], ...] = field(default=())  # (file, frame) per tap
    #: option key -> positions in fields["options"] (:func:`options_layout`), set by the layout decoders
    #: or made on first use by analysis.evidence.options
    #: (the rules ask a message for its options ~20 times); one read-only mapping shared by every
    #: message with the same sequence of option keys; not part of the record's value.
    option_index: Mapping[str, tuple[int, ...]] | None = field(default=None, compare=False, repr=False)
    #: what the capture stage knew of the carrier (Carried.info: SCTP ports/PPI/stream/U bit, UDP
    #: ports, IP hop limit, tunnel layers); rules such as CXTP-C5/C6/C7 judge the transport by it.
    info: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def time(self) -> Decimal:
        return Decimal(epoch_text(self.time_ns))

    def to_json(self) -> dict[str, Any]:
        """The documented JSON record; ``time`` is a Decimal, see report.jsonfmt for output."""
        record: dict[str, Any] = {
            "file": self.file,
            "frame": self.frame,
            "time": self.time,
            "src": self.src,
            "dst": self.dst,
            "protocol": self.protocol,
            "type": self.type,
            "transport": self.transport,
            "fields": self.fields,
            "warnings": [w.to_json() for w in self.warnings],
        }
        if self.frames and self.frames != (self.frame,):
            record["frames"] = list(self.frames)
        if self.observations:
            record["observations"] = [{"file": f, "frame": n} for f, n in self.observations]
        carrier = {k: v for k, v in self.info.items() if isinstance(v, (bool, int, str)) and k in CARRIER_KEYS}
        if carrier:
            record["carrier"] = carrier
        return record
