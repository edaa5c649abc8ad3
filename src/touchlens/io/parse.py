"""Vectorised column parsers. Each returns ``(values, bad_mask)``: never raises on a bad value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)
_SNAKE = re.compile(r"[\s\-/.]+")
MIN_TS = pd.Timestamp("1990-01-01", tz="UTC")
MAX_TS = pd.Timestamp("2100-01-01", tz="UTC")


def omap(s: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` to the present values of an object column; missing values stay None."""
    out = [None if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else fn(v)
           for v in s.tolist()]
    return pd.Series(out, index=s.index, dtype=object)


def umap(s: pd.Series, fn) -> pd.Series:
    """:func:`omap` computed once per distinct value (ids, codes and names repeat a lot)."""
    codes, uniques = pd.factorize(s)
    values = np.empty(len(uniques), dtype=object)
    values[:] = [fn(v) for v in uniques]
    out = np.full(len(s), None, dtype=object)
    present = codes >= 0
    out[present] = values[codes[present]]
    return pd.Series(out, index=s.index, dtype=object)


def _arrow_strings(s: pd.Series) -> pa.ChunkedArray | pa.Array | None:
    """The column as an Arrow string array when it holds only strings/None, else None."""
    try:
        return pa.array(s, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _to_object(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(arr.to_numpy(zero_copy_only=False), index=index, dtype=object)


def blank_to_none(s: pd.Series) -> pd.Series:
    """Strings stripped; empty strings and NaN become None; non-strings become their text."""
    arr = _arrow_strings(s) if s.dtype == object or pd.api.types.is_string_dtype(s) else None
    if arr is not None:  # vectorised path (Arrow compute) for plain string columns
        trimmed = pc.utf8_trim_whitespace(arr)
        cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
        return _to_object(cleaned, s.index)

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # 123.0 read from a typed file is the id 123
        text = str(v).strip()
        return text or None

    return pd.Series([one(v) for v in s.tolist()], index=s.index, dtype=object)


def snake(s: pd.Series) -> pd.Series:
    """Lower-case identifiers with spaces, dashes, slashes and dots turned into ``_``."""
    codes, uniques = pd.factorize(blank_to_none(s))  # few distinct names: work on those
    arr = pa.array(np.asarray(uniques, dtype=object), type=pa.string(), from_pandas=True)
    lowered = pc.replace_substring_regex(pc.utf8_lower(arr), _SNAKE.pattern, "_")
    values = np.asarray(lowered.to_numpy(zero_copy_only=False), dtype=object)
    out = np.full(len(s), None, dtype=object)
    present = codes >= 0
    out[present] = values[codes[present]]
    return pd.Series(out, index=s.index, dtype=object)


def timestamps(s: pd.Series, fmt: str | None = None,
               tz: str = "UTC") -> tuple[pd.Series, pd.Series]:
    """Parse to UTC timestamps. Strings: ISO-8601 (or ``fmt``); naive values are in ``tz``."""
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s
        if parsed.dt.tz is None:
            parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        parsed = parsed.dt.tz_convert("UTC")
        bad = parsed.isna() & s.notna()
    else:
        text = blank_to_none(s)
        present = text.notna()
        has_offset = omap(text, lambda v: bool(_OFFSET.search(v))).fillna(False).astype(bool)
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        fmt_arg = fmt or "ISO8601"
        aware = present & has_offset
        # to µs before assigning: a 7-9 digit fraction parses at ns, which the µs column
        # refuses (it raised); the sub-µs digits are dropped, as for typed ns timestamps
        if aware.any():
            parsed[aware] = pd.to_datetime(text[aware], format=fmt_arg, utc=True,
                                           errors="coerce").astype(parsed.dtype)
        naive = present & ~has_offset
        if naive.any():
            local = pd.to_datetime(text[naive], format=fmt_arg, errors="coerce")
            if getattr(local.dt, "tz", None) is None:
                local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            parsed[naive] = local.dt.tz_convert("UTC").astype(parsed.dtype)
        bad = present & parsed.isna()
    parsed = parsed.astype("datetime64[us, UTC]")
    out_of_range = parsed.notna() & ((parsed < MIN_TS) | (parsed >= MAX_TS))
    return parsed.where(~out_of_range), bad | out_of_range


def numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse floats; a decimal comma ("12,50") and spaces as thousand separators are accepted."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.astype("float64")
    else:
        text = omap(blank_to_none(s), lambda v: v.replace("\u00a0", "").replace(" ", ""))
        text = omap(text, lambda v: v.replace(",", ".") if "," in v and "." not in v else v)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        present = text.notna()
        bad = present & values.isna()
        bad |= values.notna() & ~np.isfinite(values.fillna(0))
        return values.where(~bad), bad
    bad = values.notna() & ~np.isfinite(values.fillna(0))
    return values.where(~bad), bad


def integers(s: pd.Series, low: int, high: int) -> tuple[pd.Series, pd.Series]:
    """Whole numbers in [low, high]; other present values are bad."""
    values, bad = numbers(s)
    ok = values.notna()
    bad |= ok & ((values != np.floor(values.fillna(0))) | (values < low) | (values > high))
    return values.where(~bad).astype("Int32"), bad


def dates(s: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    parsed, bad = timestamps(s, fmt, "UTC")
    return parsed.dt.date.astype(object).where(parsed.notna(), None), bad
