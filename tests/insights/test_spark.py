"""The insights expressions give the same numbers on Spark as on DuckDB (one small world).

Slow (minutes on 2 cores): a funnel, flows and the moments of truth only; the stage funnel
and the journey map passed the same comparison when checked by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.insights import service

from .test_moments import _world


@pytest.mark.parametrize("backend", [pytest.param("spark", marks=pytest.mark.spark)])
def test_spark_matches_duckdb(make_workspace, tmp_path, backend):
    ev, fb, _ = _world(n=150, seed=5)
    spark_ws = make_workspace("spark")
    duck_ws = Workspace.open(tmp_path / "duck.duckdb")
    try:
        for ws in (spark_ws, duck_ws):
            ws.ingest_arrow(ev, "events")
            ws.ingest_arrow(fb, "feedback")

        def both(fn):
            return fn(spark_ws), fn(duck_ws)

        s, d = both(lambda w: service.funnel(w, "visit,purchase", within="20d", by="channel"))
        pd.testing.assert_frame_equal(s, d, check_dtype=False, atol=1e-9)
        s, d = both(lambda w: service.flows(w, "homepage", steps=2))
        pd.testing.assert_frame_equal(s, d, check_dtype=False, atol=1e-9)
        s, d = both(lambda w: service.moments(w, sentiment=None).moments)
        cols = ["touchpoint", "signal", "outcome", "n_bad", "n_good", "gap", "gap_low"]
        pd.testing.assert_frame_equal(s[cols], d[cols], check_dtype=False, atol=1e-9)
    finally:
        duck_ws.close()
