"""``pmipct-check profile show``: print the effective profile as TOML."""

from __future__ import annotations

import click

from ..profile import dump_profile
from .common import load_profile_or_fail, profile_option


@click.group("profile")
def command() -> None:
    """Inspect the lab profile (node names, code points, ports, timers)."""


@command.command("show")
@profile_option
def show(profile_path: str | None) -> int:
    """Print the effective profile: the file's values over the built-in defaults."""
    click.echo(dump_profile(load_profile_or_fail(profile_path)), nl=False)
    return 0
