"""The journey splitter equals a plain-Python oracle; fixed cases pin the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens import Workspace
from touchlens.store.schema import EVENTS

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONV = {"purchase", "signup"}


def _table(rows):
    data = [{"event_id": f"e{i:03d}", "occurred_at": T0 + timedelta(hours=h), "customer_id": c,
             "channel": tp.split("_")[0], "touchpoint": tp, "event_type": et,
             "revenue": 10.0 if et == "purchase" else None}
            for i, (c, h, tp, et) in enumerate(rows)]
    return pa.Table.from_pylist(data, schema=EVENTS)


def _collapse(items):
    out = []
    for x in items:
        if not out or out[-1] != x:
            out.append(x)
    return " > ".join(out)


def _oracle(rows, lookback_hours):
    """Journeys as (customer, n_touches, path, converted, revenue), sorted."""
    out = []
    by_customer = {}
    for i, (c, h, tp, et) in enumerate(rows):
        by_customer.setdefault(c, []).append((h, et in CONV, f"e{i:03d}", tp, et))
    for c, evs in by_customer.items():
        evs.sort()
        stretch = []
        for h, is_conv, _, tp, et in evs:
            if not is_conv:
                stretch.append((h, tp))
                continue
            old = [s for s in stretch if s[0] < h - lookback_hours]
            kept = [s for s in stretch if s[0] >= h - lookback_hours]
            if old:
                out.append((c, len(old), _collapse(t for _, t in old), False, 0.0))
            out.append((c, len(kept), _collapse(t for _, t in kept), True,
                        10.0 if et == "purchase" else 0.0))
            stretch = []
        if stretch:
            out.append((c, len(stretch), _collapse(t for _, t in stretch), False, 0.0))
    return sorted(out)


def _journeys(ws):
    j = ws.journeys()
    return sorted(zip(j.customer_id, j.n_touches, j.path, j.converted, j.revenue, strict=True))


events = st.tuples(
    st.sampled_from(["c1", "c2", "c3"]),
    st.integers(0, 24 * 60),
    st.sampled_from(["web_home", "email_news", "search_ad", "store_pos"]),
    st.sampled_from(["visit", "click", "open", "purchase", "signup"]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events, max_size=30), st.sampled_from([1.0, 7.0, 30.0]))
def test_splitter_matches_oracle(rows, lookback_days):
    ws = Workspace.open(":memory:", lookback_days=lookback_days)
    if rows:
        ws.store.append("events", _table(rows))
    assert _journeys(ws) == _oracle(rows, lookback_days * 24)


def test_fixed_case_on_every_backend(make_workspace, tiny_events):
    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    j = ws.journeys()
    got = {(r.customer_id, r.path, r.converted, r.revenue) for r in j.itertuples()}
    assert got == {
        ("c1", "display_banner > search_ad > product_page > newsletter", True, 120.0),
        ("c2", "social_post > newsletter > product_page > support_chat", False, 0.0),
        ("c3", "search_ad", True, 0.0),
        ("c3", "welcome_email > store_cashier", True, 80.0),
    }
    c1 = j[j.customer_id == "c1"].iloc[0]
    assert c1.n_touches == 5 and c1.channel_path == "display > search > web > email"
    assert c1.conversion_touchpoint == "checkout_page"
    assert c1.duration_hours == pytest.approx(2 * 24 + 9 + 32 / 60)
    top = ws.top_paths(top=2, level="channel")
    assert list(top.columns) == ["path", "n_journeys", "n_conversions", "conversion_rate",
                                 "revenue"]
    assert ws.top_paths(converting_only=True).n_conversions.sum() == 3


def test_conversion_without_touch_is_counted(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.store.append("events", _table([("c1", 0, "store_pos", "purchase")]))
    j = ws.journeys()
    assert len(j) == 1 and j.path.iloc[0] == "" and j.n_touches.iloc[0] == 0
    assert j.converted.iloc[0]


def test_simultaneous_touch_belongs_to_the_conversion_it_precedes(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.store.append("events", _table([("c1", 5, "web_home", "purchase"),
                                      ("c1", 5, "email_news", "click")]))
    j = ws.journeys()
    assert list(j.path) == ["email_news"] and bool(j.converted.iloc[0])
