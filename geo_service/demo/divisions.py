"""Sub-districts and communities that tile a demo district's land, in metres (EPSG:4549)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import shapely

from geo_service.demo.binhu import Unit
from geo_service.demo.geography import (
    GRID,
    as_multipolygon,
    intensity_at,
    lloyd_relax,
    merge_fragments,
    project,
    sample_points,
    voronoi_cells,
)

log = logging.getLogger(__name__)


def tile_units(
    units: Sequence[Unit], mainland: shapely.Geometry, islands: Sequence[shapely.Geometry]
) -> dict[str, shapely.Geometry]:
    """Each unit's land: Voronoi cells of its seeds on the mainland; a unit with no seeds
    gets the islands. Returns unit code → MultiPolygon."""
    seeded = [u for u in units if u.seeds]
    seeds = np.concatenate([project(u.seeds) for u in seeded])
    owner = [u.code for u in seeded for _ in u.seeds]
    cells = voronoi_cells(seeds, mainland)
    tiles = {
        code: shapely.union_all(
            [c for c, o in zip(cells, owner, strict=True) if o == code], grid_size=GRID
        )
        for code in dict.fromkeys(owner)
    }
    merged = merge_fragments(list(tiles.values()))
    result = dict(zip(tiles, merged, strict=True))
    for unit in units:
        if not unit.seeds:
            result[unit.code] = as_multipolygon(shapely.union_all(list(islands), grid_size=GRID))
    return {u.code: result[u.code] for u in units}


def tile_communities(
    unit_land: shapely.Geometry, count: int, cores: np.ndarray, rng: np.random.Generator
) -> list[shapely.Geometry]:
    """``count`` communities tiling ``unit_land``, smaller where the intensity is high.

    Returned largest-intensity first (so the first ones are the most urban).
    """

    def weight(xy: np.ndarray) -> np.ndarray:
        return 0.15 + 0.85 * intensity_at(xy, cores)

    seeds = sample_points(unit_land, count, rng, weight)
    seeds = lloyd_relax(seeds, unit_land, iterations=2)
    tiles = merge_fragments(voronoi_cells(seeds, unit_land))
    centres = shapely.get_coordinates(shapely.point_on_surface(np.array(tiles, dtype=object)))
    order = np.argsort(-intensity_at(centres, cores), kind="stable")
    return [tiles[i] for i in order]
