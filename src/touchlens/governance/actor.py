"""Who is acting: ``"python"`` by default, ``"cli"`` in the command line, ``"key:<id>"`` in the API.

The audit log (:mod:`touchlens.governance.audit`) records :func:`current_actor`. A face sets it
for the duration of a request or command::

    with acting_as(f"key:{key_id}"):
        ws.ingest_arrow(batch, "events")

A context variable, so concurrent API requests (threads or tasks) each see their own actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ACTOR: ContextVar[str] = ContextVar("touchlens_actor", default="python")


def current_actor() -> str:
    """The actor audit entries are attributed to."""
    return _ACTOR.get()


@contextmanager
def acting_as(actor: str) -> Iterator[str]:
    """Attribute everything inside the block to ``actor`` (e.g. ``"cli"``, ``"key:ab12"``)."""
    if not actor or not actor.strip():
        raise ValueError("actor must be a non-empty string")
    token = _ACTOR.set(actor.strip())
    try:
        yield actor
    finally:
        _ACTOR.reset(token)
