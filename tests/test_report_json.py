"""The JSON document: schema, exact times, and what the issue promises every consumer."""

from __future__ import annotations

import json
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


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_streamed_epoch_times_match_the_decimal_numbers(ns):
    # The writer's integer-nanosecond path against the decimal module's own scaling.
    assert jsonfmt.dumps(jsonfmt.Epoch(ns)) == jsonfmt.dumps(Decimal(ns).scaleb(-9))
    assert _load(jsonfmt.dumps({"t": jsonfmt.Epoch(ns)}))["t"] == Decimal(ns).scaleb(-9)


def test_streamed_document_is_the_document(tmp_path):
    # check --format json streams record by record; the text is that of the whole document.
    for result in (sample_result(), empty_result()):
        whole = jsonfmt.dumps(jsonfmt.to_document(result, include_messages=True)) + "\n"
        path = tmp_path / "out.json"
        with path.open("w", encoding="utf-8") as out:
            jsonfmt.write(result, out, include_messages=True)
        assert path.read_text(encoding="utf-8") == whole
        assert render(result, "json", include_messages=True) == whole
