"""The ``roads`` layer from OpenStreetMap ways: which ways pedestrians use, and the split
of every kept way at the nodes it shares with another kept way.

Node identity is coordinate identity: GDAL's OSM driver gives each way its nodes'
coordinates (to 1e-7 degree, exactly as stored), so a node shared by two ways has the same
coordinates bit for bit in both, and two ways that cross without a common node (a bridge
over a street) share no vertex and stay apart. Two distinct nodes mapped at exactly the same
position (a "duplicate node" error in the OSM validators) would count as one junction, as
they do in :func:`geo_service.analysis.network.build_walk_graph` anyway.
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.importing.osm_mapping import RoadRules
from geo_service.importing.osm_reader import OsmLayers

KEPT = ""
_SIDEWALK_VALUES = ("both", "left", "right", "yes")
_SIDEWALK_KEYS = ("sidewalk:both", "sidewalk:left", "sidewalk:right")


def walkable_reasons(frame: pd.DataFrame, rules: RoadRules) -> np.ndarray:
    """Why each ``highway=*`` row is not walked (``""`` where it is): ``foot=no``,
    ``access=private``, ``highway=motorway``, ``highway=cycleway without foot access``..."""

    def tag_in(key: str, values) -> np.ndarray:
        return np.array(frame[key].isin(list(values)), dtype=bool)

    highway = frame["highway"].to_numpy(dtype=object)
    foot_ok = tag_in("foot", rules.foot_allowed)
    sidewalk = tag_in("sidewalk", _SIDEWALK_VALUES)
    for key in _SIDEWALK_KEYS:
        sidewalk |= tag_in(key, ["yes"])
    walkable = (
        tag_in("highway", rules.walkable)
        | (tag_in("highway", rules.walkable_if_foot_allowed) & foot_ok)
        | (tag_in("highway", rules.walkable_if_sidewalk) & sidewalk)
    )
    conditional = tag_in("highway", [*rules.walkable_if_foot_allowed, *rules.walkable_if_sidewalk])
    reasons = np.full(len(frame), KEPT, dtype=object)
    for rows, reason in [
        (~walkable & conditional, "highway={} without foot access"),
        (~walkable & ~conditional, "highway={} not walkable"),
    ]:
        reasons[rows] = [reason.format(h) for h in highway[rows]]
    for rows, key in [
        (tag_in("access", rules.access_forbidden) & ~foot_ok, "access"),
        (tag_in("foot", rules.foot_forbidden), "foot"),
        (tag_in("highway", rules.never), "highway"),
    ]:  # later reasons override earlier ones
        reasons[rows] = [f"{key}={value}" for value in frame[key].to_numpy(dtype=object)[rows]]
    return reasons


def walkable_ways(layers: OsmLayers, rules: RoadRules) -> tuple[gpd.GeoDataFrame, Counter]:
    """Walkable ways as lines, and area highways (``area=yes`` ways, multipolygon
    relations) as their outlines, in EPSG:4326; and a count of the dropped ones by reason.

    Columns ``key`` (``w123``/``r45``), ``osm_id``, ``road_class``, ``name``, ``name:en``,
    ``name:zh``, ``bridge``, ``tunnel``, ``area`` (True for outlines).
    """
    dropped: Counter[str] = Counter()
    parts = []
    for frame, is_area in ((layers.lines, False), (layers.multipolygons, True)):
        frame = frame[frame["highway"].notna()]
        reasons = walkable_reasons(frame, rules)
        dropped.update(reasons[reasons != KEPT])
        frame = frame[reasons == KEPT]
        geometry = frame.geometry.to_numpy()
        if is_area:
            geometry = shapely.boundary(geometry)
        parts.append(
            pd.DataFrame(
                {
                    "key": frame["key"].to_numpy(dtype=object),
                    "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
                    "road_class": frame["highway"].to_numpy(dtype=object),
                    "name": frame["name"].to_numpy(dtype=object),
                    "name:en": frame["name:en"].to_numpy(dtype=object),
                    "name:zh": frame["name:zh"].to_numpy(dtype=object),
                    "bridge": _flag(frame["bridge"]),
                    "tunnel": _flag(frame["tunnel"]),
                    "area": np.full(len(frame), is_area),
                    "geometry": geometry,
                }
            )
        )
    ways = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(ways, geometry="geometry", crs=STORAGE_CRS), dropped


def _flag(values: pd.Series) -> np.ndarray:
    """A bridge=* / tunnel=* tag as a bool: any value but ``no`` (``yes``, ``viaduct``,
    ``building_passage``, ...) is True."""
    values = values.to_numpy(dtype=object)
    return np.array([v is not None and v != "no" for v in values], dtype=bool)


def clip_lines(lines: np.ndarray, area: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The LineString parts of ``lines`` inside ``area``, and the index of the line each
    came from. Lines wholly inside are returned untouched (their vertices unchanged)."""
    lines = np.asarray(lines, dtype=object)
    shapely.prepare(area)
    inside = shapely.covered_by(lines, area)
    crossing = np.flatnonzero(~inside & shapely.intersects(lines, area))
    clipped = lines.copy()
    clipped[crossing] = shapely.intersection(lines[crossing], area)
    keep = inside.copy()
    keep[crossing] = True
    parts, owner = shapely.get_parts(clipped[keep], return_index=True)
    owner = np.flatnonzero(keep)[owner]
    is_line = shapely.get_type_id(parts) == 1
    return parts[is_line], owner[is_line]


def split_at_shared_nodes(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split LineStrings at every inner vertex that another line, or the same line
    elsewhere, also has; return the pieces and the index of the line each came from.

    A closed line's last vertex is its first and counts once. Repeated consecutive
    vertices are dropped first.
    """
    lines = np.asarray(lines, dtype=object)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    repeat = np.r_[False, (owner[1:] == owner[:-1]) & (coords[1:] == coords[:-1]).all(axis=1)]
    coords, owner = coords[~repeat], owner[~repeat]
    enough = np.bincount(owner, minlength=len(lines))[owner] >= 2  # a line needs 2 vertices
    coords, owner = coords[enough], owner[enough]
    if not len(coords):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    closed = np.zeros(len(lines), dtype=bool)
    ends = coords[first], coords[last]
    closed[owner[first]] = (ends[0] == ends[1]).all(axis=1)
    _, vertex = np.unique(coords, axis=0, return_inverse=True)
    vertex = vertex.ravel()
    counted = ~(last & closed[owner])
    uses = np.bincount(vertex[counted], minlength=vertex.max() + 1)
    split = (uses[vertex] >= 2) & ~first & ~last
    copies = 1 + split.astype(np.int64)
    position = np.cumsum(copies) - copies  # index of each vertex's first copy
    starts = np.zeros(int(copies.sum()), dtype=bool)
    starts[position[first]] = True
    starts[position[split] + 1] = True
    piece = np.cumsum(starts) - 1
    pieces = shapely.linestrings(np.repeat(coords, copies, axis=0), indices=piece)
    return pieces, np.repeat(owner, copies)[starts]


def build_roads(
    ways: gpd.GeoDataFrame, district: shapely.Geometry, metric_crs
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The ``roads`` layer: ``ways`` (from :func:`walkable_ways`) clipped to ``district``
    (lon/lat), split junction to junction, ids ``w123-0``, ``w123-1``, ... in order along
    each way; ``length_m`` in metres in ``metric_crs``. A piece that repeats an earlier one
    exactly is dropped: ways come before area outlines, so a footway drawn along a plaza's
    edge keeps its pieces and the outline loses its copies."""
    parts, owner = clip_lines(ways.geometry.to_numpy(), district)
    pieces, part = split_at_shared_nodes(parts)
    source = ways.iloc[owner[part]].reset_index(drop=True)
    duplicate = pd.Series(shapely.to_wkb(shapely.normalize(pieces))).duplicated().to_numpy()
    keep = ~duplicate
    source, pieces = source.loc[keep].reset_index(drop=True), pieces[keep]
    number = source.groupby("key", sort=False).cumcount().to_numpy()
    roads = gpd.GeoDataFrame(
        {
            "id": source["key"].to_numpy(dtype=object) + "-" + number.astype(str),
            "osm_id": source["osm_id"].to_numpy(dtype=np.int64),
            "road_class": source["road_class"].to_numpy(dtype=object),
            "name": source["name"].to_numpy(dtype=object),
            "bridge": source["bridge"].to_numpy(dtype=bool),
            "tunnel": source["tunnel"].to_numpy(dtype=bool),
        },
        geometry=pieces,
        crs=STORAGE_CRS,
    )
    roads["length_m"] = roads.geometry.to_crs(metric_crs).length.to_numpy()
    counts = {
        "roads_ways_outside": int(len(ways) - len(np.unique(owner))),
        "roads_duplicate_pieces": int(duplicate.sum()),
        "roads": len(roads),
    }
    return roads, counts
