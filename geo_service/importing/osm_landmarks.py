"""Landmarks and contact details from an OpenStreetMap extract: the named places residents
say where they are by (the town hall, a school, a station), for the locator's search, and
the address and phone of a feature where they are tagged. Geometries are lon/lat
(EPSG:4326)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.importing.osm_areas import inside, names
from geo_service.importing.osm_mapping import TagMapping
from geo_service.importing.osm_reader import OsmLayers

#: Tags whose values are a feature's other names (``;`` separates several in one tag).
ALIAS_KEYS = ("alt_name", "short_name", "official_name", "loc_name", "old_name")
#: Tags read for the address and the phone; the first tagged wins.
ADDRESS_KEYS = ("addr:full", "addr:street", "addr:housenumber")
PHONE_KEYS = ("phone", "contact:phone")
_HAN = ("\u3400", "\u9fff")


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def aliases(frame: pd.DataFrame, name: np.ndarray) -> np.ndarray:
    """Each row's other names (:data:`ALIAS_KEYS`, then ``name`` where the row's
    ``name`` is not its shown name) joined by ``;``, each once and none equal to
    ``name``; None where there are none."""
    result = np.full(len(frame), None, dtype=object)
    columns = [frame[key].to_numpy(dtype=object) for key in ALIAS_KEYS if key in frame]
    for row in range(len(frame)):
        found = dict.fromkeys(
            part.strip()
            for column in columns
            if _text(column[row])
            for part in column[row].split(";")
            if part.strip() and part.strip() != name[row]
        )
        result[row] = ";".join(found) or None
    return result


def address(frame: pd.DataFrame) -> np.ndarray:
    """Each row's address: ``addr:full``, else ``addr:street`` and ``addr:housenumber``
    (joined without a space after a Chinese street name, as 蠡湖大道1号; with one
    otherwise, as Mannerheimintie 5); None where neither is tagged."""
    result = np.full(len(frame), None, dtype=object)
    full, street, number = (
        frame[key].to_numpy(dtype=object) if key in frame else result for key in ADDRESS_KEYS
    )
    for row in range(len(frame)):
        if _text(full[row]):
            result[row] = _text(full[row])
        elif _text(street[row]):
            road, house = _text(street[row]), _text(number[row])
            space = "" if _HAN[0] <= road[-1] <= _HAN[1] else " "
            result[row] = road if house is None else f"{road}{space}{house}"
    return result


def phone(frame: pd.DataFrame) -> np.ndarray:
    """Each row's phone number (:data:`PHONE_KEYS`; the first of several), or None."""
    result = np.full(len(frame), None, dtype=object)
    for key in reversed(PHONE_KEYS):
        if key in frame:
            for row, value in enumerate(frame[key].to_numpy(dtype=object)):
                if _text(value):
                    result[row] = _text(value.split(";")[0])
    return result


def landmarks(
    layers: OsmLayers, mapping: TagMapping, district: shapely.Geometry, *, skip: set[str]
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Named nodes and areas matching a landmark rule, with their point in ``district``
    (areas by their point on surface); ``kind`` from the first matching rule.

    Objects without a name are left out (nothing to search them by), and so are those
    whose id is in ``skip`` (the service centres: found as such already).
    """
    candidates = pd.concat([layers.points, layers.multipolygons], ignore_index=True)
    rules = mapping.landmarks
    hits = (
        np.stack([rule.mask(candidates) for rule in rules], axis=1)
        if rules
        else np.zeros((len(candidates), 1), dtype=bool)
    )
    matched = hits.any(axis=1)
    named = matched & candidates["name"].map(_text).notna().to_numpy()
    keep = named & ~candidates["key"].isin(skip).to_numpy()
    frame, hits = candidates[keep], hits[keep]
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    within = inside(points, district)
    frame, hits, points = frame[within], hits[within], points[within]
    shown = names(frame)
    found = gpd.GeoDataFrame(
        {
            "id": frame["key"].to_numpy(dtype=object),
            "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
            "osm_type": frame["osm_type"].to_numpy(dtype=object),
            **shown,
            "aliases": aliases(frame, shown["name"]),
            "kind": np.array([rules[r].kind for r in hits.argmax(axis=1)], dtype=object),
        },
        geometry=points,
        crs=STORAGE_CRS,
    )
    counts = {
        "landmarks_matched": int(matched.sum()),
        "landmarks_unnamed": int((matched & ~named).sum()),
        "landmarks_already_centres": int((named & ~keep).sum()),
        "landmarks_outside": int((~within).sum()),
        "landmarks": len(found),
    }
    return found, counts
