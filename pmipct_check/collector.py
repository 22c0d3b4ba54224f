"""The cyclic garbage collector held while a stage builds many long-lived, acyclic records."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Hold the cyclic garbage collector for the block, then restore it as it was.

    Analysis and the rules allocate small dicts and lists per message over the decoded records
    (hundreds of thousands on a 100k-frame capture): every full collection walks them all, yet
    none is cyclic garbage.  Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
