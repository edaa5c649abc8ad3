"""Meta read inside a DuckDB transaction (read once per transaction): it sees the
transaction's own writes, and nothing of a rolled-back one afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchlens.store import Store


def _rows(store: Store, key: str) -> int:
    return store.con.con.execute("SELECT count(*) FROM meta WHERE key = ?", [key]).fetchone()[0]


def test_meta_in_a_transaction_sees_its_own_writes(tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "m.duckdb")
    try:
        store.set_meta("a", "1")
        with store.transaction():
            assert store.get_meta("a") == "1"
            store.set_meta("a", "2")
            store.set_meta("b", "x")  # a new key: inserted
            assert (store.get_meta("a"), store.get_meta("b"), store.get_meta("c")) == (
                "2", "x", None)
        assert (store.get_meta("a"), store.get_meta("b")) == ("2", "x")
        assert (_rows(store, "a"), _rows(store, "b")) == (1, 1)
    finally:
        store.close()


def test_a_rolled_back_meta_write_is_gone(tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "m.duckdb")
    try:
        store.set_meta("a", "1")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta("a", "2")
            store.set_meta("n", "new")
            assert store.get_meta("a") == "2"
            raise RuntimeError("abort")
        assert (store.get_meta("a"), store.get_meta("n")) == ("1", None)
        with store.transaction():  # a fresh read, not the aborted transaction's
            assert (store.get_meta("a"), store.get_meta("n")) == ("1", None)
            store.set_meta("n", "again")  # inserted once, although the aborted one knew it
        assert _rows(store, "n") == 1
    finally:
        store.close()


def test_meta_written_by_another_connection_shows_in_the_next_transaction(
        tmp_path: Path) -> None:
    store = Store.open_duckdb(tmp_path / "m.duckdb")
    try:
        other = store.con.con.cursor()
        with store.transaction():
            assert store.get_meta("k") is None
        other.execute("INSERT INTO meta VALUES ('k', 'v')")
        with store.transaction():
            assert store.get_meta("k") == "v"
        other.close()
    finally:
        store.close()
