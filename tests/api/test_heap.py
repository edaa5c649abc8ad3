"""freeze_heap: collect then freeze; the writer's once-per-process call runs only once."""

from __future__ import annotations

import types

from touchlens.api import heap


def test_freeze_heap_collects_then_freezes_and_once_means_once(monkeypatch) -> None:
    calls: list[str] = []
    fake = types.SimpleNamespace(collect=lambda: calls.append("collect"),
                                 freeze=lambda: calls.append("freeze"))
    monkeypatch.setattr(heap, "gc", fake)
    monkeypatch.setattr(heap, "_frozen_once", False)
    heap.freeze_heap(once=True)
    heap.freeze_heap(once=True)  # a second writer start in this process: nothing
    assert calls == ["collect", "freeze"]
    heap.freeze_heap()  # after a warm-up: always
    assert calls == ["collect", "freeze", "collect", "freeze"]
