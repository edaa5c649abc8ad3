"""Attribution over a workspace's journeys (tiny_events), on DuckDB and, once, on Spark."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.attribution import attribute, markov, result_columns


@pytest.fixture
def tiny_ws(tmp_path: Any, tiny_events: pa.Table) -> Workspace:
    ws = Workspace.open(tmp_path / "tiny.duckdb")
    ws.ingest_arrow(tiny_events, "events")
    yield ws
    ws.close()


def credit(df: pd.DataFrame, model: str, column: str = "conversions") -> dict[str, float]:
    g = df[(df["model"] == model) & (df[column] != 0)]
    return dict(zip(g.iloc[:, 1], g[column], strict=True))


def decay(*deltas_days: float, half_life: float = 7.0) -> list[float]:
    w = [2 ** (-d / half_life) for d in deltas_days]
    return [x / sum(w) for x in w]


def days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 86400


def ts(day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def expected_time_decay() -> dict[str, float]:
    """c1: display (last 1 Mar 09:05), search (2 Mar 10:00), web (10:01), email (3 Mar 18:30)
    → purchase 3 Mar 18:32; c3: search → signup; email (6 Mar 16:02), store (8 Mar 13:00)
    → purchase 8 Mar 13:15."""
    conv1, conv3 = ts(3, 18, 32), ts(8, 13, 15)
    d, s, w, e = decay(days(ts(1, 9, 5), conv1), days(ts(2, 10, 0), conv1),
                       days(ts(2, 10, 1), conv1), days(ts(3, 18, 30), conv1))
    e3, st = decay(days(ts(6, 16, 2), conv3), days(ts(8, 13, 0), conv3))
    return {"display": d, "search": s + 1.0, "web": w, "email": e + e3, "store": st}


EXPECTED = {  # channel level, nothing excluded (hand-computed from the fixture's docstring)
    "first": {"display": 1.0, "search": 1.0, "email": 1.0},
    "last": {"email": 1.0, "search": 1.0, "store": 1.0},
    "linear": {"display": 0.25, "search": 1.25, "web": 0.25, "email": 0.75, "store": 0.5},
}


def check_tiny(result: pd.DataFrame) -> None:
    for model, expected in EXPECTED.items():
        assert credit(result, model) == pytest.approx(expected)
    assert credit(result, "linear", "revenue") == pytest.approx(
        {"display": 30.0, "search": 30.0, "web": 30.0, "email": 70.0, "store": 40.0})
    assert credit(result, "time_decay") == pytest.approx(expected_time_decay())
    for _, g in result.groupby("model"):
        assert g["conversions"].sum() == pytest.approx(3.0)
        assert g["revenue"].sum() == pytest.approx(200.0)


def test_heuristics_on_tiny_journeys(tiny_ws: Workspace) -> None:
    result = tiny_ws.attribution(["first", "last", "linear", "time_decay"], exclude="none")
    assert tuple(result.columns) == result_columns("channel")
    check_tiny(result)


def test_default_excludes_site_channels(tiny_ws: Workspace) -> None:
    result = tiny_ws.attribution("linear")
    assert credit(result, "linear") == pytest.approx(
        {"display": 1 / 3, "search": 1 + 1 / 3, "email": 1 / 3 + 1.0})


def test_touchpoint_level(tiny_ws: Workspace) -> None:
    result = tiny_ws.attribution("last", level="touchpoint", exclude="none")
    assert tuple(result.columns) == result_columns("touchpoint")
    assert credit(result, "last") == {"newsletter": 1.0, "search_ad": 1.0, "store_cashier": 1.0}


def test_exported_paths_give_the_same_path_models(tiny_ws: Workspace) -> None:
    paths = tiny_ws.attribution_paths(exclude="none")
    assert sorted(paths["path"]) == ["display > search > web > email", "email > store",
                                     "search", "social > email > web > chat"]
    models = ["first", "last", "linear", "position", "markov", "shapley"]
    direct = tiny_ws.attribution(models, exclude="none")
    via_file = attribute(paths, models)
    key = ["model", "channel"]
    pd.testing.assert_frame_equal(direct.sort_values(key).reset_index(drop=True),
                                  via_file.sort_values(key).reset_index(drop=True),
                                  check_exact=False, atol=1e-9)
    assert markov(paths).attrs["notes"]["markov"]["states"] == 7


def test_compare_and_roi(tiny_ws: Workspace) -> None:
    table = tiny_ws.attribution_compare(["first", "last", "linear"], exclude="none")
    row = table.set_index("channel").loc["display"]
    assert row["spread"] == pytest.approx(1 / 3 - 0.0)
    roi = tiny_ws.attribution_roi("linear", exclude="none")
    search = roi.set_index("channel").loc["search"]
    assert search["spend"] == pytest.approx(1.2 + 0.2 + 1.1)  # event costs (no costs table)
    assert search["roas"] == pytest.approx(30.0 / 2.5)
    assert roi["suggested_spend"].sum() == pytest.approx(roi["spend"].sum())
    assert "Suggestion only" in roi.attrs["assumptions"]


@pytest.mark.spark
def test_spark_parity(make_workspace: Callable[..., Any], backend: str,
                      tiny_events: pa.Table) -> None:
    """The same expressions on both engines give the hand-computed numbers."""
    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    result = ws.attribution(["first", "last", "linear", "time_decay", "markov", "shapley"],
                            exclude="none")
    check_tiny(result)
    assert credit(result, "shapley") == pytest.approx(
        {"display": 0.25, "search": 1.25, "web": 0.25, "email": 0.75, "store": 0.5})
    local = markov(ws.attribution_paths(exclude="none"))  # exported on the engine, solved here
    assert credit(result, "markov") == pytest.approx(credit(local, "markov"))
