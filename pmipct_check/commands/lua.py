"""``pmipct-check export-lua``: write the Wireshark dissector for CXTP and the pMAG options."""

from __future__ import annotations

from pathlib import Path

import click

from .common import EXIT_CLEAN, UsageFailure, load_profile_or_fail, profile_option


@click.command("export-lua")
@click.option("-o", "--output", "output", default="-", metavar="FILE",
              help="Where to write the plugin ('-' or absent: standard output).")
@profile_option
def command(output: str, profile_path: str | None) -> int:
    """Export a Wireshark Lua dissector for CXTP and the draft's pMAG options.

    \b
    pmipct-check export-lua -o ~/.local/lib/wireshark/plugins/pmipct.lua
    tshark -X lua_script:pmipct.lua -r capture.pcap -Y cxtp

    The ports, PPIs and option numbers of the profile become Wireshark preferences
    (cxtp.sctp_ports, cxtp.sctp_ppis, cxtp.udp_ports, pmipct.pmag_address_option, ...).
    """
    from ..lua import generate_lua

    text = generate_lua(load_profile_or_fail(profile_path))
    if output == "-":
        click.echo(text, nl=False)
        return EXIT_CLEAN
    path = Path(output).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None
    return EXIT_CLEAN
