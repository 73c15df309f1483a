"""Mapbox Vector Tiles of a layer on the WebMercatorQuad tile grid (OGC 17-083r4): the
tile's address and bounds, and the encoding of features (EPSG:4326) into one tile.

A tile holds one MVT layer named by the layer id; each feature carries the layer's id
property and the properties asked for (MVT feature ids are integers, ours are text).
Coordinates are in tile units (``TILE_EXTENT`` to a side, y down), clipped to the tile and
a ``TILE_BUFFER`` around it so that lines and outlines run on across tile edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import numpy as np
import shapely

from geo_service.errors import TileNotFound

#: The tile matrix set of every tile we serve.
TILE_MATRIX_SET = morecantile.tms.get("WebMercatorQuad")
TILE_MATRIX_SET_ID = "WebMercatorQuad"
TILE_MATRIX_SET_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
#: Zoom levels (tile matrices) served: 0 (the world in one tile) to 22 (~4 cm a tile unit).
MAX_ZOOM = 22
#: Tile units to a tile's side, and around it (MVT's default extent and ST_AsMVT's buffer).
TILE_EXTENT = 4096
TILE_BUFFER = 64
#: Douglas-Peucker tolerance of a tile's lines and rings, topology kept (no ring or feature
#: is lost), in tile units: half a pixel of a 256-pixel tile (16 units a pixel).
SIMPLIFY_UNITS = 8.0
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class TileAddress:
    """A tile of WebMercatorQuad: ``zoom`` (tile matrix), ``row`` (y, from the north) and
    ``col`` (x, from the antimeridian)."""

    zoom: int
    row: int
    col: int

    def __post_init__(self) -> None:
        if not 0 <= self.zoom <= MAX_ZOOM:
            raise TileNotFound(f"tile matrix {self.zoom} is not served: use 0 to {MAX_ZOOM}")
        side = 2**self.zoom
        if not (0 <= self.row < side and 0 <= self.col < side):
            raise TileNotFound(
                f"tile row {self.row}, column {self.col} lie outside tile matrix {self.zoom} "
                f"(0 to {side - 1})"
            )

    @property
    def mercator_bounds(self) -> BBox:
        """minx, miny, maxx, maxy of the tile in EPSG:3857 metres."""
        return tuple(TILE_MATRIX_SET.xy_bounds(morecantile.Tile(self.col, self.row, self.zoom)))

    def lonlat_bounds(self, buffer: float = TILE_BUFFER) -> BBox:
        """minlon, minlat, maxlon, maxlat (EPSG:4326) of the tile and ``buffer`` tile units
        around it: the box to read its features from."""
        minx, miny, maxx, maxy = self.mercator_bounds
        margin = (maxx - minx) * buffer / TILE_EXTENT
        west, south = _lonlat(minx - margin, miny - margin)
        east, north = _lonlat(maxx + margin, maxy + margin)
        return (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres to lon/lat on the sphere (beyond the grid's edges too)."""
    radius = 6378137.0
    lon = math.degrees(x / radius)
    lat = math.degrees(2 * math.atan(math.exp(y / radius)) - math.pi / 2)
    return lon, lat


def tiles_covering(bbox: BBox, zoom: int) -> tuple[int, int, int, int]:
    """min col, min row, max col, max row of the tiles of ``zoom`` that a lon/lat ``bbox``
    touches (the tile matrix set limits of a layer)."""
    west, south, east, north = bbox
    first = TILE_MATRIX_SET.tile(west, north, zoom)
    last = TILE_MATRIX_SET.tile(east, south, zoom)
    return first.x, first.y, last.x, last.y


def first_zoom_within(frame: gpd.GeoDataFrame, features_per_tile: int) -> int:
    """The lowest zoom level at which no tile of WebMercatorQuad holds more than
    ``features_per_tile`` of ``frame``'s features (EPSG:4326), each counted in the tile of
    its representative point; 0 for an empty frame, :data:`MAX_ZOOM` at most.

    A map draws a big layer from its tiles from this zoom on: below it a tile would hold
    more features than a browser draws quickly (tippecanoe's ``--drop-densest-as-needed``
    answers the same question by dropping features instead).
    """
    points = shapely.point_on_surface(np.asarray(frame.geometry.values))
    points = points[~shapely.is_empty(points)]
    if len(points) <= features_per_tile:
        return 0
    lon, lat = shapely.get_x(points), np.clip(shapely.get_y(points), -85.0511, 85.0511)
    x = (lon + 180.0) / 360.0  # 0 to 1 across the grid, west to east
    y = (1.0 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / np.pi) / 2
    for zoom in range(MAX_ZOOM + 1):
        side = 2**zoom
        col = np.minimum((x * side).astype(np.int64), side - 1)
        row = np.minimum((y * side).astype(np.int64), side - 1)
        _, per_tile = np.unique(row * side + col, return_counts=True)
        if per_tile.max() <= features_per_tile:
            return zoom
    return MAX_ZOOM


def _mvt_value(value):
    """A property value as MVT takes it (text, integer, float, boolean), or None to leave
    the property out of the feature (MVT has no null)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return str(value)


def encode_tile(
    frame: gpd.GeoDataFrame, layer_name: str, tile: TileAddress, properties: Sequence[str]
) -> bytes:
    """The features of ``frame`` that reach ``tile``, as one MVT layer ``layer_name``.

    Parameters
    ----------
    frame
        Features in EPSG:4326, in the order to draw them; columns ``properties``.
    layer_name
        The MVT layer's name (the layer id).
    tile
        Where the tile is.
    properties
        The columns each feature carries (the layer's id first); missing values are left
        out of the feature.

    Returns
    -------
    bytes
        The MVT (protobuf); ``b""`` when no feature reaches the tile (an empty tile).
    """
    if frame.empty:
        return b""
    minx, miny, maxx, maxy = tile.mercator_bounds
    scale_x, scale_y = TILE_EXTENT / (maxx - minx), TILE_EXTENT / (maxy - miny)

    def to_tile_units(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - minx) * scale_x, (maxy - coords[:, 1]) * scale_y))

    # Cut to the tile in lon/lat first (a parallel and a meridian stay straight in Web
    # Mercator), so that a city-wide polygon is projected only where it meets the tile.
    near = shapely.clip_by_rect(np.asarray(frame.geometry.values), *tile.lonlat_bounds())
    mercator = gpd.GeoSeries(near, crs=frame.crs).to_crs(3857).values
    in_units = shapely.transform(np.asarray(mercator), to_tile_units)
    edge = (-TILE_BUFFER, -TILE_BUFFER, TILE_EXTENT + TILE_BUFFER, TILE_EXTENT + TILE_BUFFER)
    clipped = shapely.clip_by_rect(in_units, *edge)
    simplified = shapely.simplify(clipped, SIMPLIFY_UNITS, preserve_topology=True)
    # On the integer grid of tile units, valid there (GEOS's precision reducer) and wound as
    # MVT asks (exterior rings clockwise on the y-down grid: a positive shoelace area), so
    # the encoder need not check and mend each ring in Python.
    on_grid = shapely.orient_polygons(shapely.set_precision(simplified, 1.0), exterior_cw=False)
    # points are not clipped by clip_by_rect's box test alone: keep those inside it
    inside = shapely.intersects(on_grid, shapely.box(*edge)) & ~shapely.is_empty(on_grid)
    if not inside.any():
        return b""
    simplified = on_grid[inside]
    columns = frame.loc[inside, list(properties)].to_dict("records")
    features = [
        {
            "geometry": geometry,
            "properties": {k: m for k, v in row.items() if (m := _mvt_value(v)) is not None},
        }
        for geometry, row in zip(simplified, columns, strict=True)
    ]
    return mapbox_vector_tile.encode(
        [{"name": layer_name, "features": features}],
        default_options={
            "y_coord_down": True,
            "extents": TILE_EXTENT,
            "check_winding_order": False,
        },
    )


def tile_feature_count(tile: bytes, layer_name: str) -> int:
    """How many features of layer ``layer_name`` an encoded tile holds."""
    if not tile:
        return 0
    return len(mapbox_vector_tile.decode(tile).get(layer_name, {}).get("features", []))
