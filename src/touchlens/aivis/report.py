"""AI visibility of a workspace's stored answers: parse the texts, aggregate in Ibis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from touchlens.aivis.brands import BrandSet
from touchlens.aivis.mentions import MENTIONS_SCHEMA, answer_mentions
from touchlens.aivis.metrics import ai_visibility
from touchlens.store import Store

Brands = BrandSet | Mapping[str, Any] | str | Path | Iterable[str]


def stored_mentions(store: Store, brands: Brands) -> pd.DataFrame:
    """Per stored answer × brand (grain and columns: :mod:`touchlens.aivis.mentions`)."""
    answers = store.execute(store.table("ai_answers"))
    return answer_mentions(answers, BrandSet.coerce(brands))


def visibility_report(store: Store, brands: Brands, *, by: str | None = None) -> pd.DataFrame:
    """Metrics per [by ×] brand over the stored answers (see :mod:`touchlens.aivis.metrics`)."""
    mentions = stored_mentions(store, brands)
    table = ibis.memtable(mentions, schema=MENTIONS_SCHEMA)
    return ai_visibility(table, by).to_pandas()
