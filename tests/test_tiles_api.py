"""OGC API - Tiles routes, in process on each store: the documents a client follows, the
tiles, their caching, errors and access."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from geo_service.data.audit import AuditLog
from geo_service.data.keys import KeyStore
from geo_service.data.vector_tiles import MVT_MEDIA_TYPE

TILES = "/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"
GRID = morecantile.tms.get("WebMercatorQuad")


def _tile_at(api, layer: str, zoom: int) -> tuple[int, int, int]:
    """The tile of ``zoom`` at the middle of the layer's extent, from the tileset's limits."""
    limits = api.get(f"/collections/{layer}/tiles/WebMercatorQuad").json()["tileMatrixSetLimits"]
    level = next(limit for limit in limits if limit["tileMatrix"] == str(zoom))
    row = (level["minTileRow"] + level["maxTileRow"]) // 2
    col = (level["minTileCol"] + level["maxTileCol"]) // 2
    return zoom, row, col


def _features(response, layer: str) -> list[dict]:
    assert response.headers["content-type"] == MVT_MEDIA_TYPE
    return mapbox_vector_tile.decode(response.content)[layer]["features"]


def test_a_client_finds_the_tiles_from_the_collection(api):
    collection = api.get("/collections/compounds").json()
    tilesets_link = next(
        link
        for link in collection["links"]
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    )
    tilesets = api.get(tilesets_link["href"]).json()["tilesets"]
    assert [t["dataType"] for t in tilesets] == ["vector"]
    links = {link["rel"]: link for link in tilesets[0]["links"]}
    tileset = api.get(links["self"]["href"]).json()
    assert tileset["layers"][0]["id"] == "compounds"
    assert tileset["layers"][0]["geometryDimension"] == 2
    assert "population" in tileset["layers"][0]["propertiesSchema"]["properties"]
    scheme = api.get(links["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"]).json()
    assert scheme["id"] == "WebMercatorQuad" and len(scheme["tileMatrices"]) == 25
    assert scheme["tileMatrices"][0]["identifier"] == "0"  # 1.0 names, for GDAL 3.6
    template = links["item"]["href"]
    assert links["item"]["templated"] and links["item"]["type"] == MVT_MEDIA_TYPE
    extent = collection["extent"]["spatial"]["bbox"][0]
    first = GRID.tile(extent[0], extent[3], 12)
    last = GRID.tile(extent[2], extent[1], 12)
    level = next(x for x in tileset["tileMatrixSetLimits"] if x["tileMatrix"] == "12")
    assert (level["minTileCol"], level["minTileRow"]) == (first.x, first.y)
    assert (level["maxTileCol"], level["maxTileRow"]) == (last.x, last.y)
    url = template.format(tileMatrix=12, tileRow=first.y, tileCol=first.x)
    assert api.get(url).status_code in (200, 204)
    conformance = api.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    assert api.get("/tileMatrixSets").json()["tileMatrixSets"][0]["id"] == "WebMercatorQuad"


def test_a_tile_holds_the_features_of_its_box(api):
    z, y, x = _tile_at(api, "compounds", 13)
    west, south, east, north = GRID.bounds(x, y, z)
    response = api.get(
        TILES.format(layer="compounds", z=z, y=y, x=x), params={"properties": "population"}
    )
    assert response.status_code == 200
    features = _features(response, "compounds")
    items = api.get(
        "/collections/compounds/items",
        params={"bbox": f"{west},{south},{east},{north}", "limit": 1000},
    ).json()["features"]
    in_box = {f["id"]: f["properties"]["population"] for f in items}
    in_tile = {f["properties"]["id"]: f["properties"]["population"] for f in features}
    assert in_box and set(in_box) <= set(in_tile)  # and those in the buffer around it
    assert all(in_tile[i] == in_box[i] for i in in_box)
    assert all(set(f["properties"]) == {"id", "population"} for f in features)


def test_a_filter_keeps_only_matching_features(api):
    z, y, x = _tile_at(api, "service_circles", 12)
    url = TILES.format(layer="service_circles", z=z, y=y, x=x)
    everything = _features(api.get(url, params={"properties": "minutes"}), "service_circles")
    fives = _features(
        api.get(url, params={"properties": "minutes", "minutes": "5"}), "service_circles"
    )
    assert {f["properties"]["minutes"] for f in everything} > {5}
    assert fives and {f["properties"]["minutes"] for f in fives} == {5}
    assert len(fives) == sum(f["properties"]["minutes"] == 5 for f in everything)


def test_tiles_are_revalidated_by_etag_and_empty_tiles_are_204(api):
    z, y, x = _tile_at(api, "compounds", 12)
    url = TILES.format(layer="compounds", z=z, y=y, x=x)
    first = api.get(url)
    assert first.status_code == 200 and first.headers["etag"].startswith('W/"')
    again = api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    other = api.get(url, params={"properties": "population"})
    assert other.headers["etag"] != first.headers["etag"]
    empty = api.get(TILES.format(layer="compounds", z=12, y=0, x=0))
    assert empty.status_code == 204 and not empty.content


@pytest.mark.parametrize(
    "path, status, words",
    [
        ("/collections/compounds/tiles/WebMercatorQuad/23/0/0", 404, "tile matrix 23"),
        ("/collections/compounds/tiles/WebMercatorQuad/3/8/0", 404, "outside tile matrix 3"),
        ("/collections/compounds/tiles/WebMercatorQuad/-1/0/0", 404, "tile matrix -1"),
        ("/collections/compounds/tiles/WorldCRS84Quad/3/0/0", 404, "WebMercatorQuad"),
        ("/collections/compounds/tiles/WorldCRS84Quad", 404, "WebMercatorQuad"),
        ("/tileMatrixSets/Nope", 404, "WebMercatorQuad"),
        ("/collections/compounds/tiles/WebMercatorQuad/x/0/0", 400, "tileMatrix"),
        ("/collections/compounds/tiles/WebMercatorQuad/3/0/0?bogus=1", 400, "bogus"),
        ("/collections/compounds/tiles/WebMercatorQuad/3/0/0?properties=nope", 400, "nope"),
        ("/collections/compounds/tiles/WebMercatorQuad/3/0/0?population=many", 400, "integer"),
        ("/collections/compounds/tiles/WebMercatorQuad/3/0/0?f=json", 400, "Mapbox"),
        ("/collections/nowhere/tiles/WebMercatorQuad/3/0/0", 404, "nowhere"),
    ],
)
def test_bad_tile_requests_get_a_clear_4xx(api, path, status, words):
    response = api.get(path)
    assert response.status_code == status, response.text
    assert words in response.json()["description"]


def test_household_tiles_need_clearance_and_are_audited(api, state_dir):
    path = "/collections/central_households/tiles/WebMercatorQuad"
    assert api.get(path).status_code == 404  # the public does not know the layer
    key, record = KeyStore(state_dir / "keys.json").create("restricted", "tile officer")
    headers = {"X-API-Key": key}
    z, y, x = _tile_at(api, "compounds", 11)  # the district's middle
    log = AuditLog(state_dir / "audit.log")
    before = len(log.entries())
    assert api.get(f"{path}/{z}/{y}/{x}").status_code == 404
    response = api.get(f"{path}/{z}/{y}/{x}", headers=headers)
    assert response.status_code == 200
    count = len(_features(response, "central_households"))
    assert count > 0
    entries = log.entries()[before:]
    assert [(e["path"], e["features"], e["key_id"]) for e in entries] == [
        (f"{path}/{z}/{y}/{x}", count, record.id)
    ]
    assert response.headers["cache-control"].startswith("private")
