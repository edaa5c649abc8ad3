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

import math
from pathlib import Path

import numpy as np
import pandas as pd

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


def split_paths(paths: pd.Series, sep: str) -> list[list[str]]:
    """Steps of every path (whitespace around steps stripped); errors name the row."""
    _check_sep(sep)
    stripped = sep.strip()
    out: list[list[str]] = []
    for i, value in enumerate(paths.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise SchemaError(f"{_row(i)}: path is missing (use \"\" for a conversion "
                              "without touches)")
        text = str(value)
        if text.strip() == "":
            out.append([])
            continue
        steps = [s.strip() for s in text.split(sep)]
        for s in steps:
            if s == "":
                raise SchemaError(f"{_row(i)}: empty step in path {text!r} (separator {sep!r})")
            if stripped and stripped != sep and stripped in s:
                raise SchemaError(f"{_row(i)}: step {s!r} holds {stripped!r} but the separator "
                                  f"is {sep!r}: check the spacing or pass the separator used")
        out.append(steps)
    _check_separator_used(paths, out, sep)
    return out


def _check_separator_used(paths: pd.Series, steps: list[list[str]], sep: str) -> None:
    """No path splits although some look separated by another character: wrong separator."""
    if any(len(s) > 1 for s in steps):
        return
    for i, s in enumerate(steps):
        if not s:
            continue
        hits = [c for c in _LOOKALIKES if c in s[0] and c not in sep]
        if hits:
            raise SchemaError(f"{_row(i)}: path {paths.iloc[i]!r} does not contain the "
                              f"separator {sep!r} but looks separated by {hits[0]!r}; "
                              "pass the separator the file uses")


def validate_paths(df: pd.DataFrame, sep: str = DEFAULT_SEP) -> tuple[pd.DataFrame,
                                                                      list[list[str]]]:
    """A clean path table (the four columns, float counts) and the steps of each row."""
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of paths, got {type(df).__name__}")
    missing = [c for c in ("path", "total_conversions") if c not in df.columns]
    if missing:
        raise SchemaError(f"path table lacks column(s) {missing}; the ChannelAttribution "
                          f"format has {list(PATH_COLUMNS)}")
    df = df.reset_index(drop=True)
    steps = split_paths(df["path"], sep)
    clean = pd.DataFrame({"path": [sep.join(s) for s in steps]})
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
