"""Vector tiles: the tile grid, the encoding, both stores agreeing, and the OGC API - Tiles
routes (documents, tiles, caching, errors, access)."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo_service.data.vector_tiles import (
    MAX_ZOOM,
    SIMPLIFY_UNITS,
    TILE_BUFFER,
    TILE_EXTENT,
    TileAddress,
    encode_tile,
    first_zoom_within,
    tiles_covering,
)
from geo_service.errors import TileNotFound

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


def _decode(tile: bytes, layer: str) -> list[dict]:
    return mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})[layer][
        "features"
    ]


def _to_lonlat(geometry: dict, tile: TileAddress) -> shapely.Geometry:
    """A decoded feature's geometry (tile units, y down) back in lon/lat."""
    minx, miny, maxx, maxy = tile.mercator_bounds

    def back(coords: np.ndarray) -> np.ndarray:
        x = minx + coords[:, 0] * (maxx - minx) / TILE_EXTENT
        y = maxy - coords[:, 1] * (maxy - miny) / TILE_EXTENT
        return np.column_stack((x, y))

    shape = shapely.transform(shapely.geometry.shape(geometry), back)
    return gpd.GeoSeries([shape], crs=3857).to_crs(4326).iloc[0]


def _unit_metres(tile: TileAddress) -> float:
    minx, _, maxx, _ = tile.mercator_bounds
    return (maxx - minx) / TILE_EXTENT


# --- the grid --------------------------------------------------------------------------


def test_tile_bounds_are_the_grid_s():
    tile = TileAddress(10, 417, 853)
    assert tile.mercator_bounds == pytest.approx(tuple(WEB_MERCATOR.xy_bounds(853, 417, 10)))
    west, south, east, north = WEB_MERCATOR.bounds(853, 417, 10)
    buffered = tile.lonlat_bounds()
    assert buffered[0] < west and buffered[2] > east and buffered[1] < south
    assert buffered[3] > north
    assert tile.lonlat_bounds(buffer=0) == pytest.approx((west, south, east, north))


@pytest.mark.parametrize(
    "zoom, row, col", [(-1, 0, 0), (MAX_ZOOM + 1, 0, 0), (2, 4, 0), (2, 0, 4), (3, -1, 0)]
)
def test_tiles_outside_the_grid_are_not_found(zoom, row, col):
    with pytest.raises(TileNotFound):
        TileAddress(zoom, row, col)


def test_tiles_covering_a_box_match_the_grid():
    box = (120.1, 31.4, 120.4, 31.6)
    first, last = WEB_MERCATOR.tile(120.1, 31.6, 12), WEB_MERCATOR.tile(120.4, 31.4, 12)
    assert tiles_covering(box, 12) == (first.x, first.y, last.x, last.y)


# --- encoding --------------------------------------------------------------------------


@pytest.fixture
def shapes() -> gpd.GeoDataFrame:
    """A square, a line and two points in and around tile 14/6676/13663 (Wuxi)."""
    tile = TileAddress(14, 6676, 13663)
    west, south, east, north = tile.lonlat_bounds(buffer=0)
    width, height = east - west, north - south
    inside = Point(west + width * 0.3, south + height * 0.6)
    far = Point(east + width * 2, north + height * 2)
    square = shapely.box(
        west + width * 0.1, south + height * 0.1, west + width * 0.4, south + height * 0.3
    )
    across = LineString([(west + width * 0.5, south + height * 0.5), (east + width, north)])
    return gpd.GeoDataFrame(
        {
            "id": ["square", "line", "point", "far"],
            "name": ["甲", None, "c", "d"],
            "people": [12, 0, 3, 4],
            "share": [0.25, float("nan"), 1.0, 0.0],
            "open": [True, False, True, True],
        },
        geometry=[square, across, inside, far],
        crs=4326,
    )


def test_a_tile_holds_what_reaches_it_with_its_properties(shapes):
    tile = TileAddress(14, 6676, 13663)
    features = _decode(
        encode_tile(shapes, "things", tile, ["id", "name", "people", "share", "open"]), "things"
    )
    by_id = {f["properties"]["id"]: f for f in features}
    assert list(by_id) == ["square", "line", "point"]  # stored order; "far" is off the tile
    assert by_id["square"]["properties"] == {
        "id": "square",
        "name": "甲",
        "people": 12,
        "share": 0.25,
        "open": True,
    }
    assert by_id["line"]["properties"] == {"id": "line", "people": 0, "open": False}  # no nulls
    unit = _unit_metres(tile)
    for name in ("square", "point"):
        original = gpd.GeoSeries([shapes.geometry[shapes.id == name].iloc[0]], crs=4326)
        decoded = gpd.GeoSeries([_to_lonlat(by_id[name]["geometry"], tile)], crs=4326)
        gap = original.to_crs(3857).iloc[0].hausdorff_distance(decoded.to_crs(3857).iloc[0])
        assert gap <= unit, name  # within one tile unit of where it is
    line = shapely.geometry.shape(by_id["line"]["geometry"])
    assert line.bounds[2] == pytest.approx(TILE_EXTENT + TILE_BUFFER, abs=1)  # clipped
    assert 0 < line.bounds[1] < TILE_EXTENT / 2  # it leaves by the east edge, north of centre


def test_polygon_rings_wind_as_mvt_says(shapes):
    """MVT 4.3.4.4: an exterior ring is clockwise with y down (positive shoelace area)."""
    tile = TileAddress(14, 6676, 13663)
    raw = mapbox_vector_tile.decode(
        encode_tile(shapes, "things", tile, ["id"]),
        default_options={"y_coord_down": True, "geojson": False},
    )
    square = next(f for f in raw["things"]["features"] if f["properties"]["id"] == "square")
    ring = np.array(square["geometry"]["coordinates"][0], dtype=float)
    shoelace = np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1]) / 2
    assert shoelace > 0


def test_a_polygon_far_bigger_than_the_tile_is_cut_to_it_with_its_hole():
    """A city-wide polygon with a hole inside the tile: cut to the tile and its buffer,
    valid on the tile grid, the exterior ring wound positive and the hole negative."""
    tile = TileAddress(14, 6676, 13663)
    west, south, east, north = tile.lonlat_bounds(buffer=0)
    width, height = east - west, north - south
    hole = shapely.box(
        west + width * 0.4, south + height * 0.4, west + width * 0.6, south + height * 0.6
    )
    city = shapely.Polygon(
        shapely.box(west - 1, south - 1, east + 1, north + 1).exterior.coords,
        [hole.exterior.coords],
    )
    frame = gpd.GeoDataFrame({"id": ["city"]}, geometry=[city], crs=4326)
    raw = mapbox_vector_tile.decode(
        encode_tile(frame, "things", tile, ["id"]),
        default_options={"y_coord_down": True, "geojson": False},
    )
    rings = raw["things"]["features"][0]["geometry"]["coordinates"]
    assert len(rings) == 2

    def shoelace(ring) -> float:
        ring = np.array(ring, dtype=float)
        return np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1]) / 2

    assert shoelace(rings[0]) > 0 > shoelace(rings[1])
    cut = shapely.Polygon(rings[0], [rings[1]])
    assert cut.is_valid
    edge = TILE_EXTENT + TILE_BUFFER
    assert cut.bounds == pytest.approx((-TILE_BUFFER, -TILE_BUFFER, edge, edge), abs=1)
    side = TILE_EXTENT + 2 * TILE_BUFFER
    assert cut.area == pytest.approx(side**2 - (TILE_EXTENT * 0.2) ** 2, rel=0.01)


def test_a_tile_nothing_reaches_is_empty(shapes):
    assert encode_tile(shapes, "things", TileAddress(14, 0, 0), ["id"]) == b""
    assert encode_tile(shapes.iloc[:0], "things", TileAddress(14, 6676, 13663), ["id"]) == b""


def _densest_tile(frame: gpd.GeoDataFrame, zoom: int) -> int:
    """Features in the fullest tile of ``zoom`` (by representative point), by morecantile."""
    points = frame.geometry.representative_point()
    tiles = Counter(WEB_MERCATOR.tile(p.x, p.y, zoom) for p in points)
    return max(tiles.values())


@pytest.mark.parametrize("per_tile", [5, 40, 150])
def test_the_first_zoom_within_a_feature_budget_is_the_lowest_such(per_tile):
    """A dense town and a sparse countryside: from the zoom found no tile holds more than
    the budget, one level out some tile does (morecantile's tiles as the check)."""
    generator = np.random.default_rng(7)
    town = generator.normal((120.3, 31.5), 0.01, size=(300, 2))
    country = generator.uniform((119.8, 31.0), (120.8, 32.0), size=(200, 2))
    frame = gpd.GeoDataFrame(geometry=shapely.points(np.vstack([town, country])), crs=4326)
    zoom = first_zoom_within(frame, per_tile)
    assert 0 < zoom <= MAX_ZOOM
    assert _densest_tile(frame, zoom) <= per_tile < _densest_tile(frame, zoom - 1)


def test_lines_count_once_at_their_inside_point_and_few_features_draw_from_zoom_0():
    roads = gpd.GeoDataFrame(
        geometry=[
            LineString([(120.0 + i * 0.01, 31.0), (120.0 + i * 0.01, 31.2)]) for i in range(9)
        ],
        crs=4326,
    )
    assert first_zoom_within(roads, 9) == 0
    zoom = first_zoom_within(roads, 3)
    assert _densest_tile(roads, zoom) <= 3 < _densest_tile(roads, zoom - 1)
    assert first_zoom_within(roads.iloc[:0], 1) == 0


# --- both stores -----------------------------------------------------------------------


def _demo_tiles(store, layer: str) -> list[TileAddress]:
    """A tile at the middle of the layer's extent at zooms 11, 13 and 15, and one at 15
    at its south-west corner."""
    west, south, east, north = store.extent(layer)
    tiles = []
    for zoom, lon, lat in [
        (11, (west + east) / 2, (south + north) / 2),
        (13, (west + east) / 2, (south + north) / 2),
        (15, west + (east - west) * 0.3, south + (north - south) * 0.4),
    ]:
        grid = WEB_MERCATOR.tile(lon, lat, zoom)
        tiles.append(TileAddress(zoom, grid.y, grid.x))
    return tiles


@pytest.fixture(scope="module")
def stores(catalog, demo_store):
    from geo_service.data.stores import open_store
    from tests.support import DATA_DIR

    opened = {kind: open_store(demo_store(kind), catalog, DATA_DIR) for kind in ("file", "postgis")}
    yield opened
    for store in opened.values():
        getattr(store, "close", lambda: None)()


@pytest.mark.postgis
@pytest.mark.parametrize("layer", ["compounds", "roads", "service_centres", "communities"])
def test_both_stores_make_the_same_tiles(stores, layer):
    """The same features with the same properties, and the same shapes within the
    simplification's tolerance and a tile unit or two (each store cuts, snaps and simplifies
    in its own order), as the features the tile's box holds."""
    file_store, postgis = stores["file"], stores["postgis"]
    spec = file_store.catalog.get(layer)
    properties = [spec.id_property, *[p for p in spec.property_names if p != spec.id_property][:3]]
    checked = 0
    for tile in _demo_tiles(file_store, layer):
        expected = file_store.query(layer, bbox=tile.lonlat_bounds())
        from_file = file_store.vector_tile(layer, tile, properties)
        from_postgis = postgis.vector_tile(layer, tile, properties)
        if expected.empty:
            assert from_file == b"" and from_postgis == b""
            continue
        ours = {f["properties"][spec.id_property]: f for f in _decode(from_file, layer)}
        theirs = {f["properties"][spec.id_property]: f for f in _decode(from_postgis, layer)}
        assert set(ours) == set(theirs) == set(expected[spec.id_property])
        for feature_id, feature in ours.items():
            assert feature["properties"] == theirs[feature_id]["properties"]
            mine = shapely.geometry.shape(feature["geometry"])
            other = shapely.geometry.shape(theirs[feature_id]["geometry"])
            assert mine.hausdorff_distance(other) <= SIMPLIFY_UNITS + 3, (layer, tile, feature_id)
        checked += len(ours)
    assert checked > 0
