"""A what-if change as a document: proposed sites (GeoJSON in EPSG:4326, with the level and
services each offers) and ids of service centres to close.

The API, the command line and the reports read it with :func:`parse_scenario`, and saved
scenarios keep it as :func:`change_document` writes it. Every problem is an
:class:`~geo_service.errors.InvalidQuery` with a message: not GeoJSON, an invalid geometry
(unclosed or self-intersecting ring), coordinates that are not finite lon/lat.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.errors import InvalidQuery

#: Most proposed sites in one change.
MAX_SITES = 50


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
