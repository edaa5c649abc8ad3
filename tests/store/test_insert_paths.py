"""The store's hot write paths: keyed inserts with a key lookup, small appends, meta flags."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from touchlens.store import Store
from touchlens.store import schema as S
from touchlens.store.backends import KeyLookup


def _events(ids: list[str]) -> pa.Table:
    n = len(ids)
    return pa.table({
        "event_id": ids, "occurred_at": [datetime(2026, 4, 1, tzinfo=UTC)] * n,
        "customer_id": ["C1"] * n, "channel": ["web"] * n, "event_type": ["click"] * n,
    }).select(["event_id", "occurred_at", "customer_id", "channel", "event_type"])


def _full(ids: list[str]) -> pa.Table:
    small = _events(ids)
    cols = {f.name: small[f.name] if f.name in small.column_names
            else pa.nulls(len(ids), f.type) for f in S.EVENTS}
    return pa.table(cols, schema=S.EVENTS)


def test_insert_new_with_a_lookup_skips_stored_keys(tmp_path):
    store = Store.open_duckdb(tmp_path / "w.duckdb")
    assert store.insert_new("events", _full(["a", "b"]), ("event_id",)) == 2
    lookup = store.existing_keys("events", "event_id", ["b", "c", "d"])
    assert lookup == KeyLookup({"b", "c", "d"}, {"b"})
    assert store.insert_new("events", _full(["b", "c", "d"]), ("event_id",),
                            lookup=lookup) == 2
    ids = store.con.con.execute("SELECT event_id FROM events ORDER BY 1").fetchall()
    assert [r[0] for r in ids] == ["a", "b", "c", "d"]


def test_a_lookup_not_covering_the_batch_falls_back_to_the_anti_join(tmp_path):
    store = Store.open_duckdb(tmp_path / "w.duckdb")
    store.insert_new("events", _full(["a"]), ("event_id",))
    partial = KeyLookup({"b"}, set())  # "a" was not looked up: must still be skipped
    assert store.insert_new("events", _full(["a", "b"]), ("event_id",), lookup=partial) == 1
    assert store.count("events") == 2


def test_small_appends_keep_types_and_values(tmp_path):
    store = Store.open_duckdb(tmp_path / "w.duckdb")
    rows = _full([f"e{i}" for i in range(3)])  # under the VALUES threshold
    many = _full([f"m{i}" for i in range(40)])  # over it: the Arrow view
    assert store.append("events", rows) == 3 and store.append("events", many) == 40
    got = store.execute(store.table("events").order_by("event_id"))
    assert len(got) == 43 and str(got["occurred_at"].dt.tz) == "UTC"
    assert got["occurred_at"].iloc[0] == datetime(2026, 4, 1, tzinfo=UTC)
    assert got["revenue"].isna().all() and got["attributes"].isna().all()


def test_set_meta_updates_in_place(tmp_path):
    store = Store.open_duckdb(tmp_path / "w.duckdb")
    store.set_meta("identity_map_stale", "1")
    store.set_meta("identity_map_stale", "0")
    store.set_meta("identity_map_stale", "1")
    rows = store.con.con.execute(
        "SELECT value FROM meta WHERE key = 'identity_map_stale'").fetchall()
    assert rows == [("1",)] and store.get_meta("identity_map_stale") == "1"
