"""``--jobs N``: read and extract many capture files in worker processes, one file per task.

Reading a capture is the part that grows with its size (every frame is looked at; only the
signalling is kept), so that is what the workers do: each returns its file's signalling
payloads and notices (:class:`Extracted`, small and picklable) and its frame count.  The
parent then does exactly what a one-process run does with them, in the order of the paths
given, whichever worker finishes first: the output is the same for any ``jobs``.

Public API::

    extract_files(paths, profile, jobs, *, track_user_plane=False, on_done=None) -> list[Extracted]
    first_pass(paths, profile, limit=None, on_done=None) -> (logs, list[Extracted] | None)
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
    from .taps import DEFAULT_WINDOW_NS, needs_first_pass, plan_from_logs, plan_taps, resolve_files

    paths = [ex.path for ex in extracted]
    window = DEFAULT_WINDOW_NS if window_ns is None else window_ns
    resolved = resolve_files(paths, given or {})
    if not needs_first_pass(len(paths), len(resolved)):  # plan_taps reads nothing then either
        return plan_taps(paths, given=given, window_ns=window)
    return plan_from_logs(tap_logs(extracted), resolved, window)


#: Signalling items a one-process first pass over several files keeps, so as not to read them again.
KEEP_LIMIT = 50_000


def first_pass(paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, limit: int | None = None,
               on_done: Callable[[str], None] | None = None) -> tuple[list[TapLog], list[Extracted] | None]:
    """One read of every file: its :class:`capture.clock.TapLog` (what planning the taps needs),
    and what :func:`extract_files` would return while the files hold at most ``limit`` items
    (default :data:`KEEP_LIMIT`).

    Taps that are mostly user plane are then read once instead of twice (the plan's first pass,
    then the merged pass).  Past ``limit`` the items are let go (None) and the caller streams the
    files a second time: a pure-signalling load test keeps its memory, not two copies of it.
    """
    from .capture.clock import TapLog
    from .capture.model import Carried

    limit = KEEP_LIMIT if limit is None else limit
    logs: list[TapLog] = []
    kept: list[Extracted] | None = []
    held = 0
    for path in paths:
        log = TapLog(path)
        counts: dict[str, int] = {}
        items: list[Item] | None = [] if kept is not None else None
        for item in iter_file(path, profile, frame_counts=counts):
            if isinstance(item, Carried):
                log.add(item)
            if items is not None:
                items.append(item)
                held += 1
                if held > limit:
                    items = kept = None  # too much signalling to hold: the files will be read again
        logs.append(log)
        if kept is not None and items is not None:
            kept.append(Extracted(path, tuple(items), counts.get(path, 0)))
        if on_done is not None:
            on_done(path)
    return logs, kept


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
