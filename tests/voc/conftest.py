"""VoC fixtures: a small hand-made feedback table over three months."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from touchlens.store.schema import FEEDBACK

# (id, month, day, touchpoint, channel, nps, csat, ces, text)
ROWS = [
    ("f01", 1, 5, "delivery_courier", "delivery", 9, 5, 6, "Szybka dostawa, polecam!"),
    ("f02", 1, 9, "delivery_courier", "delivery", 3, 1, 2, "Kurier się spóźnił, nie polecam."),
    ("f03", 1, 20, "support_chat", "chat", 10, 5, 7, "The agent solved my problem quickly."),
    ("f04", 2, 2, "delivery_courier", "delivery", 2, 2, 1, "kurier sie spoznil o 3 dni"),
    ("f05", 2, 14, "delivery_courier", "delivery", 6, 2, 3, "Paczka przyszła zgnieciona."),
    ("f06", 2, 15, "support_chat", "chat", 7, 3, 4, None),
    ("f07", 2, 21, "support_chat", "chat", 0, 1, 1, "Nobody answers emails, terrible."),
    ("f08", 3, 3, "store_cashier", "store", 8, 4, None, "Obsługa w porządku."),
    ("f09", 3, 8, "delivery_courier", "delivery", 1, 1, 2, "Dostawa spóźniona, kurier niemiły."),
    ("f10", 3, 30, "store_cashier", "store", 10, 5, None, "Bardzo miła obsługa w sklepie!"),
    ("f11", 3, 31, "store_cashier", "store", None, None, None, "Das war gut."),
]


def feedback_rows(rows: list[tuple] = ROWS) -> pa.Table:
    return pa.Table.from_pylist([
        {"response_id": r[0], "occurred_at": datetime(2024, r[1], r[2], 12, tzinfo=UTC),
         "customer_id": f"c{i % 4}", "touchpoint": r[3], "channel": r[4], "nps": r[5],
         "csat": r[6], "ces": r[7], "text": r[8], "language": None}
        for i, r in enumerate(rows)], schema=FEEDBACK)


@pytest.fixture
def make_feedback():
    """``make_feedback(rows)`` → a feedback table from ROWS-shaped tuples."""
    return feedback_rows


@pytest.fixture
def small_feedback() -> pa.Table:
    """11 responses Jan–Mar 2024 (see ROWS): 10 texts (pl, en, one German), one without."""
    return feedback_rows()
