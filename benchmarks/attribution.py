"""Attribution benchmark: every touchlens model on 100k and 1M simulated journeys (10M with
``--ten-million``), and the same work by ChannelAttribution and marketing-attribution-models
(``mam``) in the same run where they import.

    python benchmarks/attribution.py [--journeys 100000,1000000] [--ten-million]
                                     [--models markov first,last,linear all ...]
                                     [--peers channelattribution,mam]
                                     [--seed 0] [--keep DIR] [--duckdb-memory 2GB]

Data: journeys of ~5 touches (1 + Poisson(4)) over 12 channels, no channel twice in a row,
spread over up to 14 days; each journey converts with P = 1 − 0.97 · Π(1 − effect) over its
channels (randomised exposure), revenue log-normal. Inputs are written once per size: the
touches as Parquet (what a workspace's journey_events holds) and the ChannelAttribution path
table (one row per distinct path).

Routes (the input each tool gets): ``paths`` = the distinct-path table; ``journeys`` = one
path row per journey (what peers are usually fed; ``mam`` reads both as its grouped format);
``csv`` = the journeys table as a CSV file, read inside the timing (touchlens:
``attribute(read_paths(file))``, what ``touchlens attribution --paths FILE`` runs;
ChannelAttribution: ``pandas.read_csv`` then its call); ``touches`` (touchlens only) = the
raw touch events in a DuckDB file (``--duckdb-memory``: its memory limit), the workspace
route: ordering, merging of repeats, windows and aggregations included — the work the other
inputs have already had done for them. Each measurement is its own process: the time covers
the call only (not imports or, except on ``csv``, loading); the peak is the child's high-
water RSS (VmHWM, imports included). ``--repeat N`` measures each N times (interleaved) and
reports the median. ``ratio`` = peer time / touchlens time for the same model on the same
input (> 1: touchlens is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CHANNELS = ("search", "social", "display", "email", "affiliate", "video", "direct",
            "referral", "sms", "push", "print", "organic")
EFFECTS = np.array([0.08, 0.03, 0.02, 0.04, 0.05, 0.02, 0.0, 0.06, 0.03, 0.01, 0.02, 0.04])
WEIGHTS = np.array([12, 14, 16, 12, 5, 6, 10, 3, 4, 6, 2, 10], dtype=float)
TOUCHLENS_MODELS = ("first", "last", "last_non_direct", "linear", "participation",
                    "position", "j_curve", "inverse_j", "w_shaped", "time_decay", "markov",
                    "shapley", "counterfactual", "first,last,linear", "all")
PEER_MODELS = {  # peer → {its call: the touchlens model doing the same work}
    "channelattribution": {"markov_model": "markov", "heuristic_models": "first,last,linear"},
    "mam": {"run_markov": "markov", "run_shapley": "shapley",
            "run_position_based": "position"},
}
CHUNK = 500_000
MEMORY_ENV = "TOUCHLENS_BENCH_DUCKDB_MEMORY"  # how --duckdb-memory reaches the workers


# ---------------------------------------------------------------- data


def _chunk(rng: np.random.Generator, first_id: int, n: int) -> tuple[pa.Table, pd.DataFrame]:
    k = len(CHANNELS)
    length = 1 + rng.poisson(4.0, n)
    jid = np.repeat(np.arange(first_id, first_id + n, dtype=np.int64), length)
    starts = np.cumsum(length) - length
    step = np.arange(len(jid)) - np.repeat(starts, length)
    ch = rng.choice(k, size=len(jid), p=WEIGHTS / WEIGHTS.sum())
    for _ in range(8):  # no channel twice in a row: redraw repeats
        rep = np.flatnonzero((step > 0) & (ch == np.roll(ch, 1)))
        if not len(rep):
            break
        ch[rep] = (ch[rep] + rng.integers(1, k, len(rep))) % k
    exposed = np.zeros((n, k), bool)
    exposed[jid - first_id, ch] = True
    p = 1 - 0.97 * np.prod(1 - EFFECTS[None, :] * exposed, axis=1)
    converted = rng.random(n) < p
    revenue = np.where(converted, np.round(150 * np.exp(0.5 * rng.standard_normal(n)), 2), 0)
    start_s = rng.integers(0, 80 * 86400, n)
    spacing = 14 * 86400 / (length.max() + 1)  # steps stay in order, within 14 days
    offset = np.repeat(start_s, length) + (step + rng.random(len(jid))) * spacing
    end = np.zeros(n)
    np.maximum.at(end, jid - first_id, offset)
    conv_ids = np.flatnonzero(converted)
    conv_at = end[conv_ids] + 3600
    seconds = np.concatenate([offset, conv_at]).astype(np.int64)
    channel = np.array(CHANNELS, dtype=object)
    ch_all = np.concatenate([channel[ch], np.full(len(conv_ids), "web", dtype=object)])
    table = pa.table({
        "journey_id": np.concatenate([jid, conv_ids + first_id]).astype(str),
        "event_id": np.arange(len(seconds)).astype(str) + f"-{first_id}",
        "occurred_at": pa.array(seconds * 1_000_000, pa.timestamp("us", tz="UTC")),
        "channel": ch_all, "touchpoint": ch_all,
        "is_conversion": np.r_[np.zeros(len(jid), bool), np.ones(len(conv_ids), bool)],
        "revenue": np.r_[np.zeros(len(jid)), revenue[conv_ids]],
        "customer_id": np.concatenate([jid, conv_ids + first_id]).astype(str),
    })
    paths = pd.Series(channel[ch]).groupby(jid).agg(" > ".join)
    journeys = pd.DataFrame({"path": paths.to_numpy(), "c": converted.astype(float),
                             "v": revenue, "n": (~converted).astype(float)})
    return table, journeys


def make_data(n: int, seed: int, folder: Path) -> tuple[Path, Path, Path]:
    """Write touches, distinct paths and per-journey paths (Parquet) for ``n`` journeys."""
    rng = np.random.default_rng(seed)
    names = ("touches", "paths", "journeys")
    files = tuple(folder / f"{x}_{n}.parquet" for x in names)
    if all(f.exists() for f in files):
        return files
    cols = ["path", "total_conversions", "total_conversion_value", "total_null"]
    writers: dict[str, pq.ParquetWriter] = {}
    parts = []
    for first in range(0, n, CHUNK):
        table, journeys = _chunk(rng, first, min(CHUNK, n - first))
        journeys.columns = cols
        per = pa.Table.from_pandas(journeys, preserve_index=False)
        for key, t in (("touches", table), ("journeys", per)):
            if key not in writers:
                writers[key] = pq.ParquetWriter(folder / f"{key}_{n}.parquet", t.schema)
            writers[key].write_table(t)
        parts.append(journeys.groupby("path", as_index=False)[cols[1:]].sum())
    for w in writers.values():
        w.close()
    pd.concat(parts).groupby("path", as_index=False)[cols[1:]].sum().to_parquet(
        files[1], index=False)
    return files


def csv_of(table: Path) -> Path:
    """The path table as a CSV file beside it (written once)."""
    out = table.with_suffix(".csv")
    if not out.exists():
        pcsv.write_csv(pq.read_table(table), out)
    return out


# ---------------------------------------------------------------- one measurement per process


def _touchlens(route: str, model: str, touches: Path, paths: Path) -> float:
    """``paths``: either path table (distinct paths or one row per journey) or its CSV."""
    from touchlens.attribution import attribute, read_paths
    from touchlens.attribution.paths import from_journey_events

    if route == "csv":
        t0 = time.perf_counter()
        attribute(read_paths(paths), model)
        return time.perf_counter() - t0
    if route in ("paths", "journeys"):
        table = pd.read_parquet(paths)
        t0 = time.perf_counter()
        attribute(table, model)
        return time.perf_counter() - t0
    import ibis

    # the touches live in a DuckDB file, as a workspace's journey cache does (loaded once per
    # size, not timed; an in-memory copy would put the whole table in the peak)
    db = touches.with_suffix(".duckdb")
    con = ibis.duckdb.connect(db)
    con.raw_sql("SET enable_progress_bar = false")
    if limit := os.environ.get(MEMORY_ENV):  # --duckdb-memory: DuckDB spills beyond it
        con.raw_sql(f"SET memory_limit = '{limit}'")
    if "touches" not in con.list_tables():
        con.raw_sql(f"CREATE TABLE touches AS SELECT * FROM read_parquet('{touches}')")
        con.raw_sql("CHECKPOINT")
    source = from_journey_events(con.table("touches"), con.execute, level="channel",
                                 exclude=None, anonymous=True)
    t0 = time.perf_counter()
    from touchlens.attribution.engine import attribute as run

    run(source, model)  # it materialises what several models share (engine.attribute)
    return time.perf_counter() - t0


def _channelattribution(call: str, paths: Path) -> float:
    """``paths``: either input table (distinct paths or one row per journey) or its CSV
    (read inside the timing)."""
    import ChannelAttribution as ca

    t0 = time.perf_counter()
    d = pd.read_csv(paths, keep_default_na=False) if paths.suffix == ".csv" else (
        pd.read_parquet(paths))
    read = time.perf_counter() - t0 if paths.suffix == ".csv" else 0.0
    # its separator is one character; the change is not timed
    d = d[d["path"] != ""].assign(path=lambda x: x["path"].str.replace(" > ", ">"))
    t0 = time.perf_counter() - read
    if call == "markov_model":
        ca.markov_model(d, "path", "total_conversions", var_value="total_conversion_value",
                        var_null="total_null", verbose=False, flg_pro=False)
    else:
        ca.heuristic_models(d, "path", "total_conversions", var_value="total_conversion_value",
                            flg_pro=False)
    return time.perf_counter() - t0


def _mam(call: str, paths: Path) -> float:
    import mam

    d = pd.read_csv(paths, keep_default_na=False) if paths.suffix == ".csv" else (
        pd.read_parquet(paths))
    conv = pd.DataFrame({"path": d["path"], "has_conv": True, "n": d["total_conversions"],
                         "value": d["total_conversion_value"]})
    null = pd.DataFrame({"path": d["path"], "has_conv": False, "n": d["total_null"],
                         "value": 0.0})
    g = pd.concat([conv, null])
    g = g[g["n"] > 0].astype({"n": "int64"})
    t0 = time.perf_counter()
    m = mam.MAM(g, format_type="grouped_journey", channels_colname="path",
                journey_with_conv_colname="has_conv", occurrences_colname="n",
                conversion_value_colname="value")
    getattr(m, call)()
    return time.perf_counter() - t0


def peak_mb() -> float:
    """High-water resident memory of this process (VmHWM; ru_maxrss would carry the parent's
    peak across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(tool: str, what: str, touches: str, paths: str) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    if tool.startswith("touchlens/"):  # imports are not timed (scikit-learn takes seconds)
        import ibis
        import sklearn.linear_model  # noqa: F401

        import touchlens.attribution  # noqa: F401

        ibis.duckdb  # noqa: B018 -- Ibis imports a backend on first use (~0.4 s)
    if tool.startswith("touchlens/"):
        seconds = _touchlens(tool.split("/")[1], what, Path(touches), Path(paths))
    elif tool.startswith("channelattribution"):
        seconds = _channelattribution(what, Path(paths))
    else:
        seconds = _mam(what, Path(paths))
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


def measure(tool: str, what: str, touches: Path, paths: Path, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, what, str(touches), str(paths)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "note": "timeout"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"seconds": float("nan"), "peak_mb": float("nan"), "note": last[:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """Median seconds and peak of repeated measurements (failed ones only if all failed)."""
    ok = [r for r in runs if not np.isnan(r["seconds"])] or runs
    out = {k: float(np.median([r[k] for r in ok])) for k in ("seconds", "peak_mb")}
    notes = sorted({r["note"] for r in runs if r.get("note")})
    if len(runs) > 1:
        notes.append(f"median of {len(ok)}: " + ", ".join(f"{r['seconds']:.2f}" for r in ok))
    return out | ({"note": "; ".join(notes)} if notes else {})


def importable(name: str) -> bool:
    module = {"channelattribution": "ChannelAttribution", "mam": "mam"}[name]
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                           check=False)
    return probe.returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", default="100000,1000000")
    ap.add_argument("--ten-million", action="store_true", help="also 10,000,000 journeys")
    ap.add_argument("--models", nargs="+", default=["all-models"],
                    help="touchlens models, space-separated (a comma list is one call, e.g. "
                         "first,last,linear as ChannelAttribution's heuristic_models)")
    ap.add_argument("--peers", default="channelattribution,mam")
    ap.add_argument("--routes", default="touches,journeys,paths",
                    help="comma list of touches, journeys, paths, csv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--keep", type=Path, help="folder for the generated inputs (reused)")
    ap.add_argument("--duckdb-memory", metavar="SIZE",
                    help="DuckDB memory limit on the touches route, e.g. 2GB (it spills to "
                         "disk beyond it; default: DuckDB's own, 80%% of RAM)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measurements per call (interleaved); the median is reported")
    args = ap.parse_args()
    if args.duckdb_memory:
        os.environ[MEMORY_ENV] = args.duckdb_memory
    sizes = [int(x) for x in args.journeys.split(",")] + ([10_000_000] if args.ten_million
                                                          else [])
    models = TOUCHLENS_MODELS if args.models == ["all-models"] else args.models
    peers = [p for p in args.peers.split(",") if p and importable(p)]
    skipped = sorted(set(filter(None, args.peers.split(","))) - set(peers))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="touchlens-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        touches, paths, journeys = make_data(n, args.seed, folder)
        n_paths = pq.read_metadata(paths).num_rows
        print(f"# {n:,} journeys → {n_paths:,} distinct paths (data {time.perf_counter() - t0:.0f}"
              " s)", file=sys.stderr, flush=True)
        routes = args.routes.split(",")
        inputs = {"paths": paths, "journeys": journeys, "touches": paths}
        if "csv" in routes:
            inputs["csv"] = csv_of(journeys)
        jobs = [(f"touchlens/{route}", m, m, route) for route in routes for m in models
                if route == "touches" or m != "time_decay"]  # a path table has no timestamps
        jobs += [(f"{peer}/{route}", call, same, route) for peer in peers
                 for route in routes if route != "touches"
                 for call, same in PEER_MODELS[peer].items() if same in models]
        runs: dict[tuple[str, str], list[dict]] = {}
        for _ in range(args.repeat):  # interleaved: every tool sees the same load
            for tool, what, _same, route in jobs:
                r = measure(tool, what, touches, inputs[route], args.timeout)
                runs.setdefault((tool, what), []).append(r)
                print(json.dumps({"journeys": n, "tool": tool, "model": what, **r}),
                      file=sys.stderr, flush=True)
        base: dict[tuple[str, str], float] = {}
        for tool, what, same, route in jobs:
            r = median_run(runs[tool, what])
            row = {"journeys": n, "tool": tool, "model": what, **r}
            if tool.startswith("touchlens/"):
                base[route, what] = r["seconds"]
            else:
                ours = base.get((route, same), float("nan"))
                row |= {"model": f"{what} (≈ {same})",
                        "ratio": r["seconds"] / ours if ours else float("nan")}
            rows.append(row)
    table = pd.DataFrame(rows)
    for col in ("ratio", "note"):
        if col not in table:
            table[col] = np.nan
    table["seconds"] = table["seconds"].map(lambda x: f"{x:.2f}")
    table["peak_mb"] = table["peak_mb"].map(lambda x: f"{x:,.0f}")
    table["ratio"] = table["ratio"].map(lambda x: "" if pd.isna(x) else f"{x:.1f}×")
    table["note"] = table["note"].astype(object).where(table["note"].notna(), "")
    print(table[["journeys", "tool", "model", "seconds", "peak_mb", "ratio", "note"]]
          .to_string(index=False))
    if skipped:
        print(f"peers not importable (pip install -e .[bench]): {', '.join(skipped)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:6])
    else:
        main()
