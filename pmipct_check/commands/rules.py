"""``pmipct-check rules``: the rule catalogue, one line per rule (or JSON)."""

from __future__ import annotations

import json

import click

from .common import UsageFailure, terminal_console


def load_or_fail():  # -> tuple[Rule, ...]
    from ..rules.catalogue import CatalogueError
    from ..rules.engine import load_rules

    try:
        return load_rules()
    except (CatalogueError, FileNotFoundError) as exc:
        raise UsageFailure(str(exc)) from None


def rule_json(rule) -> dict[str, object]:  # rule: Rule
    return {"id": rule.id, "title": rule.title, "severity": rule.severity, "spec": rule.spec,
            "rationale": rule.rationale, "check": rule.check, "params": dict(rule.params)}


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--select", "select", multiple=True, metavar="IDS", help="Only these ids or prefixes (comma-separated).")
def command(fmt: str, select: tuple[str, ...]) -> int:
    """List the rule catalogue: id, severity, title and the spec section it enforces."""
    from ..rules.selection import SelectionError, select_rules

    rules = load_or_fail()
    try:
        rules = select_rules(rules, select)
    except SelectionError as exc:
        raise UsageFailure(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "rules": [rule_json(r) for r in rules]}, indent=2))
        return 0
    from rich.table import Table

    table = Table(box=None, show_edge=False, pad_edge=False)
    for column in ("rule", "severity", "title", "spec"):
        table.add_column(column, overflow="fold")
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for r in rules:
        table.add_row(r.id, f"[{colours[r.severity]}]{r.severity}[/]", r.title, r.spec)
    terminal_console(soft_wrap=False).print(table)
    return 0
