"""The schema cache of :meth:`Store.table` (DuckDB): a fixed-format table's schema is read
once per database and shared by the stores on its cursors; a replaced table is read again."""

from __future__ import annotations

import threading
from pathlib import Path

import ibis
import pyarrow as pa

from touchlens.api.served import CursorStore
from touchlens.store import Store
from touchlens.store.backends import FIXED_SCHEMAS
from touchlens.store.schema import JOURNEYS_CACHE


def _describes(store: Store) -> list[str]:
    """Names whose schema the store asks DuckDB for, while the test runs."""
    asked: list[str] = []
    original = store.con.get_schema

    def spy(name, *args, **kwargs):
        asked.append(name)
        return original(name, *args, **kwargs)

    store.con.get_schema = spy
    return asked


def test_a_fixed_table_is_described_once_and_reads_the_same(tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "s.duckdb")
    try:
        asked = _describes(store)
        first, again = store.table("events"), store.table("events")
        assert asked.count("events") == 1
        assert first.equals(again) and again.equals(store.con.table("events"))
        assert store.execute(again.count().as_table()).iloc[0, 0] == 0
    finally:
        store.close()


def test_other_tables_are_described_every_time(tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "s.duckdb")
    try:
        store.replace("some_result", pa.table({"x": [1]}))
        assert "some_result" not in FIXED_SCHEMAS
        asked = _describes(store)
        store.table("some_result")
        store.table("some_result")
        assert asked == ["some_result", "some_result"]
    finally:
        store.close()


def test_a_replaced_table_is_read_with_its_new_columns(tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "s.duckdb")
    try:
        store.replace(JOURNEYS_CACHE, pa.table({"journey_id": ["j1"]}))
        assert store.table(JOURNEYS_CACHE).columns == ("journey_id",)
        store.replace(JOURNEYS_CACHE, store.table(JOURNEYS_CACHE).mutate(n=ibis.literal(2)))
        table = store.table(JOURNEYS_CACHE)
        assert table.columns == ("journey_id", "n")
        assert store.execute(table)["n"].tolist() == [2]
    finally:
        store.close()


def test_stores_on_cursors_share_the_cache_and_see_replacements(tmp_path: Path) -> None:
    root = Store.open_duckdb(tmp_path / "s.duckdb")
    lock = threading.RLock()
    try:
        root.replace(JOURNEYS_CACHE, pa.table({"journey_id": ["j1"]}))
        one, two = CursorStore(root, lock), CursorStore(root, lock)
        assert one.table(JOURNEYS_CACHE).columns == ("journey_id",)
        asked = _describes(two)
        assert two.table(JOURNEYS_CACHE).columns == ("journey_id",)
        assert asked == []  # read by the first cursor's store
        one.replace(JOURNEYS_CACHE, pa.table({"journey_id": ["j1"], "n": [1]}))
        assert two.table(JOURNEYS_CACHE).columns == ("journey_id", "n")
        assert asked == [JOURNEYS_CACHE]
    finally:
        root.close()
