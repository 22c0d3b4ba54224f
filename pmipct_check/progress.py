"""A progress bar on stderr for long checks: how far into its capture files the reading is.

The reading loop is the hot path, so nothing is counted there: a background thread looks, a
few times a second, at the file offsets of the capture files this process (and its worker
processes, for ``--jobs``) has open, as Linux shows them in ``/proc/<pid>/fdinfo``.  Where
that is not available the bar advances file by file (:meth:`ReadProgress.file_done`).

Shown only when stderr is a terminal, never with ``--quiet``, and only once a run has lasted
``DELAY_S`` (a small capture finishes without a bar flickering by).  Rich draws it
``transient``: it is gone when the run ends, leaving stderr as it would be without it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TextIO

#: Seconds a run lasts before the bar appears.
DELAY_S = 1.0
#: Seconds between two looks at the offsets.
POLL_S = 0.2
_PROC = "/proc"


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to draw a bar: not quiet, and stderr (or ``stream``) is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux ``/proc/<pid>/task/*/children``)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"{_PROC}/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"{_PROC}/{pid}/task/{tid}/children", encoding="ascii") as f:
                out.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def open_offsets(pids: Iterable[int], files: dict[str, int]) -> dict[int, int]:
    """{file index: read offset} for the ``files`` ({real path: index}) the processes have open."""
    found: dict[int, int] = {}
    for pid in pids:
        base = f"{_PROC}/{pid}"
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                index = files.get(os.readlink(f"{base}/fd/{fd}"))
                if index is None:
                    continue
                with open(f"{base}/fdinfo/{fd}", encoding="ascii") as info:
                    pos = next((int(line.split()[1]) for line in info if line.startswith("pos:")), 0)
            except (OSError, ValueError, IndexError):
                continue
            found[index] = max(found.get(index, 0), pos)
    return found


class ReadProgress:
    """Context manager: a rich bar over the bytes of ``paths``, drawn only when ``enabled``."""

    def __init__(self, paths: Sequence[str], enabled: bool = True, *, delay_s: float = DELAY_S,
                 console: object | None = None) -> None:
        self.paths = list(paths)
        self.enabled = enabled
        self.delay_s = delay_s
        self._console = console
        self._sizes = [self._size(p) for p in self.paths]
        self._index = {os.path.realpath(p): i for i, p in enumerate(self.paths)}
        self._seen = [0] * len(self.paths)  # largest offset seen per file
        self._done = [False] * len(self.paths)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._phase = "reading"

    @staticmethod
    def _size(path: str) -> int:
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    # -- what the pipeline tells ---------------------------------------------------------------

    def file_done(self, path: str) -> None:
        """The file has been read to its end (for platforms without ``/proc``, and workers)."""
        with self._lock:
            for i, p in enumerate(self.paths):
                if p == path:
                    self._done[i] = True

    def phase(self, name: str) -> None:
        """What the run does now, once the files are read (e.g. "analysing")."""
        self._phase = name

    def completed(self) -> int:
        """Bytes read so far, as far as can be seen."""
        with self._lock:
            return sum(s if d else min(o, s) for o, s, d in zip(self._seen, self._sizes, self._done, strict=True))

    @property
    def total(self) -> int:
        return sum(self._sizes)

    def poll(self) -> None:
        """One look at the open files' offsets of this process and its children."""
        me = os.getpid()
        offsets = open_offsets([me, *_children(me)], self._index)
        with self._lock:
            for i in range(len(self.paths)):
                pos = offsets.get(i)
                if pos is None:
                    if self._seen[i]:  # was open, is closed: read to its end
                        self._done[i] = True
                elif self._done[i]:  # opened again (a second pass): start over
                    self._done[i], self._seen[i] = False, pos
                else:
                    self._seen[i] = max(self._seen[i], pos)

    # -- the bar ---------------------------------------------------------------------------------

    def __enter__(self) -> ReadProgress:
        if self.enabled and self.total:
            self._thread = threading.Thread(target=self._run, name="pmipct-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        if self._stop.wait(self.delay_s):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        console = self._console or Console(stderr=True)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:  # type: ignore[arg-type]
            task = bar.add_task(self._describe(), total=self.total)
            while True:
                self.poll()
                bar.update(task, completed=self.completed(), description=self._describe())
                if self._stop.wait(POLL_S):
                    return

    def _describe(self) -> str:
        with self._lock:
            done = sum(self._done)
        if self._phase != "reading" or done == len(self.paths):
            return self._phase if self._phase != "reading" else "analysing"
        if len(self.paths) == 1:
            return f"reading {os.path.basename(self.paths[0])}"
        return f"reading {done}/{len(self.paths)} files"


def track(paths: Sequence[str], quiet: bool) -> ReadProgress:
    """The bar for a check of ``paths``: enabled when stderr is a terminal and not ``quiet``."""
    return ReadProgress(paths, wanted(quiet))


def _demo() -> None:  # pragma: no cover - `python -m pmipct_check.progress FILE`: see it move
    with ReadProgress(sys.argv[1:], True, delay_s=0) as bar, open(sys.argv[1], "rb") as f:
        while f.read(1 << 16):
            time.sleep(0.001)
        bar.phase("done")
        time.sleep(0.5)


if __name__ == "__main__":  # pragma: no cover
    _demo()
