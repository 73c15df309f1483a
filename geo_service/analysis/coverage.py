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

from geo_service.analysis.distances import node_distances, point_distances
from geo_service.analysis.network import SNAP_OK, WalkGraph, snap_points
from geo_service.analysis.params import CoverageParams
from geo_service.errors import EmptyInput


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


def nearest_access(
    graph: WalkGraph,
    demand: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    params: CoverageParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking metres from each snapped demand point to its nearest facility, and that
    facility's id (NaN / None where none is reachable).

    ``demand`` is a snap table (see :func:`snap_points`); ``facilities`` has
    ``facility_id`` and point geometry in the graph's CRS. Raises :class:`EmptyInput` if
    there are no facilities or none of them lies on the network.
    """
    if facilities.empty:
        raise EmptyInput("the facility layer is empty")
    sources = snap_points(graph, facilities.geometry.to_numpy(), max_snap_m=params.max_snap_m)
    if (sources["edge"] < 0).all():
        raise EmptyInput("no facility lies within reach of the walking network")
    nodes = node_distances(graph, sources)
    distance, facility = point_distances(graph, nodes, sources, demand)
    ids = facilities["facility_id"].to_numpy()
    found = facility >= 0
    facility_id = np.full(len(demand), None, dtype=object)
    facility_id[found] = ids[facility[found]]
    return np.where(np.isfinite(distance), distance, np.nan), facility_id


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
    result = pd.DataFrame(index=pd.RangeIndex(n_compounds))
    gate_snap = pd.Series(demand["snap_m"].to_numpy()).groupby(owner).min()
    result["snap_m"] = gate_snap.reindex(result.index).to_numpy()
    ok = pd.Series(demand["status"].to_numpy() == SNAP_OK).groupby(owner).any()
    status = pd.Series(demand["status"].to_numpy()).groupby(owner).first()
    result["snap_status"] = np.where(
        ok.reindex(result.index, fill_value=False),
        SNAP_OK,
        status.reindex(result.index).fillna("no_access_point"),
    )
    for key, facilities in facility_sets.items():
        try:
            distance, facility_id = nearest_access(graph, demand, facilities, params)
        except EmptyInput:
            distance = np.full(len(demand), np.nan)
            facility_id = np.full(len(demand), None, dtype=object)
        per_gate = pd.DataFrame({"owner": owner, "d": distance, "f": facility_id})
        best = per_gate.dropna(subset=["d"]).sort_values("d", kind="stable")
        best = best.drop_duplicates("owner").set_index("owner").reindex(result.index)
        metres = best["d"].to_numpy(dtype=float)
        result[column(key, "m")] = np.round(metres, 1)
        result[column(key, "min")] = np.round(params.minutes(metres), 2)
        result[column(key, "id")] = best["f"].to_numpy()
        result[column(key, "circle")] = circle_of(metres, params)
    return result


def circle_of(distance_m: np.ndarray, params: CoverageParams) -> pd.Series:
    """The smallest life circle (minutes label) each distance falls in; <NA> beyond all."""
    label = pd.array([pd.NA] * len(distance_m), dtype="Int64")
    for circle in reversed(params.circles):
        label[np.nan_to_num(distance_m, nan=np.inf) <= circle.distance_m] = circle.minutes
    return pd.Series(label)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (inverted CDF); NaN if empty."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    keep = ~np.isnan(values) & (weights > 0)
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    cumulative = np.cumsum(weights[keep][order])
    index = np.searchsorted(cumulative, q * cumulative[-1], side="left")
    return float(values[keep][order][min(index, len(order) - 1)])


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
    groups = access.groupby(by, sort=True) if by else [("all", access)]
    rows = []
    for name, group in groups:
        metres = group[column(key, "m")].to_numpy(float)
        people = group[weight].to_numpy(float)
        minutes = params.minutes(metres)
        row = {"group": name, "residents": int(people.sum()), "compounds": len(group)}
        for circle in params.circles:
            inside = np.nan_to_num(metres, nan=np.inf) <= circle.distance_m
            row[f"residents_{circle.minutes}"] = int(people[inside].sum())
            row[f"compounds_{circle.minutes}"] = int(inside.sum())
            row[f"share_{circle.minutes}"] = round(
                float(people[inside].sum() / people.sum()) if people.sum() else 0.0, 4
            )
        reached = ~np.isnan(metres)
        row["unreached_residents"] = int(people[~reached].sum())
        row["mean_min"] = (
            round(float(np.average(minutes[reached], weights=people[reached])), 2)
            if people[reached].sum()
            else float("nan")
        )
        row["p90_min"] = round(weighted_quantile(minutes, people, 0.9), 2)
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


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
    rows = []
    for name, group in access.groupby(by, sort=True):
        people = group["population"].to_numpy(float)
        row: dict = {"group": name}
        lacking = []
        for key in type_keys:
            metres = np.nan_to_num(group[column(key, "m")].to_numpy(float), nan=np.inf)
            share = (
                float(people[metres <= params.widest_m].sum() / people.sum())
                if people.sum()
                else 0.0
            )
            row[f"reach_{key}"] = round(share, 4)
            if share < params.life_circle_min_share:
                lacking.append(key)
        row["lacks"] = ";".join(lacking)
        row["lacks_count"] = len(lacking)
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")
