"""The progress bar: only on a terminal, never with --quiet, and it follows the reading."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from pmipct_check.progress import ReadProgress, open_offsets, track, wanted

CAPTURE = str(Path(__file__).resolve().parent.parent / "captures" / "reactive-1.pcapng")
linux_proc = pytest.mark.skipif(not os.path.isdir(f"/proc/{os.getpid()}/fdinfo"), reason="needs /proc")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_wanted_only_on_a_terminal_and_not_quiet():
    assert wanted(False, _Tty())
    assert not wanted(True, _Tty())
    assert not wanted(False, io.StringIO())  # a pipe or a file
    closed = io.StringIO()
    closed.close()
    assert not wanted(False, closed)


def test_track_follows_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not track([CAPTURE], quiet=False).enabled
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert track([CAPTURE], quiet=False).enabled
    assert not track([CAPTURE], quiet=True).enabled


@linux_proc
def test_open_offsets_sees_where_a_file_is_read(tmp_path):
    path = tmp_path / "cap.bin"
    path.write_bytes(bytes(10_000))
    index = {os.path.realpath(path): 0}
    with open(path, "rb", buffering=0) as f:
        f.read(4096)
        assert open_offsets([os.getpid()], index) == {0: 4096}
    assert open_offsets([os.getpid()], index) == {}


@linux_proc
def test_poll_counts_bytes_and_a_closed_file_as_read(tmp_path):
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(bytes(1000))
    b.write_bytes(bytes(3000))
    bar = ReadProgress([str(a), str(b)], enabled=False)
    assert bar.total == 4000 and bar.completed() == 0
    with open(a, "rb", buffering=0) as f:
        f.read(600)
        bar.poll()
        assert bar.completed() == 600
    bar.poll()  # a was seen open, now closed: read to its end
    assert bar.completed() == 1000
    bar.file_done(str(b))  # what a --jobs worker reports
    assert bar.completed() == 4000
    assert bar._describe() == "analysing"


def test_disabled_bar_draws_nothing_and_starts_no_thread():
    out = io.StringIO()
    with ReadProgress([CAPTURE], enabled=False, delay_s=0, console=Console(file=out, force_terminal=True)) as bar:
        assert bar._thread is None
    assert out.getvalue() == ""


def test_enabled_bar_draws_on_its_console_and_is_gone_after():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with ReadProgress([CAPTURE], enabled=True, delay_s=0, console=console) as bar, open(CAPTURE, "rb") as f:
        f.read(100)
        assert bar._thread is not None
        bar._stop.wait(0.5)  # let it draw at least once
    assert "reactive-1.pcapng" in out.getvalue() or "analysing" in out.getvalue()
    assert not bar._thread.is_alive()


def test_a_short_run_ends_before_the_bar_appears():
    out = io.StringIO()
    with ReadProgress([CAPTURE], enabled=True, delay_s=30, console=Console(file=out, force_terminal=True)):
        pass
    assert out.getvalue() == ""


def test_check_in_a_pipe_prints_no_bar():
    import subprocess

    code = "import sys; from pmipct_check.cli import main; sys.argv[0] = 'pmipct-check'; main()"
    for args in (["--format", "json"], ["--quiet"]):
        run = subprocess.run([sys.executable, "-c", code, "check", *args, CAPTURE], capture_output=True,
                             text=True, check=False)
        assert run.returncode in (0, 1), run.stderr
        assert run.stderr == ""
    assert run.stdout == ""  # --quiet
