"""``pmipct-check ladder FILES...``: a ladder diagram per handover, in the terminal or exported."""

from __future__ import annotations

from collections.abc import Sequence

import click

from .common import (
    EXIT_CLEAN,
    EXIT_UNUSABLE,
    UsageFailure,
    load_profile_or_fail,
    profile_option,
    terminal_console,
)


def build_result(paths: Sequence[str], profile, select: Sequence[str] = (), ignore: Sequence[str] = ()):
    """Run the pipeline on ``paths``: (CheckResult, whether an input was unusable, said on stderr).

    Rule ids in ``select``/``ignore`` are comma-separated as for ``check``; a bad one exits 2.
    """
    from ..pipeline import check_files
    from ..rules.selection import SelectionError
    from .check import _split, report_unusable

    try:
        result = check_files(list(paths), profile, _split(tuple(select)), _split(tuple(ignore)))
    except SelectionError as exc:
        raise UsageFailure(str(exc)) from None
    return result, report_unusable(result)


@click.command("ladder")
@click.argument("files", nargs=-1, required=True, type=click.Path())  # a directory: one line, exit 2
@click.option("--mn", default=None, help="Only the handovers of this MN (its identifier, e.g. an NAI).")
@click.option("--handover", "which", default=None,
              help="Only this handover: its id (H3) or its number N (the N-th, of --mn's if given).")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None,
              help="Write to a file instead: .svg, .html, .txt, .mmd (Mermaid) or .puml (PlantUML).")
@click.option("--width", type=click.IntRange(30, 1000), default=None,
              help="Columns to draw in (default: the terminal's; 120 for .txt).")
@click.option("--ascii", "ascii_only", is_flag=True, help="Draw with ASCII characters only.")
@profile_option
def command(files: tuple[str, ...], mn: str | None, which: str | None, export_path: str | None,
            width: int | None, ascii_only: bool, profile_path: str | None) -> int:
    """Draw each handover as a ladder: lifelines, messages with key fields, frames, findings."""

    from ..report.export import EXPORT_FORMATS, export
    from ..report.ladder import build_ladders, render_rich

    if export_path is not None:
        suffix = export_path.rsplit(".", 1)[-1].lower() if "." in export_path else ""
        if suffix not in EXPORT_FORMATS:
            raise UsageFailure(f"{export_path}: unknown export format (use .{', .'.join(EXPORT_FORMATS)})")
    profile = load_profile_or_fail(profile_path)
    result, unusable = build_result(files, profile)
    done = EXIT_UNUSABLE if unusable else EXIT_CLEAN
    ladders = build_ladders(result, profile, mn, which)
    if not ladders:
        if mn is None and which is None:
            click.echo("No handover found.", err=True)
            return done
        seen = sorted({h.mn for h in result.handovers})
        wanted = " ".join(part for part in (f"--mn {mn}" if mn else "", f"--handover {which}" if which else "")
                          if part)
        raise UsageFailure(f"{wanted}: no such handover (MNs seen: {', '.join(seen) or 'none'})")
    if export_path is not None:
        try:
            written = export(ladders, export_path, width or 120)
        except OSError as exc:
            raise UsageFailure(f"{export_path}: cannot write: {exc.strerror or exc}") from None
        for path in written:
            click.echo(f"wrote {path} ({len(ladders)} ladder{'s' if len(ladders) != 1 else ''})", err=True)
        return done
    console = terminal_console(highlight=False, emoji=False)
    columns = width or console.width
    plain = ascii_only or not (console.encoding or "").lower().startswith("utf")
    for i, ladder in enumerate(ladders):
        if i:
            console.print()
        console.print(render_rich(ladder, columns, plain), end="", soft_wrap=True)
    return done
