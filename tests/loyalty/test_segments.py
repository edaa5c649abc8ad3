"""Segments: journey shape, preferred channel, RFM segment and CLV tier; profiles and the
per-segment scorecard, by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.errors import ConfigError
from touchlens.loyalty.segments import clv_tiers

from .conftest import purchase_events

# r researches on the web and buys at the store till; s visits a store and reads the
# newsletter, then buys online; p only browses.
ROWS = [
    ("r", "2024-05-01 10:00", None, None, "page_view", "web", "product_page"),
    ("r", "2024-05-01 10:05", None, None, "page_view", "web", "product_page"),
    ("r", "2024-05-03 12:00", 80.0, "o1", "purchase", "store", "store_cashier"),
    ("s", "2024-05-02 09:00", None, None, "store_visit", "store", "store_visit"),
    ("s", "2024-05-02 18:00", None, None, "open", "email", "newsletter"),
    ("s", "2024-05-04 18:00", 50.0, "o2", "purchase", "web", "checkout"),
    ("p", "2024-05-02 11:00", None, None, "page_view", "web", "product_page"),
    ("p", "2024-05-02 11:02", None, None, "page_view", "web", "homepage"),
]


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(purchase_events(ROWS), "events")
        yield ws


def test_customer_segments_by_hand(ws) -> None:
    s = ws.segments().set_index("customer_id")
    assert s["journey_shape"].to_dict() == {
        "p": "not converted yet",
        "r": "researches online, buys in store",
        "s": "researches online and offline, buys online",
    }
    assert s["preferred_channel"].to_dict() == {"p": "web", "r": "web", "s": "email"}
    assert s.loc["p", "rfm_segment"] == "prospect"


def test_profiles_and_scorecard(ws) -> None:
    prof = ws.segment_profiles().set_index("segment")
    row = prof.loc["researches online, buys in store"]
    assert (row["n_customers"], row["n_journeys"], row["n_conversions"]) == (1, 1, 1)
    assert row["typical_path"] == "web"
    assert prof.loc["not converted yet", "conversion_rate"] == 0.0
    card = ws.segment_scorecard(by="preferred_channel").set_index(["segment", "touchpoint"])
    assert card.loc[("web", "product_page"), "reach"] == 2  # r and p
    assert card.loc[("web", "product_page"), "touches"] == 3
    assert card.loc[("web", "product_page"), "conversion_rate"] == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="segment by must be one of"):
        ws.segment_profiles(by="colour")


def test_clv_tiers_split_20_30_50() -> None:
    clv = pd.DataFrame({"customer_id": [f"k{i}" for i in range(10)],
                        "clv": [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]})
    tiers = clv_tiers(clv).set_index("customer_id")["clv_tier"]
    assert tiers.value_counts().to_dict() == {"low": 5, "medium": 3, "high": 2}
    assert tiers["k0"] == "high" and tiers["k2"] == "medium" and tiers["k9"] == "low"
