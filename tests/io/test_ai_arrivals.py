"""The AI-assistant arrival rule for plain event files (utm_source / referrer → ai_answer)."""

from __future__ import annotations

import json

import pandas as pd

from touchlens import Workspace
from touchlens.io.adapters.referrals import tag_ai_arrivals

CSV = """\
event_id,occurred_at,customer_id,channel,touchpoint,event_type,revenue,utm_source,referrer
a1,2024-03-01T10:00:00Z,c1,web,landing_page,page_view,,chatgpt.com,
a2,2024-03-01T10:05:00Z,c1,web,checkout,purchase,120,chatgpt.com,
a3,2024-03-02T10:00:00Z,c2,paid_search,search_ad,click,,perplexity,
a4,2024-03-02T11:00:00Z,c3,,,visit,,,https://www.perplexity.ai/search/abc
a5,2024-03-02T12:00:00Z,c4,web,landing_page,page_view,,google,
a6,2024-03-02T13:00:00Z,c5,referral,,visit,,,https://chatgptfan.example.com/
"""


def test_plain_events_from_assistants_become_ai_answer_touches(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        r = ws.ingest(path, "events").iloc[0]
        assert (r.stored, r.quarantined) == (6, 0)
        ev = ws.store.execute(ws.store.table("events")).set_index("event_id")
        got = {i: (ev.loc[i, "channel"], ev.loc[i, "touchpoint"]) for i in ev.index}
        assert got == {
            "a1": ("ai_assistant", "ai_answer"),
            "a2": ("web", "checkout"),  # a purchase is never re-labelled
            "a3": ("paid_search", "search_ad"),  # a channel you set is kept
            "a4": ("ai_assistant", "ai_answer"),  # missing channel, assistant referrer
            "a5": ("web", "landing_page"),
            "a6": ("referral", "referral"),  # a host that merely contains "chatgpt"
        }
        kept = json.loads(ev.loc["a1", "attributes"])
        assert kept["original_channel"] == "web" and kept["original_touchpoint"] == "landing_page"
        assert kept["ai_source"] == "chatgpt.com"
        c1 = ws.journeys().set_index("customer_id").loc["c1"]
        assert (c1.path, c1.converted, c1.revenue) == ("ai_answer", True, 120.0)


def test_rule_reads_attributes_and_landing_urls():
    frame = pd.DataFrame({
        "channel": ["web", "web", "web"],
        "event_type": ["visit", "visit", "visit"],
        "attributes": ['{"utm_source": "claude.ai"}', '{"utm_source": "newsletter"}', None],
        "page_location": [None, None, "https://shop.pl/?utm_source=copilot.microsoft.com"],
    }, dtype=object)
    out = tag_ai_arrivals(frame)
    assert list(out.channel) == ["ai_assistant", "web", "ai_assistant"]
    assert list(out.ai_source) == ["claude.ai", None, "copilot.microsoft.com"]


def test_frames_without_source_columns_pass_through_untouched():
    frame = pd.DataFrame({"channel": ["web"], "event_type": ["visit"]}, dtype=object)
    assert tag_ai_arrivals(frame) is frame
