"""The touchlens exception tree.

::

    TouchlensError
    ├── ConfigError(TouchlensError, ValueError)      bad settings or arguments
    ├── SchemaError(TouchlensError, ValueError)      a file or table lacks what a kind needs
    │   └── MappingError                              a mapping file is wrong
    ├── UnreadableFileError(TouchlensError, OSError)  nothing could be read from a file
    └── StoreError(TouchlensError, RuntimeError)      the backend failed (wrapped once, in store)

A bad *row* never raises: it is quarantined with file, row, field and reason.
"""

from __future__ import annotations


class TouchlensError(Exception):
    """Base of every error touchlens raises on purpose."""


class ConfigError(TouchlensError, ValueError):
    """A setting or argument is invalid."""


class SchemaError(TouchlensError, ValueError):
    """A file or table does not have the columns its kind needs."""


class MappingError(SchemaError):
    """A column-mapping file is malformed or refers to missing columns."""


class UnreadableFileError(TouchlensError, OSError):
    """A file could not be read at all (missing, not the stated format, wrong encoding)."""


class StoreError(TouchlensError, RuntimeError):
    """The storage backend failed; the original error is chained."""
