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

from touchlens.errors import ConfigError, SchemaError, UnreadableFileError

DEFAULT_SEP = " > "
PATH_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
_OPTIONAL = ("total_conversion_value", "total_null")
_LOOKALIKES = (">", "→", "|", ",", ";")


def _row(i: int) -> str:
    return f"row {i + 1}"


def _check_sep(sep: str) -> None:
    if not isinstance(sep, str) or sep == "":
        raise ConfigError(f"the path separator must be a non-empty string, not {sep!r}")


def _counts(df: pd.DataFrame, column: str) -> np.ndarray:
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy()
    for i in np.flatnonzero(~np.isfinite(values)):
        what = "missing" if pd.isna(raw.iloc[i]) else f"not a finite number ({raw.iloc[i]!r})"
        raise SchemaError(f"{_row(i)}: {column} is {what}")
    for i in np.flatnonzero(values < 0):
        raise SchemaError(f"{_row(i)}: {column} is negative ({values[i]:g})")
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
    _check_sep(sep)
    s = paths.reset_index(drop=True)
    missing = np.flatnonzero(s.isna().to_numpy())
    if len(missing):
        raise SchemaError(f"{_row(missing[0])}: path is missing (use \"\" for a conversion "
                          "without touches)")
    encoded = pc.dictionary_encode(_as_arrow_text(s))
    codes = encoded.indices.to_numpy().astype(np.int64)
    return codes, _split(encoded.dictionary, sep, first_rows(codes), s)


def first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of the first appearance of each code, for codes numbered in order of first
    appearance (as Arrow's dictionary_encode numbers them): O(n), no sort."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, codes[1:] > seen[:-1]])


def _as_arrow_text(s: pd.Series) -> pa.Array:
    """The paths as an Arrow string array (no copy through Python objects when the column
    already holds strings)."""
    try:
        text = pa.array(s, type=pa.string(), from_pandas=True)
        return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or other objects: their str()
        return pa.array(s.astype(str).to_numpy(dtype=object), type=pa.string())


def _split(text: pa.Array, sep: str, row_of: np.ndarray, original: pd.Series) -> Steps:
    """Steps of each string of ``text``; ``row_of[i]`` = the table row named in errors."""
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    lists = pc.split_pattern(text, pattern=sep)  # vectorised (Arrow), not a Python loop
    rows = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = ~blank[rows]
    rows, flat = rows[keep], flat.filter(pa.array(keep))
    empty = np.flatnonzero(pc.equal(flat, "").to_numpy(zero_copy_only=False))
    if len(empty):
        i = row_of[rows[empty[0]]]
        raise SchemaError(f"{_row(i)}: empty step in path {original.iloc[i]!r} "
                          f"(separator {sep!r})")
    stripped = sep.strip()
    if stripped and stripped != sep:
        holds = np.flatnonzero(pc.match_substring(flat, stripped).to_numpy(zero_copy_only=False))
        if len(holds):
            bad = flat[int(holds[0])].as_py()
            raise SchemaError(f"{_row(row_of[rows[holds[0]]])}: step {bad!r} holds "
                              f"{stripped!r} but the separator is {sep!r}: check the spacing "
                              "or pass the separator used")
    lengths = np.bincount(rows, minlength=len(text))
    if len(rows) and lengths.max() <= 1:
        _check_separator_used(flat, row_of[rows], sep)
    return Steps(rows, flat, lengths)


def _check_separator_used(steps: pa.Array, rows: np.ndarray, sep: str) -> None:
    """No path splits although some look separated by another character: wrong separator."""
    for c in _LOOKALIKES:
        if c in sep:
            continue
        hits = np.flatnonzero(pc.match_substring(steps, c).to_numpy(zero_copy_only=False))
        if len(hits):
            raise SchemaError(f"{_row(rows[hits[0]])}: path {steps[int(hits[0])].as_py()!r} "
                              f"does not contain the separator {sep!r} but looks separated by "
                              f"{c!r}; pass the separator the file uses")


def _checked(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of paths, got {type(df).__name__}")
    missing = [c for c in ("path", "total_conversions") if c not in df.columns]
    if missing:
        raise SchemaError(f"path table lacks column(s) {missing}; the ChannelAttribution "
                          f"format has {list(PATH_COLUMNS)}")
    return df.reset_index(drop=True)


def _count_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: (_counts(df, c) if c in df.columns else np.zeros(len(df), dtype="float64"))
            for c in PATH_COLUMNS[1:]}


def validate_paths(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame, Steps]:
    """A clean path table (the four columns, float counts) and the steps of each row."""
    clean, codes, distinct = _clean_rows(df, sep)
    return clean, distinct.expand(codes)


def _clean_rows(df: pd.DataFrame, sep: str) -> tuple[pd.DataFrame, np.ndarray, Steps]:
    """The clean table of :func:`validate_paths`, the row → distinct path codes and the
    distinct paths' steps (steps per row are only built when asked for)."""
    df = _checked(df)
    codes, distinct = split_distinct(df["path"], sep)
    counts = _count_columns(df)
    clean = pd.DataFrame({"path": distinct.joined(sep).take(pa.array(codes))
                          .to_numpy(zero_copy_only=False), **counts})
    return clean, codes, distinct


def validate_distinct(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame, Steps]:
    """Like :func:`validate_paths`, with rows of the same path merged (counts summed): one row
    per distinct path, in order of first appearance. Every path model gives the same result
    on either table (a row's counts are weights); this one is smaller when the table has one
    row per journey."""
    df = _checked(df)
    codes, distinct = split_distinct(df["path"], sep)
    counts = _count_columns(df)
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
    """Read a ChannelAttribution path CSV (validated; see the module docstring)."""
    path = Path(file)
    try:
        df = pd.read_csv(path, dtype={"path": "string"}, keep_default_na=False,
                         na_values={c: ["", "NA", "NaN", "nan", "null"] for c in PATH_COLUMNS[1:]})
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
