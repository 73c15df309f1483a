"""OGC API – Features: the service's API called in process."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def test_landing_page_links(api):
    body = api.get("/", headers={"Accept": "application/json"}).json()
    links = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for rel in ("service-desc", "conformance", "data", "service-doc"):
        assert api.get(links[rel]["href"]).status_code == 200


def test_conformance(api):
    classes = api.get("/conformance").json()["conformsTo"]
    for part in (
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-1/1.0/conf/html",
        "ogcapi-features-2/1.0/conf/crs",
    ):
        assert f"http://www.opengis.net/spec/{part}" in classes


def test_collections_are_the_public_layers(api, demo, catalog):
    body = api.get("/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == [spec.id for spec in catalog.visible("public")]
    assert "central_households" not in ids and "landmarks" in ids
    compounds = next(c for c in body["collections"] if c["id"] == "compounds")
    assert compounds["title"].startswith("住宅小区")
    bbox = compounds["extent"]["spatial"]["bbox"][0]
    np.testing.assert_allclose(bbox, demo["compounds"].total_bounds, atol=1e-7)
    assert compounds["extent"]["spatial"]["crs"] == CRS84
    assert compounds["storageCrs"] == CRS84
    assert set(compounds["crs"]) == {
        CRS84,
        EPSG + "4326",
        EPSG + "4490",
        EPSG + "4549",
        EPSG + "3857",
    }
    rels = {link["rel"] for link in compounds["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_queryables_are_json_schema(api):
    response = api.get("/collections/service_centres/queryables")
    assert response.headers["content-type"].startswith("application/schema+json")
    schema = response.json()
    assert schema["type"] == "object"
    assert schema["properties"]["capacity"]["type"] == "integer"
    assert schema["properties"]["level"]["enum"] == ["district", "subdistrict", "community"]
    assert schema["properties"]["geometry"]["format"] == "geometry-point"


def test_items_page_and_links(api):
    response = api.get("/collections/compounds/items")
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"], len(body["features"])) == (471, 100, 100)
    rels = [link["rel"] for link in body["links"]]
    assert "next" in rels and "prev" not in rels
    last = api.get("/collections/compounds/items", params={"offset": 400}).json()
    assert last["numberReturned"] == 71
    assert "next" not in [link["rel"] for link in last["links"]]
    assert "prev" in [link["rel"] for link in last["links"]]


def test_paging_walks_every_feature_exactly_once(api, demo):
    seen, url, pages = [], "/collections/compounds/items?limit=37", 0
    while url:
        body = api.get(url).json()
        seen += [f["id"] for f in body["features"]]
        pages += 1
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert pages == 13
    assert seen == demo["compounds"]["id"].tolist()


def test_limit_is_clamped_and_checked(api, demo):
    body = api.get("/collections/roads/items", params={"limit": 10**9}).json()
    assert body["numberReturned"] == len(demo["roads"]) <= 10_000
    for bad in ("0", "-1", "abc", "1.5", ""):
        response = api.get("/collections/roads/items", params={"limit": bad})
        assert response.status_code == 400, bad
        assert "limit" in response.json()["description"]


def _ids(body) -> set[str]:
    return {f["id"] for f in body["features"]}


def test_bbox_in_every_crs(api, demo):
    lon0, lat0, lon1, lat1 = 120.25, 31.54, 120.28, 31.57
    expected = set(
        demo["compounds"][demo["compounds"].intersects(shapely.box(lon0, lat0, lon1, lat1))]["id"]
    )
    assert 0 < len(expected) < 471
    crs84 = api.get(
        "/collections/compounds/items",
        params={"bbox": f"{lon0},{lat0},{lon1},{lat1}", "limit": 1000},
    ).json()
    assert _ids(crs84) == expected and crs84["numberMatched"] == len(expected)
    lat_first = api.get(
        "/collections/compounds/items",
        params={"bbox": f"{lat0},{lon0},{lat1},{lon1}", "bbox-crs": EPSG + "4326", "limit": 1000},
    ).json()
    assert _ids(lat_first) == expected
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x0, y0 = to_3857.transform(lon0, lat0)
    x1, y1 = to_3857.transform(lon1, lat1)
    mercator = api.get(
        "/collections/compounds/items",
        params={"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": EPSG + "3857", "limit": 1000},
    ).json()
    assert _ids(mercator) == expected
    to_4549 = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    e0, n0 = to_4549.transform(lon0, lat0)
    e1, n1 = to_4549.transform(lon1, lat1)
    gauss = api.get(
        "/collections/compounds/items",
        params={"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": EPSG + "4549", "limit": 1000},
    ).json()
    assert expected <= _ids(gauss) and len(_ids(gauss)) < 1.3 * len(expected)


def test_output_crs_and_axis_order(api, demo):
    centre = demo["service_centres"].set_index("id").geometry["D00"]
    lon, lat = centre.x, centre.y

    def coords(crs: str):
        response = api.get("/collections/service_centres/items/D00", params={"crs": crs})
        assert response.headers["content-crs"] == f"<{crs}>"
        return response.json()["geometry"]["coordinates"]

    assert coords(CRS84) == pytest.approx([lon, lat], abs=1e-7)
    assert coords(EPSG + "4326") == pytest.approx([lat, lon], abs=1e-7)
    assert coords(EPSG + "4490") == pytest.approx([lat, lon], abs=1e-5)
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(
        lon, lat
    )
    assert coords(EPSG + "4549") == pytest.approx([northing, easting], abs=0.01)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    assert coords(EPSG + "3857") == pytest.approx([x, y], abs=0.01)
    page = api.get(
        "/collections/service_centres/items", params={"crs": EPSG + "4326", "limit": 5}
    ).json()
    assert page["features"][0]["geometry"]["coordinates"][0] == pytest.approx(lat, abs=1e-7)


def test_filters_sorting_and_property_subsets(api):
    body = api.get(
        "/collections/compounds/items",
        params={"community_id": "HL01", "sortby": "-population", "limit": 1000},
    ).json()
    people = [f["properties"]["population"] for f in body["features"]]
    assert body["numberMatched"] == len(people) > 1
    assert people == sorted(people, reverse=True)
    assert {f["properties"]["community_id"] for f in body["features"]} == {"HL01"}
    levels = api.get("/collections/service_centres/items", params={"level": "subdistrict"}).json()
    assert levels["numberMatched"] == 7
    subset = api.get(
        "/collections/compounds/items", params={"properties": "name_zh,population", "limit": 3}
    ).json()
    assert [set(f["properties"]) for f in subset["features"]] == [{"name_zh", "population"}] * 3
    assert subset["features"][0]["id"] == "HL01-01"
    nothing = api.get("/collections/compounds/items", params={"offset": 5000}).json()
    assert nothing["numberReturned"] == 0 and nothing["features"] == []
    assert (
        api.get(
            "/collections/compounds/items", params={"datetime": "2024-01-01T00:00:00Z/.."}
        ).json()["numberMatched"]
        == 471
    )


def test_one_feature(api):
    feature = api.get("/collections/communities/items/HL01").json()
    assert feature["type"] == "Feature" and feature["id"] == "HL01"
    assert feature["properties"]["name_zh"] == "水秀社区"
    assert {link["rel"] for link in feature["links"]} >= {"self", "collection"}


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/collections/nope", {}, 404, "no layer"),
        ("/collections/nope/items", {}, 404, "no layer"),
        ("/collections/compounds/items/NOPE", {}, 404, "no feature"),
        ("/collections/central_households", {}, 404, "no layer"),
        ("/collections/central_households/items", {}, 404, "no layer"),
        ("/collections/central_households/queryables", {}, 404, "no layer"),
        ("/collections/compounds/items", {"bbox": "a,b,c,d"}, 400, "must be numbers"),
        ("/collections/compounds/items", {"bbox": "1,2,3"}, 400, "4 (or 6)"),
        ("/collections/compounds/items", {"bbox": "120,NaN,121,32"}, 400, "finite"),
        ("/collections/compounds/items", {"bbox": "120,32,121,31"}, 400, "greater than"),
        ("/collections/compounds/items", {"bbox": "120,31,200,32"}, 400, "outside"),
        (
            "/collections/compounds/items",
            {"bbox": "0,0,10,10", "bbox-crs": EPSG + "4549"},
            400,
            "outside",
        ),
        ("/collections/compounds/items", {"bbox-crs": EPSG + "4326"}, 400, "without bbox"),
        ("/collections/compounds/items", {"crs": EPSG + "2000"}, 400, "not offered"),
        ("/collections/compounds/items", {"crs": "garbage"}, 400, "not offered"),
        ("/collections/compounds/items", {"colour": "red"}, 400, "unknown parameter"),
        ("/collections/compounds/items", {"population": "many"}, 400, "integer"),
        ("/collections/compounds/items", {"sortby": "colour"}, 400, "cannot sort"),
        ("/collections/compounds/items", {"properties": "colour"}, 400, "unknown properties"),
        ("/collections/compounds/items", {"offset": "-3"}, 400, "offset"),
        ("/collections/compounds/items", {"datetime": "yesterday"}, 400, "RFC 3339"),
        ("/collections/compounds/items", {"f": "xml"}, 400, "f must be"),
        ("/collections/compounds/items/HL01-01", {"limit": "3"}, 400, "unknown parameter"),
    ],
)
def test_bad_requests_get_a_json_4xx(api, path, params, status, message):
    response = api.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["description"]


def test_repeated_parameter_is_refused(api):
    response = api.get("/collections/compounds/items?limit=5&limit=6")
    assert response.status_code == 400 and "2 times" in response.json()["description"]


def test_html_views(api):
    html_pages = {
        "/": "住宅小区",
        "/collections": "住宅小区",
        "/collections/compounds": "Properties",
        "/collections/compounds/items": "HL01-01",
        "/collections/compounds/items/HL01-01": "示例小区 HL01-01",
        "/conformance": "ogcapi-features-1",
    }
    for path, text in html_pages.items():
        response = api.get(path, params={"f": "html"})
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/html"
        ), path
        assert text in response.text, path
        assert "<script" not in response.text and "<link" not in response.text, path
    browser = api.get("/collections/compounds/items", headers={"Accept": "text/html"})
    assert "<svg" in browser.text and "Synthetic demo data" in browser.text
    assert api.get("/collections", headers={"Accept": "application/json"}).json()


def test_etag_and_not_modified(api):
    first = api.get("/collections/compounds/items", params={"limit": 5})
    etag = first.headers["etag"]
    again = api.get(
        "/collections/compounds/items", params={"limit": 5}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = api.get("/collections/compounds/items", params={"limit": 6})
    assert other.headers["etag"] != etag
    assert api.get("/collections", headers={"If-None-Match": etag}).status_code == 200
    for path in ("/", "/collections", "/conformance", "/api", "/collections/compounds"):
        assert api.get(path).headers["etag"].startswith('W/"'), path


def test_gzip_is_real_gzip_even_on_errors(api):
    paths = [
        "/collections/roads/items?limit=2000",
        "/collections/compounds/items?colour=1",
        "/collections/nope/items",
        "/api",
        "/collections/compounds/items?" + "&".join(f"x{i}=1" for i in range(200)),
    ]
    for path in paths:
        r, raw = api.raw("GET", path, headers={"Accept-Encoding": "gzip"})
        encoding = r.headers.get("content-encoding")
        body = gzip.decompress(raw) if encoding == "gzip" else raw
        assert json.loads(body), path
        if path.endswith("2000"):
            assert encoding == "gzip"


def test_cors(api):
    response = api.get("/collections", headers={"Origin": "http://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = api.options(
        "/collections/compounds/items",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_openapi_is_30_self_contained_and_declares_limit(api):
    response = api.get("/api")
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0")
    text = json.dumps(document)
    refs = list(text.split('"$ref": "')[1:])
    assert all(r.startswith("#/") for r in refs)
    assert '"type": "null"' not in text
    parameters = document["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["default"] == 100
    assert api.get("/openapi.json").json() == document


def test_api_docs_load_nothing_from_outside(api):
    page = api.get("/docs").text
    assert "swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert api.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
