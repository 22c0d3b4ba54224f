"""The JSON document: schema, exact times, and what the issue promises every consumer."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_report_fixtures import CAP, empty_result, sample_result

from pmipct_check.decode.model import epoch_text
from pmipct_check.report import jsonfmt, render

SCHEMA = Path(jsonfmt.__file__).with_name("schema.json")


def _load(text: str):
    return json.loads(text, parse_float=Decimal)


def test_document_validates_against_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for result in (sample_result(), empty_result()):
        jsonschema.validate(json.loads(render(result, "json")), schema)


def test_schema_rejects_a_bad_verdict():
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(render(sample_result(), "json"))
    doc["handovers"][0]["verdict"] = "ok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json.loads(SCHEMA.read_text()))


def test_times_are_exact_decimal_numbers():
    result = sample_result()
    text = render(result, "json")
    doc = _load(text)
    frames = {(f["file"], f["frame"]): f["time"] for h in doc["handovers"] for f in h["frames"]}
    for message in result.messages:
        assert frames[(message.file, message.frame)] == message.time  # all nine decimals kept
    # written as a number, not a string, and not through a float
    assert '"time": 1700000000.123456789' in text
    assert isinstance(doc["handovers"][0]["start"], Decimal)


@given(st.integers(min_value=-(10**19), max_value=10**19))
def test_dumps_keeps_every_nanosecond(ns):
    value = Decimal(epoch_text(ns))
    assert _load(jsonfmt.dumps({"t": value}))["t"] == value


def test_dumps_is_json_for_ordinary_values():
    value = {"a": [1, 2.5, None, True, "é\n\"x\""], "b": {}, "c": [], "d": (1,), "e": float("nan")}
    assert json.loads(jsonfmt.dumps(value)) == {
        "a": [1, 2.5, None, True, "é\n\"x\""], "b": {}, "c": [], "d": [1], "e": None}
    assert json.loads(jsonfmt.dumps(value, indent=None)) == json.loads(jsonfmt.dumps(value))
    assert jsonfmt.dumps(Decimal("1.500")) == "1.5"
    assert jsonfmt.dumps(Decimal("-0.000")) == "0"


def test_issue_shape_handovers_findings_summary():
    doc = _load(render(sample_result(), "json"))
    assert doc["version"] == 1
    assert doc["tool"]["name"] == "pmipct-check"
    assert [i["file"] for i in doc["inputs"]] == [CAP]
    h1 = doc["handovers"][0]
    assert {k: h1[k] for k in ("id", "mn", "case", "pmag", "nmag", "lma", "verdict")} == {
        "id": "H1", "mn": "mn1@lab.example", "case": "reactive-1", "pmag": "2001:db8:a::1",
        "nmag": "2001:db8:b::1", "lma": "2001:db8:ff::1", "verdict": "pass"}
    assert [f["type"] for f in h1["frames"]] == ["PBU", "PBA", "CT-Req", "CTD", "CTDR", "PBU", "PBA"]
    assert h1["timings"]["pbu_pba"] == Decimal("0.001234567")
    assert [h["verdict"] for h in doc["handovers"]] == ["pass", "fail", "warn", "inconclusive"]
    first = doc["findings"][0]  # worst first
    assert (first["rule"], first["severity"], first["outcome"], first["handover"]) == ("DRAFT-D2", "error", "fail", "H2")
    assert {"file": CAP, "frame": 40} in first["refs"]
    assert doc["findings"][-1]["outcome"] == "inconclusive"
    assert doc["summary"]["verdicts"] == {"pass": 1, "fail": 1, "warn": 1, "inconclusive": 1}
    assert doc["summary"]["findings"] == {"error": 1, "warning": 1, "info": 0, "inconclusive": 1}
    stats = doc["timing_stats"]["pbu_pba"]
    assert stats["count"] == 4 and stats["min"] == Decimal("0.0008") and stats["max"] == Decimal("0.003")
    assert doc["notices"][0]["code"] == "mh.option-overrun"
    assert "messages" not in doc


def test_messages_on_request():
    result = sample_result()
    doc = _load(render(result, "json", include_messages=True))
    assert len(doc["messages"]) == len(result.messages)
    assert doc["messages"][0]["time"] == result.messages[0].time


def _one_handover(result, messages, **changes):
    """``result`` with its first handover holding ``messages`` (and ``changes``) and no other."""
    handover = replace(result.handovers[0], messages=tuple(messages), **changes)
    return replace(result, handovers=(handover,), messages=tuple(messages))


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_written_times_are_exact(ns):
    # The writer formats integer nanoseconds itself; the decimal module's own scaling is the judge.
    result = sample_result()
    message = replace(result.messages[0], time_ns=ns)
    doc = _load(render(_one_handover(result, [message]), "json", include_messages=True))
    handover = doc["handovers"][0]
    assert handover["frames"][0]["time"] == handover["start"] == handover["end"] == Decimal(ns).scaleb(-9)
    assert doc["messages"][0]["time"] == Decimal(ns).scaleb(-9)


@given(st.lists(st.integers(min_value=-(10**20), max_value=10**20) | st.integers(min_value=10**9, max_value=10**20)))
def test_a_handovers_times_are_written_as_one_at_a_time(times):
    assert jsonfmt._epoch_texts(times) == [jsonfmt._epoch_text(ns) for ns in times]


def test_written_document_is_the_document(tmp_path):
    # check --format json streams record by record; what it writes parses to to_document's data.
    for result in (sample_result(), empty_result()):
        for messages in (False, True):
            path = tmp_path / "out.json"
            with path.open("w", encoding="utf-8") as out:
                jsonfmt.write(result, out, include_messages=messages)
            text = path.read_text(encoding="utf-8")
            assert text == render(result, "json", include_messages=messages)
            assert _load(text) == _load(jsonfmt.dumps(jsonfmt.to_document(result, include_messages=messages)))
            assert _load(render(result, "json", include_messages=messages, indent=None)) == _load(text)


def test_layout_is_a_record_per_line():
    # The top level and its arrays' items indented, each item one line: a handover per line.
    result = sample_result()
    lines = render(result, "json").splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and lines[1] == '  "version": 1,'
    start = lines.index('  "handovers": [')
    records = [json.loads(line.strip().rstrip(","), parse_float=Decimal)
               for line in lines[start + 1 : start + 1 + len(result.handovers)]]
    assert records == _load(jsonfmt.dumps(jsonfmt.to_document(result)))["handovers"]
    assert lines[start + 1 + len(result.handovers)] == "  ],"
    assert all(line.startswith("    {") for line in lines if '"rule": ' in line)  # a finding per line
    one = render(result, "json", indent=None)
    assert one.count("\n") == 1 and one.endswith("}\n")


@given(st.text(), st.text(), st.text())
def test_capture_text_is_escaped(mn, src, reason):
    # Strings from a capture (quotes, backslashes, control characters) stay strings, also in the
    # template that writes the frames.
    result = sample_result()
    message = replace(result.messages[0], src=src)
    changed = _one_handover(result, [message], mn=mn, case_reason=reason)
    doc = _load(render(changed, "json"))
    assert doc["handovers"] == _load(jsonfmt.dumps(jsonfmt.to_document(changed)))["handovers"]
    assert (doc["handovers"][0]["mn"], doc["handovers"][0]["frames"][0]["src"]) == (mn, src)


_JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.decimals(places=9),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner) | st.tuples(inner, inner),
    max_leaves=20,
)


@given(_JSON_DATA)
def test_one_line_is_dumps_on_one_line(value):
    # The C encoder's text where it can, the exact encoder's where it cannot: the same text.
    assert jsonfmt.one_line(value) == jsonfmt.dumps(value, indent=None)


def test_message_line_is_dumps_on_one_line():
    # Every decoded message of the repository's captures (and the fixtures'): the same text as
    # the exact encoder's, time digits included.
    from pmipct_check.decode.model import Message
    from pmipct_check.pipeline import decode_files

    captures = sorted(str(p) for p in (Path(__file__).parents[1] / "captures").glob("*.pcap*"))
    decoded = [item for item in decode_files(captures) if isinstance(item, Message)]
    assert decoded
    for message in [*decoded, *sample_result().messages]:
        assert jsonfmt.message_line(message) == jsonfmt.dumps(message.to_json(), indent=None)
