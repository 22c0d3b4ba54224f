"""``python -m pmipct_check``: the console entry point, for an interpreter without the script on PATH."""

from .cli import main

main()
