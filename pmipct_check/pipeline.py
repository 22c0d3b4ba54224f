"""The stages wired in their one direction: files -> frames -> messages -> handovers -> results.

Commands call these two functions; nothing here knows about terminals or output formats.
Only signalling is kept in memory: the capture stage drops user plane frame by frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from .capture import Tunnelled, iter_carried
from .decode import Message, decode_stream
from .notices import Notice
from .profile import DEFAULT_PROFILE, Profile
from .rules.model import CheckResult, InputInfo


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
    track_user_plane: bool = False,
) -> Iterator[Message | Notice | Tunnelled]:
    """Every signalling message of the files (in file order, then frame order), with Notices.

    A file that yields no frame and a file-level error is marked unusable in ``tally``.
    """
    tally = InputTally() if tally is None else tally
    for path in paths:
        tally.frames[path] = 0
        file_error = False
        stream = decode_stream(
            iter_carried([path], profile, track_user_plane=track_user_plane, frame_counts=tally.frames),
            profile,
        )
        for item in stream:
            if isinstance(item, Message):
                tally.messages[path] = tally.messages.get(path, 0) + 1
            elif isinstance(item, Notice):
                tally.notices[path] = tally.notices.get(path, 0) + 1
                file_error = file_error or (item.frame is None and item.severity == "error")
            yield item
        if file_error and tally.frames[path] == 0:
            tally.unusable.add(path)


def check_files(
    paths: Sequence[str], profile: Profile = DEFAULT_PROFILE, select: Sequence[str] = (),
    ignore: Sequence[str] = (), severity_overrides: Mapping[str, str] | None = None,
) -> CheckResult:
    """Decode, analyse and judge the captures: the one result every renderer reads.

    Raises ``rules.selection.SelectionError`` for an unknown rule id in select/ignore.
    """
    from .analysis import analyze
    from .rules.engine import load_rules, run_rules
    from .rules.selection import select_rules

    select_rules(load_rules(), select, ignore)  # fail on a bad --select before reading gigabytes
    tally = InputTally()
    messages: list[Message] = []
    notices: list[Notice] = []
    for item in decode_files(paths, profile, tally=tally):
        if isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, Notice):
            notices.append(item)
    analysis = analyze(messages, profile)
    return run_rules(analysis, notices, profile, select, ignore, severity_overrides,
                     inputs=tally.infos(paths))
