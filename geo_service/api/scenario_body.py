"""Read and check a what-if request body: GeoJSON of proposed sites, ids to close.

Every problem is a 4xx with a message: wrong content type (415), malformed or deeply
nested JSON, not GeoJSON, an invalid geometry (unclosed or self-intersecting ring),
coordinates that are not finite lon/lat (400).
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.errors import InvalidQuery, UnsupportedMediaType

MAX_SITES = 50
JSON_TYPES = ("application/json", "application/geo+json")

_POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": "number", "minimum": -180, "maximum": 180},
}
_POINT = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {"type": {"type": "string", "enum": ["Point"]}, "coordinates": _POSITION},
}
_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Polygon"]},
        "coordinates": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "array", "minItems": 4, "items": _POSITION},
        },
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "properties": {
            "type": "object",
            "description": "What the proposed centre offers: its level and services (keys of "
            "the district's vocabularies); they decide the life-circle types it serves.",
            "properties": {
                "level": {"type": "string"},
                "services": {"type": "array", "items": {"type": "string"}},
            },
        },
        "geometry": {"oneOf": [_POINT, _POLYGON]},
    },
}
#: The what-if body, for the OpenAPI document (the route checks more: valid geometry).
SCENARIO_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "add": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "maxItems": MAX_SITES, "items": _FEATURE},
            },
        },
        "remove": {"type": "array", "items": {"type": "string"}},
    },
}

#: A scenario to save: a name and the change.
SAVED_SCENARIO_SCHEMA = {
    **SCENARIO_SCHEMA,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        **SCENARIO_SCHEMA["properties"],
    },
}


def json_body(schema: dict) -> dict:
    """The OpenAPI ``requestBody`` of a route that reads JSON or GeoJSON of ``schema``."""
    content = {"schema": schema}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": content, "application/geo+json": content},
        }
    }


def change_document(added: gpd.GeoDataFrame, removed: list[str]) -> dict:
    """A checked change as JSON to keep: the sites (EPSG:4326, with the level and services
    stated) and the ids to close."""
    features = [
        {
            "type": "Feature",
            "id": site_id,
            "properties": {
                **({"level": level} if level else {}),
                **({"services": services.split(";")} if services else {}),
            },
            "geometry": json.loads(shape),
        }
        for site_id, level, services, shape in zip(
            added["id"],
            added["level"],
            added["services"],
            shapely.to_geojson(added.geometry.to_numpy()),
            strict=True,
        )
    ]
    return {"add": {"type": "FeatureCollection", "features": features}, "remove": list(removed)}


def parse_json(body: bytes, content_type: str) -> object:
    """The JSON document of a request body."""
    if content_type.split(";")[0].strip().lower() not in JSON_TYPES:
        raise UnsupportedMediaType(f"send {' or '.join(JSON_TYPES)}, not {content_type!r}")
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError:
        raise InvalidQuery("the JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidQuery(f"the body is not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _offer(feature: dict, index: int) -> tuple[str | None, str]:
    """A proposed centre's ``level`` and ``services`` (``;``-joined) from its properties."""
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidQuery(f"add.features[{index}].properties is an object")
    level = properties.get("level")
    if level is not None and not isinstance(level, str):
        raise InvalidQuery(f"add.features[{index}].properties.level is a level key (text)")
    services = properties.get("services") or []
    if isinstance(services, str):
        services = [s for s in services.split(";") if s]
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise InvalidQuery(f"add.features[{index}].properties.services is a list of keys")
    return level, ";".join(services)


def _geometry(feature: object, index: int) -> shapely.Geometry:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidQuery(f"add.features[{index}] is not a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Point", "Polygon"):
        raise InvalidQuery(f"add.features[{index}]: a site is a Point or a Polygon")
    try:
        shape = shapely.from_geojson(json.dumps(geometry))
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise InvalidQuery(f"add.features[{index}]: invalid geometry: {exc}") from None
    if shapely.has_z(shape):
        raise InvalidQuery(f"add.features[{index}]: positions are [lon, lat], without height")
    coords = shapely.get_coordinates(shape)
    if not len(coords) or not all(math.isfinite(v) for v in coords.ravel()):
        raise InvalidQuery(f"add.features[{index}]: coordinates must be finite numbers")
    if (abs(coords[:, 0]) > 180).any() or (abs(coords[:, 1]) > 90).any():
        raise InvalidQuery(f"add.features[{index}]: coordinates are lon/lat in degrees")
    if not shape.is_valid:
        raise InvalidQuery(
            f"add.features[{index}]: invalid geometry: {shapely.is_valid_reason(shape)}"
        )
    return shape


def parse_scenario(document: object) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Proposed sites (EPSG:4326; columns ``id``, ``level`` and ``services``, the
    ``;``-joined services it offers, from each feature's properties) and ids of centres
    to close."""
    if not isinstance(document, dict):
        raise InvalidQuery("the body is a JSON object with 'add' and/or 'remove'")
    unknown = sorted(set(document) - {"add", "remove"})
    if unknown:
        raise InvalidQuery(f"unknown fields: {', '.join(unknown)}")
    add = document.get("add", {"type": "FeatureCollection", "features": []})
    if (
        not isinstance(add, dict)
        or add.get("type") != "FeatureCollection"
        or not isinstance(add.get("features"), list)
    ):
        raise InvalidQuery("'add' is a GeoJSON FeatureCollection")
    features = add["features"]
    if len(features) > MAX_SITES:
        raise InvalidQuery(f"at most {MAX_SITES} proposed sites, got {len(features)}")
    shapes = [_geometry(feature, i) for i, feature in enumerate(features)]
    remove = document.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
        raise InvalidQuery("'remove' is a list of service centre ids")
    if not shapes and not remove:
        raise InvalidQuery("nothing to change: give 'add' sites or 'remove' ids")
    offers = [_offer(feature, i) for i, feature in enumerate(features)]
    ids = [f"proposed-{i + 1}" for i in range(len(shapes))]
    frame = {
        "id": ids,
        "level": [level for level, _ in offers],
        "services": [services for _, services in offers],
    }
    return gpd.GeoDataFrame(frame, geometry=shapes, crs=STORAGE_CRS), remove
