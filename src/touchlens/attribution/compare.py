"""All models side by side: each label's share per model and how far the models disagree.

Grain: one row per label. Columns: the label (``channel`` or ``touchpoint``), one column per
model holding its ``share`` (0..1; participation normalised over labels), then
``min_share``, ``max_share`` and ``spread`` = max − min (the disagreement an analyst should
look at), sorted by the mean share. Special rows ``(none)``/``(baseline)`` are left out of
the spread (not every model has them) but kept with their shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COMPARE_TAIL = ("min_share", "max_share", "spread")


def compare_table(result: pd.DataFrame, level: str) -> pd.DataFrame:
    """Pivot an attribution result (several models) to one row per label."""
    models = list(dict.fromkeys(result["model"]))
    if result.empty:  # nothing to attribute (an empty workspace or period): no rows
        return pd.DataFrame(columns=[level, *models, *COMPARE_TAIL])
    wide = result.pivot_table(index=level, columns="model", values="share", aggfunc="sum")
    wide = wide.reindex(columns=models).fillna(0.0)
    special = wide.index.str.startswith("(")
    shares = wide.to_numpy(float)
    wide["min_share"] = shares.min(axis=1)
    wide["max_share"] = shares.max(axis=1)
    wide["spread"] = wide["max_share"] - wide["min_share"]
    wide.loc[special, list(COMPARE_TAIL)] = np.nan
    order = np.lexsort((wide.index.to_numpy(), -shares.mean(axis=1), special))
    out = wide.iloc[order].rename_axis(level).reset_index()
    out.columns.name = None
    return out
