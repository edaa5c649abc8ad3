"""How many touches of each label every journey has, read from the journey events in one
aggregation — what the order-free models need, without the touches' windows.

The counterfactual model's patterns (:mod:`.features`) and the Shapley model's coalitions
(:mod:`.shapley`) depend on a journey only through these counts (capped at ``N_CAP``: the
patterns cap them, the coalitions only ask which are non-zero) and its outcome. For a
workspace source (``PathSource.events``) one query gives, per distinct vector of capped
counts, the conversions, nulls and revenue of its journeys (one aggregation per journey,
then one per vector). At 10M journeys (~52M events): ~6 s and ~2 GB, where building the
touches (two window sorts of every touch) took ~35 s. Computed once per source (both models
of one ``attribute`` call share it).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.attribution.paths import PathSource

N_CAP = 20  # touches of one label counted up to this many
WIDE_MAX_LABELS = 32  # one aggregate column per label: above this, the touches are read


@dataclass(frozen=True)
class LabelCounts:
    """``frame``: one row per distinct count vector — columns ``c0``… (capped touches of
    ``labels[i]``, labels sorted), ``conversions``, ``nulls``, ``revenue``."""

    labels: list[str]
    frame: pd.DataFrame


def label_counts(source: PathSource) -> LabelCounts | None:
    """The count vectors of ``source``'s journeys, or None where this route does not
    apply: a source without journey events (a path table), no touch at all, or more than
    ``WIDE_MAX_LABELS`` labels."""
    if source.events is None:
        return None
    kept = source.memo.get("label_counts")
    if kept is None or kept[0] is not source.events:  # (a source copied with other events)
        kept = source.memo["label_counts"] = (source.events, _label_counts(source))
    return kept[1]


def _label_counts(source: PathSource) -> LabelCounts | None:
    events = source.events
    touch = events.filter(events.is_touch)
    labels = sorted(str(x) for x in source.execute(touch.select("label").distinct())["label"])
    if not labels or len(labels) > WIDE_MAX_LABELS:
        return None
    return LabelCounts(labels, source.execute(count_vectors(events, labels)))


def count_vectors(events: ir.Table, labels: list[str]) -> ir.Table:
    """Per distinct vector of capped label counts: conversions, nulls, revenue (each
    journey's outcome as ``PathSource.paths`` defines it)."""
    e = events
    counts = {f"c{i}": ibis.least(e.count(where=e.is_touch & (e.label == label)), N_CAP)
              for i, label in enumerate(labels)}
    per = e.group_by("path_key").agg(
        conversions=e.is_conversion.cast("float64").max(),
        revenue=e.revenue.sum(where=e.is_conversion).fill_null(0.0), **counts)
    return per.group_by(list(counts)).agg(
        conversions=per.conversions.sum(), nulls=(1.0 - per.conversions).sum(),
        revenue=per.revenue.sum())


def count_matrix(frame: pd.DataFrame, n_labels: int) -> np.ndarray:
    """The ``c0``… columns as an int64 matrix (rows × labels)."""
    if not len(frame):
        return np.zeros((0, n_labels), np.int64)
    return frame[[f"c{i}" for i in range(n_labels)]].to_numpy(dtype=np.int64)
