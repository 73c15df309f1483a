"""Residential compounds of a demo district: one per street block, with gates and paths.

Metres (EPSG:4549). A compound is its street block set back from the roads and capped in
size; its residents follow the urban intensity (high-rise in the core, villages in the
hills), scaled to a district total.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString

from geo_service.demo.geography import GRID, intensity_at, parts

ROAD_SETBACK_M = 12.0
MIN_COMPOUND_M2 = 4_000.0
#: Residents per hectare of compound at intensity 0 and 1.
RURAL_DENSITY, URBAN_DENSITY = 120.0, 380.0


def street_blocks(roads: np.ndarray, land: shapely.Geometry) -> np.ndarray:
    """The faces the roads and the shore cut the land into."""
    edges = shapely.union_all([*roads, land.boundary], grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    faces = shapely.intersection(faces, land, grid_size=GRID)
    return faces[shapely.area(faces) > MIN_COMPOUND_M2]


def allocate(weights: np.ndarray, total: int, minimum: int, capacity: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder),
    each at least ``minimum`` and at most ``capacity``."""
    counts = np.minimum(np.full(len(weights), minimum), capacity)
    while counts.sum() < total:
        room = counts < capacity
        share = np.where(room, weights, 0.0)
        want = (total - counts.sum()) * share / share.sum()
        step = np.floor(want).astype(int)
        if step.sum() == 0:
            step[np.argmax(np.where(room, want - step, -1))] = 1
        counts = np.minimum(counts + step, capacity)
    return counts


def compound_shapes(
    blocks: np.ndarray,
    community: shapely.Geometry,
    count: int,
    cores: np.ndarray,
    rng: np.random.Generator,
) -> list[shapely.Geometry]:
    """``count`` compounds in the blocks of ``community``, urban blocks first by chance.

    Compounds keep 2 m inside the community, so those on either side of a boundary that
    crosses a block never touch.
    """
    community = community.buffer(-2.0, join_style="mitre")
    centres = shapely.get_coordinates(shapely.point_on_surface(blocks))
    weight = 0.1 + intensity_at(centres, cores)
    order = rng.choice(len(blocks), size=len(blocks), replace=False, p=weight / weight.sum())
    shapes = []
    for i in order:
        centre = centres[i]
        half = 90.0 + 90.0 * intensity_at(centre[None], cores)[0] + rng.uniform(0, 40)
        cap = shapely.box(*(centre - half), *(centre + half))
        inner = blocks[i].buffer(-ROAD_SETBACK_M, join_style="mitre")
        shape = shapely.intersection(shapely.intersection(inner, cap), community, grid_size=GRID)
        pieces = parts(shape)
        if pieces and pieces[0].area >= MIN_COMPOUND_M2:
            shapes.append(shapely.set_precision(pieces[0], GRID))
        if len(shapes) == count:
            break
    return shapes


def residents(shapes: np.ndarray, cores: np.ndarray, total: int, rng: np.random.Generator):
    """Residents and households of each compound, scaled so residents sum to ``total``."""
    centres = shapely.get_coordinates(shapely.point_on_surface(shapes))
    density = RURAL_DENSITY + (URBAN_DENSITY - RURAL_DENSITY) * intensity_at(centres, cores)
    raw = shapely.area(shapes) / 1e4 * density * rng.uniform(0.7, 1.3, size=len(shapes))
    population = np.maximum(np.round(raw * total / raw.sum()).astype(int), 30)
    population[np.argmax(population)] += total - population.sum()
    households = np.maximum(np.round(population / rng.uniform(2.4, 2.9, len(shapes))), 10)
    return population, households.astype(int)


def gates_and_paths(shapes: np.ndarray, roads: np.ndarray) -> tuple[list, list, list]:
    """Gate points on each compound's edge facing its nearest road, a second gate on the
    far side of large compounds, and the paths road → gate → inside.

    Returns (gate points, index of the compound of each gate, path lines).
    """
    tree = shapely.STRtree(roads)
    gates, owners, paths = [], [], []
    inside = shapely.point_on_surface(shapes)
    for i, shape in enumerate(shapes):
        ring = shape.exterior
        targets = [ring]
        if shape.area > 60_000:
            gate = shapely.shortest_line(ring, roads[tree.nearest(ring)]).coords[0]
            far = shapely.Point(gate).buffer(shape.length / 4)
            targets.append(shapely.difference(ring, far))
        for target in targets:
            road = roads[tree.nearest(target)]
            link = shapely.shortest_line(target, road)
            gate, on_road = link.coords[0], link.coords[-1]
            gates.append(shapely.Point(gate))
            owners.append(i)
            paths.append(LineString([on_road, gate, inside[i].coords[0]]))
    return gates, owners, paths
