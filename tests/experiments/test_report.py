"""Declared experiments on a workspace: units, outcomes and statistics against hand counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from touchlens.errors import ConfigError
from touchlens.experiments import load_experiments, parse_experiment, two_proportion_ztest
from touchlens.experiments.report import SUMMARY_COLUMNS, attribute_value
from touchlens.store.schema import EVENTS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPEC = {"name": "green-button", "touchpoint": "checkout_page", "variants": ["control", "green"],
        "metrics": ["conversion", "revenue", "event:add_to_cart"], "start": "2026-03-01",
        "end": "2026-03-20"}


def _event(i: int, customer: str, at: datetime, tp: str, etype: str, *, revenue: float | None
           = None, attributes: dict | None = None) -> dict[str, Any]:
    return {"event_id": f"e{i}", "occurred_at": at, "customer_id": customer, "anonymous_id": None,
            "channel": "web", "touchpoint": tp, "event_type": etype, "order_id": None,
            "revenue": revenue, "currency": "EUR" if revenue is not None else None, "cost": None,
            "campaign": None, "device": None,
            "attributes": json.dumps(attributes) if attributes is not None else None}


def experiment_events() -> tuple[pa.Table, dict[str, Any]]:
    """40 customers per variant, exposed on different days; the truth counted by hand."""
    rows, i = [], 0
    truth: dict[str, Any] = {"control": {"n": 0, "conv": 0, "cart": 0, "revenue": []},
                             "green": {"n": 0, "conv": 0, "cart": 0, "revenue": []}}
    for c in range(80):
        variant = "control" if c % 2 == 0 else "green"
        cust = f"c{c:03d}"
        seen = T0 + timedelta(days=c % 5, minutes=c)
        # an earlier purchase, before exposure: never counted
        rows.append(_event(i := i + 1, cust, seen - timedelta(days=1), "checkout_page",
                           "purchase", revenue=999.0))
        rows.append(_event(i := i + 1, cust, seen, "checkout_page", "page_view",
                           attributes={"variant": variant, "other": 1}))
        truth[variant]["n"] += 1
        buys = (c % 3 == 0) if variant == "control" else (c % 3 != 2)
        revenue = 0.0
        if buys:
            revenue = 10.0 + c
            rows.append(_event(i := i + 1, cust, seen + timedelta(hours=2), "checkout_page",
                               "purchase", revenue=revenue))
            truth[variant]["conv"] += 1
        if c % 4 == 1:
            rows.append(_event(i := i + 1, cust, seen + timedelta(hours=1), "cart",
                               "add_to_cart"))
            truth[variant]["cart"] += 1
        truth[variant]["revenue"].append(revenue)
    # a customer exposed to both variants: excluded; exposures after `end` and at another
    # touchpoint or with an unknown variant: ignored
    rows.append(_event(i := i + 1, "both", T0, "checkout_page", "page_view",
                       attributes={"variant": "control"}))
    rows.append(_event(i := i + 1, "both", T0 + timedelta(hours=1), "checkout_page", "page_view",
                       attributes={"variant": "green"}))
    rows.append(_event(i := i + 1, "late", datetime(2026, 3, 25, tzinfo=UTC), "checkout_page",
                       "page_view", attributes={"variant": "green"}))
    rows.append(_event(i := i + 1, "other", T0, "homepage", "page_view",
                       attributes={"variant": "green"}))
    rows.append(_event(i := i + 1, "odd", T0, "checkout_page", "page_view",
                       attributes={"variant": "purple"}))
    return pa.Table.from_pylist(rows, schema=EVENTS), truth


@pytest.fixture
def ws_with_experiment(make_workspace: Callable[..., Any]) -> tuple[Any, dict[str, Any]]:
    ws = make_workspace()
    events, truth = experiment_events()
    ws.ingest_arrow(events, "events")
    ws.declare_experiment(SPEC)
    return ws, truth


def test_report_counts_units_and_outcomes_like_the_hand_count(ws_with_experiment: Any) -> None:
    ws, truth = ws_with_experiment
    df = ws.experiment_report("green-button")
    assert list(df.columns) == list(SUMMARY_COLUMNS)
    assert df["excluded_units"].eq(1).all()
    conv = df[df.metric == "conversion"].set_index("variant")
    cart = df[df.metric == "event:add_to_cart"].set_index("variant")
    for v in ("control", "green"):
        assert conv.loc[v, "n_units"] == truth[v]["n"] == 40
        assert conv.loc[v, "successes"] == truth[v]["conv"]
        assert cart.loc[v, "successes"] == truth[v]["cart"]
    ref = two_proportion_ztest(truth["control"]["conv"], 40, truth["green"]["conv"], 40)
    assert conv.loc["green", "p_value"] == pytest.approx(ref.p_value, rel=1e-12)
    assert bool(conv.loc["green", "significant"]) == (ref.p_value < 0.05)
    assert conv.loc["green", "prob_beats_control"] > 0.99
    assert np.isnan(conv.loc["control", "p_value"])


def test_revenue_uses_welch_on_per_unit_revenue(ws_with_experiment: Any) -> None:
    ws, truth = ws_with_experiment
    df = ws.experiment_report("green-button")
    rev = df[df.metric == "revenue"].set_index("variant")
    a, b = np.array(truth["control"]["revenue"]), np.array(truth["green"]["revenue"])
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert rev.loc["control", "value"] == pytest.approx(a.mean())
    assert rev.loc["green", "p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert rev.loc["green", "test"] == "Welch t-test"


def test_daily_looks_are_cumulative_and_end_at_the_totals(ws_with_experiment: Any) -> None:
    ws, truth = ws_with_experiment
    looks = ws.experiment_looks("green-button")
    conv = looks[looks.metric == "conversion"]
    assert conv["n_a"].is_monotonic_increasing and conv["x_b"].is_monotonic_increasing
    last = conv.iloc[-1]
    assert (last.n_a, last.x_a, last.n_b, last.x_b) == (40, truth["control"]["conv"], 40,
                                                        truth["green"]["conv"])
    report = ws.experiment_report("green-button").set_index(["metric", "variant"])
    assert report.loc[("conversion", "green"), "p_always_valid"] == pytest.approx(last.p_value)


def test_sample_ratio_mismatch_is_flagged(make_workspace: Callable[..., Any]) -> None:
    ws = make_workspace()
    events, _ = experiment_events()
    ws.ingest_arrow(events, "events")
    ws.declare_experiment({**SPEC, "weights": [0.9, 0.1]})
    df = ws.experiment_report("green-button")
    assert df["srm_mismatch"].all() and df["srm_p_value"].iloc[0] < 1e-6


def test_experiment_attribute_and_journey_units(make_workspace: Callable[..., Any]) -> None:
    ws = make_workspace()
    events, _ = experiment_events()
    ws.ingest_arrow(events, "events")
    ws.declare_experiment({**SPEC, "name": "other-test", "experiment_attribute": "experiment"})
    df = ws.experiment_report("other-test")
    assert (df["n_units"] == 0).all()  # no event names this experiment
    ws.declare_experiment({**SPEC, "name": "by-journey", "assignment_unit": "journey"})
    by_journey = ws.experiment_report("by-journey")
    conv = by_journey[by_journey.metric == "conversion"].set_index("variant")
    assert conv["n_units"].sum() == 80  # one journey per customer starts at its exposure


def test_attribute_value_reads_strings_numbers_and_booleans(make_workspace: Callable[..., Any]
                                                           ) -> None:
    ws = make_workspace()
    rows = [{"variant": "B"}, {"variant": 2}, {"variant": True}, {"x": {"variant": "nested"}},
            {"other": 1}, None]
    table = pa.Table.from_pylist([_event(k, "c", T0, "tp", "page_view", attributes=a)
                                  for k, a in enumerate(rows)], schema=EVENTS)
    ws.ingest_arrow(table, "events")
    t = ws.store.table("events").order_by("event_id")
    got = ws.store.execute(t.select(v=attribute_value(t.attributes, "variant")))["v"].tolist()
    assert got[:3] == ["B", "2", "true"]
    assert [g is None or g != g for g in got[4:]] == [True, True]


def test_declarations_from_yaml_and_errors(tmp_path: Path, make_workspace: Callable[..., Any]
                                           ) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("experiments:\n"
                    "  - name: a\n    touchpoint: t\n    variants: [x, y]\n    start: 2026-01-01\n"
                    "  - name: b\n    touchpoint: t\n    variants: [x, y, z]\n"
                    "    start: 2026-01-01T10:00:00+02:00\n    end: 2026-02-01\n"
                    "    metrics: [conversion, 'event:click']\n", encoding="utf-8")
    _, b = load_experiments(path)
    assert b.start == datetime(2026, 1, 1, 8, tzinfo=UTC) and b.control == "x"
    ws = make_workspace()
    assert ws.declare_experiment(path) == ["a", "b"]
    ws.declare_experiment({**b.model_dump(), "variants": ["x", "w"]})  # replaces by name
    listed = ws.experiments()
    assert listed["name"].tolist() == ["a", "b"] and listed["variants"].iloc[1] == ["x", "w"]
    with pytest.raises(ConfigError, match="no experiment named 'c'; declared: a, b"):
        ws.experiment_report("c")
    for bad, msg in [({"variants": ["x"]}, "variants"), ({"metrics": ["ctr"]}, "unknown metric"),
                     ({"end": "2025-01-01"}, "not after"), ({"weights": [1]}, "weights"),
                     ({"variant_attribute": "a.b"}, "variant_attribute")]:
        with pytest.raises(ConfigError, match=msg):
            parse_experiment({**SPEC, **bad})


def test_simulated_experiment_finds_the_true_lift() -> None:
    from touchlens import Workspace
    from touchlens.experiments.simulate import assign_variants
    from touchlens.simulate import simulate_retailer

    world = assign_variants(simulate_retailer(3000, seed=5, days=45), "product_page",
                            lift=0.5, seed=1)
    with Workspace.open(":memory:") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.declare_experiment({"name": "pp", "touchpoint": "product_page",
                               "variants": ["control", "treatment"], "start": "2026-01-01"})
        conv = ws.experiment_report("pp").set_index("variant")
    assert conv.loc["treatment", "lift"] > 0.15 and conv.loc["treatment", "p_value"] < 0.01
    assert not conv["srm_mismatch"].any()


@pytest.mark.parametrize("backend", [pytest.param("spark", marks=pytest.mark.spark)],
                         indirect=True)
def test_spark_gives_the_same_report(make_workspace: Callable[..., Any], tmp_path: Path) -> None:
    from touchlens import Workspace

    events, _ = experiment_events()
    frames = []
    for ws in (Workspace.open(tmp_path / "e.duckdb"), make_workspace()):
        with ws:
            ws.ingest_arrow(events, "events")
            ws.declare_experiment(SPEC)
            frames.append(ws.experiment_report("green-button"))
    cols = ["metric", "variant", "n_units", "successes", "value", "p_value", "p_always_valid",
            "excluded_units"]
    import pandas as pd

    pd.testing.assert_frame_equal(frames[0][cols], frames[1][cols], check_dtype=False)
