"""The HTTP face: a FastAPI app (collector, read API, dashboard) over one workspace.

``create_app(ApiSettings(db=...))`` builds it; ``touchlens serve`` runs it with uvicorn.
"""

from touchlens.api.app import create_app
from touchlens.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
