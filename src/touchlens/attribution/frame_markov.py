"""Order-1 Markov attribution straight from a ChannelAttribution DataFrame.

The shortcut behind ``attribute(df, "markov")`` and ``markov(df)`` on a path table: validate,
split every row into coded steps (:mod:`.tokens`), count transitions with ``np.bincount``
(:func:`.markov.coded_transitions`) and solve — no path tables in a backend, no merging of
rows by path string first. The result equals ``engine.attribute(from_path_frame(df),
"markov")`` (tests compare them): a row's counts are weights and transition counts are sums,
so merging rows of the same path first changes no count.

It declines (``None``: the caller takes the general route) where that equality would need
the merge: a row with revenue but no conversions (the general route keeps that revenue only
when the path converts on another row), and labels named like the chain's own states.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.attribution import engine
from touchlens.attribution.bootstrap import check_bootstrap
from touchlens.attribution.markov import (
    CONV,
    NULL,
    START,
    check_order,
    coded_transitions,
    markov_from_transitions,
)
from touchlens.attribution.pathfile import checked_table, count_columns, tokenise_paths
from touchlens.attribution.paths import check_level, resolve_exclude
from touchlens.attribution.tokens import Tokens
from touchlens.errors import ConfigError

ENGINE_OPTIONS = frozenset(inspect.signature(engine.attribute).parameters) - {"source", "model"}


def applies(model: str | Sequence[str], options: dict[str, Any]) -> bool:
    """Whether ``attribute(df, model, **options)`` is the shortcut's: the order-1 Markov
    model alone, without bootstrap (anything invalid goes the general way, which says so)."""
    if not set(options) <= ENGINE_OPTIONS:
        return False
    try:
        models = engine.resolve_models(model, has_time=False)
        order = check_order(options.get("markov_order", 1))
        bootstrap = check_bootstrap(options.get("bootstrap", 0))
    except ConfigError:
        return False
    return models == ["markov"] and order == 1 and bootstrap == 0


def markov_of_frame(df: pd.DataFrame, *, sep: str, level: str,
                    exclude: str | Sequence[str] | None, confidence: float = 0.95
                    ) -> pd.DataFrame | None:
    """The ``attribute`` result of the order-1 Markov model without bootstrap on path table
    ``df`` (errors as the general route's), or ``None`` when the shortcut does not apply."""
    tokens, conv, rev, nulls = coded_rows(df, sep=sep, level=level, exclude=exclude)
    if np.any((conv == 0) & (rev > 0)):
        return None
    labels = tokens.labels.to_pylist()
    if {START, CONV, NULL} & set(labels):
        return None
    trans = coded_transitions(tokens.codes, tokens.lengths, labels, conv, rev, nulls)
    empty = tokens.lengths == 0
    totals = (float(conv.sum()), float(rev.sum()), float(conv[empty].sum()),
              float(rev[empty].sum()))
    long, notes = markov_from_transitions(trans, totals, 1)
    result = engine.finish("markov", long, level, confidence)  # the engine's own shape
    result.attrs["notes"] = {"markov": notes}
    return result


def coded_rows(df: pd.DataFrame, *, sep: str, level: str,
               exclude: str | Sequence[str] | None
               ) -> tuple[Tokens, np.ndarray, np.ndarray, np.ndarray]:
    """A path table validated (errors as the general route's) and split row by row: the
    coded steps (``exclude``'s labels dropped) and the conversions, revenue and nulls."""
    check_level(level)
    table = checked_table(df)
    tokens = tokenise_paths(table["path"], sep)
    counts = count_columns(table)
    names = set(resolve_exclude(exclude))
    if names:
        tokens = drop_labels(tokens, names)
    return (tokens, *(counts[c] for c in ("total_conversions", "total_conversion_value",
                                          "total_null")))


def drop_labels(tokens: Tokens, names: set[str]) -> Tokens:
    """The same paths without the steps labelled with one of ``names`` (a path left without
    steps is a path without touch)."""
    hit = pc.is_in(tokens.labels, value_set=pa.array(sorted(names), tokens.labels.type))
    gone = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    if not len(gone):
        return tokens
    drop = np.isin(tokens.codes, gone)
    lost = np.bincount(tokens.rows[drop], minlength=len(tokens.lengths))
    return Tokens(tokens.codes[~drop], tokens.lengths - lost, tokens.labels)
