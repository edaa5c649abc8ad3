"""The CDNOW sample shipped with touchlens (see ``data/README.md`` for its origin and licence).

- :func:`load_cdnow_summary`: 2,357 customers, 39-week calibration (weeks): customer_id,
  frequency, recency, T, monetary_value — the data of Fader, Hardie & Lee (2005).
- :func:`load_cdnow_transactions`: their 6,919 purchases 1997-01-01 … 1998-06-30:
  customer_id, date, n_cds, revenue (USD).
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"


def load_cdnow_summary() -> pd.DataFrame:
    with files("touchlens.loyalty").joinpath("data/cdnow_summary.csv").open("rb") as fh:
        return pd.read_csv(fh)


def load_cdnow_transactions() -> pd.DataFrame:
    with files("touchlens.loyalty").joinpath("data/cdnow_transactions.csv").open("rb") as fh:
        return pd.read_csv(fh, parse_dates=["date"])
