"""Consent: ingested like other data, latest record wins, personalising analyses filter on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from touchlens import ConfigError, Workspace

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"event_id": [f"e{i}" for i in range(len(ids))],
                         "occurred_at": [T0] * len(ids), "customer_id": ids,
                         "channel": "web", "event_type": "visit"})


@pytest.fixture
def ws(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as w:
        w.ingest_arrow(_events(["c1", "c2", "c3", "c4"]), "events")
        w.ingest_arrow(pd.DataFrame({"id_type": ["email"], "id_value": ["Ann@Example.com"],
                                     "customer_id": ["c3"]}), "identities")
        yield w


def test_consent_file_with_synonyms_and_bad_rows(ws, tmp_path):
    p = tmp_path / "consent.csv"
    p.write_text("customer_id,email,purpose,status,occurred_at,source\n"
                 "c1,,personalization,granted,2026-01-01T00:00:00Z,web form\n"
                 ",ann@example.com,Personalisation,opt-in,2026-01-02,newsletter\n"
                 "c2,,marketing,withdrawn,2026-01-01,\n"
                 "c4,,teleport,yes,2026-01-01,\n"
                 "c4,,marketing,maybe,2026-01-01,\n"
                 ",,analytics,granted,2026-01-01,\n", encoding="utf-8")
    r = ws.ingest(p, "consent").iloc[0]
    assert (r.rows_in, r.stored, r.quarantined) == (6, 3, 3)
    q = ws.quarantine()
    assert list(q.field) == ["purpose", "status", "customer_id"]
    assert "use one of analytics, personalization, marketing" in q.reason.iloc[0]
    stored = ws.store.execute(ws.store.table("consent"))
    assert "ann@example.com" not in stored.to_string()  # the email is kept hashed
    assert set(stored.id_type) == {"customer", "email"}
    again = ws.ingest(p, "consent").iloc[0]
    assert (again.stored, again.duplicates) == (0, 6)  # idempotent


def test_latest_record_wins_and_email_reaches_the_customer(ws):
    ws.ingest_arrow(pd.DataFrame({
        "customer_id": ["c1", "c1", "c2", "c2", None],
        "email": [None, None, None, None, "ann@example.com"],
        "purpose": ["marketing"] * 5,
        "status": ["granted", "denied", "granted", "denied", "granted"],
        "occurred_at": ["2026-01-01", "2026-02-01", "2026-03-01", "2026-03-01", "2026-01-05"],
    }), "consent")
    status = ws.consent_status().set_index("customer_id").status.to_dict()
    # c1: later denial wins; c2: same instant resolves to denied; c3 via the email link
    assert status == {"c1": "denied", "c2": "denied", "c3": "granted"}


def test_filter_keeps_consenting_customers_and_counts_the_others(ws):
    ws.ingest_arrow(pd.DataFrame({
        "customer_id": ["c1", "c2", "c3"], "purpose": ["personalization"] * 3,
        "status": ["granted", "denied", "granted"], "occurred_at": ["2026-01-01"] * 3,
    }), "consent")
    f = ws.consent_filter("personalization")
    kept, n_excluded = f.apply(ws.events())
    assert sorted(ws.store.execute(kept).customer_id) == ["c1", "c3"]
    assert n_excluded == 2  # c2 denied, c4 has no record (opt-in default)
    assert f.note(n_excluded) == "2 customers excluded: no personalization consent"
    frame = pd.DataFrame({"customer_id": ["c1", "c2", "c4", None], "score": [1, 2, 3, 4]})
    out, n = f.filter_frame(frame)
    assert list(out.customer_id) == ["c1"] and n == 3
    assert ws.store.execute(ws.consent_filter("marketing").keep(ws.events())).empty


def test_opt_out_default_keeps_customers_without_a_record(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb", consent_default="granted") as ws:
        ws.ingest_arrow(_events(["c1", "c2"]), "events")
        ws.ingest_arrow(pd.DataFrame({"customer_id": ["c2"], "purpose": ["marketing"],
                                      "status": ["denied"], "occurred_at": ["2026-01-01"]}),
                        "consent")
        f = ws.consent_filter("marketing")
        kept, n = f.apply(ws.events())
        assert list(ws.store.execute(kept).customer_id) == ["c1"] and n == 1


def test_unknown_purpose_is_a_config_error(ws):
    with pytest.raises(ConfigError, match="unknown consent purpose"):
        ws.consent_filter("ads")
