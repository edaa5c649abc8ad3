"""touchlens: customer touchpoints — journeys, touchpoint metrics and more, on Ibis."""

from touchlens.errors import (
    ConfigError,
    MappingError,
    SchemaError,
    StoreError,
    TouchlensError,
    UnreadableFileError,
)
from touchlens.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["ConfigError", "MappingError", "SchemaError", "StoreError", "TouchlensError",
           "UnreadableFileError", "Workspace", "__version__"]
