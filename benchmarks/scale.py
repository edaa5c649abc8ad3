"""Scale benchmark: cost curves of ingest and the analyses from 1M to 50M events.

    python benchmarks/scale.py                      # DuckDB at 1M and 10M events
    python benchmarks/scale.py --events 1M,10M,50M  # the full curve (needs ~40 GB of disk)
    python benchmarks/scale.py --spark 1M           # also PySpark local[2] at these sizes
    python benchmarks/scale.py --events "" --spark 1M,10M   # Spark only
    python benchmarks/scale.py --events 50M --steps ingest,journeys,attribution

For each size the simulator (touchlens.simulate.write_parquet, ~17 events per customer)
writes Parquet once; then each step runs in a fresh child process on the DuckDB workspace
(so its peak RSS is its own): bulk ingest from Parquet, the same files attached in place,
journeys, scorecard, every attribution model, VoC scores and a funnel (the steps whose
Workspace method does not exist yet print "n/a"). The table ends with the fitted growth
exponent k of time ∝ events^k per step (goal k ≤ 1.1). ``--memory-limit`` bounds DuckDB.
On Spark the files are attached in place (events, identities, feedback, costs) and the same
analyses run in one session (journeys, scorecard, attribution, VoC scores, funnel).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from touchlens import Workspace
from touchlens.simulate import write_parquet

EVENTS_PER_CUSTOMER = 17


def _size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * mult)


def _child(fn: Callable[[], object]) -> tuple[float, float, str]:
    """Run ``fn`` in a forked child: (seconds, peak RSS in MB, note)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        start = time.perf_counter()
        try:
            note = fn()
            out = {"s": time.perf_counter() - start, "note": "" if note is None else str(note)}
        except Exception as exc:  # report, don't hide: the table shows the error
            out = {"s": float("nan"), "note": f"error: {type(exc).__name__}: {exc}"[:80]}
        with os.fdopen(write_fd, "w") as fh:
            json.dump(out, fh)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        payload = fh.read()
    _, _, usage = os.wait4(pid, 0)
    out = json.loads(payload) if payload else {"s": float("nan"), "note": "child died"}
    return out["s"], usage.ru_maxrss / 1024, out["note"]


def _steps(db: Path, files: list[str], folder: Path, settings: dict) -> dict[str, Callable]:
    def opened() -> Workspace:
        return Workspace.open(db, **settings)

    def ingest():
        ws = opened()
        res = ws.ingest(files, "events")
        return f"{int(res.stored.sum()):,} stored"

    def ingest_csv():
        """The first events file as CSV (written before the step, not timed) into a
        workspace of its own: the CSV reader's path (docs/scaling.md)."""
        target = db.with_name(db.stem + "-csv.duckdb")
        target.unlink(missing_ok=True)
        ws = Workspace.open(target, **settings)
        res = ws.ingest([str(_csv_copy(folder))], "events")
        return f"{int(res.rows_in.sum()):,} rows in, {int(res.stored.sum()):,} stored"

    def ingest_other():
        ws = opened()
        kinds = ("identities", "feedback", "costs", "consent")
        stored = 0
        for kind in kinds:
            paths = sorted(str(f) for f in folder.glob(f"{kind}-*.parquet"))
            if paths:
                stored += int(ws.ingest(paths, kind).stored.sum())
        return f"{stored:,} rows ({', '.join(kinds)})"

    def dashboard():
        ws = opened()
        queries = {
            "kpis": ws.kpis, "top_paths": lambda: ws.top_paths(top=10),
            "scorecard": ws.scorecard, "cx": lambda: ws.cx_scores("touchpoint"),
            "funnel": ws.funnel, "flows": lambda: ws.flows("product_page"),
            "journey_map": ws.journey_map, "rfm_segments": ws.rfm_segments,
        }
        for run in queries.values():  # first call: caches and the file's pages warm
            run()
        times = sorted(_timed(run) for run in queries.values() for _ in range(3))
        p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
        return f"p95 {p95 * 1000:,.0f} ms, max {times[-1] * 1000:,.0f} ms ({len(queries)} queries)"

    def attach():
        ws = Workspace.open(db.with_name(db.stem + "-attached.duckdb"), **settings)
        return f"{ws.attach(str(folder / 'events-*.parquet'))['rows']:,} rows in place"

    def journeys():
        ws = opened()
        ws.refresh(force=True)  # stitching and the journey cache from scratch, even when
        j = ws.journeys_table()  # the step runs without the ingest before it
        n = ws.store.execute(j.aggregate(n=j.count(), conv=j.converted.cast("int64").sum()))
        return f"{int(n.n.iloc[0]):,} journeys"

    def method(name: str, *args, **kwargs):
        def run():
            ws = opened()
            fn = getattr(ws, name, None)
            if fn is None:
                return "n/a (not in this version)"
            out = fn(*args, **kwargs)
            return f"{len(out):,} rows" if hasattr(out, "__len__") else ""
        return run

    def voc_scores():
        ws = opened()
        voc = getattr(ws, "voc", None)
        if voc is None:
            return "n/a (not in this version)"
        return f"{len(voc.scores(by='touchpoint')):,} rows"

    return {
        "ingest (Parquet, validated)": ingest,
        "ingest (CSV, one file, validated)": ingest_csv,
        "ingest identities/feedback/costs/consent": ingest_other,
        "attach in place": attach,
        "journeys": journeys,
        "scorecard": method("scorecard"),
        "attribution (all models)": method("attribution", model="all"),
        "voc scores": voc_scores,
        "funnel": method("funnel"),
        "dashboard queries (warm, ×3)": dashboard,
    }


def _csv_copy(folder: Path) -> Path:
    """``events-00000.csv`` beside the Parquet files (written once)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    target = folder / "events-00000.csv"
    if not target.exists():
        pcsv.write_csv(pq.read_table(folder / "events-00000.parquet"), target)
    return target


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _fit_k(sizes: list[int], seconds: list[float]) -> float:
    pts = [(math.log(n), math.log(s)) for n, s in zip(sizes, seconds, strict=True)
           if s == s and s > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else float("nan")


def _spark_steps(folder: Path, warehouse: Path, memory: str) -> dict[str, tuple[float, str]]:
    """The same analyses on Spark local[2], one session, the simulated files attached in
    place (events, identities, feedback, costs): step → (seconds, note). A failing step is
    reported with its error, not hidden."""
    from touchlens.store.spark import spark_session

    session = spark_session(master="local[2]", warehouse=warehouse, driver_memory=memory)
    ws = Workspace.open_spark(session)

    def attach() -> str:
        rows = ws.attach(str(folder / "events-*.parquet"))["rows"]
        for kind in ("identities", "feedback", "costs"):
            if any(folder.glob(f"{kind}-*.parquet")):
                ws.attach(str(folder / f"{kind}-*.parquet"), kind)
        return f"{rows:,} events in place"

    def journeys() -> str:
        n = ws.store.execute(ws.journeys_table().count().as_table()).iloc[0, 0]
        return f"{int(n):,} journeys"

    def rows(out: object) -> str:
        return f"{len(out):,} rows" if hasattr(out, "__len__") else ""

    steps: dict[str, Callable[[], str]] = {
        "attach in place": attach,
        "journeys": journeys,
        "scorecard": lambda: rows(ws.scorecard()),
        "attribution (all models)": lambda: rows(ws.attribution(model="all")),
        "voc scores": lambda: rows(ws.voc.scores(by="touchpoint")),
        "funnel": lambda: rows(ws.funnel()),
    }
    out: dict[str, tuple[float, str]] = {}
    for name, run in steps.items():
        start = time.perf_counter()
        try:
            note = run()
            out[name] = (time.perf_counter() - start, note)
        except Exception as exc:  # report, don't hide
            out[name] = (float("nan"), f"error: {type(exc).__name__}: {exc}"[:80])
    with contextlib.suppress(Exception):  # a JVM that died (out of memory) cannot stop
        session.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="1M,10M", help="comma-separated sizes (1M,10M,50M)")
    parser.add_argument("--spark", default="", help="sizes to also run on Spark local[2]")
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit")
    parser.add_argument("--spark-memory", default="8g", help="Spark driver heap (local mode)")
    parser.add_argument("--steps", default="", help=(
        "only the DuckDB steps whose name starts with one of these comma-separated words "
        "(e.g. ingest,journeys,attribution); steps a later one needs must be among them"))
    parser.add_argument("--workdir", default=None, help="where to write data (default: temp)")
    args = parser.parse_args()
    sizes = [_size(s) for s in args.events.split(",") if s]
    spark_sizes = {_size(s) for s in args.spark.split(",") if s}
    root = Path(args.workdir or tempfile.mkdtemp(prefix="touchlens-scale-"))
    settings = {"duckdb_memory_limit": args.memory_limit,
                "duckdb_temp_directory": str(root / "spill")}
    results: dict[str, dict[int, tuple[float, float, str]]] = {}
    spark_results: dict[str, dict[int, float]] = {}
    console = Console(width=170, stderr=True)
    wanted = [w.strip() for w in args.steps.split(",") if w.strip()]
    for n in sorted(set(sizes) | spark_sizes):
        folder = root / f"data-{n}"
        if not folder.exists():
            console.print(f"simulating ~{n:,} events …")
            write_parquet(folder, max(1, n // EVENTS_PER_CUSTOMER), seed=0,
                          chunk_customers=50_000)
        files = sorted(str(p) for p in folder.glob("events-*.parquet"))
        db = root / f"ws-{n}.duckdb"
        if n in sizes:
            for name, fn in _steps(db, files, folder, settings).items():
                if wanted and not any(name.startswith(w) for w in wanted):
                    continue
                if "CSV" in name:
                    _csv_copy(folder)  # written before the timed step
                console.print(f"{n:,} events: {name} …")
                results.setdefault(name, {})[n] = _child(fn)
        if n in spark_sizes:
            console.print(f"{n:,} events: Spark local[2] …")
            for name, timed in _spark_steps(folder, root / f"wh-{n}", args.spark_memory).items():
                spark_results.setdefault(name, {})[n] = timed
    columns = sorted(set(sizes) | spark_sizes)
    table = Table(title="touchlens at scale (seconds / peak RSS MB on DuckDB; seconds on Spark)")
    table.add_column("step")
    for n in columns:
        table.add_column(f"{n / 1e6:g}M events", justify="right")
    table.add_column("k (time ∝ n^k)", justify="right")
    table.add_column("note")
    for name, by_size in results.items():
        cells = [f"{by_size[n][0]:.1f} s / {by_size[n][1]:,.0f}" if n in by_size else ""
                 for n in columns]
        k = _fit_k(sorted(by_size), [by_size[n][0] for n in sorted(by_size)])
        table.add_row(name, *cells, f"{k:.2f}", by_size[max(by_size)][2])
    for name, by_size in spark_results.items():
        cells = [f"{by_size[n][0]:.1f} s" if n in by_size else "" for n in columns]
        k = _fit_k(sorted(by_size), [by_size[n][0] for n in sorted(by_size)])
        table.add_row(f"spark: {name}", *cells, f"{k:.2f}", by_size[max(by_size)][1])
    Console(width=170).print(table)
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
