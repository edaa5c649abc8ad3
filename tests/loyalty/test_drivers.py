"""Touchpoints and loyalty: the segment adjustment removes a difference the segment explains
(Simpson's paradox) and reproduces a hand-computed effect."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from touchlens import Workspace
from touchlens.loyalty import purchases
from touchlens.loyalty.drivers import loyalty_drivers

from .conftest import purchase_events

INDEX = "2024-03-31"


def _world() -> list[tuple]:
    """20 frequent recent buyers (H) and 20 one-time January buyers (L).

    loyalty_email reaches 10 of H and 4 of L; repeat rates within each group are the same
    for exposed and unexposed (H 0.5, L 0.25), so its adjusted effect is 0 while the naive
    difference is positive. review reaches 4 repeaters of H and 2 of L.
    """
    rows: list[tuple] = []
    order = 0

    def buy(c: str, when: str) -> None:
        nonlocal order
        order += 1
        rows.append((c, when, 10.0, f"o{order}"))

    def touch(c: str, tp: str, when: str) -> None:
        rows.append((c, when, None, None, "click", "email", tp))

    for i in range(20):
        h = f"h{i:02d}"
        for day in (2, 9, 16, 23, 30):
            buy(h, f"2024-03-{day:02d} 10:00")
        if i < 10:
            touch(h, "loyalty_email", "2024-03-20 09:00")
        repeat = i in (0, 1, 2, 3, 4, 10, 11, 12, 13, 14)  # 5 exposed + 5 unexposed
        if repeat:
            buy(h, "2024-05-15 10:00")
        if i in (0, 1, 10, 11):
            touch(h, "review", "2024-03-25 09:00")
    for i in range(20):
        lo = f"l{i:02d}"
        buy(lo, "2024-01-10 10:00")
        if i < 4:
            touch(lo, "loyalty_email", "2024-03-20 09:00")
        repeat = i in (0, 4, 5, 6, 7)  # 1 of 4 exposed, 4 of 16 unexposed
        if repeat:
            buy(lo, "2024-05-20 10:00")
        if i in (0, 4):
            touch(lo, "review", "2024-03-25 09:00")
    return rows


def _drivers(**kw):
    events = ibis.memtable(purchase_events(_world()))
    return loyalty_drivers(events, purchases(events), None, lambda e: e.to_pandas(),
                           index_date=INDEX, min_exposed=1, **kw)


def test_segment_adjustment_removes_what_the_segment_explains() -> None:
    out = _drivers().set_index(["touchpoint", "outcome"])
    row = out.loc[("loyalty_email", "repeat_purchase")]
    assert row["n_exposed"] == 14 and row["n_unexposed"] == 26
    assert row["naive_effect"] == pytest.approx(6 / 14 - 9 / 26)
    assert row["effect"] == pytest.approx(0.0, abs=1e-12)
    assert row["effect_low"] < 0 < row["effect_high"]
    assert row["n_strata"] == 2


def test_hand_computed_effect_and_revenue() -> None:
    out = _drivers().set_index(["touchpoint", "outcome"])
    row = out.loc[("review", "repeat_purchase")]
    # H: exposed 4/4 vs unexposed 6/16; L: 2/2 vs 3/18; weights 4/6 and 2/6
    want = 4 / 6 * (1 - 6 / 16) + 2 / 6 * (1 - 3 / 18)
    assert row["effect"] == pytest.approx(want)
    assert out.loc[("review", "revenue"), "effect"] == pytest.approx(10 * want)
    # no feedback: no NPS rows
    assert "nps" not in out.index.get_level_values("outcome")


def test_min_exposed_and_window_options() -> None:
    assert _drivers(exposure_days=1).empty  # no touch on the index day itself
    out = _drivers()
    assert set(out["touchpoint"]) == {"loyalty_email", "review"}


def test_workspace_method_and_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from touchlens.cli import app

    db = tmp_path / "ws.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest_arrow(purchase_events(_world()), "events")
        out = ws.loyalty_drivers(index_date=INDEX, min_exposed=5)
    assert set(out["touchpoint"]) == {"loyalty_email", "review"}
    result = CliRunner().invoke(app, ["loyalty", "drivers", "--db", str(db), "--index-date",
                                      INDEX, "--min-exposed", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "loyalty_email" in result.stdout
