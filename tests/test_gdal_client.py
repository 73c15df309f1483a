"""GDAL's own OGC API client (ogrinfo / ogr2ogr from gdal-bin) against the running service."""

from __future__ import annotations

import re
import shutil
import subprocess

import mapbox_vector_tile
import morecantile
import pyogrio
import pytest
import shapely

#: End to end: GDAL's ogrinfo/ogr2ogr against `geo-service serve`.
pytestmark = pytest.mark.slow

OGRINFO = shutil.which("ogrinfo")
OGR2OGR = shutil.which("ogr2ogr")


def _run(*args: str) -> str:
    assert OGRINFO and OGR2OGR, "gdal-bin is not installed (.ci/run installs it)"
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def collections(client) -> dict[str, int]:
    body = client.get("/collections").json()
    matched = {}
    for collection in body["collections"]:
        page = client.get(f"/collections/{collection['id']}/items", params={"limit": 1}).json()
        matched[collection["id"]] = page["numberMatched"]
    return matched


def test_ogrinfo_lists_every_public_collection(server, collections):
    listing = _run(OGRINFO, "-ro", "-q", f"OAPIF:{server.url}")
    names = re.findall(r"^\d+: (\w+)", listing, flags=re.MULTILINE)
    assert sorted(names) == sorted(collections)
    assert "central_households" not in listing


def test_feature_counts_equal_number_matched(server, collections):
    for layer, matched in collections.items():
        summary = _run(OGRINFO, "-ro", "-so", f"OAPIF:{server.url}", layer)
        count = int(re.search(r"Feature Count: (\d+)", summary).group(1))
        assert count == matched, layer


def test_ogr2ogr_copies_every_feature_of_the_biggest_layer(server, collections, tmp_path):
    biggest = max(collections, key=collections.get)
    out = tmp_path / "copy.gpkg"
    _run(OGR2OGR, "-f", "GPKG", str(out), f"OAPIF:{server.url}", biggest)
    copied = pyogrio.read_dataframe(out)
    assert len(copied) == collections[biggest]
    assert copied["id"].is_unique


def test_spatial_filter_returns_the_right_subset(server, demo, tmp_path):
    out = tmp_path / "subset.gpkg"
    _run(
        OGR2OGR,
        "-f",
        "GPKG",
        "-spat",
        "120.25",
        "31.54",
        "120.28",
        "31.57",
        str(out),
        f"OAPIF:{server.url}",
        "compounds",
    )
    got = pyogrio.read_dataframe(out)
    compounds = demo["compounds"]
    expected = compounds[compounds.intersects(shapely.box(120.25, 31.54, 120.28, 31.57))]
    assert sorted(got["id"]) == sorted(expected["id"]) and 0 < len(got) < len(compounds)
    assert "示例小区" in got["name_zh"].iloc[0]


def test_attribute_filter_reaches_the_server(server):
    listing = _run(
        OGRINFO,
        "-ro",
        "-al",
        "-q",
        "-where",
        "community_id = 'HL01'",
        f"OAPIF:{server.url}",
        "compounds",
    )
    ids = re.findall(r"id \(String\) = (HL\d\d-\d\d)", listing)
    assert ids and all(i.startswith("HL01-") for i in ids)


def test_gdal_reads_a_vector_tile_where_the_features_are(server, client, tmp_path):
    """GDAL's MVT driver opens a tile from the tile URL template of the collection's
    tileset: the same features, georeferenced within the tile's bounds in EPSG:3857."""
    tileset = client.get("/collections/compounds/tiles/WebMercatorQuad").json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    level = next(x for x in tileset["tileMatrixSetLimits"] if x["tileMatrix"] == "13")
    row = (level["minTileRow"] + level["maxTileRow"]) // 2
    col = (level["minTileCol"] + level["maxTileCol"]) // 2
    url = template.format(tileMatrix=13, tileRow=row, tileCol=col) + "?properties=population"
    out = tmp_path / "tile.gpkg"
    _run(
        OGR2OGR, "-f", "GPKG", str(out), f"MVT:/vsicurl/{url}",
        "-oo", "Z=13", "-oo", f"Y={row}", "-oo", f"X={col}",
    )  # fmt: skip
    read = pyogrio.read_dataframe(out)
    expected = client.get(url)
    assert expected.status_code == 200
    features = mapbox_vector_tile.decode(expected.content)["compounds"]["features"]
    assert sorted(read["id"]) == sorted(f["properties"]["id"] for f in features)
    by_id = {f["properties"]["id"]: f["properties"]["population"] for f in features}
    assert all(by_id[i] == p for i, p in zip(read["id"], read["population"], strict=True))
    assert read.crs.to_epsg() == 3857
    minx, miny, maxx, maxy = morecantile.tms.get("WebMercatorQuad").xy_bounds(col, row, 13)
    margin = (maxx - minx) * 64 / 4096
    tile_box = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)
    assert shapely.covers(tile_box.buffer(1), read.geometry.values).all()
