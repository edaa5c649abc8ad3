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


@pytest.fixture
def two_known(world) -> tuple[str, str]:
    """The first two known customers of the module's ``world`` (each with events of
    their own): the pair a shared login joins."""
    ev = world.events.to_pandas()
    known = ev[ev.customer_id.notna()].customer_id.drop_duplicates().sort_values()
    return known.iloc[0], known.iloc[1]
