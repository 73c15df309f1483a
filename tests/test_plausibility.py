"""Plausibility checks on the Binhu demo (as committed, and spoilt on purpose) and on a
small irregular network. Expected values come from independent references: shapely
distances to the road lines, the district polygon, networkx connected components."""

from __future__ import annotations

import itertools
import json
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import Delaunay
from shapely.geometry import LineString, MultiLineString

from geo_service.analysis.findings import ERROR, INFO, WARNING
from geo_service.analysis.network import build_walk_graph
from geo_service.analysis.placement import (
    DATUM_MIN_FEATURES,
    DATUM_MIN_IMPROVEMENT,
    DATUM_MIN_OFFSET_M,
    fit_datum,
    network_offsets,
)
from geo_service.analysis.plausibility import (
    DEFAULT_POINT_LAYERS,
    ISOLATED_WARN_SHARE,
    OUTSIDE_TOLERANCE_M,
    UNSNAPPED_WARN_SHARE,
    check_layers,
    datum_offset,
    duplicate_ids,
    isolated_network,
    outside_district,
    swapped_axes,
    unsnapped,
)
from geo_service.datums import frame_from_wgs84

METRIC = "EPSG:4549"
MAX_SNAP_M = 250.0
CHECKED = ("service_centres", "compounds", "pocket_parks")


@pytest.fixture(scope="module")
def graph(demo):
    return build_walk_graph(demo["roads"], METRIC)


@pytest.fixture(scope="module")
def road_tree(demo):
    return shapely.STRtree(demo["roads"].to_crs(METRIC).geometry.to_numpy())


@pytest.fixture(scope="module")
def district_m(demo):
    return demo["district"].to_crs(METRIC).geometry.union_all()


def _points_m(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Representative points (taken in lon/lat, as the checks do), in metres."""
    return frame.geometry.representative_point().to_crs(METRIC).to_numpy()


def _road_distance(frame, road_tree) -> np.ndarray:
    """Reference: metres from each representative point to the nearest road line."""
    points = _points_m(frame)
    (row, _), distance = road_tree.query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(len(frame), np.nan)
    out[row] = distance
    return out


def _outside(frame, district_m) -> np.ndarray:
    """Reference: representative point farther than the tolerance from the district."""
    return shapely.distance(district_m, _points_m(frame)) > OUTSIDE_TOLERANCE_M


def _check(frame_by_layer, graph, demo, **options):
    return check_layers(
        frame_by_layer,
        graph=graph,
        metric_crs=METRIC,
        district_geometry=demo["district"],
        max_snap_m=MAX_SNAP_M,
        **options,
    )


def test_the_demo_as_it_is_has_no_findings(demo, graph, road_tree, district_m):
    assert len(graph.pieces()) == 1  # so no isolated_network finding is due
    for layer in CHECKED:
        frame = demo[layer]
        assert np.nanmax(_road_distance(frame, road_tree)) <= MAX_SNAP_M  # all snap
        assert not _outside(frame, district_m).any()
        assert frame["id"].is_unique
    layers = {name: demo[name] for name in ("roads", *CHECKED)}
    assert _check(layers, graph, demo) == []
    # every demo layer, households among the network layers too: still nothing
    everything = _check(
        demo, graph, demo, point_layers=(*DEFAULT_POINT_LAYERS, "central_households")
    )
    assert everything == []


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
@pytest.mark.parametrize("layer", CHECKED)
def test_a_shifted_layer_is_recognised(demo, graph, road_tree, district_m, layer, datum):
    frame = demo[layer]
    shifted = frame_from_wgs84(frame, datum)
    findings = _check({layer: shifted}, graph, demo)
    datum_findings = [f for f in findings if f.check.startswith("datum_")]
    assert [f.check for f in datum_findings] == [f"datum_{datum}"]
    finding = datum_findings[0]
    assert finding.severity == ERROR
    assert (finding.count, finding.total) == (len(frame), len(frame))
    assert finding.ids == tuple(frame["id"])
    # the medians are those of shapely distances to the road lines, as is and of the true
    # layer (a polygon's representative point moves a little with the shift: 1 m slack)
    as_is = np.median(_road_distance(shifted, road_tree))
    true = np.median(_road_distance(frame, road_tree))
    assert finding.measures["median_m"] == pytest.approx(as_is, abs=0.01)
    assert finding.measures["median_after_m"] == pytest.approx(true, abs=1.0)
    assert as_is > DATUM_MIN_OFFSET_M and as_is > 2 * true
    assert f"--crs {datum}" in finding.message and f"{len(frame)} features" in finding.message
    # the other checks see the moved features where they are
    outside = int(_outside(shifted, district_m).sum())
    too_far = int((_road_distance(shifted, road_tree) > MAX_SNAP_M).sum())
    expected = [
        ("outside_district", outside),
        (f"datum_{datum}", len(frame)),
        ("unsnapped", too_far),
    ]
    assert [(f.check, f.count) for f in findings] == [e for e in expected if e[1]]


def test_a_datum_needs_enough_features(demo, graph):
    compounds = frame_from_wgs84(demo["compounds"], "gcj02")
    few = datum_offset(
        "compounds", compounds.iloc[: DATUM_MIN_FEATURES - 1], graph, metric_crs=METRIC
    )
    enough = datum_offset(
        "compounds", compounds.iloc[:DATUM_MIN_FEATURES], graph, metric_crs=METRIC
    )
    assert few is None
    assert enough is not None and enough.count == DATUM_MIN_FEATURES


def test_network_offsets_feature_by_feature(demo, graph, road_tree):
    centres = demo["service_centres"].iloc[::-1].set_index("id")  # any index, any order
    shifted = frame_from_wgs84(centres, "gcj02")
    offsets = network_offsets(shifted, graph)
    assert offsets.index.equals(shifted.index)
    np.testing.assert_allclose(offsets["wgs84_m"], _road_distance(shifted, road_tree), atol=0.01)
    np.testing.assert_allclose(offsets["gcj02_m"], _road_distance(centres, road_tree), atol=0.01)


def _offsets(as_is, gcj02, bd09, n=40):
    return pd.DataFrame({"wgs84_m": [as_is] * n, "gcj02_m": [gcj02] * n, "bd09_m": [bd09] * n})


def test_fit_datum_thresholds():
    assert fit_datum(_offsets(60.0, 20.0, 80.0)).datum == "gcj02"
    assert fit_datum(_offsets(60.0, 25.0, 5.0)).datum == "bd09"  # both fit: the closer wins
    near_enough = 60.0 / DATUM_MIN_IMPROVEMENT
    assert fit_datum(_offsets(60.0, near_enough + 1, 80.0)) is None  # consistent, too little
    assert fit_datum(_offsets(DATUM_MIN_OFFSET_M - 1, 0.0, 0.0)) is None  # fits as it is
    assert fit_datum(_offsets(60.0, 20.0, 80.0, n=DATUM_MIN_FEATURES - 1)) is None
    mixed = _offsets(60.0, 5.0, 80.0)
    mixed.loc[:18, "gcj02_m"] = 61.0  # median down to 5 m, but 19 of 40 farther: no direction
    assert fit_datum(mixed) is None
    assert fit_datum(_offsets(np.nan, np.nan, np.nan)) is None


def test_five_swapped_centres(demo, graph):
    centres = demo["service_centres"]
    rows = np.arange(0, len(centres), 17)[:5]
    swap = np.isin(np.arange(len(centres)), rows)
    spoilt = centres.copy()
    spoilt.loc[swap, "geometry"] = shapely.transform(
        centres.geometry[swap].to_numpy(), lambda xy: xy[:, ::-1]
    )
    ids = tuple(centres["id"][swap])
    assert len(ids) == 5
    for district in (demo["district"], None):
        finding = swapped_axes("service_centres", spoilt, district)
        assert (finding.check, finding.severity) == ("swapped_axes", ERROR)
        assert (finding.count, finding.total, finding.ids) == (5, len(centres), ids)
    findings = _check({"service_centres": spoilt}, graph, demo)
    share_severity = WARNING if 5 / len(centres) > UNSNAPPED_WARN_SHARE else INFO
    assert [(f.check, f.count, f.ids, f.severity) for f in findings] == [
        ("swapped_axes", 5, ids, ERROR),
        ("outside_district", 5, ids, WARNING),  # not even valid lon/lat
        ("unsnapped", 5, ids, share_severity),  # "without a valid point"
    ]
    assert "5 without a valid point" in findings[-1].message


def test_swapped_in_range_is_caught_by_the_district():
    """In Europe a swapped point is still valid lon/lat: only the district tells."""
    district = shapely.box(9.9, 49.9, 10.3, 50.1)
    frame = gpd.GeoDataFrame(
        {"id": ["in-1", "in-2", "sw-1", "sw-2", "far"]},
        geometry=gpd.points_from_xy(
            [10.0, 10.2, 50.0, 50.05, 30.0], [50.0, 50.05, 10.0, 10.1, 0.0]
        ),
        crs=4326,
    )
    finding = swapped_axes("points", frame, district)
    assert (finding.count, finding.ids) == (2, ("sw-1", "sw-2"))
    assert swapped_axes("points", frame) is None
    outside = outside_district("points", frame, district)
    assert outside.ids == ("sw-1", "sw-2", "far")


def test_three_centres_in_taihu(demo, graph, road_tree, district_m):
    centres = demo["service_centres"]
    metric = centres.to_crs(METRIC)
    rows = np.argsort(metric.geometry.x.to_numpy())[:3]  # the westernmost three
    moved = metric.copy()
    azimuth = np.radians(247.5)  # west-south-west, 5 km
    moved.loc[moved.index[rows], "geometry"] = shapely.transform(
        metric.geometry.iloc[rows].to_numpy(),
        lambda xy: xy + 5000 * np.array([np.sin(azimuth), np.cos(azimuth)]),
    )
    moved = moved.to_crs(4326)
    taihu = demo["water"].set_index("id").to_crs(METRIC).geometry["taihu"]
    assert shapely.contains(taihu, _points_m(moved.iloc[rows])).all()
    ids = tuple(centres["id"].iloc[np.sort(rows)])

    far = _road_distance(moved, road_tree) > MAX_SNAP_M
    assert tuple(moved["id"][far]) == ids
    finding = unsnapped("service_centres", moved, graph, max_snap_m=MAX_SNAP_M)
    assert (finding.count, finding.total, finding.ids) == (3, len(centres), ids)
    assert finding.severity == (WARNING if 3 / len(centres) > UNSNAPPED_WARN_SHARE else INFO)
    assert f"3 farther than {MAX_SNAP_M:.0f} m" in finding.message

    outside = _outside(moved, district_m)
    assert outside.sum() == 3
    finding = outside_district("service_centres", moved, demo["district"], metric_crs=METRIC)
    assert (finding.count, finding.ids) == (3, tuple(moved["id"][outside]))
    farthest = shapely.distance(district_m, _points_m(moved)).max()
    assert finding.measures["farthest_m"] == pytest.approx(farthest, abs=0.01)
    checks = [f.check for f in _check({"service_centres": moved}, graph, demo)]
    assert checks == ["outside_district", "unsnapped"]


def test_duplicate_ids(demo):
    compounds = demo["compounds"].copy()
    first, fifth = compounds["id"].iloc[0], compounds["id"].iloc[5]
    compounds.loc[compounds.index[[10, 20]], "id"] = first
    compounds.loc[compounds.index[30], "id"] = fifth
    compounds.loc[compounds.index[[40, 41]], "id"] = None  # missing, not duplicated
    finding = duplicate_ids("compounds", compounds)
    assert (finding.check, finding.severity) == ("duplicate_ids", ERROR)
    assert finding.ids == (first, fifth)
    assert (finding.count, finding.total) == (5, len(compounds))  # 2 originals + 3 copies
    assert duplicate_ids("compounds", compounds.drop(columns="id")) is None
    assert duplicate_ids("compounds", demo["compounds"]) is None


MESH_ORIGIN = np.array([515000.0, 3480000.0])  # EPSG:4549 metres, near Wuxi
#: A detached path east of the 1.5 km mesh.
DETACHED_PATH = MESH_ORIGIN + np.array([[1700, 700], [1820, 710], [1880, 790], [1960, 795]])


def _irregular_roads(seed: int = 5) -> gpd.GeoDataFrame:
    """A thinned Delaunay mesh near Wuxi (EPSG:4549 metres) with bent streets, plus a
    detached path, and a two-part road whose second part is detached."""
    rng = np.random.default_rng(seed)
    xy = MESH_ORIGIN + rng.uniform(0, 1500, size=(60, 2))
    pairs = sorted(
        {
            tuple(sorted((int(t[i]), int(t[j]))))
            for t in Delaunay(xy).simplices
            for i, j in ((0, 1), (1, 2), (0, 2))
        }
    )
    lines = []
    for a, b in pairs:
        if rng.uniform() < 0.35:
            continue
        bend = (xy[a] + xy[b]) / 2 + rng.normal(0, 15, 2)
        lines.append(LineString([xy[a], bend, xy[b]]))
    stub = xy[0] + np.array([[0, 0], [40, -30]])
    lines += [
        LineString(DETACHED_PATH[:2]),
        LineString(DETACHED_PATH[1:]),
        MultiLineString([stub, MESH_ORIGIN + np.array([[3000, 3600], [3090, 3640]])]),
    ]
    ids = [f"R{i:03d}" for i in range(len(lines))]
    return gpd.GeoDataFrame({"id": ids}, geometry=lines, crs=METRIC)


def _reference_pieces(roads: gpd.GeoDataFrame):
    """Reference from networkx components of the road vertices: the ids of the roads with
    a vertex off the longest piece, the length off it and in all (m), the pieces off it."""
    network = nx.Graph()
    owner = {}
    for road_id, geometry in zip(roads["id"], roads.geometry, strict=True):
        for part in shapely.get_parts(geometry):
            coords = [tuple(np.round(c, 3)) for c in part.coords]
            for a, b in itertools.pairwise(coords):
                network.add_edge(a, b, length=float(np.hypot(*np.subtract(a, b))))
                owner.setdefault(a, set()).add(road_id)
                owner.setdefault(b, set()).add(road_id)
    pieces = [network.subgraph(c) for c in nx.connected_components(network)]
    lengths = [p.size(weight="length") for p in pieces]
    main = pieces[int(np.argmax(lengths))]
    detached = [p for p in pieces if p is not main]
    ids = set().union(*(owner[n] for p in detached for n in p.nodes))
    return (
        tuple(i for i in roads["id"] if i in ids),
        sum(lengths) - max(lengths),
        sum(lengths),
        len(detached),
    )


def test_isolated_network_on_an_irregular_network():
    roads_m = _irregular_roads()
    ids, detached_m, total_m, pieces = _reference_pieces(roads_m)
    assert pieces >= 2 and "R000" not in ids and roads_m["id"].iloc[-1] in ids
    roads = roads_m.to_crs(4326)
    graph = build_walk_graph(roads, METRIC)
    finding = isolated_network(graph, roads)
    assert (finding.check, finding.count, finding.total) == (
        "isolated_network",
        len(ids),
        len(roads),
    )
    assert finding.ids == ids
    assert finding.measures["pieces"] == pieces
    assert finding.measures["length_m"] == pytest.approx(detached_m, abs=0.01)
    assert finding.measures["share"] == pytest.approx(detached_m / total_m, abs=1e-6)
    assert finding.severity == (WARNING if detached_m / total_m > ISOLATED_WARN_SHARE else INFO)
    assert isolated_network(graph, roads, warn_share=1.0).severity == INFO
    # a point beside the detached path snaps past it; one far out does not snap at all
    max_snap_m = 1000.0
    xy = np.array(
        [roads_m.geometry.iloc[0].coords[0], DETACHED_PATH[0] + (60, -5), MESH_ORIGIN - 2000]
    )
    lines = roads_m.geometry.to_numpy()
    distance = shapely.distance(lines[None, :], shapely.points(xy)[:, None])
    nearest = roads_m["id"].to_numpy()[distance.argmin(axis=1)]
    main = ~roads_m["id"].isin(ids).to_numpy()  # roads wholly on the main piece
    assert nearest[0] not in ids and nearest[1] in ids
    assert distance[1, main].min() < max_snap_m < distance[2].min()
    points = gpd.GeoDataFrame(
        {"id": ["main", "beside", "nowhere"]}, geometry=shapely.points(xy), crs=METRIC
    ).to_crs(4326)
    finding = unsnapped("p", points, graph, max_snap_m=max_snap_m)
    assert (finding.count, finding.ids) == (2, ("beside", "nowhere"))
    share = finding.count / len(points)
    assert finding.severity == (WARNING if share > UNSNAPPED_WARN_SHARE else INFO)
    assert "1 farther than 1.0 km" in finding.message
    assert "1 nearest a cut-off road piece" in finding.message


def test_fast_on_500_points(demo):
    graph = build_walk_graph(demo["roads"], METRIC)  # fresh: its search trees are built cold
    entrances = frame_from_wgs84(demo["compound_entrances"].iloc[:500], "gcj02")
    start = time.perf_counter()
    finding = datum_offset("compound_entrances", entrances, graph, metric_crs=METRIC)
    unsnapped("compound_entrances", entrances, graph, max_snap_m=MAX_SNAP_M)
    elapsed = time.perf_counter() - start
    assert finding.check == "datum_gcj02" and finding.count == 500
    assert elapsed < 1.0


def test_findings_serialise_and_the_crs_is_checked(demo, graph):
    finding = duplicate_ids("x", gpd.GeoDataFrame({"id": ["a", "a"]}, geometry=[None, None]))
    assert json.loads(json.dumps(finding.to_dict()))["ids"] == ["a"]
    assert str(finding).startswith("error: x: 1 ids are shared by 2 of 2 features")
    with pytest.raises(ValueError, match="not the graph's CRS"):
        datum_offset("x", demo["service_centres"], graph, metric_crs="EPSG:32651")
