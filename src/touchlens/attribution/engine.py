"""Run attribution models on a :class:`PathSource` and shape the result table.

Result grain: one row per model × label (channel or touchpoint). Columns (stable):

- ``model``; the label column named after the level (``channel`` or ``touchpoint``);
- ``conversions``: attributed conversions (per model they sum to the total conversions,
  except ``participation``, a reach view);
- ``revenue``: attributed revenue (sums to the total revenue the same way);
- ``share`` = conversions / Σ conversions of the model (0..1);
- ``ci_low`` / ``ci_high``: bootstrap percentile interval of ``conversions`` (data-driven
  models with ``bootstrap`` > 0; NaN otherwise).

Special labels: ``"(none)"`` holds conversions with no touch before them (every model);
``"(baseline)"`` holds conversions a model says would happen without any touch
(``counterfactual`` and the rate variant of ``shapley``). Per-model notes (removal effects,
characteristic function, fit quality, sample sizes) are in ``result.attrs["notes"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from touchlens.attribution.bootstrap import check_bootstrap, interval
from touchlens.attribution.heuristics import RULES, heuristic_credits
from touchlens.attribution.paths import PathSource
from touchlens.errors import ConfigError

HEURISTIC_MODELS: tuple[str, ...] = ("first", "last", "last_non_direct", "linear",
                                     "participation", "position", "j_curve", "inverse_j",
                                     "w_shaped", "time_decay")
DATA_DRIVEN_MODELS: tuple[str, ...] = ("markov", "shapley", "counterfactual")
MODELS: tuple[str, ...] = HEURISTIC_MODELS + DATA_DRIVEN_MODELS
RESULT_TAIL = ("conversions", "revenue", "share", "ci_low", "ci_high")


def result_columns(level: str) -> tuple[str, ...]:
    """The documented columns of an attribution result at ``level``."""
    return ("model", level, *RESULT_TAIL)


def resolve_models(model: str | Sequence[str], *, has_time: bool = True) -> list[str]:
    """Model names from ``"all"``, one name, a comma list or a sequence."""
    names = [model] if isinstance(model, str) else list(model)
    names = [x.strip() for n in names for x in str(n).split(",") if x.strip()]
    out: list[str] = []
    for n in names:
        if n == "all":
            out += [m for m in MODELS if has_time or m != "time_decay"]
        elif n in MODELS or n == "custom":
            out.append(n)
        else:
            raise ConfigError(f"unknown model {n!r}; models: all, {', '.join(MODELS)}, custom")
    if not out:
        raise ConfigError("no model given")
    return list(dict.fromkeys(out))


def scans(models: Sequence[str], bootstrap: int = 0, *, events: bool = False,
          markov_order: int = 1) -> int:
    """How many queries over the touches ``models`` make (all rules share one).
    ``events``: the source has its journey events, which the Shapley and counterfactual
    models (:mod:`touchlens.attribution.counts`) and an order-1 Markov chain without
    bootstrap read instead; the rules then read the converting paths' own touches."""
    n = 1 if any(m in RULES for m in models) and not events else 0
    markov = 2 if bootstrap else (0 if events and markov_order == 1 else 1)
    per = {"markov": markov, "shapley": 0 if events else 2,
           "counterfactual": 0 if events else 1}
    return n + sum(per.get(m, 0) for m in models)


def counts_only(models: Sequence[str], markov_order: int, bootstrap: int) -> bool:
    """Whether ``models`` read nothing but order-1 transition counts: a first-order Markov
    chain without bootstrap, alone (what the stored counts of :mod:`.stored` serve)."""
    return list(models) == ["markov"] and markov_order == 1 and not bootstrap


def _counted_only(source: PathSource, models: Sequence[str], markov_order: int,
                  bootstrap: int) -> bool:
    """:func:`counts_only` on a workspace source that carries the stored counts."""
    return source.counted is not None and counts_only(models, markov_order, bootstrap)


def totals(source: PathSource) -> tuple[float, float, float, float]:
    """(conversions, revenue, conversions without touch, their revenue) of the source
    (from its stored transition counts when it has them: the same sums)."""
    if source.counted is not None:
        from touchlens.attribution.markov import order1_totals

        df = source.execute(order1_totals(source.counted))
        row = df.fillna(0.0).iloc[0]
        return float(row["c"]), float(row["r"]), float(row["c0"]), float(row["r0"])
    p = source.paths
    empty = ~p.touched
    df = source.execute(p.aggregate(
        c=p.conversions.sum(), r=p.revenue.sum(),
        c0=p.conversions.sum(where=empty), r0=p.revenue.sum(where=empty)))
    row = df.fillna(0.0).iloc[0]
    return float(row["c"]), float(row["r"]), float(row["c0"]), float(row["r0"])


def finish(model: str, df: pd.DataFrame, level: str, confidence: float) -> pd.DataFrame:
    """One model's credits (``label``, conversions, revenue[, bootstrap bounds]) in the
    result shape of :func:`attribute` (model, ``level``, shares, intervals)."""
    total = df["conversions"].sum()
    out = pd.DataFrame({
        "model": model, level: df["label"].astype(str).to_numpy(),
        "conversions": df["conversions"].to_numpy(float),
        "revenue": df["revenue"].to_numpy(float),
        "share": df["conversions"].to_numpy(float) / total if total > 0 else 0.0,
        "ci_low": np.nan, "ci_high": np.nan,
    })
    if "samples" in df.columns:
        for i, s in enumerate(df["samples"]):
            if s is not None and len(s):
                low, high = interval(np.asarray(s)[:, None], confidence)
                out.loc[i, ["ci_low", "ci_high"]] = [low[0], high[0]]
    return out.sort_values(["conversions", level], ascending=[False, True], ignore_index=True)


def attribute(source: PathSource, model: str | Sequence[str] = "all", *,
              half_life_days: float = 7.0, position_weights: Sequence[float] | None = None,
              markov_order: int = 1, shapley_value: str | None = None,
              counterfactual_model: str = "auto", bootstrap: int = 0, seed: int = 0,
              confidence: float = 0.95) -> pd.DataFrame:
    """Attribution by ``model`` over ``source`` (see the module docstring for the columns)."""
    bootstrap = check_bootstrap(bootstrap)
    models = resolve_models(model, has_time=source.has_time)
    reads = scans(models, bootstrap, events=source.events is not None,
                  markov_order=markov_order)
    # a data-driven model reads the per-journey outcome at least twice (its totals, its own)
    shared = len(models) > 1 or any(m in DATA_DRIVEN_MODELS for m in models)
    if _counted_only(source, models, markov_order, bootstrap):
        shared = False  # the stored counts hold all it reads: no journey is built
    if not source.materialised and (reads > 1 or (source.can_cache_paths and shared)):
        # the journey windows run once, not once per query; or, when no model reads the
        # touches, the one-row-per-journey table that several read is built once
        cached = source.cached() if reads > 1 else source.with_paths_cached()
        try:
            return attribute(cached, models, half_life_days=half_life_days,
                             position_weights=position_weights, markov_order=markov_order,
                             shapley_value=shapley_value,
                             counterfactual_model=counterfactual_model, bootstrap=bootstrap,
                             seed=seed, confidence=confidence)
        finally:
            cached.release()
    level = source.level
    parts: list[pd.DataFrame] = []
    notes: dict[str, Any] = {}
    rules = [m for m in models if m in RULES]
    if rules:
        long = heuristic_credits(source, rules, half_life_days=half_life_days,
                                 custom=position_weights)
        for r in rules:
            parts.append(finish(r, long[long["model"] == r], level, confidence))
        if "time_decay" in rules:
            notes["time_decay"] = {"half_life_days": half_life_days}
    data_driven = [m for m in models if m in DATA_DRIVEN_MODELS]
    if data_driven:
        tot = totals(source)
        for m in data_driven:
            df, note = _run_data_driven(m, source, tot, markov_order=markov_order,
                                        shapley_value=shapley_value,
                                        counterfactual_model=counterfactual_model,
                                        bootstrap=bootstrap, seed=seed)
            parts.append(finish(m, df, level, confidence))
            notes[m] = note
    order = {m: i for i, m in enumerate(models)}
    result = pd.concat(parts, ignore_index=True)
    result = result.assign(_o=result["model"].map(order)).sort_values("_o", kind="stable")
    result = result.drop(columns="_o").reset_index(drop=True)
    result.attrs["notes"] = notes
    return result


def _run_data_driven(name: str, source: PathSource, tot: tuple[float, float, float, float],
                     *, markov_order: int, shapley_value: str | None,
                     counterfactual_model: str, bootstrap: int, seed: int
                     ) -> tuple[pd.DataFrame, dict]:
    if name == "markov":
        from touchlens.attribution.markov import markov_model

        return markov_model(source, order=markov_order, bootstrap=bootstrap, seed=seed,
                            totals=tot)
    if name == "shapley":
        from touchlens.attribution.shapley import shapley_model

        return shapley_model(source, value=shapley_value, bootstrap=bootstrap, seed=seed,
                             totals=tot)
    from touchlens.attribution.counterfactual import counterfactual_model as run

    return run(source, model=counterfactual_model, bootstrap=bootstrap, seed=seed, totals=tot)
