"""Input: readers, column mappings, validation, PII hashing and quarantine-aware ingest."""

from touchlens.io.ingest import IngestResult, ingest_path, ingest_table
from touchlens.io.mapping import Mapping

__all__ = ["IngestResult", "Mapping", "ingest_path", "ingest_table"]
