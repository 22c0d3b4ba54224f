"""Issue 6's "done when": a synthesized reactive case 1 capture, read by the whole pipeline, gives a
ladder with PBU, PBA, CT-Req, CTD and CTDR in order between the right lifelines, with the frame
numbers tshark gives those packets, and an SVG export carrying the same labels."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

synth = pytest.importorskip("pmipct_check.synth")
extract = pytest.importorskip("pmipct_check.capture.extract")
decode = pytest.importorskip("pmipct_check.decode")
analysis = pytest.importorskip("pmipct_check.analysis")
engine = pytest.importorskip("pmipct_check.rules.engine")

from pmipct_check.notices import Notice  # noqa: E402
from pmipct_check.report.export import ladder_svg  # noqa: E402
from pmipct_check.report.ladder import Arrow, build_ladders  # noqa: E402


def _check(path: str):
    items = list(decode.decode_stream(extract.iter_carried([path])))
    notices = [i for i in items if isinstance(i, Notice)]
    messages = [i for i in items if isinstance(i, (decode.Message, Notice))]
    return engine.run_rules(analysis.analyze(messages), notices)


@pytest.fixture(scope="module")
def reactive_1(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "reactive-1.pcap"
    synth.write_trace(synth.synthesize("reactive-1", mns=1), path)
    return str(path)


def test_reactive_1_ladder_from_a_capture(reactive_1, tshark):
    result = _check(reactive_1)
    ladders = [lad for lad in build_ladders(result) if lad.handover.case == "reactive-1"]
    assert ladders, [h.case for h in result.handovers]
    ladder = ladders[0]
    lane = {lf.role: i for i, lf in enumerate(ladder.lifelines)}
    h = ladder.handover
    assert ladder.lifelines[lane["pmag"]].address == h.pmag and ladder.lifelines[lane["nmag"]].address == h.nmag
    arrows = [r for r in ladder.rows if isinstance(r, Arrow)]
    def between(arrow: Arrow, one: str, other: str) -> bool:
        return {arrow.src, arrow.dst} == {lane[one], lane[other]}

    # the nMAG's registration and the transfer (the pMAG's own de-registration is drawn too)
    core = [a for a in arrows if a.label.name in ("PBU", "PBA", "CT-Req", "CTD", "CTDR")
            and (between(a, "nmag", "lma") or between(a, "nmag", "pmag"))]
    got = [(a.label.name, a.src, a.dst) for a in core][:5]
    assert got == [
        ("PBU", lane["nmag"], lane["lma"]), ("PBA", lane["lma"], lane["nmag"]),
        ("CT-Req", lane["nmag"], lane["pmag"]), ("CTD", lane["pmag"], lane["nmag"]),
        ("CTDR", lane["nmag"], lane["pmag"]),
    ]
    frames = [a.frame for a in core[:5]]
    assert frames == sorted(frames)

    # The frame numbers are the ones tshark gives: PBU/PBA by sequence number, CXTP by SCTP DATA.
    seq = core[0].label.details[0]  # "seq=N"
    out = subprocess.run(
        [tshark, "-r", reactive_1, "-Y", f"mip6.bu.{seq.replace('=', 'nr == ')} || mip6.ba.{seq.replace('=', 'nr == ')}",
         "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert [int(n) for n in out][:2] == frames[:2]
    data = subprocess.run(
        [tshark, "-r", reactive_1, "-Y", "sctp.chunk_type == 0", "-T", "fields", "-e", "frame.number",
         "-e", "ipv6.src", "-e", "ipv6.dst"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    sctp = {int(line.split("\t")[0]): tuple(line.split("\t")[1:]) for line in data}
    assert sctp[frames[2]] == (h.nmag, h.pmag)
    assert sctp[frames[3]] == (h.pmag, h.nmag)
    assert sctp[frames[4]] == (h.nmag, h.pmag)

    svg = ladder_svg(ladder)
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    for arrow in core[:5]:
        assert any(t.startswith(arrow.label.text()) for t in texts)
        assert any(t.endswith(f"#{arrow.frame}") for t in texts)


def test_commands_on_a_capture(reactive_1, tmp_path, monkeypatch, capsys):
    """`ladder --export` and `report -o` through the real pipeline (pmipct_check.pipeline)."""
    pytest.importorskip("pmipct_check.pipeline")
    from pmipct_check.cli import cli
    from pmipct_check.commands.common import run_cli

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.argv", ["pmipct-check", *args])
        code = run_cli(cli)
        return code, capsys.readouterr().err

    svg = tmp_path / "ladder.svg"
    code, err = run("ladder", reactive_1, "--mn", "mn1@lab.example", "--handover", "1", "--export", str(svg))
    assert code == 0, err
    root = ET.fromstring(svg.read_text().split("\n", 1)[1])
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for name in ("PBU seq=", "PBA status=0", "CT-Req seq=", "CTD A=", "CTDR S="):
        assert any(t.startswith(name) for t in texts), name
    page = tmp_path / "report.html"
    code, err = run("report", reactive_1, "-o", str(page))
    assert code == 0, err
    html = page.read_text()
    assert 'id="ho-H1"' in html and 'class="timing-chart"' in html and "reactive-1" in html
