"""Coverage on a straight street where every figure can be worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from geo_service.analysis.circles import (
    area_circles,
    circle_polygon,
    facility_circles,
    interval_lines,
    reached_intervals,
)
from geo_service.analysis.coverage import (
    FacilitySet,
    _unique_rows,
    access_points,
    compound_access,
    coverage_gaps,
    coverage_statistics,
    life_circle_check,
    weighted_quantile,
)
from geo_service.analysis.distances import node_distances
from geo_service.analysis.network import snap_points
from geo_service.coverage_params import CoverageParams, LifeCircle
from geo_service.errors import InvalidParameter

METRIC = "EPSG:4549"
PARAMS = CoverageParams()


def _points(*xy) -> np.ndarray:
    return np.array([Point(x, y) for x, y in xy], dtype=object)


def _facilities(*xy, ids=None) -> gpd.GeoDataFrame:
    ids = ids or [f"F{i}" for i in range(len(xy))]
    return gpd.GeoDataFrame({"facility_id": ids}, geometry=list(_points(*xy)), crs=METRIC)


def test_compound_access_by_hand(street):
    # compounds: gates 5 m off the street at x = 250, 450, 990 (two gates), 1500; one far away
    gates = _points((250, 5), (450, -5), (990, 5), (700, 395), (1500, 5), (2000, 900))
    owner = np.array([0, 1, 2, 2, 3, 4])
    access = compound_access(street, gates, owner, 5, {"centre": _facilities((0, 10))}, PARAMS)
    assert access["centre_m"].iloc[0] == pytest.approx(10 + 250 + 5)
    assert access["centre_m"].iloc[1] == pytest.approx(10 + 450 + 5)
    # compound 2 walks from its better gate: 10 + 990 + 5 = 1005 vs 10 + 700 + 395 = 1105
    assert access["centre_m"].iloc[2] == pytest.approx(1005.0)
    assert access["centre_m"].iloc[3] == pytest.approx(10 + 1500 + 5)
    assert access["centre_circle"].iloc[0] == 5 and access["centre_circle"].iloc[1] == 10
    assert pd.isna(access["centre_circle"].iloc[2])
    assert access["centre_min"].iloc[0] == pytest.approx(265 / (1000 / 900) / 60, abs=0.01)
    assert access["centre_id"].iloc[0] == "F0"
    # the far compound (900 m off the street) is flagged, not silently snapped
    assert access["snap_status"].iloc[4] == "too_far"
    assert np.isnan(access["centre_m"].iloc[4]) and pd.isna(access["centre_circle"].iloc[4])


def test_nearest_of_several_facilities_and_empty_sets(street):
    gates = _points((1400, 5), (2900, 5))
    sets = {"park": _facilities((100, 3), (2950, -3), ids=["P1", "P2"]), "trail": _facilities()}
    access = compound_access(street, gates, np.array([0, 1]), 2, sets, PARAMS)
    assert access["park_id"].tolist() == ["P1", "P2"]
    assert access["park_m"].tolist() == [pytest.approx(3 + 1300 + 5), pytest.approx(3 + 50 + 5)]
    assert access["trail_m"].isna().all() and access["trail_id"].isna().all()


def test_trails_and_parks_are_entered_anywhere_along_them():
    trails = gpd.GeoDataFrame(
        {"id": ["T1", "P1", "C1"]},
        geometry=[
            LineString([(0, 0), (500, 0), (500, 300)]),
            shapely.box(1000, 0, 1040, 30),  # a park: its outline
            Point(2000, 0),
        ],
        crs=METRIC,
    )
    points = access_points(trails, spacing_m=10.0)
    by_id = {k: shapely.get_coordinates(g.geometry.to_numpy())
             for k, g in points.groupby("facility_id")}  # fmt: skip
    assert by_id["C1"].tolist() == [[2000, 0]]
    trail = by_id["T1"]
    assert len(trail) == 80 + 1  # 800 m in 10 m steps, both ends
    assert np.all(np.hypot(*np.diff(trail, axis=0).T) <= 10.0 + 1e-9)
    assert [0, 0] in trail.tolist() and [250, 0] in trail.tolist()
    assert len(by_id["P1"]) == 14  # 140 m of outline in 10 m steps, the ring closed once
    assert (
        shapely.box(1000, 0, 1040, 30).boundary.distance(shapely.points(by_id["P1"])).max() < 1e-9
    )


def test_a_compound_beside_a_trail_reaches_it_there(street):
    trail = gpd.GeoDataFrame({"id": ["T1"]}, geometry=[LineString([(0, 0), (2000, 0)])], crs=METRIC)
    access = compound_access(
        street, [Point(1000, 4)], np.array([0]), 1, {"trail": access_points(trail)}, PARAMS
    )
    assert access["trail_m"].iloc[0] == pytest.approx(4.0, abs=1e-9)  # not 1000 m to an end


def test_statistics_are_population_weighted():
    access = pd.DataFrame(
        {
            "community_id": ["A", "A", "A", "B"],
            "population": [100, 300, 600, 50],
            "centre_m": [250.0, 450.0, 2000.0, np.nan],
        }
    )
    stats = coverage_statistics(access, "centre", PARAMS, by="community_id")
    a = stats.loc["A"]
    assert (a["residents"], a["residents_5"], a["residents_10"], a["residents_15"]) == (
        1000,
        100,
        400,
        400,
    )
    assert a["share_15"] == 0.4 and a["compounds_10"] == 2
    minutes = np.array([250, 450, 2000]) / (1000 / 900) / 60
    assert a["mean_min"] == pytest.approx(np.average(minutes, weights=[100, 300, 600]), abs=0.01)
    assert a["p90_min"] == pytest.approx(minutes[2], abs=0.01)
    assert stats.loc["B", "unreached_residents"] == 50 and stats.loc["B", "share_15"] == 0
    assert np.isnan(stats.loc["B", "mean_min"])
    assert coverage_statistics(access, "centre", PARAMS).loc["all", "residents"] == 1050


def test_weighted_quantile():
    assert weighted_quantile(np.array([1, 2, 3, 4]), np.array([1, 1, 1, 7]), 0.3) == 3
    assert weighted_quantile(np.array([5.0, np.nan]), np.array([1, 1]), 0.9) == 5
    assert np.isnan(weighted_quantile(np.array([]), np.array([]), 0.5))


def test_gaps_are_ranked_by_residents():
    access = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "population": [10, 500, 80, 90],
            "centre_community_m": [200.0, 1200.0, np.nan, 1001.0],
        }
    )
    gaps = coverage_gaps(access, "centre_community", PARAMS)
    assert gaps["id"].tolist() == ["b", "d", "c"] and gaps["rank"].tolist() == [1, 2, 3]


def test_life_circle_check_names_what_is_lacking():
    access = pd.DataFrame(
        {
            "community_id": ["A", "A"],
            "population": [100, 300],
            "park_m": [300.0, 1500.0],
            "trail_m": [900.0, 400.0],
        }
    )
    types = [("park", PARAMS.circle_m(5)), ("trail", PARAMS.circle_m(15))]
    check = life_circle_check(access, types, PARAMS, by="community_id")
    assert check.loc["A", "reach_park"] == 0.25 and check.loc["A", "reach_trail"] == 1.0
    assert check.loc["A", "lacks"] == "park" and check.loc["A", "lacks_count"] == 1
    # Each type at its own circle: the trail at the 10-minute circle (500 m) is reached
    # by the 300 residents at 400 m only, the park at 15 minutes by the 100 at 300 m.
    types = [("park", PARAMS.circle_m(15)), ("trail", PARAMS.circle_m(10))]
    check = life_circle_check(access, types, PARAMS, by="community_id")
    assert check.loc["A", "reach_park"] == 0.25 and check.loc["A", "reach_trail"] == 0.75


def test_service_circle_follows_the_street(street):
    sources = snap_points(street, _points((0, 10)), max_snap_m=250)
    nodes = node_distances(street, sources, limit_m=1000)
    intervals = reached_intervals(street, nodes, sources, 300)
    lines = interval_lines(street, intervals)
    reached = shapely.union_all(lines)
    assert reached.length == pytest.approx(290.0)  # a partly reached segment, cut at 290 m
    polygon = circle_polygon(lines, buffer_m=40)
    minx, _miny, maxx, _maxy = polygon.bounds
    assert (minx, maxx) == (pytest.approx(-40), pytest.approx(330))
    assert polygon.area == pytest.approx(290 * 80 + 2 * 40 * 40 * np.sqrt(2) * 2 * 0.5, rel=0.02)
    wide = shapely.union_all(
        interval_lines(street, reached_intervals(street, nodes, sources, 1000))
    )
    # 990 m along the main street, and 290 m up the side street at x = 700
    assert wide.length == pytest.approx(990 + 290)


def test_facility_set_filters():
    centres = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "level": ["community", "district", "community"],
            "services": ["health;culture", "legal_aid", "culture"],
        },
        geometry=list(_points((0, 0), (1, 1), (2, 2))),
        crs=METRIC,
    )
    community = FacilitySet("x", "", "", "service_centres", where=(("level", "community"),))
    health = FacilitySet("y", "", "", "service_centres", service="culture")
    assert community.select(centres)["id"].tolist() == ["a", "c"]
    assert health.select(centres)["id"].tolist() == ["a", "c"]


@pytest.mark.parametrize(
    "change",
    [
        {"circles": (LifeCircle(5, 0.0),)},
        {"circles": (LifeCircle(5, -300.0),)},
        {"circles": (LifeCircle(5, float("nan")),)},
        {"circles": (LifeCircle(5, 500.0), LifeCircle(10, 300.0))},
        {"circles": ()},
        {"walking_speed_mps": 0.0},
        {"walking_speed_mps": float("inf")},
        {"max_snap_m": -1.0},
        {"life_circle_min_share": 0.0},
    ],
)
def test_bad_parameters_are_refused(change):
    with pytest.raises(InvalidParameter):
        CoverageParams(**change)


def test_one_facility_circles_on_demand(street):
    five, ten, fifteen = facility_circles(street, [Point(1000, -20)], PARAMS)
    assert five.area < ten.area < fifteen.area
    # 280 m each way along the street from x = 1000 (20 m snap), 40 m either side
    assert five.bounds[0] == pytest.approx(1000 - 280 - 40)
    assert five.bounds[2] == pytest.approx(1000 + 280 + 40)
    assert fifteen.intersects(Point(700, 200))  # up the side street
    far = facility_circles(street, [Point(1000, 5000)], PARAMS)
    assert all(p.is_empty for p in far)


def _random_access(seed: int, n: int = 400) -> pd.DataFrame:
    """A random access table: groups, populations (some zero) and metres (some NaN, ties)."""
    rng = np.random.default_rng(seed)
    metres = {
        f"{key}_m": np.where(
            rng.uniform(size=n) < 0.1, np.nan, np.round(rng.uniform(0, 2500, n), -1)
        )
        for key in ("centre", "park", "trail")
    }
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(n)],
            "community_id": rng.choice(["A", "B", "C", "D", "E"], n),
            "population": np.where(rng.uniform(size=n) < 0.05, 0, rng.integers(1, 900, n)),
            **metres,
        }
    )


def _inverted_cdf(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """By definition: the smallest value with at least ``q`` of the weight at or below it
    (zero weights and NaN values left out)."""
    keep = (weights > 0) & ~np.isnan(values)
    values, weights = values[keep], weights[keep]
    if not len(values):
        return np.nan
    return min(v for v in values if weights[values <= v].sum() >= q * weights.sum())


def test_weighted_quantile_matches_its_definition_and_numpy():
    rng = np.random.default_rng(3)
    for _ in range(50):
        size = int(rng.integers(1, 60))
        values = np.round(rng.uniform(0, 30, size), 1)  # ties
        values[rng.uniform(size=size) < 0.1] = np.nan
        weights = rng.integers(0, 500, size).astype(float)  # some zero
        for q in (0.1, 0.5, 0.9, 1.0):
            ours = weighted_quantile(values, weights, q)
            expected = _inverted_cdf(values, weights, q)
            assert ours == expected or (np.isnan(ours) and np.isnan(expected))
            keep = (weights > 0) & ~np.isnan(values)
            if keep.any() and int(np.__version__.split(".")[0]) >= 2:  # weights: numpy 2
                assert ours == np.quantile(
                    values[keep], q, weights=weights[keep], method="inverted_cdf"
                )


def test_statistics_match_a_pandas_groupby():
    access = _random_access(1)
    stats = coverage_statistics(access, "centre", PARAMS, by="community_id")
    for name, group in access.groupby("community_id"):
        row, metres = stats.loc[name], group["centre_m"]
        people = group["population"].astype(float)
        reached = metres.notna()
        assert row["residents"] == people.sum() and row["compounds"] == len(group)
        for circle in PARAMS.circles:
            inside = reached & (metres <= circle.distance_m)
            assert row[f"residents_{circle.minutes}"] == people[inside].sum()
            assert row[f"compounds_{circle.minutes}"] == inside.sum()
        minutes = PARAMS.minutes(metres[reached])
        weights = people[reached]
        assert row["unreached_residents"] == people[~reached].sum()
        assert row["mean_min"] == pytest.approx(np.average(minutes, weights=weights), abs=0.006)
        p90 = _inverted_cdf(minutes.to_numpy(), weights.to_numpy(), 0.9)
        assert row["p90_min"] == np.round(p90, 2)


def test_life_circle_check_matches_a_pandas_groupby():
    access = _random_access(2)
    types = {"centre": PARAMS.circle_m(15), "park": PARAMS.circle_m(5), "trail": 500.0}
    check = life_circle_check(access, list(types.items()), PARAMS, by="community_id")
    for name, group in access.groupby("community_id"):
        people = group["population"]
        lacks = []
        for key, limit in types.items():
            share = people[group[f"{key}_m"] <= limit].sum() / people.sum()
            assert check.loc[name, f"reach_{key}"] == np.round(share, 4)
            if share < PARAMS.life_circle_min_share:
                lacks.append(key)
        assert check.loc[name, "lacks"] == ";".join(lacks)
        assert check.loc[name, "lacks_count"] == len(lacks)


def test_gaps_match_a_stable_pandas_sort():
    access = _random_access(3)
    access.loc[access.index[::7], "population"] = 300  # ties in population
    metres = access["centre_m"].fillna(np.inf)
    expected = access[metres > PARAMS.widest_m].sort_values(
        ["population", "centre_m"], ascending=[False, False], kind="stable"
    )
    gaps = coverage_gaps(access, "centre", PARAMS)
    assert gaps.index.tolist() == expected.index.tolist()
    pd.testing.assert_frame_equal(gaps.drop(columns="rank"), expected)
    assert gaps["rank"].tolist() == list(range(1, len(expected) + 1))


def test_all_sets_at_once_equal_one_set_at_a_time(street):
    gates = _points((250, 5), (450, -5), (990, 5), (700, 395), (1500, 5), (2000, 900), (2990, 1))
    owner = np.array([0, 1, 2, 2, 3, 4, 5])
    sets = {  # shared points, a facility twice in one set, an empty set
        "a": _facilities((0, 10), (1200, -4), ids=["F1", "F2"]),
        "b": _facilities((1200, -4), (2800, 3), (2800, 3), ids=["F2", "F3", "F4"]),
        "empty": _facilities(),
        "c": _facilities((700, 300), ids=["F5"]),
    }
    base = pd.DataFrame({"id": [f"c{i}" for i in range(6)], "population": np.arange(6) * 10})
    together = compound_access(street, gates, owner, 6, sets, PARAMS, base=base)
    assert together.columns[:2].tolist() == ["id", "population"]
    for key, facilities in sets.items():
        alone = compound_access(street, gates, owner, 6, {key: facilities}, PARAMS)
        pd.testing.assert_frame_equal(together[alone.columns], alone)
    # two facilities at one point: the set's first one is named; the far compound has none
    assert together["b_id"].iloc[5] == "F3" and pd.isna(together["b_id"].iloc[4])
    assert together["b_m"].iloc[5] == pytest.approx(3 + 190 + 1)
    plain = compound_access(street, gates, owner, 6, sets, PARAMS)
    pd.testing.assert_frame_equal(together, pd.concat([base, plain], axis=1))
    by_name = {name: base[name] for name in base}
    by_name = compound_access(street, gates, owner, 6, sets, PARAMS, base=by_name)
    pd.testing.assert_frame_equal(by_name, together)


def test_unique_rows_match_numpy():
    rng = np.random.default_rng(8)
    xy = np.round(rng.uniform(0, 5, (300, 2)))  # many repeated rows
    rows, inverse = _unique_rows(xy)
    expected, expected_inverse = np.unique(xy, axis=0, return_inverse=True)
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_array_equal(inverse, expected_inverse.ravel())


@pytest.mark.parametrize("gap_m", [-200.0, 20.0, 39.0, 45.0])
def test_an_areas_circles_are_the_facilitys_cut_to_it(street, gap_m):
    """One facility at x = 100 on the 3 km street; an area starting ``gap_m`` past where
    its 1,000 m walk ends (x = 1100). The buffer (40 m) reaches into an area up to 40 m
    away, so a facility beyond the widest circle still draws there."""
    params = CoverageParams()
    point = Point(100, 0)
    facilities = gpd.GeoDataFrame({"facility_id": ["F0"]}, geometry=[point], crs=METRIC)
    area = shapely.box(1100 + gap_m, -100, 1600, 100)
    got = area_circles(street, facilities, area, params)
    whole = facility_circles(street, np.array([point], dtype=object), params)
    for polygon, circle in zip(got, whole, strict=True):
        assert polygon.geom_type in ("Polygon", "MultiPolygon")
        assert polygon.symmetric_difference(circle.intersection(area)).area < 1e-6
    if gap_m <= 20:
        assert got[-1].area > 100
    if gap_m > params.circle_buffer_m:
        assert got[-1].is_empty
    else:
        assert got[-1].area > 0
