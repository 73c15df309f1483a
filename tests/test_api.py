"""The service's API in process (and ``geo-service serve`` starting, or refusing to, on a
real port): landing page, health, layers as GeoJSON, errors."""

from __future__ import annotations

import gzip
import json

import geopandas as gpd
import pytest

from geo_service.data.geojson_io import read_geojson
from tests.support import DATA_DIR, LiveServer, run_cli

METRIC = "EPSG:4549"


def test_healthz(api, catalog):
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "layers": len(catalog)}


def test_landing_page_lists_public_layers_with_titles(api, catalog):
    response = api.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for spec in catalog.visible("public"):
        assert spec.title.zh in page and spec.title.en in page
    assert "Synthetic demo data" in page and "合成示例数据" in page
    assert "central_households" not in page and "党员中心户" not in page


def test_landing_page_as_json(api):
    body = api.get("/", params={"f": "json"}).json()
    assert body["synthetic_demo_data"] is True
    ids = [layer["id"] for layer in body["layers"]]
    assert "compounds" in ids and "central_households" not in ids
    counts = {layer["id"]: layer["count"] for layer in body["layers"]}
    assert counts["communities"] == 78 and counts["service_centres"] == 86
    assert api.get("/", headers={"Accept": "application/json"}).json()["title"] == "geo_service"


@pytest.mark.parametrize(
    "layer",
    [
        "communities",
        "compounds",
        "service_centres",
        "roads",
        "water",
        "district",
        "pocket_parks",
        "trails",
    ],
)
def test_public_layer_geojson_matches_the_file(api, catalog, layer):
    response = api.get(f"/layers/{layer}.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    stored = json.loads((DATA_DIR / f"{layer}.geojson").read_text(encoding="utf-8"))
    assert body["type"] == "FeatureCollection"
    declared = dict.fromkeys(catalog.get(layer).property_names)  # absent in the file: null
    assert [f["properties"] for f in body["features"]] == [
        {**declared, **f["properties"]} for f in stored["features"]
    ]
    assert [f["geometry"] for f in body["features"]] == [f["geometry"] for f in stored["features"]]


def test_geojson_is_gzipped_when_asked(api):
    response = api.get("/layers/compounds.geojson", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["features"]) == 471
    raw = api.get("/layers/compounds.geojson", headers={"Accept-Encoding": "gzip"}).extensions
    assert raw is not None
    _, body = api.raw("GET", "/layers/water.geojson", headers={"Accept-Encoding": "gzip"})
    assert json.loads(gzip.decompress(body))["features"][0]["id"] == "taihu"


def test_bbox_returns_the_intersecting_subset(api, demo):
    bbox = (120.25, 31.54, 120.28, 31.57)
    body = api.get("/layers/compounds.geojson", params={"bbox": ",".join(map(str, bbox))}).json()
    expected = demo["compounds"].cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]["id"]
    got = [f["id"] for f in body["features"]]
    assert 0 < len(got) < 471
    assert sorted(got) == sorted(expected)


def test_layer_metadata(api, catalog):
    body = api.get("/layers/service_centres").json()
    assert body["count"] == 86 and body["access"] == "public"
    assert body["title"]["zh"].startswith("党群服务中心")
    assert "source" not in body
    assert body["provenance"]["synthetic"] is True
    lon0, lat0, lon1, lat1 = body["bbox"]
    assert 120.0 < lon0 < lon1 < 120.4 and 31.3 < lat0 < lat1 < 31.7
    listed = [layer["id"] for layer in api.get("/layers").json()["layers"]]
    assert listed == [spec.id for spec in catalog.visible("public")]
    assert "central_households" not in listed


def test_summary_compares_article_and_data(api):
    body = api.get("/summary").json()
    figures = {f["figure"]: (f["published"], f["data"]) for f in body["figures"]}
    assert figures["community_party_organisations"] == (78, 78)
    assert figures["compound_party_branches"] == (471, 471)
    assert figures["party_groups"] == (572, 572)
    assert figures["central_households"] == (262, 262)
    assert figures["alliances"] == (17, None)
    assert body["district"]["name"] == "滨湖区"
    assert body["district"]["synthetic"] is True


@pytest.mark.parametrize(
    "path",
    [
        "/layers/central_households.geojson",
        "/layers/central_households",
        "/layers/nope.geojson",
        "/layers/nope",
    ],
)
def test_restricted_layer_gets_the_same_404_as_a_missing_one(api, path):
    response = api.get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "LayerNotFound"
    assert "central_households" not in response.text or "no layer" in body["description"]
    assert "coordinates" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/layers/..%2F..%2Fetc%2Fpasswd.geojson",
        "/layers/%2e%2e%2fpyproject.geojson",
        "/layers/..%2Fdata%2Fgeojson%2Fcentral_households.geojson",
        "/layers/%2Fetc%2Fpasswd.geojson",
    ],
)
def test_paths_from_requests_are_never_read(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "root:" not in response.text and "[project]" not in response.text


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("a,b,c,d", "must be numbers"),
        ("1,2,3", "4 (or 6) comma-separated numbers"),
        ("120,31,NaN,32", "finite"),
        ("120,32,121,31", "minimum is greater than its maximum"),
        ("120,31,500,32", "outside longitude"),
    ],
)
def test_bad_bbox_is_a_400_with_a_json_message(api, bbox, message):
    response = api.get("/layers/compounds.geojson", params={"bbox": bbox})
    assert response.status_code == 400
    assert message in response.json()["description"]


def test_bad_format_parameter_is_400(api):
    response = api.get("/", params={"f": "xml"})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameterValue"


@pytest.mark.slow
def test_first_response_within_a_few_seconds(server):
    # Recorded for the closing note; the bound is generous, not a benchmark.
    assert server.first_response_s < 30


@pytest.mark.slow
def test_start_up_stops_on_data_that_breaks_its_schema(data_copy):
    catalog_dir, data_dir = data_copy
    path = data_dir / "service_centres.geojson"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"capacity":', '"capacity_x":', 1),
        encoding="utf-8",
    )
    result = run_cli(
        "serve", "--port", "1", "--catalog-dir", str(catalog_dir), "--data-dir", str(data_dir)
    )
    assert result.returncode == 1
    assert "service_centres.geojson: field 'capacity'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_start_up_stops_on_a_broken_catalog_entry(data_copy):
    catalog_dir, data_dir = data_copy
    path = catalog_dir / "trails.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("access: public", "access: open"), encoding="utf-8"
    )
    live = None
    try:
        live = LiveServer("--catalog-dir", str(catalog_dir), "--data-dir", str(data_dir))
    except RuntimeError as exc:
        assert "trails.yaml: field 'access'" in str(exc)
    else:
        live.stop()
        pytest.fail("server started on a broken catalog")


@pytest.mark.parametrize(
    ("layer", "count"),
    [("compound_coverage", 471), ("community_coverage", 78), ("service_circles", 18)],
)
def test_derived_coverage_layers_are_served_like_any_other(api, layer, count):
    body = api.get(f"/layers/{layer}.geojson").json()
    assert len(body["features"]) == count
    meta = api.get(f"/layers/{layer}").json()
    assert meta["derived"] is True and meta["count"] == count
    if layer == "compound_coverage":
        first = body["features"][0]["properties"]
        assert first["centre_m"] > 0 and first["centre_id"]


def test_coverage_summary_endpoint(api):
    body = api.get("/coverage/summary").json()
    assert body["district"]["residents"] == 500_000
    assert (
        0
        < body["district"]["share_5"]
        < body["district"]["share_10"]
        < body["district"]["share_15"]
        <= 1
    )
    assert {row["group"] for row in body["subdistricts"]} == {
        "HL",
        "RX",
        "LY",
        "LH",
        "XL",
        "MS",
        "HD",
    }
    assert body["params"]["circles"][2]["distance_m"] == 1000.0


def test_one_facility_circles_on_demand(api, demo):
    body = api.get("/coverage/circles/service_centres/C-HL01").json()
    assert [f["properties"]["minutes"] for f in body["features"]] == [5, 10, 15]
    centre = demo["service_centres"].set_index("id").geometry["C-HL01"]
    import shapely

    polygons = [shapely.geometry.shape(f["geometry"]) for f in body["features"]]
    assert all(p.buffer(1e-6).contains(centre) for p in polygons)
    assert polygons[0].area < polygons[1].area < polygons[2].area
    trail = api.get("/coverage/circles/trails/T01").json()
    assert len(trail["features"]) == 3


@pytest.mark.parametrize("facility_set", ["centre", "park"])
def test_an_areas_circles_on_demand_are_the_districts_cut_to_it(
    api, demo, warm_derived, facility_set
):
    """A community's circles, built on demand from the nearby facilities only, are the
    district's dissolved circles cut to the community (measured in metres)."""
    import shapely

    query = "" if facility_set == "centre" else f"?facility_set={facility_set}"
    body = api.get(f"/coverage/areas/communities/HL01/circles{query}").json()
    props = [f["properties"] for f in body["features"]]
    assert [p["minutes"] for p in props] == [5, 10, 15]
    assert {p["facility_set"] for p in props} == {facility_set}
    community = demo["communities"].set_index("id").loc[["HL01"]].to_crs(METRIC).geometry.iloc[0]
    district = read_geojson(warm_derived / "service_circles.geojson").set_index("id")
    got = gpd.GeoSeries(
        [shapely.geometry.shape(f["geometry"] or {"type": "Polygon", "coordinates": []})
         for f in body["features"]],
        crs=4326,
    ).to_crs(METRIC)  # fmt: skip
    expected = district.loc[[f"{facility_set}-{m}" for m in (5, 10, 15)]].to_crs(METRIC)
    for polygon, whole, p in zip(got, expected.geometry, props, strict=True):
        cut = whole.intersection(community)
        assert polygon.symmetric_difference(cut).area <= 1e-3 * cut.area
        assert p["share_of_area"] == pytest.approx(cut.area / community.area, rel=1e-3)
    assert got.area.iloc[-1] > 10_000  # the 15-minute circle reaches into the community
    assert got.area.is_monotonic_increasing


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/coverage/areas/communities/NOPE/circles", 404),
        ("/coverage/areas/compounds/HL01-01/circles", 400),
        ("/coverage/areas/communities/HL01/circles?facility_set=nope", 400),
        ("/coverage/areas/central_households/H001/circles", 404),
    ],
)
def test_area_circles_bad_requests(api, path, status):
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["description"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/coverage/circles/service_centres/NOPE", 404),
        ("/coverage/circles/compounds/HL01-01", 400),
        ("/coverage/circles/central_households/H001", 404),
    ],
)
def test_facility_circles_bad_requests(api, path, status):
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["description"]
