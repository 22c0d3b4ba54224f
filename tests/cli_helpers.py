"""The console entry point as a user runs it, for tests that drive the CLI in-process."""

from __future__ import annotations

import sys

from pmipct_check.cli import cli
from pmipct_check.commands.common import run_cli


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``pmipct-check ARGS`` on a 120-column terminal: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["pmipct-check", *args])
    monkeypatch.setenv("COLUMNS", "120")
    code = run_cli(cli)
    out = capsys.readouterr()
    return code, out.out, out.err
