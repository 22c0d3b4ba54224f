"""``--jobs N``: read and extract many capture files in worker processes, one file per task.

Reading a capture is the part that grows with its size (every frame is looked at; only the
signalling is kept), so that is what the workers do: each returns its file's signalling
payloads and notices (:class:`Extracted`, small and picklable) and its frame count.  The
parent then does exactly what a one-process run does with them, in the order of the paths
given, whichever worker finishes first: the output is the same for any ``jobs``.

Public API::

    extract_files(paths, profile, jobs, *, track_user_plane=False, on_done=None) -> list[Extracted]
    replay(extracted, frame_counts=None) -> Iterator[Item]
    plan_taps_from(extracted, given=None, window_ns=None) -> taps.TapPlan
    tap_stream_from(extracted, profile, plan, frame_counts=None) -> Iterator[Message | Notice | Tunnelled]

Several files are taps of one domain (:mod:`.taps`): the plan and the merged stream are made
from the extracted items exactly as ``taps.plan_taps`` / ``taps.tap_stream`` make them from the
files, which also spares the second read of every file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .capture.extract import Item, iter_file
from .profile import DEFAULT_PROFILE, Profile

if TYPE_CHECKING:
    from .capture.clock import TapLog
    from .capture.model import Tunnelled
    from .decode.model import Message
    from .notices import Notice
    from .taps import TapPlan


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one capture file carries: its items in frame order, and how many frames it has."""

    path: str
    items: tuple[Item, ...]
    frames: int


def extract_file(path: str, profile: Profile = DEFAULT_PROFILE, track_user_plane: bool = False) -> Extracted:
    """One file's :func:`capture.extract.iter_file` output, kept (the worker's task)."""
    counts: dict[str, int] = {}
    items = tuple(iter_file(path, profile, track_user_plane=track_user_plane, frame_counts=counts))
    return Extracted(path, items, counts.get(path, 0))


def default_jobs() -> int:
    """The processors this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def extract_files(paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, jobs: int = 1, *,
                  track_user_plane: bool = False,
                  on_done: Callable[[str], None] | None = None) -> list[Extracted]:
    """:func:`extract_file` of every path, ``jobs`` at a time, returned in the order of ``paths``.

    ``jobs`` <= 1 (or a single file) reads in this process.  ``on_done(path)`` is called in this
    process as each file is finished, for a progress display.
    """
    if jobs <= 1 or len(paths) <= 1:
        out = []
        for path in paths:
            out.append(extract_file(path, profile, track_user_plane))
            if on_done is not None:
                on_done(path)
        return out
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        futures = [pool.submit(extract_file, path, profile, track_user_plane) for path in paths]
        if on_done is not None:
            for path, future in zip(paths, futures, strict=True):
                future.add_done_callback(lambda _f, p=path: on_done(p))
        return [future.result() for future in futures]


def replay(extracted: Extracted, frame_counts: dict[str, int] | None = None) -> Iterator[Item]:
    """The file's items as :func:`capture.extract.iter_file` yielded them, ``frame_counts`` set the same."""
    yield from extracted.items
    if frame_counts is not None:
        frame_counts[extracted.path] = extracted.frames


# -- several files as taps of one domain (pmipct_check.taps), from what the workers extracted -------


def tap_logs(extracted: Sequence[Extracted]) -> list[TapLog]:
    """Each file's :class:`capture.clock.TapLog`, as ``clock.collect`` would make it, without a re-read."""
    from .capture.clock import TapLog
    from .capture.model import Carried

    logs = []
    for ex in extracted:
        log = TapLog(ex.path)
        for item in ex.items:
            if isinstance(item, Carried):
                log.add(item)
        logs.append(log)
    return logs


def plan_taps_from(extracted: Sequence[Extracted], given: Mapping[str, int] | None = None,
                   window_ns: int | None = None) -> TapPlan:
    """:func:`taps.plan_taps` over already extracted files (the same plan, no first pass)."""
    from .taps import DEFAULT_WINDOW_NS, TapPlan, plan_taps, resolve_files

    paths = [ex.path for ex in extracted]
    window = DEFAULT_WINDOW_NS if window_ns is None else window_ns
    resolved = resolve_files(paths, given or {})
    if len(paths) - len(resolved) <= (0 if resolved else 1):  # plan_taps reads nothing then either
        return plan_taps(paths, given=given, window_ns=window)
    from .capture.clock import estimate_offsets

    logs = tap_logs(extracted)
    return TapPlan(estimate_offsets(logs, resolved), {log.file: log.own for log in logs}, window)


def tap_stream_from(extracted: Sequence[Extracted], profile: Profile, plan: TapPlan,
                    frame_counts: dict[str, int] | None = None) -> Iterator[Message | Notice | Tunnelled]:
    """:func:`taps.tap_stream` over already extracted files: merged, de-duplicated, decoded."""
    from .capture.merge import merge_items
    from .taps import Sighted, decode_sighted, dedup

    offsets = plan.offsets
    merged = merge_items([ex.items for ex in extracted], [offsets.get(ex.path, 0) for ex in extracted])
    memo: dict = {}
    for item in dedup(merged, plan.window_ns):
        if isinstance(item, Sighted):
            yield decode_sighted(item, profile, plan.own, memo)
        else:
            yield item
    if frame_counts is not None:
        for ex in extracted:
            frame_counts[ex.path] = ex.frames
