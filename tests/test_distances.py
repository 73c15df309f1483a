"""Walking distances equal a plain networkx reference to 1e-6 m."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.spatial import Delaunay
from shapely.geometry import LineString

from geo_service.analysis.distances import (
    MAX_CHUNK,
    AugmentedGraph,
    catchment_chunk,
    facility_catchments,
    node_distances,
    point_distances,
    set_point_distances,
)
from geo_service.analysis.network import build_walk_graph, snap_points
from tests.reference import walking_distances

METRIC = "EPSG:4549"


def _ours(roads: gpd.GeoDataFrame, sources_xy, targets_xy, max_snap_m=np.inf):
    graph = build_walk_graph(roads)
    sources = snap_points(graph, shapely.points(sources_xy), max_snap_m=max_snap_m)
    targets = snap_points(graph, shapely.points(targets_xy), max_snap_m=max_snap_m)
    distance, facility = point_distances(graph, node_distances(graph, sources), sources, targets)
    return graph, sources, targets, distance, facility


def irregular_network(seed: int = 3) -> gpd.GeoDataFrame:
    """A Delaunay mesh with edges removed, some edges bent into curves, parallel detours and
    a detached piece: everything a real network throws at the code."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, size=(400, 2))
    simplices = Delaunay(xy).simplices
    pairs = {
        tuple(sorted((int(a), int(b))))
        for t in simplices
        for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))
    }
    lines = []
    for a, b in sorted(pairs):
        if rng.uniform() < 0.3:
            continue
        p, q = xy[a], xy[b]
        if rng.uniform() < 0.2:  # a curved street
            normal = np.array([q[1] - p[1], p[0] - q[0]]) * rng.uniform(-0.3, 0.3)
            lines.append(LineString([p, (p + q) / 2 + normal, q]))
        else:
            lines.append(LineString([p, q]))
        if rng.uniform() < 0.05:  # a parallel detour
            lines.append(LineString([p, (p + q) / 2 + [40, 40], q]))
    lines.append(LineString([(5000, 5000), (5100, 5000), (5100, 5100)]))
    return gpd.GeoDataFrame(geometry=lines, crs=METRIC)


def test_irregular_network_matches_networkx():
    roads = irregular_network()
    rng = np.random.default_rng(9)
    sources_xy = rng.uniform(0, 3000, size=(25, 2))
    targets_xy = np.concatenate([rng.uniform(0, 3000, size=(300, 2)), sources_xy[:3] + 0.5])
    graph, _, _, distance, _ = _ours(roads, sources_xy, targets_xy)
    expected = walking_distances(roads.geometry, sources_xy, targets_xy)
    assert len(graph.pieces()) >= 2
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(distance, expected, rtol=0, atol=1e-6)


def test_same_segment_and_snap_limit_match_networkx():
    roads = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 800)])], crs=METRIC
    )
    sources_xy = np.array([[100.0, 10.0], [990.0, 700.0]])
    targets_xy = np.array([[150.0, -5.0], [50.0, 3.0], [999.0, 20.0], [400.0, 600.0]])
    _, _, targets, distance, facility = _ours(roads, sources_xy, targets_xy, max_snap_m=300)
    expected = walking_distances(roads.geometry, sources_xy, targets_xy, max_snap_m=300)
    np.testing.assert_allclose(distance, expected, atol=1e-6)
    assert distance[0] == pytest.approx(50 + 10 + 5)  # along the shared segment
    assert facility.tolist()[:3] == [0, 0, 1]
    assert targets.status[3] == "too_far" and np.isinf(distance[3])


def test_demo_district_matches_networkx(demo):
    roads = demo["roads"].to_crs(METRIC)
    gates = demo["compound_entrances"].to_crs(METRIC)
    targets_xy = shapely.get_coordinates(gates.geometry.to_numpy())
    for layer, where in (
        ("service_centres", None),
        ("service_centres", "community"),
        ("pocket_parks", None),
    ):
        facilities = demo[layer].to_crs(METRIC)
        if where:
            facilities = facilities[facilities["level"] == where]
        sources_xy = shapely.get_coordinates(facilities.geometry.to_numpy())
        _, _, _, distance, _ = _ours(roads, sources_xy, targets_xy, max_snap_m=250)
        expected = walking_distances(roads.geometry, sources_xy, targets_xy, max_snap_m=250)
        np.testing.assert_allclose(distance, expected, rtol=0, atol=1e-6)


def test_catchments_are_sparse_and_agree_with_nearest():
    roads = irregular_network(5)
    rng = np.random.default_rng(1)
    sources_xy, targets_xy = rng.uniform(0, 3000, (40, 2)), rng.uniform(0, 3000, (200, 2))
    graph, sources, targets, distance, _ = _ours(roads, sources_xy, targets_xy)
    catchment = facility_catchments(graph, sources, targets, limit_m=800, chunk=7)
    assert catchment.shape == (40, 200)
    assert 0 < catchment.nnz < 40 * 200 / 2
    dense = catchment.toarray()
    dense[dense == 0] = np.inf
    nearest = dense.min(axis=0)
    within = distance <= 800
    np.testing.assert_allclose(nearest[within], distance[within], atol=1e-6)
    assert np.isinf(nearest[~within]).all()
    # one column checked against a single-source reference
    single = walking_distances(roads.geometry, sources_xy[[4]], targets_xy)
    reach = single <= 800
    np.testing.assert_allclose(catchment[4].toarray()[0][reach], single[reach], atol=1e-6)


def test_catchments_in_bounded_memory_are_the_same():
    """A memory bound small enough for one run at a time gives the same matrix as stacked
    runs; the chunk is what fits in the bound."""
    roads = irregular_network(5)
    rng = np.random.default_rng(3)
    sources_xy, targets_xy = rng.uniform(0, 3000, (25, 2)), rng.uniform(0, 3000, (150, 2))
    graph, sources, targets, _, _ = _ours(roads, sources_xy, targets_xy)
    one_row_mb = 8 * (graph.n_nodes + 25 + 3 * 150) / 2**20
    assert catchment_chunk(graph.n_nodes + 25, 150, one_row_mb) == 1
    assert catchment_chunk(graph.n_nodes + 25, 150, 10.5 * one_row_mb) == 10
    assert catchment_chunk(500_000, 20_000, 256) == 59  # a city: rows of 4.5 MB
    assert catchment_chunk(10, 10, 10_000) == MAX_CHUNK
    stacked = facility_catchments(graph, sources, targets, limit_m=800, chunk=25)
    one_at_a_time = facility_catchments(graph, sources, targets, limit_m=800, memory_mb=one_row_mb)
    assert (stacked != one_at_a_time).nnz == 0 and stacked.nnz > 0


def test_stacked_runs_equal_single_runs_and_networkx():
    roads = irregular_network(7)
    rng = np.random.default_rng(11)
    sources_xy = rng.uniform(0, 3000, (30, 2))
    # targets on the sources' own segments too, so the direct walk along a segment counts
    targets_xy = np.concatenate([rng.uniform(0, 3000, (250, 2)), sources_xy + 3.0])
    graph = build_walk_graph(roads)
    sources = snap_points(graph, shapely.points(sources_xy), max_snap_m=np.inf)
    targets = snap_points(graph, shapely.points(targets_xy), max_snap_m=np.inf)
    subsets = [np.arange(30), np.array([], dtype=int), np.array([4]), rng.choice(30, 9, False)]
    subsets += [np.sort(rng.choice(30, 15, False)) for _ in range(3)]
    member = np.zeros((len(subsets), 30), dtype=bool)
    for k, subset in enumerate(subsets):
        member[k, subset] = True
    augmented = AugmentedGraph(graph, sources)
    runs = augmented.set_distances(subsets)
    distance, facility = set_point_distances(graph, runs, sources, targets, member)
    for k, subset in enumerate(subsets):
        one = augmented.node_distances(subset)
        np.testing.assert_array_equal(runs[k].distance_m, one.distance_m)
        np.testing.assert_array_equal(runs[k].facility, one.facility)
        d, f = point_distances(graph, one, sources, targets, subset=subset)
        np.testing.assert_array_equal(distance[k], d)
        np.testing.assert_array_equal(facility[k], f)
        assert np.isin(f[f >= 0], subset).all()
    expected = walking_distances(roads.geometry, sources_xy[subsets[3]], targets_xy)
    np.testing.assert_allclose(distance[3], expected, rtol=0, atol=1e-6)


def test_augmented_matrix_is_the_canonical_csr():
    roads = irregular_network(2)
    graph = build_walk_graph(roads)
    rng = np.random.default_rng(5)
    xy = np.concatenate([rng.uniform(0, 3000, (60, 2)), graph.nodes[:10]])  # some on nodes
    sources = snap_points(graph, shapely.points(xy), max_snap_m=300)
    n, rows = graph.n_nodes, sources.ok
    virtual = n + np.arange(len(rows))
    edge, u, v = sources.edge[rows], graph.edge_u, graph.edge_v
    length, offset, snap = graph.edge_length, sources.offset_m[rows], sources.snap_m[rows]
    expected = coo_matrix(
        (
            np.concatenate([length, length, snap + offset, snap + length[edge] - offset]),
            (np.concatenate([u, v, virtual, virtual]), np.concatenate([v, u, u[edge], v[edge]])),
        ),
        shape=(n + len(rows),) * 2,
    ).tocsr()
    matrix = AugmentedGraph(graph, sources).matrix
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(matrix, name), getattr(expected, name))
