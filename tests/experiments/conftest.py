"""Most tests here run on DuckDB only; one spark-marked test per package checks that Spark runs
the same Ibis expressions (a Spark workspace test takes ~30 s). It asks for Spark with
``@pytest.mark.parametrize("backend", [SPARK], indirect=True)``, so the root ``make_workspace``
fixture opens (and afterwards empties) the shared Spark catalog."""

from __future__ import annotations

import pytest


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Overrides the root fixture: DuckDB unless a test parametrises it indirectly."""
    return getattr(request, "param", "duckdb")
