"""The ``pmipct-check`` command: a thin click group that wires stages and renders.

Each sub-command lives in its own module under :mod:`pmipct_check.commands`; this file only
knows their names.  ``pmipct-check FILE...`` means ``pmipct-check check FILE...``.
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__

#: command name -> module under pmipct_check.commands defining a click command ``command``.
COMMANDS = {
    "check": "check",
    "decode": "decode",
    "rules": "rules",
    "explain": "explain",
    "profile": "profile",
    "synth": "synth",
    "export-lua": "lua",
    "ladder": "ladder",
    "report": "report",
    "merge": "merge",
}
DEFAULT_COMMAND = "check"


class _Group(click.Group):
    """Loads sub-commands on demand and routes ``pmipct-check FILE`` to ``check``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        try:
            return importlib.import_module(f"pmipct_check.commands.{module}").command
        except ModuleNotFoundError as exc:
            if exc.name == f"pmipct_check.commands.{module}":
                return None
            raise

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            args = [DEFAULT_COMMAND, *args]
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Options before the first file (pmipct-check --format json cap.pcap) belong to check.
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h", "--version"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmipct-check")
def cli() -> None:
    """Check Proxy Mobile IPv6 handovers with context transfer in packet captures.

    \b
    pmipct-check capture.pcap            check every handover (same as `check`)
    pmipct-check decode capture.pcap     list every signalling message
    pmipct-check rules                   the rule catalogue
    """


def main() -> None:
    """Console entry point: never a traceback unless --debug (or PMIPCT_DEBUG=1)."""
    from .commands.common import ProcessEnd, run_cli

    sys.exit(run_cli(cli, ProcessEnd()))  # the process ends here: a check's records need not be freed
