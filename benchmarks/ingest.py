"""Ingest benchmark: events/s from Parquet and CSV through touchlens's validated ingest,
against peers measured in the same run (DuckDB's own reader with no validation, pandas).

    python benchmarks/ingest.py [--customers 20000] [--seed 0]

Prints one table: rows, wall seconds, events/s, and the ratio to DuckDB's raw load.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from touchlens import Workspace
from touchlens.simulate import simulate_retailer


def _timed(fn):
    """Run ``fn`` in a forked child; return (result, wall seconds, the child's peak RSS MB)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        with os.fdopen(write_fd, "w") as fh:
            json.dump([int(result), seconds], fh)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        payload = fh.read()
    _, status, usage = os.wait4(pid, 0)
    if status != 0 or not payload:
        raise RuntimeError(f"benchmark case failed (status {status})")
    result, seconds = json.loads(payload)
    return result, seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    world = simulate_retailer(args.customers, seed=args.seed)
    n = world.events.num_rows
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        parquet = tmp_path / "events.parquet"
        csv = tmp_path / "events.csv"
        pq.write_table(world.events, parquet)
        pacsv.write_csv(world.events, csv)

        def touchlens_ingest(path: Path, name: str):
            ws = Workspace.open(tmp_path / f"{name}.duckdb")
            try:
                return ws.ingest(path, "events").iloc[0].stored
            finally:
                ws.close()

        def duckdb_raw(path: Path, reader: str):
            con = duckdb.connect(str(tmp_path / f"raw-{reader}.duckdb"))
            con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}('{path}')")
            count = con.execute("SELECT count(*) FROM events").fetchone()[0]
            con.close()
            return count

        cases = [
            ("touchlens ingest (validated, deduplicated)", "parquet",
             lambda: touchlens_ingest(parquet, "tl-parquet")),
            ("duckdb read_parquet → table (no checks)", "parquet",
             lambda: duckdb_raw(parquet, "read_parquet")),
            ("touchlens ingest (validated, deduplicated)", "csv",
             lambda: touchlens_ingest(csv, "tl-csv")),
            ("duckdb read_csv → table (no checks)", "csv", lambda: duckdb_raw(csv, "read_csv")),
            ("pandas read_csv (parse only)", "csv", lambda: len(pd.read_csv(csv))),
        ]
        for name, fmt, fn in cases:
            stored, seconds, peak = _timed(fn)
            rows.append((name, fmt, int(stored), seconds, n / seconds, peak))
    raw = {fmt: s for name, fmt, _, s, _, _ in rows if name.startswith("duckdb")}
    table = Table(title=f"Ingest of {n:,} simulated events ({args.customers:,} customers)")
    for col in ("what", "format", "rows", "seconds", "events/s", "× duckdb raw", "peak RSS MB"):
        table.add_column(col, justify="left" if col in ("what", "format") else "right")
    for name, fmt, stored, seconds, rate, peak in rows:
        table.add_row(name, fmt, f"{stored:,}", f"{seconds:.2f}", f"{rate:,.0f}",
                      f"{seconds / raw[fmt]:.1f}", f"{peak:,.0f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
