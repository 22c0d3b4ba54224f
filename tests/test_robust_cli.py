"""The CLI on hostile input (issue 9), run in-process through ``run_cli`` as the console script does.

For ``check`` (every format), ``decode``, ``ladder`` and ``report``: a bad file beside a good one
costs the good one nothing, the bad one is one stderr line naming it, exit codes are 0, 1 or 2
(2 when a file could not be used at all), output parses in its format, and no traceback is shown
unless ``--debug``.  Mutated captures go through the same properties under hypothesis.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmipct_check.cli import cli
from pmipct_check.commands.common import run_cli

ROOT = Path(__file__).resolve().parent.parent
GOOD = ROOT / "captures" / "reactive-1.pcapng"
CAPTURES = sorted((ROOT / "captures").glob("*.pcap*"))
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def run(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``pmipct-check ARGS`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["pmipct-check", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_cli(cli)
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text and "internal error" not in text, text


def valid(fmt: str, text: str) -> None:
    """The output parses in its format."""
    if fmt == "json":
        doc = json.loads(text)
        assert {"handovers", "findings", "inputs"} <= set(doc)
    elif fmt == "sarif":
        assert json.loads(text)["runs"]
    elif fmt == "junit":
        assert ET.fromstring(text).tag in ("testsuites", "testsuite")
    elif fmt == "jsonl":
        for line in text.splitlines():
            json.loads(line)
    elif fmt == "github":
        assert all(line.startswith("::") for line in text.splitlines() if line)


# -- bad files beside a good one --------------------------------------------------------------------


def make_bad(tmp_path: Path, kind: str) -> tuple[Path, bool]:
    """A broken input and whether it is unusable (nothing could be read)."""
    data = GOOD.read_bytes()
    path = tmp_path / f"bad-{kind}.pcapng"
    unusable = True
    if kind == "missing":
        pass
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("GET / HTTP/1.1\r\n\r\n")
    elif kind == "gzip-garbage":
        path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnot deflate at all")
    elif kind == "absurd-first-block":
        path.write_bytes(data[:4] + struct.pack("<I", 0xFFFFFFF0) + data[8:])
    elif kind == "cut":
        path.write_bytes(data[: len(data) * 2 // 3])
        unusable = False
    elif kind == "gzip-cut":
        path.write_bytes(gzip.compress(data, mtime=0)[:900])
        unusable = False
    return path, unusable


KINDS = ["missing", "directory", "empty", "text", "gzip-garbage", "absurd-first-block", "cut", "gzip-cut"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "github", "text"])
def test_check_keeps_the_good_file_and_names_the_bad_one(tmp_path: Path, kind: str, fmt: str) -> None:
    bad, unusable = make_bad(tmp_path, kind)
    good = run("check", "--format", fmt, str(GOOD))
    code, out, err = run("check", "--format", fmt, "--ladder", "none", str(GOOD), str(bad))
    no_traceback(out, err)
    assert code == (2 if unusable else 1)  # a file cut short is an INPUT-I4 error finding
    lines = [line for line in err.splitlines() if bad.name in line]
    assert len(lines) >= 1 and all(line.startswith("pmipct-check: ") for line in lines), err
    if unusable:
        assert any(line.startswith("pmipct-check: error: ") for line in lines), err
    valid(fmt, out)
    if fmt == "json":
        mine = [h for h in json.loads(out)["handovers"] if all(f["file"] == str(GOOD) for f in h["frames"])]
        before = json.loads(good[1])["handovers"]
        assert [(h["mn"], h["case"], h["verdict"]) for h in mine] == [
            (h["mn"], h["case"], h["verdict"]) for h in before]


@pytest.mark.parametrize("kind", KINDS)
def test_decode_ladder_report_keep_the_good_file(tmp_path: Path, kind: str) -> None:
    bad, unusable = make_bad(tmp_path, kind)
    want = 2 if unusable else 0
    code, out, err = run("decode", "--format", "jsonl", str(GOOD), str(bad))
    no_traceback(out, err)
    assert code == want
    valid("jsonl", out)
    assert sum(json.loads(line)["file"] == str(GOOD) for line in out.splitlines()) == sum(
        1 for _ in run("decode", "--format", "jsonl", str(GOOD))[1].splitlines())
    assert any(bad.name in line for line in err.splitlines()), err

    code, out, err = run("ladder", "--width", "120", str(GOOD), str(bad))
    no_traceback(out, err)
    assert code == want and "PBU" in out and "CT-Req" in out
    assert any(line.startswith("pmipct-check: ") and bad.name in line for line in err.splitlines()), err

    page = tmp_path / "report.html"
    code, out, err = run("report", str(GOOD), str(bad), "-o", str(page))
    no_traceback(out, err)
    assert code == want and "CT-Req" in page.read_text(encoding="utf-8")
    assert any(line.startswith("pmipct-check: ") and bad.name in line for line in err.splitlines()), err


def test_only_bad_files_exit_2_in_every_command(tmp_path: Path) -> None:
    paths = [str(make_bad(tmp_path, k)[0]) for k in ("missing", "empty", "text", "directory")]
    for args in (["check", "--format", "json"], ["decode"], ["ladder"], ["report", "-o", str(tmp_path / "r.html")]):
        code, out, err = run(*args, *paths)
        no_traceback(out, err)
        assert code == 2, (args, err)
        assert len([line for line in err.splitlines() if line.startswith("pmipct-check: error: ")]) == 4, err


# -- mutated captures through every command ---------------------------------------------------------


@st.composite
def mutated_capture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CAPTURES)).read_bytes())
    for _ in range(draw(st.integers(1, 12))):
        pos = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            data[pos] = draw(st.integers(0, 255))
        else:
            data = data[: pos + draw(st.integers(0, 64))] if draw(st.booleans()) else data
    return bytes(data)


@pytest.mark.parametrize("fail_on", ["error", "warning", "info", "never"])
@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "github", "html", "text"])
def test_every_format_takes_every_fail_level(fmt: str, fail_on: str) -> None:
    """A capture with findings: the exit code follows the level (never: 0), the output parses."""
    code, out, err = run("check", "--format", fmt, "--fail-on", fail_on,
                         str(ROOT / "captures" / "fault-context-deleted-early.pcap"))
    no_traceback(out, err)
    assert code == (0 if fail_on == "never" else 1)
    if fmt not in ("text", "html", "github"):
        valid(fmt, out)


@SETTINGS
@given(mutated_capture(), st.sampled_from(["json", "junit", "sarif", "github", "text"]))
def test_mutated_captures_check_cleanly(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "mutated.pcapng"
    path.write_bytes(data)
    code, out, err = run("check", "--format", fmt, "--fail-on", "warning", str(path))
    no_traceback(out, err)
    assert code in (0, 1, 2)
    if fmt != "text":
        valid(fmt, out)


@SETTINGS
@given(mutated_capture())
def test_mutated_captures_decode_and_ladder_cleanly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "mutated.pcap"
    path.write_bytes(data)
    code, out, err = run("decode", "--format", "jsonl", str(path))
    no_traceback(out, err)
    assert code in (0, 2)
    valid("jsonl", out)
    code, out, err = run("ladder", "--export", str(tmp_path / "l.svg"), str(path))
    no_traceback(out, err)
    assert code in (0, 2)


def test_tcpdump_mobility_captures_through_every_command(tcpdump_mobility: Path, tmp_path: Path) -> None:
    files = [str(p) for p in sorted(tcpdump_mobility.glob("*.pcap"))]
    for args in (["check", "--format", "json"], ["check", "--format", "sarif"], ["decode", "--format", "jsonl"],
                 ["ladder"], ["report", "-o", str(tmp_path / "r.html")]):
        code, out, err = run(*args, *files)
        no_traceback(out, err)
        assert code in (0, 1), (args, err)
    code, out, _ = run("check", "--format", "json", *files)
    doc = json.loads(out)
    assert all(i["usable"] for i in doc["inputs"])
    assert any(f["rule"].startswith("INPUT-I1") for f in doc["findings"])  # the asan captures are malformed


# -- options, profiles, rule selection, --debug -----------------------------------------------------


@pytest.mark.parametrize("option", ["--select", "--ignore"])
@pytest.mark.parametrize("command", ["check", "report"])
def test_unknown_rule_id_is_an_error(tmp_path: Path, option: str, command: str) -> None:
    extra = ["-o", str(tmp_path / "r.html")] if command == "report" else []
    code, out, err = run(command, option, "CXTP-C8,NOPE-X99", *extra, str(GOOD))
    no_traceback(out, err)
    assert code == 2
    assert err.count("\n") == 1 and "NOPE-X99" in err, err


BAD_PROFILES = [
    ("[nodes.mag1]\naddresses = 5\n", "nodes.mag1.addresses"),
    ("[nodes.mag1]\nrole = \"router\"\n", "nodes.mag1.role"),
    ("[codepoints]\ndialect = [1]\n", "codepoints.dialect"),
    ("[codepoints]\npmag_id_option = 300\n", "codepoints.pmag_id_option"),
    ("[codepoints.option_type_map]\n\"x\" = 3\n", "codepoints.option_type_map.x"),
    ("[cxtp]\nsctp_ppis = [\"a\"]\n", "cxtp.sctp_ppis"),
    ("[timers]\nct_max_transfer_time = -1\n", "timers.ct_max_transfer_time"),
    ("[timers]\nno_such_timer = 1\n", "timers.no_such_timer"),
    ("[cxtp\n", "not valid TOML"),
    ("\xff\xfe", "cannot read"),
]


@pytest.mark.parametrize(("text", "key"), BAD_PROFILES)
@pytest.mark.parametrize("command", ["check", "decode", "profile"])
def test_bad_profiles_name_file_and_key(tmp_path: Path, text: str, key: str, command: str) -> None:
    profile = tmp_path / "lab.toml"
    profile.write_bytes(text.encode("latin-1"))
    args = ["profile", "show", "--profile", str(profile)] if command == "profile" else [
        command, "--profile", str(profile), str(GOOD)]
    code, out, err = run(*args)
    no_traceback(out, err)
    assert code == 2
    assert err.count("\n") == 1 and str(profile) in err and key in err, err


BAD_SCENARIOS = [
    ("jitter_ms = nan", "scenario.jitter_ms"),
    ("traffic_interval_ms = inf", "scenario.traffic_interval_ms"),
    ("traffic_interval_ms = 0.00001", "scenario.traffic_interval_ms"),
    ("lifetime_s = -4", "scenario.lifetime_s"),
    ("transport = \"ipx\"", "scenario.transport"),
    ("base_time = \"yesterday\"", "scenario.base_time"),
]


@pytest.mark.parametrize(("line", "key"), BAD_SCENARIOS)
def test_bad_scenario_files_name_file_and_key(tmp_path: Path, line: str, key: str) -> None:
    base = (ROOT / "captures" / "lab-example.toml").read_text(encoding="utf-8")
    name = line.split(" = ")[0]
    text = "\n".join(x for x in base.splitlines() if not x.startswith(f"{name} ="))
    text = text.replace("[scenario]\n", f"[scenario]\n{line}\n", 1)
    scenario = tmp_path / "lab.toml"
    scenario.write_text(text, encoding="utf-8")
    code, out, err = run("synth", "--scenario", str(scenario), "-o", str(tmp_path / "x.pcap"))
    no_traceback(out, err)
    assert code == 2
    assert err.count("\n") == 1 and str(scenario) in err and key in err, err
    assert not (tmp_path / "x.pcap").exists()


def test_steps_far_in_the_future_are_refused(tmp_path: Path) -> None:
    base = (ROOT / "captures" / "lab-example.toml").read_text(encoding="utf-8")
    scenario = tmp_path / "lab.toml"
    scenario.write_text(base.replace("at_ms = 1500", "at_ms = 1e300"), encoding="utf-8")
    code, _, err = run("synth", "--scenario", str(scenario), "-o", str(tmp_path / "x.pcap"))
    assert code == 2 and "at_ms" in err and err.count("\n") == 1


def test_internal_errors_are_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import pmipct_check.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug somewhere")

    monkeypatch.setattr(pipeline, "check_files", broken)
    code, _, err = run("check", str(GOOD))
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1 and "ZeroDivisionError" in err
    code, _, err = run("check", "--debug", str(GOOD))
    assert code == 2 and "Traceback" in err and "a bug somewhere" in err


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out"
    for args in (["check", "--format", "json", "-o", str(target)], ["decode", "-o", str(target)],
                 ["decode", "--format", "jsonl", "-o", str(target)], ["report", "-o", str(target)],
                 ["ladder", "--export", f"{target}.svg"]):
        code, out, err = run(*args, str(GOOD))
        no_traceback(out, err)
        assert code == 2 and err.count("\n") == 1 and str(target) in err, (args, err)


@pytest.mark.parametrize("args", [("decode", "--format", "jsonl"), ("check", "--format", "json"),
                                  ("check", "--fail-on", "never")])
def test_a_reader_that_stops_early_is_no_error(args, tmp_path):
    """`pmipct-check ... | head -1`: no traceback, no message, the command's own exit code (not 1)."""
    import subprocess
    import sys
    from pathlib import Path

    capture = Path(__file__).parent.parent / "captures" / "lab-example.pcapng"
    proc = subprocess.Popen([sys.executable, "-c", "from pmipct_check.cli import main; main()", args[0],
                             str(capture), *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            bufsize=0)
    assert proc.stdout.read(1)
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == b""
