"""The console entry point lets a check's records outlive the command (they are never freed)."""

from __future__ import annotations

import gc
import weakref

from pmipct_check.commands.common import ProcessEnd


class _Records:
    """Stands for a CheckResult (which takes no weak reference)."""


def test_held_values_outlive_the_process_end_and_every_collection() -> None:
    records = _Records()
    alive = weakref.ref(records)
    end = ProcessEnd()
    end.hold(records)
    del records, end
    try:
        gc.collect()
        assert alive() is not None  # in a frozen cycle: what the interpreter's exit does not free either
    finally:
        gc.unfreeze()  # this test process goes on: let the collector have it back


def test_without_a_process_end_records_are_freed() -> None:
    records = _Records()
    alive = weakref.ref(records)
    del records
    assert alive() is None
