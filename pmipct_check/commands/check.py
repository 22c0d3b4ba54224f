"""``pmipct-check check FILES...`` (also plain ``pmipct-check FILES...``): judge every handover."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import TextIO

import click

from ..report.common import MAX_ROWS
from .common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_UNUSABLE,
    ProcessEnd,
    UsageFailure,
    load_profile_or_fail,
    profile_option,
    stdout_gone,
    terminal_console,
)

FORMATS = ("text", "json", "junit", "sarif", "github", "html")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def write_output(content: str | Callable[[TextIO], None], output: str | None) -> None:
    """To ``output`` (a file) or stdout; a file that cannot be written is a usage error.

    ``content``: the text, or a function writing it (a streamed report is never one string).
    """
    write = content if callable(content) else lambda out: out.write(content)
    if output is None or output == "-":
        try:
            write(sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader stopped early (`| head`): not an error, the exit code stands
            stdout_gone()
        return
    try:
        with open(output, "w", encoding="utf-8") as out:
            write(out)
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None


def report_unusable(result) -> bool:
    """One line per file problem on stderr (an unusable file, or one cut short or corrupt after
    frames that are still analysed); True when any input could not be used at all."""
    from .common import notice_line

    unusable = [i.file for i in result.inputs if not i.usable]
    for notice in result.notices:
        if notice.frame is None and (notice.severity == "error" or (
                notice.severity == "warning" and notice.code.startswith("capture."))):
            click.echo(notice_line(notice), err=True)
    return bool(unusable)


def given_offsets(files: list[str], clock_offsets: tuple[str, ...]) -> dict[str, int]:
    """``--clock-offset FILE=SECONDS`` values keyed by the files given; a bad one exits 2 before any read."""
    from ..capture.clock import parse_clock_offset
    from ..taps import resolve_files

    try:
        return resolve_files(files, dict(parse_clock_offset(text) for text in clock_offsets))
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None


def tap_events(event_log: str | None, tap_window: float):
    """The events of ``--event-log`` (none without it), after checking ``--tap-window``; bad ones exit 2."""
    from ..events import EventLogError, read_events

    if not tap_window >= 0:
        raise UsageFailure(f"--tap-window {tap_window}: expected seconds >= 0")
    try:
        return read_events(event_log) if event_log else ()
    except (ValueError, EventLogError) as exc:
        raise UsageFailure(str(exc)) from None


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--select", multiple=True, help="Only these rules (ids or prefixes, comma-separated); repeatable.")
@click.option("--ignore", multiple=True, help="Not these rules (ids or prefixes, comma-separated); repeatable.")
@click.option("--fail-on", type=click.Choice(("error", "warning", "info", "never")), default="error",
              show_default=True, help="Exit 1 when a finding reaches this severity.")
@click.option("--ladder", "ladder_mode", type=click.Choice(("failing", "all", "none")), default="failing",
              show_default=True, help="Text format: also draw the ladder of these handovers.")
@click.option("--include-messages", is_flag=True, help="JSON format: also list every decoded message.")
@click.option("--max-rows", type=click.IntRange(min=0), default=MAX_ROWS, show_default=True,
              help="Text format: at most this many handovers, findings and ladders (the rest counted); 0: all.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code tells.")
@click.option("--clock-offset", "clock_offsets", multiple=True, metavar="FILE=SECONDS",
              help="FILE's clock runs SECONDS ahead of the reference (e.g. mag1.pcap=+1.250); repeatable. "
                   "Files without one are estimated from packets seen at two taps.")
@click.option("--event-log", type=click.Path(dir_okay=False), default=None,
              help="Events no capture shows (JSON lines or CSV: time,node,event,mn,target), e.g. PHT, ATT.")
@click.option("--tap-window", type=float, default=1.0, show_default=True, metavar="SECONDS",
              help="Several files: sightings of the same packet at most this far apart are one message.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Read this many files at once, in worker processes (one combined report).")
@profile_option
def command(files: tuple[str, ...], fmt: str, output: str | None, select: tuple[str, ...],
            ignore: tuple[str, ...], fail_on: str, ladder_mode: str, include_messages: bool, max_rows: int,
            quiet: bool,
            clock_offsets: tuple[str, ...], event_log: str | None, tap_window: float, jobs: int,
            profile_path: str | None) -> int:
    """Check each MN's handovers against the draft's four cases and the RFCs' rules.

    Exit status: 0 nothing at the --fail-on level, 1 findings at or above it, 2 unusable input.
    """
    from ..pipeline import check_files
    from ..progress import track
    from ..report import write
    from ..rules.engine import exceeds, load_rules
    from ..rules.selection import SelectionError, select_rules

    profile = load_profile_or_fail(profile_path)
    with track(files, quiet) as bar:  # a bar on stderr when it is a terminal and not --quiet
        extracted = None
        given = given_offsets(list(files), clock_offsets)
        try:
            if jobs > 1 and len(files) > 1:
                from ..parallel import extract_files

                select_rules(load_rules(), _split(select), _split(ignore))  # before reading gigabytes
                extracted = extract_files(list(files), profile, jobs, on_done=bar.file_done)
            events = tap_events(event_log, tap_window)
            # Several files are taps of one domain: check_files plans them (one read of each where
            # their signalling can be kept; see parallel.first_pass) unless workers read them.
            result = check_files(list(files), profile, _split(select), _split(ignore), events=events,
                                 clock_offsets=given, extracted=extracted, window_ns=round(tap_window * 1e9),
                                 on_read=bar.file_done)
        except SelectionError as exc:
            raise UsageFailure(str(exc)) from None
    gc.freeze()  # the result lives until exit: the cyclic GC need not walk its records while reports are made
    process_end = click.get_current_context().find_object(ProcessEnd)
    if process_end is not None:  # run as the console command: nothing gained by freeing the records
        process_end.hold(result)
    unusable = report_unusable(result)
    if not quiet and fmt == "text":
        for clock in result.clocks:
            click.echo(f"pmipct-check: {clock.describe()}", err=True)
    if not quiet:
        if fmt == "text" and output is None:
            from rich.text import Text

            from ..report.common import ladder_handovers
            from ..report.text import print_report

            console = terminal_console(highlight=False, emoji=False)
            plain = not (console.encoding or "").lower().startswith("utf")
            chosen = ladder_handovers(result, ladder_mode)
            ladders: list[Text] = []
            if chosen:  # the ladder module (~4 ms to import) only when there is one to draw
                from ..report.ladder import ladders_for_check, render_rich

                ladders = [render_rich(lad, console.width, plain)
                           for lad in ladders_for_check(result, ladder_mode, profile, max_rows, chosen)]
            more = len(chosen) - len(ladders)
            if more > 0:
                ladders.append(Text(f"{more} more ladders not drawn: --max-rows 0 draws all; "
                                    "`pmipct-check ladder FILE --handover ID` draws one."))
            try:
                print_report(result, console, profile, ladders, max_rows)
                sys.stdout.flush()
            except BrokenPipeError:  # `pmipct-check FILE | head`: the exit code still tells
                stdout_gone()
        else:
            write_output(lambda out: write(result, fmt, out, profile=profile, fail_on=fail_on,
                                           include_messages=include_messages, max_rows=max_rows), output)
    if unusable:
        return EXIT_UNUSABLE
    return EXIT_FINDINGS if exceeds(result, fail_on) else EXIT_CLEAN
