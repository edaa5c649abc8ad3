"""The compiled-SQL cache (:mod:`touchlens.store.compiled`): an expression equal to one
compiled before reuses its SQL; any difference (a literal, a table) compiles anew."""

from __future__ import annotations

import ibis
import pytest

from touchlens.store import compiled


@pytest.fixture(autouse=True)
def _empty():
    compiled.clear()
    yield
    compiled.clear()


def _counting(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = ibis.to_sql

    def to_sql(expr, dialect=None):
        calls.append(dialect)
        return real(expr, dialect=dialect)

    monkeypatch.setattr(compiled.ibis, "to_sql", to_sql)
    return calls


def _expr(table: str, cutoff: int):
    t = ibis.table({"customer_id": "string", "n": "int64"}, name=table)
    return t.filter(t.n > cutoff).group_by("customer_id").agg(total=t.n.sum())


def test_an_equal_expression_built_again_is_compiled_once(monkeypatch) -> None:
    want = ibis.to_sql(_expr("events", 3), dialect="duckdb")
    calls = _counting(monkeypatch)
    first = compiled.duckdb_sql(_expr("events", 3))
    again = compiled.duckdb_sql(_expr("events", 3))  # a new, equal expression
    assert again == first == want
    assert calls == ["duckdb"]


def test_a_different_literal_or_table_compiles_anew(monkeypatch) -> None:
    calls = _counting(monkeypatch)
    base = compiled.duckdb_sql(_expr("events", 3))
    other_literal = compiled.duckdb_sql(_expr("events", 4))
    other_table = compiled.duckdb_sql(_expr("journeys", 3))
    assert len(calls) == 3
    assert len({base, other_literal, other_table}) == 3
    assert "4" in other_literal and '"journeys"' in other_table


def test_the_cache_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(compiled, "MAX_ENTRIES", 3)
    calls = _counting(monkeypatch)
    for cutoff in range(5):
        compiled.duckdb_sql(_expr("events", cutoff))
    compiled.duckdb_sql(_expr("events", 4))  # recent: kept
    compiled.duckdb_sql(_expr("events", 0))  # the oldest: gone, compiled again
    assert len(calls) == 6
    assert len(compiled._SQL) == 3


def test_the_same_statement_on_another_connection_reuses_the_sql(monkeypatch) -> None:
    """A served workspace builds each request's expressions on a new cursor (a new Ibis
    backend): equal statements still compile once; a raw SQL table compiles too."""
    cons = [ibis.duckdb.connect() for _ in range(2)]
    for con in cons:
        con.raw_sql("CREATE TABLE events (customer_id VARCHAR, n BIGINT)")
    calls = _counting(monkeypatch)
    sqls = []
    for con in cons:
        t = con.table("events")
        sqls.append(compiled.duckdb_sql(t.group_by("customer_id").agg(total=t.n.sum())))
    assert calls == ["duckdb"] and sqls[0] == sqls[1]
    raw = cons[0].sql("SELECT * FROM events WHERE rowid > 3")
    assert "rowid > 3" in compiled.duckdb_sql(raw.select("n"))
