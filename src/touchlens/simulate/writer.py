"""``write_parquet``: stream a large demo world to Parquet files, one chunk at a time.

Per chunk ``i``: ``events-<i>.parquet``, ``feedback-<i>.parquet``, ``identities-<i>.parquet``,
``consent-<i>.parquet`` and ``journeys-<i>.parquet`` (the simulated truth journeys). Once at
the end:
``costs-00000.parquet`` (daily spend summed over chunks), ``ground_truth.parquet``,
``ground_truth_channels.parquet`` and ``params.json``. Only one chunk is in memory at a time;
with the same (seed, n_customers, chunk_customers) the rows equal ``simulate_retailer``'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from touchlens.simulate.spec import WorldParams
from touchlens.simulate.world import Totals, iter_chunks, resolve_params, sum_costs
from touchlens.store import schema as S


def write_parquet(directory: str | Path, n_customers: int, *, seed: int = 0,
                  chunk_customers: int = 100_000, start: str = "2026-01-01", days: int = 90,
                  currency: str = "PLN", params: WorldParams | None = None,
                  effects: Mapping[str, float] | None = None) -> dict[str, list[Path]]:
    """Simulate and write the world under ``directory``; returns the files written per kind."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    params = resolve_params(params, effects)
    files: dict[str, list[Path]] = {k: [] for k in ("events", "feedback", "identities",
                                                     "consent", "journeys")}
    totals = Totals()
    costs: list[pa.Table] = []
    for i, chunk in enumerate(iter_chunks(n_customers, seed=seed, chunk_customers=chunk_customers,
                                          start=start, days=days, currency=currency,
                                          params=params)):
        totals.add(chunk)
        costs.append(chunk.costs)
        for kind in ("events", "feedback", "identities", "consent"):
            path = out / f"{kind}-{i:05d}.parquet"
            pq.write_table(getattr(chunk, kind), path)
            files[kind].append(path)
        path = out / f"journeys-{i:05d}.parquet"
        chunk.journeys.to_parquet(path, index=False)
        files["journeys"].append(path)
        del chunk
    table = pa.concat_tables(costs) if costs else S.COSTS.empty_table()
    path = out / "costs-00000.parquet"
    pq.write_table(sum_costs(table) if table.num_rows else table, path)
    files["costs"] = [path]
    truth, channels = totals.truth(params)
    for name, frame in (("ground_truth", truth), ("ground_truth_channels", channels)):
        path = out / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        files[name] = [path]
    path = out / "params.json"
    info = totals.describe(params, n_customers=n_customers, seed=seed, start=start, days=days,
                           currency=currency, chunk_customers=chunk_customers)
    path.write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    files["params"] = [path]
    return files
