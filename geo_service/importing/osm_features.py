"""Service centres, pocket parks and trails from an OpenStreetMap extract, by the rules of
the tag mapping. Geometries are lon/lat (EPSG:4326); areas and lengths are measured in the
metric CRS passed in.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from opening_hours import OpeningHours, ParserError

from geo_service.crs import STORAGE_CRS
from geo_service.importing.osm_areas import clip_polygons, inside, names
from geo_service.importing.osm_landmarks import address, phone
from geo_service.importing.osm_mapping import TagMapping
from geo_service.importing.osm_network import clip_lines
from geo_service.importing.osm_reader import OsmLayers


def valid_opening_hours(values: np.ndarray) -> np.ndarray:
    """Each ``opening_hours`` text if opening-hours-py parses it, else None."""
    result = np.full(len(values), None, dtype=object)
    for i, text in enumerate(values):
        if isinstance(text, str):
            try:
                OpeningHours(text)
            except ParserError:
                continue
            result[i] = text
    return result


def service_centres(
    layers: OsmLayers, mapping: TagMapping, district: shapely.Geometry
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Tagged nodes and areas matching a service-centre rule, with their point in
    ``district`` (areas by their point on surface).

    ``level`` and ``kind`` (``key=value`` of the rule's first key) come from the first
    matching rule; ``services`` joins, with ``;``, those of every matching rule, in mapping
    order. An ``opening_hours`` tag that opening-hours-py cannot parse is left out.
    ``address`` and ``phone`` as :func:`~geo_service.importing.osm_landmarks.address` and
    :func:`~geo_service.importing.osm_landmarks.phone` read them.
    """
    candidates = pd.concat([layers.points, layers.multipolygons], ignore_index=True)
    rules = mapping.service_centres
    hits = np.stack([rule.mask(candidates) for rule in rules], axis=1)
    matched = hits.any(axis=1)
    frame, hits = candidates[matched], hits[matched]
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    keep = inside(points, district)
    frame, hits, points = frame[keep], hits[keep], points[keep]
    first = hits.argmax(axis=1)
    keys = [next(iter(rules[r].match)) for r in first]
    kind = [f"{key}={frame[key].iloc[row]}" for row, key in enumerate(keys)]
    services = [
        ";".join(dict.fromkeys(s for r in np.flatnonzero(row) for s in rules[r].services))
        for row in hits
    ]
    tagged_hours = frame["opening_hours"].to_numpy(dtype=object)
    hours = valid_opening_hours(tagged_hours)
    centres = gpd.GeoDataFrame(
        {
            "id": frame["key"].to_numpy(dtype=object),
            "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
            "osm_type": frame["osm_type"].to_numpy(dtype=object),
            **names(frame),
            "level": np.array([rules[r].level for r in first], dtype=object),
            "kind": np.array(kind, dtype=object),
            "services": np.array(services, dtype=object),
            "opening_hours": hours,
            "address": address(frame),
            "phone": phone(frame),
        },
        geometry=points,
        crs=STORAGE_CRS,
    )
    counts = {
        "service_centres_matched": int(matched.sum()),
        "service_centres_outside": int((~keep).sum()),
        "service_centres": len(centres),
        "opening_hours_dropped": int((~pd.isna(tagged_hours) & pd.isna(hours)).sum()),
    }
    return centres, counts


def pocket_parks(
    layers: OsmLayers, mapping: TagMapping, district: shapely.Geometry, metric_crs
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Park and garden areas matching a pocket-park rule, clipped to ``district``;
    ``area_m2`` of the clipped part in ``metric_crs``, at most ``max_area_m2``."""
    candidates = layers.multipolygons
    rules = mapping.pocket_parks
    matched = np.logical_or.reduce([rule.mask(candidates) for rule in rules.rules])
    frame = candidates[matched]
    geometry = clip_polygons(frame.geometry.to_numpy(), district)
    present = ~pd.isna(geometry)
    frame, geometry = frame[present], geometry[present]
    parks = gpd.GeoDataFrame(
        {
            "id": frame["key"].to_numpy(dtype=object),
            "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
            "osm_type": frame["osm_type"].to_numpy(dtype=object),
            **names(frame),
        },
        geometry=geometry,
        crs=STORAGE_CRS,
    )
    parks["area_m2"] = parks.geometry.to_crs(metric_crs).area.to_numpy()
    small = np.ones(len(parks), dtype=bool)
    if rules.max_area_m2 is not None:
        small = parks["area_m2"].to_numpy() <= rules.max_area_m2
    parks = parks[small].reset_index(drop=True)
    counts = {
        "pocket_parks_matched": int(matched.sum()),
        "pocket_parks_outside": int((~present).sum()),
        "pocket_parks_too_large": int((~small).sum()),
        "pocket_parks": len(parks),
    }
    return parks, counts


def trails(
    ways: gpd.GeoDataFrame,
    layers: OsmLayers,
    mapping: TagMapping,
    district: shapely.Geometry,
    metric_crs,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Named walkable ways of the trail highway values (``ways`` from
    :func:`~geo_service.importing.osm_network.walkable_ways`) and route relations of the
    trail route values, clipped to ``district``. One feature per way or relation, ``w123``;
    one per piece, ``w123-0``, ``w123-1``, ..., where clipping leaves it in pieces."""
    rules = mapping.trails
    named = ways[~ways["area"] & ways["road_class"].isin(rules.highway) & ways["name"].notna()]
    routes = layers.multilinestrings[layers.multilinestrings["route"].isin(rules.routes)]
    frame = pd.concat(
        [
            named[["key", "osm_id", "name", "name:en", "name:zh", "geometry"]],
            routes[["key", "osm_id", "name", "name:en", "name:zh", "geometry"]],
        ],
        ignore_index=True,
    )
    parts, owner = clip_lines(frame.geometry.to_numpy(), district)
    kept, group = np.unique(owner, return_inverse=True)
    merged = np.zeros(0, dtype=object)
    if len(parts):
        merged = shapely.line_merge(shapely.multilinestrings(parts, indices=group))
    pieces, piece_owner = shapely.get_parts(merged, return_index=True)
    source = frame.iloc[kept[piece_owner]].reset_index(drop=True)
    number = source.groupby("key", sort=False).cumcount().to_numpy()
    several = source.groupby("key", sort=False)["key"].transform("size").to_numpy() > 1
    ids = source["key"].to_numpy(dtype=object)
    ids = np.where(several, ids + "-" + number.astype(str), ids)
    lines = gpd.GeoDataFrame(
        {
            "id": ids,
            "osm_id": source["osm_id"].to_numpy(dtype=np.int64),
            **names(source),
        },
        geometry=pieces,
        crs=STORAGE_CRS,
    )
    lines["length_m"] = lines.geometry.to_crs(metric_crs).length.to_numpy()
    counts = {
        "trails_matched": len(frame),
        "trails_outside": int(len(frame) - len(kept)),
        "trails": len(lines),
    }
    return lines, counts
