"""Flows, loops and first/last touchpoints on hand-built journeys."""

from __future__ import annotations

import ibis
import pytest

from touchlens.errors import ConfigError
from touchlens.insights import flows as F
from touchlens.journeys import journey_events

from .conftest import events

ROWS = [
    ("a", 0, "homepage", "visit"), ("a", 1, "product_page", "page_view"),
    ("a", 2, "product_page", "page_view"), ("a", 3, "cart", "add_to_cart"),
    ("a", 4, "checkout", "purchase"),
    ("b", 0, "homepage", "visit"), ("b", 1, "product_page", "page_view"),
    ("c", 0, "product_page", "page_view"), ("c", 1, "homepage", "visit"),
    ("c", 2, "product_page", "page_view"), ("c", 3, "cart", "add_to_cart"),
    ("d", 0, "product_page", "page_view"), ("d", 0.5, "checkout", "purchase"),
]


@pytest.fixture
def tagged():
    con = ibis.duckdb.connect()
    return con, journey_events(con.create_table("events", events(ROWS)))


def _links(df):
    return {(r.source_step, r.source, r.target_step, r.target): r.n_journeys
            for r in df.itertuples()}


def test_flows_after(tagged):
    con, t = tagged
    counts, anchor = F.flow_links(t, "product_page", direction="after", steps=2)
    n = int(con.execute(anchor).iloc[0, 0])
    df = F.flows_frame(con.execute(counts), n, "after")
    assert n == 4
    assert _links(df) == {
        (0, "product_page", 1, "cart"): 1, (1, "cart", 2, "(conversion)"): 1,
        (0, "product_page", 1, "(end)"): 1, (0, "product_page", 1, "homepage"): 1,
        (1, "homepage", 2, "product_page"): 1, (0, "product_page", 1, "(conversion)"): 1,
    }
    assert df["share"].max() == pytest.approx(0.25)
    row = df[(df.source == "product_page") & (df.target == "cart")].iloc[0]
    assert row.conversion_rate == 1.0


def test_flows_before(tagged):
    con, t = tagged
    counts, anchor = F.flow_links(t, "product_page", direction="before", steps=2)
    df = F.flows_frame(con.execute(counts), int(con.execute(anchor).iloc[0, 0]), "before")
    assert _links(df) == {
        (-1, "homepage", 0, "product_page"): 2, (-2, "(start)", -1, "homepage"): 2,
        (-1, "(start)", 0, "product_page"): 2,
    }


def test_flows_validates(tagged):
    _, t = tagged
    with pytest.raises(ConfigError):
        F.flow_links(t, "x", direction="sideways")
    with pytest.raises(ConfigError):
        F.flow_links(t, "x", steps=0)


def test_repeats_and_loops(tagged):
    con, t = tagged
    df = F.repeats_frame(con.execute(F.repeat_touches(t))).set_index("touchpoint")
    pp = df.loc["product_page"]
    assert (pp.journeys, pp.touches, pp.repeated_journeys, pp.loop_journeys) == (4, 6, 2, 1)
    assert pp.conversion_rate_loop == 0.0
    assert pp.conversion_rate_no_loop == pytest.approx(2 / 3)


def test_first_last_and_churn(tagged):
    con, t = tagged
    df = F.first_last_frame(con.execute(F.first_last(t, churn_days=1 / 24)))
    df = df.set_index("touchpoint")
    assert df.loc["homepage", "n_first_touch"] == 1
    assert df.loc["product_page", "n_first_touch"] == 1
    assert df.loc["cart", "n_last_touch"] == 1
    assert df.loc["product_page", "n_last_touch"] == 1
    assert df.loc["checkout", "n_last_before_churn"] == 1
    assert df["n_last_before_churn"].sum() == 1
    assert df["share_first_touch"].sum() == pytest.approx(1.0)
