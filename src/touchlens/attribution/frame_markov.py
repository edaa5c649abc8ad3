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


def shortcut_call(model: str | Sequence[str], options: dict[str, Any]
                  ) -> tuple[list[str], int] | None:
    """The models and bootstrap size of ``attribute(df, model, **options)`` on a path
    table, for the DataFrame shortcuts to judge; None when an option is unknown or a value
    invalid (the general route runs and words the error)."""
    if not set(options) <= ENGINE_OPTIONS:
        return None
    try:
        return (engine.resolve_models(model, has_time=False),
                check_bootstrap(options.get("bootstrap", 0)))
    except ConfigError:
        return None


def applies(model: str | Sequence[str], options: dict[str, Any]) -> bool:
    """Whether ``attribute(df, model, **options)`` is the shortcut's: the order-1 Markov
    model alone, without bootstrap (anything invalid goes the general way, which says so)."""
    call = shortcut_call(model, options)
    if call is None:
        return False
    try:
        order = check_order(options.get("markov_order", 1))
    except ConfigError:
        return False
    return call == (["markov"], 0) and order == 1


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
    long, notes = markov_from_transitions(trans, frame_totals(tokens, conv, rev), 1)
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


def frame_totals(tokens: Tokens, conversions: np.ndarray, revenue: np.ndarray
                 ) -> tuple[float, float, float, float]:
    """The engine's ``totals`` of split rows: (conversions, revenue, conversions of rows
    without a step, their revenue)."""
    empty = tokens.lengths == 0
    return (float(conversions.sum()), float(revenue.sum()), float(conversions[empty].sum()),
            float(revenue[empty].sum()))


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
