"""The shortcuts taken for speed give the results of the long way round.

- a path table with one row per journey is merged into distinct paths before any model runs
  (``validate_distinct``): every model must give what it gives on the distinct-path table;
- order-1 Markov reads the step before from ``prev_label`` instead of a window;
- the counterfactual's logistic fits run on grouped rows by Newton's method (scikit-learn's
  objective), start the folds of the cross-validation from the fit on all their journeys,
  and above ``CV_MAX_JOURNEYS`` choose the model on a random sample of journeys.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens.attribution import attribute, from_path_frame
from touchlens.attribution.counterfactual import Spec, cv_sample, fit
from touchlens.attribution.markov import transitions_expr
from touchlens.attribution.pathfile import (
    first_rows,
    split_distinct,
    validate_distinct,
    validate_paths,
)
from touchlens.errors import SchemaError

LABELS = ["search", "email", "social", "direct"]


def journeys_table(n: int, seed: int) -> pd.DataFrame:
    """One row per journey (0/1 counts), paths repeating as they do in real exports."""
    rng = np.random.default_rng(seed)
    paths = [" > ".join(rng.choice(LABELS, size=rng.integers(0, 4))) for _ in range(n)]
    conv = (rng.random(n) < 0.3).astype(float)
    return pd.DataFrame({"path": paths, "total_conversions": conv,
                         "total_conversion_value": conv * rng.uniform(10, 90, n),
                         "total_null": 1.0 - conv})


def distinct_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["total_conversions", "total_conversion_value", "total_null"]
    return df.groupby("path", as_index=False, sort=False)[cols].sum()


@given(st.lists(st.integers(0, 6), max_size=60))
def test_first_rows_finds_each_codes_first_appearance(values: list[int]) -> None:
    # number values in order of first appearance, as Arrow's dictionary_encode does
    order = list(dict.fromkeys(values))
    codes = np.array([order.index(v) for v in values], dtype=np.int64)
    expected = [values.index(v) for v in order]
    assert first_rows(codes).tolist() == expected


def test_distinct_merge_sums_counts_and_keeps_first_appearance_order() -> None:
    df = pd.DataFrame({"path": ["a > b", "c", "a >  b ", "a > b", ""],
                       "total_conversions": [1, 0, 2, 1, 1], "total_null": [0, 1, 0, 3, 2]})
    clean, steps = validate_distinct(df)
    assert clean["path"].tolist() == ["a > b", "c", ""]  # spacing around steps is not a path
    assert clean["total_conversions"].tolist() == [4.0, 0.0, 1.0]
    assert clean["total_null"].tolist() == [3.0, 1.0, 2.0]
    assert steps.lengths.tolist() == [2, 1, 0]
    assert steps.labels.to_pylist() == ["a", "b", "c"]
    per_row, row_steps = validate_paths(df)
    assert per_row["path"].tolist() == ["a > b", "c", "a > b", "a > b", ""]
    assert row_steps.lengths.tolist() == [2, 1, 2, 2, 0]


def test_errors_name_the_first_row_of_a_repeated_bad_path() -> None:
    df = pd.DataFrame({"path": ["a > b", "a >  > b", "c", "a >  > b"],
                       "total_conversions": [1, 1, 1, 1]})
    with pytest.raises(SchemaError, match="row 2: empty step"):
        validate_distinct(df)
    codes, _ = split_distinct(pd.Series(["x", "y", "x"]), " > ")
    assert codes.tolist() == [0, 1, 0]


@pytest.mark.parametrize("seed", [0, 1])
def test_every_model_gives_the_same_on_journeys_and_distinct_paths(seed: int) -> None:
    journeys = journeys_table(3_000, seed)
    per_journey = attribute(journeys, "all", bootstrap=0)
    distinct = attribute(distinct_table(journeys), "all", bootstrap=0)
    key = ["model", "channel"]
    a = per_journey.sort_values(key, ignore_index=True)
    b = distinct.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a[key], b[key])
    np.testing.assert_allclose(a["conversions"], b["conversions"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a["revenue"], b["revenue"], rtol=1e-9, atol=1e-6)


def test_order_one_transitions_from_prev_label_equal_the_window_version() -> None:
    source = from_path_frame(journeys_table(2_000, 3))
    fast = source.execute(transitions_expr(source, 1))
    t = source.touches
    import ibis

    w = ibis.window(group_by=t.path_key, order_by=t.step)
    windowed = source.execute(
        t.mutate(f=t.label.lag().over(w).fill_null("(start)"))
        .filter((t.conversions + t.nulls) > 0)
        .group_by(["f", "label"]).agg(n=(t.conversions + t.nulls).sum()))
    walk = fast[~fast["to_state"].isin(["(conversion)", "(null)"])]
    got = walk.set_index(["from_state", "to_state"])["n"].sort_index()
    want = windowed.set_index(["f", "label"])["n"].rename_axis(
        ["from_state", "to_state"]).sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)


def _design(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = (rng.random((400, 6)) < 0.4).astype(float)
    x[:, 2] = 0.0  # an empty column, like the recency slots with recency off
    p = 1 / (1 + np.exp(-(x @ np.array([0.8, -0.5, 0.0, 1.2, 0.3, 0.0]) - 1.0)))
    n = rng.integers(1, 20, 400).astype(float)
    conv = rng.binomial(n.astype(int), p).astype(float)
    return x, conv, n - conv


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_grouped_newton_fit_equals_scikit_learn_on_ungrouped_rows(c: float) -> None:
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    x, conv, nulls = _design()
    fitted = fit(Spec("logistic", False, c), sp.csr_matrix(x), conv, nulls)
    y = np.r_[np.ones(400), np.zeros(400)]
    ref = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200, tol=1e-10)
    ref.fit(np.vstack([x, x]), y, sample_weight=np.r_[conv, nulls])
    np.testing.assert_allclose(fitted.estimator.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(fitted.estimator.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(fitted.predict(sp.csr_matrix(x)), ref.predict_proba(x)[:, 1],
                               atol=1e-7)


def test_grouped_fit_of_an_empty_column_is_zero() -> None:
    import scipy.sparse as sp

    x, conv, nulls = _design(2)
    fitted = fit(Spec("logistic", True, 1.0), sp.csr_matrix(x), conv, nulls)
    assert fitted.estimator.coef_[0, 2] == 0.0


def test_warm_started_fit_reaches_the_same_optimum() -> None:
    import scipy.sparse as sp

    x, conv, nulls = _design(1)
    spec = Spec("logistic", True, 0.1)
    xs = sp.csr_matrix(x)
    start = fit(spec, xs, conv, nulls)
    half_c, half_n = np.floor(conv / 2), np.floor(nulls / 2)
    cold = fit(spec, xs, half_c, half_n)
    warm = fit(spec, xs, half_c, half_n, start=start)
    np.testing.assert_allclose(warm.predict(xs), cold.predict(xs), atol=1e-9)
    assert warm.estimator.n_iter_ < cold.estimator.n_iter_


def test_cv_sample_keeps_small_data_and_thins_large_data() -> None:
    rng = np.random.default_rng(0)
    conv, nulls = np.array([3.0, 5.0]), np.array([10.0, 2.0])
    same = cv_sample(conv, nulls, 100, rng)
    assert same[0] is conv and same[1] is nulls
    big_c, big_n = np.full(1000, 40.0), np.full(1000, 60.0)
    c, n = cv_sample(big_c, big_n, 10_000, rng)
    assert (c <= big_c).all() and (n <= big_n).all()
    assert abs((c.sum() + n.sum()) - 10_000) < 400  # binomial thinning to about `most`
    frac_c, _frac_n = cv_sample(big_c * 0.5 + 0.25, big_n, 10_000, rng)
    assert frac_c[0] == 20.25  # fractional counts are not sampled


def test_counterfactual_notes_say_how_many_journeys_chose_the_model(monkeypatch) -> None:
    journeys = journeys_table(4_000, 5)
    result = attribute(journeys, "counterfactual")
    assert result.attrs["notes"]["counterfactual"]["cv_journeys"] == 4_000
    module = sys.modules["touchlens.attribution.counterfactual"]  # the package exports a
    monkeypatch.setattr(module, "CV_MAX_JOURNEYS", 1_000)  # function of the same name
    sampled = attribute(journeys, "counterfactual")
    notes = sampled.attrs["notes"]["counterfactual"]
    assert 800 < notes["cv_journeys"] < 1_200
    # the chosen model is still fitted on all journeys: credits barely move
    merged = result.merge(sampled, on=["model", "channel"])
    if notes["model"] == result.attrs["notes"]["counterfactual"]["model"]:
        np.testing.assert_allclose(merged["conversions_x"], merged["conversions_y"],
                                   rtol=1e-3, atol=0.5)


def patterns_of(journeys: int, seed: int):
    """The counterfactual model's patterns of a simulated journeys table."""
    from touchlens.attribution.features import parse_patterns, patterns_expr

    source = from_path_frame(journeys_table(journeys, seed))
    return parse_patterns(source.execute(patterns_expr(source)))


def test_subset_values_by_zeta_transform_equal_predictions_on_built_rows() -> None:
    from touchlens.attribution.counterfactual import subset_values
    from touchlens.attribution.features import Design, frequent_pairs, subset_rows

    pt = patterns_of(3_000, 7)
    design = Design(len(pt.labels), frequent_pairs(pt, 5.0), False)
    assert len(design.pairs)  # interactions take part
    x = design.full_matrix(pt)
    model = fit(Spec("logistic", True, 1.0), x, pt.conversions, pt.nulls)
    entries = design.entries(pt)
    for k in (1, 2, 3):
        part = np.flatnonzero(pt.k == k)
        masks = np.arange(1 << k, dtype=np.int64)
        built = model.predict(subset_rows(design, pt, part, masks, entries))
        fast = subset_values(model.coefficients(), pt, part, k, entries)
        np.testing.assert_allclose(fast.ravel(), built, rtol=1e-12, atol=1e-12)


def journey_touches(seed: int, n: int, journeys: int) -> pd.DataFrame:
    """Journey events as ``Workspace.journey_events`` gives them (random labels and times)."""
    rng = np.random.default_rng(seed)
    jid = rng.integers(0, journeys, n).astype(str)
    return pd.DataFrame({
        "journey_id": jid, "customer_id": jid, "event_id": np.arange(n).astype(str),
        "occurred_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
            rng.integers(0, 10_000, n), unit="min"),
        "channel": rng.choice(LABELS, n), "touchpoint": rng.choice(LABELS, n),
        "is_conversion": rng.random(n) < 0.1, "revenue": rng.uniform(0, 50, n)})


def test_lazy_journey_sources_are_materialised_once_per_call_when_read_twice(monkeypatch
                                                                            ) -> None:
    import ibis

    from touchlens.attribution import engine
    from touchlens.attribution.paths import from_journey_events

    con = ibis.duckdb.connect()
    con.create_table("touches", journey_touches(11, 600, 150))
    queries: list[str] = []

    def execute(expr):
        queries.append(ibis.to_sql(expr, dialect="duckdb"))
        return con.execute(expr)

    # without the event-level shortcuts (counts.py, order-1 transitions from the events),
    # which read no touches: every model here reads the touches
    source = dataclasses.replace(from_journey_events(con.table("touches"), execute),
                                 events=None, converted=None)
    assert not source.materialised
    before = set(con.list_tables())
    auto = engine.attribute(source, ["shapley", "markov"])
    assert set(con.list_tables()) == before  # the temp tables are released
    windows_auto = sum("OVER" in q for q in queries)
    queries.clear()
    monkeypatch.setattr(engine, "scans", lambda models, bootstrap=0, **_: 0)
    plain = engine.attribute(source, ["shapley", "markov"])
    assert windows_auto < sum("OVER" in q for q in queries)
    pd.testing.assert_frame_equal(auto, plain)


@given(rows=st.integers(1, 300), cols=st.integers(1, 40), density=st.floats(0.01, 0.9),
       seed=st.integers(0, 1000))
def test_gram_by_dense_blocks_equals_the_sparse_product(rows: int, cols: int, density: float,
                                                        seed: int) -> None:
    import scipy.sparse as sp

    from touchlens.attribution import logit

    rng = np.random.default_rng(seed)
    x = sp.random(rows, cols, density=density, format="csr", random_state=seed)
    w = rng.uniform(0, 3, rows)
    sparse = logit.gram(x, w, dense=False)
    np.testing.assert_allclose(logit.gram(x, w, dense=True), sparse, rtol=1e-10, atol=1e-12)
    old = logit.DENSE_CELLS
    try:  # blocks of a few rows: the sum over blocks is the same
        logit.DENSE_CELLS = 3 * cols
        np.testing.assert_allclose(logit.gram(x, w, dense=True), sparse, rtol=1e-10,
                                   atol=1e-12)
    finally:
        logit.DENSE_CELLS = old


def test_main_effect_entries_are_those_of_the_design_without_pairs() -> None:
    from touchlens.attribution.features import Design, frequent_pairs

    pt = patterns_of(2_000, 3)
    with_pairs = Design(len(pt.labels), frequent_pairs(pt, 5.0), False)
    assert len(with_pairs.pairs)
    plain = Design(len(pt.labels), np.zeros((0, 2), np.int64), False)
    for got, want in zip(with_pairs.main_effects(with_pairs.entries(pt)), plain.entries(pt),
                         strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_workspace_source_runs_every_model_without_materialising_the_touches() -> None:
    """With its events, no model of ``all`` reads the full touches table: nothing is
    cached (the rules read the converting journeys' own steps)."""
    import ibis

    from touchlens.attribution import engine
    from touchlens.attribution.paths import from_journey_events

    con = ibis.duckdb.connect()
    con.create_table("touches", journey_touches(5, 500, 120))
    source = from_journey_events(con.table("touches"), con.execute)
    assert engine.scans(engine.resolve_models("all", has_time=True), events=True) == 0
    made = []
    original = type(source).cached

    def spy(self):
        made.append(self)
        return original(self)

    before = set(con.list_tables())
    try:
        type(source).cached = spy
        result = engine.attribute(source, "all")
    finally:
        type(source).cached = original
    assert not made
    assert set(con.list_tables()) == before  # the journeys' temp table is released
    paths_once = source.with_paths_cached()
    try:
        assert paths_once.paths_cached and not paths_once.materialised
        pd.testing.assert_frame_equal(engine.attribute(paths_once, "all"), result)
    finally:
        paths_once.release()
