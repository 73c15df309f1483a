"""Demand as polygons or points: one builder of the points walks start from."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_service.analysis.demand import demand_points
from geo_service.analysis.run import run_coverage
from geo_service.coverage_params import CoverageParams
from geo_service.data.profile import load_profile
from geo_service.data.validation import validate_layer
from tests.support import ROOT


def _square(x: float, y: float) -> shapely.Polygon:
    return shapely.box(x, y, x + 10, y + 10)


def test_gates_first_then_a_point_inside_then_the_point_itself():
    demand = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"]},
        geometry=[_square(0, 0), _square(100, 0), shapely.Point(200, 5)],
        crs=4549,
    )
    gates = gpd.GeoDataFrame(
        {"compound_id": ["a", "a", "zzz"]},
        geometry=[shapely.Point(0, 5), shapely.Point(10, 5), shapely.Point(50, 50)],
        crs=4549,
    )
    points, owner = demand_points(demand, gates)
    assert owner.tolist() == [0, 0, 1, 2]  # the unknown gate is ignored
    assert shapely.get_coordinates(points[:2]).tolist() == [[0, 5], [10, 5]]
    assert shapely.within(points[2], demand.geometry[1])
    assert points[3].equals(shapely.Point(200, 5))


@pytest.fixture(scope="module")
def demo_inputs(demo):
    config = load_profile(ROOT).analysis
    return {k: v for k, v in demo.items() if k in config.input_layers()}, config


def test_point_demand_gives_the_figures_of_its_polygons(demo_inputs, warm_derived):
    layers, config = demo_inputs
    no_gates = config.model_copy(update={"gates_layer": None})
    polygons = run_coverage(layers, CoverageParams(), no_gates, metric_crs="EPSG:4549")
    as_points = layers["compounds"].copy()
    as_points = as_points.set_geometry(
        as_points.to_crs(4549).geometry.representative_point().to_crs(4326)
    )
    points = run_coverage(
        {**layers, "compounds": as_points}, CoverageParams(), no_gates, metric_crs="EPSG:4549"
    )
    a = polygons.layers["compound_coverage"]
    b = points.layers["compound_coverage"]
    assert b.geom_type.unique().tolist() == ["Point"]
    np.testing.assert_allclose(a["centre_m"], b["centre_m"], atol=0.01)
    assert polygons.summary["district"]["share_15"] == pytest.approx(
        points.summary["district"]["share_15"], abs=1e-9
    )
    # The published figures (the session's run of the demo) walk from the gates: other
    # numbers than from a point inside.
    published = json.loads((warm_derived / "coverage.json").read_text(encoding="utf-8"))
    assert published["summary"]["district"]["share_15"] != polygons.summary["district"]["share_15"]


def test_a_community_where_nobody_lives_counts_zero_and_has_no_share(demo_inputs, catalog):
    layers, config = demo_inputs
    empty = layers["compounds"]["community_id"].iloc[0]
    compounds = layers["compounds"][layers["compounds"]["community_id"] != empty]
    result = run_coverage(
        {**layers, "compounds": compounds}, CoverageParams(), config, metric_crs="EPSG:4549"
    )
    areas = result.layers["community_coverage"].set_index("id")
    row = areas.loc[empty]
    assert (row["residents"], row["compounds"], row["residents_15"], row["lacks_count"]) == (
        0,
        0,
        0,
        0,
    )
    assert np.isnan(row["share_15"]) and row["lacks"] == ""
    assert not validate_layer(
        catalog.get("community_coverage"), result.layers["community_coverage"]
    )
