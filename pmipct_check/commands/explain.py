"""``pmipct-check explain ID``: one rule in full (title, severity, spec, rationale, params)."""

from __future__ import annotations

import json

import click

from .common import UsageFailure
from .rules import load_or_fail, rule_json


@click.command("explain")
@click.argument("rule_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(rule_id: str, fmt: str) -> int:
    """Explain one rule of the catalogue."""
    rules = load_or_fail()
    rule = next((r for r in rules if r.id.upper() == rule_id.strip().upper()), None)
    if rule is None:
        near = [r.id for r in rules if r.id.upper().startswith(rule_id.strip().upper())]
        hint = f" (did you mean {', '.join(near[:8])}?)" if near else " (`pmipct-check rules` lists them)"
        raise UsageFailure(f"explain {rule_id}: no such rule{hint}")
    if fmt == "json":
        click.echo(json.dumps(rule_json(rule), indent=2))
        return 0
    lines = [f"{rule.id}: {rule.title}", "", f"severity:  {rule.severity}", f"spec:      {rule.spec}",
             f"check:     {rule.check}"]
    if rule.params:
        lines.append("params:    " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in rule.params.items()))
    lines += ["", *_wrap(rule.rationale)]
    click.echo("\n".join(lines))
    return 0


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]
