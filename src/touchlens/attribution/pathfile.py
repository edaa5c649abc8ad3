"""The ChannelAttribution path format: read, validate and write.

One row per distinct path (grain: path string):

- ``path``: the steps joined by a separator (default ``" > "``), e.g. ``"email > search"``;
  the empty string ``""`` is a conversion (or null) with no touch before it;
- ``total_conversions``: conversions of journeys with that path (>= 0, may be fractional);
- ``total_conversion_value``: their revenue (>= 0; optional, default 0);
- ``total_null``: journeys with that path that did not convert (>= 0; optional, default 0).

Validation raises :class:`touchlens.errors.SchemaError` naming the row (1 = first record after
the header): a missing path, an empty step (``"a >  > b"``), a step holding the separator
with other spacing (``"a>b"`` when the separator is ``" > "``), a missing, non-numeric,
infinite or negative count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.attribution.pathcsv import COUNT_COLUMNS, NULL_MARKERS, read_path_csv
from touchlens.attribution.tokens import Tokens, recall, row_name, tokenise
from touchlens.errors import ConfigError, SchemaError, UnreadableFileError

DEFAULT_SEP = " > "
PATH_COLUMNS = ("path", *COUNT_COLUMNS)
_OPTIONAL = ("total_conversion_value", "total_null")


def _check_sep(sep: str) -> None:
    if not isinstance(sep, str) or sep == "":
        raise ConfigError(f"the path separator must be a non-empty string, not {sep!r}")


def _counts(df: pd.DataFrame, column: str) -> np.ndarray:
    raw = df[column]
    if raw.dtype == np.dtype("float64"):  # a view: no copy of millions of rows
        values = raw.to_numpy()
    else:
        values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    if not len(values) or (values.min() >= 0 and values.max() < np.inf):  # NaN fails both
        return values
    for i in np.flatnonzero(~np.isfinite(values)):
        what = "missing" if pd.isna(raw.iloc[i]) else f"not a finite number ({raw.iloc[i]!r})"
        raise SchemaError(f"{row_name(i)}: {column} is {what}")
    for i in np.flatnonzero(values < 0):
        raise SchemaError(f"{row_name(i)}: {column} is negative ({values[i]:g})")
    return values


def positions(lengths: np.ndarray) -> np.ndarray:
    """0-based position of each item within its group, for groups of ``lengths`` laid end
    to end: lengths [2, 3] → [0, 1, 0, 1, 2]."""
    lengths = np.asarray(lengths, dtype=np.int64)
    firsts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(firsts, lengths)


@dataclass
class Steps:
    """The steps of a path table in long form: ``rows[i]`` is the 0-based table row of step
    ``labels[i]`` (an Arrow string array; rows ascending, steps in path order); ``lengths`` =
    steps per row."""

    rows: np.ndarray
    labels: pa.Array
    lengths: np.ndarray

    def drop(self, names: set[str]) -> Steps:
        """The same paths without the steps named in ``names``."""
        drop = pc.is_in(self.labels, value_set=pa.array(sorted(names), pa.string()))
        keep = ~drop.to_numpy(zero_copy_only=False)
        rows = self.rows[keep]
        return Steps(rows, self.labels.filter(pa.array(keep)),
                     np.bincount(rows, minlength=len(self.lengths)))

    def expand(self, codes: np.ndarray) -> Steps:
        """The steps of path ``codes[i]`` for each row i (rows of a longer table)."""
        lengths = self.lengths[codes]
        rows = np.repeat(np.arange(len(codes), dtype=np.int64), lengths)
        starts = np.cumsum(self.lengths) - self.lengths
        at = np.repeat(starts[codes], lengths) + positions(lengths)
        return Steps(rows, self.labels.take(pa.array(at)), lengths)

    def joined(self, sep: str) -> pa.Array:
        """Each row's path string (``""`` without steps)."""
        offsets = np.r_[0, np.cumsum(self.lengths)].astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), self.labels)
        return pc.binary_join(lists, sep)


def split_paths(paths: pd.Series, sep: str) -> Steps:
    """Steps of every path (whitespace around steps stripped); errors name the row."""
    codes, distinct = split_distinct(paths, sep)
    return distinct.expand(codes)


def split_distinct(paths: pd.Series, sep: str) -> tuple[np.ndarray, Steps]:
    """``codes`` (table row → distinct path string) and the steps of each distinct string.

    Only distinct strings are split (a table of one row per journey repeats its paths many
    times); errors name the first table row holding the bad string.
    """
    s = paths.reset_index(drop=True)
    encoded = pc.dictionary_encode(path_text(s, sep))
    codes = np.concatenate([np.zeros(0, np.int64)]
                           + [c.indices.to_numpy() for c in encoded.chunks]).astype(np.int64)
    if not len(codes):
        return codes, Steps(codes, pa.array([], pa.string()), codes)
    return codes, _split(encoded.chunks[0].dictionary, sep, first_rows(codes), s)


def tokenise_paths(paths: pd.Series, sep: str) -> Tokens:
    """Coded steps of every row (not merged by path string); errors name the row. A column
    just read by :func:`read_paths` is not split again (:func:`.tokens.recall`)."""
    s = paths.reset_index(drop=True)
    if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype):
        column = pa.array(s)
        known = recall(column if isinstance(column, pa.ChunkedArray)
                       else pa.chunked_array([column]), sep)
        if known is not None:
            return known
    return tokenise(path_text(s, sep), sep, shown=s.iloc.__getitem__)


def first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of the first appearance of each code, for codes numbered in order of first
    appearance (as Arrow's dictionary_encode numbers them): O(n), no sort."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, codes[1:] > seen[:-1]])


def path_text(paths: pd.Series, sep: str) -> pa.ChunkedArray:
    """The paths as Arrow strings (no copy through Python objects when the column already
    holds strings; numbers or other objects: their ``str()``). A missing path is an error
    naming its row; so is an empty separator."""
    _check_sep(sep)
    s = paths.reset_index(drop=True)
    text = None
    if isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype):  # Arrow-backed: no copy
        text = pa.array(s, from_pandas=True)
        if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
            text = None
        elif text.null_count:
            _missing(s)
    if text is None:
        _missing(s)
        try:
            text = pa.array(s, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            text = pa.array(s.astype(str).to_numpy(dtype=object), type=pa.string())
    return text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])


def _missing(s: pd.Series) -> None:
    missing = np.flatnonzero(s.isna().to_numpy())
    if len(missing):
        raise SchemaError(f"{row_name(missing[0])}: path is missing (use \"\" for a conversion "
                          "without touches)")


def _split(text: pa.Array, sep: str, row_of: np.ndarray, original: pd.Series) -> Steps:
    """Steps of each string of ``text``; ``row_of[i]`` = the table row named in errors."""
    return steps_of(tokenise(text, sep, row_of=row_of, shown=original.iloc.__getitem__))


def steps_of(tokens: Tokens) -> Steps:
    """The long form of coded steps (labels as strings)."""
    return Steps(tokens.rows, tokens.labels.take(pa.array(tokens.codes)), tokens.lengths)


def checked_table(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a fresh index, once it is a DataFrame with the required columns."""
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of paths, got {type(df).__name__}")
    missing = [c for c in ("path", "total_conversions") if c not in df.columns]
    if missing:
        raise SchemaError(f"path table lacks column(s) {missing}; the ChannelAttribution "
                          f"format has {list(PATH_COLUMNS)}")
    return df.reset_index(drop=True)


def count_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The three count columns as validated float arrays (absent optional ones: zeros)."""
    return {c: (_counts(df, c) if c in df.columns else np.zeros(len(df), dtype="float64"))
            for c in COUNT_COLUMNS}


def validate_paths(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame, Steps]:
    """A clean path table (the four columns, float counts) and the steps of each row."""
    clean, codes, distinct = _clean_rows(df, sep)
    return clean, distinct.expand(codes)


def _clean_rows(df: pd.DataFrame, sep: str) -> tuple[pd.DataFrame, np.ndarray, Steps]:
    """The clean table of :func:`validate_paths`, the row → distinct path codes and the
    distinct paths' steps (steps per row are only built when asked for)."""
    df = checked_table(df)
    codes, distinct = split_distinct(df["path"], sep)
    counts = count_columns(df)
    clean = pd.DataFrame({"path": distinct.joined(sep).take(pa.array(codes))
                          .to_numpy(zero_copy_only=False), **counts})
    return clean, codes, distinct


def validate_distinct(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame, Steps]:
    """Like :func:`validate_paths`, with rows of the same path merged (counts summed): one row
    per distinct path, in order of first appearance. Every path model gives the same result
    on either table (a row's counts are weights); this one is smaller when the table has one
    row per journey."""
    df = checked_table(df)
    codes, distinct = split_distinct(df["path"], sep)
    counts = count_columns(df)
    # strings that differ only in spacing around steps are the same path
    joined = distinct.joined(sep)
    same = pc.dictionary_encode(joined)
    path_of = same.indices.to_numpy().astype(np.int64)
    first = first_rows(path_of)
    if len(first) < len(joined):
        distinct = distinct.expand(first)
        codes = path_of[codes]
    n = len(first)
    clean = pd.DataFrame({"path": same.dictionary.to_numpy(zero_copy_only=False),
                          **{c: np.bincount(codes, weights=v, minlength=n)
                             for c, v in counts.items()}})
    return clean, distinct


def read_paths(file: str | Path, sep: str = DEFAULT_SEP) -> pd.DataFrame:
    """Read a ChannelAttribution path CSV (validated; see the module docstring).

    Arrow's CSV reader first (:mod:`.pathcsv`); pandas for a file it leaves (unusual or
    bad: the errors come from here)."""
    path = Path(file)
    fast = read_path_csv(path, sep) if path.is_file() else None
    if fast is not None:
        return fast
    try:
        df = pd.read_csv(path, dtype={"path": "string"}, keep_default_na=False,
                         na_values={c: list(NULL_MARKERS) for c in COUNT_COLUMNS})
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"{path}: not a readable CSV ({exc})") from exc
    df["path"] = df["path"].astype(object) if "path" in df.columns else None
    try:
        return _clean_rows(df, sep)[0]
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc


def write_paths(df: pd.DataFrame, file: str | Path) -> Path:
    """Write a path table (``PATH_COLUMNS``) as CSV with a header; returns the path."""
    path = Path(file)
    df.loc[:, list(PATH_COLUMNS)].to_csv(path, index=False)
    return path
