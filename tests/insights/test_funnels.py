"""Funnels: hand-computed cases, the rules of the window, and an oracle under hypothesis."""

from __future__ import annotations

import math
from itertools import pairwise

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError
from touchlens.insights import funnels as FU
from touchlens.journeys import builtin_catalogue, journey_events

from .conftest import events

STEPS = ["product_page", "add_to_cart", "checkout", "purchase"]
KIND = {"product_page": ("product_page", "page_view"), "add_to_cart": ("cart", "add_to_cart"),
        "checkout": ("checkout", "checkout"), "purchase": ("checkout", "purchase")}

HAND = [
    ("a", 0, *KIND["product_page"]), ("a", 1, *KIND["add_to_cart"]),
    ("a", 2, *KIND["checkout"]), ("a", 3, *KIND["purchase"]),
    ("b", 0, *KIND["product_page"]), ("b", 2, *KIND["add_to_cart"]),
    ("b", 5, *KIND["checkout"]),
    ("c", 0, *KIND["product_page"]), ("c", 4, *KIND["add_to_cart"]),
    ("d", 0, *KIND["product_page"]),
    ("e", 0, *KIND["add_to_cart"]),
    ("f", 0, *KIND["add_to_cart"]), ("f", 1, *KIND["product_page"]),
]


def _run(rows, steps=STEPS, within=None, per="customer", by=None):
    con = ibis.duckdb.connect()
    tagged = journey_events(con.create_table("events", events(rows)))
    units = FU.funnel_units(tagged, steps, within_seconds=within, per=per, by=by)
    counts = con.execute(FU.funnel_counts(units, len(steps)))
    return FU.funnel_frame(counts, steps, by)


def test_hand_funnel_counts_rates_and_times():
    df = _run(HAND)
    assert df["n"].tolist() == [5, 3, 2, 1]
    assert df["rate_from_previous"].tolist()[1:] == pytest.approx([0.6, 2 / 3, 0.5])
    assert df["rate_from_first"].tolist() == pytest.approx([1, 0.6, 0.4, 0.2])
    assert df["drop_off"].tolist()[:3] == pytest.approx([0.4, 1 / 3, 0.5])
    assert math.isnan(df["drop_off"].iloc[3])
    assert df["n_dropped"].tolist()[:3] == [2, 1, 1]
    # step 2 waits: a 1 h, b 2 h, c 4 h → median 2, p90 3.6 (interpolated)
    assert df["median_hours"].tolist()[1:] == pytest.approx([2.0, 2.0, 1.0])
    assert df["p90_hours"].tolist()[1:] == pytest.approx([3.6, 2.8, 1.0])
    assert df["rate_low"].iloc[1] < 0.6 < df["rate_high"].iloc[1]


def test_within_window_and_later_start():
    rows = [*HAND, ("g", 0, *KIND["product_page"]), ("g", 10, *KIND["product_page"]),
            ("g", 11, *KIND["add_to_cart"])]
    df = _run(rows, within=2 * 3600)
    # a: checkout at 2 h is inside, purchase at 3 h is not; b: cart at 2 h; c: cart too late;
    # g: the start at 0 h fails, the start at 10 h reaches the cart
    assert df["n"].tolist() == [6, 3, 1, 0]


def test_split_by_channel_partitions_units():
    rows = [*HAND, ("h", 0, "product_page", "page_view", "app")]
    df = _run(rows, by="channel")
    assert set(df["channel"]) == {"product", "app"}
    assert df.groupby("step")["n"].sum().tolist() == [6, 3, 2, 1]


def test_stage_funnel_effective_stages():
    rows = [("u1", 0, "display_banner", "impression"), ("u1", 1, "product_page", "page_view"),
            ("u1", 2, "checkout", "checkout"), ("u1", 3, "checkout", "purchase"),
            ("u1", 50, "delivery_courier", "delivered"), ("u1", 100, "customer_review", "review"),
            ("u2", 0, "newsletter", "delivered"), ("u2", 5, "product_page", "page_view"),
            ("u3", 0, "product_page", "page_view"),
            ("u4", 0, "cart", "add_to_cart")]
    con = ibis.duckdb.connect()
    tagged = journey_events(con.create_table("events", events(rows)))
    units = FU.stage_funnel_units(tagged, builtin_catalogue())
    df = FU.funnel_frame(con.execute(FU.funnel_counts(units, 5)), list(FU.STAGES), None)
    assert df["n"].tolist() == [4, 4, 1, 1, 1]
    # consideration: u1 after 1 h, u2 after 5 h, u3 and u4 at once → median 0.5 h
    assert df["median_hours"].tolist()[1:] == pytest.approx([0.5, 2.0, 47.0, 50.0])


def test_validate_steps():
    assert FU.validate_steps("a, b,c") == ["a", "b", "c"]
    assert FU.validate_steps(None) is None
    with pytest.raises(ConfigError):
        FU.validate_steps("only_one")


# ------------------------------------------------------------------ oracle


def _oracle(rows, steps, within_h):
    """n per step: for each customer, the deepest greedy chain over every step-1 start."""
    by_c: dict[str, list] = {}
    for i, (c, h, tp, et) in enumerate(rows):
        by_c.setdefault(c, []).append((h, et == "purchase", f"e{i:05d}", tp, et))
    n = [0] * len(steps)
    for evs in by_c.values():
        evs.sort()
        best = 0
        for i, (h0, _, _, tp, et) in enumerate(evs):
            if steps[0] not in (tp, et):
                continue
            depth, pos = 1, i
            for step in steps[1:]:
                nxt = next((j for j in range(pos + 1, len(evs)) if step in evs[j][3:]), None)
                if nxt is None or (within_h is not None and evs[nxt][0] - h0 > within_h):
                    break
                depth, pos = depth + 1, nxt
            best = max(best, depth)
        for k in range(best):
            n[k] += 1
    return n


ROW = st.tuples(st.sampled_from(["x", "y", "z", "w"]), st.integers(0, 40),
                st.sampled_from(list(KIND))).map(lambda r: (r[0], r[1], *KIND[r[2]]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=30),
       within=st.one_of(st.none(), st.integers(1, 30)))
def test_funnel_equals_oracle_and_is_monotone(rows, within):
    df = _run(rows, within=None if within is None else within * 3600)
    expected = _oracle(rows, STEPS, within)
    got = df["n"].tolist() if len(df) else [0] * len(STEPS)
    assert got == expected
    assert all(a >= b for a, b in pairwise(got))
