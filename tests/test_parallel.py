"""--jobs: files extracted in worker processes give exactly what one process gives."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmipct_check.capture import iter_file
from pmipct_check.cli import cli
from pmipct_check.parallel import extract_file, extract_files, replay
from pmipct_check.pipeline import decode_files
from pmipct_check.profile import DEFAULT_PROFILE

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
#: Different scenarios, link types and both file formats; one with an IPv4 transport.
SEVERAL = [str(CAPTURES / name) for name in (
    "reactive-1.pcapng", "reactive-2.pcap", "proactive-1-pctd.pcap", "proactive-2.pcapng",
    "fault-sctp-ordered.pcap", "reactive-1-ipv4.pcap",
)]


def test_extracted_in_workers_equals_extracted_here():
    here = extract_files(SEVERAL[:3], jobs=1)
    workers = extract_files(SEVERAL[:3], jobs=2)
    assert workers == here
    assert [e.path for e in workers] == SEVERAL[:3]  # the order of the paths, not of finishing
    for ex in here:
        counts: dict[str, int] = {}
        assert list(ex.items) == list(iter_file(ex.path, frame_counts=counts))
        assert ex.frames == counts[ex.path] > 0


def test_replay_sets_the_frame_count_like_iter_file():
    ex = extract_file(SEVERAL[0])
    counts: dict[str, int] = {}
    assert list(replay(ex, counts)) == list(ex.items)
    assert counts == {SEVERAL[0]: ex.frames}


def test_on_done_names_every_file_once():
    done: list[str] = []
    extract_files(SEVERAL[:3], jobs=2, on_done=done.append)
    assert sorted(done) == sorted(SEVERAL[:3])


def test_what_crosses_processes_pickles():
    ex = extract_file(SEVERAL[2])
    assert pickle.loads(pickle.dumps(ex)) == ex
    messages = list(decode_files(SEVERAL[:2]))
    assert messages and pickle.loads(pickle.dumps(messages)) == messages


def test_a_missing_file_is_a_notice_in_a_worker_too(tmp_path):
    missing = str(tmp_path / "absent.pcap")
    one, two = extract_files([SEVERAL[0], missing], jobs=2)
    assert two.frames == 0 and two.items and all(n.severity == "error" for n in two.items)
    assert one == extract_file(SEVERAL[0])


def _check_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--fail-on", "never", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("files", [SEVERAL, SEVERAL[:2], SEVERAL[4:], SEVERAL[:1]],
                         ids=["six", "two", "two-more", "one"])
def test_jobs_2_gives_the_same_report_as_jobs_1(files):
    one = _check_json("--jobs", "1", *files)
    two = _check_json("--jobs", "2", *files)
    assert two == one
    assert [i["file"] for i in one["inputs"]] == files


def test_jobs_with_include_messages_keeps_every_message_in_order():
    one = _check_json("--jobs", "1", "--include-messages", *SEVERAL[:3])
    two = _check_json("--jobs", "3", "--include-messages", *SEVERAL[:3])
    assert two == one


def test_jobs_must_be_positive():
    result = CliRunner().invoke(cli, ["check", "--jobs", "0", SEVERAL[0]])
    assert result.exit_code != 0


def test_taps_plan_and_stream_from_extracted_equal_the_two_pass_ones():
    taps = pytest.importorskip("pmipct_check.taps")
    from pmipct_check.parallel import plan_taps_from, tap_stream_from

    files = SEVERAL[:4]
    extracted = extract_files(files, jobs=2)
    plan = taps.plan_taps(files)
    assert plan_taps_from(extracted) == plan
    counts_a: dict[str, int] = {}
    counts_b: dict[str, int] = {}
    expected = list(taps.tap_stream(files, offsets=plan.offsets, window_ns=plan.window_ns, own=plan.own,
                                    frame_counts=counts_a))
    assert list(tap_stream_from(extracted, DEFAULT_PROFILE, plan, counts_b)) == expected
    assert counts_b == counts_a


def test_taps_plan_from_extracted_with_every_offset_given():
    taps = pytest.importorskip("pmipct_check.taps")
    from pmipct_check.parallel import plan_taps_from

    files = SEVERAL[:2]
    given = {files[0]: 0, files[1]: 1_500_000_000}
    assert plan_taps_from(extract_files(files), given) == taps.plan_taps(files, given=given)


@pytest.mark.parametrize("files", [SEVERAL[:4], SEVERAL[4:]], ids=["four", "two"])
def test_several_files_read_once_judge_as_the_two_pass_stream(files, monkeypatch):
    """check_files reads several taps once (extracted here, then planned and replayed): the same
    result as planning them in a first pass and streaming them in a second, and each file is
    opened once instead of twice."""
    taps = pytest.importorskip("pmipct_check.taps")
    from pmipct_check import pipeline
    from pmipct_check.capture import extract

    streamed = pipeline.check_files(files, taps=taps.plan_taps(files))
    opened: list[str] = []
    real = extract.iter_file
    monkeypatch.setattr(extract, "iter_file", lambda path, *a, **k: (opened.append(path), real(path, *a, **k))[1])
    monkeypatch.setattr("pmipct_check.parallel.iter_file", extract.iter_file)
    once = pipeline.check_files(files)
    assert once == streamed
    assert sorted(opened) == sorted(files)


def test_first_pass_keeps_what_extract_files_keeps_within_its_limit():
    from pmipct_check.capture.clock import collect
    from pmipct_check.parallel import first_pass

    files = SEVERAL[:3]
    done: list[str] = []
    logs, kept = first_pass(files, on_done=done.append)
    assert kept == extract_files(files)
    assert logs == [collect(f) for f in files]
    assert done == files
    held = sum(len(ex.items) for ex in kept)
    logs, kept = first_pass(files, limit=held - 1)  # one item too many: nothing is kept, the logs are whole
    assert kept is None and logs == [collect(f) for f in files]
    assert first_pass(files, limit=held)[1] is not None


def test_several_files_over_the_limit_are_streamed_twice_with_the_same_result(monkeypatch):
    taps = pytest.importorskip("pmipct_check.taps")
    from pmipct_check import parallel, pipeline

    files = SEVERAL[:4]
    expected = pipeline.check_files(files, taps=taps.plan_taps(files))
    monkeypatch.setattr(parallel, "KEEP_LIMIT", 3)
    assert parallel.first_pass(files)[1] is None
    assert pipeline.check_files(files) == expected
