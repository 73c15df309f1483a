"""The walking graph and snapping, on tiny hand-made networks (EPSG:4549 metres)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo_service.analysis.network import (
    SNAP_INVALID,
    SNAP_OK,
    SNAP_PAST_ISOLATED,
    SNAP_TOO_FAR,
    build_walk_graph,
    point_coordinates,
    snap_points,
    snap_xy,
)

METRIC = "EPSG:4549"


def _roads(*lines) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(lines), crs=METRIC)


@pytest.fixture
def square_with_island():
    """A 100 m square with a diagonal, a detour parallel to one side, and an island."""
    return build_walk_graph(
        _roads(
            LineString([(0, 0), (100, 0)]),
            LineString([(100, 0), (100, 100)]),
            LineString([(100, 100), (0, 100)]),
            LineString([(0, 100), (0, 0)]),
            LineString([(0, 0), (100, 100)]),
            LineString([(0, 0), (50, -30), (100, 0)]),  # a longer parallel path
            LineString([(500, 500), (520, 500)]),  # an isolated piece
        )
    )


def test_graph_has_segments_nodes_and_pieces(square_with_island):
    graph = square_with_island
    assert graph.n_nodes == 7  # 4 corners, the detour's bend, 2 island ends
    assert len(graph.edge_u) == 8
    assert sorted(np.round(graph.edge_length, 3))[:2] == [20.0, 58.31]
    pieces = graph.pieces()
    assert len(pieces) == 2 and pieces["segments"].tolist() == [7, 1]
    assert np.isclose(graph.matrix[0].sum() + graph.matrix[:, 0].sum(), 2 * graph.matrix[0].sum())


def test_parallel_segments_keep_the_shortest():
    graph = build_walk_graph(
        _roads(
            LineString([(0, 0), (10, 0)]),
            LineString([(10, 0), (0, 0)]),
            LineString([(0, 0), (10, 0)]),
        )
    )
    assert len(graph.edge_u) == 1 and graph.edge_length[0] == pytest.approx(10.0)


def test_vertices_within_a_millimetre_are_one_node():
    graph = build_walk_graph(
        _roads(LineString([(0, 0), (10, 0)]), LineString([(10.0004, 0), (20, 0)]))
    )
    assert graph.n_nodes == 3 and len(graph.pieces()) == 1


def test_reprojects_lon_lat_roads():
    roads = _roads(LineString([(500000, 3490000), (501000, 3490000)])).to_crs(4326)
    graph = build_walk_graph(roads, "EPSG:4549")  # the metric CRS is always stated
    assert graph.edge_length[0] == pytest.approx(1000.0, abs=0.01)


def test_snap_onto_a_segment_not_a_node(square_with_island):
    snapped = snap_points(square_with_island, np.array([Point(30, 10)]), max_snap_m=50)
    row = snapped.to_frame().iloc[0]
    assert row["status"] == SNAP_OK
    assert row["snap_m"] == pytest.approx(10.0)
    length = square_with_island.edge_length[row["edge"]]
    assert min(row["offset_m"], length - row["offset_m"]) == pytest.approx(30.0)


def test_snap_statuses(square_with_island):
    points = np.array(
        [
            Point(510, 495),  # nearest road is the island, 5 m away; main network far
            Point(50, 400),  # 300 m from any road
            Point(np.nan, 3.0),
            None,
            shapely.Point(),
        ],
        dtype=object,
    )
    snapped = snap_points(square_with_island, points, max_snap_m=1000)
    assert snapped.status.tolist() == [
        SNAP_PAST_ISOLATED,
        SNAP_OK,
        SNAP_INVALID,
        SNAP_INVALID,
        SNAP_INVALID,
    ]
    assert snapped.snap_m[0] > 500  # snapped to the main network, and said so
    tight = snap_points(square_with_island, points[:2], max_snap_m=250)
    assert tight.status.tolist() == [SNAP_TOO_FAR, SNAP_TOO_FAR]
    assert (tight.edge == -1).all()


def _brute_force_snap(graph, xy: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest main-piece segment, over every segment."""
    a = graph.nodes[graph.edge_u[graph.main_edges]]
    b = graph.nodes[graph.edge_v[graph.main_edges]]
    ab = b - a
    rel = xy[:, None, :] - a[None]
    t = np.clip((rel * ab).sum(-1) / (ab**2).sum(-1), 0, 1)
    return np.hypot(*np.moveaxis(rel - ab * t[..., None], -1, 0)).min(axis=1)


def test_snap_matches_brute_force_near_and_far():
    from tests.test_distances import irregular_network

    graph = build_walk_graph(irregular_network())
    rng = np.random.default_rng(4)
    xy = np.concatenate(
        [
            rng.uniform(-400, 3400, (400, 2)),  # near roads and well outside the mesh
            graph.nodes[:30],  # on nodes: several segments equally near
            rng.uniform(4900, 5200, (30, 2)),  # around the detached piece
        ]
    )
    snapped = snap_xy(graph, xy, max_snap_m=np.inf)
    np.testing.assert_allclose(snapped.snap_m, _brute_force_snap(graph, xy), rtol=0, atol=1e-9)
    assert (snapped.snap_m > 60).sum() > 20  # the fallback beyond the first radius is used
    assert (snapped.status == SNAP_PAST_ISOLATED).any()
    # in chunks of 13 points (with NaN rows between), the same as all together
    holes = np.insert(xy, np.arange(0, len(xy), 50), np.nan, axis=0)
    chunked = snap_xy(graph, holes, max_snap_m=100.0, chunk_points=13)
    whole = snap_xy(graph, holes, max_snap_m=100.0)
    for name in ("edge", "offset_m", "snap_m", "status"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    assert (whole.status == SNAP_INVALID).sum() == 10 and (whole.status == SNAP_TOO_FAR).any()
    # one point at a time gives the same as all together (ties broken the same way)
    for i in range(0, len(xy), 7):
        one = snap_xy(graph, xy[i : i + 1], max_snap_m=np.inf)
        assert (one.edge[0], one.offset_m[0], one.status[0]) == (
            snapped.edge[i],
            snapped.offset_m[i],
            snapped.status[i],
        )


def test_snap_xy_is_snap_points_on_coordinates(square_with_island):
    points = np.array(
        [Point(30, 10), Point(510, 495), None, shapely.Point(), Point(np.nan, 1.0)], dtype=object
    )
    xy = point_coordinates(points)
    assert np.isnan(xy[2:]).all() and xy[:2].tolist() == [[30, 10], [510, 495]]
    by_points = snap_points(square_with_island, points, max_snap_m=1000)
    by_xy = snap_xy(square_with_island, xy, max_snap_m=1000)
    for name in ("edge", "offset_m", "snap_m"):
        np.testing.assert_array_equal(getattr(by_points, name), getattr(by_xy, name))
    assert by_points.status.tolist() == by_xy.status.tolist()
    part = by_xy.take(slice(1, 3))
    assert part.status.tolist() == [SNAP_PAST_ISOLATED, SNAP_INVALID] and len(part) == 2
