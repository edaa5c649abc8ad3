"""Fixtures shared by the journey tests."""

from __future__ import annotations

import pytest

from touchlens.journeys import incremental


@pytest.fixture
def taken(monkeypatch) -> list[bool]:
    """What each incremental.refresh call answered (True: updated in place)."""
    seen: list[bool] = []
    real = incremental.refresh

    def spy(*args, **kwargs) -> bool:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(incremental, "refresh", spy)
    return seen
