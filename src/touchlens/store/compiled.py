"""DuckDB SQL of Ibis expressions, remembered per expression.

Compiling an expression with Ibis (sqlglot underneath) costs ~20–300 ms for the larger
ones, and an incremental journey update compiles the same statements every time: the
rollups' merges read work tables of fixed names, so each update builds expressions equal
to the last one's (~1.8 s of compilation per update at 10M events, 19 rollups). The SQL of
an expression depends on the expression alone (its operations compare by value: tables by
name and schema; literals by value), so it is kept per operation tree with its tables
unbound from their backend — a bounded least-recently-used map, shared by threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

MAX_ENTRIES = 256
_SQL: OrderedDict[ops.Node, str] = OrderedDict()
_LOCK = threading.Lock()


def _key(expr: ir.Expr) -> ops.Node | None:
    """The expression's operations without their backends (a served workspace reads and
    writes through a new cursor, a new Ibis backend, per request: the same statement
    must be found whichever one built it); None: not cacheable."""
    try:
        return expr.unbind().op()  # ~5-10 ms for a rollup's merge, against 25-300 to compile
    except Exception:  # an operation Ibis cannot unbind: compiled every time
        return None


def duckdb_sql(expr: ir.Expr) -> str:
    """``ibis.to_sql(expr, dialect="duckdb")``, compiled once per distinct expression."""
    key = _key(expr)
    if key is None:
        return ibis.to_sql(expr, dialect="duckdb")
    with _LOCK:
        sql = _SQL.get(key)
        if sql is not None:
            _SQL.move_to_end(key)
            return sql
    sql = ibis.to_sql(expr, dialect="duckdb")
    with _LOCK:
        _SQL[key] = sql
        while len(_SQL) > MAX_ENTRIES:
            _SQL.popitem(last=False)
    return sql


def clear() -> None:
    """Forget every compiled statement (tests)."""
    with _LOCK:
        _SQL.clear()
