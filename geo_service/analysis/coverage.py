"""Coverage of residents by facilities, measured along the walking network.

Pure functions: GeoDataFrames (metric CRS) and arrays in, DataFrames out. Column names come
from :func:`column`. Distances in metres, times in minutes at the run's walking speed.
The figures drawn from the access table (population-weighted statistics, gaps, the life
circle check) are in :mod:`geo_service.analysis.statistics` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.distances import AugmentedGraph, set_point_distances
from geo_service.analysis.network import SNAP_OK, WalkGraph, point_coordinates, snap_xy
from geo_service.analysis.statistics import (
    column,
    coverage_gaps,
    coverage_statistics,
    life_circle_check,
    weighted_quantile,
)
from geo_service.coverage_params import CoverageParams

__all__ = [
    "FacilitySet",
    "access_points",
    "access_table",
    "circle_of",
    "column",
    "compound_access",
    "coverage_gaps",
    "coverage_statistics",
    "entry_points",
    "life_circle_check",
    "rounded_for_display",
    "weighted_quantile",
]


@dataclass(frozen=True)
class FacilitySet:
    """Facilities of one kind: a layer, optionally filtered by property values (one value,
    or a tuple of values any of which will do) or a service."""

    key: str
    title_zh: str
    title_en: str
    layer: str
    where: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    service: str | None = None

    def select(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The rows of ``frame`` (the set's layer) that belong to the set."""
        if frame.empty:
            return frame
        mask = np.ones(len(frame), dtype=bool)
        for name, value in self.where:
            values = value if isinstance(value, tuple) else (value,)
            mask &= frame[name].isin(values).to_numpy()
        if self.service is not None:
            offered = frame["services"].fillna("").astype(str).str.split(";")
            mask &= offered.map(lambda s: self.service in s).to_numpy(dtype=bool)
        return frame[mask]


#: Largest gap (metres) between the points a line or a polygon's outline is entered at:
#: a walk reaches such a facility within half of it of its nearest point.
ENTRY_SPACING_M = 20.0


def entry_points(
    geometry: np.ndarray, *, spacing_m: float = ENTRY_SPACING_M
) -> tuple[np.ndarray, np.ndarray]:
    """Where facilities are entered (metric CRS): points as they are; a line (a trail)
    anywhere along its whole length; a polygon (a park) anywhere on its outline — as the
    line's or outline's vertices, with points added so that none is more than
    ``spacing_m`` metres from the next.

    Returns ``(n, 2)`` coordinates (metres) and the position in ``geometry`` of the
    facility each belongs to: first the points' entries, then the others'.
    """
    kind = shapely.get_type_id(geometry)
    points = np.flatnonzero(np.isin(kind, (0, 4)))
    others = np.flatnonzero(~np.isin(kind, (0, 4)))
    shapes = geometry[others]
    edges = np.where(np.isin(kind[others], (3, 6)), shapely.boundary(shapes), shapes)
    dense = shapely.segmentize(edges, spacing_m)
    coordinates, owner = shapely.get_coordinates(dense, return_index=True)
    # A ring's last vertex is its first: each entry point once per facility.
    _, first = np.unique(np.column_stack([owner, coordinates]), axis=0, return_index=True)
    keep = np.sort(first)
    singles, single_owner = shapely.get_coordinates(geometry[points], return_index=True)
    return (
        np.concatenate([singles, coordinates[keep]]).reshape(-1, 2),
        np.concatenate([points[single_owner], others[owner[keep]]]).astype(np.int64),
    )


def access_points(
    frame: gpd.GeoDataFrame, id_column: str = "id", *, spacing_m: float = ENTRY_SPACING_M
) -> gpd.GeoDataFrame:
    """:func:`entry_points` of the facilities of ``frame`` (metric CRS) as a frame:
    columns ``facility_id`` and ``geometry``."""
    xy, owner = entry_points(frame.geometry.to_numpy(), spacing_m=spacing_m)
    return gpd.GeoDataFrame(
        {"facility_id": frame[id_column].to_numpy()[owner]},
        geometry=shapely.points(xy) if len(xy) else [],
        crs=frame.crs,
    )


class PerOwner:
    """Reduce per-gate values to per-compound ones: the smallest and the gate giving it."""

    def __init__(self, owner: np.ndarray, n: int):
        self.order = np.argsort(owner, kind="stable")
        sorted_owner = owner[self.order]
        first = np.r_[True, sorted_owner[1:] != sorted_owner[:-1]] if len(owner) else []
        self.starts = np.flatnonzero(first)
        self.owners = sorted_owner[self.starts]
        self.counts = np.diff(np.r_[self.starts, len(owner)])
        self.n = n

    @property
    def owner(self) -> np.ndarray:
        """The owner (0..n-1) of each gate, in gate order."""
        owner = np.empty(len(self.order), dtype=int)
        owner[self.order] = np.repeat(self.owners, self.counts)
        return owner

    def nearest(self, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per owner 0..n-1 along the last axis of ``distance`` (``(..., n_gates)``):
        the smallest value (NaN if none) and the first gate holding it (-1 if none)."""
        shape = (*distance.shape[:-1], self.n)
        best, gate = np.full(shape, np.nan), np.full(shape, -1)
        if not distance.shape[-1]:
            return best, gate
        d = distance[..., self.order]
        d = np.where(np.isnan(d), np.inf, d)
        smallest = np.minimum.reduceat(d, self.starts, axis=-1)
        is_min = d == np.repeat(smallest, self.counts, axis=-1)
        position = np.arange(d.shape[-1])
        first = np.minimum.reduceat(np.where(is_min, position, len(position)), self.starts, -1)
        finite = np.isfinite(smallest)
        best[..., self.owners] = np.where(finite, smallest, np.nan)
        gate[..., self.owners] = np.where(finite, self.order[first], -1)
        return best, gate


def _unique_rows(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(xy, axis=0, return_inverse=True)`` for ``(n, 2)`` floats: the distinct
    rows sorted by x then y, and the row of each input in them."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    ranked = xy[order]
    new = np.r_[True, (ranked[1:] != ranked[:-1]).any(axis=1)][: len(xy)]
    inverse = np.empty(len(xy), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ranked[new], inverse


def _sources_of_sets(
    facility_sets: dict[str, gpd.GeoDataFrame],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct facility points of all sets (sets share points), each set's members
    among them, and the facility id each set gives each point.

    Returns
    -------
    xy : numpy.ndarray
        ``(n_points, 2)`` distinct facility points (metres, the graph's CRS).
    member : numpy.ndarray
        ``(n_sets, n_points)`` booleans.
    ident : numpy.ndarray
        ``(n_sets, n_points)`` objects: the id of the set's first facility at the point.
    """
    frames = list(facility_sets.values())
    xy = point_coordinates(np.concatenate([f.geometry.to_numpy() for f in frames]))
    unique_xy, point_of = _unique_rows(xy)
    n_sets, n_points = len(frames), len(unique_xy)
    set_of = np.repeat(np.arange(n_sets), [len(f) for f in frames])
    ids = np.concatenate([f["facility_id"].to_numpy().astype(object) for f in frames])
    cell, first = np.unique(set_of * n_points + point_of, return_index=True)
    member = np.zeros((n_sets, n_points), dtype=bool)
    ident = np.full((n_sets, n_points), None, dtype=object)
    member.reshape(-1)[cell] = True
    ident.reshape(-1)[cell] = ids[first]
    return unique_xy, member, ident


def compound_access(
    graph: WalkGraph,
    points: np.ndarray,
    owner: np.ndarray,
    n_compounds: int,
    facility_sets: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    *,
    base: pd.DataFrame | Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """For every compound: metres, minutes, id and life circle of the nearest facility of
    each set, walking from its best gate. Metres and minutes are unrounded: every figure
    drawn from them decides on them as they are (see :func:`rounded_for_display`).

    ``points`` are the compounds' gates (metric CRS), ``owner`` each gate's compound
    position. Facility sets with no facilities give NaN columns (and are worth reporting).
    ``base`` (a DataFrame, or columns by name), one row per compound in compound order,
    gives the first columns and the index of the table: the result is
    ``pd.concat([base, access], axis=1)``, without building the table twice.

    The gates and the distinct facility points of all sets are snapped together, once;
    one augmented graph serves every set's multi-source run, and the per-gate and
    per-compound reductions are done for all sets at once on ``(n_sets, n)`` arrays.
    """
    owner = np.asarray(owner)
    xy, member, ident = _sources_of_sets(facility_sets)
    snapped = snap_xy(
        graph, np.concatenate([point_coordinates(points), xy]), max_snap_m=params.max_snap_m
    )
    demand, sources = snapped.take(slice(0, len(points))), snapped.take(slice(len(points), None))
    per_owner = PerOwner(owner, n_compounds)
    snap_m, _ = per_owner.nearest(demand.snap_m)
    ok = np.zeros(n_compounds, dtype=bool)
    ok[owner[demand.status == SNAP_OK]] = True
    status = np.full(n_compounds, "no_access_point", dtype=object)
    status[owner] = demand.status
    status[ok] = SNAP_OK
    runs = AugmentedGraph(graph, sources).set_distances([np.flatnonzero(m) for m in member])
    distance, facility = set_point_distances(graph, runs, sources, demand, member)
    metres, gate = per_owner.nearest(distance)
    best_id = np.full(metres.shape, None, dtype=object)
    reached = gate >= 0
    run = np.nonzero(reached)[0]
    best_id[reached] = ident[run, facility[run, gate[reached]]]
    return access_table(list(facility_sets), snap_m, status, metres, best_id, params, base=base)


def access_table(
    keys: list[str],
    snap_m: np.ndarray,
    snap_status: np.ndarray,
    metres: np.ndarray,
    best_id: np.ndarray,
    params: CoverageParams,
    *,
    base: pd.DataFrame | Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """The access table of :func:`compound_access` from its arrays: per compound the
    snapping (metres, status) and, per facility set of ``keys``, the metres (unrounded)
    and the id of the nearest facility (``(n_sets, n)`` arrays); the minutes and the life
    circle are drawn from the metres."""
    minutes = params.minutes(metres)
    label = _circle_labels(metres, params)
    columns: dict[str, object] = {} if base is None else {c: base[c] for c in base}
    columns |= {"snap_m": snap_m, "snap_status": snap_status}
    for k, key in enumerate(keys):
        columns[column(key, "m")] = metres[k]
        columns[column(key, "min")] = minutes[k]
        columns[column(key, "id")] = best_id[k]
        columns[column(key, "circle")] = pd.arrays.IntegerArray(label[k], label[k] == 0)
    return pd.DataFrame(columns, index=base.index if isinstance(base, pd.DataFrame) else None)


#: Decimals of the distances (metres) and times (minutes) in published layers.
DISPLAY_DECIMALS = {"m": 1, "min": 2}


def rounded_for_display(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` with the metres and minutes columns of facility sets ``keys``
    rounded for display (0.1 m, 0.01 min). Only for output: no figure is decided on it."""
    frame = frame.copy()
    for key in keys:
        for what, decimals in DISPLAY_DECIMALS.items():
            name = column(key, what)
            if name in frame.columns:
                frame[name] = np.round(frame[name].to_numpy(float), decimals)
    return frame


def circle_of(distance_m: np.ndarray, params: CoverageParams) -> pd.arrays.IntegerArray:
    """The smallest life circle (minutes label) each distance falls in; <NA> beyond all."""
    label = _circle_labels(np.asarray(distance_m, dtype=float), params)
    return pd.arrays.IntegerArray(label, label == 0)


def _circle_labels(distance_m: np.ndarray, params: CoverageParams) -> np.ndarray:
    """:func:`circle_of` as int64 labels of any shape, 0 beyond all circles."""
    label = np.zeros(distance_m.shape, dtype=np.int64)
    distance = np.nan_to_num(distance_m, nan=np.inf)
    for circle in reversed(params.circles):
        label[distance <= circle.distance_m] = circle.minutes
    return label
