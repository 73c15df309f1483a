"""A demo walking network: Voronoi streets, straight arterials, bridges and connector paths.

Lines are in metres (EPSG:4549). Streets are denser where the urban intensity is high
(about 170 m apart in the core, 650 m in the hills). Nothing crosses water except the
lines flagged as bridges.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString

from geo_service.demo.binhu import METRIC_CRS
from geo_service.demo.geography import GRID, intensity_at

log = logging.getLogger(__name__)

CORE_SPACING_M = 170.0
RURAL_SPACING_M = 650.0
SHORE_SETBACK_M = 15.0
MAX_CONNECTOR_M = 400.0


def street_seeds(
    land: shapely.Geometry, cores: np.ndarray, rng: np.random.Generator, spacing: float = 1.0
) -> np.ndarray:
    """Block seeds (n, 2): a quadtree whose cells shrink where the intensity is high;
    ``spacing`` scales the distance between streets (below 1: a denser network)."""
    core_m, rural_m = CORE_SPACING_M * spacing, RURAL_SPACING_M * spacing
    minx, miny, maxx, maxy = land.bounds
    size = 4 * core_m
    xs = np.arange(minx, maxx + size, size)
    ys = np.arange(miny, maxy + size, size)
    cells = np.array([(x, y) for y in ys for x in xs]) + size / 2  # cell centres
    leaves: list[np.ndarray] = []
    while len(cells):
        wanted = rural_m - (rural_m - core_m) * intensity_at(cells, cores)
        split = (size > 1.3 * wanted) & (size > 1.5 * core_m)
        leaves.append(cells[~split] + rng.uniform(-0.3, 0.3, size=(int((~split).sum()), 2)) * size)
        quarter = size / 4
        offsets = np.array([(-quarter, -quarter), (quarter, -quarter), (-quarter, quarter),
                            (quarter, quarter)])  # fmt: skip
        cells = (cells[split][:, None, :] + offsets[None]).reshape(-1, 2)
        size /= 2
    seeds = np.concatenate(leaves)
    return seeds[shapely.contains_xy(land, seeds[:, 0], seeds[:, 1])]


def voronoi_streets(seeds: np.ndarray, land: shapely.Geometry) -> np.ndarray:
    """Street lines: the edges of the seeds' Voronoi diagram inside ``land``."""
    edges = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=land.envelope, only_edges=True
    )
    inside = shapely.intersection(shapely.get_parts(edges), land, grid_size=GRID)
    return _lines(inside)


def _lines(geometries: np.ndarray) -> np.ndarray:
    parts = shapely.get_parts(shapely.line_merge(shapely.get_parts(geometries)))
    parts = shapely.get_parts(parts)
    return parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 1.0)]


def bridge(a: np.ndarray, b: np.ndarray, roads: np.ndarray) -> LineString:
    """A bridge from land point ``a`` to land point ``b``, joined to the nearest road at
    each end."""
    tree = shapely.STRtree(roads)
    ends = []
    for point in (a, b):
        nearest = roads[tree.nearest(shapely.Point(point))]
        ends.append(
            shapely.get_coordinates(shapely.shortest_line(shapely.Point(point), nearest))[1]
        )
    return LineString([ends[0], a, b, ends[1]])


def node(lines: Sequence[shapely.Geometry] | np.ndarray) -> np.ndarray:
    """Split ``lines`` at every crossing (fixed-precision noding); returns line pieces."""
    return _lines(shapely.union_all(np.asarray(lines, dtype=object), grid_size=GRID))


def endpoints_graph(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node coordinates (k, 2) and each line's start and end node index."""
    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(lines, -1))
    coords, inverse = np.unique(np.concatenate([starts, ends]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return coords, inverse[: len(lines)], inverse[len(lines) :]


def components(lines: np.ndarray) -> np.ndarray:
    """Connected-component label of every line."""
    coords, start, end = endpoints_graph(lines)
    graph = coo_matrix((np.ones(len(lines)), (start, end)), shape=(len(coords), len(coords)))
    _, labels = connected_components(graph, directed=False)
    return labels[start]


def connect_pieces(lines: np.ndarray, land: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Join every detached piece to the largest by a short path that stays on ``land``,
    and drop pieces that cannot be joined. Returns (kept lines, connector paths)."""
    labels = components(lines)
    sizes = np.bincount(labels, weights=shapely.length(lines))
    main = int(np.argmax(sizes))
    main_lines = shapely.union_all(lines[labels == main])
    keep = labels == main
    connectors = []
    shapely.prepare(land)
    for label in np.argsort(-sizes):
        if label == main:
            continue
        piece = shapely.union_all(lines[labels == label])
        link = shapely.shortest_line(piece, main_lines)
        if link.length <= MAX_CONNECTOR_M and land.contains(link):
            keep |= labels == label
            if link.length > 0:
                connectors.append(link)
    log.info(
        "network: %d detached pieces, %d joined, %d dropped",
        len(sizes) - 1,
        len(connectors),
        int((~keep).sum()),
    )
    return lines[keep], np.array(connectors, dtype=object)


def classify(
    pieces: np.ndarray, sources: dict[str, np.ndarray], names: dict[str, np.ndarray]
) -> gpd.GeoDataFrame:
    """Give each noded piece the class of the first source class it lies on.

    ``sources`` maps class → source lines, in priority order; ``names`` maps class → name
    of each source line (or None).
    """
    midpoints = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    road_class = np.full(len(pieces), "", dtype=object)
    name = np.full(len(pieces), None, dtype=object)
    for cls, lines in sources.items():
        if not len(lines):
            continue
        tree = shapely.STRtree(lines)
        todo = np.flatnonzero(road_class == "")
        hit_piece, hit_line = tree.query(midpoints[todo], predicate="dwithin", distance=0.05)
        hit_piece, first = np.unique(hit_piece, return_index=True)
        road_class[todo[hit_piece]] = cls
        name[todo[hit_piece]] = names[cls][hit_line[first]]
    road_class[road_class == ""] = "residential"
    return gpd.GeoDataFrame(
        {"road_class": road_class, "name": name}, geometry=pieces, crs=METRIC_CRS
    )
