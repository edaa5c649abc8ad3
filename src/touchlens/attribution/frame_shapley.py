"""The Shapley model straight from a ChannelAttribution DataFrame.

The shortcut behind ``attribute(df, "shapley")`` and ``shapley(df)`` on a path table:
validate, split every row into coded steps (:mod:`.tokens`), take each row's label set as a
bitmask (``np.bitwise_or.reduceat``) and sum the counts per set — no path or coalition
tables in a backend. The coalition rows, their order and so the credits (bootstrap
replicates too) equal ``engine.attribute(from_path_frame(df), "shapley")``: a set's counts
are sums over rows, whatever rows of the same path were merged first (tests compare them).
It declines (``None``) past ``MASK_MAX`` labels (the general route keys sets by strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from touchlens.attribution import engine
from touchlens.attribution.bootstrap import check_bootstrap
from touchlens.attribution.frame_markov import coded_rows, frame_totals, shortcut_call
from touchlens.attribution.shapley import (
    MASK_MAX,
    check_value,
    coalition_rows,
    shapley_credits,
)
from touchlens.errors import ConfigError


def applies(model: str | Sequence[str], options: dict[str, Any]) -> bool:
    """Whether ``attribute(df, model, **options)`` is the shortcut's: the Shapley model
    alone (anything invalid goes the general way, which says so)."""
    call = shortcut_call(model, options)
    if call is None or call[0] != ["shapley"]:
        return False
    try:
        check_value(options.get("shapley_value"))
    except ConfigError:
        return False
    return True


def shapley_of_frame(df: pd.DataFrame, *, sep: str, level: str,
                     exclude: str | Sequence[str] | None, shapley_value: str | None = None,
                     bootstrap: int = 0, seed: int = 0, confidence: float = 0.95,
                     **_: Any) -> pd.DataFrame | None:
    """The ``attribute`` result of the Shapley model on path table ``df`` (errors as the
    general route's), or ``None`` when the shortcut does not apply."""
    tokens, conv, rev, nulls = coded_rows(df, sep=sep, level=level, exclude=exclude)
    used = np.unique(tokens.codes)
    if len(used) > MASK_MAX:
        return None
    names_of = np.array(tokens.labels.to_pylist(), dtype=object)
    labels = sorted(str(x) for x in names_of[used])
    index = np.zeros(len(names_of), dtype=np.int64)
    index[used] = [labels.index(str(x)) for x in names_of[used]]
    keys = np.zeros(len(tokens.lengths), dtype=np.int64)
    has = tokens.lengths > 0
    if has.any():
        bits = np.left_shift(np.int64(1), index[tokens.codes])
        starts = (np.cumsum(tokens.lengths) - tokens.lengths)[has]
        keys[has] = np.bitwise_or.reduceat(bits, starts)
    long, notes = shapley_credits(labels, coalition_rows(keys, conv, nulls, rev),
                                  value=check_value(shapley_value),
                                  bootstrap=check_bootstrap(bootstrap), seed=seed,
                                  totals=frame_totals(tokens, conv, rev))
    result = engine.finish("shapley", long, level, confidence)  # the engine's own shape
    result.attrs["notes"] = {"shapley": notes}
    return result
