"""Facilities of a demo district placed on its walking network, in metres (EPSG:4549):
service centres, pocket parks, trails and Party-member central households."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from geo_service.demo.streets import endpoints_graph

#: Facilities stand this far off the road they face, metres.
ROAD_OFFSET_M = 15.0


#: The grid (metres) the pieces of road inside an area are cut to.
GRID_M = 0.01
#: The first radius (metres) within which :func:`beside_road` looks for its road.
NEAR_ROAD_M = 250.0


def beside_road(
    target: np.ndarray,
    roads: np.ndarray,
    within: shapely.Geometry,
    tree: shapely.STRtree | None = None,
) -> shapely.Point:
    """A point ``ROAD_OFFSET_M`` off the road nearest ``target`` inside ``within``, towards
    ``target`` (on the road itself if the offset point would leave ``within``). ``tree``:
    an index of ``roads``, for many calls."""
    tree = shapely.STRtree(roads) if tree is None else tree
    road = nearest_road_inside(target, roads, within, tree)
    point = shapely.Point(target)
    on_road = np.array(shapely.shortest_line(road, point).coords[0])
    step = np.asarray(target) - on_road
    length = float(np.hypot(*step))
    if length > 0:
        offset = shapely.Point(on_road + step / length * min(ROAD_OFFSET_M, length))
        if within.contains(offset):
            return offset
    return shapely.Point(on_road)


def nearest_road_inside(
    target: np.ndarray, roads: np.ndarray, within: shapely.Geometry, tree: shapely.STRtree
) -> shapely.Geometry:
    """The piece of road inside ``within`` (5 m in from its edge) nearest ``target``, or
    the nearest road if none is inside. Only the roads within a radius of ``target`` are
    cut, the radius doubled until a piece lies within it (a piece of a road farther out
    would be farther too)."""
    point, shrunk = shapely.Point(target), within.buffer(-5.0)
    if shrunk.is_empty or not np.isfinite(target).all():
        return roads[tree.nearest(point)]
    minx, miny, maxx, maxy = within.bounds
    farthest = max(
        np.hypot(x - target[0], y - target[1]) for x in (minx, maxx) for y in (miny, maxy)
    )
    radius = NEAR_ROAD_M
    while True:
        # cut to the grid, a piece may lie up to 0.01 m nearer than its road
        near = np.sort(tree.query(point, predicate="dwithin", distance=radius + GRID_M))
        inside = shapely.intersection(roads[near], shrunk, grid_size=GRID_M)
        inside = shapely.get_parts(inside[~shapely.is_empty(inside)])
        if len(inside):
            nearest = inside[shapely.STRtree(inside).nearest(point)]
            if shapely.distance(nearest, point) <= radius:
                return nearest
        if radius > farthest:  # every road that reaches ``within`` was cut: none is inside
            return roads[tree.nearest(point)]
        radius *= 2


def weighted_centre(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean (2,) of points (n, 2)."""
    return (points * weights[:, None]).sum(axis=0) / weights.sum()


def random_points_in(shapes: np.ndarray, rng: np.random.Generator) -> list[shapely.Point]:
    """One uniformly random point inside each polygon of ``shapes``."""
    points = []
    for shape in shapes:
        minx, miny, maxx, maxy = shape.bounds
        while True:
            xy = rng.uniform((minx, miny), (maxx, maxy))
            if shape.contains(shapely.Point(xy)):
                points.append(shapely.Point(xy))
                break
    return points


class SegmentGraph:
    """The network as straight segments, for walks along it (trails)."""

    def __init__(self, roads: np.ndarray):
        coords = shapely.get_coordinates(roads)
        line_starts = np.cumsum(np.r_[0, shapely.get_num_coordinates(roads)[:-1]])
        is_line_start = np.zeros(len(coords), dtype=bool)
        is_line_start[line_starts] = True
        ends = np.flatnonzero(~is_line_start)  # every vertex but a line's first ends a segment
        segments = shapely.linestrings(np.stack([coords[ends - 1], coords[ends]], axis=1))
        self.nodes, start, end = endpoints_graph(segments)
        length = shapely.length(segments)
        n = len(self.nodes)
        self.matrix = coo_matrix(
            (
                np.concatenate([length, length]),
                (np.concatenate([start, end]), np.concatenate([end, start])),
            ),
            shape=(n, n),
        ).tocsr()
        self._tree = shapely.STRtree(shapely.points(self.nodes))

    def nearest_node(self, xy: np.ndarray) -> int:
        """Index of the node nearest ``xy``."""
        return int(self._tree.nearest(shapely.Point(xy)))

    def walk(self, start: int, min_m: float, max_m: float, rng: np.random.Generator):
        """A shortest walk from ``start`` to a random node ``min_m``–``max_m`` away, or None."""
        distance, predecessor = dijkstra(
            self.matrix, indices=start, limit=max_m, return_predecessors=True
        )
        choices = np.flatnonzero((distance >= min_m) & (distance <= max_m))
        if not len(choices):
            return None
        node = int(rng.choice(choices))
        path = [node]
        while path[-1] != start:
            path.append(int(predecessor[path[-1]]))
        return LineString(self.nodes[path[::-1]])
