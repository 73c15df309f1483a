"""Hostile input: every bad request gets a clear 4xx with a JSON message, fast, and the
service stays healthy."""

from __future__ import annotations

import time

import pytest

from geo_service.api.app import create_app
from geo_service.settings import Settings
from tests.support import InProcessClient, lifespan

POINT = {
    "type": "Feature",
    "properties": {},
    "geometry": {"type": "Point", "coordinates": [120.12, 31.55]},
}


def _site(geometry) -> dict:
    return {
        "add": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
        }
    }


ITEMS = "/collections/compounds/items"
GET_CASES = [
    # path traversal and odd ids
    ("/collections/..%2F..%2Fetc%2Fpasswd/items", 404, "Not Found"),
    ("/collections/%2e%2e%2fpyproject/items", 404, "Not Found"),
    ("/collections/%2Fetc%2Fpasswd", 404, "Not Found"),
    ("/collections/compounds/items/..%2F..%2Fpyproject.toml", 404, "Not Found"),
    ("/downloads/..%2Fpyproject.gpkg", 404, "Not Found"),
    ("/layers/%2e%2e%2f%2e%2e%2fetc%2fpasswd.geojson", 404, "Not Found"),
    ("/collections/compounds%00/items", 404, "no layer"),
    ("/coverage/circles/service_centres/..%2F..%2Fx", 404, "Not Found"),
    # SQL and CQL fragments
    (f"{ITEMS}?community_id=HL01'%20OR%20'1'='1", 200, None),
    (f"{ITEMS}?population=1;DROP%20TABLE%20compounds", 400, "integer"),
    (f"{ITEMS}?filter=population%3E1000", 400, "unknown parameter"),
    (f"{ITEMS}?filter-lang=cql2-text", 400, "unknown parameter"),
    (f"{ITEMS}?sortby=population;DELETE", 400, "cannot sort"),
    (f"{ITEMS}?properties=id,(SELECT%201)", 400, "unknown properties"),
    # long query strings
    (f"{ITEMS}?community_id=" + "A" * 10_000, 414, "query string"),
    (f"{ITEMS}?" + "&".join(f"p{i}=1" for i in range(2000)), 414, "query string"),
    # numbers that are not numbers
    (f"{ITEMS}?bbox=NaN,31,121,32", 400, "finite"),
    (f"{ITEMS}?bbox=Infinity,31,121,32", 400, "finite"),
    (f"{ITEMS}?bbox=1e309,31,121,32", 400, "finite"),
    (f"{ITEMS}?bbox=-200,31,121,32", 400, "outside"),
    (f"{ITEMS}?bbox=120,-91,121,32", 400, "outside"),
    (f"{ITEMS}?bbox=120,31,121", 400, "4 (or 6)"),
    (f"{ITEMS}?bbox=120,31,121,32,5", 400, "4 (or 6)"),
    (f"{ITEMS}?bbox=120.25,31.55,120.25,31.55", 200, None),  # zero area: a point query
    (f"{ITEMS}?bbox=-180,-90,180,90", 200, None),  # the whole globe
    (f"{ITEMS}?population=NaN", 400, "integer"),
    (f"{ITEMS}?population=1e309", 400, "integer"),
    # limits and offsets
    (f"{ITEMS}?limit=0", 400, "limit"),
    (f"{ITEMS}?limit=-1", 400, "limit"),
    (f"{ITEMS}?limit=1000000000", 200, None),
    (f"{ITEMS}?limit=ten", 400, "limit"),
    (f"{ITEMS}?limit=99999999999999999999999", 400, "limit"),
    (f"{ITEMS}?offset=-5", 400, "offset"),
    (f"{ITEMS}?offset=999999999999", 200, None),
    # CRS
    (f"{ITEMS}?crs=EPSG:99999", 400, "not offered"),
    (f"{ITEMS}?crs=http://www.opengis.net/def/crs/EPSG/0/4214", 400, "not offered"),
    (f"{ITEMS}?bbox=1,1,2,2&bbox-crs=urn:ogc:def:crs:EPSG::4326", 400, "not offered"),
    (f"{ITEMS}?datetime=2024-13-45", 400, "datetime"),
    ("/coverage/circles/compounds/HL01-01", 400, "holds no facilities"),
    ("/collections/compounds/items?f=../../etc/passwd", 400, "f must be"),
]


@pytest.mark.parametrize(("url", "status", "message"), GET_CASES)
def test_hostile_get(api, url, status, message):
    started = time.perf_counter()
    response = api.get(url)
    assert time.perf_counter() - started < 5
    assert response.status_code == status, response.text[:300]
    if status >= 400:
        assert response.headers["content-type"].startswith("application/json")
        assert message in response.json()["description"]


def _nested(depth: int) -> bytes:
    return b'{"add":' + b"[" * depth + b"]" * depth + b"}"


POST_CASES = [
    (
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        400,
        "not valid JSON",
    ),
    (
        {"content": _nested(10_000), "headers": {"content-type": "application/json"}},
        400,
        "nested too deeply",
    ),
    (
        {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}},
        400,
        "not valid JSON",
    ),
    ({"json": [1, 2, 3]}, 400, "JSON object"),
    (
        {"json": {"add": {"type": "FeatureCollection", "features": "nope"}}},
        400,
        "FeatureCollection",
    ),
    ({"json": {"delete": []}}, 400, "unknown fields"),
    ({"json": {}}, 400, "nothing to change"),
    (
        {
            "json": _site(
                {"type": "Polygon", "coordinates": [[[120.1, 31.5], [120.2, 31.5], [120.2, 31.6]]]}
            )
        },
        400,
        "invalid geometry",
    ),
    (
        {
            "json": _site(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[120.1, 31.5], [120.2, 31.6], [120.2, 31.5], [120.1, 31.6], [120.1, 31.5]]
                    ],
                }
            )
        },
        400,
        "Self-intersection",
    ),
    (
        {
            "content": b'{"add":{"type":"FeatureCollection","features":[{"type":"Feature",'
            b'"properties":{},"geometry":{"type":"Point","coordinates":[1e400,31.5]}}]}}',
            "headers": {"content-type": "application/json"},
        },
        400,
        "finite",
    ),
    (
        {
            "content": b'{"add":{"type":"FeatureCollection","features":[{"type":"Feature",'
            b'"properties":{},"geometry":{"type":"Point","coordinates":[NaN,31.5]}}]}}',
            "headers": {"content-type": "application/json"},
        },
        400,
        "finite",
    ),
    ({"json": _site({"type": "Point", "coordinates": [500, 31.5]})}, 400, "lon/lat"),
    (
        {"json": _site({"type": "LineString", "coordinates": [[120, 31], [121, 32]]})},
        400,
        "Point or a Polygon",
    ),
    ({"json": _site({"type": "Point"})}, 400, "invalid geometry"),
    ({"json": {"remove": ["C-XX99"]}}, 400, "no service centre C-XX99"),
    ({"json": {"remove": "C-HL01"}}, 400, "list of service centre ids"),
    ({"json": {"add": {"type": "FeatureCollection", "features": [POINT] * 51}}}, 400, "at most 50"),
    ({"content": b"x" * 1_500_000, "headers": {"content-type": "application/json"}}, 413, "over"),
    (
        {"content": b"add=1", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        415,
        "send application/json",
    ),
    (
        {"content": b"<xml/>", "headers": {"content-type": "application/xml"}},
        415,
        "send application/json",
    ),
]


@pytest.mark.parametrize(("request_kwargs", "status", "message"), POST_CASES)
def test_hostile_post(api, request_kwargs, status, message):
    started = time.perf_counter()
    response = api.post("/coverage/scenario", **request_kwargs)
    assert time.perf_counter() - started < 5
    assert response.status_code == status, response.text[:300]
    assert message in response.json()["description"]


def test_at_least_forty_cases_and_still_healthy(api):
    assert len(GET_CASES) + len(POST_CASES) >= 40
    assert api.get("/healthz").json()["status"] == "ok"
    assert api.post("/collections").status_code == 405


def test_a_good_scenario(api):
    response = api.post(
        "/coverage/scenario", json={"add": {"type": "FeatureCollection", "features": [POINT]}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["after"]["district"]["share_15"] >= body["before"]["district"]["share_15"]
    assert body["sites"][0]["snap_status"] == "ok"


def test_limits_from_settings(tmp_path, monkeypatch, seeded_derived):
    for name, value in {
        "GEO_SERVICE_DERIVED_DIR": str(seeded_derived(tmp_path / "derived")),
        "GEO_SERVICE_STATE_DIR": str(tmp_path / "state"),
        "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "3",
        "GEO_SERVICE_MAX_ITEMS": "50",
    }.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings())  # from the environment, as `geo-service serve` reads it
    try:
        with lifespan(app):
            http = InProcessClient(app)
            statuses = [http.get("/downloads/water.geojson").status_code for _ in range(4)]
            assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
            limited = http.get("/downloads/water.geojson")
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert http.get("/collections/water/items").status_code == 200  # cheap routes
            limited_scenario = http.post(
                "/coverage/scenario",
                json={"add": {"type": "FeatureCollection", "features": [POINT]}},
            )
            assert limited_scenario.status_code == 429
            page = http.get("/collections/compounds/items", params={"limit": 1000}).json()
            assert page["numberReturned"] == 50
            parameters = http.get("/api").json()["paths"]["/collections/{collectionId}/items"][
                "get"
            ]["parameters"]
            assert next(p for p in parameters if p["name"] == "limit")["schema"]["maximum"] == 50
            assert http.get("/healthz").status_code == 200
    finally:
        app.state.refresh.close()


def test_timeout_from_settings(tmp_path, seeded_derived):
    """A request that outlives the timeout answers 503 with a JSON message; the routing runs
    in a worker thread, so the timeout fires while it works."""
    app = create_app(
        Settings(
            derived_dir=seeded_derived(tmp_path / "derived"),
            state_dir=tmp_path / "state",
            request_timeout_s=0.0001,
        )
    )
    with lifespan(app):  # its shutdown stops the compute workers
        slow = InProcessClient(app).post(
            "/coverage/scenario", json={"add": {"type": "FeatureCollection", "features": [POINT]}}
        )
    app.state.refresh.close()
    assert slow.status_code == 503
    assert slow.json()["code"] == "Timeout" and "0.0001 s" in slow.json()["description"]


def test_security_headers(api):
    page = api.get("/collections", params={"f": "html"})
    policy = page.headers["content-security-policy"]
    assert (
        "default-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    docs = api.get("/docs")
    script_src = docs.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "'sha256-" in script_src  # Swagger UI's inline script, allowed by its hash
    assert api.get("/collections").headers["x-content-type-options"] == "nosniff"
