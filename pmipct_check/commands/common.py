"""What every sub-command shares: profile loading, exit codes, one-line errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2


class UsageFailure(click.ClickException):
    """Unusable input or usage: one line on stderr, exit code 2."""

    exit_code = EXIT_UNUSABLE

    def show(self, file: Any = None) -> None:
        click.echo(f"pmipct-check: error: {self.format_message()}", err=True)


def notice_line(notice: Any, code: bool = False) -> str:
    """``pmipct-check: error: file@offset: what``: one line per problem, the file named once."""
    level = "error" if notice.severity == "error" else "warning"
    message = notice.message
    if notice.file and message.startswith(f"{notice.file}: "):
        message = message[len(notice.file) + 2 :]
    line = f"pmipct-check: {level}: {notice.where()}: {message}" + (f" [{notice.code}]" if code else "")
    return " ".join(line.split())  # a message from an exception may hold a newline


def profile_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--profile", "profile_path", type=click.Path(dir_okay=False), default=None,
        help="Lab profile (TOML): node names, code points, ports, timers.",
    )(func)


def load_profile_or_fail(path: str | None):  # -> Profile
    from ..profile import ProfileError, load_profile

    try:
        return load_profile(path)
    except ProfileError as exc:
        raise UsageFailure(str(exc)) from None


def debug_enabled() -> bool:
    return "--debug" in sys.argv or os.environ.get("PMIPCT_DEBUG") == "1"


def stdout_gone() -> None:
    """Point stdout at /dev/null after the reader closed the pipe, so that nothing more written
    (and no flush at exit) fails: the command still ends with its own exit code."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def terminal_console(**options: Any) -> Any:
    """A rich Console on stdout whose closed pipe is a BrokenPipeError for the command to handle
    (rich's own answer is ``SystemExit(1)``: exit code 1, which here means findings)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            stdout_gone()
            raise BrokenPipeError

    return _Console(**options)


class ProcessEnd:
    """Given by the console entry point to its commands (the click context's ``obj``): the process
    ends when the command returns, so what a command hands to :meth:`hold` is never freed.

    Freeing a check's records at the end (the 100k-message bench: ~1.5M objects over ~150 MB)
    took ~55 ms of a 2 s run, walking all that memory only to hand it back to a process about to
    exit.  What is held sits in a reference cycle in the collector's permanent generation
    (``gc.freeze``), which no collection walks, not even the one at interpreter exit; the
    operating system takes the memory back.  Commands run in-process (tests, a program that
    embeds the CLI) get no ProcessEnd and free their results as usual.
    """

    def __init__(self) -> None:
        self._held: list[object] = []

    def hold(self, value: object) -> None:
        import gc

        if not self._held:
            self._held.append(self._held)  # the cycle that outlives this object
        self._held.append(value)
        gc.freeze()


def run_cli(group: click.Group, process_end: ProcessEnd | None = None) -> int:
    """Run the click group; map every failure to an exit code, never to a traceback.

    ``process_end``: given by the console entry point only (see :class:`ProcessEnd`).
    """
    argv = [a for a in sys.argv[1:] if a != "--debug"]
    try:
        result = group.main(args=argv, prog_name="pmipct-check", standalone_mode=False, obj=process_end)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_UNUSABLE if exc.exit_code in (1, 2) else exc.exit_code
    except click.exceptions.Abort:
        click.echo("pmipct-check: aborted", err=True)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # a listing piped into `head`: what was asked for was shown
        stdout_gone()
        return EXIT_CLEAN
    except KeyboardInterrupt:
        click.echo("pmipct-check: interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_UNUSABLE
    except Exception as exc:
        if debug_enabled():
            import traceback  # here: only a failure with --debug prints one (~1 ms to import)

            traceback.print_exc()
        else:
            click.echo(
                f"pmipct-check: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                err=True,
            )
        return EXIT_UNUSABLE
    # A sub-command returns its exit code (0 clean, 1 findings at the fail level).
    return result if isinstance(result, int) else EXIT_CLEAN
