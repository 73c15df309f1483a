"""What-if: coverage with centres added (proposed sites) or closed, and what it changes.

:func:`scenario_outcome` turns the walks before and after a change into the figures a
planner reads; :func:`scenario_coverage` is the reference that walks everything again
(the fast path, :mod:`geo_service.analysis.whatif`, merges the change into walks kept
from start-up and must give the same answer).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_service.analysis.coverage import access_points, compound_access
from geo_service.analysis.demand import demand_points
from geo_service.analysis.facility_sets import LifeCircleRequirement
from geo_service.analysis.network import Snapped, WalkGraph, snap_points
from geo_service.analysis.statistics import coverage_figures, group_codes
from geo_service.coverage_params import CoverageParams

SCENARIO_SET = "centre"


@dataclass(frozen=True)
class DemandUnits:
    """The demand features of a what-if: ids, residents and the area of each at every
    area level (group codes and names, as in :func:`~.statistics.group_codes`)."""

    ids: np.ndarray
    population: np.ndarray
    areas: dict[str, tuple[np.ndarray, list]]


def demand_units(
    demand: pd.DataFrame, *, population: str = "population", area_keys: tuple[str, ...] = ()
) -> DemandUnits:
    """:class:`DemandUnits` of the demand layer ``demand`` (one row per feature)."""
    return DemandUnits(
        ids=demand["id"].to_numpy().astype(str),
        population=demand[population].to_numpy(float),
        areas={key: group_codes(demand[key]) for key in area_keys if key in demand.columns},
    )


def _district(metres: np.ndarray, units: DemandUnits, params: CoverageParams) -> dict:
    figures = coverage_figures(
        np.zeros(len(metres), dtype=int), 1, metres, units.population, params
    )
    minutes = [c.minutes for c in params.circles]
    return {
        **{f"share_{m}": float(figures[f"share_{m}"][0]) for m in minutes},
        **{f"residents_{m}": int(figures[f"residents_{m}"][0]) for m in minutes},
        "mean_min": float(figures["mean_min"][0]),
    }


def _compounds(mask: np.ndarray, units: DemandUnits) -> dict:
    return {
        "compounds": int(mask.sum()),
        "residents": int(units.population[mask].sum()),
        "ids": units.ids[mask].tolist(),
    }


def _area_changes(
    within_before: np.ndarray, within_after: np.ndarray, units: DemandUnits
) -> list[dict]:
    """Per area of every level whose residents within the widest circle change: its
    residents, shares before and after, residents gained and lost."""
    people = units.population
    changes = []
    for key, (codes, names) in units.areas.items():
        n = len(names)
        residents = np.bincount(codes, weights=people, minlength=n)
        before = np.bincount(codes, weights=people * within_before, minlength=n)
        after = np.bincount(codes, weights=people * within_after, minlength=n)
        gained = np.bincount(codes, weights=people * (within_after & ~within_before), minlength=n)
        lost = np.bincount(codes, weights=people * (within_before & ~within_after), minlength=n)
        for unit in np.flatnonzero((gained > 0) | (lost > 0)):
            share = residents[unit] if residents[unit] > 0 else np.inf
            changes.append(
                {
                    "level": key,
                    "id": str(names[unit]),
                    "residents": int(residents[unit]),
                    "share_before": round(float(before[unit] / share), 4),
                    "share_after": round(float(after[unit] / share), 4),
                    "gained_residents": int(gained[unit]),
                    "lost_residents": int(lost[unit]),
                }
            )
    return changes


def scenario_outcome(
    units: DemandUnits,
    before_m: np.ndarray,
    after_m: np.ndarray,
    params: CoverageParams,
    sites: list[dict],
    types: list[dict] = (),
) -> dict:
    """The answer to a what-if from each demand feature's unrounded walk (metres, NaN:
    none) to the nearest centre before and after: district figures before and after, the
    compounds (ids) and residents that come within the widest circle (gain) or fall out of
    it (loss), the areas that change, each life-circle type's change (``types``, from
    :func:`type_changes`) and how each proposed site joins the network."""
    widest = params.widest_m
    within_before = np.nan_to_num(before_m, nan=np.inf) <= widest
    within_after = np.nan_to_num(after_m, nan=np.inf) <= widest
    return {
        "criterion": params.describe(),
        "before": {"district": _district(before_m, units, params)},
        "after": {"district": _district(after_m, units, params)},
        "gain": _compounds(within_after & ~within_before, units),
        "loss": _compounds(within_before & ~within_after, units),
        "areas": _area_changes(within_before, within_after, units),
        "types": list(types),
        "sites": sites,
    }


@dataclass(frozen=True)
class TypeFacilities:
    """A life-circle type in a what-if: its row of the table and its facilities now
    (``id`` and geometry, the graph's CRS)."""

    requirement: LifeCircleRequirement
    facilities: gpd.GeoDataFrame


def offers(added: pd.DataFrame, requirement: LifeCircleRequirement) -> np.ndarray:
    """Which proposed sites count for a type: a service type when the site offers the
    service at one of the type's centre levels (any level if none is named); no other
    type (a proposed centre is no park)."""
    service, levels = requirement.facilities.service, requirement.centre_levels
    if service is None or not len(added):
        return np.zeros(len(added), dtype=bool)
    return np.array(
        [
            service in str(offered or "").split(";") and (not levels or level in levels)
            for offered, level in zip(
                added["services"].tolist(), added["level"].tolist(), strict=True
            )
        ],
        dtype=bool,
    )


def type_changes(
    units: DemandUnits,
    requirements: list[LifeCircleRequirement],
    before_m: list[np.ndarray],
    after_m: list[np.ndarray],
    params: CoverageParams,
    finest: str | None,
) -> list[dict]:
    """Per life-circle type: the district's share of residents within the type's own
    circle before and after, and how many areas of the ``finest`` level lack it (fewer
    than ``life_circle_min_share`` of residents within it) before and after."""
    people = units.population
    total = people.sum()
    codes, names = units.areas.get(finest, (np.zeros(len(people), dtype=int), ["all"]))
    n = len(names)
    residents = np.bincount(codes, weights=people, minlength=n)
    rows = []
    for requirement, before, after in zip(requirements, before_m, after_m, strict=True):
        limit = params.circle_m(requirement.circle)
        row = {
            "type": requirement.key,
            "circle_minutes": requirement.circle,
            "distance_m": limit,
        }
        for when, metres in (("before", before), ("after", after)):
            inside = np.nan_to_num(metres, nan=np.inf) <= limit
            row[f"share_{when}"] = round(float(people[inside].sum() / total), 4) if total else 0.0
            covered = np.bincount(codes, weights=people * inside, minlength=n)
            share = np.divide(covered, residents, out=np.zeros(n), where=residents > 0)
            row[f"areas_lacking_{when}"] = int((share < params.life_circle_min_share).sum())
        rows.append(row)
    return rows


def scenario_summary(answer: dict, params: CoverageParams) -> dict:
    """The headline of a what-if answer: the widest circle's share before and after, and
    the residents and compounds gained and lost."""
    key = f"share_{params.circles[-1].minutes}"
    return {
        "circle_minutes": params.circles[-1].minutes,
        "circle_m": params.widest_m,
        "share_before": answer["before"]["district"][key],
        "share_after": answer["after"]["district"][key],
        "gained_residents": answer["gain"]["residents"],
        "gained_compounds": answer["gain"]["compounds"],
        "lost_residents": answer["loss"]["residents"],
        "lost_compounds": answer["loss"]["compounds"],
    }


def site_report(ids: list[str], snapped: Snapped) -> list[dict]:
    """How each proposed site (its representative point) joins the walking network."""
    return [
        {
            "id": site_id,
            "snap_status": status,
            "snap_m": None if np.isnan(d) else round(float(d), 1),
        }
        for site_id, status, d in zip(ids, snapped.status, snapped.snap_m, strict=True)
    ]


def scenario_coverage(
    graph: WalkGraph,
    compounds: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame | None,
    centres: gpd.GeoDataFrame,
    added: gpd.GeoDataFrame,
    removed: list[str],
    params: CoverageParams,
    *,
    gate_key: str = "compound_id",
    population: str = "population",
    area_keys: tuple[str, ...] = (),
    types: list[TypeFacilities] = (),
) -> dict:
    """The reference what-if: every walk before and after the change done again
    (:func:`scenario_outcome` gives the answer), for the centres and for each life-circle
    type in ``types`` (proposed sites count for the types they offer: :func:`offers`).

    All frames in the graph's CRS. ``compounds`` are the demand features (walks start from
    :func:`~geo_service.analysis.demand.demand_points`, as in the published figures);
    ``added`` has ``id`` and the proposed sites; ``removed`` lists ids of existing centres;
    ``area_keys`` are the demand columns of the areas whose changes are reported.
    """
    compounds = compounds.reset_index(drop=True)
    points, owner = demand_points(compounds, gates, gate_key=gate_key)
    before_sites = access_points(centres)
    after_sites = pd.concat(
        [before_sites[~before_sites["facility_id"].isin(removed)], access_points(added)],
        ignore_index=True,
    )
    sets = {"before": before_sites, "after": after_sites}
    for j, kind in enumerate(types):
        existing = access_points(kind.facilities)
        sets[f"type{j}_before"] = existing
        sets[f"type{j}_after"] = pd.concat(
            [
                existing[~existing["facility_id"].isin(removed)],
                access_points(added[offers(added, kind.requirement)]),
            ],
            ignore_index=True,
        )
    access = compound_access(graph, points, owner, len(compounds), sets, params)
    snapped = snap_points(
        graph, added.geometry.representative_point().to_numpy(), max_snap_m=params.max_snap_m
    )
    units = demand_units(compounds, population=population, area_keys=area_keys)
    metres = {key: access[f"{key}_m"].to_numpy(float) for key in sets}
    return scenario_outcome(
        units,
        metres["before"],
        metres["after"],
        params,
        site_report(added["id"].astype(str).tolist(), snapped),
        type_changes(
            units,
            [kind.requirement for kind in types],
            [metres[f"type{j}_before"] for j in range(len(types))],
            [metres[f"type{j}_after"] for j in range(len(types))],
            params,
            area_keys[0] if area_keys else None,
        ),
    )
