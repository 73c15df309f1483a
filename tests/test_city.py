"""The synthetic city at small scale: districts by the demo's rules side by side, ids and
names unique across them, a district folder that validates and serves."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo_service.api.app import create_app
from geo_service.demo.binhu import METRIC_CRS
from geo_service.demo.city import (
    CITY_DISTRICTS,
    CITY_POPULATION,
    city_districts,
    generate_city,
    write_city,
)
from geo_service.demo.streets import components
from geo_service.settings import Settings
from tests.support import ROOT, InProcessClient, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(two_district_city):
    return two_district_city


def test_scale_gives_the_number_of_districts():
    assert city_districts(1.0) == CITY_DISTRICTS == 42
    assert city_districts(0.05) == 2 and city_districts(0.001) == 1


def test_a_city_of_one_district_has_no_link_roads(demo):
    one = generate_city(scale=0.001, seed=3)
    assert len(one["compounds"]) == len(demo["compounds"])
    assert not one["roads"]["id"].str.startswith("link-").any()
    assert len(one["roads"]) > 1.5 * len(demo["roads"])


def test_districts_made_side_by_side_make_the_same_city(city):
    """The fixture's city is made by one process per processor; one process alone makes
    the same layers, value for value."""
    alone = generate_city(scale=0.05, seed=3, workers=1)
    assert list(alone) == list(city)
    for layer, frame in city.items():
        assert alone[layer].equals(frame), layer


def test_a_city_wider_than_its_zone_is_measured_in_a_crs_that_fits_it(city):
    """Two districts fit the template's Gauss-Kruger zone (EPSG:4549, 118.5-121.5E); a
    city six degrees wide gets a transverse Mercator on its centre, which the coverage
    run's check accepts."""
    from geo_service.crs import check_metric_crs
    from geo_service.demo.city import city_metric_crs

    west, south, east, north = np.array(
        [frame.total_bounds for frame in city.values() if len(frame)]
    ).T
    bounds = (west.min(), south.min(), east.max(), north.max())
    assert city_metric_crs("EPSG:4549", bounds) == "EPSG:4549"
    middle = (bounds[0] + bounds[2]) / 2
    wide = (middle - 2.9, bounds[1], middle + 2.9, bounds[3] + 4)
    chosen = city_metric_crs("EPSG:4549", wide)
    assert f"+proj=tmerc +lat_0=0 +lon_0={middle:.4f} " in chosen
    check_metric_crs(chosen, wide)  # raises if it does not fit


def test_two_districts_side_by_side(city, demo):
    assert len(city["compounds"]) == 2 * len(demo["compounds"])
    assert len(city["service_centres"]) == 2 * len(demo["service_centres"])
    per_district = round(CITY_POPULATION / CITY_DISTRICTS, -2)
    assert city["compounds"]["population"].sum() == 2 * per_district
    # denser streets than the demo district
    assert len(city["roads"]) > 2 * 1.5 * len(demo["roads"])
    first, second = (
        shapely.union_all(
            city["subdistricts"][city["subdistricts"]["id"].str.startswith(p)]
            .to_crs(METRIC_CRS)
            .geometry.to_numpy()
        )
        for p in ("d00-", "d01-")
    )
    assert shapely.intersection(first, second).area < 1.0  # m²: tiles do not overlap
    assert len(city["district"]) == 1
    # one walking network: the link roads join the districts
    lines = city["roads"].to_crs(METRIC_CRS).geometry.to_numpy()
    assert len(set(components(lines).tolist())) == 1
    assert city["roads"]["id"].str.startswith("link-00-01-").sum() >= 3


def test_ids_and_names_are_unique_and_references_hold(city):
    for layer_id, frame in city.items():
        assert frame["id"].is_unique, layer_id
    for layer_id in ("compounds", "communities", "service_centres", "subdistricts"):
        assert city[layer_id]["name_zh"].is_unique and city[layer_id]["name_en"].is_unique
    communities = set(city["communities"]["id"])
    assert set(city["compounds"]["community_id"]) <= communities
    assert set(city["compound_entrances"]["compound_id"]) <= set(city["compounds"]["id"])
    assert np.all(city["compounds"]["id"].str.match(r"^d0[01]-"))


def test_the_city_folder_validates_and_serves(city, tmp_path):
    folder = write_city(city, tmp_path / "city", template=ROOT, seed=3, scale=0.05)
    checked = run_cli("--district", str(folder), "validate", env={"COLUMNS": "200"})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    settings = Settings(district_dir=folder, derived_dir=tmp_path / "derived")
    api = InProcessClient(create_app(settings))
    page = api.get("/collections/compounds/items", params={"limit": 5}).json()
    assert page["numberMatched"] == len(city["compounds"])
    summary = api.get("/coverage/summary").json()
    assert summary["district"]["residents"] == city["compounds"]["population"].sum()
    areas = api.get("/collections/community_coverage/items", params={"limit": 1000}).json()
    reached = {f["id"][:3] for f in areas["features"] if (f["properties"]["share_15"] or 0) > 0}
    assert reached == {"d00", "d01"}  # both districts walk to their centres
