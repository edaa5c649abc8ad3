"""Keeping the server's long-lived heap out of the garbage collector's full passes.

A full (generation 2) collection walks every tracked object. The server's heap is mostly
what it builds once — imported modules (pandas, Ibis, FastAPI…), compiled expressions,
the warm-up's cached results — and walking it stalled every thread: 150–270 ms at start,
32–41 ms every ~3 s after the warm-up, which set the collector's p99 (docs/api.md).
:func:`freeze_heap` moves what is alive now to the permanent generation (``gc.freeze``).
Frozen objects are still freed by reference counting; only a cycle among them alive at
the freeze is never collected (once, bounded by what exists at that moment).
"""

from __future__ import annotations

import gc

_frozen_once = False


def freeze_heap(*, once: bool = False) -> None:
    """Collect, then freeze what survives. ``once``: only the first such call in this
    process does it (the writer's start: later starts find the heap frozen)."""
    global _frozen_once
    if once:
        if _frozen_once:
            return
        _frozen_once = True
    gc.collect()
    gc.freeze()
