"""The counterfactual model's journey patterns: from the journey events (one aggregation per
journey, keys written by Arrow) they are the very rows the touches route gives."""

from __future__ import annotations

import dataclasses
import importlib

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.attribution.engine import attribute
from touchlens.attribution.paths import from_journey_events

features = importlib.import_module("touchlens.attribution.features")
counts = importlib.import_module("touchlens.attribution.counts")

CHANNELS = ["search", "email", "social", "direct", "web", "sms"]
TOUCHPOINTS = ["ad", "newsletter", "post", None, "cart", "reminder", "checkout"]


def journey_events(seed: int, n_events: int = 400, journeys: int = 60) -> pd.DataFrame:
    """Random journey events: repeats of one label (some past the cap), journeys without a
    touch, missing channels, anonymous visitors, conversions with revenue."""
    rng = np.random.default_rng(seed)
    jid = rng.integers(0, journeys, n_events)
    # a few journeys get a long run of one label, past counts.N_CAP
    long = np.repeat(rng.integers(0, journeys, 2), counts.N_CAP + 5)
    jid = np.concatenate([jid, long])
    n = len(jid)
    channel = rng.choice(np.array([*CHANNELS, None], dtype=object), n)
    channel[-len(long):] = "email"
    conv = rng.random(n) < 0.08
    return pd.DataFrame({
        "journey_id": [f"j{j}" for j in jid],
        "customer_id": [f"anonymous:{j}" if j % 7 == 0 else f"c{j}" for j in jid],
        "event_id": [f"e{i}" for i in range(n)],
        "occurred_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
            rng.integers(0, 20_000, n), unit="min"),
        "channel": channel,
        "touchpoint": rng.choice(np.array(TOUCHPOINTS, dtype=object), n),
        "is_conversion": conv,
        "revenue": np.where(conv, rng.uniform(5, 80, n).round(2), np.nan)})


def _source(events: pd.DataFrame, **kwargs):
    con = ibis.duckdb.connect()
    con.create_table("events", events)
    return from_journey_events(con.table("events"), con.execute, **kwargs)


def _assert_same_rows(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    slow = slow.reset_index(drop=True)
    assert fast["key"].astype(str).tolist() == slow["key"].astype(str).tolist()
    for col in ("conversions", "nulls"):
        np.testing.assert_array_equal(fast[col].to_numpy(float), slow[col].to_numpy(float))
    np.testing.assert_allclose(fast["revenue"].to_numpy(float),
                               slow["revenue"].to_numpy(float), rtol=1e-12, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), level=st.sampled_from(["channel", "touchpoint"]),
       anonymous=st.booleans(), exclude=st.sampled_from([None, "direct", "site", "post"]))
def test_patterns_from_events_equal_the_touches_route(seed: int, level: str, anonymous: bool,
                                                      exclude: str | None) -> None:
    source = _source(journey_events(seed), level=level, anonymous=anonymous, exclude=exclude)
    assert source.events is not None
    fast = features.pattern_frame(source)
    _assert_same_rows(fast, source.execute(features.patterns_expr(source)))
    assert (fast["key"] == "").sum() <= 1  # the journeys without a touch: one pattern
    assert fast["key"].str.contains(f"email{features.FIELD_SEP}{counts.N_CAP}").any() or (
        level == "touchpoint" or exclude is not None or not anonymous)


def test_many_labels_and_path_tables_take_the_touches_route(monkeypatch) -> None:
    source = _source(journey_events(3))
    slow = source.execute(features.patterns_expr(source))
    monkeypatch.setattr(counts, "WIDE_MAX_LABELS", 2)
    _assert_same_rows(features.pattern_frame(source), slow)
    without = dataclasses.replace(source, events=None)  # e.g. a ChannelAttribution table
    _assert_same_rows(features.pattern_frame(without), slow)


def test_counterfactual_credits_do_not_depend_on_the_route() -> None:
    source = _source(journey_events(5, n_events=3_000, journeys=500))
    fast = attribute(source, "counterfactual")
    slow = attribute(dataclasses.replace(source, events=None), "counterfactual")
    assert fast.attrs["notes"]["counterfactual"]["model"] == (
        slow.attrs["notes"]["counterfactual"]["model"])
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-9)


@pytest.mark.parametrize("options", [{}, {"shapley_value": "rate"}, {"bootstrap": 20}])
def test_shapley_credits_do_not_depend_on_the_route(options: dict) -> None:
    """Coalitions from the label counts are the touches route's rows (same keys, order)."""
    from touchlens.attribution.shapley import coalitions_expr, coalitions_of

    source = _source(journey_events(9, n_events=2_000, journeys=300))
    counted = counts.label_counts(source)
    slow_table = source.execute(coalitions_expr(source, len(counted.labels)))
    fast_table = coalitions_of(counted)
    assert fast_table["key"].tolist() == slow_table["key"].tolist()
    np.testing.assert_array_equal(fast_table["conversions"], slow_table["conversions"])
    fast = attribute(source, "shapley", **options)
    slow = attribute(dataclasses.replace(source, events=None), "shapley", **options)
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-9)


def test_both_models_share_one_count_query() -> None:
    source = _source(journey_events(4))
    queries: list[str] = []
    run = source.execute

    def execute(expr):
        queries.append(ibis.to_sql(expr, dialect="duckdb"))
        return run(expr)

    source = dataclasses.replace(source, execute=execute)
    attribute(source, ["shapley", "counterfactual"])
    assert sum("LEAST(" in q for q in queries) == 1  # the capped counts, read once
    assert not any(" OVER " in q for q in queries)  # and no window over the touches


def _plain(source):
    """The same source without its event-level shortcuts (the touches route only)."""
    return dataclasses.replace(source, events=None, converted=None, memo={})


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), level=st.sampled_from(["channel", "touchpoint"]),
       anonymous=st.booleans(), exclude=st.sampled_from([None, "direct", "site"]),
       hourly=st.booleans())
def test_order1_transitions_from_events_equal_the_touches_route(
        seed: int, level: str, anonymous: bool, exclude: str | None, hourly: bool) -> None:
    """One window over the events counts what the merged steps count (``hourly``: many
    touches share a timestamp, ordered by event id)."""
    from touchlens.attribution.markov import transitions, transitions_expr

    events = journey_events(seed)
    if hourly:
        events["occurred_at"] = events["occurred_at"].dt.floor("h")
    source = _source(events, level=level, anonymous=anonymous, exclude=exclude)
    keys = ["from_state", "to_state"]
    fast = transitions(source).sort_values(keys, ignore_index=True)
    slow = source.execute(transitions_expr(source)).sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(fast[keys], slow[keys])
    np.testing.assert_array_equal(fast["k"], slow["k"])
    np.testing.assert_allclose(fast["n"], slow["n"], rtol=1e-12)
    np.testing.assert_allclose(fast["value"], slow["value"], rtol=1e-12, atol=1e-9)


def test_every_model_gives_the_same_credits_on_both_routes() -> None:
    events = journey_events(12, n_events=2_500, journeys=400)
    events["occurred_at"] = events["occurred_at"].dt.floor("h")  # ties too
    source = _source(events)
    fast = attribute(source, "all")
    slow = attribute(_plain(source), "all")
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-9, atol=1e-9)


def test_rules_read_only_the_converting_journeys_events() -> None:
    source = _source(journey_events(2))
    sql = ibis.to_sql(source.credited_touches(), dialect="duckdb")
    assert "SEMI" in sql.upper() or "EXISTS" in sql.upper()  # restricted before the windows
    cached = source.cached()
    try:  # materialised touches: a filter of them, no windows again
        assert " OVER " not in ibis.to_sql(cached.credited_touches(), dialect="duckdb")
    finally:
        cached.release()


def test_a_workspace_without_touches_has_one_empty_pattern() -> None:
    events = journey_events(1)
    events["channel"] = pd.Series([None] * len(events), dtype="string")
    events["touchpoint"] = pd.Series([None] * len(events), dtype="string")
    source = _source(events)
    fast = features.pattern_frame(source)
    assert fast["key"].tolist() == [""]
    _assert_same_rows(fast, source.execute(features.patterns_expr(source)))


@pytest.mark.parametrize("level", ["channel", "touchpoint"])
def test_the_journey_events_carry_the_sources_filters(level: str) -> None:
    events = journey_events(8)
    source = _source(events, level=level, anonymous=False, exclude="email")
    ev = source.execute(source.events)
    assert not ev["path_key"].isin(
        events.loc[events.customer_id.str.startswith("anonymous:"), "journey_id"]).any()
    assert not ev.loc[ev.is_touch.fillna(False).astype(bool), "label"].isin(["email"]).any()


@pytest.mark.parametrize("level", ["channel", "touchpoint"])
def test_the_events_route_on_each_engine(make_workspace, backend: str, tiny_events,
                                         level: str) -> None:
    """Spark runs the same aggregation (``backend`` parametrises DuckDB and Spark)."""
    from touchlens.attribution.api import workspace_source

    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    source = workspace_source(ws, level=level, exclude="none")
    fast = features.pattern_frame(source)
    assert len(fast) > 1
    _assert_same_rows(fast, source.execute(features.patterns_expr(source)))
