"""Rendering of Workspace DataFrames: a Rich table for people, JSON or CSV for machines.

Machine formats write the result and nothing else to stdout:

- ``json``: one JSON array of row objects; timestamps ISO-8601 in UTC (``...Z``),
  NaN/NULL → ``null``.
- ``csv``: a header line then one line per row; NULL → empty field, booleans ``true``/``false``.

Messages, progress and hints go to stderr (:func:`err_console`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

MISSING = "—"
SMALL_N = 30  # DOMAIN.md: flag survey scores with n < 30
SMALL_N_NOTE = f"* n < {SMALL_N}: too few responses to rely on."


class OutputFormat(StrEnum):
    """Result formats of the view commands."""

    table = "table"
    json = "json"
    csv = "csv"


def out_console() -> Console:
    """Console for results (stdout); made per call so test runners can swap stdout.

    Piped or captured output has no terminal width: use a wide one so tables stay readable
    instead of folding every column to 80 characters.
    """
    console = Console()
    return console if console.is_terminal else Console(width=200)


def err_console() -> Console:
    """Console for messages, progress and errors (stderr)."""
    return Console(stderr=True)


# ---------------------------------------------------------------- plain values (json / csv)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _utc(value: Any) -> pd.Timestamp:
    """A timestamp in UTC; naive values are taken as UTC (the schema's zone)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN → None, datetimes → ISO UTC."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray | list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return _utc(value).tz_localize(None).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta | pd.Timedelta):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, float) and math.isinf(value):
        return None
    return value


def records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``df`` as plain dicts holding exactly ``columns``, in that order."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"result lacks the documented column(s) {missing}")
    rows = df.loc[:, list(columns)].astype(object).itertuples(index=False, name=None)
    return [{c: plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_json(rows: list[dict[str, Any]]) -> None:
    """One JSON array on stdout."""
    sys.stdout.write(json.dumps(rows, ensure_ascii=False, allow_nan=False) + "\n")


def write_json_line(row: dict[str, Any]) -> None:
    """One JSON object on its own stdout line (JSON Lines)."""
    sys.stdout.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


def write_csv(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """CSV with a header line on stdout (RFC 4180 quoting, ``\\n`` line ends)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])


# ---------------------------------------------------------------- human formatting (table)

Formatter = Callable[[Any], str]


def fmt_text(value: Any) -> str:
    """Text as is; missing → '—'."""
    return MISSING if _is_missing(value) else str(value)


def fmt_int(value: Any) -> str:
    """Whole number with thousands separators: 12,345."""
    return MISSING if _is_missing(value) else f"{int(value):,}"


def fmt_pct(value: Any) -> str:
    """A fraction (0..1) as a percentage with one decimal: 0.1234 → 12.3%."""
    return MISSING if _is_missing(value) else f"{100 * float(value):.1f}%"


def single_currency(values: Any) -> str | None:
    """The one currency code among ``values`` (NULLs ignored), or None when there are 0 or 2+.

    Money columns are summed as stored (no conversion), so a code is shown only when the data
    holds a single currency.
    """
    codes = {str(v) for v in values if not _is_missing(v)}
    return codes.pop() if len(codes) == 1 else None


def fmt_money(currency: str | None) -> Formatter:
    """Money with thousands separators, two decimals and the currency code: 1,234.50 PLN."""
    suffix = f" {currency}" if currency else ""

    def fmt(value: Any) -> str:
        return MISSING if _is_missing(value) else f"{float(value):,.2f}{suffix}"

    return fmt


def fmt_timestamp(value: Any) -> str:
    """A timestamp in UTC to the minute: 2024-03-01 14:05 UTC."""
    return MISSING if _is_missing(value) else _utc(value).strftime("%Y-%m-%d %H:%M UTC")


def small_n(n: Any) -> bool:
    """True when a score rests on fewer than ``SMALL_N`` responses (but some)."""
    return not _is_missing(n) and 0 < int(n) < SMALL_N


def score_with_n(value: Any, n: Any, fmt: Formatter) -> Text:
    """'82.1% (45)'; dimmed with a '*' when n < 30; '—' without responses."""
    if _is_missing(value) or _is_missing(n) or int(n) == 0:
        return Text(MISSING, style="dim")
    label = f"{fmt(value)} ({int(n):,})"
    return Text(label + "*", style="dim") if small_n(n) else Text(label)


# ---------------------------------------------------------------- Rich tables


@dataclass(frozen=True)
class Column:
    """One column of a Rich table: source key, header, formatter, alignment."""

    key: str
    header: str
    fmt: Formatter = fmt_text
    justify: str = "left"


def num(key: str, header: str, fmt: Formatter = fmt_int) -> Column:
    """A right-aligned numeric column."""
    return Column(key, header, fmt, "right")


def rich_table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    cells: Callable[[dict[str, Any]], dict[str, Text | str]] | None = None,
    section_by: str | None = None,
    caption: str | None = None,
) -> Table:
    """Build a Rich table; ``cells`` may supply ready-made cells (keyed by header) per row.

    ``section_by`` draws a line between runs of rows that differ in that key (e.g. stage).
    """
    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for i, col in enumerate(columns):
        # the first column names the row: never fold it away when space is short
        table.add_column(col.header, justify=col.justify,  # type: ignore[arg-type]
                         overflow="fold", no_wrap=col.justify == "right" or i == 0)
    rows = list(rows)
    for i, row in enumerate(rows):
        ready = cells(row) if cells else {}
        # Text, not str: data such as "[bold]" must not be read as Rich markup.
        values = [ready.get(c.header) or Text(c.fmt(row.get(c.key))) for c in columns]
        last_of_section = (
            section_by is not None
            and i + 1 < len(rows)
            and rows[i + 1].get(section_by) != row.get(section_by)
        )
        table.add_row(*values, end_section=last_of_section)
    return table
