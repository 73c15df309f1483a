"""What-if: coverage with centres added (proposed sites) or removed (closures)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_service.analysis.coverage import access_points, compound_access, coverage_statistics
from geo_service.analysis.demand import demand_points
from geo_service.analysis.network import WalkGraph, snap_points
from geo_service.analysis.params import CoverageParams

SCENARIO_SET = "centre"


def _figures(table: pd.DataFrame, params: CoverageParams, by: str | None) -> dict:
    district = coverage_statistics(table, SCENARIO_SET, params).iloc[0]
    by_unit = coverage_statistics(table, SCENARIO_SET, params, by=by) if by else pd.DataFrame()
    minutes = [c.minutes for c in params.circles]
    return {
        "district": {
            **{f"share_{m}": float(district[f"share_{m}"]) for m in minutes},
            **{f"residents_{m}": int(district[f"residents_{m}"]) for m in minutes},
            "mean_min": float(district["mean_min"]),
        },
        "subdistricts": {
            unit: float(row[f"share_{minutes[-1]}"]) for unit, row in by_unit.iterrows()
        },
    }


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
    by: str | None = "subdistrict_id",
) -> dict:
    """Coverage of residents by service centres before and after the change, and the
    compounds (ids) and residents that come within the widest circle (gain) or fall out
    of it (loss, from closures).

    All frames in the graph's CRS. ``compounds`` are the demand features (walks start from
    :func:`~geo_service.analysis.demand.demand_points`, as in the published figures);
    ``added`` has ``id`` and the proposed sites; ``removed`` lists ids of existing centres;
    ``by`` is the demand column of the areas reported one by one (None: none). Returns the
    figures before and after, the gain, and how each proposed site joins the network.
    """
    compounds = compounds.reset_index(drop=True)
    points, owner = demand_points(compounds, gates, gate_key=gate_key)
    by = by if by in compounds.columns else None
    base = compounds[["id", *([by] if by else []), population]].rename(
        columns={population: "population"}
    )
    before_sites = access_points(centres)
    after_sites = pd.concat(
        [before_sites[~before_sites["facility_id"].isin(removed)], access_points(added)],
        ignore_index=True,
    )
    access = compound_access(
        graph, points, owner, len(compounds), {"before": before_sites, "after": after_sites}, params
    )
    tables = {
        when: pd.concat(
            [base, access[[f"{when}_m"]].rename(columns={f"{when}_m": f"{SCENARIO_SET}_m"})], axis=1
        )
        for when in ("before", "after")
    }
    before, after = (_figures(tables[w], params, by) for w in ("before", "after"))
    widest = params.widest_m
    within_before = np.nan_to_num(access["before_m"].to_numpy(float), nan=np.inf) <= widest
    within_after = np.nan_to_num(access["after_m"].to_numpy(float), nan=np.inf) <= widest
    gained, lost = within_after & ~within_before, within_before & ~within_after
    population = base["population"].to_numpy()
    snapped = snap_points(
        graph, added.geometry.representative_point().to_numpy(), max_snap_m=params.max_snap_m
    )
    return {
        "before": before,
        "after": after,
        "gain": {
            "compounds": int(gained.sum()),
            "residents": int(population[gained].sum()),
            "ids": compounds["id"].to_numpy()[gained].astype(str).tolist(),
        },
        "loss": {
            "compounds": int(lost.sum()),
            "residents": int(population[lost].sum()),
            "ids": compounds["id"].to_numpy()[lost].astype(str).tolist(),
        },
        "sites": [
            {
                "id": site_id,
                "snap_status": status,
                "snap_m": None if np.isnan(d) else round(float(d), 1),
            }
            for site_id, status, d in zip(added["id"], snapped.status, snapped.snap_m, strict=True)
        ],
    }
