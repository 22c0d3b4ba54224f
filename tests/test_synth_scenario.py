"""Scenario files, determinism, the LMA model's answers, faults and interleaving."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmipct_check.capture.extract import iter_file
from pmipct_check.cli import cli
from pmipct_check.decode import decode_stream
from pmipct_check.decode.model import Message
from pmipct_check.synth import (
    BUILTINS,
    FAULTS,
    ScenarioError,
    Trace,
    load_scenario,
    synthesize,
    write_trace,
)
from pmipct_check.synth.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "captures" / "lab-example.toml"


def msgs(trace: Trace, mn: str = "mn1") -> list[dict]:
    return [m for _, m in trace.messages() if m["mn"] == mn]


def types(trace: Trace, mn: str = "mn1") -> list[str]:
    return [m["type"] for m in msgs(trace, mn)]


def test_same_arguments_same_bytes_and_seed_matters(tmp_path: Path) -> None:
    paths = []
    for i, seed in enumerate((7, 7, 8)):
        path = tmp_path / f"{i}.pcapng"
        write_trace(synthesize("proactive-2", mns=3, seed=seed, fault="ctd-late"), path, "sll2", "pcapng")
        paths.append(path.read_bytes())
    assert paths[0] == paths[1]
    assert paths[0] != paths[2]


def test_base_time_moves_every_frame() -> None:
    a = synthesize("reactive-1")
    b = synthesize("reactive-1", base_time="2025-06-01T12:00:00Z")
    shift = b.frames[0].time_ns - a.frames[0].time_ns
    assert shift == (1748779200 - 1704067200) * 1_000_000_000
    assert all(y.time_ns - x.time_ns == shift for x, y in zip(a.frames, b.frames, strict=True))


def test_reactive_1_flow_and_lma_ignores_late_dereg() -> None:
    trace = synthesize("reactive-1")
    assert types(trace) == ["PBU", "PBA", "PBU", "PBA", "PBU", "PBA", "CT-Req", "CTD", "CTDR", "PBU"]
    m = msgs(trace)
    assert [x.get("hi") for x in m if x["type"] == "PBU"] == [1, 5, 3, 4]
    assert m[-1]["lifetime"] == 0  # the de-registration, unanswered (RFC 5213 5.3.5)
    assert m[5]["pmag_address"] == "2001:db8:ff01::1"
    assert m[6]["dst"] == "2001:db8:ff01::1" and m[6]["prev"] == "2001:db8:1:1::100"


def test_none_dereg_first_is_accepted() -> None:
    m = msgs(synthesize("none"))
    dereg = next(i for i, x in enumerate(m) if x["type"] == "PBU" and x["lifetime"] == 0)
    assert m[dereg + 1]["type"] == "PBA" and m[dereg + 1]["status"] == 0
    assert m[dereg + 2]["type"] == "PBU" and m[dereg + 2]["src"] == "2001:db8:ff02::1"


@pytest.mark.parametrize("name", list(BUILTINS))
def test_every_scenario_in_both_transports(name: str) -> None:
    for transport in ("ipv6", "ipv4"):
        trace = synthesize(name, mns=2, transport=transport)
        for mn in ("mn1", "mn2"):
            t = types(trace, mn)
            assert t[:4] == ["PBU", "PBA", "PBU", "PBA"], (name, t)
            assert t.count("PBU") >= 3
        if transport == "ipv4":
            assert all(m["src"].startswith("192.0.2.") for _, m in trace.messages())
            assert {m["transport"] for _, m in trace.messages()} <= {"mh-udp", "sctp"}


def test_reactive_2_ct_req_between_pbu_and_pba() -> None:
    t = types(synthesize("reactive-2", seed=3))
    assert t[4:7] == ["PBU", "CT-Req", "PBA"]


def test_mns_interleave_on_the_mag_pair() -> None:
    trace = synthesize("reactive-1", mns=3)
    order = [(m["mn"], m["type"]) for _, m in trace.messages()]
    first = order.index(("mn1", "CT-Req"))
    last = order.index(("mn1", "CTDR"))
    assert any(mn != "mn1" for mn, _ in order[first:last]), order
    # one SCTP association per MAG pair: four set-up chunks, whatever the number of MNs
    assert sum(1 for f in trace.frames if f.kind == "sctp") == 4 + sum(
        1 for _, m in trace.messages() if m["transport"] == "sctp")


def test_user_plane_follows_the_binding(tmp_path: Path) -> None:
    path = tmp_path / "up.pcap"
    write_trace(synthesize("reactive-1"), path)
    items = list(decode_stream(iter_file(str(path), track_user_plane=True)))
    tunnels = [(i.outer_src, i.outer_dst) for i in items if type(i).__name__ == "Tunnelled"]
    pba_frame = next(m.frame for m in items if isinstance(m, Message) and m.type == "PBA"
                     and m.dst == "2001:db8:ff02::1")
    frames = [i.frame for i in items if type(i).__name__ == "Tunnelled"]
    before = {t for t, f in zip(tunnels, frames, strict=True) if f < pba_frame}
    after = {t for t, f in zip(tunnels, frames, strict=True) if f > pba_frame}
    lma, mag1, mag2 = "2001:db8:ffff::1", "2001:db8:ff01::1", "2001:db8:ff02::1"
    assert (lma, mag1) in before and (mag1, lma) in before and mag2 not in {d for _, d in before}
    assert (lma, mag2) in after and (mag2, lma) in after and (lma, mag1) not in after


@functools.cache
def clean_two_mns(scenario: str) -> Trace:
    return synthesize(scenario, mns=2)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_fault_changes_only_mn1(fault: str) -> None:
    for scenario in FAULTS[fault].scenarios:
        clean = clean_two_mns(scenario)
        bad = synthesize(scenario, mns=2, fault=fault)
        assert [f.ip for f in bad.frames] != [f.ip for f in clean.frames], (fault, scenario)
        # mn2's messages are the same, up to the numbers the shared seeded RNG hands out
        assert types(bad, "mn2") == types(clean, "mn2"), (fault, scenario)


def test_fault_effects() -> None:
    m = msgs(synthesize("reactive-1", fault="pbu-missing-mn-id"))
    assert [(x["type"], x.get("status")) for x in m][4:] == [("PBU", None), ("PBA", 160), ("PBU", None), ("PBA", 0)]
    m = msgs(synthesize("none", fault="pbu-missing-hnp"))
    assert ("PBA", 158) in [(x["type"], x.get("status")) for x in m]
    m = msgs(synthesize("reactive-1", fault="pba-seq-mismatch"))
    pbu, pba = m[4], m[5]
    assert pba["seq"] == (pbu["seq"] + 1) & 0xFFFF
    assert "CTDR" not in types(synthesize("reactive-2", fault="ctd-ack-missing"))
    t = types(synthesize("reactive-1", fault="ct-req-before-pba"))
    assert t.index("CT-Req") < t.index("PBA", 4)
    t = types(synthesize("proactive-1", fault="push-after-registration"))
    assert t.index("CTD") > t.index("PBA", 4)
    m = msgs(synthesize("reactive-1", fault="ct-req-wrong-mag"))
    assert [x["dst"] for x in m if x["type"] == "CT-Req"] == ["2001:db8:ff03::1"]
    assert "CTD" not in [x["type"] for x in m]
    m = msgs(synthesize("reactive-1", fault="context-deleted-early"))
    t = [(x["type"], x.get("lifetime"), x.get("status")) for x in m]
    dereg = t.index(("PBU", 0, None))
    assert t[dereg + 1] == ("PBA", 0, 0)  # accepted: before the nMAG registered
    assert [x[0] for x in t[dereg + 2:]] == ["PBU", "PBA", "CT-Req", "CTC"]
    m = msgs(synthesize("reactive-1", fault="stale-dereg-acknowledged"))
    assert m[-1]["type"] == "PBA" and m[-2]["lifetime"] == 0
    m = msgs(synthesize("rfc5949-reactive", fault="hi-hack-seq-mismatch"))
    hi, hack = (next(x for x in m if x["type"] == k) for k in ("HI", "HAck"))
    assert hack["seq"] == hi["seq"] + 1
    trace = synthesize("reactive-1", fault="ctd-late")
    times = {m["type"]: trace.frames[n - 1].time_ns for n, m in trace.messages() if m["mn"] == "mn1"}
    assert times["CTD"] - times["CT-Req"] > 300_000_000


def test_fault_that_does_not_fit_says_why() -> None:
    with pytest.raises(ScenarioError, match="hack"):
        synthesize("reactive-1", fault="hi-hack-seq-mismatch")
    with pytest.raises(ScenarioError, match="unknown fault"):
        synthesize("reactive-1", fault="nope")


def test_example_scenario_file_loads_and_builds() -> None:
    sc = load_scenario(EXAMPLE)
    assert sc.name == "lab-example" and sc.lma.name == "lma-core" and len(sc.steps) == 7
    trace = synthesize(sc)
    assert [m["type"] for _, m in trace.messages()] == [
        "PBU", "PBA", "PBU", "PBA", "PBU", "PBA", "CT-Req", "PCTD", "CTDR", "PBU"]
    assert trace.frames[0].time_ns // 1_000_000_000 == 1709285400  # 2024-03-01T09:30:00Z


def _example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def _broken(edit) -> dict:  # type: ignore[no-untyped-def]
    data = _example()
    edit(data)
    return data


BAD = [
    (lambda d: d["scenario"].update(transport="ipx"), "scenario.transport"),
    (lambda d: d["scenario"].update(colour="red"), "scenario.colour"),
    (lambda d: d["scenario"].update(lifetime_s="long"), "scenario.lifetime_s"),
    (lambda d: d["scenario"].update(base_time="yesterday"), "scenario.base_time"),
    (lambda d: d["nodes"][1].update(ipv6="not-an-address"), "nodes[1].ipv6"),
    (lambda d: d["nodes"][1].update(role="router"), "nodes[1].role"),
    (lambda d: d["nodes"][0].update(role="mag"), "role = \"lma\""),
    (lambda d: d["nodes"][2].pop("name"), "nodes[2].name"),
    (lambda d: d["mns"][0].update(hnp="2001:db8:zz::/64"), "mns[0].hnp"),
    (lambda d: d["mns"][0].update(ll_id="xyz"), "mns[0].ll_id"),
    (lambda d: d["steps"][2].update(action="teleport"), "steps[2].action"),
    (lambda d: d["steps"][2].update(mag="ap-west"), "steps[2].mag"),
    (lambda d: d["steps"][2].update(mag="lma-core"), "steps[2].mag"),
    (lambda d: d["steps"][3].update(mn="tablet"), "steps[3].mn"),
    (lambda d: d["steps"][3].pop("dst"), "steps[3].dst"),
    (lambda d: d["steps"][3].update(colour=1), "steps[3].colour"),
    (lambda d: d["steps"][4].update(ack="yes"), "steps[4].ack"),
    (lambda d: d["steps"][2].update(hi=9), "steps[2].hi"),
    (lambda d: d["steps"][2].update(omit=["mn_id", "wings"]), "steps[2].omit"),
    (lambda d: d["steps"][0].pop("at_ms"), "steps[0].at_ms"),
    (lambda d: d["steps"][0].update(at_ms=-5), "steps[0].at_ms"),
    (lambda d: d.update(step=[]), "'step'"),
]


@pytest.mark.parametrize(("edit", "key"), BAD, ids=[k for _, k in BAD])
def test_bad_scenario_names_the_key(edit, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_broken(edit), "lab.toml")
    message = str(err.value)
    assert message.startswith("lab.toml: ") and key in message and "\n" not in message


def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "lab.toml"
    bad.write_text(EXAMPLE.read_text().replace('role = "mag"', 'role = "switch"', 1))
    result = CliRunner().invoke(cli, ["synth", "--scenario", str(bad), "-o", str(tmp_path / "x.pcap")])
    assert result.exit_code == 2
    assert "nodes[1].role" in result.output and "Traceback" not in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[scenario\n")
    result = CliRunner().invoke(cli, ["synth", "--scenario", str(broken), "-o", str(tmp_path / "x.pcap")])
    assert result.exit_code == 2 and "not valid TOML" in result.output
    result = CliRunner().invoke(cli, ["synth", "no-such-case", "-o", str(tmp_path / "x.pcap")])
    assert result.exit_code == 2 and "unknown scenario" in result.output


def test_cli_list_and_formats(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["synth", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for name in [*BUILTINS, *FAULTS]:
        assert sum(1 for line in lines if line.split()[:1] == [name]) == 1, name
    for fault in FAULTS.values():
        assert any(line.split()[:1] == [fault.name] and all(r in line for r in fault.rules) for line in lines)
    out = tmp_path / "a.pcapng"
    assert CliRunner().invoke(cli, ["synth", "none", "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")  # pcapng by suffix
    out = tmp_path / "b.cap"
    assert CliRunner().invoke(cli, ["synth", "none", "--link", "qinq", "-o", str(out)]).exit_code == 0
    assert out.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")  # pcap otherwise (little-endian, µs)


@pytest.mark.parametrize(("name", "fault"), [(n, None) for n in BUILTINS] + [
    ("proactive-2", "context-deleted-early"), ("reactive-1", "pbu-missing-mn-id"),
    ("rfc5949-reactive", "hi-hack-seq-mismatch"), ("reactive-2", "sctp-ordered")])
def test_dumped_scenario_reads_back_to_the_same_packets(name: str, fault: str | None, tmp_path: Path) -> None:
    args = ["synth", name, "--mns", "2", "--ipv4-transport", "--dump-scenario"] + (["--fault", fault] if fault else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    path = tmp_path / "lab.toml"
    path.write_text(result.output)
    again = synthesize(load_scenario(path), seed=5)
    original = synthesize(name, mns=2, transport="ipv4", fault=fault, seed=5)
    assert [(f.time_ns, f.ip) for f in again.frames] == [(f.time_ns, f.ip) for f in original.frames]


def test_gz_suffix_writes_the_same_capture_gzipped(tmp_path: Path) -> None:
    import gzip

    plain, packed = tmp_path / "r.pcapng", tmp_path / "r.pcapng.gz"
    for out in (plain, packed):
        assert CliRunner().invoke(cli, ["synth", "reactive-1", "-o", str(out)]).exit_code == 0
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert plain.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")
