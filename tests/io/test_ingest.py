"""Ingest loses nothing: rows in = stored + quarantined + duplicates, idempotent, atomic."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens import SchemaError, Workspace
from touchlens.errors import StoreError

HEADER = "event_id,occurred_at,customer_id,channel,touchpoint,event_type,revenue,email\n"
GOOD = "e{i},2026-01-0{d}T10:00:00Z,c{c},web,product_page,visit,,\n"
BAD_ROWS = [
    "b{i},yesterday,c1,web,x,visit,,\n",  # bad timestamp
    "b{i},2026-01-01T10:00:00Z,,web,x,visit,,\n",  # no customer
    "b{i},2026-01-01T10:00:00Z,c1,web,x,teleport,,\n",  # unknown event type
    "b{i},2026-01-01T10:00:00Z,c1,web,x,purchase,-5,\n",  # negative revenue
    "b{i},2026-01-01T10:00:00Z,c1\n",  # too few fields
]


def _count(ws: Workspace, table: str) -> int:
    return ws.store.count(table)


def _check_invariant(res: pd.DataFrame) -> None:
    for r in res.itertuples():
        assert r.rows_in == r.stored + r.quarantined + r.duplicates


def test_summary_invariant_and_reasons(make_workspace, tmp_path):
    ws = make_workspace()
    p = tmp_path / "events.csv"
    body = "".join(GOOD.format(i=i, d=1 + i % 5, c=i % 3) for i in range(6))
    body += "".join(b.format(i=i) for i, b in enumerate(BAD_ROWS))
    body += GOOD.format(i=0, d=1, c=0)  # repeated event_id inside the file
    p.write_text(HEADER + body, encoding="utf-8")
    res = ws.ingest(p, "events")
    r = res.iloc[0]
    assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (12, 6, 5, 1)
    q = ws.quarantine()
    assert list(q.row_number) == [7, 8, 9, 10, 11]
    assert list(q.field) == ["occurred_at", "customer_id", "event_type", "revenue", "_row"]
    assert "teleport" in q.reason.iloc[2] and "use one of" in q.reason.iloc[2]
    assert (q.file == str(p)).all()
    assert _count(ws, "events") == 6


def test_reingest_is_idempotent(make_workspace, tmp_path):
    ws = make_workspace()
    p = tmp_path / "events.csv"
    p.write_text(HEADER + GOOD.format(i=1, d=1, c=1) + BAD_ROWS[0].format(i=1), encoding="utf-8")
    first = ws.ingest(p, "events").iloc[0]
    again = ws.ingest(p, "events").iloc[0]
    assert (first.stored, first.quarantined) == (1, 1)
    assert (again.stored, again.quarantined, again.duplicates) == (0, 0, 2)
    assert _count(ws, "events") == 1 and _count(ws, "quarantine") == 1
    assert _count(ws, "ingest_log") == 2


def test_events_without_ids_get_stable_ids(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    p = tmp_path / "noid.csv"
    p.write_text("occurred_at,customer_id,channel,event_type\n"
                 "2026-01-01T10:00:00Z,c1,web,visit\n2026-01-01T11:00:00Z,c1,web,visit\n")
    q = tmp_path / "noid_copy.csv"
    q.write_text(p.read_text() + "2026-01-01T12:00:00Z,c1,web,visit\n")
    assert ws.ingest(p, "events").stored.iloc[0] == 2
    res = ws.ingest(q, "events").iloc[0]
    assert (res.stored, res.duplicates) == (1, 2)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4), st.integers(0, 20)), max_size=40))
def test_invariant_holds_for_any_mix(tmp_path_factory, rows):
    ws = Workspace.open(":memory:")
    p = tmp_path_factory.mktemp("mix") / "events.csv"
    lines = [GOOD.format(i=n, d=1 + n % 5, c=n % 4) if good else BAD_ROWS[kind].format(i=n)
             for good, kind, n in rows]
    p.write_text(HEADER + "".join(lines), encoding="utf-8")
    res = ws.ingest(p, "events")
    _check_invariant(res)
    r = res.iloc[0]
    assert r.rows_in == len(rows)
    assert r.stored == _count(ws, "events") == len({n for good, _, n in rows if good})
    assert r.quarantined == _count(ws, "quarantine") == sum(not good for good, _, _ in rows)


def test_interrupted_batch_leaves_store_unchanged(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "w.duckdb")
    p = tmp_path / "events.csv"
    p.write_text(HEADER + GOOD.format(i=1, d=1, c=1) + BAD_ROWS[0].format(i=2))
    original = ws.store.append

    def failing_append(name, table):
        if name == "quarantine":
            raise StoreError("disk full (simulated)")
        return original(name, table)

    monkeypatch.setattr(ws.store, "append", failing_append)
    with pytest.raises(StoreError):
        ws.ingest(p, "events")
    monkeypatch.undo()
    assert _count(ws, "events") == 0 and _count(ws, "ingest_log") == 0
    res = ws.ingest(p, "events").iloc[0]  # resumable: the whole batch goes in next time
    assert (res.stored, res.quarantined) == (1, 1)


def test_pii_is_stored_only_as_salted_hash(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    p = tmp_path / "events.csv"
    p.write_text(HEADER + "e1,2026-01-01T10:00:00Z,Jan.Kowalski@Example.com,web,x,visit,,"
                 "jan.kowalski@example.com\n" + "e2,bad,c2,web,x,visit,,ola@example.pl\n")
    ids = tmp_path / "ids.csv"
    ids.write_text("id_type,id_value,customer_id\nphone,+48 600-100-200,c2\n"
                   "email,OLA@example.pl ,c2\n")
    ws.ingest(p, "events")
    ws.ingest(ids, "identities")
    dump = json.dumps([ws.store.table(t).to_pyarrow().to_pylist()
                       for t in ("events", "identities", "quarantine")], default=str).lower()
    for secret in ("kowalski", "ola@example", "600-100-200", "600100200"):
        assert secret not in dump
    other = Workspace.open(tmp_path / "other.duckdb")
    assert other.store.get_meta("pii_salt") != ws.store.get_meta("pii_salt")
    idt = ws.store.execute(ws.store.table("identities"))
    # the same address hashes alike wherever it appears (normalised: trimmed, lower case)
    email_hash = idt[idt.id_type == "email"].id_value.iloc[0]
    assert email_hash in dump and email_hash.startswith("h:")


def test_missing_required_column_is_a_file_error(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    p = tmp_path / "export.csv"
    p.write_text("when,who,what\n2026-01-01,c1,visit\n")
    with pytest.raises(SchemaError, match=r"export\.csv.*occurred_at.*--mapping"):
        ws.ingest(p, "events")
    assert _count(ws, "events") == 0


def test_mapping_renames_parses_recodes_and_keeps_extras(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    p = tmp_path / "crm.csv"
    p.write_text("Client ID;Data;Akcja;Kampania;utm_source\n"
                 "K1;01.07.2026 12:00;Zakup;lato;newsletter\n"
                 "K2;02.07.2026 08:15;Otwarcie;lato;\n", encoding="utf-8")
    m = tmp_path / "map.yaml"
    m.write_text("customer_id: Client ID\n"
                 "occurred_at: {column: Data, format: '%d.%m.%Y %H:%M'}\n"
                 "timezone: Europe/Warsaw\n"
                 "channel: {value: email}\n"
                 "event_type: {column: Akcja, values: {Zakup: purchase, Otwarcie: open}}\n"
                 "campaign: Kampania\n")
    res = ws.ingest(p, "events", mapping=m).iloc[0]
    assert (res.stored, res.quarantined) == (2, 0)
    ev = ws.store.execute(ws.store.table("events")).sort_values("customer_id")
    assert list(ev.event_type) == ["purchase", "open"]
    assert ev.occurred_at.iloc[0] == pd.Timestamp("2026-07-01 10:00", tz="UTC")
    assert json.loads(ev.attributes.iloc[0]) == {"utm_source": "newsletter"}
    assert set(ev.channel) == {"email"}


def test_a_binary_extra_column_is_kept_as_text_or_base64(tmp_path):
    """Bytes that are not UTF-8 (found by the fuzz test: they crashed the validator) are kept
    in ``attributes`` as ``base64:…``; UTF-8 bytes as their text; empty bytes as nothing."""
    import pyarrow.parquet as pq

    ws = Workspace.open(tmp_path / "w.duckdb")
    path = tmp_path / "ev.parquet"
    pq.write_table(pa.table({
        "occurred_at": ["2026-01-01T10:00:00Z"] * 3, "channel": ["web"] * 3,
        "event_type": ["click"] * 3, "customer_id": ["c1", "c2", "c3"],
        "blob": pa.array([b"\xff\x00", "zł".encode(), b""], pa.binary())}), path)
    res = ws.ingest(path, "events").iloc[0]
    assert (res.rows_in, res.stored, res.quarantined) == (3, 3, 0)
    attributes = ws.store.execute(ws.store.table("events")).attributes
    kept = {json.loads(a)["blob"] if isinstance(a, str) else None for a in attributes}
    assert kept == {"base64:/wA=", "zł", None}


def test_each_kind_validates_its_ranges(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    fb = tmp_path / "fb.csv"
    fb.write_text("occurred_at,customer_id,touchpoint,nps,csat,ces,text\n"
                  "2026-01-01,c1,store,10,5,7,Super\n2026-01-01,c1,store,11,,,\n"
                  "2026-01-01,c1,store,,0,,\n2026-01-01,c1,store,,,,\n")
    r = ws.ingest(fb, "feedback").iloc[0]
    assert (r.stored, r.quarantined) == (1, 3)
    costs = tmp_path / "costs.csv"
    costs.write_text("date,touchpoint,spend\n2026-01-01,search_ad,\"1 200,50\"\n"
                     "2026-01-01,,10\n2026-01-02,search_ad,-1\n")
    r = ws.ingest(costs, "costs").iloc[0]
    assert (r.stored, r.quarantined) == (1, 2)
    spend = ws.store.execute(ws.store.table("costs")).spend.iloc[0]
    assert spend == pytest.approx(1200.50)


def test_arrow_ingest_counts_like_files(make_workspace, tiny_events):
    ws = make_workspace()
    broken = tiny_events.set_column(
        tiny_events.schema.get_field_index("channel"), "channel",
        pa.array([None, *tiny_events["channel"].to_pylist()[1:]], pa.string()))
    res = ws.ingest_arrow(broken, "events").iloc[0]
    assert (res.rows_in, res.stored, res.quarantined) == (20, 19, 1)
    assert ws.ingest_arrow(tiny_events, "events").iloc[0].stored == 1
