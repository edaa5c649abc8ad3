"""``GET /health``: liveness, with no data and no key."""

from __future__ import annotations

from fastapi import APIRouter

from touchlens import __version__
from touchlens.api.deps import State

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness (no key needed)")
def health(state: State) -> dict[str, str]:
    return {"status": "ok", "version": __version__,
            "writer": "running" if state.writer.running else "stopped"}
