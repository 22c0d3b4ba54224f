"""Rule catalogue files written by hand (issue 9): any TOML gives rules or one CatalogueError naming the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.rules.catalogue import CatalogueError, parse_rules
from pmipct_check.rules.engine import load_rules
from pmipct_check.rules.selection import SelectionError, select_rules

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
KEYS = ["id", "title", "severity", "spec", "rationale", "check", "params", "bogus"]
VALUES = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.lists(st.integers(), max_size=3),
                   st.sampled_from(["CXTP-C99", "error", "warning", "notice_codes", "X"]),
                   st.dictionaries(st.sampled_from(["codes", "a"]), st.integers(), max_size=2))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


@SETTINGS
@given(st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8), max_size=3),
       st.sampled_from(["", "rule = [1, 2]\n", "rule = 3\n", "other = 1\n"]))
def test_any_rule_file_is_rules_or_one_named_error(tables: list[dict], head: str) -> None:
    text = head + "".join("[[rule]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in t.items()) for t in tables)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    try:
        rules = parse_rules(text, "lab-rules.toml", checks={"notice_codes"})
    except CatalogueError as exc:
        assert str(exc).startswith("lab-rules.toml: ") and "\n" not in str(exc)
        return
    assert all(r.id and r.severity in ("error", "warning", "info") for r in rules)


@SETTINGS
@given(st.lists(st.text(alphabet="ACDEFILNOPRTX-0123456789,", min_size=1, max_size=10), min_size=1, max_size=3))
def test_selectors_select_or_fail_loudly(selectors: list[str]) -> None:
    rules = load_rules()
    try:
        chosen = select_rules(rules, selectors)
    except SelectionError as exc:
        assert "--select" in str(exc)
        return
    assert chosen or not any(s.strip(", ") for s in selectors)
