"""Tune and measure the anomaly detector on simulated worlds with injected anomalies.

    python benchmarks/monitoring.py [--customers 20000] [--days 180] [--seeds 3]
        [--injections 10] [--grain day] [--hours 72]

For each seed: one simulated retailer; a clean copy (no injection: false alarms only) and a copy
with ``--injections`` random anomalies (volume drop/spike, conversion drop, CSAT drop, cost
spike, start times known). Every detector setting in the grid runs on the same KPI grids.
Prints one row per setting: false alerts per 30 days on the clean worlds, precision, recall and
the median/max detection delay on the injected ones (docs/monitoring.md explains the scoring).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from touchlens.monitoring.anomalies import Detector
from touchlens.monitoring.evaluate import Score, evaluate, injected_kpis, score
from touchlens.monitoring.inject import random_injections
from touchlens.simulate import simulate_retailer

GRID = [Detector(k=k, false_alarms_per_day=rate)
        for k in (0.5, 1.0) for rate in (0.005, 0.01, 0.02)]
SIZE_OF = {"volume_drop": "n_events", "volume_spike": "n_events", "cost_spike": "n_events",
           "conversion_drop": "n_customers", "csat_drop": "csat_n"}
BANDS = [0, 10, 50, 200, np.inf]


def daily_size(kpis: pd.DataFrame, kind: str, touchpoint: str, start: pd.Timestamp) -> float:
    """The injected series' usual daily denominator (events, customers or responses): the mean
    over the four weeks before the injection."""
    col = SIZE_OF[kind]
    k = kpis[(kpis.touchpoint == touchpoint) & (kpis.period_start < start)
             & (kpis.period_start >= start - pd.Timedelta(days=28))]
    hours = (k.period_start.max() - k.period_start.min()) / pd.Timedelta(hours=1) + 1
    return float(k[col].sum() / max(hours / 24, 1.0)) if len(k) else float("nan")
DEFAULT_ONLY = [Detector()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--injections", type=int, default=10)
    ap.add_argument("--grain", default="day", choices=["day", "hour"])
    ap.add_argument("--hours", type=float, default=72)
    ap.add_argument("--warmup-days", type=float, default=70)
    ap.add_argument("--tail-days", type=float, default=14)
    ap.add_argument("--default-only", action="store_true",
                    help="Only the default detector (faster), not the tuning grid.")
    ap.add_argument("--k", type=float, nargs="*", help="CUSUM k values for the grid.")
    ap.add_argument("--budget", type=float, nargs="*", help="False alarms/day for the grid.")
    args = ap.parse_args()
    grid = DEFAULT_ONLY if args.default_only else GRID
    if args.k or args.budget:
        grid = [Detector(k=k, false_alarms_per_day=b) for k in args.k or [Detector().k]
                for b in args.budget or [Detector().false_alarms_per_day]]

    clean = {i: Score() for i in range(len(grid))}
    dirty = {i: Score() for i in range(len(grid))}
    by_kind: dict[tuple[int, str], list[int]] = {}
    records: list[dict] = []
    scored_days = 0.0
    started = time.perf_counter()
    for seed in range(args.seeds):
        world = simulate_retailer(args.customers, seed=100 + seed, days=args.days)
        injections = random_injections(world, args.injections, seed=seed, hours=args.hours,
                                       warmup_days=args.warmup_days,
                                       tail_days=args.tail_days)
        kpis0, truth0 = injected_kpis(world, [], grain=args.grain, seed=seed)
        kpis1, truth1 = injected_kpis(world, injections, grain=args.grain, seed=seed)
        scored_days += args.days - args.warmup_days - args.tail_days
        for i, det in enumerate(grid):
            kw = {"grain": args.grain, "warmup_days": args.warmup_days,
                  "tail_days": args.tail_days}
            clean[i] = clean[i] + evaluate(kpis0, truth0, det, **kw)[0]
            s1, alerts = evaluate(kpis1, truth1, det, **kw)
            dirty[i] = dirty[i] + s1
            for inj in truth1.itertuples(index=False):
                one = truth1[(truth1.touchpoint == inj.touchpoint) & (truth1.start == inj.start)]
                one_score = score(alerts, one, grain=args.grain)
                by_kind.setdefault((i, inj.kind), []).append(one_score.found)
                if det == Detector():
                    records.append({"kind": inj.kind, "found": one_score.found,
                                    "delay h": (one_score.delays_hours or (np.nan,))[0],
                                    "per day": daily_size(kpis0, inj.kind, inj.touchpoint,
                                                          inj.start)})
    elapsed = time.perf_counter() - started

    rows = []
    for i, det in enumerate(grid):
        d = dirty[i]
        delays = np.array(d.delays_hours) if d.delays_hours else np.array([np.nan])
        rows.append({
            "k": det.resolved(args.grain).k,
            "alarms/day budget": det.resolved(args.grain).false_alarms_per_day,
            "false alerts /30d (clean)": 30 * clean[i].alerts / scored_days,
            "precision": d.precision, "+collateral": d.precision_with_collateral,
            "recall": d.recall,
            "median delay h": float(np.nanmedian(delays)), "max delay h": float(np.nanmax(delays)),
            **{f"recall {kind}": np.mean(v) for (j, kind), v in sorted(by_kind.items())
               if j == i},
        })
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(f"{args.seeds} worlds × {args.customers:,} customers × {args.days} days, grain "
          f"{args.grain}, {args.injections} injections of {args.hours:g} h each "
          f"({elapsed:.0f} s)")
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    if records:
        rec = pd.DataFrame(records)
        rec["size"] = pd.cut(rec["per day"], BANDS, right=False)
        table = rec.groupby(["kind", "size"], observed=True).agg(
            injections=("found", "size"), recall=("found", "mean"),
            median_delay_h=("delay h", "median"))
        print("\ndefault detector: recall by kind and the series' usual size per day "
              "(events, customers or responses)")
        print(table.round(2).to_string())


if __name__ == "__main__":
    main()
