"""Every route but /health needs the right key: 401 without/with a bad key, 403 with the
other scope, and no data in either answer."""

from __future__ import annotations

import pytest

from touchlens import Workspace
from touchlens.api.security import revoke_key

READ_ROUTES = ["/v1/stats", "/v1/kpis", "/v1/channels", "/v1/layers", "/v1/touchpoints",
               "/v1/journeys", "/v1/paths", "/v1/scorecard", "/v1/cx", "/v1/quarantine",
               "/v1/charts/trend", "/v1/charts/journey_map"]
WRITE_ROUTES = ["/v1/events", "/v1/feedback"]


def _no_data(response) -> None:
    assert set(response.json()) == {"detail"}


def test_health_needs_no_key(served) -> None:
    r = served.client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("path", READ_ROUTES)
def test_read_routes_refuse_missing_wrong_and_write_keys(served, path: str) -> None:
    c = served.client
    r = c.get(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    _no_data(r)
    r = c.get(path, headers={"Authorization": "Bearer tlr_000000000000_" + "x" * 43})
    assert r.status_code == 401
    _no_data(r)
    r = c.get(path, headers=served.write)
    assert r.status_code == 403
    _no_data(r)
    assert c.get(path, headers=served.read).status_code == 200


@pytest.mark.parametrize("path", WRITE_ROUTES)
def test_write_routes_refuse_missing_and_read_keys(served, path: str) -> None:
    c = served.client
    assert c.post(path, json=[]).status_code == 401
    r = c.post(path, json=[], headers=served.read)
    assert r.status_code == 403
    _no_data(r)
    assert c.post(path, json=[], headers=served.write).status_code == 200


def test_x_api_key_header_works(served) -> None:
    r = served.client.get("/v1/stats", headers={"X-API-Key": served.read_key})
    assert r.status_code == 200


def test_revoked_key_is_refused_at_once(served) -> None:
    """The key was verified (and remembered) by the first request; the revocation, a write
    to api_keys, must end that at once, not when the cached verification expires."""
    assert served.client.get("/v1/stats", headers=served.read).status_code == 200
    assert served.client.post("/v1/events", json=[], headers=served.write).status_code == 200
    state = served.client.app.state.touchlens
    assert state.keys.get(served.read_key) is not None  # the next request skips the query
    with state.workspace() as ws:
        assert revoke_key(ws, served.read_key.split("_")[1])
    r = served.client.get("/v1/stats", headers=served.read)
    assert r.status_code == 401
    _no_data(r)
    # the other key is verified again, and still works
    assert served.client.post("/v1/events", json=[], headers=served.write).status_code == 200


def test_revocation_racing_a_key_check_is_not_cached(served) -> None:
    """A check that read the key before a revocation committed must not be remembered."""
    from touchlens.api.deps import check_key

    state = served.client.app.state.touchlens
    generation = state.keys.generation()
    state.keys.clear()  # what the revocation's write does, between the read and the put
    state.keys.put(served.read_key, object(), generation)
    assert state.keys.get(served.read_key) is None
    assert check_key(state, served.read_key) is not None  # a fresh check is remembered
    assert state.keys.get(served.read_key) is not None


def test_cors_is_off_by_default(served) -> None:
    r = served.client.get("/v1/stats", headers={**served.read, "Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in r.headers


def test_keys_are_not_stored_in_clear(served) -> None:
    served.client.close()
    with Workspace.open(served.db) as ws:
        text = ws.store.execute(ws.store.table("api_keys")).to_csv()
    assert served.read_key not in text and served.write_key not in text
    assert served.read_key.split("_", 2)[2] not in text
