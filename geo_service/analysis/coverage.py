"""Coverage of residents by facilities, measured along the walking network.

Pure functions: GeoDataFrames (metric CRS) and arrays in, DataFrames out. Column names come
from :func:`column`. Distances in metres, times in minutes at the run's walking speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.analysis.distances import AugmentedGraph, point_distances
from geo_service.analysis.network import SNAP_OK, WalkGraph, snap_points
from geo_service.analysis.params import CoverageParams


def column(key: str, what: str) -> str:
    """The output column for facility set ``key``: ``m``, ``min``, ``id`` or ``circle``."""
    return f"{key}_{what}"


@dataclass(frozen=True)
class FacilitySet:
    """Facilities of one kind: a layer, optionally filtered by a property or a service."""

    key: str
    title_zh: str
    title_en: str
    layer: str
    where: tuple[tuple[str, str], ...] = ()
    service: str | None = None

    def select(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The rows of ``frame`` (the set's layer) that belong to the set."""
        mask = np.ones(len(frame), dtype=bool)
        for name, value in self.where:
            mask &= (frame[name] == value).to_numpy()
        if self.service is not None:
            mask &= frame["services"].str.split(";").map(lambda s: self.service in s).to_numpy()
        return frame[mask]


def access_points(frame: gpd.GeoDataFrame, id_column: str = "id") -> gpd.GeoDataFrame:
    """Where a facility is entered: points as they are, both ends of a line (trailheads),
    a representative point of a polygon. Columns ``facility_id`` and ``geometry``."""
    geometry = frame.geometry.to_numpy()
    kind = shapely.get_type_id(geometry)
    lines = np.isin(kind, (1, 5))
    parts, owner = shapely.get_parts(geometry[lines], return_index=True)
    ends = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    line_ids = np.tile(frame[id_column].to_numpy()[lines][owner], 2)
    others = ~lines
    points = shapely.point_on_surface(geometry[others])
    return gpd.GeoDataFrame(
        {"facility_id": np.concatenate([frame[id_column].to_numpy()[others], line_ids])},
        geometry=np.concatenate([points, ends]),
        crs=frame.crs,
    )


class _PerOwner:
    """Reduce per-gate values to per-compound ones: the smallest distance and its id."""

    def __init__(self, owner: np.ndarray, n: int):
        self.order = np.argsort(owner, kind="stable")
        sorted_owner = owner[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
        self.owners = sorted_owner[self.starts]
        self.counts = np.diff(np.r_[self.starts, len(owner)])
        self.n = n

    def best(self, distance: np.ndarray, ident: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per owner 0..n-1: the smallest distance (NaN if none) and the id that goes with it."""
        d = distance[self.order]
        d = np.where(np.isnan(d), np.inf, d)
        if not len(d):
            return np.full(self.n, np.nan), np.full(self.n, None, dtype=object)
        smallest = np.minimum.reduceat(d, self.starts)
        is_min = d == np.repeat(smallest, self.counts)
        position = np.arange(len(d))
        first = np.minimum.reduceat(np.where(is_min, position, len(d)), self.starts)
        best = np.full(self.n, np.nan)
        best_id = np.full(self.n, None, dtype=object)
        best[self.owners] = np.where(np.isfinite(smallest), smallest, np.nan)
        best_id[self.owners] = np.where(np.isfinite(smallest), ident[self.order][first], None)
        return best, best_id


def compound_access(
    graph: WalkGraph,
    points: np.ndarray,
    owner: np.ndarray,
    n_compounds: int,
    facility_sets: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
) -> pd.DataFrame:
    """For every compound: metres, minutes, id and life circle of the nearest facility of
    each set, walking from its best gate.

    ``points`` are the compounds' gates (metric CRS), ``owner`` each gate's compound
    position. Facility sets with no facilities give NaN columns (and are worth reporting).
    """
    demand = snap_points(graph, points, max_snap_m=params.max_snap_m)
    per_owner = _PerOwner(np.asarray(owner), n_compounds)
    snap_m, _ = per_owner.best(demand.snap_m, demand.status)
    ok = np.zeros(n_compounds, dtype=bool)
    ok[owner[demand.status == SNAP_OK]] = True
    status = np.full(n_compounds, "no_access_point", dtype=object)
    status[owner] = demand.status
    status[ok] = SNAP_OK
    columns: dict[str, object] = {"snap_m": snap_m, "snap_status": status}
    # Snap each distinct facility point once (sets share points), and build one
    # augmented graph that every set's run starts from.
    everything = np.concatenate([f.geometry.to_numpy() for f in facility_sets.values()])
    xy = shapely.get_coordinates(everything) if len(everything) else np.zeros((0, 2))
    unique_xy, point_of = np.unique(xy, axis=0, return_inverse=True)
    point_of = point_of.ravel()
    sources = snap_points(graph, shapely.points(unique_xy), max_snap_m=params.max_snap_m)
    augmented = AugmentedGraph(graph, sources)
    start = 0
    for key, facilities in facility_sets.items():
        points_of_set = point_of[start : start + len(facilities)]
        start += len(facilities)
        subset, first = np.unique(points_of_set, return_index=True)
        facility_id = np.full(len(sources), None, dtype=object)
        facility_id[subset] = facilities["facility_id"].to_numpy()[first]
        nodes = augmented.node_distances(subset)
        distance, facility = point_distances(graph, nodes, sources, demand, subset=subset)
        found = np.isfinite(distance)
        gate_id = np.full(len(demand), None, dtype=object)
        gate_id[found] = facility_id[facility[found]]
        metres, best_id = per_owner.best(distance, gate_id)
        columns[column(key, "m")] = np.round(metres, 1)
        columns[column(key, "min")] = np.round(params.minutes(metres), 2)
        columns[column(key, "id")] = best_id
        columns[column(key, "circle")] = circle_of(metres, params)
    return pd.DataFrame(columns)


def circle_of(distance_m: np.ndarray, params: CoverageParams) -> pd.arrays.IntegerArray:
    """The smallest life circle (minutes label) each distance falls in; <NA> beyond all."""
    label = np.zeros(len(distance_m), dtype=np.int64)
    distance = np.nan_to_num(distance_m, nan=np.inf)
    for circle in reversed(params.circles):
        label[distance <= circle.distance_m] = circle.minutes
    return pd.arrays.IntegerArray(label, label == 0)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (inverted CDF); NaN if empty."""
    values = np.asarray(values, dtype=float)
    codes = np.zeros(len(values), dtype=int)
    return float(_grouped_quantile(codes, 1, values, np.asarray(weights, dtype=float), q)[0])


def _groups(access: pd.DataFrame, by: str | None) -> tuple[np.ndarray, list]:
    if by is None:
        return np.zeros(len(access), dtype=int), ["all"]
    codes, names = pd.factorize(access[by], sort=True)
    return codes, list(names)


def _grouped_quantile(
    codes: np.ndarray, n: int, values: np.ndarray, weights: np.ndarray, q: float
) -> np.ndarray:
    """Weighted ``q`` quantile of ``values`` within each group (inverted CDF); NaN values
    and zero weights are left out; NaN for a group with nothing left."""
    keep = ~np.isnan(values) & (weights > 0)
    codes, values, weights = codes[keep], values[keep], weights[keep]
    order = np.lexsort((values, codes))
    codes, values, weights = codes[order], values[order], weights[order]
    cumulative = np.cumsum(weights)
    totals = np.bincount(codes, weights=weights, minlength=n)
    before = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    index = np.searchsorted(cumulative, before + q * totals, side="left")
    result = np.full(n, np.nan)
    has = totals > 0
    result[has] = values[np.minimum(index[has], len(values) - 1)]
    return result


def coverage_statistics(
    access: pd.DataFrame,
    key: str,
    params: CoverageParams,
    *,
    by: str | None = None,
    weight: str = "population",
) -> pd.DataFrame:
    """Residents and compounds within each life circle of facility set ``key``, the share
    of residents covered, and population-weighted mean and 90th-percentile minutes.

    One row per value of ``by`` (or one row, ``all``). Compounds that reach no facility
    count as uncovered and are left out of the mean and percentile (``unreached_*``).
    """
    codes, names = _groups(access, by)
    n = len(names)
    metres = access[column(key, "m")].to_numpy(float)
    people = access[weight].to_numpy(float)
    minutes = params.minutes(metres)
    reached = ~np.isnan(metres)
    residents = np.bincount(codes, weights=people, minlength=n)
    table: dict[str, object] = {
        "group": names,
        "residents": residents.astype(int),
        "compounds": np.bincount(codes, minlength=n),
    }
    for circle in params.circles:
        inside = reached & (np.nan_to_num(metres, nan=np.inf) <= circle.distance_m)
        covered = np.bincount(codes, weights=people * inside, minlength=n)
        table[f"residents_{circle.minutes}"] = covered.astype(int)
        table[f"compounds_{circle.minutes}"] = np.bincount(
            codes, weights=inside, minlength=n
        ).astype(int)
        table[f"share_{circle.minutes}"] = np.round(
            np.divide(covered, residents, out=np.zeros(n), where=residents > 0), 4
        )
    reached_people = np.bincount(codes, weights=people * reached, minlength=n)
    table["unreached_residents"] = (residents - reached_people).astype(int)
    weighted_minutes = np.bincount(
        codes, weights=np.where(reached, people * minutes, 0.0), minlength=n
    )
    table["mean_min"] = np.round(
        np.divide(
            weighted_minutes, reached_people, out=np.full(n, np.nan), where=reached_people > 0
        ),
        2,
    )
    table["p90_min"] = np.round(_grouped_quantile(codes, n, minutes, people, 0.9), 2)
    return pd.DataFrame(table).set_index("group")


def coverage_gaps(access: pd.DataFrame, key: str, params: CoverageParams) -> pd.DataFrame:
    """Compounds outside the widest life circle of facility set ``key`` (or unreachable),
    ranked by residents (rank 1 = most residents)."""
    metres = access[column(key, "m")].to_numpy(float)
    outside = access[np.nan_to_num(metres, nan=np.inf) > params.widest_m]
    outside = outside.sort_values(
        ["population", column(key, "m")], ascending=[False, False], kind="stable"
    )
    return outside.assign(rank=np.arange(1, len(outside) + 1))


def life_circle_check(
    access: pd.DataFrame, type_keys: list[str], params: CoverageParams, *, by: str
) -> pd.DataFrame:
    """Per ``by`` group: the share of residents within the widest circle of each facility
    type, and the types fewer than ``life_circle_min_share`` of residents reach."""
    codes, names = _groups(access, by)
    n = len(names)
    people = access["population"].to_numpy(float)
    residents = np.bincount(codes, weights=people, minlength=n)
    table: dict[str, object] = {"group": names}
    lacking = np.zeros((n, len(type_keys)), dtype=bool)
    for j, key in enumerate(type_keys):
        metres = np.nan_to_num(access[column(key, "m")].to_numpy(float), nan=np.inf)
        covered = np.bincount(codes, weights=people * (metres <= params.widest_m), minlength=n)
        share = np.divide(covered, residents, out=np.zeros(n), where=residents > 0)
        table[f"reach_{key}"] = np.round(share, 4)
        lacking[:, j] = share < params.life_circle_min_share
    table["lacks"] = [
        ";".join(k for k, lack in zip(type_keys, row, strict=True) if lack) for row in lacking
    ]
    table["lacks_count"] = lacking.sum(axis=1)
    return pd.DataFrame(table).set_index("group")
