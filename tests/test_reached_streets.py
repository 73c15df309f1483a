"""The reached streets (the service circles drawn as lines): merged stretches per facility
set and circle, worked out by hand on a straight street, inside the circle polygons, and
standing in for them above the map's segment limit."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from geo_service.analysis.circles import circle_polygon, interval_lines, reached_intervals
from geo_service.analysis.coverage import FacilitySet
from geo_service.analysis.distances import node_distances
from geo_service.analysis.figures import facility_access_points
from geo_service.analysis.network import build_walk_graph, snap_points
from geo_service.analysis.reached_streets import merged_intervals, reached_streets
from geo_service.analysis.run import metric_inputs, run_coverage, service_circles
from geo_service.coverage_params import CoverageParams
from geo_service.crs import storage_xy, to_storage
from geo_service.data.geojson_io import read_geojson
from geo_service.data.layer_rows import whole_frame
from geo_service.data.profile import load_profile
from tests.support import ROOT

METRIC = "EPSG:4549"
PARAMS = CoverageParams()


def test_overlapping_and_touching_stretches_merge_per_edge():
    intervals = pd.DataFrame(
        {
            "edge": [3, 1, 1, 1, 1, 2],
            "start_m": [0.0, 50.0, 0.0, 10.0, 200.0, 5.0],
            "end_m": [9.0, 120.0, 20.0, 50.0, 300.0, 6.0],
        }
    )
    merged = merged_intervals(intervals)
    assert merged.to_dict("list") == {
        "edge": [1, 1, 2, 3],
        "start_m": [0.0, 200.0, 5.0, 0.0],
        "end_m": [120.0, 300.0, 6.0, 9.0],
    }
    assert merged_intervals(intervals.iloc[:0]).empty


def test_streets_by_hand_on_a_straight_street(street):
    """A centre 20 m off the street at x = 1000: 280 m each way within 300 m (the own
    segment's stretch and the node searches overlap: counted once)."""
    centres = gpd.GeoDataFrame({"facility_id": ["F0"]}, geometry=[Point(1000, -20)], crs=METRIC)
    streets = reached_streets(street, {"centre": centres}, PARAMS, {"centre": ("中心", "Centre")})
    assert streets["minutes"].tolist() == [15, 10, 5]  # the widest first
    by_minutes = streets.set_index("minutes")
    assert by_minutes.loc[5, "length_km"] == pytest.approx(0.56)
    # 500 m: 480 m each way; the side street at x = 700 is 320 m away: 180 m up it
    assert by_minutes.loc[10, "length_km"] == pytest.approx((960 + 180) / 1e3)
    # 1000 m: 980 m each way (to x = 20 and x = 1980), and all 400 m of the side street
    assert by_minutes.loc[15, "length_km"] == pytest.approx((980 + 980 + 400) / 1e3)
    for row in streets.itertuples():
        assert row.geometry.geom_type == "MultiLineString"
        assert row.geometry.length == pytest.approx(row.length_km * 1e3)
    assert by_minutes.loc[5, "title_en"] == "Centre: streets within 5 minutes"


def test_the_streets_lie_inside_the_circle_polygons(street):
    sources = snap_points(street, np.array([Point(1000, -20)], dtype=object), max_snap_m=250)
    nodes = node_distances(street, sources, limit_m=1000)
    centres = gpd.GeoDataFrame({"facility_id": ["F0"]}, geometry=[Point(1000, -20)], crs=METRIC)
    streets = reached_streets(street, {"centre": centres}, PARAMS, {"centre": ("中心", "Centre")})
    for row in streets.itertuples():
        lines = interval_lines(street, reached_intervals(street, nodes, sources, row.distance_m))
        polygon = circle_polygon(lines, buffer_m=PARAMS.circle_buffer_m)
        assert polygon.buffer(1e-6).contains(row.geometry)
        assert shapely.union_all(lines).length == pytest.approx(row.geometry.length)


def test_above_the_segment_limit_only_the_streets_are_drawn(demo, warm_derived):
    """With the polygons' limit under the demo's network, the circles layer is empty, the
    reached streets are the same as with the polygons, and every figure stays the same."""
    config = load_profile(ROOT).analysis
    layers = {k: v for k, v in demo.items() if k in config.input_layers()}
    capped = CoverageParams(circle_polygons_max_segments=0)
    result = run_coverage(layers, capped, config, metric_crs=METRIC)
    assert result.layers["service_circles"].empty
    assert list(result.layers["service_circles"].columns) == list(
        read_geojson(warm_derived / "service_circles.geojson").columns
    )
    published = json.loads((warm_derived / "coverage.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(result.summary)) == published["summary"]
    streets = whole_frame(result.layers["reached_streets"]).set_index("id")
    with_polygons = read_geojson(warm_derived / "reached_streets.geojson").set_index("id")
    circles = read_geojson(warm_derived / "service_circles.geojson")
    assert sorted(streets.index) == sorted(with_polygons.index) == sorted(circles["id"])
    pd.testing.assert_series_equal(
        streets["length_km"], with_polygons.loc[streets.index, "length_km"], rtol=1e-9
    )


def test_stored_streets_are_the_drawn_ones_on_the_storage_grid(demo):
    """Drawn straight in EPSG:4326 from their coordinates, the demo's reached streets are
    byte for byte the lines drawn in metres and then reprojected and put on the grid."""
    config = load_profile(ROOT).analysis
    metric = metric_inputs(demo, config, METRIC)
    graph = build_walk_graph(demo["roads"], METRIC)
    sets = facility_access_points(metric, config, METRIC)
    titles = {key: (key, key) for key in sets}
    drawn = to_storage(reached_streets(graph, sets, PARAMS, titles))
    stored = reached_streets(graph, sets, PARAMS, titles, stored=True)
    assert stored.crs == drawn.crs == "EPSG:4326"
    assert len(stored) == 3 * sum(not frame.empty for frame in sets.values()) > 3
    assert shapely.get_num_geometries(stored.geometry.to_numpy()).sum() > 10_000
    assert stored.geometry.to_wkb().tolist() == drawn.geometry.to_wkb().tolist()
    pd.testing.assert_frame_equal(stored.drop(columns="geometry"), drawn.drop(columns="geometry"))


def test_storage_coordinates_round_halves_as_geos_does():
    """A coordinate exactly half-way between two grid steps goes up, as ``set_precision``
    puts it (numpy alone would round it to the even step)."""
    halves = np.array([[116.30000005, 31.50000015], [-71.00000005, -33.00000025]])
    assert (halves * 1e7 % 1 == 0.5).all()  # exact ties
    stored = storage_xy(halves, "EPSG:4326")
    expected = shapely.get_coordinates(
        to_storage(gpd.GeoDataFrame(geometry=shapely.points(halves), crs=4326)).geometry
    )
    np.testing.assert_array_equal(stored, expected)
    assert stored[0, 0] == 116.3000001


def test_a_set_none_of_whose_facilities_joins_the_network_draws_nothing(street):
    """A set whose only facility is 5 km from the street (past the snapping distance) has
    no reached streets and no circles; the set next to it is drawn as before."""
    near = gpd.GeoDataFrame({"facility_id": ["F0"]}, geometry=[Point(1000, -20)], crs=METRIC)
    far = gpd.GeoDataFrame({"facility_id": ["P0"]}, geometry=[Point(1000, 5000)], crs=METRIC)
    sets = {"centre": near, "park": far}
    titles = {"centre": ("中心", "Centre"), "park": ("公园", "Park")}
    streets = reached_streets(street, sets, PARAMS, titles)
    alone = reached_streets(street, {"centre": near}, PARAMS, titles)
    assert streets["facility_set"].tolist() == ["centre"] * len(PARAMS.circles)
    assert not streets.geometry.is_empty.any()
    assert streets["length_km"].tolist() == alone["length_km"].tolist()
    shown = tuple(
        FacilitySet(key=k, title_zh=t[0], title_en=t[1], layer=k) for k, t in titles.items()
    )
    circles = service_circles(street, sets, PARAMS, shown)
    assert circles["facility_set"].tolist() == ["centre"] * len(PARAMS.circles)
    assert not circles.geometry.is_empty.any()
