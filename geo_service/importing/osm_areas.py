"""The district and its communities from an OpenStreetMap extract, and the geometry helpers
every imported layer shares: names with fallbacks, clipping to the district, and the
community each feature lies in. Geometries are lon/lat (EPSG:4326) throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.errors import ImportFailed
from geo_service.importing.osm_reader import polygonal


@dataclass(frozen=True)
class District:
    """The area everything is clipped to, and where it came from."""

    geometry: shapely.MultiPolygon
    id: str
    name: str | None = None
    name_en: str | None = None
    name_zh: str | None = None
    admin_level: int | None = None
    source: str = "hull"  # "boundary", "bbox", "relation" or "hull"

    def describe(self) -> str:
        """Where the district came from, in words."""
        if self.source == "relation":
            return (
                f"the district is relation {self.id} ({self.name}, admin_level {self.admin_level})"
            )
        where = {"boundary": "the boundary given", "bbox": "the bbox given"}
        return f"the district is {where.get(self.source, 'the convex hull of the walkable roads')}"

    def frame(self) -> gpd.GeoDataFrame:
        """The one-feature ``district`` layer."""
        row = {
            "id": self.id,
            "name": self.name,
            "name_en": self.name_en,
            "name_zh": self.name_zh,
        }
        return gpd.GeoDataFrame([row], geometry=[self.geometry], crs=STORAGE_CRS)


def names(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """``name``, ``name_en`` (``name:en``, else ``name``), ``name_zh`` (``name:zh``, else
    ``name``) of each row, None where untagged."""
    name = frame["name"].to_numpy(dtype=object)
    english = frame["name:en"].to_numpy(dtype=object)
    chinese = frame["name:zh"].to_numpy(dtype=object)
    return {
        "name": name,
        "name_en": np.where(pd.isna(english), name, english),
        "name_zh": np.where(pd.isna(chinese), name, chinese),
    }


def admin_boundaries(multipolygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``boundary=administrative`` polygons with a numeric ``admin_level``."""
    frame = multipolygons[multipolygons["boundary"] == "administrative"]
    level = pd.to_numeric(frame["admin_level"], errors="coerce")
    frame = frame.assign(admin_level=level)[level.notna()]
    return frame.astype({"admin_level": np.int64})


def resolve_district(
    *,
    boundary: shapely.Geometry | None,
    bbox: tuple[float, float, float, float] | None,
    relation: str | int | None,
    admins: gpd.GeoDataFrame,
    roads: np.ndarray,
) -> District:
    """The district: ``boundary`` (cut to ``bbox`` when both are given), else ``bbox``, else
    the admin relation named ``relation`` (OSM id, ``r123``, or a name in any language),
    else the convex hull of the walkable roads."""
    if boundary is not None or bbox is not None:
        area = shapely.box(*bbox) if bbox is not None else None
        if boundary is not None:
            area = boundary if area is None else shapely.intersection(boundary, area)
        area = _multipolygon(area)
        if area is None:
            raise ImportFailed("the district boundary (and bbox) enclose no area")
        source = "bbox" if boundary is None else "boundary"
        return District(area, id="district", source=source)
    if relation is not None:
        return _relation_district(relation, admins)
    hull = _multipolygon(shapely.convex_hull(shapely.union_all(roads)))
    if hull is None:
        raise ImportFailed(
            "the walkable roads of the extract span no area to take as the district; "
            "give bbox, boundary or district"
        )
    return District(hull, id="district", source="hull")


def _multipolygon(geometry: shapely.Geometry | None) -> shapely.MultiPolygon | None:
    if geometry is None:
        return None
    return polygonal(np.array([shapely.make_valid(geometry)], dtype=object))[0]


def _relation_district(relation: str | int, admins: gpd.GeoDataFrame) -> District:
    wanted = str(relation).removeprefix("r")
    by_id = admins["osm_id"].astype(str) == wanted
    by_name = admins[["name", "name:en", "name:zh"]].eq(str(relation)).any(axis=1)
    match = admins[(by_id & (admins["osm_type"] == "relation")) | by_name]
    if match.empty:
        known = ", ".join(
            f"{row.name} (r{row.osm_id}, level {row.admin_level})"
            for row in admins.head(20).itertuples()
        )
        raise ImportFailed(
            f"no boundary=administrative relation {relation!r} in the extract; "
            f"there are: {known or 'none'}"
        )
    row = match.sort_values("admin_level").iloc[0]
    label = names(match.loc[[row.name]])
    return District(
        row.geometry,
        id=str(row["key"]),
        name=label["name"][0],
        name_en=label["name_en"][0],
        name_zh=label["name_zh"][0],
        admin_level=int(row["admin_level"]),
        source="relation",
    )


def communities(
    admins: gpd.GeoDataFrame, district: District, *, admin_level: int | None
) -> gpd.GeoDataFrame | None:
    """Admin boundaries below the district's level whose representative point lies in it,
    clipped to it; of the levels present the first below the district's (or
    ``admin_level``). ``None`` when there are none.

    The district's level is its relation's, else the highest level among the boundaries
    that cover nine tenths of it or more (0 if none do).
    """
    if admins.empty:
        return None
    level = district.admin_level
    if level is None:
        share = shapely.area(shapely.intersection(admins.geometry.to_numpy(), district.geometry))
        covering = admins["admin_level"][share >= 0.9 * district.geometry.area]
        level = int(covering.max()) if len(covering) else 0
    within = shapely.covered_by(admins.representative_point().to_numpy(), district.geometry)
    below = admins[within & (admins["admin_level"] > level)]
    if admin_level is not None:
        below = below[below["admin_level"] == admin_level]
    elif not below.empty:
        below = below[below["admin_level"] == below["admin_level"].min()]
    geometry = clip_polygons(below.geometry.to_numpy(), district.geometry)
    below = below[~pd.isna(geometry)]
    if below.empty:
        return None
    label = names(below)
    return gpd.GeoDataFrame(
        {
            "id": below["key"].to_numpy(dtype=object),
            "name": label["name"],
            "name_en": label["name_en"],
            "name_zh": label["name_zh"],
            "admin_level": below["admin_level"].to_numpy(dtype=np.int64),
            "osm_id": below["osm_id"].to_numpy(dtype=np.int64),
        },
        geometry=geometry[~pd.isna(geometry)],
        crs=STORAGE_CRS,
    )


def clip_polygons(polygons: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """The part of each polygon inside ``area`` as a MultiPolygon (None where none is)."""
    polygons = np.asarray(polygons, dtype=object)
    shapely.prepare(area)
    result = np.full(len(polygons), None, dtype=object)
    inside = shapely.covered_by(polygons, area)
    result[inside] = polygonal(polygons[inside])
    crossing = np.flatnonzero(~inside & shapely.intersects(polygons, area))
    result[crossing] = polygonal(shapely.intersection(polygons[crossing], area))
    return result


def inside(geometries: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    """Whether each geometry's representative point lies in ``area``."""
    shapely.prepare(area)
    return shapely.covered_by(shapely.point_on_surface(np.asarray(geometries)), area)


def community_of(geometries: np.ndarray, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """The ``id`` of the community each geometry's representative point lies in (None
    outside all; the first in layer order where communities overlap)."""
    result = np.full(len(geometries), None, dtype=object)
    if areas is None or not len(geometries):
        return result
    points = shapely.point_on_surface(np.asarray(geometries, dtype=object))
    tree = shapely.STRtree(areas.geometry.to_numpy())
    point_index, area_index = tree.query(points, predicate="covered_by")
    order = np.lexsort((area_index, point_index))
    point_index, area_index = point_index[order], area_index[order]
    found, first = np.unique(point_index, return_index=True)
    result[found] = areas["id"].to_numpy(dtype=object)[area_index[first]]
    return result
