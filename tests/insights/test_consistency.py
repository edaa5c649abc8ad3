"""Omnichannel consistency and hand-offs on hand-made data."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from touchlens.insights import consistency as C
from touchlens.journeys import builtin_catalogue, journey_events

from .conftest import events


def test_handoffs_hand_counts():
    rows = [
        ("a", 0, "product_page", "page_view", "web"), ("a", 1, "app_home", "app_open", "app"),
        ("a", 2, "store_visit", "store_visit", "store"),
        ("a", 3, "store_cashier", "purchase", "store"),
        ("b", 0, "product_page", "page_view", "web"), ("b", 1, "newsletter", "delivered", "email"),
        ("b", 2, "product_page", "page_view", "web"),
        ("c", 0, "app_home", "app_open", "app"), ("c", 1, "app_home", "page_view", "app"),
        ("d", 0, "product_page", "page_view", "web"), ("d", 1, "app_home", "app_open", "app"),
    ]
    con = ibis.duckdb.connect()
    t = journey_events(con.create_table("events", events(rows)))
    df = C.handoffs_frame(con.execute(C.channel_handoffs(t)))
    got = {(r.from_channel, r.to_channel): (r.journeys, r.conversions) for r in df.itertuples()}
    assert got == {("web", "app"): (2, 1), ("app", "store"): (1, 1)}
    assert df.single_channel_rate.iloc[0] == 0.0
    row = df[(df.from_channel == "web")].iloc[0]
    assert row.success_rate == 0.5 and row.success_low < 0.5 < row.success_high


def test_purpose_map_rules():
    mix = pd.DataFrame({
        "touchpoint": ["support_chat", "checkout", "checkout", "product_page", "newsletter",
                       "display_banner", "product_review", "loyalty_programme"],
        "event_type": ["chat", "checkout", "purchase", "page_view", "delivered", "impression",
                       "page_view", "engagement"],
        "is_conversion": [False, False, True, False, False, False, False, False],
        "n": [5, 10, 4, 50, 30, 80, 20, 9]})
    out = C.purpose_map(builtin_catalogue(), mix, {"loyalty_programme": "loyalty"})
    assert out == {"support_chat": "support", "checkout": "buy", "product_page": "browse",
                   "newsletter": "messaging", "display_banner": "advertising",
                   "loyalty_programme": "loyalty"}  # product_review: third party, left out


def test_consistency_flags_and_index():
    journeys = pd.DataFrame({
        "purpose": ["support", "support", "advertising", "advertising"],
        "channel": ["chat", "call_center", "display", "social_paid"],
        "customers": [100, 100, 500, 500], "journeys": [100, 100, 500, 500],
        "converting": [10, 30, 20, 80]})
    fb = pd.DataFrame({"purpose": ["support", "support"], "channel": ["chat", "call_center"],
                       "csat_n": [100, 100], "csat_top2": [40, 80]})
    episodes = pd.DataFrame({"channel": ["chat", "call_center"], "episodes": [50, 40],
                             "resolution_hours": [2.0, 1.0], "repeat_contacts": [10, 0]})
    df = C.consistency_frame(journeys, fb, None, episodes).set_index(["purpose", "channel"])
    chat = df.loc[("support", "chat")]
    assert chat.breaks_experience
    assert "CSAT 40% vs 80%" in chat.reason and "conversion 10% vs 30%" in chat.reason
    assert chat.csat_gap == pytest.approx(-0.4)
    assert chat.repeat_contact_rate == pytest.approx(0.2)
    assert not df.loc[("support", "call_center")].breaks_experience
    # advertising channels differ by design: reported, never flagged
    assert not df.loc[("advertising", "display")].breaks_experience
    assert chat.consistency_index == pytest.approx(100 * (1 - (0.4 + 0.2 + 0.5) / 3))
    assert df.loc[("advertising", "display")].consistency_index == pytest.approx(88.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_channel_journeys_from_the_stored_journeys_equal_the_computed(tmp_path, seed):
    """Which journeys converted, read from the stored journeys, gives the same counts as
    grouping the events by journey."""
    from touchlens import Workspace
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(300, seed=seed, days=30)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        tagged = ws.journey_events()
        assert ws.journeys_stored()
        purposes = C.purpose_map(ws.touchpoints(), ws.store.execute(C.event_mix(tagged)))
        keys = ["purpose", "channel"]
        computed = ws.store.execute(C.channel_journeys(tagged, purposes)).sort_values(
            keys, ignore_index=True)
        stored = ws.store.execute(C.channel_journeys(tagged, purposes, ws.journeys_table())
                                  ).sort_values(keys, ignore_index=True)
    assert computed["converting"].sum() > 0
    pd.testing.assert_frame_equal(stored, computed)
