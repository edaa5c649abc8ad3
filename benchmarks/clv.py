"""CLV benchmark: BG/NBD + Gamma-Gamma maximum-likelihood fit on simulated customers, against
lifetimes (BetaGeoFitter, GammaGammaFitter) and pymc-marketing's MAP fit with flat priors
(= the MLE), all in the same run.

    python benchmarks/clv.py [--customers 1000000] [--seed 0] [--peers lifetimes,pymc]
                             [--pymc-python /path/to/venv/bin/python]

Data: customers drawn from the BG/NBD and Gamma-Gamma stories with the CDNOW parameters,
first purchases spread over a year and purchases on whole days (times in weeks), as a
transaction summary gives them. Each tool runs in its own process: the fit time excludes
imports and loading; the peak RSS is the child's whole process (imports included).
Peers install from the ``bench`` extra (lifetimes needs setuptools<81); pymc-marketing is
heavy, so it can live in another virtualenv named by ``--pymc-python``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
BG_KEYS, GG_KEYS = tuple(TRUE_BG), tuple(TRUE_GG)


def make_data(n: int, seed: int) -> pd.DataFrame:
    from touchlens.loyalty import simulate_bgnbd, simulate_gamma_gamma

    rng = np.random.default_rng(seed)
    T = rng.integers(1, 366, size=n) / 7.0
    d = simulate_bgnbd(n, T=T, seed=seed + 1, **TRUE_BG)
    d["recency"] = np.floor(d["recency"] * 7) / 7  # whole days
    d["monetary_value"] = simulate_gamma_gamma(
        d["frequency"], seed=seed + 2, **TRUE_GG)["monetary_value"].round(2)
    d.insert(0, "customer_id", np.arange(n))
    return d


# ---------------------------------------------------------------- one tool, in a child process


def _fit_touchlens(d: pd.DataFrame) -> dict:
    from touchlens.loyalty import BetaGeoModel, GammaGammaModel

    t0 = time.perf_counter()
    bg = BetaGeoModel().fit(d)
    t1 = time.perf_counter()
    gg = GammaGammaModel().fit(d)
    t2 = time.perf_counter()
    return {"bg_s": t1 - t0, "gg_s": t2 - t1, "bg": bg.params_, "gg": gg.params_,
            "bg_se": bg.standard_errors_}


def _fit_lifetimes(d: pd.DataFrame) -> dict:
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    rep = d[d["frequency"] > 0]
    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    t1 = time.perf_counter()
    gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    t2 = time.perf_counter()
    se = bg.summary["se(coef)"].to_dict()
    return {"bg_s": t1 - t0, "gg_s": t2 - t1, "bg": bg.params_.to_dict(),
            "gg": gg.params_.to_dict(), "bg_se": se}


def _fit_pymc(d: pd.DataFrame) -> dict:
    warnings.simplefilter("ignore")
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    from pymc_marketing.prior import Prior

    flat = {k: Prior("HalfFlat") for k in BG_KEYS}
    rep = d[d["frequency"] > 0][["customer_id", "frequency", "monetary_value"]]
    t0 = time.perf_counter()
    bg = BetaGeoModel(data=d[["customer_id", "frequency", "recency", "T"]], model_config=flat)
    bg.fit(method="map", progressbar=False)
    t1 = time.perf_counter()
    gg = GammaGammaModel(data=rep, model_config={k: Prior("HalfFlat") for k in GG_KEYS})
    gg.fit(method="map", progressbar=False)
    t2 = time.perf_counter()

    def point(model, keys):
        post = model.idata.posterior
        return {k: float(post[k].values.ravel()[0]) for k in keys}

    return {"bg_s": t1 - t0, "gg_s": t2 - t1, "bg": point(bg, BG_KEYS), "gg": point(gg, GG_KEYS)}


RUNNERS = {"touchlens": _fit_touchlens, "lifetimes": _fit_lifetimes, "pymc": _fit_pymc}


def child(tool: str, path: str) -> None:
    with np.load(path) as arrays:
        d = pd.DataFrame({k: arrays[k] for k in arrays.files})
    out = RUNNERS[tool](d)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(out) + "\n")


def run_tool(python: str, tool: str, path: Path) -> dict | None:
    proc = subprocess.run([python, __file__, "--child", tool, str(path)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(f"{tool} failed:\n{proc.stderr[-2000:]}\n")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report


def max_rel_diff(a: dict, b: dict) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peers", default="lifetimes,pymc")
    ap.add_argument("--pymc-python", default=sys.executable)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    peers = [p for p in args.peers.split(",") if p]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.customers:
            path = Path(tmp) / f"clv_{n}.npz"
            data = make_data(n, args.seed)
            np.savez(path, **{c: data[c].to_numpy() for c in data.columns})
            results = {"touchlens": run_tool(sys.executable, "touchlens", path)}
            for peer in peers:
                python = args.pymc_python if peer == "pymc" else sys.executable
                results[peer] = run_tool(python, peer, path)
            ref = results["touchlens"]
            base = results.get("lifetimes")
            for tool, r in results.items():
                if r is None:
                    continue
                total = r["bg_s"] + r["gg_s"]
                speedup = ((base["bg_s"] + base["gg_s"]) / total) if base else float("nan")
                rows.append({
                    "customers": n, "tool": tool, "bgnbd_s": round(r["bg_s"], 2),
                    "gamma_gamma_s": round(r["gg_s"], 2), "total_s": round(total, 2),
                    "peak_rss_mb": round(r["peak_rss_mb"]),
                    "x_vs_lifetimes": round(speedup, 1),
                    "bg_max_rel_diff": f"{max_rel_diff(r['bg'], ref['bg']):.1e}",
                    "gg_max_rel_diff": f"{max_rel_diff(r['gg'], ref['gg']):.1e}",
                    "bg_params": {k: round(v, 5) for k, v in r["bg"].items()},
                })
    frame = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 20,
                           "display.max_colwidth", 80):
        print(frame.to_string(index=False))
    print("\nmax_rel_diff: largest |parameter − touchlens| / |touchlens| over the model's "
          "parameters; x_vs_lifetimes: lifetimes total time / this tool's total time.")


if __name__ == "__main__":
    main()
