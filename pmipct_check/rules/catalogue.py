"""The rule catalogue (``rules/*.toml``): loading and validation.

Each file holds ``[[rule]]`` tables with ``id``, ``title``, ``severity``, ``spec``,
``rationale``, ``check`` (the name of a check function registered in the engine) and an
optional ``[rule.params]`` table.  Rule text is data: it is shown, never evaluated.  Every
problem is a :class:`CatalogueError` naming the file, the rule id and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable
from types import MappingProxyType

from ..analysis.catalogue import catalogue_files
from .model import SEVERITY_ORDER, Rule

RULE_KEYS = ("id", "title", "severity", "spec", "rationale", "check", "params")
REQUIRED = ("id", "title", "severity", "spec", "rationale", "check")
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z][A-Z0-9]*$")
NOT_RULE_FILES = frozenset({"cases.toml"})


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; one line naming file, rule and key."""


def parse_rules(text: str, path: str, checks: Collection[str] | None = None) -> list[Rule]:
    """The rules of one catalogue file, validated."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path}: not valid TOML: {exc}") from None
    for key in data:
        if key != "rule":
            raise CatalogueError(f"{path}: {key}: no such top-level key (expected [[rule]] tables)")
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):  # rule = [1]
        raise CatalogueError(f"{path}: rule: expected [[rule]] tables")
    rules = []
    for index, raw in enumerate(tables):
        rid = raw.get("id") if isinstance(raw.get("id"), str) else f"rule #{index + 1}"
        where = f"{path}: {rid}"
        for key in raw:
            if key not in RULE_KEYS:
                raise CatalogueError(f"{where}: {key}: unknown key (expected one of {', '.join(RULE_KEYS)})")
        for key in REQUIRED:
            if key not in raw:
                raise CatalogueError(f"{where}: {key}: missing")
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise CatalogueError(f"{where}: {key}: expected non-empty text, got {raw[key]!r}")
        if not ID_PATTERN.match(raw["id"]):
            raise CatalogueError(f"{where}: id: expected GROUP-CODE in capitals and digits (e.g. CXTP-C8)")
        if raw["severity"] not in SEVERITY_ORDER:
            raise CatalogueError(
                f"{where}: severity: expected error, warning or info, got {raw['severity']!r}")
        if checks is not None and raw["check"] not in checks:
            raise CatalogueError(f"{where}: check: no check function named {raw['check']!r}")
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise CatalogueError(f"{where}: params: expected a table, got {params!r}")
        rules.append(Rule(raw["id"], raw["title"].strip(), raw["severity"], raw["spec"].strip(),
                          " ".join(raw["rationale"].split()), raw["check"], MappingProxyType(dict(params))))
    return rules


def parse_catalogue(files: Iterable[tuple[str, str]], checks: Collection[str] | None = None) -> tuple[Rule, ...]:
    """All rules of ``(path, text)`` files; a duplicate id names both files."""
    seen: dict[str, str] = {}
    out: list[Rule] = []
    for path, text in files:
        for rule in parse_rules(text, path, checks):
            if rule.id in seen:
                raise CatalogueError(f"{path}: {rule.id}: id: duplicate, already defined in {seen[rule.id]}")
            seen[rule.id] = path
            out.append(rule)
    return tuple(out)


def load_catalogue(checks: Collection[str] | None = None) -> tuple[Rule, ...]:
    """The shipped catalogue (every ``rules/*.toml`` except ``cases.toml``)."""
    files = [(f"rules/{f.name}", f.read_text(encoding="utf-8")) for f in catalogue_files()
             if f.name not in NOT_RULE_FILES]
    return parse_catalogue(files, checks)
