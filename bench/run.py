"""Benchmark: ``pmipct-check check`` against tshark's filter and a scapy-only baseline.

    python bench/run.py            # 1M-frame mixed capture, 100k-frame pure signalling
    python bench/run.py --quick    # 100k mixed, 10k signalling
    python bench/run.py --big      # also a 10M-frame mixed capture: memory must stay flat

Captures are synthesized (seeded) into ``bench/out/`` once and reused.  Every tool runs as a
child process on the same file in the same run; its time, CPU time and peak RSS come from
``os.wait4`` (per child).  The machine may be shared: CPU time (user + sys) is the steadier
measure, wall time is what a user waits.  Ratios are tshark's time over the tool's (above 1:
faster than tshark).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

TSHARK_FILTER = "mipv6 || sctp"
MEMORY_LIMIT_MB = 200
GNU_TIME = "/usr/bin/time"
SIGNALLING_SHARE = 0.01  # of the mixed captures' frames
#: What the pmipct-check console script runs, so the tree measured is the one this Python imports
#: (PYTHONPATH=/some/checkout python bench/run.py measures that checkout).
CLI = "import sys; from pmipct_check.cli import main; sys.argv[0] = 'pmipct-check'; main()"


@dataclass(slots=True)
class Run:
    capture: str
    tool: str
    frames: int  # frames of the capture the tool went through
    found: int  # what it reports finding (messages, matching frames), to see they agree
    wall_s: float
    cpu_s: float
    rss_mb: float
    exit: int

    @property
    def pps(self) -> float:
        return self.frames / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_pps(self) -> float:
        return self.frames / self.cpu_s if self.cpu_s else 0.0


def measure(cmd: list[str], stdout: Path) -> tuple[float, float, float, int]:
    """(wall s, user+sys CPU s, peak RSS MB, exit status) of one child process.

    CPU time comes from ``os.wait4``.  Peak RSS comes from GNU time's ``%M`` where it is installed:
    Linux hands a child that was spawned from this (large, scapy-importing) process the parent's
    high-water RSS at exec, so ``wait4``'s ``ru_maxrss`` cannot go below this process's own.
    """
    rss_file = stdout.with_suffix(".rss")
    timer = [GNU_TIME, "-f", "%M", "-o", str(rss_file)] if os.access(GNU_TIME, os.X_OK) else []
    with open(stdout, "wb") as out, open(stdout.with_suffix(".stderr"), "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*timer, *cmd], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss / 1024
    if timer:
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss = int(rss_file.read_text().split()[-1]) / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss, proc.returncode


def compile_bytecode() -> str:
    """Byte-compile the pmipct_check the children import, as ``pip install`` does; return its path.

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` set (or never imported before)
    would otherwise compile every module from source on each run: ~0.25 s that an installed
    copy never pays.  Children still honour the variable: they read these files, write none.
    """
    where = "import os, pmipct_check; print(os.path.dirname(pmipct_check.__file__))"
    found = subprocess.run([sys.executable, "-c", where], capture_output=True, text=True, check=True).stdout.strip()
    compileall.compile_dir(found, quiet=1)
    return found


def run_check(capture: Path, frames: int, out: Path, extra: tuple[str, ...] = ()) -> Run:
    report = out / f"{capture.stem}.check.json"
    cmd = [sys.executable, "-c", CLI, "check", str(capture), "--format", "json", "-o", str(report), "--fail-on", "never", *extra]
    wall, cpu, rss, code = measure(cmd, out / "check.stdout")
    return Run(capture.name, "pmipct-check check", frames, _messages(report), wall, cpu, rss, code)


def run_check_taps(capture: Path, frames: int, out: Path, jobs: int) -> Run:
    """``check`` on two taps of one domain (``capture`` and a second name for it), ``--jobs N``.

    Several files are merged as taps: with ``--jobs 1`` each is read twice (a first pass
    estimates the clocks), with ``--jobs N`` workers read them once and the main process replays
    what they kept.  Frames: both files'.
    """
    second = out / f"{capture.stem}-tap2{capture.suffix}"
    if not second.exists():
        second.symlink_to(capture.resolve())
    report = out / f"{capture.stem}.taps.json"
    cmd = [sys.executable, "-c", CLI, "check", str(capture), str(second), "--jobs", str(jobs),
           "--format", "json", "-o", str(report), "--fail-on", "never"]
    wall, cpu, rss, code = measure(cmd, out / "check.stdout")
    return Run(f"{capture.name} + a second tap", f"pmipct-check check --jobs {jobs}", 2 * frames,
               _messages(report), wall, cpu, rss, code)


def _messages(report: Path) -> int:
    """Messages a JSON report says it decoded, over its inputs."""
    try:
        data = json.loads(report.read_text())
        return sum(i.get("messages", 0) for i in data.get("inputs", []))
    except (OSError, ValueError, AttributeError):
        return 0


def run_check_text(capture: Path, frames: int, out: Path) -> Run:
    """The main command as a user types it: the terminal report (here into a file)."""
    report = out / f"{capture.stem}.check.txt"
    cmd = [sys.executable, "-c", CLI, "check", str(capture), "--fail-on", "never"]
    wall, cpu, rss, code = measure(cmd, report)
    match = re.search(r"(\d+) messages", report.read_text(encoding="utf-8", errors="replace"))
    return Run(capture.name, "pmipct-check check (text)", frames, int(match[1]) if match else 0,
               wall, cpu, rss, code)


def run_tshark(capture: Path, frames: int, out: Path) -> Run:
    listing = out / f"{capture.stem}.tshark.txt"
    cmd = ["tshark", "-r", str(capture), "-Y", TSHARK_FILTER, "-T", "fields", "-e", "frame.number"]
    wall, cpu, rss, code = measure(cmd, listing)
    with open(listing, "rb") as lines:
        found = sum(1 for _ in lines)
    return Run(capture.name, "tshark -Y 'mipv6 || sctp'", frames, found, wall, cpu, rss, code)


def run_scapy(capture: Path, frames: int, out: Path, limit: int) -> Run:
    listing = out / f"{capture.stem}.scapy.txt"
    cmd = [sys.executable, str(HERE / "scapy_baseline.py"), str(capture), str(limit)]
    wall, cpu, rss, code = measure(cmd, listing)
    lines = listing.read_text().split()
    seen, found = (int(lines[0]), int(lines[1])) if len(lines) == 2 else (0, 0)
    label = "scapy PcapReader" + ("" if seen >= frames else f" (first {seen} frames)")
    return Run(capture.name, label, seen, found, wall, cpu, rss, code)


# ----------------------------------------------------------------------------------------------


def ensure_signalling(out: Path, frames: int, seed: int) -> Path:
    """The pure-signalling capture of ``frames`` frames (cut from a bigger pool when one exists)."""
    from captures import read_frames, write_signalling
    from pmipct_check.capture import CaptureWriter

    path = out / f"signalling-{frames}-seed{seed}.pcapng"
    if path.exists():
        return path
    bigger = sorted((p for p in out.glob(f"signalling-*-seed{seed}.pcapng")
                     if int(p.name.split("-")[1]) > frames), key=lambda p: int(p.name.split("-")[1]))
    t = time.perf_counter()
    if bigger:
        with CaptureWriter(str(path) + ".part", fmt="pcapng") as writer:
            for time_ns, data in read_frames(str(bigger[0]), frames):
                writer.write(time_ns, data)
        os.replace(str(path) + ".part", path)
    else:
        print(f"synthesizing {path.name} (scapy builds the handovers: minutes) ...", file=sys.stderr)
        write_signalling(str(path), frames, seed)
    print(f"  {path.name}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


def ensure_mixed(out: Path, frames: int, seed: int, signalling: int | None = None) -> Path:
    """A mixed capture: ``SIGNALLING_SHARE`` of it signalling, or ``signalling`` frames of it."""
    from captures import write_mixed

    share = SIGNALLING_SHARE if signalling is None else signalling / frames
    name = f"mixed-{frames}-seed{seed}" if signalling is None else f"mixed-{frames}-sig{signalling}-seed{seed}"
    path = out / f"{name}.pcapng"
    if path.exists():
        return path
    pool = ensure_signalling(out, max(1, round(frames * share)), seed)
    print(f"writing {path.name} ...", file=sys.stderr)
    t = time.perf_counter()
    write_mixed(str(path), frames, str(pool), seed, share)
    print(f"  {path.name}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


def run_stages(capture: Path) -> dict:
    """``bench/stages.py``'s CPU seconds per pipeline stage on ``capture``, in a child process."""
    done = subprocess.run([sys.executable, str(HERE / "stages.py"), str(capture), "--json"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        return {"capture": capture.name, "messages": 0, "stages": {}, "error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout)


def stage_table(stages: dict) -> str:
    """Markdown: where check's CPU time goes, stage by stage."""
    name = Path(stages["capture"]).name
    if not stages["stages"]:
        return f"Stages of check on {name}: not measured ({stages.get('error', '')})"
    messages = stages["messages"] or 1
    lines = [f"Where check's CPU time goes on {name} ({stages['messages']:,} messages, `bench/stages.py`):",
             "| stage | CPU s | us/message |", "|---|---|---|"]
    total = sum(stages["stages"].values())
    for stage, seconds in [*stages["stages"].items(), ("total", total)]:
        lines.append(f"| {stage} | {seconds:.3f} | {seconds / messages * 1e6:.1f} |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "nproc": sh("nproc"),
        "cpu": sh("lscpu | grep -E '^(Model name|Architecture|CPU\\(s\\)|Thread|Core|Socket|CPU max MHz)'"),
        "memory": sh("free -m | head -2"),
        "load": sh("cat /proc/loadavg"),
        # the interpreter matters: a distro build (PGO/LTO) ran check ~10 % faster than pyenv's plain build here
        "python": f"{platform.python_version()} ({sys.executable}, {platform.python_compiler()})",
        "tshark": sh("tshark --version | head -1"),
        "scapy": sh(f"{sys.executable} -c 'import scapy; print(scapy.VERSION)'"),
    }


def table(runs: list[Run]) -> str:
    head = ("| capture | tool | frames | found | wall s | CPU s | frames/s (wall) | frames/s (CPU) "
            "| peak RSS MB | vs tshark (wall) | vs tshark (CPU) |")
    rows = [head, "|" + "---|" * 11]
    for r in runs:
        ref = next((t for t in runs if t.capture == r.capture and t.tool.startswith("tshark")), None)
        if ref is not None and r.frames:
            # per-frame cost ratio, so a scapy run on the first N frames compares fairly
            ratio_wall = (ref.wall_s / ref.frames) / (r.wall_s / r.frames) if r.wall_s else 0.0
            ratio_cpu = (ref.cpu_s / ref.frames) / (r.cpu_s / r.frames) if r.cpu_s else 0.0
            ratios = f"{ratio_wall:.2f}x | {ratio_cpu:.2f}x"
        else:
            ratios = "- | -"
        rows.append(f"| {r.capture} | {r.tool.replace('|', chr(92) + '|')} | {r.frames:,} | {r.found:,} | {r.wall_s:.2f} | {r.cpu_s:.2f} "
                    f"| {r.pps:,.0f} | {r.cpu_pps:,.0f} | {r.rss_mb:.0f} | {ratios} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k mixed and 10k signalling frames")
    parser.add_argument("--big", action="store_true", help="also check a 10M-frame mixed capture (memory)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--scapy-limit", type=int, default=0,
                        help="scapy dissects only the first N frames of each capture (0: all)")
    parser.add_argument("--no-scapy", action="store_true", help="skip the scapy baseline")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest (CPU) is kept")
    args = parser.parse_args(argv)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"pmipct_check under test: {compile_bytecode()} (byte-compiled)", file=sys.stderr)
    mixed_frames = 100_000 if args.quick else 1_000_000
    sig_frames = 10_000 if args.quick else 100_000
    captures = [(ensure_mixed(out, mixed_frames, args.seed), mixed_frames),
                (ensure_signalling(out, sig_frames, args.seed), sig_frames)]
    runs: list[Run] = []
    for path, frames in captures:
        tools = [lambda p=path, f=frames: run_tshark(p, f, out),
                 lambda p=path, f=frames: run_check(p, f, out),
                 lambda p=path, f=frames: run_check_text(p, f, out)]
        if not args.no_scapy:
            tools.append(lambda p=path, f=frames: run_scapy(p, f, out, args.scapy_limit))
        for tool in tools:
            best = min((tool() for _ in range(args.repeat)), key=lambda r: r.cpu_s)
            runs.append(best)
            print(f"  {best.capture}: {best.tool}: {best.wall_s:.2f} s wall, {best.cpu_s:.2f} s CPU, "
                  f"{best.rss_mb:.0f} MB, found {best.found}", file=sys.stderr)
    taps: list[Run] = []
    for jobs in (1, 2):
        path, frames = captures[0]
        taps.append(min((run_check_taps(path, frames, out, jobs) for _ in range(args.repeat)), key=lambda r: r.cpu_s))
        print(f"  {taps[-1].capture}: {taps[-1].tool}: {taps[-1].wall_s:.2f} s wall, {taps[-1].cpu_s:.2f} s CPU, "
              f"{taps[-1].rss_mb:.0f} MB", file=sys.stderr)
    memory: list[Run] = [runs[1]]
    if args.big:
        # 10x the frames: with 10x the signalling (1 %), and with the 1M capture's signalling only
        for big in (ensure_mixed(out, 10_000_000, args.seed),
                    ensure_mixed(out, 10_000_000, args.seed, round(mixed_frames * SIGNALLING_SHARE))):
            memory.append(run_check(big, 10_000_000, out))
            print(f"  {big.name}: check {memory[-1].wall_s:.1f} s, {memory[-1].rss_mb:.0f} MB", file=sys.stderr)

    stage_times = run_stages(captures[1][0])
    info = machine()
    print(table(runs))
    print()
    print(stage_table(stage_times))
    print()
    print("Several files (two taps of one domain), --jobs 1 and 2 (wall time is what --jobs buys):")
    print(table(taps))
    print()
    print(f"Memory flatness (check, peak RSS; limit {MEMORY_LIMIT_MB} MB):")
    print(table(memory))
    print()
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items() if k != "cpu"))
    print(info["cpu"])
    (out / "results.json").write_text(json.dumps(
        {"runs": [asdict(r) for r in runs], "memory": [asdict(r) for r in memory], "taps": [asdict(r) for r in taps], "stages": stage_times, "machine": info,
         "args": {k: str(v) for k, v in vars(args).items()}}, indent=2))
    failed = [r for r in runs + taps + memory if r.exit not in (0, 1)]
    for r in failed:
        print(f"warning: {r.tool} on {r.capture} exited {r.exit}", file=sys.stderr)
    over = [r for r in memory if r.rss_mb >= MEMORY_LIMIT_MB]
    return 1 if failed or over else 0


if __name__ == "__main__":
    sys.exit(main())
