"""Figures are decided on unrounded distances: a compound 4 cm beyond a circle is beyond
it, in the shares, the circle labels, the gaps and the what-if alike; rounding is for
display only."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_service.analysis.coverage import (
    compound_access,
    coverage_gaps,
    coverage_statistics,
    rounded_for_display,
)
from geo_service.analysis.network import build_walk_graph
from geo_service.analysis.scenario import scenario_coverage
from geo_service.analysis.whatif import what_if, whatif_baseline
from geo_service.coverage_params import CoverageParams

#: Where each compound's gate stands on a straight street from the centre at x = 0 (m).
GATES_X = np.array([299.96, 300.0, 300.04, 499.96, 500.04, 999.96, 1000.04])
CRS = "EPSG:4549"
ORIGIN = (500_000.0, 3_500_000.0)


@pytest.fixture(scope="module")
def street():
    x0, y0 = ORIGIN
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(x0, y0), (x0 + 2000, y0)])], crs=CRS)
    graph = build_walk_graph(roads, CRS)
    gates = shapely.points(np.column_stack([x0 + GATES_X, np.full(len(GATES_X), y0)]))
    centre = gpd.GeoDataFrame({"facility_id": ["C1"]}, geometry=[shapely.Point(x0, y0)], crs=CRS)
    base = pd.DataFrame(
        {
            "id": [f"K{k}" for k in range(len(GATES_X))],
            "population": np.full(len(GATES_X), 100),
            "subdistrict_id": "S",
        }
    )
    table = compound_access(
        graph, gates, np.arange(len(GATES_X)), len(GATES_X), {"centre": centre},
        CoverageParams(), base=base,
    )  # fmt: skip
    return graph, gates, table


def test_distances_are_kept_unrounded(street):
    _, _, table = street
    np.testing.assert_allclose(table["centre_m"], GATES_X, atol=1e-6)


@pytest.mark.parametrize("circle", CoverageParams().circles)
def test_shares_count_only_what_is_within_each_circle(street, circle):
    _, _, table = street
    within = circle.distance_m >= GATES_X
    stats = coverage_statistics(table, "centre", CoverageParams()).iloc[0]
    assert stats[f"compounds_{circle.minutes}"] == within.sum()
    assert stats[f"share_{circle.minutes}"] == pytest.approx(within.mean(), abs=1e-4)
    labelled = table["centre_circle"].fillna(10**6).to_numpy() <= circle.minutes
    assert labelled.tolist() == within.tolist()  # labels and shares agree


def test_gaps_and_what_if_decide_on_the_same_distances(street):
    graph, gates, table = street
    gaps = coverage_gaps(table, "centre", CoverageParams())
    assert gaps["id"].tolist() == [f"K{k}" for k in np.flatnonzero(GATES_X > 1000)]
    compounds = gpd.GeoDataFrame(table[["id", "subdistrict_id", "population"]],
                                 geometry=gates, crs=CRS)  # fmt: skip
    centres = gpd.GeoDataFrame({"id": ["C1"]}, geometry=[shapely.Point(*ORIGIN)], crs=CRS)
    nothing = gpd.GeoDataFrame({"id": []}, geometry=[], crs=CRS)
    result = scenario_coverage(graph, compounds, None, centres, nothing, [], CoverageParams())
    assert result["before"]["district"]["residents_15"] == 100 * (GATES_X <= 1000).sum()
    assert result["before"]["district"]["residents_5"] == 100 * (GATES_X <= 300).sum()


def test_the_fast_what_if_decides_on_the_same_distances(street):
    """A site at the street's far end brings the compound 4 cm beyond 1000 m to 999.96 m:
    gained; the reference and the fast what-if agree."""
    graph, gates, table = street
    compounds = gpd.GeoDataFrame(table[["id", "subdistrict_id", "population"]],
                                 geometry=gates, crs=CRS)  # fmt: skip
    centres = gpd.GeoDataFrame({"id": ["C1"]}, geometry=[shapely.Point(*ORIGIN)], crs=CRS)
    site = gpd.GeoDataFrame(
        {"id": ["proposed-1"]}, geometry=[shapely.Point(ORIGIN[0] + 2000, ORIGIN[1])], crs=CRS
    )
    baseline = whatif_baseline(graph, compounds, None, centres, CoverageParams(),
                               area_keys=("subdistrict_id",))  # fmt: skip
    fast = what_if(baseline, site, [])
    assert fast["gain"]["ids"] == ["K6"] and fast["loss"]["ids"] == []
    reference = scenario_coverage(graph, compounds, None, centres, site, [], CoverageParams(),
                                  area_keys=("subdistrict_id",))  # fmt: skip
    assert fast == reference
    closed = what_if(baseline, site, ["C1"])
    assert closed["after"]["district"]["residents_15"] == 100 * (GATES_X >= 1000).sum()


def test_rounding_is_for_display(street):
    _, _, table = street
    shown = rounded_for_display(table, ["centre"])
    assert shown["centre_m"].tolist() == np.round(GATES_X, 1).tolist()
    assert table["centre_m"].iloc[2] > 300 and shown["centre_m"].iloc[2] == 300.0
