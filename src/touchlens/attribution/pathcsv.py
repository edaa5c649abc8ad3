"""A ChannelAttribution path CSV read by Arrow's multi-threaded CSV reader.

The fast route of :func:`touchlens.attribution.pathfile.read_paths`: the file is parsed by
Arrow (paths as strings, never null; counts as float64 with the pandas route's null
markers), the counts are checked with vectorised kernels and the paths are split by
:func:`.tokens.tokenise`. Anything unusual — a file Arrow cannot parse, a missing
required or duplicated column, an empty table, a bad count, a bad path — gives ``None`` and
the pandas route reads the file again and reports what is wrong in its own words, so both
routes accept the same files and raise the same errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from touchlens.attribution.tokens import Tokens, remember, tokenise
from touchlens.errors import TouchlensError

COUNT_COLUMNS = ("total_conversions", "total_conversion_value", "total_null")
NULL_MARKERS = ("", "NA", "NaN", "nan", "null")  # missing counts, on both read routes


def read_path_csv(path: Path, sep: str) -> pd.DataFrame | None:
    """The clean path table of ``path`` (``pathfile.PATH_COLUMNS``, paths with their steps
    stripped and joined by ``sep``), or ``None`` when the pandas route must read it."""
    convert = pcsv.ConvertOptions(
        column_types={"path": pa.large_string(),  # as pandas holds it: no cast
                      **dict.fromkeys(COUNT_COLUMNS, pa.float64())},
        null_values=list(NULL_MARKERS), strings_can_be_null=False)
    try:
        table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True),
                              convert_options=convert)
    except (pa.ArrowException, OSError):
        return None
    names = table.column_names
    if (len(set(names)) < len(names) or "path" not in names
            or "total_conversions" not in names or not table.num_rows):
        return None
    counts = {}
    for c in COUNT_COLUMNS:
        if c not in names:
            counts[c] = pa.array(np.zeros(table.num_rows))
            continue
        col = table.column(c)
        if col.null_count or not pc.all(pc.is_finite(col)).as_py() or pc.min(col).as_py() < 0:
            return None
        counts[c] = col
    text = table.column("path")
    try:
        tokens = tokenise(text, sep)
    except TouchlensError:
        return None
    df = pa.table({"path": text if not tokens.spaced else joined(tokens, sep),
                   **counts}).to_pandas()
    if not tokens.spaced:  # the column holds exactly the strings split
        remember(df, text, sep, tokens)
    return df


def joined(tokens: Tokens, sep: str) -> pa.Array:
    """Each string's steps joined by ``sep`` (``""`` without steps)."""
    offsets = np.r_[0, np.cumsum(tokens.lengths)].astype(np.int64)
    steps = tokens.labels.take(pa.array(tokens.codes))
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), steps), sep)
