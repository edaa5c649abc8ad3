"""Property tests of the API against its own OpenAPI spec (schemathesis): every operation,
called with generated parameters and bodies and the right key, answers without a 5xx, with a
documented status code, the declared content type, and a body matching its schema.

Bounded: a few examples per operation on the small simulated workspace (``template_db``), so
the whole module runs in well under two minutes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks as sc  # noqa: E402
from schemathesis.python import asgi  # noqa: E402
from schemathesis.specs.openapi import checks as oc  # noqa: E402

from touchlens import Workspace  # noqa: E402
from touchlens.api import ApiSettings, create_app  # noqa: E402
from touchlens.api.security import create_key  # noqa: E402

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 6
CHECKS = [sc.not_a_server_error, oc.status_code_conformance, oc.content_type_conformance,
          oc.response_schema_conformance]


@pytest.fixture(scope="module")
def api(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    db = tmp_path_factory.mktemp("schemathesis") / "ws.duckdb"
    shutil.copy(template_db, db)
    with Workspace.open(db) as ws:
        keys = {scope: create_key(ws, scope, "schemathesis")[0]
                for scope in ("read", "write", "admin")}
    app = create_app(ApiSettings(db=db, max_batch_items=20))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
    yield {"schema": schema, "keys": keys}
    asgi.shutdown_lifespans()  # stop the writer, close the workspace


@pytest.fixture(scope="module")
def api_schema(api: dict):
    return api["schema"]


schema = schemathesis.pytest.from_fixture("api_schema")


def _key_for(method: str, path: str, keys: dict[str, str]) -> str:
    if path == "/v1/erase":
        return keys["admin"]
    if method.upper() == "POST":
        return keys["write"]
    return keys["read"]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case, api: dict) -> None:
    key = _key_for(case.method, case.path, api["keys"])
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
