"""Land, water, sub-districts and communities of a demo district, in metres (EPSG:4549).

Pure geometry: lon/lat inputs are projected with :func:`project`, every overlay uses a
fixed precision grid (:data:`GRID`, metres) so that neighbouring tiles share their edges
exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from geo_service.crs import STORAGE_CRS
from geo_service.demo.binhu import METRIC_CRS

#: Precision grid of every overlay, metres.
GRID = 0.01

_TO_METRIC = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)


def project(lonlat: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """Lon/lat pairs to EPSG:4549 x/y metres, shape (n, 2)."""
    coords = np.asarray(lonlat, dtype=float).reshape(-1, 2)
    x, y = _TO_METRIC.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def project_geometry(geometry: shapely.Geometry) -> shapely.Geometry:
    """A lon/lat geometry in EPSG:4549 metres."""
    return shapely.transform(geometry, project)


def parts(geometry: shapely.Geometry) -> list[Polygon]:
    """The polygons of a (multi)polygon or collection, largest first."""
    polygons = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and g.area > 0]
    return sorted(polygons, key=lambda g: -g.area)


def as_multipolygon(geometry: shapely.Geometry) -> MultiPolygon:
    """``geometry``'s polygons as one MultiPolygon."""
    return MultiPolygon(parts(geometry))


def intensity_at(xy: np.ndarray, cores: np.ndarray) -> np.ndarray:
    """Urban intensity in [0, 1] at points ``xy`` (n, 2) from cores (k, 4): x, y, peak, radius."""
    dx = xy[:, None, 0] - cores[None, :, 0]
    dy = xy[:, None, 1] - cores[None, :, 1]
    distance = np.hypot(dx, dy)
    return np.clip((cores[:, 2] * np.exp(-distance / cores[:, 3])).max(axis=1), 0.0, 1.0)


def sample_points(
    area: shapely.Geometry, count: int, rng: np.random.Generator, weight=None
) -> np.ndarray:
    """``count`` random points (n, 2) inside ``area``, density proportional to ``weight(xy)``."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    chosen: list[np.ndarray] = []
    total = 0
    while total < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, 4 * count), 2))
        keep = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
        if weight is not None:
            keep &= rng.uniform(size=len(xy)) < weight(xy)
        chosen.append(xy[keep])
        total += int(keep.sum())
    return np.concatenate(chosen)[:count]


def voronoi_cells(points: np.ndarray, clip_to: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cells of ``points`` clipped to ``clip_to``, in the order of ``points``."""
    multipoint = shapely.multipoints(points)
    cells = shapely.get_parts(shapely.voronoi_polygons(multipoint, extend_to=clip_to.envelope))
    # voronoi_polygons does not keep input order: match cells to points.
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(shapely.points(points), predicate="intersects")
    order = np.full(len(points), -1)
    order[point_idx] = cell_idx
    return list(shapely.intersection(cells[order], clip_to, grid_size=GRID))


def lloyd_relax(points: np.ndarray, area: shapely.Geometry, iterations: int) -> np.ndarray:
    """Move ``points`` towards the centroids of their Voronoi cells in ``area``."""
    for _ in range(iterations):
        centroids = shapely.centroid(np.array(voronoi_cells(points, area), dtype=object))
        moved = np.column_stack([shapely.get_x(centroids), shapely.get_y(centroids)])
        ok = np.isfinite(moved).all(axis=1)
        ok[ok] = shapely.contains_xy(area, moved[ok, 0], moved[ok, 1])
        points = np.where(ok[:, None], moved, points)
    return points


def merge_fragments(tiles: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Give every tile's small detached parts to the neighbour that shares most border.

    ``tiles`` tile an area; the result tiles the same area, each tile keeping its largest
    part plus the fragments no neighbour touches.
    """
    main = [parts(t)[0] if parts(t) else t for t in tiles]
    extra: list[list[Polygon]] = [[] for _ in tiles]
    for i, tile in enumerate(tiles):
        for fragment in parts(tile)[1:]:
            shared = shapely.length(
                shapely.intersection(
                    fragment.boundary, np.array(main, dtype=object), grid_size=GRID
                )
            )
            shared[i] = 0.0
            j = int(np.argmax(shared))
            extra[j if shared[j] > 0 else i].append(fragment)
    return [
        as_multipolygon(shapely.union_all([m, *e], grid_size=GRID)) if e else as_multipolygon(m)
        for m, e in zip(main, extra, strict=True)
    ]


def share_edges(tiles: Sequence[shapely.Geometry]) -> list[MultiPolygon]:
    """The same tiles rebuilt from one noded set of boundaries, so that neighbours share
    every vertex of their common edges (and any union of tiles keeps them too)."""
    tiles_array = np.array(list(tiles), dtype=object)
    edges = shapely.union_all(shapely.boundary(tiles_array), grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    face_idx, tile_idx = shapely.STRtree(tiles_array).query(
        shapely.point_on_surface(faces), predicate="within"
    )
    owner = np.full(len(faces), -1)
    owner[face_idx] = tile_idx
    return [
        as_multipolygon(shapely.union_all(faces[owner == i], grid_size=GRID))
        for i in range(len(tiles_array))
    ]


def land_and_water(
    outline_lonlat: Sequence[tuple[float, float]],
    lake: shapely.Geometry,
    extra_water: Sequence[shapely.Geometry],
) -> tuple[shapely.Geometry, list[Polygon]]:
    """Mainland land and island land pieces, in metres.

    ``lake`` is the big lake (lon/lat) whose holes are islands; the islands that lie
    within the outline's reach (touching its envelope) become land of their own.
    """
    outline = project_geometry(Polygon(outline_lonlat))
    lake_m = project_geometry(lake)
    water = shapely.union_all([lake_m, *map(project_geometry, extra_water)], grid_size=GRID)
    mainland = parts(shapely.difference(outline, water, grid_size=GRID))[0]
    islands = [
        Polygon(ring)
        for polygon in parts(lake_m)
        for ring in polygon.interiors
        if Polygon(ring).intersects(outline.envelope)
    ]
    islands = [shapely.set_precision(i, GRID) for i in islands]
    return mainland, islands
