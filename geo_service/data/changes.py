"""How two versions of a layer differ (what an import or edit would change, what a
version changed): features added, changed, removed, unchanged, matched by the layer's id
property.

Geometries are compared as they would be stored (coordinates rounded to the GeoJSON
writer's 7 decimals, ~1 cm) and within one unit of the last decimal, so a round trip
through another format or CRS is not a change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import COORDINATE_PRECISION, round_coordinates
from geo_service.data.values import is_blank

#: Coordinates this close (degrees) after rounding are the same: one unit of the last
#: stored decimal, so a reprojection that flips the 7th decimal is not a change.
_SAME_DEG = 1.01 * 10.0**-COORDINATE_PRECISION
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Changes:
    """Ids added, changed (with the properties, or ``geometry``, that differ), removed and
    unchanged; ``removed_rejected`` are removed ids that were in the file but rejected;
    ``shift_m`` how far each changed geometry's centroid moved, metres on the ellipsoid."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed_rejected: list[str] = field(default_factory=list)
    shift_m: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts and ids."""
        return {
            "added": {"count": len(self.added), "ids": self.added},
            "changed": {
                "count": len(self.changed),
                "ids": self.changed,
                "shift_m": {i: round(m, 3) for i, m in self.shift_m.items()},
            },
            "removed": {
                "count": len(self.removed),
                "ids": self.removed,
                "rejected_in_file": self.removed_rejected,
            },
            "unchanged": {"count": len(self.unchanged), "ids": self.unchanged},
        }


def _value(value: Any) -> Any:
    if is_blank(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _differ(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return not math.isclose(a, b, rel_tol=1e-12)  # decimal text round trips
    return a != b


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shift_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = shapely.centroid(a), shapely.centroid(b)
    _, _, distance = _GEOD.inv(
        shapely.get_x(a), shapely.get_y(a), shapely.get_x(b), shapely.get_y(b)
    )
    return np.asarray(distance, dtype=float)


def _ids(frame: gpd.GeoDataFrame, id_property: str) -> list[str]:
    return [str(_value(v)) for v in frame[id_property]]


def _same_geometries(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # normalised: a Shapefile turns rings clockwise, other formats start them elsewhere
    a, b = shapely.normalize(round_coordinates(a)), shapely.normalize(round_coordinates(b))
    return shapely.equals_exact(a, b, tolerance=_SAME_DEG)


def compare(
    spec: LayerSpec,
    accepted: gpd.GeoDataFrame,
    current: gpd.GeoDataFrame | None,
    *,
    rejected_ids: set[str] = frozenset(),  # type: ignore[assignment]
) -> Changes:
    """How ``accepted`` (checked, catalog types) differs from ``current`` (the layer as
    stored; None when it has no data yet), by ``spec.id_property``."""
    new_ids = _ids(accepted, spec.id_property)
    if current is None or current.empty:
        return Changes(added=new_ids)
    old_ids = _ids(current, spec.id_property)
    old_position = {feature_id: i for i, feature_id in enumerate(old_ids)}
    pairs = [(i, old_position[f]) for i, f in enumerate(new_ids) if f in old_position]
    new_rows = np.array([i for i, _ in pairs], dtype=int)
    old_rows = np.array([j for _, j in pairs], dtype=int)
    new_geometries = accepted.geometry.to_numpy()[new_rows]
    old_geometries = current.geometry.to_numpy()[old_rows]
    geometry_same = _same_geometries(new_geometries, old_geometries)
    shifts = _shift_m(new_geometries[~geometry_same], old_geometries[~geometry_same])
    shift_of = dict(zip(np.flatnonzero(~geometry_same).tolist(), shifts.tolist(), strict=True))
    names = [n for n in spec.property_names if n != spec.id_property]
    columns = {  # each property's values of the pairs, new and old, as Python values
        name: (
            [_value(v) for v in accepted[name].to_numpy()[new_rows]],
            [_value(v) for v in current[name].to_numpy()[old_rows]]
            if name in current.columns
            else [None] * len(pairs),
        )
        for name in names
    }
    changes = Changes()
    for k, (i, _) in enumerate(pairs):
        differ = [name for name in names if _differ(columns[name][0][k], columns[name][1][k])]
        if not geometry_same[k]:
            differ.append("geometry")
            changes.shift_m[new_ids[i]] = shift_of[k]
        if differ:
            changes.changed[new_ids[i]] = differ
        else:
            changes.unchanged.append(new_ids[i])
    kept = set(new_ids)
    changes.added.extend(f for f in new_ids if f not in old_position)
    changes.removed.extend(f for f in old_ids if f not in kept)
    changes.removed_rejected.extend(f for f in changes.removed if f in rejected_ids)
    return changes
