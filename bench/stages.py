"""Where ``check``'s time goes: CPU seconds per pipeline stage on one capture.

    python bench/stages.py CAPTURE [--json]

Runs the stages one after another in this process, each over the previous stage's output held
in a list (the real pipeline streams capture into decode; the sum is within a few per cent of
a ``check`` run): import, capture (frames -> signalling payloads), decode (-> messages),
analysis (-> handovers), rules (-> findings), the JSON writer.  ``bench/run.py`` runs it as a
child on the pure-signalling capture and prints the table; run it alone to see what a change
to one stage bought.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

try:  # the pmipct_check this Python imports (PYTHONPATH, an install), as bench/run.py's children do
    import pmipct_check
except ImportError:  # a checkout never installed: the one holding this script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import pmipct_check


def stages(capture: str) -> tuple[list[tuple[str, float]], int]:
    """[(stage, CPU s)] and the number of messages decoded."""
    clock = time.process_time
    timed: list[tuple[str, float]] = []
    start = clock()
    from pmipct_check.analysis import analyze
    from pmipct_check.capture import iter_carried
    from pmipct_check.decode import Message, decode_stream
    from pmipct_check.pipeline import GC_FREEZE_EVERY
    from pmipct_check.profile import DEFAULT_PROFILE as profile
    from pmipct_check.report import write
    from pmipct_check.rules.engine import load_rules, run_rules

    catalogue = load_rules()
    timed.append(("import + rule files", clock() - start))
    gc.disable()  # as check_files holds the collector for the whole run (see pipeline._kept_out_of_gc)
    start = clock()
    carried = list(iter_carried([capture], profile))
    timed.append(("capture", clock() - start))
    start = clock()
    messages: list[Message] = []
    for item in decode_stream(carried, profile):
        if isinstance(item, Message):
            messages.append(item)
            if len(messages) % GC_FREEZE_EVERY == 0:
                gc.freeze()  # as check_files does: what is kept is not walked again by the cyclic GC
    timed.append(("decode", clock() - start))
    del carried
    gc.freeze()
    start = clock()
    analysis = analyze(messages, profile)
    timed.append(("analysis", clock() - start))
    gc.freeze()
    start = clock()
    result = run_rules(analysis, [], profile, catalogue=catalogue)
    timed.append(("rules", clock() - start))
    gc.freeze()
    start = clock()
    with open(os.devnull, "w", encoding="utf-8") as out:
        write(result, "json", out, profile=profile, fail_on="never")
    timed.append(("JSON writer", clock() - start))
    gc.unfreeze()
    gc.enable()
    return timed, len(messages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = parser.parse_args(argv)
    timed, messages = stages(args.capture)
    if args.json:
        print(json.dumps({"capture": args.capture, "messages": messages, "stages": dict(timed),
                          "package": str(Path(pmipct_check.__file__).parent)}))
        return 0
    total = sum(s for _, s in timed)
    print(f"{args.capture}: {messages:,} messages (pmipct_check from {Path(pmipct_check.__file__).parent})")
    for name, seconds in [*timed, ("total", total)]:
        per = f"{seconds / messages * 1e6:6.1f} us/msg" if messages else ""
        print(f"  {name:20s} {seconds:6.3f} s  {per}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
