"""``pmipct-check merge FILES... -o all.pcapng``: one capture of several taps, clocks corrected.

One pcapng interface per input file (named after the file, with its link type; a pcapng input
with several interfaces gets one per input interface), frames in corrected time order, nothing
dropped or de-duplicated: this is what mergecap does, plus the clock offsets.
"""

from __future__ import annotations

import os

import click

from .common import EXIT_CLEAN, EXIT_UNUSABLE, UsageFailure, load_profile_or_fail, profile_option


def _first_interface(path: str) -> tuple[int, int] | None:
    """(input interface id, link type) of the file's first frame; None when it has none."""
    from ..capture.readers import iter_records

    records = iter_records(path)
    try:
        return next(((r[5], r[2]) for r in records if type(r) is tuple), None)
    finally:
        records.close()  # type: ignore[attr-defined]


def merge_files(paths: list[str], output: str, offsets: dict[str, int]) -> tuple[int, list, set[str]]:
    """Write the merged capture; (frames written, notices, files that gave no frame)."""
    from ..capture.merge import merge_records
    from ..capture.writer import CaptureWriter

    names = [os.path.basename(p) or p for p in paths]
    firsts = [_first_interface(p) for p in paths]
    present = [i for i, first in enumerate(firsts) if first is not None]
    notices: list = []
    frames: dict[int, int] = {}
    if not present:
        return 0, [n for _, _, n in merge_records(paths, offsets)], set(paths)
    gz = output.endswith(".gz")
    first = present[0]
    with CaptureWriter(output, fmt="pcapng", linktype=firsts[first][1], nanosecond=True, gzip=gz,  # type: ignore[index]
                       name=names[first]) as writer:
        # One output interface per file, in input order; further input interfaces of a pcapng get theirs.
        interfaces: dict[tuple[int, int], int] = {}
        for i in present:
            iface, linktype = firsts[i]  # type: ignore[misc]
            interfaces[(i, iface)] = 0 if i == first else writer.add_interface(linktype, names[i], nanosecond=True)
        written = 0
        for time_ns, index, record in merge_records(paths, offsets):
            if type(record) is not tuple:
                notices.append(record)
                continue
            _, _, linktype, data, orig_len, iface = record
            out = interfaces.get((index, iface))
            if out is None:
                out = interfaces[(index, iface)] = writer.add_interface(linktype, f"{names[index]}#{iface}",
                                                                        nanosecond=True)
            writer.write(time_ns, data, out, orig_len)
            frames[index] = frames.get(index, 0) + 1
            written += 1
    return written, notices, {p for i, p in enumerate(paths) if not frames.get(i)}


@click.command("merge")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The merged capture (pcapng; gzipped when it ends in .gz).")
@click.option("--clock-offset", "clock_offsets", multiple=True, metavar="FILE=SECONDS",
              help="FILE's clock runs SECONDS ahead of the reference (e.g. mag1.pcap=+1.250); repeatable. "
                   "Files without one are estimated from packets seen at two taps.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors.")
@profile_option
def command(files: tuple[str, ...], output: str, clock_offsets: tuple[str, ...], quiet: bool,
            profile_path: str | None) -> int:
    """Merge the captures of several taps into one pcapng, times corrected by the clock offsets.

    \b
    pmipct-check merge lma.pcap mag1.pcap mag2.pcap -o all.pcapng
    pmipct-check merge --clock-offset mag1.pcap=+1.250 lma.pcap mag1.pcap -o all.pcapng

    Exit status: 0 written, 2 an input could not be used (the rest is still written).
    """
    from ..capture.clock import parse_clock_offset
    from ..taps import plan_taps

    profile = load_profile_or_fail(profile_path)
    paths = list(files)
    if any(os.path.abspath(p) == os.path.abspath(output) for p in paths):
        raise UsageFailure(f"{output}: is also an input; choose another output file")
    try:
        given = dict(parse_clock_offset(text) for text in clock_offsets)
        plan = plan_taps(paths, profile, given)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
    if not quiet:
        for clock in plan.clocks:
            click.echo(f"pmipct-check: {clock.describe()}", err=True)
    try:
        written, notices, empty = merge_files(paths, output, plan.offsets)
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None
    unusable = False
    for notice in notices:
        if notice.frame is None and notice.severity == "error":
            click.echo(f"pmipct-check: error: {notice.where()}: {notice.message}", err=True)
            unusable = unusable or notice.file in empty
    if not quiet:
        click.echo(f"{output}: {written} frames from {len(paths) - len(empty)} of {len(paths)} files", err=True)
    return EXIT_UNUSABLE if unusable or len(empty) == len(paths) else EXIT_CLEAN
