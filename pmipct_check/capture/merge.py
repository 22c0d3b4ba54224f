"""Several capture files as one stream in corrected time order: a heap over per-file iterators.

Memory is one pending item per file (``heapq.merge``), whatever the number or size of the
files.  Times are corrected by each file's clock offset (``clock``: corrected = time - offset).
A Notice has no time of its own: it sorts at the time of the item before it in its file, so a
file's notices stay where they happened.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace

from ..notices import Notice
from ..profile import DEFAULT_PROFILE, Profile
from .extract import Item, iter_file
from .readers import RawRecord, iter_records


def corrected(item: Item, offset_ns: int) -> Item:
    """The item with its time moved back by ``offset_ns`` (Notices unchanged)."""
    if offset_ns == 0 or isinstance(item, Notice):
        return item
    return replace(item, time_ns=item.time_ns - offset_ns)


def _keyed(items: Iterable[Item], offset_ns: int) -> Iterator[tuple[int, Item]]:
    last = -(1 << 62)
    for item in items:
        if isinstance(item, Notice):
            yield last, item
            continue
        item = corrected(item, offset_ns)
        last = item.time_ns
        yield last, item


def merge_items(streams: Sequence[Iterable[Item]], offsets: Sequence[int] | None = None) -> Iterator[Item]:
    """Items of several streams (one per file) by corrected time; ties keep the files' order."""
    offsets = offsets or [0] * len(streams)
    keyed = [_keyed(s, off) for s, off in zip(streams, offsets, strict=True)]
    for _, item in heapq.merge(*keyed, key=lambda pair: pair[0]):
        yield item


def iter_merged(paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, offsets: Mapping[str, int] | None = None,
                *, track_user_plane: bool = False, frame_counts: dict[str, int] | None = None) -> Iterator[Item]:
    """:func:`extract.iter_file` of every path, merged in corrected time order."""
    offsets = offsets or {}
    streams = [iter_file(p, profile, track_user_plane=track_user_plane, frame_counts=frame_counts) for p in paths]
    return merge_items(streams, [offsets.get(p, 0) for p in paths])


def _raw_keyed(index: int, records: Iterable[RawRecord | Notice], offset_ns: int
               ) -> Iterator[tuple[int, int, RawRecord | Notice]]:
    last = -(1 << 62)
    for record in records:
        if type(record) is tuple:
            last = record[1] - offset_ns
        yield last, index, record


def merge_records(paths: Sequence[str], offsets: Mapping[str, int] | None = None
                  ) -> Iterator[tuple[int, int, RawRecord | Notice]]:
    """(corrected time, file index, raw record or Notice) of every frame of every file, in time order.

    For rewriting frames (``pmipct-check merge``): nothing is decoded.
    """
    offsets = offsets or {}
    keyed = [_raw_keyed(i, iter_records(p), offsets.get(p, 0)) for i, p in enumerate(paths)]
    return heapq.merge(*keyed, key=lambda entry: entry[0])
