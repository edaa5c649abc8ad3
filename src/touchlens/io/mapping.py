"""Column mappings: rename and derive the columns of a user's export into ours.

A mapping is a YAML file (or dict). Keys are touchlens column names::

    customer_id: "Client ID"            # take their column
    occurred_at:                        # take a column and parse it with a strftime format
      column: "Data"
      format: "%d.%m.%Y %H:%M"
    channel: {value: email}             # a constant
    event_type:
      column: "Action"
      values: {"Order Completed": purchase, "Email Opened": open}   # recode values
    timezone: Europe/Warsaw             # zone of naive timestamps (default UTC)

Columns not mentioned pass through under their own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from touchlens.errors import MappingError

_RESERVED = {"timezone"}


@dataclass
class Mapping:
    """A parsed column mapping (see module docstring)."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    timezone: str = "UTC"

    @classmethod
    def load(cls, spec: str | Path | dict | None) -> Mapping:
        if spec is None:
            return cls()
        source = str(spec)
        if not isinstance(spec, dict):
            path = Path(spec)
            try:
                spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            except FileNotFoundError as exc:
                raise MappingError(f"mapping file {path} not found") from exc
            except yaml.YAMLError as exc:
                raise MappingError(f"mapping file {path} is not valid YAML: {exc}") from exc
        if not isinstance(spec, dict):
            raise MappingError(f"mapping {source}: expected a mapping of column: source")
        spec = dict(spec.get("columns", spec)) if "columns" in spec else dict(spec)
        mapping = cls(timezone=str(spec.pop("timezone", "UTC")))
        for ours, how in spec.items():
            if ours in _RESERVED:
                continue
            if isinstance(how, str):
                mapping.columns[ours] = how
            elif isinstance(how, dict):
                unknown = set(how) - {"column", "value", "format", "values"}
                if unknown:
                    raise MappingError(f"mapping {source}: {ours}: unknown keys {sorted(unknown)}")
                if "value" in how:
                    mapping.constants[ours] = how["value"]
                if "column" in how:
                    mapping.columns[ours] = str(how["column"])
                if "format" in how:
                    mapping.formats[ours] = str(how["format"])
                if "values" in how:
                    mapping.values[ours] = {str(k): str(v) for k, v in dict(how["values"]).items()}
            else:
                raise MappingError(
                    f"mapping {source}: {ours}: expected a column name or "
                    "{column, value, format, values}"
                )
        return mapping

    def apply(self, frame: pd.DataFrame, file: str) -> pd.DataFrame:
        """Return ``frame`` with our column names; their other columns pass through."""
        missing = [src for src in self.columns.values() if src not in frame.columns]
        if missing:
            raise MappingError(
                f"{file}: mapping refers to columns not in the file: {missing}; "
                f"the file has {[c for c in frame.columns if not c.startswith('_')]}"
            )
        out = frame.copy()
        renamed = {src: ours for ours, src in self.columns.items()}
        taken = set(renamed)
        for ours, src in self.columns.items():
            out[ours] = frame[src]
        for src in taken:
            if src not in self.columns:  # drop their name unless it is also one of ours
                out = out.drop(columns=src)
        for ours, value in self.constants.items():
            out[ours] = value
        for ours, table in self.values.items():
            if ours in out.columns:
                out[ours] = [v if v is None else table.get(str(v), v) for v in out[ours]]
        return out
