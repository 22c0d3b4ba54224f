"""The regression corpus in ``tests/corpus/`` (see its README.md): each file, its expectation."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from test_robust_cli import no_traceback, run

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = CORPUS.parent.parent

#: capture -> (exit code of check, notice codes, frames read, findings that must cite these frames)
CAPTURES = {
    "pcapng-block-claims-200mb.pcapng": (1, {"capture.truncated-record"}, 4, {}),
    "pcap-record-claims-200mb.pcap": (1, {"capture.truncated-record"}, 3, {}),
    "reactive-1-cut-in-record-31.pcapng": (1, {"capture.truncated-record"}, 30, {}),
    "reactive-1-gzip-cut.pcapng.gz": (1, {"capture.gzip-error", "capture.truncated-record"}, None, {}),
    "reactive-1-plus-broken-frames.pcapng": (1, {"mh.truncated", "sctp.truncated-chunk"}, 54,
                                             {"INPUT-I1": range(43, 55), "PMIP-P1": range(43, 55)}),
    "tunnels-50-deep-and-sctp-without-end.pcap": (0, {"capture.tunnel-depth", "sctp.reassembly-abandoned"}, 21,
                                                  {"INPUT-I5": range(1, 22)}),
}


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_corpus_capture(name: str) -> None:
    code_wanted, codes, frames, cited = CAPTURES[name]
    path = str(CORPUS / name)
    tracemalloc.start()
    code, out, err = run("check", "--format", "json", path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    no_traceback(out, err)
    assert peak < 64 * 1024 * 1024
    assert code == code_wanted, err
    doc = json.loads(out)
    assert {n["code"] for n in doc["notices"]} == codes
    if frames is not None:
        assert doc["inputs"][0]["frames"] == frames
    for rule, allowed in cited.items():
        refs = [r["frame"] for f in doc["findings"] if f["rule"] == rule for r in f["refs"]]
        assert refs and all(r in allowed for r in refs), (rule, refs)
    file_lines = [line for line in err.splitlines() if line.startswith("pmipct-check: warning: ")]
    assert all(name in line for line in file_lines)
    assert len(file_lines) == sum(c.startswith("capture.") and c != "capture.tunnel-depth" for c in codes)
    for args in (["decode", "--format", "jsonl"], ["ladder"]):
        code, out, err = run(*args, path)
        no_traceback(out, err)
        assert code == 0


def test_broken_frames_cost_reactive_1_nothing() -> None:
    def intact_part(doc: dict) -> list:
        return sorted((f["rule"], tuple(r["frame"] for r in f["refs"])) for f in doc["findings"]
                      if all(r["frame"] <= 42 for r in f["refs"]))

    spliced = json.loads(run("check", "--format", "json", str(CORPUS / "reactive-1-plus-broken-frames.pcapng"))[1])
    clean = json.loads(run("check", "--format", "json", str(ROOT / "captures" / "reactive-1.pcapng"))[1])
    assert [(h["mn"], h["case"], h["verdict"]) for h in spliced["handovers"]] == [
        (h["mn"], h["case"], h["verdict"]) for h in clean["handovers"]]
    assert intact_part(spliced) == intact_part(clean)


@pytest.mark.parametrize(("name", "key"), [("profile-dialect-is-a-list.toml", "codepoints.dialect"),
                                           ("profile-not-utf8.toml", "cannot read profile")])
def test_corpus_profile(name: str, key: str) -> None:
    code, out, err = run("check", "--profile", str(CORPUS / name), str(ROOT / "captures" / "reactive-1.pcapng"))
    no_traceback(out, err)
    assert code == 2 and err.count("\n") == 1 and name in err and key in err


@pytest.mark.parametrize(("name", "key"), [("scenario-jitter-nan.toml", "scenario.jitter_ms"),
                                           ("scenario-step-in-1e300-ms.toml", "steps.at_ms")])
def test_corpus_scenario(tmp_path: Path, name: str, key: str) -> None:
    code, out, err = run("synth", "--scenario", str(CORPUS / name), "-o", str(tmp_path / "x.pcap"))
    no_traceback(out, err)
    assert code == 2 and err.count("\n") == 1 and name in err and key in err
