"""``pmipct-check synth``: write a reference capture of a handover scenario, optionally with a fault."""

from __future__ import annotations

import click

from .common import EXIT_CLEAN, UsageFailure


def _listing() -> str:
    from ..synth import BUILTINS, FAULTS

    lines = ["scenarios:"]
    width = max(len(n) for n in [*BUILTINS, *FAULTS])
    lines += [f"  {b.name:<{width}}  {b.description}" for b in BUILTINS.values()]
    lines.append("faults (--fault; the rule ids each must trigger in brackets):")
    lines += [f"  {f.name:<{width}}  {f.description} [{', '.join(f.rules)}]" for f in FAULTS.values()]
    return "\n".join(lines)


@click.command("synth")
@click.argument("name", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Capture file to write.")
@click.option("--fault", help="Apply one named fault to the first MN's handover (see --list).")
@click.option("--mns", type=int, default=1, show_default=True, help="Mobile nodes interleaved on the MAG pair.")
@click.option("--link", "link_name", default="ethernet", show_default=True,
              type=click.Choice(["ethernet", "vlan", "qinq", "sll", "sll2", "raw", "loopback"]))
@click.option("--format", "fmt", default=None, type=click.Choice(["pcap", "pcapng"]),
              help="File format [default: from the -o suffix, else pcap]; a .gz suffix gzips the file.")
@click.option("--ipv4-transport", is_flag=True, help="RFC 5844: PBU/PBA in IPv4 UDP 5436, IPv4 tunnels.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the timing jitter, tags, TSNs.")
@click.option("--base-time", default=None, help="Start of the trace (RFC 3339) [default: 2024-01-01T00:00:00Z].")
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False), help="Scenario file (TOML).")
@click.option("--list", "show_list", is_flag=True, help="List scenarios and faults, one line each.")
@click.option("--dump-scenario", is_flag=True,
              help="Print the scenario (after --fault, --mns, ...) as TOML instead of writing a capture.")
def command(name: str | None, output: str | None, fault: str | None, mns: int, link_name: str,
            fmt: str | None, ipv4_transport: bool, seed: int, base_time: str | None,
            scenario_file: str | None, show_list: bool, dump_scenario: bool) -> int:
    """Synthesize a capture of scenario NAME (or of --scenario FILE).

    \b
    pmipct-check synth reactive-1 -o r1.pcapng
    pmipct-check synth proactive-2 --fault context-deleted-early --mns 3 --link sll2 -o bad.pcap
    pmipct-check synth --scenario my-lab.toml -o lab.pcapng
    pmipct-check synth --list
    pmipct-check synth reactive-1 --mns 2 --dump-scenario > my-lab.toml    # a start for your own
    """
    from ..synth import ScenarioError, load_scenario, synthesize, write_trace
    from ..synth.scenario import scenario_to_toml

    if show_list:
        click.echo(_listing())
        return EXIT_CLEAN
    if bool(name) == bool(scenario_file):
        raise UsageFailure("synth: give a scenario NAME or --scenario FILE (see --list)")
    if not output and not dump_scenario:
        raise UsageFailure("synth: -o FILE is required")
    try:
        scenario = load_scenario(scenario_file) if scenario_file else name
        trace = synthesize(scenario, fault=fault, mns=mns, seed=seed, base_time=base_time,
                           transport="ipv4" if ipv4_transport else None)
    except ScenarioError as exc:
        raise UsageFailure(str(exc)) from None
    if dump_scenario:
        click.echo(scenario_to_toml(trace.scenario), nl=False)
        return EXIT_CLEAN
    assert output is not None
    compress = output.endswith(".gz")
    if fmt is None:
        fmt = "pcapng" if output.removesuffix(".gz").endswith(".pcapng") else "pcap"
    try:
        count = write_trace(trace, output, link_name, fmt, compress)
    except OSError as exc:
        raise UsageFailure(f"{output}: cannot write: {exc.strerror or exc}") from None
    messages = len(trace.messages())
    click.echo(f"{output}: {count} frames, {messages} signalling messages "
               f"({trace.scenario.name}{', fault ' + fault if fault else ''})", err=True)
    return EXIT_CLEAN
