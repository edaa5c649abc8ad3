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

    def joined(self, sep: str) -> pa.Array:
        """Each row's path string (``""`` without steps)."""
        offsets = np.r_[0, np.cumsum(self.lengths)].astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), self.labels)
        return pc.binary_join(lists, sep)


def split_paths(paths: pd.Series, sep: str) -> Steps:
    """Steps of every path (whitespace around steps stripped); errors name the row."""
    _check_sep(sep)
    s = paths.reset_index(drop=True)
    missing = np.flatnonzero(s.isna().to_numpy())
    if len(missing):
        raise SchemaError(f"{_row(missing[0])}: path is missing (use \"\" for a conversion "
                          "without touches)")
    text = pa.array(s.astype(str).to_numpy(dtype=object), type=pa.string())
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    lists = pc.split_pattern(text, pattern=sep)  # vectorised (Arrow), not a Python loop
    rows = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = ~blank[rows]
    rows, flat = rows[keep], flat.filter(pa.array(keep))
    empty = np.flatnonzero(pc.equal(flat, "").to_numpy(zero_copy_only=False))
    if len(empty):
        i = rows[empty[0]]
        raise SchemaError(f"{_row(i)}: empty step in path {s.iloc[i]!r} (separator {sep!r})")
    stripped = sep.strip()
    if stripped and stripped != sep:
        holds = np.flatnonzero(pc.match_substring(flat, stripped).to_numpy(zero_copy_only=False))
        if len(holds):
            bad = flat[int(holds[0])].as_py()
            raise SchemaError(f"{_row(rows[holds[0]])}: step {bad!r} holds {stripped!r} but the "
                              f"separator is {sep!r}: check the spacing or pass the separator "
                              "used")
    lengths = np.bincount(rows, minlength=len(s))
    if len(rows) and lengths.max() <= 1:
        _check_separator_used(flat, rows, sep)
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


def validate_paths(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame, Steps]:
    """A clean path table (the four columns, float counts) and the steps of each row."""
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of paths, got {type(df).__name__}")
    missing = [c for c in ("path", "total_conversions") if c not in df.columns]
    if missing:
        raise SchemaError(f"path table lacks column(s) {missing}; the ChannelAttribution "
                          f"format has {list(PATH_COLUMNS)}")
    df = df.reset_index(drop=True)
    steps = split_paths(df["path"], sep)
    clean = pd.DataFrame({"path": steps.joined(sep).to_numpy(zero_copy_only=False)})
    for column in PATH_COLUMNS[1:]:
        clean[column] = (_counts(df, column) if column in df.columns
                         else np.zeros(len(df), dtype="float64"))
    return clean, steps


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
        return validate_paths(df, sep)[0]
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from exc


def write_paths(df: pd.DataFrame, file: str | Path) -> Path:
    """Write a path table (``PATH_COLUMNS``) as CSV with a header; returns the path."""
    path = Path(file)
    df.loc[:, list(PATH_COLUMNS)].to_csv(path, index=False)
    return path
