"""The CPU-bound work the compute pool runs (:mod:`geo_service.api.compute`).

Each function takes the coverage context first (the worker's own, inherited by fork)
and small, picklable arguments; its answer is pickled back. Answers sent as they are
come back encoded (JSON or GeoJSON bytes), so that the serving process only forwards them.
"""

from __future__ import annotations

import geopandas as gpd
from fastapi.responses import JSONResponse

from geo_service.analysis.circles import area_circles, facility_circles
from geo_service.analysis.coverage import access_points
from geo_service.analysis.facility_sets import display_sets
from geo_service.analysis.planning import SitingQuestion, site_facilities
from geo_service.analysis.whatif import what_if
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.data.geojson_io import feature_collection_text
from geo_service.data.scenario_change import parse_scenario


def answer_what_if(context, added: gpd.GeoDataFrame, removed: list[str]) -> dict:
    """The what-if: ``added`` sites (metric CRS of the walks) and ``removed`` centre ids."""
    return what_if(context.whatif, added, removed)


def what_if_json(context, document: dict) -> bytes:
    """The what-if asked by ``document`` (``{"add": FeatureCollection, "remove": [ids]}``,
    checked here: InvalidQuery if it is not one) as the JSON bytes of the response."""
    added, removed = parse_scenario(document)
    added = to_metric(added, context.whatif.graph.crs)
    return JSONResponse(answer_what_if(context, added, removed)).body


def circles_geojson(
    context, feature: gpd.GeoDataFrame, id_property: str, feature_id: str, name: str
) -> bytes:
    """The 5-, 10- and 15-minute service circles of one facility (``feature``, EPSG:4326:
    its doors or its point) along the streets, as GeoJSON bytes in EPSG:4326."""
    points = access_points(to_metric(feature, context.graph.crs), id_property)
    polygons = facility_circles(context.graph, points.geometry.to_numpy(), context.params)
    circles = context.params.circles
    frame = gpd.GeoDataFrame(
        {
            "id": [f"{feature_id}-{c.minutes}" for c in circles],
            "facility_id": feature_id,
            "minutes": [c.minutes for c in circles],
            "distance_m": [c.distance_m for c in circles],
        },
        geometry=polygons,
        crs=context.graph.crs,
    ).to_crs(STORAGE_CRS)
    text = feature_collection_text(
        frame, name=name, description="Service circles along the walking network"
    )
    return text.encode("utf-8")


def area_circles_geojson(
    context, area: gpd.GeoDataFrame, set_key: str, area_id: str, name: str
) -> bytes:
    """The 5-, 10- and 15-minute service circles of facility set ``set_key`` within one
    area (``area``: its one-row frame, EPSG:4326), as GeoJSON bytes in EPSG:4326, with the
    share of the area each covers."""
    polygon = to_metric(area, context.graph.crs).geometry.iloc[0]
    polygons = area_circles(context.graph, context.access.sets[set_key], polygon, context.params)
    circles = context.params.circles
    facility_set = next(s for s in display_sets(context.profile.analysis) if s.key == set_key)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"{area_id}-{set_key}-{c.minutes}" for c in circles],
            "area_id": area_id,
            "facility_set": set_key,
            "title_zh": [f"{facility_set.title_zh} {c.minutes}分钟生活圈" for c in circles],
            "title_en": [f"{facility_set.title_en}: {c.minutes}-minute circle" for c in circles],
            "minutes": [c.minutes for c in circles],
            "distance_m": [c.distance_m for c in circles],
            "area_km2": [p.area / 1e6 for p in polygons],
            "share_of_area": [p.area / polygon.area if polygon.area else None for p in polygons],
        },
        geometry=polygons,
        crs=context.graph.crs,
    ).to_crs(STORAGE_CRS)
    text = feature_collection_text(
        frame,
        name=name,
        description="Service circles along the walking network, cut to the area "
        "(for display: coverage is decided by network distance)",
    )
    return text.encode("utf-8")


def answer_siting(context, question: SitingQuestion, district, offer: dict) -> dict:
    """New sites for ``question`` within ``district`` (a polygon in metres, or None)."""
    return site_facilities(context.whatif, question, district=district, offer=offer)
