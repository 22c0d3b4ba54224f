"""``pmipct-check decode FILES...``: every signalling message, as a table or JSON lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

import click

from .common import (
    EXIT_CLEAN,
    EXIT_UNUSABLE,
    UsageFailure,
    load_profile_or_fail,
    notice_line,
    profile_option,
    terminal_console,
)


@click.command("decode")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("table", "jsonl")), default="table", show_default=True,
              help="A rich table, or one JSON object per decoded message.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of stdout.")
@profile_option
def command(files: tuple[str, ...], fmt: str, output: str | None, profile_path: str | None) -> int:
    """List every PMIPv6, RFC 5949 and CXTP message with its fields.

    Problems that are not part of a message (a truncated file, a frame too short to hold a
    header) go to stderr, one line each, naming the file and frame.
    """
    from ..decode import Message
    from ..notices import Notice
    from ..pipeline import InputTally, decode_files
    from .check import write_output

    profile = load_profile_or_fail(profile_path)
    tally = InputTally()
    items = decode_files(files, profile, tally=tally)
    if fmt == "jsonl":
        write_output(lambda out: _write_jsonl(items, out), output)  # streamed: flat memory
    else:
        rows: list[Message] = []
        for item in items:
            if isinstance(item, Message):
                rows.append(item)
            elif isinstance(item, Notice):
                click.echo(notice_line(item, code=True), err=True)
        _print_table(rows, profile, output)
    return EXIT_UNUSABLE if tally.unusable else EXIT_CLEAN


def _write_jsonl(items: Iterable[object], out: TextIO) -> None:
    """One JSON line per message as it is decoded; notices to stderr in their place."""
    from ..decode import Message
    from ..notices import Notice
    from ..report.jsonfmt import message_line  # the text of dumps(to_json(), indent=None), faster

    for item in items:
        if isinstance(item, Message):
            out.write(message_line(item) + "\n")
        elif isinstance(item, Notice):
            click.echo(notice_line(item, code=True), err=True)


def _print_table(rows, profile, output: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..report.common import clean, message_label

    table = Table(show_lines=False, header_style="bold", pad_edge=False)
    several = len({m.file for m in rows}) > 1
    if several:
        table.add_column("file", overflow="fold")
    for name, justify in (("frame", "right"), ("time", "left"), ("src -> dst", "left"),
                          ("message", "left"), ("key fields", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    start = rows[0].time_ns if rows else 0
    for m in rows:
        label = message_label(m)
        route = f"{profile.name_for(m.src)} -> {profile.name_for(m.dst)}"
        cells = [str(m.frame), f"{(m.time_ns - start) / 1e9:.6f}", clean(route), label.name,
                 clean(" ".join(label.details))]
        if m.warnings:
            cells[-1] += "".join(f"\n! {clean(w.message)}" for w in m.warnings)
        table.add_row(*([clean(m.file)] if several else []), *cells)
    if output is None or output == "-":
        terminal_console(highlight=False, emoji=False).print(table)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            Console(file=fh, highlight=False, emoji=False, width=160, no_color=True).print(table)
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None
