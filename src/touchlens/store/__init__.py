"""Storage layer: an Ibis backend (DuckDB file or Spark) holding the workspace tables."""

from touchlens.store.backends import Store
from touchlens.store.schema import SCHEMA_VERSION, TABLES

__all__ = ["SCHEMA_VERSION", "TABLES", "Store"]
