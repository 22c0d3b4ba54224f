"""The stages wired in their one direction: files -> frames -> messages -> handovers -> results.

Commands call these two functions; nothing here knows about terminals or output formats.
Only signalling is kept in memory: the capture stage drops user plane frame by frame.
Notices are kept up to ``MAX_NOTICES_PER_CODE`` per file and code (a capture whose every frame
is broken must not keep a million of them); the rest are counted in one ``notice.limit``
warning.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .capture import Carried, PathSwitch, Tunnelled, iter_carried
from .collector import paused
from .decode import Message, decode_carried, decode_stream
from .notices import Notice
from .profile import DEFAULT_PROFILE, Profile
from .rules.model import CheckResult, InputInfo

if TYPE_CHECKING:
    from .events import Event
    from .parallel import Extracted
    from .taps import TapPlan


#: Notices of one code kept per file by check_files; beyond it they are counted, not kept.
MAX_NOTICES_PER_CODE = 1000
#: check_files freezes what it has kept every this many messages (see _kept_out_of_gc).
GC_FREEZE_EVERY = 5000


@dataclass(slots=True)
class InputTally:
    """Per-file counts gathered while streaming, for the report's inputs section."""

    frames: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    notices: dict[str, int] = field(default_factory=dict)
    unusable: set[str] = field(default_factory=set)

    def infos(self, paths: Sequence[str]) -> tuple[InputInfo, ...]:
        return tuple(
            InputInfo(p, self.frames.get(p, 0), self.messages.get(p, 0), self.notices.get(p, 0),
                      p not in self.unusable)
            for p in paths
        )


def decode_files(
    paths: Iterable[str], profile: Profile = DEFAULT_PROFILE, *, tally: InputTally | None = None,
    track_user_plane: bool = False, taps: TapPlan | None = None,
    extracted: Sequence[Extracted] | None = None,
) -> Iterator[Message | Notice | Tunnelled | PathSwitch]:
    """Every signalling message of the files (in file order, then frame order), with Notices.

    Tunnel path changes (:class:`capture.PathSwitch`) pass through in their place.

    ``extracted`` (one per path, from :func:`parallel.extract_files`, ``--jobs``) stands in for
    reading the files here; the result is the same.

    With ``taps`` the files are one view instead: merged in corrected time order, a packet seen
    at several taps one message with its observations (see :mod:`.taps`).
    A file that yields no frame and a file-level error is marked unusable in ``tally``.
    """
    tally = InputTally() if tally is None else tally
    if taps is not None:
        yield from _decode_taps(list(paths), profile, tally, track_user_plane, taps, extracted)
        return
    for index, path in enumerate(paths):
        tally.frames[path] = 0
        file_error = False
        if extracted is not None:
            from .parallel import replay

            items = replay(extracted[index], tally.frames)
        else:
            items = iter_carried([path], profile, track_user_plane=track_user_plane, frame_counts=tally.frames)
        # Counted in locals and added to the tally once the file is done (or the caller stops):
        # a dict update per message was ~0.3 us of the streaming glue.
        messages = notices = 0
        try:
            for item in decode_stream(items, profile):
                if isinstance(item, Message):  # most items: nothing else to look at
                    messages += 1
                else:
                    if isinstance(item, Carried):  # a transport decode_stream passes on: its record or Notice
                        item = decode_carried(item, profile)
                    if isinstance(item, Message):
                        messages += 1
                    elif isinstance(item, Notice):
                        notices += 1
                        file_error = file_error or (item.frame is None and item.severity == "error")
                yield item
        finally:
            _add(tally.messages, path, messages)
            _add(tally.notices, path, notices)
        if file_error and tally.frames[path] == 0:
            tally.unusable.add(path)


def _add(counts: dict[str, int], path: str, count: int) -> None:
    """``counts[path] += count``, no key made for a count of 0 (as a count per item would leave it)."""
    if count:
        counts[path] = counts.get(path, 0) + count


def check_files(
    paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, select: Sequence[str] = (),
    ignore: Sequence[str] = (), severity_overrides: Mapping[str, str] | None = None,
    *, clock_offsets: Mapping[str, int] | None = None, events: Sequence[Event] = (),
    taps: TapPlan | None = None, extracted: Sequence[Extracted] | None = None,
    window_ns: int | None = None, on_read: Callable[[str], None] | None = None,
) -> CheckResult:
    """Decode, analyse and judge the captures: the one result every renderer reads.

    Several files are taps of one domain: merged, de-duplicated and clock-corrected (``taps``,
    else planned here from ``clock_offsets`` and a first pass).  ``events`` (an event log) add
    what no capture shows.  ``extracted``: the files already read (``--jobs``).  ``window_ns``:
    sightings at several taps this close are one packet (default ``taps.DEFAULT_WINDOW_NS``).  ``on_read(path)``: a file's first pass
    is done (for a progress display).  Raises
    ``rules.selection.SelectionError`` for an unknown rule id in select/ignore, ValueError for a
    clock offset of a file not given.
    """
    from .analysis import analyze
    from .analysis.datapath import with_interruptions
    from .rules.engine import load_rules, run_rules
    from .rules.selection import select_rules
    from .taps import (
        DEFAULT_WINDOW_NS,
        needs_first_pass,
        plan_from_logs,
        plan_taps,
        resolve_files,
        with_access,
    )

    catalogue = load_rules()  # parsed once per run: select_rules and run_rules both read it
    select_rules(catalogue, select, ignore)  # fail on a bad --select before reading gigabytes
    if taps is None and (len(paths) > 1 or clock_offsets):
        given = resolve_files(paths, clock_offsets or {})  # a ValueError before any file is read
        window_ns = DEFAULT_WINDOW_NS if window_ns is None else window_ns
        if extracted is not None:
            from .parallel import plan_taps_from

            taps = plan_taps_from(extracted, given, window_ns)
        elif needs_first_pass(len(paths), len(given)):
            from .parallel import first_pass

            # One read plans the taps and, unless they hold too much signalling to keep, is all the
            # reading there is: the merged pass replays it instead of reading every file again.
            logs, extracted = first_pass(paths, profile, on_done=on_read)
            taps = plan_from_logs(logs, given, window_ns)
            del logs  # every signalling packet's digest: not to be held while the files are checked
        else:
            taps = plan_taps(paths, profile, given, window_ns)
    tally = InputTally()
    messages: list[Message] = []
    notices: list[Notice] = []
    switches: list[PathSwitch] = []  # tunnel path changes per prefix: the data-path interruption
    per_code: dict[tuple[str, str], int] = {}
    with _kept_out_of_gc() as kept, paused():  # both: see _kept_out_of_gc
        for item in decode_files(paths, profile, tally=tally, taps=taps, extracted=extracted):
            if isinstance(item, Message):
                messages.append(item)
                if len(messages) % GC_FREEZE_EVERY == 0:
                    kept()
            elif isinstance(item, Notice):
                seen = per_code[item.file, item.code] = per_code.get((item.file, item.code), 0) + 1
                if seen <= MAX_NOTICES_PER_CODE:
                    notices.append(item)
            elif isinstance(item, PathSwitch):
                switches.append(item)
        extracted = None  # the payloads read here are decoded: let them go before the analysis
        notices += [Notice("notice.limit", f"{seen - MAX_NOTICES_PER_CODE} more {code} notices not kept "
                           f"(bound: {MAX_NOTICES_PER_CODE} per file and code)", file=file, severity="warning")
                    for (file, code), seen in per_code.items() if seen > MAX_NOTICES_PER_CODE]
        analysis = with_access(analyze(messages, profile), events, profile)
        analysis = with_interruptions(analysis, switches, profile)
        kept()  # the handovers, too, live to the end of the run
        result = run_rules(analysis, notices, profile, select, ignore, severity_overrides,
                           catalogue=catalogue, inputs=tally.infos(paths))
        kept()
    return replace(result, clocks=taps.clocks if taps else (), events=tuple(events))


@contextmanager
def _kept_out_of_gc() -> Iterator[Callable[[], None]]:
    """Yields a function that moves every object alive now out of the cyclic GC's sight.

    The records check_files keeps (messages, then handovers) are acyclic and live to the end of
    the run, yet every full collection walked all of them again: ~18 % of the decode stage on
    84k messages.  Freezing
    (``gc.freeze``) what is kept so far stops that; everything is unfrozen on the way out.
    Left alone when the caller has frozen objects of its own.

    check_files also holds the collector (``collector.paused``) for the whole run: even young
    collections walked each new record once, for nothing (~90 ms of 2.4 s on the 100k-frame
    bench, 0 objects found).  The stages make no cyclic garbage per message, only per file (a
    stream's memos), which is collected once the run is over; a test holds them to that.
    """
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _decode_taps(paths: list[str], profile: Profile, tally: InputTally, track_user_plane: bool,
                 taps: TapPlan, extracted: Sequence[Extracted] | None = None,
                 ) -> Iterator[Message | Notice | Tunnelled]:
    from .taps import tap_stream

    for path in paths:
        tally.frames[path] = 0
    failed: set[str] = set()
    if extracted is not None:
        from .parallel import tap_stream_from

        stream = tap_stream_from(extracted, profile, taps, tally.frames)
    else:
        stream = tap_stream(paths, profile, taps.offsets, window_ns=taps.window_ns, own=taps.own,
                            track_user_plane=track_user_plane, frame_counts=tally.frames)
    for item in stream:
        if isinstance(item, Message):
            for file in dict.fromkeys(f for f, _ in (item.observations or ((item.file, item.frame),))):
                tally.messages[file] = tally.messages.get(file, 0) + 1
        elif isinstance(item, Notice) and item.file:
            tally.notices[item.file] = tally.notices.get(item.file, 0) + 1
            if item.frame is None and item.severity == "error":
                failed.add(item.file)
        yield item
    tally.unusable.update(p for p in failed if tally.frames.get(p, 0) == 0)
