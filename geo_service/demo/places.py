"""Put compounds and facilities into a demo district (metres, EPSG:4549)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from geo_service.demo.binhu import ARTICLE_FIGURES, METRIC_CRS
from geo_service.demo.compounds import (
    allocate,
    compound_shapes,
    gates_and_paths,
    residents,
    street_blocks,
)
from geo_service.demo.facilities import (
    SegmentGraph,
    beside_road,
    random_points_in,
    weighted_centre,
)
from geo_service.demo.geography import intensity_at

log = logging.getLogger(__name__)

TRAIL_MIN_M, TRAIL_MAX_M = 400.0, 1200.0


def place_compounds(
    roads: np.ndarray,
    land,
    communities: gpd.GeoDataFrame,
    cores: np.ndarray,
    rng: np.random.Generator,
    *,
    total_population: int,
    total_compounds: int,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list]:
    """Compounds (exactly ``total_compounds``), their gates and the paths to them."""
    blocks = street_blocks(roads, land)
    # A block astride a boundary can hold a compound on each side (cut at the boundary).
    block_idx, community_idx = shapely.STRtree(communities.geometry.to_numpy()).query(
        blocks, predicate="intersects"
    )
    block_lists = [blocks[block_idx[community_idx == c]] for c in range(len(communities))]
    capacity = np.array([len(b) for b in block_lists])
    weight = np.array(
        [
            len(b) * (0.35 + communities_intensity)
            for b, communities_intensity in zip(
                block_lists, _intensity(communities, cores), strict=True
            )
        ]
    )
    shapes: list[list] = [[] for _ in block_lists]
    while True:
        counts = allocate(weight, total_compounds, 2, capacity)
        for c, count in enumerate(counts):
            if len(shapes[c]) != count:
                shapes[c] = compound_shapes(
                    block_lists[c],
                    communities.geometry.iloc[c],
                    count,
                    cores,
                    np.random.default_rng(rng.integers(2**32)),
                )
        got = np.array([len(s) for s in shapes])
        if got.sum() == total_compounds:
            break
        capacity = np.where(got < counts, got, capacity)
    log.info("compounds: %d in %d street blocks", got.sum(), len(blocks))
    rows = [(c, s) for c, community_shapes in enumerate(shapes) for s in community_shapes]
    geometry = np.array([s for _, s in rows], dtype=object)
    population, households = residents(geometry, cores, total_population, rng)
    community = communities.iloc[[c for c, _ in rows]]
    compounds = gpd.GeoDataFrame(
        {
            "community_id": community["id"].to_numpy(),
            "subdistrict_id": community["subdistrict_id"].to_numpy(),
            "population": population,
            "households": households,
        },
        geometry=geometry,
        crs=METRIC_CRS,
    )
    gates, gate_owner, paths = gates_and_paths(geometry, roads)
    entrances = gpd.GeoDataFrame({"compound": gate_owner}, geometry=gates, crs=METRIC_CRS)
    return compounds, entrances, paths


def _intensity(frame: gpd.GeoDataFrame, cores: np.ndarray) -> np.ndarray:
    return intensity_at(shapely.get_coordinates(frame.geometry.representative_point()), cores)


def _pick(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``count`` distinct indices drawn with probability by ``weights``."""
    count = min(count, int((weights > 0).sum()))
    return rng.choice(len(weights), size=count, replace=False, p=weights / weights.sum())


def place_facilities(
    roads: gpd.GeoDataFrame,
    unit_land: dict,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame,
    cores: np.ndarray,
    rng: np.random.Generator,
    *,
    district_target: np.ndarray,
) -> dict[str, gpd.GeoDataFrame]:
    """Service centres, pocket parks, trails and central households."""
    on_land = roads.geometry[roads["road_class"] != "bridge"].to_numpy()
    inside = shapely.get_coordinates(compounds.geometry.representative_point())
    population = compounds["population"].to_numpy(float)
    tree = shapely.STRtree(on_land)
    centre_rows = [("district", None, beside_road(district_target, on_land, unit_land["HL"], tree))]
    for code, land in unit_land.items():
        mine = (compounds["subdistrict_id"] == code).to_numpy()
        target = weighted_centre(inside[mine], population[mine])
        centre_rows.append(("subdistrict", code, beside_road(target, on_land, land, tree)))
    for community in communities.itertuples():
        mine = (compounds["community_id"] == community.id).to_numpy()
        target = (
            weighted_centre(inside[mine], population[mine])
            if mine.any()
            else np.array(community.geometry.representative_point().coords[0])
        )
        centre_rows.append(
            ("community", community.id, beside_road(target, on_land, community.geometry, tree))
        )
    centres = gpd.GeoDataFrame(
        {"level": [r[0] for r in centre_rows], "unit": [r[1] for r in centre_rows]},
        geometry=[r[2] for r in centre_rows],
        crs=METRIC_CRS,
    )

    community_population = compounds.groupby("community_id")["population"].sum()
    weight = community_population.reindex(communities["id"], fill_value=0).to_numpy(float)
    park_rows = []
    for c in _pick(weight, ARTICLE_FIGURES["pocket_parks"], rng):
        community = communities.iloc[c]
        mine = np.flatnonzero((compounds["community_id"] == community["id"]).to_numpy())
        target = inside[rng.choice(mine)]
        park_rows.append((community["id"], beside_road(target, on_land, community.geometry, tree)))
    parks = gpd.GeoDataFrame(
        {"community_id": [r[0] for r in park_rows]},
        geometry=[r[1] for r in park_rows],
        crs=METRIC_CRS,
    )

    graph = SegmentGraph(on_land)
    trail_rows = []
    for c in _pick(weight, len(communities), rng):
        community = communities.iloc[c]
        mine = np.flatnonzero((compounds["community_id"] == community["id"]).to_numpy())
        gates = entrances.geometry[entrances["compound"].isin(mine)].to_numpy()
        start = graph.nearest_node(shapely.get_coordinates(gates[rng.integers(len(gates))])[0])
        line = graph.walk(start, TRAIL_MIN_M, TRAIL_MAX_M, rng)
        if line is not None:
            trail_rows.append((community["id"], line))
        if len(trail_rows) == ARTICLE_FIGURES["trails"]:
            break
    trails = gpd.GeoDataFrame(
        {"community_id": [r[0] for r in trail_rows]},
        geometry=[r[1] for r in trail_rows],
        crs=METRIC_CRS,
    )

    homes = rng.choice(
        len(compounds), size=ARTICLE_FIGURES["central_households"], p=population / population.sum()
    )
    homes.sort()
    households = gpd.GeoDataFrame(
        {"compound": homes},
        geometry=random_points_in(compounds.geometry.to_numpy()[homes], rng),
        crs=METRIC_CRS,
    )
    return {
        "service_centres": centres,
        "pocket_parks": parks,
        "trails": trails,
        "central_households": households,
    }
