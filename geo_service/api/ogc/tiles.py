"""OGC API - Tiles (OGC 20-057) documents for a collection's vector tiles: the tile matrix
set, the list of a collection's tilesets, one tileset's metadata, and what a tile request
asks for (its properties and filters)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from threading import Lock

from starlette.datastructures import QueryParams

from geo_service.api.ogc.query import parse_value
from geo_service.data.catalog import LayerSpec
from geo_service.data.vector_tiles import (
    MAX_ZOOM,
    MVT_MEDIA_TYPE,
    TILE_MATRIX_SET,
    TILE_MATRIX_SET_ID,
    TILE_MATRIX_SET_URI,
    tiles_covering,
)
from geo_service.errors import InvalidQuery, TileNotFound

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
]
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
_GEOMETRY_DIMENSION = {"Point": 0, "LineString": 1, "Polygon": 2}
#: Query parameters of a tile besides the layer's properties (filters).
TILE_PARAMETERS = {"properties", "f"}


def check_tile_matrix_set(tile_matrix_set_id: str) -> None:
    """:class:`TileNotFound` unless ``tile_matrix_set_id`` is the one we serve."""
    if tile_matrix_set_id != TILE_MATRIX_SET_ID:
        raise TileNotFound(
            f"tile matrix set {tile_matrix_set_id!r} is not served: use {TILE_MATRIX_SET_ID}"
        )


def tile_matrix_sets_document(base: str) -> dict:
    """``/tileMatrixSets``: the one tile matrix set."""
    return {
        "tileMatrixSets": [
            {
                "id": TILE_MATRIX_SET_ID,
                "title": "Google Maps Compatible for the World",
                "uri": TILE_MATRIX_SET_URI,
                "links": [
                    {
                        "rel": "self",
                        "type": "application/json",
                        "title": "The tile matrix set",
                        "href": f"{base}tileMatrixSets/{TILE_MATRIX_SET_ID}",
                    }
                ],
            }
        ]
    }


def tile_matrix_set_document() -> dict:
    """``/tileMatrixSets/WebMercatorQuad``: its definition (OGC 17-083r4 JSON), with the
    names of version 1.0 beside (``identifier``, ``supportedCRS``, ``boundingBox``,
    ``topLeftCorner``) for clients that read only those, such as GDAL before 3.7."""
    document = json.loads(TILE_MATRIX_SET.model_dump_json(exclude_none=True, by_alias=True))
    edge = 20037508.342789244
    document |= {
        "identifier": document["id"],
        "supportedCRS": document["crs"],
        "boundingBox": {
            "crs": document["crs"],
            "lowerLeft": [-edge, -edge],
            "upperRight": [edge, edge],
            "lowerCorner": [-edge, -edge],
            "upperCorner": [edge, edge],
        },
    }
    for matrix in document["tileMatrices"]:
        matrix |= {"identifier": matrix["id"], "topLeftCorner": matrix["pointOfOrigin"]}
    return document


def _item_template(base: str, spec: LayerSpec) -> str:
    return (
        f"{base}collections/{spec.id}/tiles/{TILE_MATRIX_SET_ID}/"
        "{tileMatrix}/{tileRow}/{tileCol}"
    )


def _tileset_links(base: str, spec: LayerSpec) -> list[dict]:
    return [
        {
            "rel": "self",
            "type": "application/json",
            "title": "This tileset",
            "href": f"{base}collections/{spec.id}/tiles/{TILE_MATRIX_SET_ID}",
        },
        {
            "rel": REL_TILING_SCHEME,
            "type": "application/json",
            "title": "The tile matrix set",
            "href": f"{base}tileMatrixSets/{TILE_MATRIX_SET_ID}",
        },
        {
            "rel": "item",
            "type": MVT_MEDIA_TYPE,
            "title": "A tile (Mapbox Vector Tile)",
            "href": _item_template(base, spec),
            "templated": True,
        },
    ]


def tilesets_document(base: str, spec: LayerSpec) -> dict:
    """``/collections/{id}/tiles``: the collection's one vector tileset."""
    return {
        "links": [
            {
                "rel": "self",
                "type": "application/json",
                "title": "The collection's tilesets",
                "href": f"{base}collections/{spec.id}/tiles",
            }
        ],
        "tilesets": [
            {
                "title": spec.title.en,
                "dataType": "vector",
                "crs": WEB_MERCATOR,
                "tileMatrixSetURI": TILE_MATRIX_SET_URI,
                "links": _tileset_links(base, spec),
            }
        ],
    }


def tileset_document(
    base: str, spec: LayerSpec, extent: tuple[float, float, float, float] | None
) -> dict:
    """``/collections/{id}/tiles/WebMercatorQuad``: the tileset's metadata — its one MVT
    layer and its properties, where it has data (bounding box and, for each tile matrix,
    the tiles it covers) and the tile URL template."""
    properties = {
        prop.name: {"type": prop.type, "title": (prop.title or prop.description).en}
        for prop in spec.properties
    }
    document = {
        "title": spec.title.en,
        "description": spec.description.en,
        "dataType": "vector",
        "crs": WEB_MERCATOR,
        "tileMatrixSetURI": TILE_MATRIX_SET_URI,
        "layers": [
            {
                "id": spec.id,
                "title": spec.title.en,
                "dataType": "vector",
                "geometryDimension": _GEOMETRY_DIMENSION.get(
                    spec.geometry_type.removeprefix("Multi"), 2
                ),
                "minTileMatrix": "0",
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {"type": "object", "properties": properties},
            }
        ],
        "links": _tileset_links(base, spec),
    }
    if extent is not None:
        document["boundingBox"] = {
            "lowerLeft": list(extent[:2]),
            "upperRight": list(extent[2:]),
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
        document["tileMatrixSetLimits"] = [
            dict(
                zip(
                    ("minTileCol", "minTileRow", "maxTileCol", "maxTileRow"),
                    tiles_covering(extent, zoom),
                    strict=True,
                ),
                tileMatrix=str(zoom),
            )
            for zoom in range(MAX_ZOOM + 1)
        ]
    return document


@dataclass(frozen=True)
class TileQuery:
    """What a tile request asks for: each feature's ``properties`` (the layer's id first;
    default: the id alone) and property ``filters`` (``name=value``)."""

    properties: tuple[str, ...]
    filters: Mapping[str, object] = field(default_factory=dict)


def parse_tile_query(params: QueryParams, spec: LayerSpec) -> TileQuery:
    """Check a tile request's parameters against the layer's schema."""
    names = {p.name: p for p in spec.properties}
    unknown = sorted(set(params.keys()) - TILE_PARAMETERS - set(names))
    if unknown:
        raise InvalidQuery(
            f"unknown parameter(s): {', '.join(unknown)}; a tile takes properties= and "
            f"filters on the properties of {spec.id!r}: {', '.join(names)}"
        )
    if params.get("f", "mvt") != "mvt":
        raise InvalidQuery("a tile is a Mapbox Vector Tile: f=mvt or none")
    asked = tuple(p for p in params.get("properties", "").split(",") if p)
    missing = [p for p in asked if p not in names]
    if missing:
        raise InvalidQuery(f"unknown properties: {', '.join(missing)}")
    filters = {name: parse_value(names[name], params[name]) for name in params if name in names}
    return TileQuery(tuple(dict.fromkeys([spec.id_property, *asked])), filters)


class TileCache:
    """Encoded tiles by layer version and request, least recently used out past
    ``max_bytes``: a tile is made once per version of its layer."""

    def __init__(self, max_bytes: int = 64 * 1024**2):
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: tuple, tile: bytes) -> None:
        with self._lock:
            if key in self._tiles or len(tile) > self.max_bytes:
                return
            self._tiles[key] = tile
            self._bytes += len(tile)
            while self._bytes > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)
