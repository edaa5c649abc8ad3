"""GA4 BigQuery export adapter: field mapping, channel grouping, nothing lost, stitching."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from touchlens import SchemaError, UnreadableFileError, Workspace
from touchlens.cli import app
from touchlens.io.adapters.channels import channel_group, is_ai_source
from touchlens.io.adapters.ga4 import map_event, params, timestamp_us
from touchlens.io.adapters.ga4_events import page_touchpoint

DATA = Path(__file__).parents[1] / "data" / "ga4"
JSONL, PARQUET = DATA / "events.jsonl", DATA / "events.parquet"


def _events(ws: Workspace) -> pd.DataFrame:
    ev = ws.store.execute(ws.store.table("events"))
    ev["meta"] = pd.Series([json.loads(a) if a else {} for a in ev.attributes],
                            index=ev.index, dtype=object)
    ev["ga4_name"] = [a.get("event_name") for a in ev.meta]
    return ev


def test_jsonl_export_counts_reasons_and_invariant(make_workspace):
    ws = make_workspace()
    r = ws.ingest(JSONL, "events", format="ga4").iloc[0]
    assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (25, 18, 6, 1)
    assert r.rows_in == r.stored + r.quarantined + r.duplicates
    q = ws.quarantine()
    assert list(q.row_number) == [14, 15, 16, 17, 18, 20]
    assert list(q.field) == ["user_pseudo_id", "event_timestamp", "event_timestamp",
                             "event_name", "_line", "revenue"]
    assert "consent" in q.reason.iloc[0]
    assert "looks like milliseconds" in q.reason.iloc[2]
    assert "not a number" in q.reason.iloc[5]
    assert json.loads(q.raw.iloc[1])["event_timestamp"] == "not-a-ts"  # the GA4 row, as read


def test_field_by_field_mapping(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.ingest(JSONL, "events", format="ga4")
    ev = _events(ws).set_index("ga4_name", drop=False)
    arrivals = ev[ev.ga4_name == "session_start"].sort_values("occurred_at")
    assert list(zip(arrivals.channel, arrivals.touchpoint, arrivals.event_type, strict=True)) == [
        ("ai_assistant", "ai_answer", "visit"), ("paid_search", "search_ad", "visit"),
        ("organic_search", "organic_search_result", "visit"), ("direct", "direct_visit", "visit"),
    ]
    assert arrivals.campaign.iloc[1] == "buty_wiosna"
    assert arrivals.meta.iloc[0]["channel_group"] == "AI Assistant"
    assert arrivals.occurred_at.iloc[0] == pd.Timestamp("2024-03-01T10:00:00Z")
    buys = ev[ev.event_type == "purchase"].set_index("order_id")
    assert buys.loc["T-1001", "revenue"] == 249.99  # ecommerce.purchase_revenue
    assert buys.loc["T-1002", "revenue"] == 99.5  # only in the value param
    assert (buys.currency == "PLN").all() and (buys.touchpoint == "checkout").all()
    assert buys.loc["T-1001", "meta"]["items"][0]["item_id"] == "SKU-123"
    refund = ev.loc["refund"]
    assert (refund.event_type, refund.revenue, refund.order_id) == ("return", -249.99, "T-1001")
    unknown = ev.loc["newsletter_popup_shown"]
    assert (unknown.event_type, unknown.touchpoint) == ("other", "homepage")
    assert unknown.meta["params"]["popup_variant"] == "b"
    assert ev.loc["add_to_cart", "touchpoint"] == "cart"
    assert ev.loc["scroll", "event_type"] == "engagement"
    app_view = ev.loc["screen_view"]
    assert (app_view.channel, app_view.touchpoint, app_view.device) == ("app", "app_screen",
                                                                      "mobile")
    orphan = ev[(ev.ga4_name == "page_view") & (ev.channel == "ai_assistant")]
    assert len(orphan) == 1 and orphan.meta.iloc[0]["source"] == "perplexity.ai"
    assert set(ev.anonymous_id.dropna()) >= {"1111.1709287000", "2222.1709366000"}
    ws.close()


def test_parquet_export_gives_the_same_events_as_jsonl(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    r = ws.ingest(PARQUET, "events", format="ga4").iloc[0]
    assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (24, 18, 5, 1)
    again = ws.ingest(JSONL, "events", format="ga4").iloc[0]  # same rows, other container
    assert (again.stored, again.quarantined, again.duplicates) == (0, 6, 19)
    ws.close()


def test_login_stitches_the_browser_to_the_customer_and_ai_journey_converts(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.ingest(JSONL, "events", format="ga4")
    events = ws.store.execute(ws.events())
    browser = events[events.anonymous_id == "1111.1709287000"]
    assert set(browser.customer_id) == {"u-42"}
    journeys = ws.journeys()
    mine = journeys[journeys.customer_id == "u-42"].iloc[0]
    assert mine.path.startswith("ai_answer > ")
    assert mine.converted and mine.revenue == pytest.approx(249.99)
    ws.close()


@pytest.mark.parametrize("source, medium, campaign, group", [
    ("(direct)", "(none)", None, "Direct"),
    ("google", "cpc", "x_cross-network_y", "Cross-network"),
    ("google", "cpc", None, "Paid Search"),
    ("shopping.google.com", "cpc", None, "Paid Shopping"),
    ("google", "cpc", "summer_shopping", "Paid Shopping"),
    ("l.facebook.com", "paid_social", None, "Paid Social"),
    ("youtube.com", "cpv", None, "Paid Video"),
    ("gdn", "display", None, "Display"),
    ("newsletter-partner", "ppc", None, "Paid Other"),
    ("chatgpt.com", "(not set)", None, "AI Assistant"),
    ("perplexity.ai", "referral", None, "AI Assistant"),
    ("gemini.google.com", "referral", None, "AI Assistant"),
    ("allegro.pl", "referral", None, "Organic Shopping"),
    ("m.facebook.com", "referral", None, "Organic Social"),
    ("blog", "social-network", None, "Organic Social"),
    ("vimeo.com", "referral", None, "Organic Video"),
    ("bing", "organic", None, "Organic Search"),
    ("www.google.pl", "referral", None, "Organic Search"),
    ("newsletter", "email", None, "Email"),
    ("partner", "affiliate", None, "Affiliates"),
    ("forum.example.com", "referral", None, "Referral"),
    ("spotify", "audio", None, "Audio"),
    ("sms", "text", None, "SMS"),
    ("firebase", "notification", None, "Mobile Push Notifications"),
    ("weird", "thing", None, "Unassigned"),
])
def test_default_channel_grouping(source, medium, campaign, group):
    assert channel_group(source, medium, campaign) == group


def test_ai_sources():
    assert is_ai_source("https://chatgpt.com/c/123") and is_ai_source("chat.openai.com")
    assert is_ai_source("claude.ai") and is_ai_source("copilot.microsoft.com")
    assert not is_ai_source("google") and not is_ai_source("docs.google.com")
    assert not is_ai_source(None)


def test_params_timestamps_and_pages():
    rec = {"event_params": [
        {"key": "a", "value": {"string_value": "x", "int_value": None}},
        {"key": "b", "value": {"int_value": "42"}},
        {"key": "c", "value": {"double_value": 1.5}},
        {"key": "d", "value": {"float_value": 2.5}},
        {"key": None, "value": {"string_value": "lost key"}},
        "garbage",
    ]}
    assert params(rec) == {"a": "x", "b": 42, "c": 1.5, "d": 2.5}
    assert timestamp_us("1709287200000000") == 1_709_287_200_000_000
    assert timestamp_us(1.7092872e15) == 1_709_287_200_000_000
    assert "missing" in timestamp_us(None)
    assert "not microseconds" in timestamp_us("2024-03-01")
    assert "outside" in timestamp_us(5_000_000_000_000_000)
    assert page_touchpoint("https://x.pl/") == "homepage"
    assert page_touchpoint("https://x.pl/kategoria/buty/") == "category_page"
    assert page_touchpoint("https://x.pl/szukaj?q=buty") == "site_search"
    assert page_touchpoint("https://x.pl/o-nas") == "web_page"


def test_unknown_event_and_missing_fields_map_to_other_not_lost():
    row = map_event({"event_timestamp": 1_709_287_200_000_000, "event_name": "my_custom",
                     "user_id": "c1"})
    assert isinstance(row, dict)
    assert (row["event_type"], row["channel"], row["touchpoint"]) == ("other", "web", "web_page")
    assert json.loads(row["attributes"])["event_name"] == "my_custom"
    assert map_event({"event_timestamp": 1_709_287_200_000_000, "event_name": "x"})[0] == \
        "user_pseudo_id"


def test_ga4_is_for_events_only(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    with pytest.raises(SchemaError, match="GA4"):
        ws.ingest(JSONL, "feedback", format="ga4")
    ws.close()


def test_cli_ingest_format_ga4_needs_no_kind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    db = str(tmp_path / "cli.duckdb")
    result = runner.invoke(app, ["ingest", "--format", "ga4", str(JSONL), str(PARQUET),
                                 "--output", "json", "--db", db])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(r["rows_in"], r["stored"]) for r in rows] == [(25, 18), (24, 0)]
    missing = runner.invoke(app, ["ingest", str(JSONL), "--db", db])
    assert missing.exit_code == 2


_VALUES = st.one_of(st.none(), st.integers(-10, 10**17), st.text(max_size=6),
                    st.sampled_from(["1709287200000000", "(not set)", "purchase", "page_view"]))
_RECORD = st.fixed_dictionaries({}, optional={
    "event_timestamp": _VALUES, "event_name": _VALUES, "user_pseudo_id": _VALUES,
    "user_id": _VALUES,
    "event_params": st.lists(st.fixed_dictionaries({"key": st.sampled_from(
        ["value", "page_location", "currency", "source", "ga_session_id"]),
        "value": st.fixed_dictionaries({}, optional={"string_value": _VALUES,
                                                     "int_value": _VALUES,
                                                     "double_value": st.floats()})}),
        max_size=3),
    "ecommerce": st.fixed_dictionaries({}, optional={"purchase_revenue": _VALUES,
                                                     "transaction_id": _VALUES}),
    "collected_traffic_source": st.fixed_dictionaries({}, optional={
        "manual_source": _VALUES, "manual_medium": _VALUES, "gclid": _VALUES}),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RECORD, min_size=1, max_size=12), st.booleans())
def test_any_ga4_shaped_rows_are_stored_quarantined_or_duplicates(tmp_path_factory, records,
                                                                   twice):
    path = tmp_path_factory.mktemp("ga4") / "export.json"
    lines = [json.dumps(r, allow_nan=True) for r in records]
    path.write_text("\n".join(lines * (2 if twice else 1)) + "\n", encoding="utf-8")
    with Workspace.open(":memory:") as ws:
        if not any({"event_name", "event_timestamp"} & set(r) for r in records):
            with pytest.raises(UnreadableFileError, match="not a GA4 export"):
                ws.ingest(path, "events", format="ga4")
            return
        r = ws.ingest(path, "events", format="ga4").iloc[0]
        assert r.rows_in == len(lines) * (2 if twice else 1)
        assert r.rows_in == r.stored + r.quarantined + r.duplicates
        assert ws.store.count("events") == r.stored


def test_unicode_digits_in_an_int_value_do_not_crash_the_ingest() -> None:
    """``"²".isdigit()`` is True but ``int("²")`` fails: such a value stays text."""
    from touchlens.io.adapters.ga4 import _digits

    assert _digits("12") and _digits("-3") and _digits(7)
    assert not _digits("²") and not _digits("١٢") and not _digits("1.5") and not _digits("")
