"""JSON answers of the read API: DataFrames as row objects, with the scope they cover.

Shape: ``{"scope": {...}, "count": n, "data": [{column: value, ...}, ...]}``; timestamps are
ISO-8601 UTC strings, NaN/NULL are ``null``.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi.responses import Response

from touchlens.api.scope import Scope


def scope_json(scope: Scope) -> dict[str, Any]:
    return {
        "start": scope.start.isoformat() if scope.start else None,
        "end": scope.end.isoformat() if scope.end else None,
        "channel": scope.channel,
        "label": scope.label(),
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe row objects (NaN → None, timestamps → ISO strings)."""
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="ms"))


def frame_response(frame: pd.DataFrame, scope: Scope, **extra: Any) -> Response:
    body = {"scope": scope_json(scope), **extra, "count": len(frame),
            "data": records(frame)}
    return Response(json.dumps(body, ensure_ascii=False, allow_nan=False),
                    media_type="application/json")


def json_response(payload: Any) -> Response:
    """``payload`` (already JSON-safe) without re-validation by a response model."""
    return Response(json.dumps(payload, ensure_ascii=False, allow_nan=False),
                    media_type="application/json")
