"""Placing the demo's facilities beside a road: the road found among those near the target
is the one a cut of every road would find, and an area with no road inside falls back to
the nearest road."""

from __future__ import annotations

import numpy as np
import shapely

from geo_service.demo.facilities import GRID_M, beside_road, nearest_road_inside


def _every_road_cut(target, roads, within) -> shapely.Geometry:
    """What :func:`beside_road` did before it looked near the target only: cut every road
    to ``within`` and take the nearest piece (the nearest road if none is inside)."""
    inside = shapely.intersection(roads, within.buffer(-5.0), grid_size=GRID_M)
    inside = shapely.get_parts(inside[~shapely.is_empty(inside)])
    candidates = inside if len(inside) else roads
    return candidates[shapely.STRtree(candidates).nearest(shapely.Point(target))]


def test_the_road_near_the_target_is_the_one_every_road_cut_finds():
    """A 4 km grid of streets 170 m apart, with random jitter; areas of every size around
    random targets, some far from the area (the first radius is not enough)."""
    rng = np.random.default_rng(7)
    ticks = np.arange(0, 4000, 170.0)
    roads = np.array(
        [shapely.LineString([(x, 0), (x + rng.uniform(-30, 30), 4000)]) for x in ticks]
        + [shapely.LineString([(0, y), (4000, y + rng.uniform(-30, 30))]) for y in ticks]
    )
    tree = shapely.STRtree(roads)
    for _ in range(60):
        centre = rng.uniform(200, 3800, 2)
        within = shapely.Point(centre).buffer(rng.uniform(60, 1500))
        target = centre + rng.uniform(-1500, 1500, 2)
        expected = _every_road_cut(target, roads, within)
        assert nearest_road_inside(target, roads, within, tree).equals_exact(expected, 0.0)


def test_an_area_with_no_road_inside_takes_the_nearest_road():
    roads = np.array([shapely.LineString([(0, 0), (1000, 0)])])
    for within in (shapely.box(400, 100, 500, 200), shapely.Polygon()):
        point = beside_road(np.array([450.0, 150.0]), roads, within)
        assert (point.x, point.y) == (450.0, 0.0)
