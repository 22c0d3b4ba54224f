"""``pmipct-check report FILES... -o report.html``: one self-contained HTML page."""

from __future__ import annotations

import click

from ..report.html import MAX_LADDERS
from .common import EXIT_CLEAN, EXIT_UNUSABLE, UsageFailure, load_profile_or_fail, profile_option
from .ladder import build_result


@click.command("report")
@click.argument("files", nargs=-1, required=True, type=click.Path())  # a directory: one line, exit 2
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default="report.html",
              show_default=True, help="The HTML file to write.")
@click.option("--title", default="pmipct-check report", show_default=True, help="The page's title.")
@click.option("--select", multiple=True, help="Only these rules (ids or prefixes, comma-separated); repeatable.")
@click.option("--ignore", multiple=True, help="Not these rules (ids or prefixes, comma-separated); repeatable.")
@click.option("--max-ladders", type=click.IntRange(min=0), default=MAX_LADDERS, show_default=True,
              help="Draw at most this many ladders, those that did not pass first; 0: all.")
@profile_option
def command(files: tuple[str, ...], output: str, title: str, select: tuple[str, ...],
            ignore: tuple[str, ...], max_ladders: int, profile_path: str | None) -> int:
    """Write the summary, findings, the ladders and the timing charts as one HTML file."""
    from ..report import common
    from ..report.html import render

    profile = load_profile_or_fail(profile_path)
    result, unusable = build_result(files, profile, select, ignore)
    page = render(result, profile=profile, title=title, max_ladders=max_ladders)
    try:
        with open(output, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None
    counts = common.summary_counts(result)
    verdicts = ", ".join(f"{n} {v}" for v, n in counts["verdicts"].items() if n) or "no handover"
    click.echo(f"wrote {output}: {counts['handovers']} handover(s) ({verdicts})", err=True)
    return EXIT_UNUSABLE if unusable else EXIT_CLEAN
