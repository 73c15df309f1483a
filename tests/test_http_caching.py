"""Downloads stream from a file with an ETag named by the layer's version and the query;
``Cache-Control`` and ``Vary`` are set per route (geo_service.api.middleware)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from urllib.parse import urlencode

import pytest

from tests.support import run_in_own_loop

MERGE_PATCH = "application/merge-patch+json"


def _asgi_get(app, path: str, params: dict | None = None, headers: dict | None = None):
    """The ASGI messages the app sends for ``GET path`` (no client in between, so what the
    app streams is seen as it streams it)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(params or {}).encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []
    asked = False

    async def receive() -> dict:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the response is sent
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    run_in_own_loop(app(scope, receive, send))
    start = sent[0]
    return (
        start["status"],
        {k.decode().lower(): v.decode() for k, v in start["headers"]},
        [m.get("body", b"") for m in sent[1:]],
    )


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Temporary files of this test only."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_download_streams_from_a_file_that_is_removed_once_sent(editable, private_tmp):
    app = editable.api.app
    status, headers, chunks = _asgi_get(app, "/downloads/compounds.geojson")
    assert status == 200
    assert len(chunks) > 1  # sent in pieces as read, not assembled whole
    body = b"".join(chunks)
    assert int(headers["content-length"]) == len(body)
    features = json.loads(body)["features"]
    assert len(features) == len(app.state.store.query("compounds"))
    assert headers["content-disposition"].startswith("attachment;")
    assert list(private_tmp.glob("geo-service-download-*")) == []


def test_a_download_is_named_by_the_layers_version_and_the_query(editable):
    app, api, staff = editable.api.app, editable.api, editable.staff
    path = "/downloads/service_centres.csv"
    _, first, _ = _asgi_get(app, path)
    _, again, _ = _asgi_get(app, path)
    assert first["etag"] == again["etag"] and first["etag"].startswith('W/"v-')
    status, headers, chunks = _asgi_get(app, path, headers={"If-None-Match": first["etag"]})
    assert (status, b"".join(chunks)) == (304, b"")
    assert headers["etag"] == first["etag"]
    _, bbox, _ = _asgi_get(app, path, {"bbox": "120.2,31.4,120.3,31.6"})
    _, other_format, _ = _asgi_get(app, "/downloads/service_centres.geojson")
    assert len({first["etag"], bbox["etag"], other_format["etag"]}) == 3

    centre = api.get("/collections/service_centres/items", params={"limit": 1}).json()
    fid = centre["features"][0]["id"]
    renamed = api.request(
        "PATCH",
        f"/collections/service_centres/items/{fid}",
        content=json.dumps({"properties": {"name_en": "Renamed"}}).encode(),
        headers={**staff, "Content-Type": MERGE_PATCH},
    )
    assert renamed.status_code == 200, renamed.text
    status, after, chunks = _asgi_get(app, path, headers={"If-None-Match": first["etag"]})
    assert status == 200 and after["etag"] != first["etag"]
    assert "Renamed" in b"".join(chunks).decode("utf-8-sig")


def test_cache_control_and_vary_are_set_per_route(editable):
    api, staff = editable.api, editable.staff
    items = api.get("/collections/compounds/items", params={"limit": 2})
    assert items.headers["cache-control"] == "no-cache"
    vary = {v.strip() for v in items.headers["vary"].split(",")}
    assert {"Accept", "Accept-Encoding", "Authorization", "X-API-Key"} <= vary
    with_key = api.get("/collections/compounds/items", params={"limit": 2}, headers=staff)
    assert with_key.headers["cache-control"] == "private, no-cache"
    asset = api.get("/static/maps/vendor/leaflet/leaflet.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=86400"
    assert (
        api.get("/static/maps/vendor/leaflet/leaflet.js", headers=staff).headers["cache-control"]
        == "private, max-age=86400"
    )
    lon, lat = app_centre(api)
    nearest = api.get("/locator/nearest", params={"lon": lon, "lat": lat})
    assert nearest.status_code == 200 and nearest.headers["cache-control"] == "no-store"
    scenario = api.post("/coverage/scenario", json={"remove": ["no-such-centre"]})
    assert scenario.headers["cache-control"] == "no-store"
    assert api.get("/healthz").headers["cache-control"] == "no-store"


def app_centre(api) -> tuple[float, float]:
    """A point where the demo's residents live: the first compound's first vertex."""
    feature = api.get("/collections/compounds/items", params={"limit": 1}).json()["features"][0]
    ring = feature["geometry"]["coordinates"]
    while isinstance(ring[0], list):
        ring = ring[0]
    return ring[0], ring[1]
